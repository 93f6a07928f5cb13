#!/usr/bin/env python3
"""The CPU peers of resnetrs-bench --backend cpu: timm's ResNet-RS (random weights) in PyTorch
eager (NCHW and channels_last), and its ONNX export in ONNX Runtime and OpenVINO, each on the same
number of threads in strict fp32, timed with the benchmarks' protocol and written in the
resnetrs-bench-results schema (bench_schema.py, docs/benchmarks.md), one row per peer, config and
thread count.

  cpu_peers.py --json peers.json                       the issue-20 configs on 1 and 2 threads
  cpu_peers.py --config rs50@160b1,rs50@160b8 --threads 2 --peers onnxruntime,openvino --json out.json

--config: MODEL@RES[bBATCH] items (batch 1 when left out); default rs50@160b1, rs50@160b8,
rs101@192b1, rs152@256b1. --threads: comma-separated, default 1,2. --peers: any of
pytorch-eager-nchw, pytorch-eager-channels-last, onnxruntime, openvino (default all).
Protocol: warm-up by wall time (--warmup-ms, default 1000), then at least --iterations runs
(default 10) and --duration-s seconds (default 3), wall time around each forward pass (steady
clock); the input is standard normal and already in memory; the logits of the last run are checked
finite and against PyTorch eager's (the export's reference, same weights and input): their largest
difference relative to the largest logit is in each row (max_rel_diff_vs_torch); a row more than
1e-3 off did not compute in fp32 and becomes an error row (NOT_FP32), one with a non-finite logit
too (NON_FINITE): both are kept apart from the comparison.
Threads: PyTorch torch.set_num_threads(T) with one inter-op thread; ONNX Runtime
intra_op_num_threads=T, inter_op_num_threads=1, sequential execution; OpenVINO INFERENCE_NUM_THREADS=T
with the LATENCY hint. Strict fp32: PyTorch float32 matmul precision 'highest' and oneDNN fp32
precision 'ieee'; ONNX Runtime runs the fp32 model as it is (no fp16 conversion); OpenVINO
INFERENCE_PRECISION_HINT=f32 forced and read back (AVX-512 BF16/AMX CPUs default to bf16).
Each peer and thread count runs in a process of its own (its thread pools alone, OMP_NUM_THREADS
and MKL_NUM_THREADS set before import). The ONNX files are exported once per config (static batch,
torch.onnx.export's default opset) into --cache (default .bench-cpu-cache/ at the repository root)
and reused while torch and timm keep their versions.

Needs torch, timm, onnx, onnxscript, onnxruntime, openvino, numpy (scripts/bench-cpu installs them
into .venv-bench-cpu). Exit status: 0 success, 1 a peer or config failed (its rows say why; the
others are still written), 2 bad flags.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_schema as S  # noqa: E402
import cpu_machine  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
PEERS = ("pytorch-eager-nchw", "pytorch-eager-channels-last", "onnxruntime", "openvino")
DEFAULT_CONFIGS = "rs50@160b1,rs50@160b8,rs101@192b1,rs152@256b1"
PRODUCER = "cpu_peers"
Config = Tuple[int, int, int]  # depth, resolution, batch


def parse_configs(text: str) -> List[Config]:
    """'rs50@160b8,rs101@192' -> [(50, 160, 8), (101, 192, 1)]; ValueError naming a bad item."""
    out: List[Config] = []
    for item in [x.strip() for x in text.split(",") if x.strip()]:
        m = re.fullmatch(r"rs(\d+)@(\d+)(?:b(\d+))?", item)
        if not m or int(m.group(1)) not in S.DEPTHS or not 32 <= int(m.group(2)) <= 4096 \
                or (m.group(3) is not None and int(m.group(3)) < 1):
            raise ValueError(f"expected MODEL@RES[bBATCH] items such as rs50@160b8 (models rs50..rs420, "
                             f"resolutions 32..4096, batch >= 1), got '{item}'")
        c = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
        if c not in out:
            out.append(c)
    if not out:
        raise ValueError("no config given")
    return out


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="cpu_peers.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=DEFAULT_CONFIGS, help=f"MODEL@RES[bBATCH],... (default {DEFAULT_CONFIGS})")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--peers", default=",".join(PEERS), help="comma-separated, any of " + ", ".join(PEERS))
    p.add_argument("--warmup-ms", type=float, default=1000.0)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--duration-s", type=float, default=3.0)
    p.add_argument("--cache", default=os.path.join(REPO, ".bench-cpu-cache"), help="where the ONNX exports are kept")
    p.add_argument("--json", help="write the results here (resnetrs-bench-results schema)")
    p.add_argument("--worker", choices=PEERS + ("export",), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    try:
        a.configs = parse_configs(a.config)
    except ValueError as e:
        p.error(f"--config: {e}")
    try:
        a.thread_list = list(dict.fromkeys(int(t) for t in a.threads.split(",")))
    except ValueError:
        a.thread_list = []
    if not a.thread_list or min(a.thread_list) < 1:
        p.error(f"--threads: expected comma-separated positive integers, got '{a.threads}'")
    a.peer_list = list(dict.fromkeys(x.strip() for x in a.peers.split(",") if x.strip()))
    bad = [x for x in a.peer_list if x not in PEERS]
    if bad or not a.peer_list:
        p.error(f"--peers: expected a comma-separated list of {', '.join(PEERS)}, got '{a.peers}'")
    if a.iterations < 1 or a.warmup_ms < 0 or a.duration_s < 0:
        p.error("--iterations must be at least 1; --warmup-ms and --duration-s must not be negative")
    if a.worker and not a.json:
        p.error("--worker needs --json")
    return a


# ---- rows of the schema (pure) ----------------------------------------------------------------

def layout_of(peer: str) -> str:
    return "nhwc" if peer == "pytorch-eager-channels-last" else "nchw"


def base_row(peer: str, depth: int, res: int, batch: int, threads: int) -> Dict[str, Any]:
    return {"model": f"rs{depth}", "depth": depth, "resolution": res, "mode": peer, "precision": "fp32",
            "layout": layout_of(peer), "cuda_graph": False, "compile_mode": None, "weights": "timm-random-init",
            "batch_requested": batch, "batch": batch, "cpu_threads": threads}


def error_row(peer: str, config: Config, threads: int, message: str) -> Dict[str, Any]:
    return dict(base_row(peer, *config, threads), status="error", error=message)


def ok_row(peer: str, config: Config, threads: int, params: int, build_s: float, runs: Dict[str, Any],
           finite: bool, rel_diff: Optional[float], settings: Dict[str, Any]) -> Dict[str, Any]:
    depth, res, batch = config
    lat = [s[0] for s in runs["samples"]]
    return dict(base_row(peer, depth, res, batch, threads), status="ok", error=None,
                params_m=params / 1e6, gflops_per_image=S.release_gflops(depth, res),
                release_v100_train_step_s=S.release_v100_s(depth, res),
                warmup_iterations=runs["warmup_iterations"], warmup_s=runs["warmup_s"], iterations=len(lat),
                timed_s=runs["timed_s"], latency_ms=S.summarize(lat), host_ms=S.summarize(lat), enqueue_ms=None,
                images_per_s=batch * len(lat) / runs["timed_s"], build_s=build_s, load_s=None, tune_s=None,
                memory={"method": "none", "peak_bytes": None, "after_build_bytes": None, "after_runs_bytes": None,
                        "engine_bytes": None},
                outputs_finite=finite, settings=settings, samples_ms=lat,
                max_rel_diff_vs_torch=rel_diff if rel_diff is not None and math.isfinite(rel_diff) else None)


def make_document(rows: List[Dict[str, Any]], protocol: Dict[str, Any], software: Dict[str, Any],
                  command: str) -> Dict[str, Any]:
    cpu = cpu_machine.host_cpu()
    env = {"backend": "cpu", "device_name": cpu, "compute_capability": None, "sm_count": None,
           "device_memory_bytes": None, "driver_version": None, "cuda_runtime_version": None, "cudnn_version": None,
           "cublas_version": None, "host_cpu": cpu, "host_cores": cpu_machine.host_cores(), "software": software}
    return {"schema": S.SCHEMA, "schema_version": S.SCHEMA_VERSION,
            "producer": {"name": PRODUCER, "version": software.get("torch", "unknown")},
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": command,
            "environment": env, "protocol": protocol, "results": rows}


def protocol_of(a: argparse.Namespace) -> Dict[str, Any]:
    return {"warmup_ms": a.warmup_ms, "min_iterations": a.iterations, "min_duration_s": a.duration_s,
            "clock": "steady_clock", "data_transfers": "excluded", "synchronization": "per_iteration",
            "percentiles": "nearest_rank", "reduced_cpu_table": False}


FP32_REL_TOLERANCE = 1e-3  # fp32 runtimes agree to ~1e-6; bf16 arithmetic is ~1e-2 off


def not_fp32_message(rel: float) -> str:
    return (f"NOT_FP32: the logits differ from PyTorch eager fp32's by {rel:.2g} of the largest logit "
            f"(> {FP32_REL_TOLERANCE:g}): not strict fp32 arithmetic; the timing is kept in the row but not compared")


def judged(row: Dict[str, Any]) -> Dict[str, Any]:
    """A measured row turned into an error row when its logits were not finite or not fp32's
    (its timing stays in it, but no table compares it)."""
    rel = row["max_rel_diff_vs_torch"]  # None when it was not a number
    if not row["outputs_finite"]:
        row.update(status="error", error="NON_FINITE: the logits of the last run are not all finite")
    elif rel is None or not rel <= FP32_REL_TOLERANCE:
        row.update(status="error", error=not_fp32_message(float("nan") if rel is None else rel))
    return row


def relative_difference(np, y, reference) -> float:
    """max |y - reference| / max |reference|: about 1e-6 for two fp32 runs, 1e-2 for bf16."""
    scale = float(np.max(np.abs(reference)))
    return float(np.max(np.abs(y.astype(np.float64) - reference))) / (scale if scale > 0 else 1.0)


# ---- the worker (one peer, one thread count, every config) ------------------------------------

def worker(a: argparse.Namespace) -> int:
    import numpy as np
    import cpu_peer_runners as R
    from torch_peer import run_protocol  # the same loop as resnetrs-bench's (torch imported in main only)

    protocol = protocol_of(a)
    threads = a.thread_list[0]
    if a.worker == "export":
        metas = [R.export(a.cache, *c) for c in a.configs]
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"exports": metas}, f, indent=2)
        return 0
    software = {"python": platform.python_version(), "numpy": np.__version__}
    rows = []
    for config in a.configs:
        depth, res, batch = config
        name = f"{a.worker} RS-{depth} @{res} b{batch}, {threads} thread(s)"
        try:
            meta, d = read_export(R, a.cache, config)
            if a.worker.startswith("pytorch"):
                import torch
                import timm
                software.update(torch=torch.__version__, timm=timm.__version__)
                build = R.torch_eager(depth, res, batch, threads, a.worker.endswith("channels-last"))
            elif a.worker == "onnxruntime":
                import onnxruntime
                software["onnxruntime"] = onnxruntime.__version__
                build = R.onnxruntime(os.path.join(d, meta["onnx"]), batch, res, threads)
            else:
                import openvino
                software["openvino"] = openvino.__version__
                build = R.openvino(os.path.join(d, meta["onnx"]), batch, res, threads)
            t0 = time.perf_counter()
            run, settings = build()
            run()
            build_s = time.perf_counter() - t0
            out: Dict[str, Any] = {}

            def once():
                out["y"] = run()

            def iteration():
                t = time.perf_counter()
                once()
                ms = (time.perf_counter() - t) * 1e3
                return ms, ms, ms
            runs = run_protocol(protocol, once, iteration)
            y = np.array(out["y"], copy=True)
            finite = bool(np.isfinite(y).all())
            rel = relative_difference(np, y, np.load(os.path.join(d, "reference.npy")))
            if not a.worker.startswith("pytorch"):  # the runtimes that run the ONNX file
                settings = dict(settings, onnx_opset=meta["opset"])
            rows.append(judged(ok_row(a.worker, config, threads, meta["params"], build_s, runs, finite, rel, settings)))
            print(f"[peers] {name}: median {rows[-1]['latency_ms']['median']:.2f} ms per batch, "
                  f"{rows[-1]['latency_ms']['median'] / batch:.2f} ms per image, {len(runs['samples'])} runs, "
                  f"rel. diff vs torch {rel:.1e}", file=sys.stderr, flush=True)
        except Exception as e:  # noqa: BLE001 - one failed config must not stop the others
            traceback.print_exc()
            rows.append(error_row(a.worker, config, threads, f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
                                  if str(e) else type(e).__name__))
            print(f"[peers] {name}: FAILED: {rows[-1]['error']}", file=sys.stderr, flush=True)
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump({"software": software, "results": rows}, f)
    return 0


def read_export(R, cache: str, config: Config):
    """The export's meta.json and folder; the export step has made them. The versions that name
    the folder come from the installed packages' metadata (no import of torch here)."""
    from importlib.metadata import version
    d = R.export_dir(cache, *config, version("torch"), version("timm"))
    with open(os.path.join(d, "meta.json"), encoding="utf-8") as f:
        return json.load(f), d


# ---- the parent -------------------------------------------------------------------------------

def worker_command(a: argparse.Namespace, peer: str, threads: int, out: str) -> List[str]:
    return [sys.executable, os.path.abspath(__file__), "--worker", peer, "--threads", str(threads),
            "--config", ",".join(f"rs{d}@{r}b{b}" for d, r, b in a.configs), "--warmup-ms", str(a.warmup_ms),
            "--iterations", str(a.iterations), "--duration-s", str(a.duration_s), "--cache", a.cache, "--json", out]


def run_worker(a: argparse.Namespace, peer: str, threads: int) -> Optional[Dict[str, Any]]:
    """Runs a worker; its part document, or None with the reason printed."""
    out = os.path.join(a.cache, f"part-{peer}-t{threads}-{os.getpid()}.json")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    p = subprocess.run(worker_command(a, peer, threads, out), env=env)
    if p.returncode != 0 or not os.path.exists(out):
        print(f"[peers] {peer}, {threads} thread(s): the worker exited with status {p.returncode}", file=sys.stderr)
        return None
    with open(out, encoding="utf-8") as f:
        part = json.load(f)
    os.remove(out)
    return part


def write_json(path: str, doc: Dict[str, Any]) -> None:
    with open(path + ".partial", "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(path + ".partial", path)


def main(argv: List[str]) -> int:
    a = parse_args(argv)
    if a.worker:
        return worker(a)
    os.makedirs(a.cache, exist_ok=True)
    protocol = protocol_of(a)
    command = " ".join([os.path.basename(sys.argv[0])] + argv)
    software: Dict[str, Any] = {"python": platform.python_version(), "peers": a.peer_list}
    rows: List[Dict[str, Any]] = []
    t0 = time.perf_counter()
    print(f"[peers] exporting {len(a.configs)} config(s) to ONNX (cached in {a.cache})...", file=sys.stderr, flush=True)
    exports = run_worker(a, "export", cpu_machine.host_cores())  # not timed: every core
    if exports is None:
        print("cpu_peers.py: the ONNX export failed; nothing was timed", file=sys.stderr)
        return 1
    software["onnx_exports"] = {f"rs{m['depth']}@{m['resolution']}b{m['batch']}":
                                {k: m[k] for k in ("opset", "exporter", "export_s", "cached", "onnx_version")}
                                for m in exports["exports"]}
    for threads in a.thread_list:
        for peer in a.peer_list:
            part = run_worker(a, peer, threads)
            if part is None:
                rows += [error_row(peer, c, threads, "the worker process failed (see its output)") for c in a.configs]
            else:
                software.update(part["software"])
                rows += part["results"]
            if a.json:  # after every worker: a run stopped by a time limit keeps what it measured
                write_json(a.json, make_document(rows, protocol, software, command))
    doc = make_document(rows, protocol, software, command)
    S.validate(doc, "cpu_peers.py's own output")
    for r in rows:
        head = f"{r['mode']:<28} RS-{r['depth']:<4} @{r['resolution']:<4} b{r['batch']:<3} {r['cpu_threads']} thread(s)"
        if r["status"] == "ok":
            print(f"{head}  {r['latency_ms']['median']:9.2f} ms/batch  {r['latency_ms']['median'] / r['batch']:8.2f} "
                  f"ms/image  rel.diff {r['max_rel_diff_vs_torch']:.1e}")
        else:
            print(f"{head}  error: {r['error']}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    if a.json:
        write_json(a.json, doc)
        print(f"results written to {a.json}")
    failed = [r for r in rows if r["status"] != "ok" or not r["outputs_finite"]]
    if failed:
        print(f"cpu_peers.py: {len(failed)} of {len(rows)} run(s) failed or gave non-finite logits", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
