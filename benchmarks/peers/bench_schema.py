"""The JSON schema shared by resnetrs-bench (--json) and torch_peer.py, and the statistics both
compute. Schema "resnetrs-bench-results", version 1; docs/benchmarks.md describes every field.

Used by join_results.py to check its inputs, by torch_peer.py to check what it writes, and by
tests/python/test_bench_cli.py to check both producers. Standard library only.
"""
from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Sequence

SCHEMA = "resnetrs-bench-results"
SCHEMA_VERSION = 1

# The 11 release configs: (depth, resolution, GMACs per image, release V100 "latency" in s).
# GMACs from resnetrs-architecture.md §6 (the engine computes its own; these serve the peer).
# The V100 figure is a TRAINING step time at batch 128 (halved until it fit), fp32: not an
# inference latency, and reported only in a column that says so.
RELEASE_CONFIGS = [
    (50, 160, 2.28, 0.31), (101, 160, 4.18, 0.48), (101, 192, 6.01, 0.70), (152, 192, 8.75, 0.99),
    (152, 224, 11.90, 1.48), (152, 256, 15.53, 1.76), (200, 256, 20.09, 2.86), (270, 256, 26.95, 3.76),
    (350, 256, 34.38, 4.72), (350, 320, 53.68, 8.48), (420, 320, 63.94, 10.16),
]
DEPTHS = (50, 101, 152, 200, 270, 350, 420)
PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "fp32x3")  # fp32x3: ours only (split-TF32, fp32 accuracy)
# The precision of the peer a series is compared with: fp32x3 is an fp32-accurate mode, so its
# peer is strict fp32 (issue 18's goal: fp32x3 <= 0.4x PyTorch eager fp32).
PEER_PRECISION = {"fp32x3": "fp32"}


def peer_precision(precision: str) -> str:
    return PEER_PRECISION.get(precision, precision)
LAYOUTS = ("nchw", "nhwc")
STAT_KEYS = ("median", "mean", "min", "max", "p90", "p95", "p99")


class SchemaError(ValueError):
    """A document that does not follow the schema; the message lists every problem found."""


def release_v100_s(depth: int, resolution: int):
    for d, r, _, v in RELEASE_CONFIGS:
        if (d, r) == (depth, resolution):
            return v
    return None


def release_gflops(depth: int, resolution: int):
    """2 x GMACs of a release config; other resolutions scale from the depth's first config by
    area (convolutions dominate), which is close but not exact."""
    first = None
    for d, r, g, _ in RELEASE_CONFIGS:
        if d == depth and r == resolution:
            return 2.0 * g
        if d == depth and first is None:
            first = (r, g)
    if first is None:
        return None
    r0, g0 = first
    return 2.0 * g0 * (resolution / r0) ** 2


def percentile(sorted_samples: Sequence[float], p: int) -> float:
    """Nearest rank: the smallest sample with at least p% of the samples at or below it
    (integer arithmetic, the same as resnetrs-bench's stats.cpp)."""
    n = len(sorted_samples)
    rank = (p * n + 99) // 100
    return sorted_samples[min(n, max(rank, 1)) - 1]


def summarize(samples: Sequence[float]) -> Dict[str, float]:
    if not samples:
        raise ValueError("no samples to summarize")
    s = sorted(float(x) for x in samples)
    n = len(s)
    median = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
    return {"median": median, "mean": sum(s) / n, "min": s[0], "max": s[-1],
            "p90": percentile(s, 90), "p95": percentile(s, 95), "p99": percentile(s, 99)}


# ---- validation -------------------------------------------------------------------------------

_NUM = "number"
_INT = "integer"
_STR = "string"
_BOOL = "boolean"
_OBJ = "object"
_LIST = "array"


def _type_ok(value: Any, kind: str) -> bool:
    if kind == _NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _STR:
        return isinstance(value, str)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _OBJ:
        return isinstance(value, dict)
    if kind == _LIST:
        return isinstance(value, list)
    raise AssertionError(kind)


def _check(obj: Dict[str, Any], spec: Dict[str, Any], where: str, problems: List[str], optional: bool = False) -> None:
    """spec: key -> kind, or (kind, 'null') when null is allowed too. optional: a missing key is fine."""
    for key, kind in spec.items():
        nullable = isinstance(kind, tuple)
        kind = kind[0] if nullable else kind
        if key not in obj:
            if not optional:
                problems.append(f"{where}: missing key '{key}'")
            continue
        v = obj[key]
        if v is None and nullable:
            continue
        if not _type_ok(v, kind):
            problems.append(f"{where}.{key}: expected {kind}{' or null' if nullable else ''}, found {json.dumps(v)[:60]}")


TOP = {"schema": _STR, "schema_version": _INT, "producer": _OBJ, "created_utc": _STR, "command": _STR,
       "environment": _OBJ, "protocol": _OBJ, "results": _LIST}
PRODUCER = {"name": _STR, "version": _STR}
ENVIRONMENT = {"backend": _STR, "device_name": _STR, "compute_capability": (_STR, None), "sm_count": (_INT, None),
               "device_memory_bytes": (_INT, None), "driver_version": (_STR, None),
               "cuda_runtime_version": (_STR, None), "cudnn_version": (_STR, None), "cublas_version": (_STR, None),
               "host_cpu": _STR, "host_cores": _INT, "software": _OBJ}
PROTOCOL = {"warmup_ms": _NUM, "min_iterations": _INT, "min_duration_s": _NUM, "clock": _STR,
            "data_transfers": _STR, "synchronization": _STR, "percentiles": _STR, "reduced_cpu_table": _BOOL}
RESULT_COMMON = {"model": _STR, "depth": _INT, "resolution": _INT, "mode": _STR, "precision": _STR, "layout": _STR,
                 "cuda_graph": _BOOL, "weights": _STR, "batch_requested": _INT, "batch": _INT, "status": _STR,
                 "error": (_STR, None)}
RESULT_OK = {"params_m": _NUM, "gflops_per_image": (_NUM, None), "release_v100_train_step_s": (_NUM, None),
             "warmup_iterations": _INT, "warmup_s": _NUM, "iterations": _INT, "timed_s": _NUM,
             "latency_ms": _OBJ, "host_ms": _OBJ, "enqueue_ms": (_OBJ, None), "images_per_s": _NUM,
             "build_s": _NUM, "load_s": (_NUM, None), "tune_s": (_NUM, None), "memory": _OBJ,
             "outputs_finite": (_BOOL, None), "samples_ms": _LIST}
MEMORY = {"method": _STR, "peak_bytes": (_INT, None), "after_build_bytes": (_INT, None),
          "after_runs_bytes": (_INT, None), "engine_bytes": (_INT, None)}
# Optional keys, checked when present (torch_peer writes compile_*; resnetrs-bench the backend and
# the CPU backend's threads and Winograd mode; older files lack them).
RESULT_OPTIONAL = {"compile_mode": (_STR, None), "compile_s": (_NUM, None), "backend": _STR,
                   "cpu_threads": (_INT, None), "cpu_winograd": (_STR, None)}
# The processor's instruction-set flags among CPU_ISA_FLAGS, and RESNETRS_CPU_ISA when it was set.
ENVIRONMENT_OPTIONAL = {"host_cpu_flags": _LIST, "cpu_isa_env": (_STR, None)}
CPU_ISA_FLAGS = ("avx2", "fma", "avx512f")
WINOGRAD_MODES = ("auto", "off", "fast")
MEMORY_OPTIONAL = {"steady_peak_bytes": (_INT, None)}
SUMMARY = {k: _NUM for k in STAT_KEYS}


def _ordered(*xs: float) -> bool:
    """xs ascending, allowing for rounding: writers print ~10 significant digits, and a mean of
    equal samples can differ from them in the last bit."""
    return all(a <= b + 1e-6 * max(1.0, abs(b)) for a, b in zip(xs, xs[1:]))


def _check_summary(s: Dict[str, Any], where: str, problems: List[str]) -> None:
    _check(s, SUMMARY, where, problems)
    if all(_type_ok(s.get(k), _NUM) for k in STAT_KEYS):
        if not _ordered(s["min"], s["median"], s["max"]) or not _ordered(s["min"], s["mean"], s["max"]):
            problems.append(f"{where}: expected min <= median, mean <= max, found {s}")
        if not _ordered(s["min"], s["p90"], s["p95"], s["p99"], s["max"]):
            problems.append(f"{where}: expected min <= p90 <= p95 <= p99 <= max, found {s}")


def validation_problems(doc: Any) -> List[str]:
    """Every way `doc` departs from the schema (empty when it follows it)."""
    problems: List[str] = []
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    _check(doc, TOP, "$", problems)
    if doc.get("schema") != SCHEMA:
        problems.append(f"$.schema: expected '{SCHEMA}', found {doc.get('schema')!r}")
    if doc.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"$.schema_version: expected {SCHEMA_VERSION}, found {doc.get('schema_version')!r}")
    if isinstance(doc.get("producer"), dict):
        _check(doc["producer"], PRODUCER, "$.producer", problems)
    if isinstance(doc.get("environment"), dict):
        _check(doc["environment"], ENVIRONMENT, "$.environment", problems)
        if doc["environment"].get("backend") not in ("cuda", "cpu"):
            problems.append("$.environment.backend: expected 'cuda' or 'cpu'")
        _check(doc["environment"], ENVIRONMENT_OPTIONAL, "$.environment", problems, optional=True)
        flags = doc["environment"].get("host_cpu_flags")
        if isinstance(flags, list) and not all(f in CPU_ISA_FLAGS for f in flags):
            problems.append(f"$.environment.host_cpu_flags: expected a list of {CPU_ISA_FLAGS}, found {flags}")
    if isinstance(doc.get("protocol"), dict):
        _check(doc["protocol"], PROTOCOL, "$.protocol", problems)
        if doc["protocol"].get("clock") not in ("cuda_event", "steady_clock"):
            problems.append("$.protocol.clock: expected 'cuda_event' or 'steady_clock'")
    for i, r in enumerate(doc.get("results") or []):
        where = f"$.results[{i}]"
        if not isinstance(r, dict):
            problems.append(f"{where}: not an object")
            continue
        _check(r, RESULT_COMMON, where, problems)
        _check(r, RESULT_OPTIONAL, where, problems, optional=True)
        if "backend" in r and r["backend"] not in ("cuda", "cpu"):
            problems.append(f"{where}.backend: expected 'cuda' or 'cpu', found {r['backend']!r}")
        if _type_ok(r.get("cpu_threads"), _INT) and not 0 <= r["cpu_threads"] <= 1024:
            problems.append(f"{where}.cpu_threads: expected 0..1024 or null, found {r['cpu_threads']}")
        if r.get("cpu_winograd") is not None and r.get("cpu_winograd") not in WINOGRAD_MODES:
            problems.append(f"{where}.cpu_winograd: expected one of {WINOGRAD_MODES} or null, "
                            f"found {r['cpu_winograd']!r}")
        if r.get("depth") not in DEPTHS:
            problems.append(f"{where}.depth: expected one of {DEPTHS}, found {r.get('depth')!r}")
        if r.get("precision") not in PRECISIONS:
            problems.append(f"{where}.precision: expected one of {PRECISIONS}, found {r.get('precision')!r}")
        if r.get("layout") not in LAYOUTS:
            problems.append(f"{where}.layout: expected one of {LAYOUTS}, found {r.get('layout')!r}")
        if _type_ok(r.get("batch"), _INT) and _type_ok(r.get("batch_requested"), _INT):
            if not 1 <= r["batch"] <= r["batch_requested"]:
                problems.append(f"{where}: expected 1 <= batch <= batch_requested")
        status = r.get("status")
        if status == "error":
            if not r.get("error"):
                problems.append(f"{where}: status 'error' needs an error message")
            continue
        if status != "ok":
            problems.append(f"{where}.status: expected 'ok' or 'error', found {status!r}")
            continue
        _check(r, RESULT_OK, where, problems)
        for key in ("latency_ms", "host_ms", "enqueue_ms"):
            if isinstance(r.get(key), dict):
                _check_summary(r[key], f"{where}.{key}", problems)
        if isinstance(r.get("memory"), dict):
            _check(r["memory"], MEMORY, f"{where}.memory", problems)
            _check(r["memory"], MEMORY_OPTIONAL, f"{where}.memory", problems, optional=True)
        samples = r.get("samples_ms")
        if isinstance(samples, list):
            if not all(_type_ok(x, _NUM) for x in samples):
                problems.append(f"{where}.samples_ms: expected numbers")
            elif _type_ok(r.get("iterations"), _INT) and len(samples) != r["iterations"]:
                problems.append(f"{where}: {len(samples)} samples_ms for {r['iterations']} iterations")
    return problems


def validate(doc: Any, origin: str = "document") -> None:
    problems = validation_problems(doc)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise SchemaError(f"{origin} does not follow the {SCHEMA} v{SCHEMA_VERSION} schema:\n  {shown}{more}")


def read_json(path: str) -> Any:
    """Reads a JSON file; raises OSError (missing file) or SchemaError (not JSON) naming the path."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise OSError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise SchemaError(f"{path}: not JSON ({e})") from None


def load(path: str) -> Dict[str, Any]:
    """Reads and validates a results file; raises SchemaError or OSError with a clear message."""
    doc = read_json(path)
    validate(doc, path)
    return doc
