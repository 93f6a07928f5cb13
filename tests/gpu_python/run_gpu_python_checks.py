"""CUDA tensors through the Python binding on a GPU (docs/python.md, "CUDA tensors"): run on the
GPU machine from the repository root with the package of scripts/build-device-python:

    PYTHONPATH=OUTDIR python3 tests/gpu_python/run_gpu_python_checks.py

Plain Python (no pytest there), torch for the CUDA tensors. Every check prints PASS/FAIL (or NOTE
for what this machine cannot show); exit 0 when all pass, 1 otherwise, 77 with "SKIPPED: no CUDA
device" without one. The reference is the CPU backend on the same data and weights (synthetic
RS-50, deterministic per seed), tolerance that of the GPU tests (relative L2 <= 1e-4, fp32).
"""

from __future__ import annotations

import os
import sys

import numpy as np

RES, MAX_BATCH, TOL = 64, 8, 1e-4
RESULTS: list[tuple[str, bool]] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    RESULTS.append((name, bool(ok)))
    print(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}", flush=True)
    return bool(ok)


def rel_l2(got, want) -> float:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))


def raises(name: str, fn, error, fragment: str) -> None:
    try:
        fn()
    except error as e:
        check(name, fragment in str(e), f"{type(e).__name__}: {str(e)[:200]}")
        return
    except Exception as e:  # the wrong class
        check(name, False, f"raised {type(e).__name__}: {str(e)[:200]}")
        return
    check(name, False, "accepted")


def main() -> int:
    try:
        import torch
    except ImportError:
        print("SKIPPED: no CUDA device (torch, which provides the CUDA tensors, is not installed)")
        return 77
    if not torch.cuda.is_available():
        print("SKIPPED: no CUDA device")
        return 77
    import resnetrs
    from resnetrs import _core
    print(f"resnetrs from {os.path.dirname(resnetrs.__file__)}; torch {torch.__version__}; "
          f"{torch.cuda.get_device_name(0)}; {torch.cuda.device_count()} GPU(s)")
    if not check("the package was built with RESNETRS_UNVERIFIED_GPU=ON", _core.UNVERIFIED_GPU,
                 "(scripts/build-device-python)"):
        return 1

    kw = dict(seed=3, max_batch=MAX_BATCH, resolution=RES)
    cpu = resnetrs.Engine.synthetic(50, backend="cpu", **kw)
    gpu = resnetrs.Engine.synthetic(50, backend="cuda", device=0, **kw)
    check("a CUDA engine", gpu.info.backend == "cuda" and gpu.info.device == 0, repr(gpu))
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (3, 3, RES, RES)).astype(np.float32)
    want = cpu(x)
    check("reference rows differ (the check can fail)", np.abs(want[0] - want[1]).max() > 1e-3)

    # 1. a torch CUDA tensor in on a non-default stream, a CUDA tensor out on the same device,
    #    ordered on the producer's stream: a long kernel precedes the write of the input on that
    #    stream, so an engine on any other stream would read the zeros.
    s = torch.cuda.Stream(device=0)
    with torch.cuda.stream(s):
        xt = torch.zeros(x.shape, device="cuda:0")
        src = torch.from_numpy(x).pin_memory().cuda(0, non_blocking=True)
        torch.cuda._sleep(200_000_000)  # ~0.1 s of GPU time on s
        xt.copy_(src)
        y = gpu(xt)                      # stream: torch's current, s
    s.synchronize()
    ok_type = isinstance(y, torch.Tensor) and y.is_cuda and y.device.index == 0 and y.dtype == torch.float32
    check("torch CUDA in -> torch CUDA out on cuda:0", ok_type and tuple(y.shape) == (3, 1000),
          f"{type(y).__name__} {getattr(y, 'device', None)} {tuple(getattr(y, 'shape', ()))}")
    e = rel_l2(y.cpu().numpy(), want)
    check("logits on the producer's (non-default) stream equal the CPU's", e <= TOL, f"rel L2 {e:.2e}")

    # 2. an explicit stream: the producer (torch, current stream s) makes it wait for its work.
    s2 = torch.cuda.Stream(device=0)
    with torch.cuda.stream(s):
        xt2 = torch.zeros(x.shape, device="cuda:0")
        torch.cuda._sleep(200_000_000)
        xt2.copy_(src)
        y2 = gpu(xt2, stream=s2)
    s2.synchronize()
    e = rel_l2(y2.cpu().numpy(), want)
    check("stream=another stream: ordered after the producer's work", e <= TOL, f"rel L2 {e:.2e}")
    with torch.cuda.stream(s):
        y3 = gpu(xt, stream=s.cuda_stream)  # an int cudaStream_t
    s.synchronize()
    check("stream= as an int cudaStream_t", rel_l2(y3.cpu().numpy(), want) <= TOL)

    # 3. the default stream, batch 1 and max_batch, and the host path of the same engine
    x8 = rng.uniform(0, 255, (MAX_BATCH, 3, RES, RES)).astype(np.float32)
    want8 = cpu(x8)
    y8 = gpu(torch.from_numpy(x8).cuda())
    torch.cuda.synchronize()
    check("default stream, batch 8", rel_l2(y8.cpu().numpy(), want8) <= TOL, f"rel L2 {rel_l2(y8.cpu().numpy(), want8):.2e}")
    y1 = gpu(torch.from_numpy(x8[:1]).cuda())
    torch.cuda.synchronize()
    check("default stream, batch 1", rel_l2(y1.cpu().numpy(), want8[:1]) <= TOL)
    h = gpu(x8)
    check("host numpy in -> numpy out on the same CUDA engine", isinstance(h, np.ndarray) and rel_l2(h, want8) <= TOL)

    # 4. no copy through the host: the CUDA activity of one call (CUPTI through torch.profiler)
    try:
        from torch.profiler import ProfilerActivity, profile
        xt8 = torch.from_numpy(x8).cuda()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            out = gpu(xt8)
            torch.cuda.synchronize()
        names = [ev.name for ev in prof.events()]
        copies = [n for n in names if "HtoD" in n or "DtoH" in n or "Memcpy" in n and "Host" in n]
        kernels = len(names) - len(copies)
        if kernels == 0:
            print("NOTE  the profiler recorded no CUDA activity of the engine: zero host copies not checkable here")
        else:
            check("no host<->device copy during engine(cuda tensor)", not copies,
                  f"{kernels} device events, host copies: {copies[:5]}")
        del out
    except Exception as ex:  # no CUPTI: say so, the other checks stand
        print(f"NOTE  torch.profiler unavailable ({type(ex).__name__}: {ex}): zero host copies not checked")

    # 5. what the binding refuses, by name
    xt = torch.from_numpy(x).cuda()
    raises("a CUDA tensor on a CPU engine", lambda: cpu(xt), resnetrs.InvalidArgumentError,
           "the engine runs on the CPU")
    raises("float64", lambda: gpu(xt.double()), resnetrs.InvalidArgumentError, "dtype float64, expected float32")
    raises("a strided view (channels_last)", lambda: gpu(xt.contiguous(memory_format=torch.channels_last)),
           resnetrs.InvalidArgumentError, "not C-contiguous")
    raises("a transposed view", lambda: gpu(xt.transpose(2, 3)), resnetrs.InvalidArgumentError, "not C-contiguous")
    raises("NHWC shape on an NCHW engine", lambda: gpu(xt.permute(0, 2, 3, 1).contiguous()),
           resnetrs.InvalidArgumentError, "expected [batch, 3, 64, 64]")
    raises("batch above max_batch", lambda: gpu(torch.zeros((MAX_BATCH + 1, 3, RES, RES), device="cuda")),
           resnetrs.InvalidArgumentError, "expected 1..8")
    raises("a negative stream", lambda: gpu(xt, stream=-1), resnetrs.InvalidArgumentError, "stream=-1")
    if torch.cuda.device_count() >= 2:
        raises("a tensor on another GPU", lambda: gpu(xt.to("cuda:1")), resnetrs.InvalidArgumentError,
               "input is on cuda:1 but the engine runs on cuda:0")
    else:
        print("NOTE  one GPU: the other-GPU refusal is covered by the host tests only")

    # 6. other producers, where this machine has them on the GPU (a raw DLPack array comes back)
    try:
        import jax
        import jax.numpy as jnp
        gdev = [d for d in jax.devices() if d.platform == "gpu"]
    except Exception:
        gdev = []
    if gdev:
        try:
            xj = jax.device_put(jnp.asarray(x), gdev[0])
            xj.block_until_ready()
            yt = torch.from_dlpack(gpu(xj))   # ran on the legacy default stream
            torch.cuda.synchronize()
            check("a jax GPU array in -> a DLPack array on cuda:0",
                  yt.is_cuda and rel_l2(yt.cpu().numpy(), want) <= TOL)
        except Exception as ex:
            check("a jax GPU array in -> a DLPack array on cuda:0", False, f"{type(ex).__name__}: {ex}")
    else:
        print("NOTE  jax has no GPU device here: the jax producer is not exercised")

    gpu.close()
    cpu.close()
    failed = [n for n, ok in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed{': ' + ', '.join(failed) if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
