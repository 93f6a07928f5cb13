"""ctypes access to the image functions of libresnetrs.so (include/resnetrs/resnetrs.h), for the
preprocessing tests. The library is build/libresnetrs.so, or $RESNETRS_LIBRARY."""

from __future__ import annotations

import ctypes
import os

import numpy as np

import rs_helpers as H

API_VERSION = 2
PREPROCESS_RELEASE, PREPROCESS_TIMM = 0, 1
LAYOUT_NCHW, LAYOUT_NHWC = 0, 1
STATUS = {0: "OK", 1: "INVALID_ARGUMENT", 2: "IO_ERROR", 11: "IMAGE_INVALID"}


class ImageOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("api_version", ctypes.c_uint32), ("preprocess", ctypes.c_int32),
                ("height", ctypes.c_int32), ("width", ctypes.c_int32), ("crop_pct", ctypes.c_float),
                ("layout", ctypes.c_int32), ("max_pixels", ctypes.c_int64)]


class ImageError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"{STATUS.get(status, status)}: {message}")
        self.status = STATUS.get(status, str(status))
        self.message = message


def library_path() -> str:
    p = os.environ.get("RESNETRS_LIBRARY") or os.path.join(H.REPO, "build", "libresnetrs.so")
    return p if os.path.isabs(p) else os.path.join(H.REPO, p)


_lib = None


def lib():
    global _lib
    if _lib is None:
        path = library_path()
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} not built: run scripts/build (or set RESNETRS_LIBRARY)")
        l = ctypes.CDLL(path)
        l.resnetrs_last_error.restype = ctypes.c_char_p
        l.resnetrs_image_options_init_versioned.argtypes = [ctypes.POINTER(ImageOptions), ctypes.c_size_t, ctypes.c_uint32]
        l.resnetrs_image_load_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(ImageOptions), ctypes.c_void_p]
        l.resnetrs_image_load_memory.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ImageOptions),
                                                 ctypes.c_void_p]
        _lib = l
    return _lib


def _check(status: int) -> None:
    if status != 0:
        raise ImageError(status, lib().resnetrs_last_error().decode())


def options(size: int = 224, preprocess: int = PREPROCESS_RELEASE, crop_pct: float | None = None,
            layout: int = LAYOUT_NCHW, max_pixels: int | None = None) -> ImageOptions:
    o = ImageOptions()
    _check(lib().resnetrs_image_options_init_versioned(ctypes.byref(o), ctypes.sizeof(o), API_VERSION))
    o.preprocess, o.height, o.width, o.layout = preprocess, size, size, layout
    if crop_pct is not None:
        o.crop_pct = crop_pct
    if max_pixels is not None:
        o.max_pixels = max_pixels
    return o


def _out(o: ImageOptions) -> np.ndarray:
    shape = (3, o.height, o.width) if o.layout == LAYOUT_NCHW else (o.height, o.width, 3)
    return np.full(shape, np.nan, np.float32)


def load_memory(data: bytes, o: ImageOptions) -> np.ndarray:
    out = _out(o)
    _check(lib().resnetrs_image_load_memory(data, len(data), ctypes.byref(o), out.ctypes.data))
    return out


def load_file(path: str, o: ImageOptions) -> np.ndarray:
    out = _out(o)
    _check(lib().resnetrs_image_load_file(os.fsencode(path), ctypes.byref(o), out.ctypes.data))
    return out
