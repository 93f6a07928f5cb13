"""Exceptions of the resnetrs package: one class per status of the C API, all under
:class:`resnetrs.Error`. Each carries the library's message (which names the function and what
was wrong) and the status as ``status`` (int) and ``status_name`` (str).

Input the binding refuses itself (wrong dtype, rank, shape, device, batch, a non-contiguous array,
an unknown option value) raises :class:`InvalidArgumentError`, like the C API does.
"""

from __future__ import annotations

from typing import Dict, Type


class Error(Exception):
    """Base class of every error of the resnetrs package."""

    status: int = -1
    status_name: str = "UNKNOWN_STATUS"


class InvalidArgumentError(Error, ValueError):
    """A bad value: an option, an array of the wrong dtype/shape/device, a batch out of range."""

    status, status_name = 1, "INVALID_ARGUMENT"


class IoError(Error, OSError):
    """A file cannot be opened, read or written."""

    status, status_name = 2, "IO_ERROR"


class WeightsInvalidError(Error, ValueError):
    """The weights file is not a valid resnetrs-weights file (the message names the dataset)."""

    status, status_name = 3, "WEIGHTS_INVALID"


class OutOfMemoryError(Error, MemoryError):
    """Host or device memory ran out (retry with a smaller max_batch)."""

    status, status_name = 4, "OUT_OF_MEMORY"


class NoDeviceError(Error, RuntimeError):
    """No usable CUDA device or driver."""

    status, status_name = 5, "NO_DEVICE"


class UnsupportedDeviceError(Error, RuntimeError):
    """The device's architecture was not compiled in, or it lacks a feature."""

    status, status_name = 6, "UNSUPPORTED_DEVICE"


class CudaError(Error, RuntimeError):
    """The CUDA runtime failed."""

    status, status_name = 7, "CUDA_ERROR"


class CudnnError(Error, RuntimeError):
    """cuDNN failed."""

    status, status_name = 8, "CUDNN_ERROR"


class CublasError(Error, RuntimeError):
    """cuBLAS failed."""

    status, status_name = 9, "CUBLAS_ERROR"


class InternalError(Error, RuntimeError):
    """A bug in the library: please report it with the message."""

    status, status_name = 10, "INTERNAL"


class ImageInvalidError(Error, ValueError):
    """An image that cannot be decoded or is absurd (truncated, not an image, too many pixels)."""

    status, status_name = 11, "IMAGE_INVALID"


_BY_STATUS: Dict[int, Type[Error]] = {
    c.status: c
    for c in (InvalidArgumentError, IoError, WeightsInvalidError, OutOfMemoryError, NoDeviceError,
              UnsupportedDeviceError, CudaError, CudnnError, CublasError, InternalError, ImageInvalidError)
}


def error_class(status: int) -> Type[Error]:
    """The exception class of a C status code (resnetrs.Error for a code this package does not know)."""
    return _BY_STATUS.get(int(status), Error)


__all__ = ["Error", "error_class"] + [c.__name__ for c in _BY_STATUS.values()]
