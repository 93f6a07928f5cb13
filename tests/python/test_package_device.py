"""The Python binding's device decisions, on the host (docs/python.md, "CUDA tensors"): which
DLPack devices an engine takes and how, the refusal of CUDA tensors in a default build (naming the
switch RESNETRS_UNVERIFIED_GPU), the stream values, and backend="auto"'s fallback to the CPU.
What needs a GPU (real CUDA tensors in and out) is tests/gpu_python/run_gpu_python_checks.py."""

from __future__ import annotations

import os

import pytest

import pkg_helpers as P
from test_package import FakeCudaTensor

rs = P.import_package()
from resnetrs import _core as core  # noqa: E402  (the binding itself: its test hooks)

CPU, CUDA, CUDA_HOST, ROCM, CUDA_MANAGED = 1, 2, 3, 10, 13
GATE_MESSAGE = r"RESNETRS_UNVERIFIED_GPU=OFF.*pass host memory"

INVALID_ARGUMENT, IO_ERROR, WEIGHTS_INVALID, NO_DEVICE, CUDA_ERROR = 1, 2, 3, 5, 7
# The library's refusals, as libresnetrs words them (src/engine/engine.cpp, gpu_gate.cpp,
# cuda_run_order.cpp; tests/unit/test_network.cpp pins the variant sentence).
VARIANT_REFUSAL = ("the CUDA backend does not run this ResNet-RS variant yet (activation swish, stride-2 padding "
                   "'same', stage-1 shortcut pool, the TF2 Model Garden's network); only the TF1 release's "
                   "(activation relu, stride-2 padding 'symmetric', no stage-1 shortcut pool) runs on the GPU so "
                   "far. Use the CPU backend for these weights")
VARIANT_GATED = ("the TF2 Model Garden variant on the CUDA backend is written but has not yet passed its check on a "
                 "GPU, so this libresnetrs does not offer it (it was built with RESNETRS_UNVERIFIED_GPU=OFF, the "
                 "default; ...)")
PRECISION_GATED = ("precision fp16 on the CUDA backend is written but has not yet passed its check on a GPU, so this "
                   "libresnetrs does not offer it (it was built with RESNETRS_UNVERIFIED_GPU=OFF, the default; a "
                   "build configured with -DRESNETRS_UNVERIFIED_GPU=ON runs it unverified: docs/cuda-engine.md, "
                   "\"Unverified GPU features\")")
DEVICE_ORDINAL = "options->device is 3, but this machine has 1 CUDA device(s) (ordinals 0..0)"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with rs.Engine(P.weights_file(tmp_path_factory), backend="cpu", max_batch=2, resolution=P.RES) as e:
        yield e


# ---- where an input is taken from ---------------------------------------------------------------

@pytest.mark.parametrize("gate", [False, True])
@pytest.mark.parametrize("backend", ["cpu", "cuda"])
def test_host_memory_goes_the_host_way(gate, backend):
    assert core._input_route(CPU, 0, backend, 0, gate) == "host"
    assert core._input_route(CUDA_HOST, 0, backend, 0, gate) == "host"   # pinned memory is host memory


def test_cuda_tensor_on_the_engines_gpu_goes_the_device_way_only_with_the_gate():
    assert core._input_route(CUDA, 1, "cuda", 1, True) == "device"
    with pytest.raises(rs.InvalidArgumentError, match=r"input is on cuda:1: CUDA tensors .*" + GATE_MESSAGE):
        core._input_route(CUDA, 1, "cuda", 1, False)


@pytest.mark.parametrize("args, match", [
    ((CUDA, 1, "cuda", 0), r"input is on cuda:1 but the engine runs on cuda:0: move it there \(tensor.to\('cuda:0'\)\)"
                           r" or build an engine with device=1"),
    ((CUDA, 0, "cpu", -1), r"input is on cuda:0 but the engine runs on the CPU: pass host memory"),
    ((CUDA_MANAGED, 0, "cuda", 0), r"input is on cuda_managed:0: the engine takes host memory or.*kDLCUDA"),
    ((ROCM, 0, "cuda", 0), r"input is on rocm:0: the engine takes host memory"),
    ((99, 0, "cpu", -1), r"input is on DLPack device type 99"),
])
def test_other_devices_are_refused_by_name(args, match):
    with pytest.raises(rs.InvalidArgumentError, match=match):
        core._input_route(*args, True)


def test_engine_refuses_a_cuda_tensor_without_touching_it(engine):
    """A DLPack tensor claiming cuda:0 with a bogus pointer: refused before any read, in either build."""
    t = FakeCudaTensor((1, 3, P.RES, P.RES))
    want = GATE_MESSAGE if not core.UNVERIFIED_GPU else r"the engine runs on the CPU"
    with pytest.raises(rs.InvalidArgumentError, match=r"input is on cuda:0.*" + want):
        engine(t)
    with pytest.raises(rs.InvalidArgumentError, match=r"cuda:0"):
        engine(t.__dlpack__())                                          # the raw capsule too


def test_default_build_keeps_device_inputs_behind_the_switch():
    """scripts/setup builds the package with the switch OFF (the default); only the device pack's
    build (scripts/build-device-python) turns it on."""
    if "RESNETRS_UNVERIFIED_GPU=ON" in os.environ.get("RESNETRS_CMAKE_ARGS", ""):
        pytest.skip("this package was built with -DRESNETRS_UNVERIFIED_GPU=ON")
    assert core.UNVERIFIED_GPU is False


def test_stream_applies_to_cuda_inputs_only(engine):
    with pytest.raises(rs.InvalidArgumentError, match="stream= applies to CUDA inputs only"):
        engine(P.pixels(1, seed=1), stream=5)


@pytest.mark.parametrize("value, handle", [(0, 1), (1, 1), (2, 2), (0x7F00_1234_5678, 0x7F00_1234_5678)])
def test_stream_values(value, handle):
    assert core._dlpack_stream_handle(value) == handle       # 0 (torch's default stream) = legacy default


def test_negative_stream_is_refused():
    with pytest.raises(rs.InvalidArgumentError, match=r"stream=-1: expected a CUDA stream"):
        core._dlpack_stream_handle(-1)


# ---- backend="auto" -----------------------------------------------------------------------------

@pytest.mark.parametrize("status, message, falls_back", [
    (NO_DEVICE, "no CUDA device found; use RESNETRS_BACKEND_CPU on this machine", True),
    (INVALID_ARGUMENT, VARIANT_REFUSAL, True),          # Model Garden weights on a GPU machine
    (INVALID_ARGUMENT, VARIANT_GATED, True),            # the same once written behind the gate
    (INVALID_ARGUMENT, PRECISION_GATED, False),         # the CPU would refuse fp16 too: say it
    (INVALID_ARGUMENT, DEVICE_ORDINAL, False),          # a wrong device is the caller's to fix
    (INVALID_ARGUMENT, "options->max_batch is 0, expected 1..65536", False),
    (WEIGHTS_INVALID, "dataset 'variant' is missing", False),
    (IO_ERROR, "cannot open 'x.h5'", False),
    (CUDA_ERROR, "cudaMalloc: out of memory on the CUDA backend variant", False),
])
def test_auto_fallback_decision(status, message, falls_back):
    assert core._auto_falls_back_to_cpu(status, message) is falls_back


def test_auto_on_this_machine_builds_an_engine(tmp_path_factory):
    """End to end: 'auto' gives a working engine here (the CPU on a machine without a GPU)."""
    with rs.Engine(P.weights_file(tmp_path_factory), max_batch=1, resolution=P.RES) as e:
        assert e.info.backend in ("cpu", "cuda")
        assert e(P.pixels(1, seed=2)).shape == (1, 1000)
