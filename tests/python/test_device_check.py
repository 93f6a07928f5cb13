"""scripts/device-check and scripts/device-pack without a GPU (issue 18 item 6, issue 19 item 5):
the plan (every step's time limit, the limits' sums, the precision matrix), PASS/FAIL/SKIP from
exit codes with fake steps, the libraries each kind of step gets, the torch wheel's cuBLAS/cuDNN
found where the loader lacks them, the pack's payload check, device-pack's size check and library
resolution. Nothing here builds build-device/ (that is device-pack's own job, not CI's)."""
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tarfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(REPO, "scripts")

_spec = importlib.util.spec_from_file_location("device_check", os.path.join(SCRIPTS, "device_check.py"))
DC = importlib.util.module_from_spec(_spec)
sys.modules["device_check"] = DC  # dataclasses look their module up by name
_spec.loader.exec_module(DC)


def flag(argv, name):
    return argv[argv.index(name) + 1]


# ---- the plan -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def steps():
    return DC.plan("/pack", "/out", "/repo")


def test_every_step_has_a_limit_and_the_limits_fit(steps):
    assert all(isinstance(s.limit_s, int) and 0 < s.limit_s <= 120 for s in steps)
    bench, total = DC.plan_totals(steps)
    assert total <= 540, total  # issue 19: all of it within 9 minutes
    assert bench < 480, bench  # issue 18: tests, benchmarks and the table in under 8 minutes
    assert total < 600  # the device tool's limit per command
    names = [s.name for s in steps]
    assert len(set(names)) == len(names)


def test_steps_in_order_of_importance(steps):
    names = [s.name for s in steps]
    assert names[:4] == ["environment", "gpu_tests", "gpu_tests_precision", "api_cuda"]
    first_peer = min(i for i, n in enumerate(names) if n.startswith("torch"))
    assert all(n.startswith("ours_") for n in names[4:first_peer])
    assert names.index("torch_eager_b128") < names.index("torch_compiled") < names.index("join")
    assert names[-2:] == ["python_checks", "triton_check"]
    assert [s.part for s in steps[-2:]] == ["hooks", "hooks"] and all(s.part == "bench" for s in steps[:-2])
    py, triton = steps[-2:]
    assert py.kind == "python" and py.extra_env == {"PYTHONPATH": "/pack/python", "RESNETRS_DEVICE_PACK": "/pack"}
    assert py.needs == ["/pack/python", "/repo/tests/gpu_python/run_gpu_python_checks.py"]
    assert triton.needs == ["/pack/triton", "/repo/tests/gpu_triton/run_gpu_triton_check.sh"]
    gpu, gpu_precision = steps[1], steps[2]
    # Together the whole executable: every test but [precision], then [precision].
    assert gpu.argv[0] == gpu_precision.argv[0] == "/pack/bin/resnetrs_tests_gpu"
    assert gpu.argv[-1] == "~[precision]" and gpu_precision.argv[-1] == "[precision]"
    assert steps[3].argv[1:] == ["--require-cuda", "[cuda]"]


def test_ours_cover_every_config_batch_and_precision(steps):
    covered = set()
    for s in steps:
        if s.name.startswith("ours_"):
            assert s.kind == "ours" and s.argv[0] == "/pack/bin/resnetrs-bench" and flag(s.argv, "--backend") == "cuda"
            for p in flag(s.argv, "--precision").split(","):
                covered.add((flag(s.argv, "--model"), int(flag(s.argv, "--res")), int(flag(s.argv, "--batch")), p))
            assert flag(s.argv, "--json").startswith("/out/") and flag(s.argv, "--json") in s.outputs
    want = {(m, r, b, p) for m, r in [("rs50", 160), ("rs152", 256), ("rs420", 320)] for b in (128, 1)
            for p in ("fp32", "tf32", "fp16", "bf16", "fp32x3")}
    assert covered == want


def test_pytorch_eager_beside_each_config_and_compiled_where_required(steps):
    eager, compiled = set(), set()
    for s in steps:
        if not s.name.startswith("torch_"):
            continue
        assert s.kind == "python" and s.argv[1] == "/repo/benchmarks/peers/torch_peer.py"
        configs = flag(s.argv, "--config").split(",")
        for c in configs:
            for b in flag(s.argv, "--batch").split(","):
                for p in flag(s.argv, "--mode").split(","):
                    (compiled if "--compile-mode" in s.argv else eager).add((c, int(b), p))
        budget = float(flag(s.argv, "--budget-s"))
        assert budget < s.limit_s  # no run starts too late to finish
        # The same protocol as ours.
        assert [flag(s.argv, f) for f in ("--warmup-ms", "--iterations", "--duration-s")] == ["200", "10", "0.5"]
    assert eager == {(c, b, p) for c in ("rs50@160", "rs152@256", "rs420@320") for b in (128, 1)
                     for p in ("fp32", "tf32", "fp16", "bf16")}
    assert {("rs50@160", b, p) for b in (128, 1) for p in ("fp16", "tf32")} <= compiled
    comp = next(s for s in steps if s.name == "torch_compiled")
    assert flag(comp.argv, "--compile-mode") == "max-autotune" and "--no-eager" in comp.argv


def test_join_reads_every_benchmark_json(steps):
    join = next(s for s in steps if s.name == "join")
    outputs = [o for s in steps for o in s.outputs]
    assert len(outputs) == 9 and join.inputs == outputs and all(o in join.argv for o in outputs)
    assert "/out/joined.md" in join.argv and "/out/chart.png" in join.argv
    # Without matplotlib on the GPU machine the table is still made, without the chart.
    join = next(s for s in DC.plan("/pack", "/out", "/repo", chart=False) if s.name == "join")
    assert "--png" not in join.argv and "/out/joined.md" in join.argv and "no chart" in join.what


def test_plan_command_prints_every_step_with_its_limit():
    r = subprocess.run(["bash", os.path.join(SCRIPTS, "device-check"), "--plan"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    rows = re.findall(r"^\s*\d+\s+(\S+)\s+(\d+)\s", r.stdout, re.M)
    assert [n for n, _ in rows] == [s.name for s in DC.plan("P", "O", ".")]
    assert sum(int(x) for _, x in rows) <= 540
    assert "all 540 s (<= 540)" in r.stdout or re.search(r"all (\d+) s \(<= 540\)", r.stdout)
    r = subprocess.run(["bash", os.path.join(SCRIPTS, "device-check"), "--only", "nonsense", "x"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "no step named nonsense" in r.stderr


# ---- outcomes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("rc, timed_out, missing, want", [
    (0, False, [], "PASS"), (77, False, [], "SKIP"), (1, False, [], "FAIL"), (2, False, [], "FAIL"),
    (124, True, [], "FAIL"), (0, False, ["/x"], "SKIP"), (-11, False, [], "FAIL"), (127, False, [], "FAIL"),
])
def test_classify(rc, timed_out, missing, want):
    status, reason = DC.classify(rc, timed_out, missing, 30)
    assert status == want
    if timed_out:
        assert "time limit of 30 s" in reason
    if missing:
        assert "input absent: /x" in reason
    if rc == -11:
        assert "signal 11" in reason


def fake_runner(tmp_path, steps, **kw):
    work, dest = tmp_path / "work", tmp_path / "dest"
    work.mkdir()
    dest.mkdir()
    base = {"PATH": os.environ["PATH"], "LD_LIBRARY_PATH": "/machine/lib"}
    printed = []
    runner = DC.Runner(steps, str(work), str(dest), str(tmp_path), base, ["/pack/lib"], "/pack/lib/parser",
                       header=["header line"], echo=printed.append, **kw)
    return runner, work, dest, printed


def sh(name, script, limit=10, kind="ours", **kw):
    return DC.Step(name, limit, ["bash", "-c", script], kind, "bench", name, **kw)


def test_runner_summarises_pass_fail_skip_and_time_limits(tmp_path):
    present = tmp_path / "present.json"
    present.write_text("{}")
    steps = [
        sh("passes", "echo hello"),
        sh("fails", "echo broken >&2; exit 3"),
        sh("skips", "echo 'SKIPPED: no CUDA device'; exit 77"),
        sh("hangs", "sleep 30 & wait", limit=1),
        sh("absent", "exit 0", needs=[str(tmp_path / "nothing-here")]),
        sh("some_inputs", 'for f in "$@"; do echo "got $f"; done', inputs=[str(present), str(tmp_path / "gone.json")]),
        sh("no_inputs", "exit 0", inputs=[str(tmp_path / "gone.json")]),
        sh("killed", "kill -9 $$"),
    ]
    steps[5].argv += ["_", str(present), str(tmp_path / "gone.json")]
    runner, work, dest, printed = fake_runner(tmp_path, steps)
    outcomes = runner.run()
    got = {o.name: (o.status, o.rc) for o in outcomes}
    assert got == {"passes": ("PASS", 0), "fails": ("FAIL", 3), "skips": ("SKIP", 77), "hangs": ("FAIL", 124),
                   "absent": ("SKIP", None), "some_inputs": ("PASS", 0), "no_inputs": ("SKIP", None),
                   "killed": ("FAIL", -9)}
    hang = next(o for o in outcomes if o.name == "hangs")
    assert hang.seconds < 1 + DC.GRACE_S + 3  # the group was killed at its limit
    got = [line for line in (work / "some_inputs.log").read_text().splitlines() if line.startswith("got ")]
    assert got == ["got " + str(present)]  # the absent input was left out
    summary = (dest / "summary.txt").read_text()
    assert summary.startswith("header line\n")
    for name, status in [("passes", "PASS"), ("fails", "FAIL"), ("skips", "SKIP"), ("hangs", "FAIL"),
                         ("absent", "SKIP")]:
        assert re.search(rf"^{name}\s+{status}\b", summary, re.M), summary
    assert "input absent: " + str(tmp_path / "nothing-here") in summary
    assert "time limit of 1 s passed" in summary and "exit 3" in summary
    assert "PASS 2, FAIL 3, SKIP 3, not run 0" in summary
    with tarfile.open(dest / "results.tgz") as tar:
        names = tar.getnames()
    assert "device-check/fails.log" in names and "device-check/summary.json" in names
    assert any("--- fails: FAIL" in p for p in printed) and any("broken" in p for p in printed)


def test_summary_lists_steps_not_reached():
    steps = [sh("a", "true"), sh("b", "true")]
    lines = DC.summary_lines([DC.Outcome("a", "PASS", 0, 1.0, 10, "exit 0")], steps, [])
    assert re.match(r"b\s+NOT RUN", lines[-2]) and lines[-1] == "PASS 1, FAIL 0, SKIP 0, not run 1"


def test_only_pack_steps_get_the_pack_libraries(tmp_path):
    show = 'echo "LD=${LD_LIBRARY_PATH:-} PARSER=${RESNETRS_WEIGHTS_PARSER:-none} PY=${PYTHONPATH:-none}"'
    steps = [sh("ours", show, kind="ours"), sh("python", show, kind="python"),
             sh("hook", show, kind="python", extra_env={"PYTHONPATH": "/pack/python"})]
    runner, work, _, _ = fake_runner(tmp_path, steps)
    runner.run()
    assert "LD=/pack/lib:/machine/lib PARSER=/pack/lib/parser PY=none" in (work / "ours.log").read_text()
    assert "LD=/machine/lib PARSER=none PY=none" in (work / "python.log").read_text()  # torch keeps its own
    assert "LD=/machine/lib PARSER=none PY=/pack/python" in (work / "hook.log").read_text()


def test_only_runs_the_chosen_steps(tmp_path):
    steps = [sh("environment", "true"), sh("a", "true"), sh("b", "exit 1")]
    runner, _, dest, _ = fake_runner(tmp_path, steps)
    outcomes = runner.run(only=["environment", "b"])
    assert [o.name for o in outcomes] == ["environment", "b"]
    assert "a " not in (dest / "summary.txt").read_text().split("why\n")[1]


# ---- libraries --------------------------------------------------------------------------------------

LDD = """\tlinux-vdso.so.1 (0x00007ffc)
\tlibresnetrs.so.0 => /pack/lib/libresnetrs.so.0 (0x7f)
\tlibcudnn.so.9 => not found
\tlibcublas.so.13 => not found
\tlibcublasLt.so.13 => not found
\tlibhdf5_serial.so.103 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)
"""


def test_missing_libraries_from_ldd_and_the_torch_wheel(tmp_path):
    missing = DC.missing_from_ldd(LDD)
    assert missing == ["libcublas.so.13", "libcublasLt.so.13", "libcudnn.so.9", "libhdf5_serial.so.103"]
    site = tmp_path / "site-packages"
    for sub, lib in (("cudnn/lib", "libcudnn.so.9"), ("cublas/lib", "libcublas.so.13"),
                     ("cublas/lib", "libcublasLt.so.13"), ("cu13/lib", "libnvrtc.so.13")):
        (site / "nvidia" / sub).mkdir(parents=True, exist_ok=True)
        (site / "nvidia" / sub / lib).write_bytes(b"\x7fELF")
    roots = DC.wheel_roots([str(site), str(tmp_path / "elsewhere")])
    assert roots == [str(site / "nvidia")]
    dirs, taken, still = DC.resolve_wheel_libraries(missing, roots)
    assert sorted(dirs) == sorted([str(site / "nvidia" / "cudnn" / "lib"), str(site / "nvidia" / "cublas" / "lib")])
    assert taken == ["libcublas.so.13", "libcublasLt.so.13", "libcudnn.so.9"]
    assert still == ["libhdf5_serial.so.103"]  # never taken from a wheel: reported as missing
    assert DC.resolve_wheel_libraries(missing, []) == ([], [], missing)


def make_pack(tmp_path, tamper=False):
    pack = tmp_path / "pack"
    pack.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in (("bin/tool", b"#!/bin/sh\necho tool\n"), ("lib/libresnetrs.so.0.1.0", b"lib")):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    (pack / "payload.tar.xz").write_bytes(buf.getvalue())
    digest = DC.sha256(str(pack / "payload.tar.xz"))
    manifest = {"payload": "payload.tar.xz", "payload_sha256": "0" * 64 if tamper else digest, "git_commit": "abc",
                "cuda_architectures": "75;80;86;89;90", "unverified_gpu": True, "created_utc": "x",
                "hooks": {"python": {"status": "skipped", "reason": "no Python 3.12 here"}}}
    (pack / "MANIFEST.json").write_text(json.dumps(manifest))
    return pack


def test_payload_is_checked_and_unpacked(tmp_path):
    pack = make_pack(tmp_path)
    dest = tmp_path / "unpacked"
    dest.mkdir()
    manifest = DC.unpack(str(pack), str(dest))
    assert manifest["git_commit"] == "abc"
    assert (dest / "bin" / "tool").read_bytes().startswith(b"#!/bin/sh") and os.access(dest / "bin" / "tool", os.X_OK)
    (tmp_path / "t").mkdir()
    bad = make_pack(tmp_path / "t", tamper=True)
    with pytest.raises(RuntimeError, match="is not the manifest's"):
        DC.unpack(str(bad), str(tmp_path / "t"))


def test_environment_step_reports_the_pack_and_its_hooks(tmp_path):
    pack = make_pack(tmp_path)
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    step = DC.Step("environment", 15, [], "internal", "bench", "env")
    runner, work, _, _ = fake_runner(tmp_path, [step], internal={
        "environment": DC.environment_step(str(pack), str(unpacked), {})})
    runner.pack_lib_path = [str(unpacked / "lib")]
    (o,) = runner.run()
    log = (work / "environment.log").read_text()
    assert "pack: abc" in log and "pack hook python: skipped (no Python 3.12 here)" in log
    assert "the Python steps keep the machine's own" in log
    assert o.status in ("PASS", "FAIL")  # ldd of a shell script and a fake library: no missing soname to report
    assert "MISSING" not in log


# ---- device-pack ------------------------------------------------------------------------------------

def device_pack(*args, env=None):
    return subprocess.run(["bash", os.path.join(SCRIPTS, "device-pack"), *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, **(env or {})))


def test_device_pack_size_check(tmp_path):
    d = tmp_path / "pack"
    d.mkdir()
    with open(d / "payload.tar.xz", "wb") as f:
        f.truncate(1 << 20)
    r = device_pack("--check-size", str(d))
    assert r.returncode == 0 and "size ok" in r.stdout, r.stderr
    with open(d / "payload.tar.xz", "wb") as f:
        f.truncate(65 << 20)  # sparse: its apparent size is what travels
    r = device_pack("--check-size", str(d))
    assert r.returncode == 1 and "TOO BIG" in r.stderr and "64.0 MiB" in r.stderr
    # The working tree travels too: it counts against the limit.
    with open(d / "payload.tar.xz", "wb") as f:
        f.truncate(1 << 20)
    r = device_pack("--check-size", str(d), env={"RESNETRS_DEVICE_LIMIT_BYTES": str((1 << 20) + 1024)})
    assert r.returncode == 1 and "working tree" in r.stderr
    assert device_pack("--check-size", str(tmp_path / "none")).returncode == 1


def test_device_pack_resolves_the_host_libraries_it_carries():
    r = device_pack("--resolve-libs")
    if r.returncode != 0:
        pytest.skip(f"a carried library is not installed here: {r.stderr.strip()}")
    rows = [line.split() for line in r.stdout.splitlines()]
    assert [x[0] for x in rows] == ["libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0", "libjpeg.so.62",
                                    "libpng16.so.16", "libdnnl.so.2", "libgomp.so.1", "libOpenCL.so.1"]
    assert all(os.path.isfile(x[1]) for x in rows)
    assert device_pack("--bogus").returncode == 1


def test_device_pack_has_no_pipe_that_sigpipe_can_kill():
    """Under pipefail a reader that stops early (head, grep -q, awk's exit) kills the writer with
    SIGPIPE and fails the pack at random; device-pack captures output first instead."""
    code = [line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
            for line in open(os.path.join(SCRIPTS, "device-pack"), encoding="utf-8")]
    pipes = [line for line in code if re.search(r"(?<![|])\|(?![|])", line.replace("'$1 == l", ""))]
    assert pipes == [], pipes
    text = open(os.path.join(SCRIPTS, "device-pack"), encoding="utf-8").read()
    assert "RESNETRS_UNVERIFIED_GPU=ON" in text and "resnetrs-parse-weights" in text and "set -euo pipefail" in text


def test_environment_step_takes_cublas_and_cudnn_from_the_torch_wheel(tmp_path, monkeypatch):
    """A machine whose loader lacks cuDNN/cuBLAS: the environment step finds them in the torch
    wheel, says so in its log and the summary, and the later 'ours' steps get that folder on
    LD_LIBRARY_PATH; a library no wheel has is reported MISSING and fails the step."""
    wheel = tmp_path / "site" / "nvidia"
    for sub, lib in (("cudnn/lib", "libcudnn.so.9"), ("cu13/lib", "libcublas.so.13")):
        (wheel / sub).mkdir(parents=True, exist_ok=True)
        (wheel / sub / lib).write_bytes(b"\x7fELF")
    fake_bin = tmp_path / "fakebin"
    fake_bin.mkdir()
    # ldd: cuDNN/cuBLAS resolve only when the wheel's folders are on LD_LIBRARY_PATH; libfoo never.
    (fake_bin / "ldd").write_text(
        '#!/bin/bash\ncase ":$LD_LIBRARY_PATH:" in *nvidia/cudnn/lib*) ;; *) echo "\tlibcudnn.so.9 => not found";; esac\n'
        'case ":$LD_LIBRARY_PATH:" in *nvidia/cu13/lib*) ;; *) echo "\tlibcublas.so.13 => not found";; esac\n'
        'echo "\tlibfoo.so.1 => not found"\n')
    (fake_bin / "nvidia-smi").write_text("#!/bin/bash\necho 'NVIDIA H200, 580.159.04'\n")
    for f in fake_bin.iterdir():
        f.chmod(0o755)
    monkeypatch.setattr(DC, "wheel_roots", lambda site_dirs=None: [str(wheel)])
    pack = make_pack(tmp_path)
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    show = 'echo "LD=$LD_LIBRARY_PATH"'
    steps = [DC.Step("environment", 15, [], "internal", "bench", "env"), sh("ours", show), sh("py", show, kind="python")]
    runner, work, dest, _ = fake_runner(tmp_path, steps, internal={
        "environment": DC.environment_step(str(pack), str(unpacked), {})})
    runner.env["PATH"] = f"{fake_bin}:{runner.env['PATH']}"
    runner.pack_lib_path = [str(unpacked / "lib")]
    env_o, ours_o, py_o = runner.run()
    log = (work / "environment.log").read_text()
    assert "NVIDIA H200" in log
    assert "does not find libcublas.so.13, libcudnn.so.9; our binaries use the torch wheel's" in log
    assert "after adding them, ldd finds all but libfoo.so.1" in log
    assert "MISSING LIBRARIES (our steps will fail): libfoo.so.1" in log
    assert env_o.status == "FAIL"
    ours_ld = (work / "ours.log").read_text().split("\nLD=")[1].split(":")
    assert ours_ld[0] == str(unpacked / "lib") and str(wheel / "cudnn" / "lib") in ours_ld
    assert str(wheel / "cu13" / "lib") in ours_ld and ours_ld[-1].strip() == "/machine/lib"
    assert "\nLD=/machine/lib\n" in (work / "py.log").read_text()  # the Python steps: never ours, never the wheel's
    summary = (dest / "summary.txt").read_text()
    assert "libraries: NOTE: the machine's loader does not find libcublas.so.13, libcudnn.so.9" in summary
    assert "libraries: MISSING libfoo.so.1" in summary


def test_the_run_deadline_cuts_the_last_steps(tmp_path):
    """Steps killed at their limits must not push the run past its deadline (the device tool's
    own limit): a step's limit is cut to what is left, and a step with nothing left is not run."""
    steps = [sh("first", "sleep 30 & wait", limit=100), sh("second", "true")]
    runner, _, dest, printed = fake_runner(tmp_path, steps, deadline_s=DC.GRACE_S + 2)
    outcomes = runner.run()
    assert [(o.name, o.status) for o in outcomes] == [("first", "FAIL")]
    assert "time limit of 2 s passed" in outcomes[0].reason
    assert any("cut to 2 s" in p for p in printed) and any("second: not run" in p for p in printed)
    assert re.search(r"^second\s+NOT RUN .*deadline", (dest / "summary.txt").read_text(), re.M)


def test_release_table_plan_covers_the_11_configs_in_every_precision():
    steps = DC.release_table_plan("/pack", "/out", "/repo")
    bench, total = DC.plan_totals(steps)
    assert total < 480 and all(s.limit_s > 0 for s in steps)
    ours = [s for s in steps if s.name.startswith("ours_table_")]
    assert sorted(flag(s.argv, "--precision") for s in ours) == sorted(DC.OUR_PRECISIONS)
    assert all("--table" in s.argv and "--batch" not in s.argv for s in ours)  # batch 128, halved only on OOM
    assert all(flag(s.argv, "--backend") == "cuda" for s in ours)
    (torch,) = [s for s in steps if s.name == "torch_table"]
    assert "--table" in torch.argv and flag(torch.argv, "--mode").split(",") == list(DC.TORCH_PRECISIONS)
    assert float(flag(torch.argv, "--budget-s")) < torch.limit_s and torch.kind == "python"
    join = steps[-1]
    assert join.name == "join" and join.inputs == [o for s in steps for o in s.outputs] and len(join.inputs) == 6
    r = subprocess.run(["bash", os.path.join(SCRIPTS, "device-check"), "--plan", "--release-table"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "ours_table_fp32x3" in r.stdout and "torch_table" in r.stdout
