#!/usr/bin/env python3
"""The machine's SGEMM ceiling: a 2048 x 2048 x 2048 float32 matrix product timed with numpy
(OpenBLAS) and torch.mm (PyTorch's CPU BLAS, MKL in PyPI's wheels) on a given number of threads.
GFLOP/s = 2 n^3 / time. The ceiling of a thread count is the faster library's median; the table
of the CPU benchmark (join_cpu_results.py) turns it into a time per image for a model's GFLOPs.

  sgemm_ceiling.py --threads 1,2 --json sgemm.json [--n 2048] [--warmup-ms 1000] [--iterations 10]
                   [--duration-s 3]

Each library and thread count runs in a process of its own, with OMP/MKL/OpenBLAS thread counts
set before the import. numpy's process runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed
from its environment (some machines set them for old OpenBLAS builds, and they slow a current one);
the OpenBLAS kernel it then picks is reported (threadpoolctl). Protocol as the benchmarks': warm-up
by wall time, then at least N runs and S seconds. Each product is checked against float64 dot
products at 16 random entries (relative error <= 1e-4), so a wrong kernel cannot pass as fast.

Exit status: 0 success, 1 a measurement failed (the document still lists what was measured), 2 bad
flags.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_schema as S  # noqa: E402
import cpu_machine  # noqa: E402

SCHEMA = "resnetrs-sgemm-ceiling"
SCHEMA_VERSION = 1
LIBRARIES = ("numpy", "torch")
UNSET_FOR_NUMPY = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
CHECK_ENTRIES = 16
CHECK_RTOL = 1e-4


def gemm_flop(n: int) -> float:
    """Floating-point operations of an n x n x n matrix product: n^3 multiply-adds, 2 each."""
    return 2.0 * float(n) ** 3


def gflops(n: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError(f"a matrix product cannot take {seconds} s")
    return gemm_flop(n) / seconds / 1e9


def ceiling_ms(gflop: float, ceiling_gflops: float) -> float:
    """The time `gflop` GFLOP take at the ceiling, in ms."""
    if ceiling_gflops <= 0:
        raise ValueError(f"a ceiling of {ceiling_gflops} GFLOP/s")
    return gflop / ceiling_gflops * 1e3


def ceilings(results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Per thread count, the library with the highest median GFLOP/s among the successful ones,
    with every library's figure beside it."""
    out = []
    for t in sorted({r["threads"] for r in results}):
        ok = [r for r in results if r["threads"] == t and r["status"] == "ok"]
        if not ok:
            continue
        best = max(ok, key=lambda r: r["gflops_median"])
        out.append({"threads": t, "gflops": best["gflops_median"], "library": best["library"],
                    "by_library": {r["library"]: r["gflops_median"] for r in ok}})
    return out


def ceiling_for(doc: Dict[str, Any], threads: int) -> Optional[float]:
    for c in doc.get("ceiling", []):
        if c["threads"] == threads:
            return c["gflops"]
    return None


def validation_problems(doc: Any) -> List[str]:
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    problems = []
    if doc.get("schema") != SCHEMA or doc.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"$.schema: expected '{SCHEMA}' version {SCHEMA_VERSION}, found "
                        f"{doc.get('schema')!r} version {doc.get('schema_version')!r}")
    if not isinstance(doc.get("n"), int) or doc["n"] < 1:
        problems.append("$.n: expected a positive integer")
    for i, r in enumerate(doc.get("results") if isinstance(doc.get("results"), list) else []):
        where = f"$.results[{i}]"
        if not isinstance(r, dict):
            problems.append(f"{where}: not an object")
            continue
        if r.get("library") not in LIBRARIES:
            problems.append(f"{where}.library: expected one of {LIBRARIES}, found {r.get('library')!r}")
        if not isinstance(r.get("threads"), int) or r["threads"] < 1:
            problems.append(f"{where}.threads: expected a positive integer")
        if r.get("status") == "ok":
            for k in ("gflops_median", "gflops_best"):
                v = r.get(k)
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
                    problems.append(f"{where}.{k}: expected a positive number, found {v!r}")
            if not isinstance(r.get("time_ms"), dict):
                problems.append(f"{where}.time_ms: expected the latency summary")
        elif r.get("status") == "error":
            if not r.get("error"):
                problems.append(f"{where}: status 'error' needs an error message")
        else:
            problems.append(f"{where}.status: expected 'ok' or 'error', found {r.get('status')!r}")
    if not isinstance(doc.get("results"), list):
        problems.append("$.results: expected a list")
    if not isinstance(doc.get("ceiling"), list):
        problems.append("$.ceiling: expected a list")
    return problems


def load(path: str) -> Dict[str, Any]:
    doc = S.read_json(path)
    problems = validation_problems(doc)
    if problems:
        raise S.SchemaError(f"{path} does not follow the {SCHEMA} v{SCHEMA_VERSION} schema:\n  " + "\n  ".join(problems))
    return doc


# ---- measuring (in the worker processes) -----------------------------------------------------------

def time_protocol(protocol: Dict[str, Any], call: Callable[[], None]) -> Dict[str, Any]:
    t0 = time.perf_counter()
    n_warm = 0
    while True:
        call()
        n_warm += 1
        if (time.perf_counter() - t0) * 1e3 >= protocol["warmup_ms"]:
            break
    samples: List[float] = []
    t1 = time.perf_counter()
    while len(samples) < protocol["min_iterations"] or time.perf_counter() - t1 < protocol["min_duration_s"]:
        s = time.perf_counter()
        call()
        samples.append((time.perf_counter() - s) * 1e3)
    return {"warmup_iterations": n_warm, "samples_ms": samples}


def check_product(np, a, b, c, seed: int = 1) -> float:
    """The largest relative error of c = a @ b at CHECK_ENTRIES random entries against float64."""
    rng = np.random.default_rng(seed)
    n = a.shape[0]
    worst = 0.0
    for i, j in zip(rng.integers(0, n, CHECK_ENTRIES), rng.integers(0, n, CHECK_ENTRIES)):
        exact = float(np.dot(a[i, :].astype(np.float64), b[:, j].astype(np.float64)))
        scale = float(np.dot(np.abs(a[i, :]).astype(np.float64), np.abs(b[:, j]).astype(np.float64)))
        worst = max(worst, abs(float(c[i, j]) - exact) / scale)
    return worst


def measure_numpy(n: int, threads: int, protocol: Dict[str, Any]) -> Dict[str, Any]:
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    a, b = [np.random.default_rng(s).standard_normal((n, n), dtype=np.float32) for s in (2, 3)]
    c = np.empty((n, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        runs = time_protocol(protocol, lambda: np.matmul(a, b, out=c))
    info = blas[0] if blas else {}
    return dict(runs, max_rel_error=check_product(np, a, b, c), software={
        "numpy": np.__version__, "blas": info.get("internal_api"), "blas_version": info.get("version"),
        "kernel": info.get("architecture"), "blas_threads": info.get("num_threads"),
        "blas_library": os.path.basename(info.get("filepath", "")) or None,
        "unset": [k for k in UNSET_FOR_NUMPY], "env_now": {k: os.environ.get(k) for k in UNSET_FOR_NUMPY}})


def measure_torch(n: int, threads: int, protocol: Dict[str, Any]) -> Dict[str, Any]:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    torch.set_float32_matmul_precision("highest")  # strict fp32: no bf16/TF32 shortcuts
    a, b = [torch.from_numpy(np.random.default_rng(s).standard_normal((n, n), dtype=np.float32)) for s in (2, 3)]
    c = torch.empty((n, n), dtype=torch.float32)
    with torch.inference_mode():
        runs = time_protocol(protocol, lambda: torch.mm(a, b, out=c))
    config = torch.__config__.show()
    blas = next((line.split("=", 1)[1].strip() for line in config.splitlines() if "BLAS_INFO=" in line), None)
    blas = blas.split(",")[0] if blas else None
    return dict(runs, max_rel_error=check_product(np, a.numpy(), b.numpy(), c.numpy()), software={
        "torch": torch.__version__, "blas": blas, "mkl": bool(torch.backends.mkl.is_available()),
        "threads": torch.get_num_threads(), "float32_matmul_precision": torch.get_float32_matmul_precision()})


def result_from(library: str, threads: int, n: int, raw: Dict[str, Any]) -> Dict[str, Any]:
    """A results entry from a worker's raw measurement (pure)."""
    summary = S.summarize(raw["samples_ms"])
    r = {"library": library, "threads": threads, "status": "ok", "error": None,
         "warmup_iterations": raw["warmup_iterations"], "iterations": len(raw["samples_ms"]),
         "time_ms": summary, "gflops_median": gflops(n, summary["median"] / 1e3),
         "gflops_best": gflops(n, summary["min"] / 1e3), "max_rel_error": raw["max_rel_error"],
         "software": raw["software"], "samples_ms": raw["samples_ms"]}
    if not raw["max_rel_error"] <= CHECK_RTOL:
        r.update(status="error", error=f"WRONG_RESULT: relative error {raw['max_rel_error']:.3g} > {CHECK_RTOL:g} "
                 "against float64 at sampled entries")
    return r


def worker_env(library: str, threads: int, base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a worker: `base` (default: ours) with the thread counts set, and for numpy
    without the OpenBLAS overrides."""
    env = dict(os.environ if base is None else base, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    if library == "numpy":
        for k in UNSET_FOR_NUMPY:
            env.pop(k, None)
    return env


def run_worker(library: str, threads: int, n: int, protocol: Dict[str, Any]) -> Dict[str, Any]:
    """Runs one measurement in a fresh process (its own environment and thread pools)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "raw.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", library, "--threads", str(threads),
               "--n", str(n), "--warmup-ms", str(protocol["warmup_ms"]), "--iterations",
               str(protocol["min_iterations"]), "--duration-s", str(protocol["min_duration_s"]), "--json", out]
        p = subprocess.run(cmd, env=worker_env(library, threads), capture_output=True, text=True)
        if p.returncode != 0 or not os.path.exists(out):
            tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
            return {"library": library, "threads": threads, "status": "error",
                    "error": f"worker exited with status {p.returncode}: {tail}"}
        with open(out, encoding="utf-8") as f:
            return result_from(library, threads, n, json.load(f))


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="sgemm_ceiling.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--libraries", default=",".join(LIBRARIES), help="comma-separated: numpy, torch")
    p.add_argument("--n", type=int, default=2048, help="matrix size (default 2048)")
    p.add_argument("--warmup-ms", type=float, default=1000.0)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--duration-s", type=float, default=3.0)
    p.add_argument("--json", help="write the document here")
    p.add_argument("--worker", choices=LIBRARIES, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    try:
        a.thread_list = [int(t) for t in a.threads.split(",")]
    except ValueError:
        p.error(f"--threads: expected comma-separated positive integers, got '{a.threads}'")
    if not a.thread_list or min(a.thread_list) < 1:
        p.error(f"--threads: expected comma-separated positive integers, got '{a.threads}'")
    a.library_list = [x for x in a.libraries.split(",") if x]
    if not a.library_list or any(x not in LIBRARIES for x in a.library_list):
        p.error(f"--libraries: expected a comma-separated list of {', '.join(LIBRARIES)}")
    if a.n < 16 or a.iterations < 1 or a.warmup_ms < 0 or a.duration_s < 0:
        p.error("--n must be >= 16, --iterations >= 1, --warmup-ms and --duration-s >= 0")
    if a.worker and not a.json:
        p.error("--worker needs --json")
    return a


def main(argv: List[str]) -> int:
    a = parse_args(argv)
    protocol = {"warmup_ms": a.warmup_ms, "min_iterations": a.iterations, "min_duration_s": a.duration_s,
                "clock": "steady_clock", "percentiles": "nearest_rank"}
    if a.worker:
        measure = measure_numpy if a.worker == "numpy" else measure_torch
        raw = measure(a.n, a.thread_list[0], protocol)
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(raw, f)
        return 0
    results = []
    for t in a.thread_list:
        for lib in a.library_list:
            print(f"[sgemm] {lib}, {t} thread(s), {a.n}^3 float32...", file=sys.stderr, flush=True)
            r = run_worker(lib, t, a.n, protocol)
            results.append(r)
            if r["status"] == "ok":
                print(f"[sgemm] {lib}, {t} thread(s): median {r['time_ms']['median']:.1f} ms = "
                      f"{r['gflops_median']:.1f} GFLOP/s (best {r['gflops_best']:.1f}), "
                      f"{r['software'].get('blas')} {r['software'].get('kernel') or ''}".rstrip(),
                      file=sys.stderr, flush=True)
            else:
                print(f"[sgemm] {lib}, {t} thread(s): FAILED: {r['error']}", file=sys.stderr, flush=True)
    doc = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION,
           "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "command": " ".join([os.path.basename(sys.argv[0])] + argv), "n": a.n,
           "host_cpu": cpu_machine.host_cpu(), "host_cores": cpu_machine.host_cores(),
           "protocol": protocol, "results": results, "ceiling": ceilings(results)}
    problems = validation_problems(doc)
    if problems:
        raise AssertionError("sgemm_ceiling.py's own output breaks its schema: " + "; ".join(problems))
    for c in doc["ceiling"]:
        others = ", ".join(f"{k} {v:.1f}" for k, v in c["by_library"].items())
        print(f"SGEMM ceiling, {c['threads']} thread(s): {c['gflops']:.1f} GFLOP/s ({c['library']}; {others})")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
