"""Images in: resnetrs.load_image, the C API's decoding and evaluation preprocessing (JPEG/PNG,
the release's center crop + TF1 legacy bicubic, or timm's transform). See docs/python.md and
docs/preprocessing.md."""

from __future__ import annotations

import os
from typing import Optional, Tuple, Union

import numpy as np

from . import _core
from .errors import Error, InvalidArgumentError

HAS_IMAGES: bool = bool(_core.HAS_IMAGES)


def load_image(source: Union[str, "os.PathLike[str]", bytes], size: Union[int, Tuple[int, int]] = 224,
               preprocess: str = "release", crop_pct: Optional[float] = None, layout: str = "nchw",
               max_pixels: Optional[int] = None, out: Optional[np.ndarray] = None) -> np.ndarray:
    """Decodes a JPEG or PNG (a path, or the file's bytes) and preprocesses it as `preprocess` says
    ('release': the TF1 release's evaluation transform; 'timm': timm's, with crop_pct). Returns
    float32 pixels on the 0..255 scale, [3, H, W] for layout 'nchw' or [H, W, 3] for 'nhwc', ready
    to stack into a batch for Engine. size: S or (H, W). max_pixels: the decoded-pixel limit
    against decompression bombs (default: the library's). Raises ImageInvalidError for an image
    that cannot be decoded or is absurd, IoError for an unreadable file.

    out: write the pixels into this array instead of a new one (float32, C-contiguous, writable, shaped
    as the output, e.g. one row of a batch: load_image(p, size=S, out=batch[i])); it is returned, and
    left untouched when the image fails."""
    if not HAS_IMAGES:
        raise Error("this libresnetrs was built without image decoding (resnetrs_image_load_file is not in its "
                    "C API); preprocess the pixels yourself and pass them as arrays (or .npy files to classify)")
    if isinstance(source, (bytearray, memoryview)):
        source = bytes(source)
    if out is not None:
        h, w = (size, size) if isinstance(size, int) else tuple(size)
        expected = (3, h, w) if layout == "nchw" else (h, w, 3)
        if getattr(out, "shape", None) != expected:
            found = getattr(out, "shape", type(out).__name__)
            raise InvalidArgumentError(f"out has shape {found}, expected {expected} (size {size}, layout '{layout}')")
        _core.load_image_into(source, out, preprocess, crop_pct, layout, max_pixels)
        return out
    return _core.load_image(source, size, preprocess, crop_pct, layout, max_pixels)
