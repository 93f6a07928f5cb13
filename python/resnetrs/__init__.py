"""resnetrs: ResNet-RS image classifiers on the CPU and NVIDIA GPUs.

    import numpy as np, resnetrs
    with resnetrs.Engine("rs50-i160.h5", resolution=160, max_batch=8) as engine:
        logits = engine(np.random.uniform(0, 255, (8, 3, 160, 160)).astype(np.float32))
        classes, probs = resnetrs.topk(logits, k=5)

Engine is the C API's engine (libresnetrs, bundled); every error is a subclass of resnetrs.Error.
resnetrs.validate() measures accuracy on a labelled image set; ImageBatches decodes images in
threads into batches for a loop of one's own (docs/validate.md). The command line is `resnetrs`
(convert, classify, validate). Full guide: docs/python.md.
"""

from . import _core
from ._core import Engine, EngineInfo, WeightsInfo, build_info, library_version, topk, weights_info
from .errors import (CublasError, CudaError, CudnnError, Error, ImageInvalidError, InternalError,
                     InvalidArgumentError, IoError, NoDeviceError, OutOfMemoryError, UnsupportedDeviceError,
                     WeightsInvalidError, error_class)
from .images import HAS_IMAGES, load_image
from .labels import ImageNetClass, imagenet_classes
from .dataset import Sample, read_dataset
from .pipeline import Batch, ImageBatches
from .validation import Prediction, ValidationResult, validate

__version__ = "0.1.0"

__all__ = [
    "Engine", "EngineInfo", "WeightsInfo", "weights_info", "topk", "load_image", "HAS_IMAGES", "imagenet_classes",
    "ImageNetClass", "validate", "ValidationResult", "Prediction", "ImageBatches", "Batch", "read_dataset", "Sample",
    "build_info", "library_version", "Error", "InvalidArgumentError", "IoError", "WeightsInvalidError",
    "OutOfMemoryError", "NoDeviceError", "UnsupportedDeviceError", "CudaError", "CudnnError", "CublasError",
    "InternalError", "ImageInvalidError", "error_class",
]

del _core
