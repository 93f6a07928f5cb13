#!/usr/bin/env python3
"""The PyTorch peer of resnetrs-bench: timm's ResNet-RS (random weights) timed with the same
protocol and written in the same JSON schema (bench_schema.py, docs/benchmarks.md).

  torch_peer.py                               the 11 release configs, eager fp32 NCHW
  torch_peer.py --mode fp32,tf32 --compile    also TF32 channels_last, and torch.compile of each
  torch_peer.py --model rs50 --res 160 --batch 128 --mode tf32 --json out.json

Modes: fp32 = eager, NCHW, cudnn.benchmark on, TF32 off for cuDNN and matmul (strict fp32, the
peer of our default); tf32 = TF32 on, channels_last. --compile adds torch.compile (inductor,
default mode) runs of each mode. Protocol: warm-up by time (default 200 ms), then at least N runs
(default 10) and at least D seconds (1 s for the table, 3 s for one config); CUDA events around
each forward on the current stream, input already on the GPU, a synchronization after each run;
batch 128 halved on out-of-memory unless --batch is given. Build time: model creation, transfer
and the first forward pass (cuDNN autotuning, compilation). Peak memory:
torch.cuda.max_memory_allocated above the memory allocated before the model was built.

Needs PyTorch and timm (the GPU machine has both; nothing is downloaded: pretrained=False).
Exit status: 0 success, 1 failure (no torch/timm/GPU, a config that did not run), 2 bad flags.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_schema as S  # noqa: E402

TABLE_BATCH = 128  # as the release measured: batch 128, halved until it fits
MODES = ("fp32", "tf32")


class OutOfMemory(Exception):
    pass


# ---- arguments ---------------------------------------------------------------------------------

def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="torch_peer.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", action="store_true", help="the release table (default without --model)")
    p.add_argument("--model", choices=[f"rs{d}" for d in S.DEPTHS])
    p.add_argument("--res", type=int, help="resolution of a single config (default: the model's first release one)")
    p.add_argument("--batch", type=int, help="batch size; not halved on OOM when given (default 128, halved)")
    p.add_argument("--mode", default="fp32", help="comma-separated: fp32 (eager NCHW, no TF32), tf32 (TF32 channels_last)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile of each mode")
    p.add_argument("--warmup-ms", type=float, default=200.0)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--duration-s", type=float, help="default 1 for the table, 3 for one config")
    p.add_argument("--device", type=int, default=0)
    p.add_argument("--json", help="write the results here (resnetrs-bench-results schema)")
    a = p.parse_args(argv)
    a.modes = [m.strip() for m in a.mode.split(",") if m.strip()]
    bad = [m for m in a.modes if m not in MODES]
    if bad or not a.modes:
        p.error(f"--mode: expected a comma-separated list of {', '.join(MODES)}, got '{a.mode}'")
    if a.table and a.res is not None:
        p.error("--res selects one config; it cannot be combined with --table")
    if a.res is not None and a.model is None:
        p.error("--res needs --model")
    if a.res is not None and not 32 <= a.res <= 4096:
        p.error("--res must be in 32..4096")
    if a.batch is not None and a.batch < 1:
        p.error("--batch must be at least 1")
    if a.iterations < 1:
        p.error("--iterations must be at least 1")
    if a.warmup_ms < 0 or (a.duration_s is not None and a.duration_s < 0):
        p.error("--warmup-ms and --duration-s must not be negative")
    return a


def config_list(a: argparse.Namespace) -> List[Tuple[int, int]]:
    depth = int(a.model[2:]) if a.model else None
    if a.table or depth is None:
        return [(d, r) for d, r, _, _ in S.RELEASE_CONFIGS if depth is None or d == depth]
    res = a.res or next(r for d, r, _, _ in S.RELEASE_CONFIGS if d == depth)
    return [(depth, res)]


# ---- protocol ----------------------------------------------------------------------------------

def run_protocol(protocol: Dict[str, Any], warmup: Callable[[], None],
                 iteration: Callable[[], Tuple[float, float, float]]) -> Dict[str, Any]:
    """The same loop as resnetrs-bench's protocol.cpp: warm-up by wall time (at least one run),
    then at least min_iterations runs and min_duration_s seconds."""
    t0 = time.perf_counter()
    n_warm = 0
    while True:
        warmup()
        n_warm += 1
        if (time.perf_counter() - t0) * 1000.0 >= protocol["warmup_ms"]:
            break
    warm_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    samples: List[Tuple[float, float, float]] = []
    while len(samples) < protocol["min_iterations"] or time.perf_counter() - t1 < protocol["min_duration_s"]:
        samples.append(iteration())
    return {"warmup_iterations": n_warm, "warmup_s": warm_s, "timed_s": time.perf_counter() - t1, "samples": samples}


def make_result(depth: int, res: int, batch_requested: int, batch: int, mode: str, compiled: bool,
                params: int, build_s: float, runs: Dict[str, Any], memory: Dict[str, Optional[int]],
                outputs_finite: Optional[bool]) -> Dict[str, Any]:
    """One "results" entry from measured numbers (pure: tested without torch)."""
    lat = [s[0] for s in runs["samples"]]
    host = [s[1] for s in runs["samples"]]
    enq = [s[2] for s in runs["samples"]]
    return {
        "model": f"rs{depth}", "depth": depth, "resolution": res,
        "mode": "torch-compile" if compiled else "torch-eager",
        "precision": mode, "layout": "nhwc" if mode == "tf32" else "nchw", "cuda_graph": False,
        "weights": "timm-random-init", "batch_requested": batch_requested, "batch": batch,
        "status": "ok", "error": None,
        "params_m": params / 1e6, "gflops_per_image": S.release_gflops(depth, res),
        "release_v100_train_step_s": S.release_v100_s(depth, res),
        "warmup_iterations": runs["warmup_iterations"], "warmup_s": runs["warmup_s"],
        "iterations": len(lat), "timed_s": runs["timed_s"],
        "latency_ms": S.summarize(lat), "host_ms": S.summarize(host), "enqueue_ms": S.summarize(enq),
        "images_per_s": batch * len(lat) / runs["timed_s"],
        "build_s": build_s, "load_s": None, "tune_s": None,
        "memory": dict(memory, method="torch.cuda.max_memory_allocated", engine_bytes=None),
        "outputs_finite": outputs_finite, "samples_ms": lat,
    }


def error_result(depth: int, res: int, batch_requested: int, batch: int, mode: str, compiled: bool,
                 message: str) -> Dict[str, Any]:
    return {"model": f"rs{depth}", "depth": depth, "resolution": res,
            "mode": "torch-compile" if compiled else "torch-eager", "precision": mode,
            "layout": "nhwc" if mode == "tf32" else "nchw", "cuda_graph": False, "weights": "timm-random-init",
            "batch_requested": batch_requested, "batch": batch, "status": "error", "error": message}


def make_document(environment: Dict[str, Any], protocol: Dict[str, Any], results: List[Dict[str, Any]],
                  command: str, torch_version: str) -> Dict[str, Any]:
    return {"schema": S.SCHEMA, "schema_version": S.SCHEMA_VERSION,
            "producer": {"name": "torch_peer", "version": torch_version},
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": command,
            "environment": environment, "protocol": protocol, "results": results}


# ---- the GPU side ------------------------------------------------------------------------------

def short(message: str, limit: int = 200) -> str:
    """The first line of an exception message, cut to `limit` characters (PyTorch's OOM text
    runs to several sentences of advice)."""
    line = message.splitlines()[0] if message else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def version_triple(v: Optional[int]) -> Optional[str]:
    if not v:
        return None
    if v >= 90000:  # cuDNN 9: major*10000 + minor*100 + patch
        return f"{v // 10000}.{(v % 10000) // 100}.{v % 100}"
    return f"{v // 1000}.{(v % 1000) // 100}.{v % 100}"  # cuDNN 8 and older


def driver_cuda_version() -> Optional[str]:
    try:
        lib = ctypes.CDLL("libcuda.so.1")
        v = ctypes.c_int(0)
        if lib.cuDriverGetVersion(ctypes.byref(v)) == 0 and v.value > 0:
            return f"{v.value // 1000}.{(v.value % 1000) // 10}"
    except OSError:
        pass
    return None


def host_cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(torch, timm, device: int) -> Dict[str, Any]:
    props = torch.cuda.get_device_properties(device)
    return {
        "backend": "cuda", "device_name": props.name, "compute_capability": f"{props.major}.{props.minor}",
        "sm_count": props.multi_processor_count, "device_memory_bytes": int(props.total_memory),
        "driver_version": driver_cuda_version(), "cuda_runtime_version": torch.version.cuda,
        "cudnn_version": version_triple(torch.backends.cudnn.version()), "cublas_version": None,
        "host_cpu": host_cpu(), "host_cores": os.cpu_count() or 0,
        "software": {"python": platform.python_version(), "torch": torch.__version__, "timm": timm.__version__,
                     "cudnn_benchmark": True},
    }


def is_oom(torch, e: BaseException) -> bool:
    if isinstance(e, torch.cuda.OutOfMemoryError):
        return True
    text = str(e)
    return isinstance(e, RuntimeError) and ("out of memory" in text or "CUDNN_STATUS_ALLOC_FAILED" in text)


def measure(torch, timm, depth: int, res: int, batch: int, mode: str, compiled: bool,
            protocol: Dict[str, Any], device: int) -> Dict[str, Any]:
    tf32 = mode == "tf32"
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    fmt = torch.channels_last if tf32 else torch.contiguous_format
    dev = torch.device("cuda", device)
    model = fn = x = y = None
    try:
        with torch.inference_mode():
            # Input first: the memory baseline includes it, as resnetrs-bench's includes its buffers.
            g = torch.Generator(device=dev).manual_seed(0)
            x = torch.randn(batch, 3, res, res, device=dev, generator=g).contiguous(memory_format=fmt)
            torch.cuda.synchronize(dev)
            baseline = torch.cuda.memory_allocated(dev)
            torch.cuda.reset_peak_memory_stats(dev)
            t0 = time.perf_counter()
            model = timm.create_model(f"resnetrs{depth}", pretrained=False)
            params = sum(p.numel() for p in model.parameters())
            model = model.to(dev).eval().to(memory_format=fmt)
            fn = torch.compile(model) if compiled else model
            y = fn(x)
            torch.cuda.synchronize(dev)
            build_s = time.perf_counter() - t0
            after_build = torch.cuda.memory_allocated(dev) - baseline
            stream = torch.cuda.current_stream(dev)
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            out: Dict[str, Any] = {}

            def warmup() -> None:
                out["y"] = fn(x)
                torch.cuda.synchronize(dev)

            def iteration() -> Tuple[float, float, float]:
                h0 = time.perf_counter()
                start.record(stream)
                e0 = time.perf_counter()
                out["y"] = fn(x)
                e1 = time.perf_counter()
                stop.record(stream)
                stop.synchronize()
                h1 = time.perf_counter()
                return start.elapsed_time(stop), (h1 - h0) * 1e3, (e1 - e0) * 1e3

            runs = run_protocol(protocol, warmup, iteration)
            finite = bool(torch.isfinite(out["y"]).all().item())
            memory = {"peak_bytes": int(torch.cuda.max_memory_allocated(dev) - baseline),
                      "after_build_bytes": int(after_build),
                      "after_runs_bytes": int(torch.cuda.memory_allocated(dev) - baseline)}
        return make_result(depth, res, batch, batch, mode, compiled, params, build_s, runs, memory, finite)
    except Exception as e:  # noqa: BLE001 - out-of-memory is recognised here, the rest re-raised
        if is_oom(torch, e):
            raise OutOfMemory(short(str(e))) from None
        raise
    finally:
        del model, fn, x, y
        gc.collect()
        torch.cuda.empty_cache()


def run_config(torch, timm, depth: int, res: int, a: argparse.Namespace, mode: str, compiled: bool,
               protocol: Dict[str, Any], index: int, count: int) -> Dict[str, Any]:
    requested = a.batch or TABLE_BATCH
    batch = requested
    name = f"RS-{depth} @{res} {'compile' if compiled else 'eager'} {mode}"
    while True:
        print(f"[{index}/{count}] {name} batch {batch}: building and timing...", file=sys.stderr, flush=True)
        try:
            r = measure(torch, timm, depth, res, batch, mode, compiled, protocol, a.device)
            r["batch_requested"] = requested
            print(f"[{index}/{count}] {name} batch {batch}: median {r['latency_ms']['median']:.2f} ms, "
                  f"{r['images_per_s']:.1f} images/s, build {r['build_s']:.1f} s", file=sys.stderr, flush=True)
            return r
        except OutOfMemory as e:
            if a.batch is not None or batch == 1:
                msg = f"OUT_OF_MEMORY: batch {batch} does not fit ({e})"
                print(f"[{index}/{count}] {name}: FAILED: {msg}", file=sys.stderr, flush=True)
                return error_result(depth, res, requested, batch, mode, compiled, msg)
            print(f"[{index}/{count}] {name} batch {batch} does not fit: halving", file=sys.stderr, flush=True)
            batch //= 2
        except Exception as e:  # noqa: BLE001 - one failed config must not stop the table
            msg = f"{type(e).__name__}: {short(str(e))}"
            print(f"[{index}/{count}] {name}: FAILED: {msg}", file=sys.stderr, flush=True)
            return error_result(depth, res, requested, batch, mode, compiled, msg)


def print_table(doc: Dict[str, Any]) -> None:
    env = doc["environment"]
    print(f"device: {env['device_name']} (compute capability {env['compute_capability']}, {env['sm_count']} SMs), "
          f"torch {env['software']['torch']}, timm {env['software']['timm']}, cuDNN {env['cudnn_version']}")
    print(f"{'model':<8} {'res':>5} {'mode':<14} {'prec':<5} {'batch':>6} {'median ms':>10} {'images/s':>10} "
          f"{'peak GiB':>9} {'build s':>8}")
    for r in doc["results"]:
        head = f"RS-{r['depth']:<5} {r['resolution']:>5} {r['mode']:<14} {r['precision']:<5}"
        if r["status"] != "ok":
            print(f"{head} error: {r['error']}")
            continue
        peak = r["memory"]["peak_bytes"]
        print(f"{head} {r['batch']:>6} {r['latency_ms']['median']:>10.2f} {r['images_per_s']:>10.1f} "
              f"{(peak / 2**30 if peak is not None else float('nan')):>9.2f} {r['build_s']:>8.1f}")


def main(argv: List[str]) -> int:
    a = parse_args(argv)
    try:
        import torch
        import timm
    except ImportError as e:
        print(f"torch_peer.py: needs PyTorch and timm ({e}); run it where they are installed (the GPU "
              "machine has torch 2.11 and timm 1.0.29)", file=sys.stderr)
        return 1
    if not torch.cuda.is_available() or torch.cuda.device_count() <= a.device:
        print(f"torch_peer.py: no CUDA device {a.device} visible to PyTorch "
              f"(torch.cuda.device_count() = {torch.cuda.device_count()})", file=sys.stderr)
        return 1
    torch.cuda.set_device(a.device)
    configs = config_list(a)
    table = a.table or a.model is None or len(configs) > 1
    protocol = {"warmup_ms": a.warmup_ms, "min_iterations": a.iterations,
                "min_duration_s": a.duration_s if a.duration_s is not None else (1.0 if table else 3.0),
                "clock": "cuda_event", "data_transfers": "excluded", "synchronization": "per_iteration",
                "percentiles": "nearest_rank", "reduced_cpu_table": False}
    env = environment(torch, timm, a.device)
    env["software"]["compile"] = bool(a.compile)
    runs = [(d, r, m, c) for d, r in configs for m in a.modes for c in ([False, True] if a.compile else [False])]
    results = [run_config(torch, timm, d, r, a, m, c, protocol, i + 1, len(runs)) for i, (d, r, m, c) in enumerate(runs)]
    doc = make_document(env, protocol, results, " ".join([os.path.basename(sys.argv[0])] + argv), torch.__version__)
    S.validate(doc, "torch_peer.py's own output")  # a schema slip is a bug here, not in the reader
    print_table(doc)
    if a.json:
        tmp = a.json + ".partial"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        os.replace(tmp, a.json)
        print(f"results written to {a.json}")
    failed = sum(r["status"] != "ok" for r in results)
    if failed:
        print(f"torch_peer.py: {failed} of {len(results)} config(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
