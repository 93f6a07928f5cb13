#!/usr/bin/env python3
"""The GPU machine's one prepared check (scripts/device-check is its entry point).

Runs every GPU check from the device pack that scripts/device-pack made here (.device/), with
nothing built there (the GPU machine has no cuDNN or HDF5 headers and installs nothing):

  device-check OUTDIR          run the plan; logs, JSON and the summary go to OUTDIR
  device-check --plan          print the plan (each step, its time limit, what it needs) and exit
  device-check --only a,b OUTDIR   run only these steps (a rerun of what failed)
  device-check --release-table OUTDIR   another run: the 11 release configs, ours in every
                               precision beside PyTorch eager (--plan --release-table shows it)

Steps run in order of importance, each under its own time limit (its process group is killed
when the limit passes), all of them together within PLAN_LIMIT_S (9 minutes: issue 19), the
issue-18 part (GPU tests, C API, benchmarks, joined table) within BENCH_PART_LIMIT_S (8 minutes).
A step is PASS (exit 0), SKIP (exit 77, or an input it needs is absent: its reason is written)
or FAIL (any other exit, or its time limit). Our binaries get the pack's libraries on
LD_LIBRARY_PATH (and the torch wheel's cuBLAS/cuDNN where the machine's loader does not find
them: said in the environment section); the Python steps do not (torch keeps its own).

OUTDIR receives only a handful of files (the device tool returns few): summary.txt, results.tgz
(every log and JSON), joined.md, chart.png; they are rewritten after every step, so a run cut
short still returns what it did. Standard library only (the GPU machine's Python 3.12).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

PLAN_LIMIT_S = 540        # issue 19: every step together within 9 minutes
BENCH_PART_LIMIT_S = 480  # issue 18: tests, benchmarks and the table within 8 minutes
SKIP_EXIT = 77            # "skipped" (resnetrs_tests_gpu without a device, a hook's checks)
TIMEOUT_EXIT = 124
GRACE_S = 5               # SIGTERM, then SIGKILL after this

# What the benchmarks cover (issue 18 item 6). Ours run with --backend cuda: without a usable
# device resnetrs-bench then fails at once instead of timing the CPU backend until the limit.
CONFIGS = (("rs50", 160), ("rs152", 256), ("rs420", 320))
BATCHES = (128, 1)
OUR_PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "fp32x3")
TORCH_PRECISIONS = ("fp32", "tf32", "fp16", "bf16")
COMPILED = {"config": ("rs50", 160), "batches": (128, 1), "precisions": ("fp16", "tf32"), "mode": "max-autotune"}
# The same protocol on both sides: warm-up 200 ms, then >= 10 runs and >= 0.5 s.
PROTOCOL_ARGS = ["--warmup-ms", "200", "--iterations", "10", "--duration-s", "0.5"]
# Our steps' time limits per (config, batch): five precisions, each built (tuned) and timed.
OUR_LIMITS_S = {("rs50", 128): 20, ("rs152", 128): 25, ("rs420", 128): 35, ("rs50", 1): 10, ("rs152", 1): 10,
                ("rs420", 1): 10}

# Libraries our binaries may take from the torch wheel when the machine's loader lacks them.
WHEEL_LIB_PREFIXES = ("libcudnn", "libcublas")


@dataclass
class Step:
    """One check: a command run under a time limit, or (env) a function of the runner."""
    name: str
    limit_s: int
    argv: List[str]
    kind: str                  # "ours": pack libraries on LD_LIBRARY_PATH; "python": not; "internal"
    part: str                  # "bench" (issue 18) or "hooks" (issue 19's optional checks)
    what: str                  # one line for the plan and the summary
    needs: List[str] = field(default_factory=list)  # paths that must exist, else SKIP
    extra_env: Dict[str, str] = field(default_factory=dict)
    outputs: List[str] = field(default_factory=list)  # files the step writes (JSON for the join)
    inputs: List[str] = field(default_factory=list)   # files used where present (dropped from argv if
                                                      # absent); SKIP when none is there

    @property
    def log(self) -> str:
        return self.name + ".log"


@dataclass
class Outcome:
    name: str
    status: str                # PASS | FAIL | SKIP | NOT RUN
    rc: Optional[int]
    seconds: float
    limit_s: int
    reason: str


# ---- the plan -----------------------------------------------------------------------------------

def our_json(out: str, model: str, res: int, batch: int) -> str:
    return os.path.join(out, f"ours_{model}_{res}_b{batch}.json")


def plan(pack: str, out: str, root: str, python: str = "python3", chart: bool = True) -> List[Step]:
    """Every step, in order of importance. `pack`: the unpacked pack (bin/, lib/, python/,
    triton/); `out`: the work folder for logs and JSON; `root`: the repository checkout; `chart`:
    whether the join draws the PNG (matplotlib importable: not a package the GPU machine promises)."""
    bench = os.path.join(pack, "bin", "resnetrs-bench")
    peer = os.path.join(root, "benchmarks", "peers", "torch_peer.py")
    steps = [
        Step("environment", 15, [], "internal", "bench",
             "unpack the pack, GPU and driver (nvidia-smi), libraries each binary resolves (ldd), cuBLAS/cuDNN source"),
        # Two steps, so that a limit reached by the (estimated 2-4 min) precision tests does not hide
        # the others; together they are the whole resnetrs_tests_gpu.
        Step("gpu_tests", 80, [os.path.join(pack, "bin", "resnetrs_tests_gpu"), "--durations", "yes", "~[precision]"],
             "ours", "bench", "resnetrs_tests_gpu but [precision]: kernels (fp32 and 16-bit), conv paths, every depth vs "
             "the CPU engine, the Model Garden variant, arena, graphs per batch",
             needs=[os.path.join(pack, "bin", "resnetrs_tests_gpu")]),
        Step("gpu_tests_precision", 105,
             [os.path.join(pack, "bin", "resnetrs_tests_gpu"), "--durations", "yes", "[precision]"], "ours", "bench",
             "resnetrs_tests_gpu [precision]: fp16/bf16/fp32x3 at every depth vs the CPU storage emulation and float64",
             needs=[os.path.join(pack, "bin", "resnetrs_tests_gpu")]),
        Step("api_cuda", 20, [os.path.join(pack, "bin", "resnetrs_tests_api"), "--require-cuda", "[cuda]"], "ours",
             "bench", "the C API's CUDA tests", needs=[os.path.join(pack, "bin", "resnetrs_tests_api")]),
    ]
    for batch in BATCHES:
        for model, res in CONFIGS:
            js = our_json(out, model, res, batch)
            steps.append(Step(
                f"ours_{model}_{res}_b{batch}", OUR_LIMITS_S[(model, batch)],
                [bench, "--backend", "cuda", "--model", model, "--res", str(res), "--batch", str(batch), "--precision",
                 ",".join(OUR_PRECISIONS), *PROTOCOL_ARGS, "--tuning-cache", os.path.join(out, "tuning.cache"),
                 "--json", js],
                "ours", "bench", f"resnetrs-bench {model}@{res} batch {batch}, {', '.join(OUR_PRECISIONS)}",
                needs=[bench], outputs=[js]))
    configs = ",".join(f"{m}@{r}" for m, r in CONFIGS)
    for batch, limit in ((128, 45), (1, 25)):
        js = os.path.join(out, f"torch_eager_b{batch}.json")
        steps.append(Step(
            f"torch_eager_b{batch}", limit,
            [python, peer, "--config", configs, "--batch", str(batch), "--mode", ",".join(TORCH_PRECISIONS),
             *PROTOCOL_ARGS, "--budget-s", str(limit - 15), "--json", js],
            "python", "bench", f"PyTorch eager (timm), {configs} batch {batch}, {', '.join(TORCH_PRECISIONS)}",
            needs=[peer], outputs=[js]))
    m, r = COMPILED["config"]
    js = os.path.join(out, "torch_compiled.json")
    steps.append(Step(
        "torch_compiled", 60,
        [python, peer, "--config", f"{m}@{r}", "--batch", ",".join(map(str, COMPILED["batches"])), "--mode",
         ",".join(COMPILED["precisions"]), "--compile-mode", COMPILED["mode"], "--no-eager", *PROTOCOL_ARGS,
         "--budget-s", "30", "--json", js],
        "python", "bench",
        f"PyTorch torch.compile({COMPILED['mode']}) {m}@{r} batch {'/'.join(map(str, COMPILED['batches']))}, "
        f"{', '.join(COMPILED['precisions'])}; no new compile after 30 s (each takes tens of seconds)",
        needs=[peer], outputs=[js]))
    json_inputs = [o for s in steps for o in s.outputs]
    png = ["--png", os.path.join(out, "chart.png")] if chart else []
    steps.append(Step(
        "join", 15,
        [python, os.path.join(root, "benchmarks", "peers", "join_results.py"), *json_inputs, "--markdown",
         os.path.join(out, "joined.md"), *png, "--json", os.path.join(out, "joined.json")],
        "python", "bench", "one table: ours and PyTorch per config, batch and precision, ratios and peak memory"
        + ("" if chart else " (no chart: matplotlib is not importable here)"),
        needs=[os.path.join(root, "benchmarks", "peers", "join_results.py")], inputs=json_inputs))
    # Optional hooks (issue 19): present only when their device-pack hook built something.
    pycheck = os.path.join(root, "tests", "gpu_python", "run_gpu_python_checks.py")
    steps.append(Step(
        "python_checks", 30, [python, pycheck], "python", "hooks",
        "the Python package on the GPU (CUDA tensors through DLPack), PYTHONPATH = the pack's python/",
        needs=[os.path.join(pack, "python"), pycheck],
        extra_env={"PYTHONPATH": os.path.join(pack, "python"), "RESNETRS_DEVICE_PACK": pack}))
    tcheck = os.path.join(root, "tests", "gpu_triton", "run_gpu_triton_check.sh")
    steps.append(Step(
        "triton_check", 25, ["bash", tcheck, os.path.join(pack, "triton"), os.path.join(out, "triton")], "ours",
        "hooks", "Triton KIND_GPU instances with our backend (the pack's triton/)",
        needs=[os.path.join(pack, "triton"), tcheck], extra_env={"RESNETRS_DEVICE_PACK": pack}))
    return steps


# Per precision, the release table's time limit (11 configs at batch 128, each built and timed).
TABLE_LIMITS_S = {"fp32": 50, "tf32": 40, "fp16": 40, "bf16": 40, "fp32x3": 50}


def release_table_plan(pack: str, out: str, root: str, python: str = "python3", chart: bool = True) -> List[Step]:
    """A second, separate run (its own device-tool call): the 11 release configs at batch 128, ours
    in every precision and PyTorch eager in fp32/TF32/fp16/bf16, joined (issue 18's goals over all
    11 configs: strict fp32 <= 0.6x PyTorch eager, peak memory <= PyTorch's steady state)."""
    bench = os.path.join(pack, "bin", "resnetrs-bench")
    peer = os.path.join(root, "benchmarks", "peers", "torch_peer.py")
    steps = [Step("environment", 15, [], "internal", "bench", "unpack the pack, GPU, libraries (as in the check)")]
    for prec in OUR_PRECISIONS:
        js = os.path.join(out, f"ours_table_{prec}.json")
        steps.append(Step(f"ours_table_{prec}", TABLE_LIMITS_S[prec],
                          [bench, "--backend", "cuda", "--table", "--precision", prec, *PROTOCOL_ARGS, "--tuning-cache",
                           os.path.join(out, "tuning.cache"), "--json", js],
                          "ours", "bench", f"resnetrs-bench, the 11 release configs at batch 128, {prec}",
                          needs=[bench], outputs=[js]))
    js = os.path.join(out, "torch_table.json")
    steps.append(Step("torch_table", 225,
                      [python, peer, "--table", "--mode", ",".join(TORCH_PRECISIONS), *PROTOCOL_ARGS, "--budget-s", "205",
                       "--json", js],
                      "python", "bench", f"PyTorch eager, the 11 release configs at batch 128, {', '.join(TORCH_PRECISIONS)}",
                      needs=[peer], outputs=[js]))
    inputs = [o for s in steps for o in s.outputs]
    png = ["--png", os.path.join(out, "chart.png")] if chart else []
    steps.append(Step("join", 15, [python, os.path.join(root, "benchmarks", "peers", "join_results.py"), *inputs,
                                   "--markdown", os.path.join(out, "joined.md"), *png, "--json",
                                   os.path.join(out, "joined.json")],
                      "python", "bench", "one table: ratios and peak memory over the 11 configs",
                      needs=[os.path.join(root, "benchmarks", "peers", "join_results.py")], inputs=inputs))
    return steps


def plan_totals(steps: Sequence[Step]) -> Tuple[int, int]:
    """(sum of the issue-18 part's limits, sum of every limit)."""
    return sum(s.limit_s for s in steps if s.part == "bench"), sum(s.limit_s for s in steps)


def print_plan(steps: Sequence[Step], out=sys.stdout) -> None:
    bench, total = plan_totals(steps)
    print(f"{'#':>2}  {'step':<22} {'limit s':>7}  {'libraries':<9}  what", file=out)
    for i, s in enumerate(steps, 1):
        libs = {"ours": "pack", "python": "own", "internal": "-"}[s.kind]
        print(f"{i:>2}  {s.name:<22} {s.limit_s:>7}  {libs:<9}  {s.what}", file=out)
        if s.argv:
            print(f"{'':>4}$ {' '.join(s.argv)}", file=out)
    print(f"time limits: benchmarks and tests {bench} s (<= {BENCH_PART_LIMIT_S}), all {total} s (<= {PLAN_LIMIT_S})",
          file=out)


# ---- outcomes -----------------------------------------------------------------------------------

def classify(rc: Optional[int], timed_out: bool, missing: Sequence[str], limit_s: int) -> Tuple[str, str]:
    """PASS / FAIL / SKIP and why, from how a step ended."""
    if missing:
        return "SKIP", "input absent: " + ", ".join(missing)
    if timed_out:
        return "FAIL", f"time limit of {limit_s} s passed (killed)"
    if rc == 0:
        return "PASS", "exit 0"
    if rc == SKIP_EXIT:
        return "SKIP", f"exit {SKIP_EXIT} (skipped; see its log)"
    if rc is not None and rc < 0:
        return "FAIL", f"killed by signal {-rc}"
    return "FAIL", f"exit {rc}"


def summary_lines(outcomes: Sequence[Outcome], steps: Sequence[Step], header: Sequence[str]) -> List[str]:
    done = {o.name: o for o in outcomes}
    lines = list(header)
    lines.append(f"{'step':<22} {'result':<7} {'time s':>7} {'limit s':>7}  why")
    for s in steps:
        o = done.get(s.name)
        if o is None:
            lines.append(f"{s.name:<22} {'NOT RUN':<7} {'-':>7} {s.limit_s:>7}  not reached (the run's deadline passed, or it was stopped)")
        else:
            lines.append(f"{o.name:<22} {o.status:<7} {o.seconds:>7.1f} {o.limit_s:>7}  {o.reason}")
    counts = {k: sum(o.status == k for o in outcomes) for k in ("PASS", "FAIL", "SKIP")}
    lines.append(f"PASS {counts['PASS']}, FAIL {counts['FAIL']}, SKIP {counts['SKIP']}, "
                 f"not run {len(steps) - len(outcomes)}")
    return lines


# ---- libraries ----------------------------------------------------------------------------------

_LDD_MISSING = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.M)


def missing_from_ldd(ldd_output: str) -> List[str]:
    """The sonames ldd reports as 'not found'."""
    return sorted(set(_LDD_MISSING.findall(ldd_output)))


def wheel_roots(site_dirs: Optional[Sequence[str]] = None) -> List[str]:
    """Where the torch wheel's NVIDIA libraries live (site-packages/nvidia), without importing torch."""
    roots: List[str] = []
    if site_dirs is None:
        site_dirs = []
        spec = importlib.util.find_spec("torch")
        if spec is not None and spec.submodule_search_locations:
            site_dirs.append(os.path.dirname(list(spec.submodule_search_locations)[0]))
        spec = importlib.util.find_spec("nvidia")
        if spec is not None and spec.submodule_search_locations:
            site_dirs.extend(os.path.dirname(p) for p in spec.submodule_search_locations)
    for d in site_dirs:
        root = os.path.join(d, "nvidia")
        if os.path.isdir(root) and root not in roots:
            roots.append(root)
    return roots


def find_in_wheels(sonames: Sequence[str], roots: Sequence[str], max_depth: int = 4) -> Dict[str, str]:
    """soname -> the folder (under one of `roots`) that holds it."""
    found: Dict[str, str] = {}
    for root in roots:
        base = root.rstrip(os.sep).count(os.sep)
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.count(os.sep) - base >= max_depth:
                dirnames[:] = []
            for name in sonames:
                if name not in found and name in filenames:
                    found[name] = dirpath
    return found


def resolve_wheel_libraries(missing: Sequence[str], roots: Sequence[str]) -> Tuple[List[str], List[str], List[str]]:
    """From the sonames our binaries miss: (folders of the torch wheel to add to the path, the
    cuBLAS/cuDNN sonames found there, every soname still missing)."""
    wanted = [m for m in missing if m.startswith(WHEEL_LIB_PREFIXES)]
    found = find_in_wheels(wanted, roots)
    dirs: List[str] = []
    for d in found.values():
        if d not in dirs:
            dirs.append(d)
    return dirs, sorted(found), sorted(m for m in missing if m not in found)


def step_env(step: Step, base: Dict[str, str], pack_lib_path: Sequence[str], parser: str) -> Dict[str, str]:
    """The environment of one step: ours get the pack's libraries (and the weights parser),
    the Python steps the machine's own environment."""
    env = dict(base)
    env["PYTHONUNBUFFERED"] = "1"
    if step.kind == "ours":
        env["LD_LIBRARY_PATH"] = os.pathsep.join(list(pack_lib_path) + ([base["LD_LIBRARY_PATH"]]
                                                                       if base.get("LD_LIBRARY_PATH") else []))
        env["RESNETRS_WEIGHTS_PARSER"] = parser
    env.update(step.extra_env)
    return env


# ---- running ------------------------------------------------------------------------------------

def run_command(argv: Sequence[str], limit_s: float, log_path: str, env: Dict[str, str], cwd: str) -> Tuple[Optional[int], bool]:
    """Runs argv in its own process group, output into log_path; kills the group when limit_s
    passes (SIGTERM, then SIGKILL). -> (exit code, timed out)."""
    with open(log_path, "ab") as log:
        try:
            proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, cwd=cwd, start_new_session=True)
        except OSError as e:
            log.write(f"device-check: cannot start {argv[0]}: {e}\n".encode())
            return 127, False
        timed_out = False
        try:
            rc = proc.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=GRACE_S)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
            rc = TIMEOUT_EXIT
            log.write(f"\ndevice-check: killed after the time limit of {limit_s:g} s\n".encode())
        _kill_group(proc.pid, signal.SIGKILL)  # what the step left behind (compile workers, servers)
        return rc, timed_out


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()[-20000:]
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


class Runner:
    """Runs a plan: each step under its limit, the summary and the archive rewritten after each."""

    def __init__(self, steps: Sequence[Step], work: str, dest: str, root: str, env: Dict[str, str],
                 pack_lib_path: Sequence[str], parser: str, header: Optional[List[str]] = None,
                 internal: Optional[Dict[str, Callable[["Runner", Step], Tuple[Optional[int], bool]]]] = None,
                 echo: Callable[[str], None] = print, deadline_s: float = PLAN_LIMIT_S,
                 clock: Callable[[], float] = time.monotonic):
        self.steps, self.work, self.dest, self.root = list(steps), work, dest, root
        self.env, self.pack_lib_path, self.parser = env, list(pack_lib_path), parser
        self.header = header if header is not None else []
        self.internal = internal or {}
        self.echo = echo
        self.outcomes: List[Outcome] = []
        self.selected: List[Step] = list(steps)
        # The whole run's deadline: a step never runs past it (its kill grace included), so the
        # plan's time limits hold even when several steps are killed at theirs.
        self.deadline_s, self.clock = deadline_s, clock
        self.started = clock()

    def run(self, only: Optional[Sequence[str]] = None) -> List[Outcome]:
        self.selected = [s for s in self.steps if not only or s.name in only]
        self.started = self.clock()
        for step in self.selected:
            left = self.deadline_s - (self.clock() - self.started) - GRACE_S
            if left < 1:
                self.echo(f"--- {step.name}: not run: the run's {self.deadline_s:g} s are spent")
                continue
            self.outcomes.append(self.run_step(step, min(float(step.limit_s), left)))
            self.publish()
        return self.outcomes

    def run_step(self, step: Step, limit_s: Optional[float] = None) -> Outcome:
        limit = float(step.limit_s) if limit_s is None else limit_s
        cut = f" (cut to {limit:.0f} s: the run's {self.deadline_s:g} s)" if limit < step.limit_s else ""
        self.echo(f"\n=== {step.name} (limit {step.limit_s} s{cut}, {time.strftime('%H:%M:%S')}): {step.what}")
        log = os.path.join(self.work, step.log)
        missing = [p for p in step.needs if not os.path.exists(p)]
        argv = [x for x in step.argv if x not in step.inputs or os.path.exists(x)]
        if step.inputs and not any(os.path.exists(x) for x in step.inputs):
            missing.append("every one of its inputs (" + ", ".join(os.path.basename(x) for x in step.inputs) + ")")
        t0 = time.monotonic()
        rc: Optional[int] = None
        timed_out = False
        if not missing:
            if step.kind == "internal":
                rc, timed_out = self.internal[step.name](self, step)
            else:
                with open(log, "ab") as f:
                    f.write(("$ " + " ".join(argv) + "\n").encode())
                rc, timed_out = run_command(argv, limit, log,
                                            step_env(step, self.env, self.pack_lib_path, self.parser), self.root)
        status, reason = classify(rc, timed_out, missing, int(round(limit)))
        o = Outcome(step.name, status, rc, time.monotonic() - t0, step.limit_s, reason)
        text = tail(log)
        if text:
            self.echo(text)
        self.echo(f"--- {step.name}: {status} in {o.seconds:.1f} s ({reason})")
        return o

    def publish(self) -> None:
        """summary.txt and summary.json, results.tgz (the work folder), joined.md and chart.png into dest."""
        lines = summary_lines(self.outcomes, self.selected, self.header)
        text = "\n".join(lines) + "\n"
        with open(os.path.join(self.work, "summary.txt"), "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.join(self.work, "summary.json"), "w", encoding="utf-8") as f:
            json.dump({"steps": [o.__dict__ for o in self.outcomes],
                       "plan": [{"name": s.name, "limit_s": s.limit_s, "part": s.part, "argv": s.argv}
                                for s in self.steps]}, f, indent=2)
        shutil.copyfile(os.path.join(self.work, "summary.txt"), os.path.join(self.dest, "summary.txt"))
        partial = os.path.join(self.dest, "results.tgz.partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(self.work, arcname="device-check")
        os.replace(partial, os.path.join(self.dest, "results.tgz"))
        for name in ("joined.md", "chart.png"):
            if os.path.isfile(os.path.join(self.work, name)):
                shutil.copyfile(os.path.join(self.work, name), os.path.join(self.dest, name))


# ---- the environment step -----------------------------------------------------------------------

def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def unpack(pack_dir: str, dest: str) -> Dict[str, object]:
    """Checks the payload against the manifest and unpacks it into dest; returns the manifest."""
    with open(os.path.join(pack_dir, "MANIFEST.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    payload = os.path.join(pack_dir, manifest["payload"])
    digest = sha256(payload)
    if digest != manifest["payload_sha256"]:
        raise RuntimeError(f"{payload}: sha256 {digest} is not the manifest's {manifest['payload_sha256']} "
                           "(an incomplete copy? run scripts/device-pack again)")
    with tarfile.open(payload, "r:*") as tar:
        try:
            tar.extractall(dest, filter="data")  # Python 3.12 (and security releases of older ones)
        except TypeError:
            tar.extractall(dest)
    return manifest


def environment_step(pack_dir: str, unpacked: str, state: Dict[str, object]) -> Callable[[Runner, Step], Tuple[Optional[int], bool]]:
    """The environment section: unpack, GPU facts, which libraries our binaries resolve and, where
    cuBLAS/cuDNN are missing, the torch wheel's added to the path (and said)."""
    def run(runner: Runner, step: Step) -> Tuple[Optional[int], bool]:
        log_path = os.path.join(runner.work, step.log)
        deadline = time.monotonic() + step.limit_s
        out: List[str] = []
        rc = 0
        try:
            manifest = unpack(pack_dir, unpacked)
            state["manifest"] = manifest
            out.append(f"pack: {manifest.get('git_commit')} built {manifest.get('created_utc')}, CUDA archs "
                       f"{manifest.get('cuda_architectures')}, RESNETRS_UNVERIFIED_GPU={manifest.get('unverified_gpu')}")
            runner.header.append(out[-1])
            for name, h in sorted(dict(manifest.get("hooks", {})).items()):
                out.append(f"pack hook {name}: {h.get('status')} ({h.get('reason', '')})")
                runner.header.append(out[-1])
        except Exception as e:  # noqa: BLE001 - reported as this step's failure
            out.append(f"device-check: cannot unpack the pack in {pack_dir}: {e}")
            _write(log_path, out)
            return 1, False
        for cmd in (["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm,compute_cap",
                     "--format=csv"], ["nvidia-smi", "-L"]):
            out.append("$ " + " ".join(cmd))
            out.append(_capture(cmd, max(1.0, deadline - time.monotonic()), runner.env))
        bins = [os.path.join(unpacked, "bin", b) for b in sorted(os.listdir(os.path.join(unpacked, "bin")))]
        libs = [os.path.join(unpacked, "lib", b) for b in sorted(os.listdir(os.path.join(unpacked, "lib")))
                if b.startswith("libresnetrs.so")]
        env = dict(runner.env, LD_LIBRARY_PATH=os.pathsep.join(runner.pack_lib_path))
        missing: List[str] = []
        for exe in bins + libs[:1]:
            text = _capture(["ldd", exe], max(1.0, deadline - time.monotonic()), env)
            out.append(f"$ ldd {exe}\n{text}")
            missing += [m for m in missing_from_ldd(text) if m not in missing]
        if missing:
            dirs, taken, still = resolve_wheel_libraries(missing, wheel_roots())
            if taken:
                runner.pack_lib_path.extend(d for d in dirs if d not in runner.pack_lib_path)
                out.append("NOTE: the machine's loader does not find " + ", ".join(taken) + "; our binaries use the "
                           "torch wheel's: " + ", ".join(dirs))
                runner.header.append("libraries: " + out[-1])
                # Again with the wheel's folders: what they bring may need more (cublasLt beside cublas).
                env = dict(runner.env, LD_LIBRARY_PATH=os.pathsep.join(runner.pack_lib_path))
                still = []
                for exe in bins + libs[:1]:
                    text = _capture(["ldd", exe], max(1.0, deadline - time.monotonic()), env)
                    still += [m for m in missing_from_ldd(text) if m not in still]
                out.append("after adding them, ldd finds " + ("everything" if not still else "all but " + ", ".join(still)))
            if still:
                out.append("MISSING LIBRARIES (our steps will fail): " + ", ".join(still))
                runner.header.append("libraries: MISSING " + ", ".join(still))
                rc = 1
        else:
            out.append("every library of our binaries resolves (pack lib/ first, then the machine's loader path)")
        out.append("LD_LIBRARY_PATH of our steps: " + os.pathsep.join(runner.pack_lib_path) + " (then the machine's); "
                   "the Python steps keep the machine's own")
        _write(log_path, out)
        return rc, time.monotonic() > deadline
    return run


def _capture(cmd: Sequence[str], limit_s: float, env: Dict[str, str]) -> str:
    try:
        r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=limit_s, env=env)
        return (r.stdout + r.stderr).rstrip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"({cmd[0]}: {e})"


def _write(path: str, lines: Sequence[str]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# ---- main ---------------------------------------------------------------------------------------

def main(argv: Sequence[str]) -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(prog="device-check", description=__doc__.split("\n\n")[0])
    p.add_argument("outdir", nargs="?", default="device-out", help="where the summary, archive and table go")
    p.add_argument("--plan", action="store_true", help="print the plan and exit")
    p.add_argument("--only", help="comma-separated step names to run (the environment always runs)")
    p.add_argument("--release-table", action="store_true",
                   help="instead of the check: the 11 release configs, ours in every precision beside PyTorch eager "
                        "(a separate run, about 8 minutes)")
    p.add_argument("--pack", default=os.environ.get("RESNETRS_DEVICE_PACK_DIR", os.path.join(root, ".device")),
                   help="the pack folder (default .device, or $RESNETRS_DEVICE_PACK_DIR)")
    a = p.parse_args(argv)
    make_plan = release_table_plan if a.release_table else plan
    if a.plan:
        print_plan(make_plan("PACK", "OUT", ".", python="python3"))
        return 0
    only = None
    if a.only:
        only = [s.strip() for s in a.only.split(",") if s.strip()]
        unknown = [s for s in only if s not in [x.name for x in make_plan("PACK", "OUT", ".")]]
        if unknown:
            p.error(f"--only: no step named {', '.join(unknown)} (see --plan)")
        only = ["environment"] + only
    unpacked = tempfile.mkdtemp(prefix="resnetrs-device-pack.")
    work = tempfile.mkdtemp(prefix="resnetrs-device-check.")
    steps = make_plan(unpacked, work, root, python=sys.executable or "python3",
                      chart=importlib.util.find_spec("matplotlib") is not None)
    os.makedirs(a.outdir, exist_ok=True)
    header = [f"resnetrs device check, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, pack {a.pack}"]
    state: Dict[str, object] = {}
    runner = Runner(steps, work, os.path.abspath(a.outdir), root, dict(os.environ),
                    [os.path.join(unpacked, "lib")], os.path.join(unpacked, "lib", "resnetrs-parse-weights"),
                    header=header, internal={"environment": environment_step(a.pack, unpacked, state)})
    outcomes = runner.run(only)
    print("\n=== summary")
    print("\n".join(summary_lines(outcomes, runner.selected, runner.header)))
    if os.path.isfile(os.path.join(work, "joined.md")):
        print()
        with open(os.path.join(work, "joined.md"), encoding="utf-8") as f:
            print(f.read())
    shutil.rmtree(unpacked, ignore_errors=True)
    return 1 if any(o.status == "FAIL" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
