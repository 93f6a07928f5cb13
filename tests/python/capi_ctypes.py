"""The C API of libresnetrs through ctypes: the reference the Python binding is compared with
(same library, no binding code in between). Only calls whose structs interface changes do not touch:
options (resnetrs_options_t), create_from_file, run_host, topk, destroy, last_error."""

from __future__ import annotations

import ctypes
import os

import numpy as np


class Options(ctypes.Structure):  # resnetrs_options_t, field for field
    _fields_ = [("struct_size", ctypes.c_size_t), ("api_version", ctypes.c_uint32), ("backend", ctypes.c_int32),
                ("device", ctypes.c_int32), ("precision", ctypes.c_int32), ("max_batch", ctypes.c_int32),
                ("height", ctypes.c_int32), ("width", ctypes.c_int32), ("input_layout", ctypes.c_int32),
                ("cuda_graph", ctypes.c_int32), ("workspace_cap_bytes", ctypes.c_size_t),
                ("tuning_cache_path", ctypes.c_char_p), ("cpu_threads", ctypes.c_int32),
                ("cpu_winograd", ctypes.c_int32)]


class CApi:
    def __init__(self, lib_path: str):
        self.lib = L = ctypes.CDLL(lib_path)
        L.resnetrs_last_error.restype = ctypes.c_char_p
        L.resnetrs_api_version.restype = ctypes.c_uint32
        L.resnetrs_options_init_versioned.argtypes = [ctypes.POINTER(Options), ctypes.c_size_t, ctypes.c_uint32]
        L.resnetrs_engine_create_from_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(Options),
                                                        ctypes.POINTER(ctypes.c_void_p)]
        L.resnetrs_engine_run_host.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p]
        L.resnetrs_engine_destroy.argtypes = [ctypes.c_void_p]
        L.resnetrs_engine_destroy.restype = None
        L.resnetrs_topk.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p,
                                    ctypes.c_void_p]

    def _check(self, status: int, what: str) -> None:
        if status != 0:
            raise RuntimeError(f"{what}: status {status}: {self.lib.resnetrs_last_error().decode()}")

    def logits(self, weights: str, x: np.ndarray, layout: str = "nchw") -> np.ndarray:
        """Logits of x [N, ...] float32 on a fresh CPU engine built for exactly this batch."""
        x = np.ascontiguousarray(x, np.float32)
        o = Options()
        self._check(self.lib.resnetrs_options_init_versioned(ctypes.byref(o), ctypes.sizeof(o),
                                                             self.lib.resnetrs_api_version()), "options_init")
        o.backend = 0  # CPU
        o.max_batch = x.shape[0]
        o.input_layout = 1 if layout == "nhwc" else 0
        o.height, o.width = (x.shape[1], x.shape[2]) if layout == "nhwc" else (x.shape[2], x.shape[3])
        engine = ctypes.c_void_p()
        self._check(self.lib.resnetrs_engine_create_from_file(os.fsencode(weights), ctypes.byref(o), ctypes.byref(engine)),
                    "create_from_file")
        try:
            out = np.empty((x.shape[0], 1000), np.float32)
            self._check(self.lib.resnetrs_engine_run_host(engine, x.ctypes.data, x.shape[0], out.ctypes.data), "run_host")
        finally:
            self.lib.resnetrs_engine_destroy(engine)
        return out

    def topk(self, logits: np.ndarray, k: int):
        logits = np.ascontiguousarray(logits, np.float32)
        idx = np.empty((logits.shape[0], k), np.int32)
        probs = np.empty((logits.shape[0], k), np.float32)
        self._check(self.lib.resnetrs_topk(logits.ctypes.data, logits.shape[0], logits.shape[1], k, idx.ctypes.data,
                                           probs.ctypes.data), "topk")
        return idx, probs


def assert_same_network_logits(got: np.ndarray, want: np.ndarray, what: str = "") -> None:
    """Logits of the same network, weights and pixels from two separately built CPU engines: each
    engine times its own algorithm choice per layer (docs/cpu-engine.md), so where two choices are
    close in time the engines may differ by float32 rounding, which RS-50's 50 layers amplify to
    about 1e-5 of the largest logit. Equal up to 1e-4 of it (a mix-up of pixels, layout or batch
    rows moves them by > 1e-2 of it) and the same top-1."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    diff = float(np.abs(got.astype(np.float64) - want).max())
    scale = float(np.abs(want).max())
    assert diff <= 1e-4 * scale, f"{what}: max |diff| {diff} > 1e-4 x {scale}"
    assert (got.argmax(-1) == want.argmax(-1)).all(), f"{what}: top-1 differs"
