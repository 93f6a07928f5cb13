#!/usr/bin/env python3
"""The PyTorch peer of resnetrs-bench: timm's ResNet-RS (random weights) timed with the same
protocol and written in the same JSON schema (bench_schema.py, docs/benchmarks.md).

  torch_peer.py                                   the 11 release configs, eager fp32 NCHW
  torch_peer.py --mode fp32,tf32 --compile        also TF32 channels_last, and torch.compile of each
  torch_peer.py --mode fp16,bf16 --compile-mode max-autotune
                                                  half precision, eager and inductor max-autotune
                                                  (autotuned kernels + CUDA graphs)
  torch_peer.py --model rs50 --res 160 --batch 128 --mode tf32 --json out.json
  torch_peer.py --config rs50@160,rs420@320 --batch 128,1 --mode fp16,tf32 --compile-mode max-autotune \
                --no-eager --budget-s 60 --json out.json
                                                  several configs and batches in one process (one
                                                  import of torch); no new run starts after 60 s

Precisions (--mode): fp32 = strict fp32, cudnn.benchmark on, TF32 off for cuDNN and matmul (the
peer of our default); tf32 = TF32 on; fp16 / bf16 = model and input in that type (.to(dtype)).
Layouts (--layout): auto = NCHW for fp32, channels_last for the others (what a user picks);
nchw; nhwc = channels_last. Runs: eager, plus torch.compile (inductor) in each --compile-mode
(default: inductor's default mode; reduce-overhead and max-autotune add CUDA graphs) when
--compile or --compile-mode is given; --no-eager drops the eager runs. Protocol: warm-up by time
(default 200 ms), then at least N runs (default 10) and at least D seconds (1 s for the table,
3 s for one config); CUDA events around each forward on the current stream, input already on the
GPU, a synchronization after each run; batch 128 halved on out-of-memory unless --batch is given.
Build time: model creation, transfer and the first forward pass (cuDNN autotuning, compilation);
compile_s: the first forward pass alone, where it compiles (torch.compile; null for eager): never
part of the latency. Each compiled run starts from a reset of torch._dynamo (no recompilation
limit carried over from an earlier run). --budget-s: no run starts once that many seconds have
passed (the rest are recorded as errors saying so); --json is rewritten after every run, so a run
stopped by a time limit keeps what it measured.
Memory: torch.cuda.max_memory_allocated above the memory allocated before the model was built,
over the whole config (peak_bytes) and over the timed runs only, after a reset following the
warm-up (steady_peak_bytes: PyTorch's steady state).

Needs PyTorch and timm (the GPU machine has both; nothing is downloaded: pretrained=False).
Exit status: 0 success (runs left out by --budget-s included), 1 failure (no torch/timm/GPU, a
config that failed), 2 bad flags.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import importlib
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_schema as S  # noqa: E402
from cpu_machine import host_cpu  # noqa: E402

TABLE_BATCH = 128  # as the release measured: batch 128, halved until it fits
MODES = ("fp32", "tf32", "fp16", "bf16")  # precisions
LAYOUTS = ("auto", "nchw", "nhwc")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
GRAPH_COMPILE_MODES = ("reduce-overhead", "max-autotune")  # inductor replays these as CUDA graphs


@dataclass(frozen=True)
class Variant:
    """One way of running the model: precision, activation layout, eager or a compile mode."""
    precision: str
    layout: str                  # "nchw" | "nhwc"
    compile_mode: Optional[str]  # None: eager

    @property
    def mode(self) -> str:
        """The results' "mode" field: torch-eager, torch-compile (inductor's default mode, as
        recorded before compile modes existed) or torch-compile-<mode>."""
        if self.compile_mode is None:
            return "torch-eager"
        return "torch-compile" if self.compile_mode == "default" else f"torch-compile-{self.compile_mode}"

    @property
    def cuda_graph(self) -> bool:
        return self.compile_mode in GRAPH_COMPILE_MODES

    def describe(self) -> str:
        how = "eager" if self.compile_mode is None else f"compile {self.compile_mode}"
        return f"{how} {self.precision} {self.layout}"


def default_layout(precision: str) -> str:
    return "nchw" if precision == "fp32" else "nhwc"


def split_list(text: str) -> List[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


class OutOfMemory(Exception):
    pass


# ---- arguments ---------------------------------------------------------------------------------

def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="torch_peer.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", action="store_true", help="the release table (default without --model)")
    p.add_argument("--model", choices=[f"rs{d}" for d in S.DEPTHS])
    p.add_argument("--res", type=int, help="resolution of a single config (default: the model's first release one)")
    p.add_argument("--config", help="comma-separated configs MODEL@RES, e.g. rs50@160,rs420@320 (instead of --model/--res)")
    p.add_argument("--batch", help="batch size, or a comma-separated list of them; not halved on OOM when given "
                   "(default 128, halved)")
    p.add_argument("--budget-s", type=float, help="start no run after this many seconds (the rest are error rows)")
    p.add_argument("--mode", default="fp32", help="comma-separated precisions: fp32 (strict, no TF32), tf32, fp16, bf16")
    p.add_argument("--layout", default="auto",
                   help="comma-separated: auto (NCHW for fp32, channels_last otherwise), nchw, nhwc (channels_last)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (inductor) of each precision and layout")
    p.add_argument("--compile-mode", help="comma-separated torch.compile modes (implies --compile): " + ", ".join(COMPILE_MODES)
                   + "; default: default")
    p.add_argument("--no-eager", action="store_true", help="only the compiled runs")
    p.add_argument("--warmup-ms", type=float, default=200.0)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--duration-s", type=float, help="default 1 for the table, 3 for one config")
    p.add_argument("--device", type=int, default=0)
    p.add_argument("--json", help="write the results here (resnetrs-bench-results schema)")
    a = p.parse_args(argv)
    a.modes = split_list(a.mode)
    bad = [m for m in a.modes if m not in MODES]
    if bad or not a.modes:
        p.error(f"--mode: expected a comma-separated list of {', '.join(MODES)}, got '{a.mode}'")
    a.layouts = split_list(a.layout)
    bad = [m for m in a.layouts if m not in LAYOUTS]
    if bad or not a.layouts:
        p.error(f"--layout: expected a comma-separated list of {', '.join(LAYOUTS)}, got '{a.layout}'")
    a.compile_modes = []
    if a.compile_mode is not None:
        a.compile_modes = split_list(a.compile_mode)
        bad = [m for m in a.compile_modes if m not in COMPILE_MODES]
        if bad or not a.compile_modes:
            p.error(f"--compile-mode: expected a comma-separated list of {', '.join(COMPILE_MODES)}, got '{a.compile_mode}'")
    elif a.compile:
        a.compile_modes = ["default"]
    if a.no_eager and not a.compile_modes:
        p.error("--no-eager needs --compile or --compile-mode (nothing would run)")
    a.configs = None
    if a.config is not None:
        if a.model is not None or a.res is not None or a.table:
            p.error("--config names the configs; it cannot be combined with --model, --res or --table")
        a.configs = []
        for item in split_list(a.config):
            model, _, res = item.partition("@")
            if model not in [f"rs{d}" for d in S.DEPTHS] or not res.isdigit() or not 32 <= int(res) <= 4096:
                p.error(f"--config: expected MODEL@RES items such as rs50@160 (models rs50..rs420, resolutions "
                        f"32..4096), got '{item}'")
            if (int(model[2:]), int(res)) not in a.configs:
                a.configs.append((int(model[2:]), int(res)))
        if not a.configs:
            p.error("--config: no config given")
    a.batches = None
    if a.batch is not None:
        items = split_list(a.batch)
        if not items or not all(b.isdigit() and int(b) >= 1 for b in items):
            p.error(f"--batch must be a positive integer or a comma-separated list of them, got '{a.batch}'")
        a.batches = list(dict.fromkeys(int(b) for b in items))
    if a.budget_s is not None and a.budget_s < 0:
        p.error("--budget-s must not be negative")
    if a.table and a.res is not None:
        p.error("--res selects one config; it cannot be combined with --table")
    if a.res is not None and a.model is None:
        p.error("--res needs --model")
    if a.res is not None and not 32 <= a.res <= 4096:
        p.error("--res must be in 32..4096")
    if a.iterations < 1:
        p.error("--iterations must be at least 1")
    if a.warmup_ms < 0 or (a.duration_s is not None and a.duration_s < 0):
        p.error("--warmup-ms and --duration-s must not be negative")
    return a


def variant_list(a: argparse.Namespace) -> List[Variant]:
    """Every variant to run per config, in order: per precision, per layout (duplicates from
    'auto' dropped), eager first, then each compile mode."""
    out: List[Variant] = []
    for prec in a.modes:
        for lay in a.layouts:
            layout = default_layout(prec) if lay == "auto" else lay
            runs: List[Optional[str]] = ([] if a.no_eager else [None]) + list(a.compile_modes)
            for cm in runs:
                v = Variant(prec, layout, cm)
                if v not in out:
                    out.append(v)
    return out


def config_list(a: argparse.Namespace) -> List[Tuple[int, int]]:
    if a.configs:
        return list(a.configs)
    depth = int(a.model[2:]) if a.model else None
    if a.table or depth is None:
        return [(d, r) for d, r, _, _ in S.RELEASE_CONFIGS if depth is None or d == depth]
    res = a.res or next(r for d, r, _, _ in S.RELEASE_CONFIGS if d == depth)
    return [(depth, res)]


# ---- protocol ----------------------------------------------------------------------------------

def run_protocol(protocol: Dict[str, Any], warmup: Callable[[], None],
                 iteration: Callable[[], Tuple[float, float, float]],
                 after_warmup: Optional[Callable[[], None]] = None) -> Dict[str, Any]:
    """The same loop as resnetrs-bench's protocol.cpp: warm-up by wall time (at least one run),
    then at least min_iterations runs and min_duration_s seconds. after_warmup runs between the
    two (the peer resets the peak-memory counter there)."""
    t0 = time.perf_counter()
    n_warm = 0
    while True:
        warmup()
        n_warm += 1
        if (time.perf_counter() - t0) * 1000.0 >= protocol["warmup_ms"]:
            break
    warm_s = time.perf_counter() - t0
    if after_warmup is not None:
        after_warmup()
    t1 = time.perf_counter()
    samples: List[Tuple[float, float, float]] = []
    while len(samples) < protocol["min_iterations"] or time.perf_counter() - t1 < protocol["min_duration_s"]:
        samples.append(iteration())
    return {"warmup_iterations": n_warm, "warmup_s": warm_s, "timed_s": time.perf_counter() - t1, "samples": samples}


def make_result(depth: int, res: int, batch_requested: int, batch: int, variant: Variant,
                params: int, build_s: float, runs: Dict[str, Any], memory: Dict[str, Optional[int]],
                outputs_finite: Optional[bool], compile_s: Optional[float] = None) -> Dict[str, Any]:
    """One "results" entry from measured numbers (pure: tested without torch)."""
    lat = [s[0] for s in runs["samples"]]
    host = [s[1] for s in runs["samples"]]
    enq = [s[2] for s in runs["samples"]]
    return {
        "model": f"rs{depth}", "depth": depth, "resolution": res,
        "mode": variant.mode, "precision": variant.precision, "layout": variant.layout,
        "cuda_graph": variant.cuda_graph, "compile_mode": variant.compile_mode,
        "weights": "timm-random-init", "batch_requested": batch_requested, "batch": batch,
        "status": "ok", "error": None,
        "params_m": params / 1e6, "gflops_per_image": S.release_gflops(depth, res),
        "release_v100_train_step_s": S.release_v100_s(depth, res),
        "warmup_iterations": runs["warmup_iterations"], "warmup_s": runs["warmup_s"],
        "iterations": len(lat), "timed_s": runs["timed_s"],
        "latency_ms": S.summarize(lat), "host_ms": S.summarize(host), "enqueue_ms": S.summarize(enq),
        "images_per_s": batch * len(lat) / runs["timed_s"],
        "build_s": build_s, "load_s": None, "tune_s": None,
        "compile_s": compile_s if variant.compile_mode is not None else None,
        "memory": dict(memory, method="torch.cuda.max_memory_allocated", engine_bytes=None),
        "outputs_finite": outputs_finite, "samples_ms": lat,
    }


def error_result(depth: int, res: int, batch_requested: int, batch: int, variant: Variant,
                 message: str) -> Dict[str, Any]:
    return {"model": f"rs{depth}", "depth": depth, "resolution": res,
            "mode": variant.mode, "precision": variant.precision, "layout": variant.layout,
            "cuda_graph": variant.cuda_graph, "compile_mode": variant.compile_mode, "weights": "timm-random-init",
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


DTYPES = {"fp32": "float32", "tf32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def measure(torch, timm, depth: int, res: int, batch: int, variant: Variant,
            protocol: Dict[str, Any], device: int) -> Dict[str, Any]:
    tf32 = variant.precision == "tf32"
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    dtype = getattr(torch, DTYPES[variant.precision])
    fmt = torch.channels_last if variant.layout == "nhwc" else torch.contiguous_format
    dev = torch.device("cuda", device)
    # Inductor's CUDA-graph modes: mark each call as a new step, so a replay may reuse the
    # previous output's memory (we only ever read the latest output).
    mark_step = getattr(getattr(torch, "compiler", None), "cudagraph_mark_step_begin", None) if variant.cuda_graph else None
    model = fn = x = y = None
    if variant.compile_mode is not None:
        # A fresh Dynamo per compiled run: recompilations of earlier runs (other models, batches,
        # dtypes) must not reach the recompile limit, past which Dynamo silently runs eager.
        importlib.import_module(torch.__name__ + "._dynamo").reset()
    try:
        with torch.inference_mode():
            # Input first: the memory baseline includes it, as resnetrs-bench's includes its buffers.
            g = torch.Generator(device=dev).manual_seed(0)
            x = torch.randn(batch, 3, res, res, device=dev, generator=g).to(dtype).contiguous(memory_format=fmt)
            torch.cuda.synchronize(dev)
            baseline = torch.cuda.memory_allocated(dev)
            torch.cuda.reset_peak_memory_stats(dev)
            t0 = time.perf_counter()
            model = timm.create_model(f"resnetrs{depth}", pretrained=False)
            params = sum(p.numel() for p in model.parameters())
            model = model.to(device=dev, dtype=dtype).eval().to(memory_format=fmt)
            if variant.compile_mode is None:
                fn = model
            elif variant.compile_mode == "default":
                fn = torch.compile(model)
            else:
                fn = torch.compile(model, mode=variant.compile_mode)

            def call():
                if mark_step is not None:
                    mark_step()
                return fn(x)

            t_first = time.perf_counter()
            y = call()
            torch.cuda.synchronize(dev)
            build_s = time.perf_counter() - t0
            first_call_s = time.perf_counter() - t_first
            after_build = torch.cuda.memory_allocated(dev) - baseline
            stream = torch.cuda.current_stream(dev)
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            out: Dict[str, Any] = {}
            peaks: Dict[str, int] = {}

            def warmup() -> None:
                out["y"] = call()
                torch.cuda.synchronize(dev)

            def reset_peak() -> None:
                peaks["before"] = torch.cuda.max_memory_allocated(dev)
                torch.cuda.reset_peak_memory_stats(dev)

            def iteration() -> Tuple[float, float, float]:
                h0 = time.perf_counter()
                start.record(stream)
                e0 = time.perf_counter()
                out["y"] = call()
                e1 = time.perf_counter()
                stop.record(stream)
                stop.synchronize()
                h1 = time.perf_counter()
                return start.elapsed_time(stop), (h1 - h0) * 1e3, (e1 - e0) * 1e3

            runs = run_protocol(protocol, warmup, iteration, after_warmup=reset_peak)
            finite = bool(torch.isfinite(out["y"]).all().item())
            steady = torch.cuda.max_memory_allocated(dev)
            memory = {"peak_bytes": int(max(peaks["before"], steady) - baseline),
                      "steady_peak_bytes": int(steady - baseline),
                      "after_build_bytes": int(after_build),
                      "after_runs_bytes": int(torch.cuda.memory_allocated(dev) - baseline)}
        return make_result(depth, res, batch, batch, variant, params, build_s, runs, memory, finite,
                           compile_s=first_call_s)
    except Exception as e:  # noqa: BLE001 - out-of-memory is recognised here, the rest re-raised
        if is_oom(torch, e):
            raise OutOfMemory(short(str(e))) from None
        raise
    finally:
        del model, fn, x, y
        gc.collect()
        torch.cuda.empty_cache()


def run_config(torch, timm, depth: int, res: int, a: argparse.Namespace, variant: Variant,
               protocol: Dict[str, Any], index: int, count: int, batch: Optional[int] = None) -> Dict[str, Any]:
    """One config at one batch (default: --batch's first, else 128); an explicit batch is never
    halved."""
    if batch is None and a.batches:
        batch = a.batches[0]
    explicit = batch is not None
    requested = batch if explicit else TABLE_BATCH
    batch = requested
    name = f"RS-{depth} @{res} {variant.describe()}"
    while True:
        print(f"[{index}/{count}] {name} batch {batch}: building and timing...", file=sys.stderr, flush=True)
        try:
            r = measure(torch, timm, depth, res, batch, variant, protocol, a.device)
            r["batch_requested"] = requested
            print(f"[{index}/{count}] {name} batch {batch}: median {r['latency_ms']['median']:.2f} ms, "
                  f"{r['images_per_s']:.1f} images/s, build {r['build_s']:.1f} s", file=sys.stderr, flush=True)
            return r
        except OutOfMemory as e:
            if explicit or batch == 1:
                msg = f"OUT_OF_MEMORY: batch {batch} does not fit ({e})"
                print(f"[{index}/{count}] {name}: FAILED: {msg}", file=sys.stderr, flush=True)
                return error_result(depth, res, requested, batch, variant, msg)
            print(f"[{index}/{count}] {name} batch {batch} does not fit: halving", file=sys.stderr, flush=True)
            batch //= 2
        except Exception as e:  # noqa: BLE001 - one failed config must not stop the table
            msg = f"{type(e).__name__}: {short(str(e))}"
            print(f"[{index}/{count}] {name}: FAILED: {msg}", file=sys.stderr, flush=True)
            return error_result(depth, res, requested, batch, variant, msg)


def run_all(torch, timm, a: argparse.Namespace, configs: List[Tuple[int, int]], protocol: Dict[str, Any],
            env: Dict[str, Any], command: str, clock: Callable[[], float] = time.monotonic) -> List[Dict[str, Any]]:
    """Every config x batch x variant in that order; none starts once --budget-s has passed (an
    error row says so); --json is rewritten after each run."""
    batches = a.batches or [None]  # None: 128, halved on out-of-memory
    runs = [(d, r, b, v) for d, r in configs for b in batches for v in variant_list(a)]
    results: List[Dict[str, Any]] = []
    started = clock()
    for i, (d, r, b, v) in enumerate(runs):
        if over_budget(a.budget_s, clock() - started):
            results.append(not_run_result(d, r, b, v, a.budget_s))
            print(f"[{i + 1}/{len(runs)}] RS-{d} @{r} {v.describe()}: not run ({results[-1]['error']})",
                  file=sys.stderr, flush=True)
        else:
            results.append(run_config(torch, timm, d, r, a, v, protocol, i + 1, len(runs), batch=b))
        if a.json:  # after every run: a run stopped by a time limit keeps what it measured
            write_json(a.json, make_document(env, protocol, results, command, torch.__version__))
    return results


def over_budget(budget_s: Optional[float], elapsed_s: float) -> bool:
    """True when --budget-s was given and that many seconds have passed: no new run starts."""
    return budget_s is not None and elapsed_s >= budget_s


def not_run_result(depth: int, res: int, batch: Optional[int], variant: Variant, budget_s: Optional[float]) -> Dict[str, Any]:
    b = batch if batch is not None else TABLE_BATCH
    return error_result(depth, res, b, b, variant, f"NOT_RUN: the time budget (--budget-s {budget_s:g}) was spent")


def write_json(path: str, doc: Dict[str, Any]) -> None:
    tmp = path + ".partial"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def table_lines(doc: Dict[str, Any]) -> List[str]:
    env = doc["environment"]
    lines = [f"device: {env['device_name']} (compute capability {env['compute_capability']}, {env['sm_count']} SMs), "
             f"torch {env['software']['torch']}, timm {env['software']['timm']}, cuDNN {env['cudnn_version']}",
             f"{'model':<8} {'res':>5} {'mode':<34} {'prec':<5} {'layout':<6} {'batch':>6} {'median ms':>10} "
             f"{'images/s':>10} {'peak GiB':>9} {'steady GiB':>10} {'build s':>8} {'compile s':>9}"]
    for r in doc["results"]:
        head = f"RS-{r['depth']:<5} {r['resolution']:>5} {r['mode']:<34} {r['precision']:<5} {r['layout']:<6}"
        if r["status"] != "ok":
            lines.append(f"{head} error: {r['error']}")
            continue
        gib = [(r["memory"].get(k) / 2**30 if r["memory"].get(k) is not None else float("nan"))
               for k in ("peak_bytes", "steady_peak_bytes")]
        compile_s = "-" if r.get("compile_s") is None else f"{r['compile_s']:.1f}"
        lines.append(f"{head} {r['batch']:>6} {r['latency_ms']['median']:>10.2f} {r['images_per_s']:>10.1f} "
                     f"{gib[0]:>9.2f} {gib[1]:>10.2f} {r['build_s']:>8.1f} {compile_s:>9}")
    return lines


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
    env["software"]["compile"] = bool(a.compile_modes)
    env["software"]["compile_modes"] = list(a.compile_modes)
    command = " ".join([os.path.basename(sys.argv[0])] + argv)
    results = run_all(torch, timm, a, configs, protocol, env, command)
    doc = make_document(env, protocol, results, command, torch.__version__)
    S.validate(doc, "torch_peer.py's own output")  # a schema slip is a bug here, not in the reader
    print("\n".join(table_lines(doc)))
    if a.json:
        write_json(a.json, doc)
        print(f"results written to {a.json}")
    not_run = sum(r["status"] != "ok" and r["error"].startswith("NOT_RUN") for r in results)
    failed = sum(r["status"] != "ok" for r in results) - not_run
    if not_run:
        print(f"torch_peer.py: {not_run} of {len(results)} run(s) not started: the time budget was spent", file=sys.stderr)
    if failed:
        print(f"torch_peer.py: {failed} of {len(results)} config(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
