"""Helpers of the Python package tests (test_package*.py): the installed package, a weights file
made through `resnetrs convert`, the C API through ctypes, test pixels."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import rs_helpers as H
from capi_ctypes import CApi

RES = 64          # small inputs keep the CPU engine fast (RS-50 @64, batch 2: ~0.1 s)
TRAIN_RES = 160   # written into the test weights file


def import_package():
    try:
        import resnetrs
    except ImportError as e:
        pytest.fail(f"the resnetrs package is not installed in {sys.prefix} ({e}); run scripts/setup")
    return resnetrs


def run_cli(*args, timeout=600) -> subprocess.CompletedProcess:
    """`resnetrs ARGS` exactly as a user runs it (the console script of the venv)."""
    exe = os.path.join(os.path.dirname(sys.executable), "resnetrs")
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def weights_file(tmp_path_factory) -> str:
    """RS-50 with random, BN-calibrated weights (so logits depend on the image), written as a timm
    state dict and converted by `resnetrs convert`; made once per session."""
    d = tmp_path_factory.getbasetemp() / "pkg-weights"
    out = d / "rs50.h5"
    if out.exists():
        return str(out)
    d.mkdir(exist_ok=True)
    from safetensors.numpy import save_file
    w = H.random_weights(50, 7)
    H.calibrate_bn(w, 50, 7, res=32)
    src = d / "rs50.safetensors"
    save_file(H.timm_named(50, w), str(src))
    r = run_cli("convert", "--timm", src, "--out", out, "--train-resolution", TRAIN_RES, "--no-progress")
    assert r.returncode == 0, f"resnetrs convert failed: {r.stdout}\n{r.stderr}"
    return str(out)


def capi(resnetrs_module) -> CApi:
    """ctypes on the libresnetrs the package bundles (libresnetrs.so.0 beside its extension)."""
    lib = os.path.join(os.path.dirname(resnetrs_module.__file__), "libresnetrs.so.0")
    assert os.path.isfile(lib), f"{lib} missing from the installed package"
    return CApi(lib)


def pixels(n: int, seed: int, res: int = RES) -> np.ndarray:
    """n different images [n, 3, res, res] float32 on the 0..255 scale (noise and patterns)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if i % 2 == 0:
            out.append(rng.uniform(0, 255, (3, res, res)))
        else:
            yy, xx = np.mgrid[0:res, 0:res] / res
            f = rng.uniform(2, 12)
            out.append(np.stack([255 * xx, 255 * yy, 128 + 100 * np.sin(f * xx * yy + i)]))
    return np.stack(out).astype(np.float32)
