"""resnetrs-bench's command line and JSON, and the peer scripts (benchmarks/peers), on a machine
without a GPU: usage errors (exit 2), the reduced CPU table and its JSON against the shared schema,
a single CPU config, the join of recorded results into text, markdown and a PNG chart, and the
PyTorch peer's document built from fake measurements (torch is not installed here).
"""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(REPO, "benchmarks", "peers")
FIXTURES = os.path.join(REPO, "tests", "data", "bench")
OURS_FIXTURE = os.path.join(FIXTURES, "ours_h200_fixture.json")
TORCH_FIXTURE = os.path.join(FIXTURES, "torch_peer_h200_fixture.json")
sys.path.insert(0, PEERS)

import bench_schema as S  # noqa: E402
import torch_peer  # noqa: E402  (imports torch only inside main)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def first_table(markdown):
    """The lines of the first markdown table (the latency table; the memory table follows)."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def bench_exe():
    p = os.environ.get("RESNETRS_BENCH") or os.path.join(REPO, "build", "resnetrs-bench")
    p = p if os.path.isabs(p) else os.path.join(REPO, p)
    if not os.path.isfile(p):
        pytest.fail(f"resnetrs-bench not found at {p}: build first (bash scripts/build) or set RESNETRS_BENCH")
    return p


def run_bench(*args, timeout=300, env=None):
    # No GPU for these tests even where there is one: they check the CPU path and must be quick.
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", **(env or {}))
    return subprocess.run([bench_exe(), *args], capture_output=True, text=True, timeout=timeout, env=env)


def run_py(script, *args, timeout=120):
    return subprocess.run([sys.executable, os.path.join(PEERS, script), *args], capture_output=True, text=True,
                          timeout=timeout)


# ---- usage -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "unknown flag --bogus"),
    (["--res"], "--res needs a value"),
    (["--res", "abc", "--model", "rs50"], "expects an integer"),
    (["--res", "16", "--model", "rs50"], "--res must be in 32..4096"),
    (["--model", "rs51"], "--model expects one of"),
    (["--batch", "0"], "--batch must be in 1..65536"),
    (["--iterations", "0"], "--iterations must be in"),
    (["--duration-s", "-1"], "--duration-s must be in"),
    (["--precision", "fp64"], "--precision expects fp32|tf32|fp16|bf16|fp32x3"),
    (["--precision", "fp32,,tf32"], "--precision has an empty item"),
    (["--precision", "fp16,fp16"], "--precision lists fp16 twice"),
    (["--backend", "cpu", "--precision", "fp32,fp16"], "--precision fp16: the CPU backend has fp32 only"),
    (["--backend", "tpu"], "--backend expects cuda|cpu"),
    (["--cuda-graph", "maybe"], "--cuda-graph expects on|off"),
    (["--table", "--res", "160"], "cannot be combined with --table"),
    (["--res", "160"], "--res needs --model"),
    (["--weights", "x.h5"], "--weights in table mode needs --model"),
    (["--model", "rs50", "--model", "rs101"], "given twice"),
    (["--table=yes"], "--table takes no value"),
    (["stray"], "unexpected argument 'stray'"),
    (["--json"], "--json needs a value"),
    (["--backend", "cpu", "--precision", "tf32"], "the CPU backend has fp32 only"),
    (["--threads", "-1"], "--threads must be in 0..1024, got -1"),
    (["--threads", "1025"], "--threads must be in 0..1024"),
    (["--threads", "two"], "--threads expects an integer, got 'two'"),
    (["--winograd", "on"], "--winograd expects auto|off|fast, got 'on'"),
    (["--backend", "cuda", "--threads", "2"], "--threads applies to the CPU backend, not --backend cuda"),
    (["--backend", "cuda", "--winograd", "off"], "--winograd applies to the CPU backend, not --backend cuda"),
    (["infer", "--weights", "w.h5", "--input", "x.npy"], "infer needs --output"),
    (["infer", "--weights", "w.h5", "--input", "x.npy", "--output", "y.npy", "--layout", "chw"], "--layout expects"),
])
def test_usage_errors_exit_2_with_usage(args, fragment):
    r = run_bench(*args)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert fragment in r.stderr, r.stderr
    assert "usage:" in r.stderr


def test_help_lists_every_flag():
    r = run_bench("--help")
    assert r.returncode == 0
    for flag in ("--model", "--res", "--batch", "--weights", "--precision", "--backend", "--warmup-ms", "--iterations",
                 "--duration-s", "--cuda-graph", "--table", "--json", "--tuning-cache", "--threads", "--winograd",
                 "infer"):
        assert flag in r.stdout, flag


def test_infer_reports_missing_files_with_status():
    r = run_bench("infer", "--weights", "/nonexistent/w.h5", "--input", "/nonexistent/x.npy", "--output", "/tmp/y.npy")
    assert r.returncode == 1
    assert "error (IO_ERROR)" in r.stderr and "/nonexistent/x.npy" in r.stderr


# ---- the reduced CPU table and its JSON ----------------------------------------------------------

@pytest.fixture(scope="module")
def cpu_table(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bench") / "cpu.json")
    r = run_bench("--model", "rs50", "--table", "--iterations", "2", "--warmup-ms", "0", "--json", path)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(path, encoding="utf-8") as f:
        return r, json.load(f)


def test_cpu_table_is_announced_and_labelled(cpu_table):
    r, _ = cpu_table
    lines = r.stdout.splitlines()
    assert lines[0] == "no CUDA device: running a reduced table on the CPU backend"
    assert "REDUCED TABLE ON THE CPU BACKEND" in r.stdout
    assert "V100 train-step s (release, not comparable)" in r.stdout
    row = next(line for line in lines if line.startswith("RS-50 "))
    cols = row.split()
    assert cols[1] == "64" and cols[2] == "fp32" and cols[3] == "35.69" and cols[5] == "2", row
    assert float(cols[5]) > 0 and float(cols[6]) > 0
    assert "[1/1] RS-50 @64 fp32 batch 2" in r.stderr  # the progress line


def test_cpu_table_json_follows_the_schema(cpu_table):
    _, doc = cpu_table
    S.validate(doc, "resnetrs-bench --json")
    assert doc["producer"]["name"] == "resnetrs-bench"
    env, proto = doc["environment"], doc["protocol"]
    assert env["backend"] == "cpu" and env["compute_capability"] is None
    assert isinstance(env["software"]["git_commit"], str) and env["software"]["build_type"]
    assert isinstance(env["software"]["cuda_architectures"], str)
    assert proto["clock"] == "steady_clock" and proto["reduced_cpu_table"] is True
    assert proto["min_iterations"] == 2 and proto["warmup_ms"] == 0.0
    assert proto["data_transfers"] == "excluded"
    (res,) = doc["results"]
    assert (res["model"], res["depth"], res["resolution"], res["batch"]) == ("rs50", 50, 64, 2)
    assert res["status"] == "ok" and res["error"] is None
    assert res["iterations"] >= 2 and len(res["samples_ms"]) == res["iterations"]
    assert res["params_m"] == pytest.approx(35.691912)
    assert res["gflops_per_image"] == pytest.approx(2 * 2.28 * (64 / 160) ** 2, rel=0.05)
    assert res["release_v100_train_step_s"] is None  # 64 is not a release resolution
    assert res["memory"]["method"] == "none" and res["memory"]["peak_bytes"] is None
    assert res["outputs_finite"] is True
    assert res["images_per_s"] == pytest.approx(res["batch"] * res["iterations"] / res["timed_s"], rel=1e-6)
    # The C++ statistics equal the Python ones on the same samples (written with 6 digits).
    want = S.summarize(res["samples_ms"])
    for k in S.STAT_KEYS:
        assert res["latency_ms"][k] == pytest.approx(want[k], rel=1e-4), k


def test_single_cpu_config():
    r = run_bench("--backend", "cpu", "--model", "rs50", "--res", "32", "--batch", "1", "--iterations", "3",
                  "--warmup-ms", "0", "--duration-s", "0")
    assert r.returncode == 0, r.stderr
    assert "REDUCED" not in r.stdout and "no CUDA device" not in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.startswith("RS-50 "))
    assert row.split()[1:2] == ["32"]
    assert "at least 3 runs" in r.stdout


def test_each_precision_is_a_row_and_a_refused_one_does_not_stop_the_others(tmp_path):
    """--precision takes a list; the library's refusal of one precision (here the CPU backend's,
    on a GPU build without RESNETRS_UNVERIFIED_GPU the gate's) is that row's error."""
    path = tmp_path / "p.json"
    r = run_bench("--model", "rs50", "--res", "32", "--batch", "1", "--iterations", "1", "--warmup-ms", "0",
                  "--duration-s", "0", "--precision", "fp16,fp32,fp32x3", "--json", str(path))
    assert r.returncode == 1, r.stderr  # a config failed
    doc = json.loads(path.read_text())
    S.validate(doc, "resnetrs-bench --json")
    rows = [(x["precision"], x["status"]) for x in doc["results"]]
    assert rows == [("fp16", "error"), ("fp32", "ok"), ("fp32x3", "error")]
    assert all("INVALID_ARGUMENT" in x["error"] for x in doc["results"] if x["status"] == "error")
    lines = r.stdout.splitlines()
    assert "engine: precision fp16, fp32 (strict, no TF32), fp32x3, CUDA graph n/a, weights synthetic" in lines
    assert any(line.split()[:4] == ["RS-50", "32", "fp16", "error:"] for line in lines)
    assert any(line.split()[:3] == ["RS-50", "32", "fp32"] and "error" not in line for line in lines)
    assert "[2/3] RS-50 @32 fp32 batch 1: median" in r.stderr


def test_json_is_written_by_nlohmann_in_the_documented_order(tmp_path):
    """The document's keys come in the order docs/benchmarks.md lists them; strings with quotes,
    backslashes and control characters survive; integral floats stay floats."""
    path = tmp_path / "w.json"
    weird = str(tmp_path / 'no "such" \\ file\t.h5')
    r = run_bench("--backend", "cpu", "--model", "rs50", "--res", "32", "--batch", "1", "--iterations", "1",
                  "--weights", weird, "--json", str(path))
    assert r.returncode == 1
    text = path.read_text()
    doc = json.loads(text)
    S.validate(doc, "resnetrs-bench --json")
    assert list(doc) == ["schema", "schema_version", "producer", "created_utc", "command", "environment", "protocol",
                         "results"]
    assert list(doc["environment"])[:3] == ["backend", "device_name", "compute_capability"]
    (row,) = doc["results"]
    assert list(row) == ["model", "depth", "resolution", "mode", "precision", "layout", "cuda_graph", "backend",
                         "cpu_threads", "cpu_winograd", "weights", "batch_requested", "batch", "status", "error"]
    assert (row["backend"], row["cpu_threads"], row["cpu_winograd"]) == ("cpu", None, "auto")  # no engine: no threads
    assert row["weights"] == weird and weird in row["error"]
    assert '"warmup_ms": 200.0' in text  # a float, as the schema's readers expect


def test_a_failing_config_is_reported_and_exits_1():
    r = run_bench("--backend", "cpu", "--model", "rs50", "--res", "32", "--batch", "1", "--iterations", "1",
                  "--weights", "/nonexistent/rs50.h5")
    assert r.returncode == 1
    assert "error: IO_ERROR" in r.stdout and "/nonexistent/rs50.h5" in r.stdout



# ---- the CPU backend asked for: --backend cpu, --threads, --winograd ---------------------------------

def cpuinfo_value(key):
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.strip() == key:
                return v.strip()
    return ""


def test_explicit_cpu_backend_runs_the_configs_asked_with_the_full_protocol(tmp_path):
    """--backend cpu --table runs the release configs (here RS-50's only one, @160), batch 1 by
    default, not the reduced table; --threads and --winograd reach the engine and the JSON, with the
    processor's name and ISA flags and RESNETRS_CPU_ISA."""
    path = tmp_path / "cpu.json"
    env = {"RESNETRS_CPU_ISA": "generic"}  # every x86-64 runs it; recorded in the environment
    r = run_bench("--backend", "cpu", "--model", "rs50", "--table", "--iterations", "2", "--warmup-ms", "0",
                  "--duration-s", "0", "--threads", "2", "--winograd", "off", "--json", str(path), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "REDUCED" not in r.stdout and "no CUDA device" not in r.stdout
    assert "cpu: threads 2, winograd off; processor flags: " in r.stdout and "RESNETRS_CPU_ISA=generic" in r.stdout
    doc = json.loads(path.read_text())
    S.validate(doc, "resnetrs-bench --json")
    assert doc["protocol"]["reduced_cpu_table"] is False and doc["protocol"]["min_iterations"] == 2
    (res,) = doc["results"]
    assert (res["depth"], res["resolution"], res["batch"], res["batch_requested"]) == (50, 160, 1, 1)
    assert (res["backend"], res["cpu_winograd"], res["cuda_graph"]) == ("cpu", "off", False)
    # ENGINE-DEPENDENT (issue 20): the threads the engine resolved, 0 until the fast CPU engine reports them
    assert res["cpu_threads"] == 2
    assert "2 threads" in r.stderr  # the progress line
    e = doc["environment"]
    assert e["host_cpu"] == (cpuinfo_value("model name") or "unknown")
    have = cpuinfo_value("flags").split()
    assert e["host_cpu_flags"] == [f for f in S.CPU_ISA_FLAGS if f in have]
    assert e["cpu_isa_env"] == "generic"


def test_threads_without_backend_is_a_cpu_run_not_the_reduced_table(tmp_path):
    path = tmp_path / "t.json"
    r = run_bench("--model", "rs50", "--res", "32", "--iterations", "1", "--warmup-ms", "0", "--duration-s", "0",
                  "--threads", "1", "--json", str(path))
    assert r.returncode == 0, r.stderr
    doc = json.loads(path.read_text())
    S.validate(doc, "resnetrs-bench --json")
    (res,) = doc["results"]
    assert doc["protocol"]["reduced_cpu_table"] is False and res["batch"] == 1  # the CPU's default batch
    assert res["cpu_winograd"] == "auto" and doc["environment"]["cpu_isa_env"] == os.environ.get("RESNETRS_CPU_ISA")
    r = run_bench("--table", "--model", "rs50", "--winograd", "fast", "--iterations", "1", "--warmup-ms", "0",
                  "--duration-s", "0", "--batch", "1", "--json", str(path))
    assert r.returncode == 0, r.stderr
    assert "REDUCED" not in r.stdout and json.loads(path.read_text())["results"][0]["resolution"] == 160


def test_schema_checks_the_cpu_fields():
    doc = json.loads(open(OURS_FIXTURE).read())
    doc["environment"]["host_cpu_flags"] = ["avx2", "sse9"]
    doc["results"][0].update(backend="tpu", cpu_threads=-2, cpu_winograd="slow")
    problems = "\n".join(S.validation_problems(doc))
    for fragment in ("host_cpu_flags", "backend: expected 'cuda' or 'cpu'", "cpu_threads: expected 0..1024",
                     "cpu_winograd: expected one of"):
        assert fragment in problems, problems
    doc = json.loads(open(OURS_FIXTURE).read())  # an older file without them still follows the schema
    assert "cpu_threads" not in doc["results"][0] and not S.validation_problems(doc)


def test_join_keeps_cpu_thread_counts_and_winograd_modes_apart(tmp_path):
    """Runs of 1 and 2 threads (the scaling) and of another Winograd mode are separate series."""
    base = json.loads(open(OURS_FIXTURE).read())
    base["environment"]["backend"] = "cpu"
    paths = []
    for threads, winograd in ((1, "auto"), (2, "auto"), (2, "fast")):
        doc = json.loads(json.dumps(base))
        for res in doc["results"]:
            res.update(cuda_graph=False, backend="cpu", cpu_threads=threads, cpu_winograd=winograd)
        paths.append(tmp_path / f"t{threads}{winograd}.json")
        paths[-1].write_text(json.dumps(doc))
    r = run_py("join_results.py", *map(str, paths))
    assert r.returncode == 0, r.stderr
    header = r.stdout.splitlines()[0]
    for label in ("ours (CPU, 1 thread) fp32 ms", "ours (CPU, 2 threads) fp32 ms",
                  "ours (CPU, 2 threads, winograd fast) fp32 ms"):
        assert label in header, header

# ---- the join script ------------------------------------------------------------------------------

def test_fixtures_follow_the_schema():
    for path in (OURS_FIXTURE, TORCH_FIXTURE):
        doc = S.load(path)
        assert doc["results"]
    assert S.load(OURS_FIXTURE)["producer"]["name"] == "resnetrs-bench"
    assert S.load(TORCH_FIXTURE)["producer"]["name"] == "torch_peer"


def test_join_writes_text_markdown_json_and_chart(tmp_path):
    png, md, js = tmp_path / "chart.png", tmp_path / "joined.md", tmp_path / "joined.json"
    r = run_py("join_results.py", OURS_FIXTURE, TORCH_FIXTURE, "--png", str(png), "--markdown", str(md),
               "--json", str(js))
    assert r.returncode == 0, r.stderr
    assert "ours fp32 graph / torch eager fp32 nchw" in r.stdout  # ratio of the same precision only
    assert "tf32 nhwc" in r.stdout and "ours fp32 graph / torch eager tf32" not in r.stdout
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000
    table = first_table(md.read_text())
    assert len(table) == 2 + 4  # header, rule, four configs
    memory = md.read_text().split("Peak device memory (GiB)")[1]
    assert "| RS-420 @320 | 21.00 | 54.52 | 21.33 |" in memory  # the second table: GiB per series
    joined = json.loads(js.read_text())
    rows = {(x["depth"], x["resolution"]): x for x in joined["rows"]}
    ratio = rows[(50, 160)]["ratios"]["ours fp32 graph / torch eager fp32 nchw"]
    assert ratio["ratio"] == pytest.approx(19.81 / 27.01, rel=0.01) and not ratio["batches_differ"]
    # RS-420: ours ran batch 64, PyTorch 128: compared per image and marked.
    r420 = rows[(420, 320)]["ratios"]["ours fp32 graph / torch eager fp32 nchw"]
    assert r420["batches_differ"] and r420["ratio"] == pytest.approx((205.1 / 64) / (545.47 / 128), rel=0.01)
    assert rows[(350, 320)]["cells"]["ours fp32 graph"] == {"error": S.load(OURS_FIXTURE)["results"][2]["error"]}
    assert "| RS-420 @320 | 205.10 (b64) |" in md.read_text()


def test_join_with_real_cpu_results(cpu_table, tmp_path):
    _, doc = cpu_table
    ours = tmp_path / "cpu.json"
    ours.write_text(json.dumps(doc))
    r = run_py("join_results.py", str(ours), TORCH_FIXTURE, "--png", str(tmp_path / "c.png"))
    assert r.returncode == 0, r.stderr
    # ours (CPU, N threads) fp32: the threads the engine resolved
    assert "ours (CPU" in r.stdout and ") fp32" in r.stdout and "RS-50 @64" in r.stdout
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)


def test_join_refuses_bad_inputs(tmp_path):
    bad = tmp_path / "bad.json"
    doc = json.loads(open(OURS_FIXTURE).read())
    del doc["results"][0]["latency_ms"]
    doc["results"][1]["precision"] = "fp64"
    bad.write_text(json.dumps(doc))
    r = run_py("join_results.py", str(bad), TORCH_FIXTURE)
    assert r.returncode == 1
    assert "does not follow" in r.stderr and "latency_ms" in r.stderr and "fp64" in r.stderr
    notjson = tmp_path / "x.json"
    notjson.write_text("{not json")
    r = run_py("join_results.py", str(notjson))
    assert r.returncode == 1 and "not JSON" in r.stderr
    r = run_py("join_results.py", str(tmp_path / "missing.json"))
    assert r.returncode == 1 and "no such file" in r.stderr
    r = run_py("join_results.py")
    assert r.returncode == 2


# ---- the PyTorch peer, without PyTorch ------------------------------------------------------------

def test_peer_flags():
    assert run_py("torch_peer.py", "--mode", "fp64").returncode == 2
    assert run_py("torch_peer.py", "--table", "--res", "160").returncode == 2
    assert run_py("torch_peer.py", "--res", "160").returncode == 2
    r = run_py("torch_peer.py", "--help")
    assert r.returncode == 0 and "--compile" in r.stdout
    a = torch_peer.parse_args(["--model", "rs152"])
    assert torch_peer.config_list(a) == [(152, 192)]
    assert torch_peer.config_list(torch_peer.parse_args(["--model", "rs152", "--table"])) == [(152, 192), (152, 224), (152, 256)]
    assert len(torch_peer.config_list(torch_peer.parse_args([]))) == 11


def test_peer_without_torch_says_so():
    try:
        import torch  # noqa: F401
        pytest.skip("PyTorch is installed here; this checks the message when it is not")
    except ImportError:
        pass
    r = run_py("torch_peer.py", "--model", "rs50")
    assert r.returncode == 1 and "needs PyTorch and timm" in r.stderr


def test_peer_document_follows_the_schema():
    runs = {"warmup_iterations": 5, "warmup_s": 0.2, "timed_s": 1.1,
            "samples": [(27.0 + 0.1 * i, 27.3 + 0.1 * i, 0.9) for i in range(12)]}
    ok = torch_peer.make_result(50, 160, 128, 64, torch_peer.Variant("tf32", "nhwc", "default"), 35_691_912, 6.5, runs,
                                {"peak_bytes": 3 << 30, "after_build_bytes": 200 << 20, "after_runs_bytes": 300 << 20}, True)
    err = torch_peer.error_result(420, 320, 128, 1, torch_peer.Variant("fp32", "nchw", None), "OUT_OF_MEMORY: batch 1 does not fit")
    env = {"backend": "cuda", "device_name": "NVIDIA H200", "compute_capability": "9.0", "sm_count": 132,
           "device_memory_bytes": 150 << 30, "driver_version": "13.0", "cuda_runtime_version": "13.0",
           "cudnn_version": torch_peer.version_triple(91900), "cublas_version": None, "host_cpu": "x", "host_cores": 16,
           "software": {"torch": "2.11.0", "timm": "1.0.29"}}
    proto = {"warmup_ms": 200.0, "min_iterations": 10, "min_duration_s": 1.0, "clock": "cuda_event",
             "data_transfers": "excluded", "synchronization": "per_iteration", "percentiles": "nearest_rank",
             "reduced_cpu_table": False}
    doc = torch_peer.make_document(env, proto, [ok, err], "torch_peer.py --model rs50", "2.11.0")
    S.validate(json.loads(json.dumps(doc)), "peer document")
    assert ok["mode"] == "torch-compile" and ok["layout"] == "nhwc" and ok["gflops_per_image"] == pytest.approx(4.56)
    assert ok["release_v100_train_step_s"] == 0.31 and env["cudnn_version"] == "9.19.0"
    assert ok["latency_ms"]["p90"] == pytest.approx(27.0 + 0.1 * 10)  # nearest rank: 11th of 12


def test_percentiles_are_nearest_rank():
    s = S.summarize(list(range(1, 101)))
    assert (s["median"], s["p90"], s["p95"], s["p99"], s["min"], s["max"]) == (50.5, 90, 95, 99, 1, 100)
    assert S.summarize([3.0])["p99"] == 3.0
    assert S.summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])["p95"] == 10  # ceil(9.5) = 10th


def test_peer_halves_the_batch_on_out_of_memory(monkeypatch):
    tried = []

    def fake_measure(torch, timm, depth, res, batch, variant, protocol, device):
        tried.append(batch)
        if batch > 32:
            raise torch_peer.OutOfMemory("CUDA out of memory")
        runs = {"warmup_iterations": 1, "warmup_s": 0.2, "timed_s": 1.0, "samples": [(10.0, 10.2, 0.5)] * 10}
        return torch_peer.make_result(depth, res, batch, batch, variant, 1000, 1.0, runs,
                                      {"peak_bytes": 1, "after_build_bytes": 1, "after_runs_bytes": 1}, True)

    monkeypatch.setattr(torch_peer, "measure", fake_measure)
    eager = torch_peer.Variant("fp32", "nchw", None)
    a = torch_peer.parse_args(["--model", "rs420", "--res", "320"])
    r = torch_peer.run_config(None, None, 420, 320, a, eager, {}, 1, 1)
    assert tried == [128, 64, 32] and r["batch"] == 32 and r["batch_requested"] == 128
    # An explicit --batch is never halved: the config fails instead.
    tried.clear()
    a = torch_peer.parse_args(["--model", "rs420", "--res", "320", "--batch", "64"])
    r = torch_peer.run_config(None, None, 420, 320, a, eager, {}, 1, 1)
    assert tried == [64] and r["status"] == "error" and "OUT_OF_MEMORY" in r["error"]


# ---- the peer's precisions, layouts and compile modes (issue 12 item 5), without PyTorch ----------

V = torch_peer.Variant


def test_peer_mode_flags_are_checked():
    for args, fragment in [(["--mode", "fp8"], "--mode: expected"), (["--layout", "chw"], "--layout: expected"),
                           (["--compile-mode", "fast"], "--compile-mode: expected"),
                           (["--no-eager"], "--no-eager needs --compile")]:
        r = run_py("torch_peer.py", *args)
        assert r.returncode == 2 and fragment in r.stderr, (args, r.stderr)
    r = run_py("torch_peer.py", "--help")
    for flag in ("--layout", "--compile-mode", "--no-eager", "max-autotune", "bf16"):
        assert flag in r.stdout, flag


def test_peer_variants_per_precision_layout_and_compile_mode():
    def variants(*argv):
        return torch_peer.variant_list(torch_peer.parse_args(list(argv)))

    assert variants() == [V("fp32", "nchw", None)]
    # auto: NCHW for strict fp32, channels_last for the others (what a user picks).
    assert variants("--mode", "fp32,tf32,fp16,bf16") == [V("fp32", "nchw", None), V("tf32", "nhwc", None),
                                                       V("fp16", "nhwc", None), V("bf16", "nhwc", None)]
    # --compile: inductor's default mode; --compile-mode implies --compile; eager comes first.
    assert variants("--mode", "fp16", "--compile") == [V("fp16", "nhwc", None), V("fp16", "nhwc", "default")]
    assert variants("--mode", "fp16,bf16", "--compile-mode", "max-autotune") == [
        V("fp16", "nhwc", None), V("fp16", "nhwc", "max-autotune"), V("bf16", "nhwc", None), V("bf16", "nhwc", "max-autotune")]
    # channels_last fp32 on request; 'auto' duplicates dropped.
    assert variants("--layout", "auto,nchw,nhwc") == [V("fp32", "nchw", None), V("fp32", "nhwc", None)]
    assert variants("--mode", "tf32", "--no-eager", "--compile-mode", "default,max-autotune") == [
        V("tf32", "nhwc", "default"), V("tf32", "nhwc", "max-autotune")]


def test_peer_variant_mode_names_and_cuda_graphs():
    assert V("fp32", "nchw", None).mode == "torch-eager"
    assert V("fp32", "nchw", "default").mode == "torch-compile"  # as recorded before compile modes
    assert V("fp16", "nhwc", "max-autotune").mode == "torch-compile-max-autotune"
    assert [V("fp16", "nhwc", m).cuda_graph for m in (None, "default", "reduce-overhead", "max-autotune",
                                                      "max-autotune-no-cudagraphs")] == [False, False, True, True, False]
    assert V("bf16", "nhwc", "max-autotune").describe() == "compile max-autotune bf16 nhwc"


def test_peer_protocol_resets_between_warmup_and_timing():
    log = []
    runs = torch_peer.run_protocol({"warmup_ms": 0.0, "min_iterations": 3, "min_duration_s": 0.0},
                                   lambda: log.append("w"), lambda: (log.append("i"), (1.0, 1.0, 1.0))[1],
                                   after_warmup=lambda: log.append("reset"))
    assert log == ["w", "reset", "i", "i", "i"] and len(runs["samples"]) == 3


def fake_runs(median_ms):
    return {"warmup_iterations": 3, "warmup_s": 0.2, "timed_s": 1.0,
            "samples": [(median_ms * f, median_ms * f + 0.3, 0.1) for f in (0.99, 1.0, 1.01, 1.0, 1.02)]}


def peer_doc(entries):
    """A torch_peer document from (depth, res, batch, Variant, median ms) with invented numbers;
    batch 128 requested (a smaller batch is one halved on out-of-memory)."""
    results = []
    for depth, res, batch, variant, ms in entries:
        results.append(torch_peer.make_result(depth, res, 128, batch, variant, 1000, 30.0, fake_runs(ms),
                                              {"peak_bytes": 3 << 30, "steady_peak_bytes": 1 << 30,
                                               "after_build_bytes": 1 << 29, "after_runs_bytes": 1 << 29}, True))
    doc = S.load(TORCH_FIXTURE)
    doc["results"] = results
    doc["command"] = "FIXTURE built by test_bench_cli.py: invented numbers"
    return doc


def test_peer_half_precision_compiled_result_follows_the_schema():
    doc = peer_doc([(50, 160, 128, V("fp16", "nhwc", "max-autotune"), 4.1)])
    S.validate(json.loads(json.dumps(doc)), "peer document")
    (r,) = doc["results"]
    assert (r["mode"], r["precision"], r["layout"], r["cuda_graph"], r["compile_mode"]) == (
        "torch-compile-max-autotune", "fp16", "nhwc", True, "max-autotune")
    assert r["memory"]["steady_peak_bytes"] == 1 << 30
    # The optional keys are type-checked when present.
    r["memory"]["steady_peak_bytes"] = "1 GiB"
    r["compile_mode"] = 3
    problems = S.validation_problems(json.loads(json.dumps(doc)))
    assert any("steady_peak_bytes" in p for p in problems) and any("compile_mode" in p for p in problems)


def test_join_each_precision_against_eager_compiled_and_the_best(tmp_path):
    ours = S.load(OURS_FIXTURE)
    ok = [r for r in ours["results"] if r["status"] == "ok" and r["depth"] == 50]
    results = []
    for prec, ms in (("fp32", 18.0), ("fp16", 3.0), ("bf16", 3.3)):
        r = json.loads(json.dumps(ok[0]))
        r["precision"], r["layout"] = prec, ("nchw" if prec == "fp32" else "nhwc")
        r["latency_ms"] = S.summarize([ms] * 5)
        r["samples_ms"], r["iterations"] = [ms] * 5, 5
        results.append(r)
    ours["results"] = results
    peer = peer_doc([
        (50, 160, 128, V("fp32", "nchw", None), 27.0), (50, 160, 128, V("fp32", "nchw", "max-autotune"), 25.9),
        (50, 160, 128, V("fp16", "nhwc", None), 9.1), (50, 160, 128, V("fp16", "nhwc", "max-autotune"), 4.1),
        (50, 160, 64, V("bf16", "nhwc", None), 4.0), (50, 160, 128, V("bf16", "nhwc", "max-autotune"), 8.4),
    ])
    paths = []
    for name, doc in (("ours.json", ours), ("peer.json", peer)):
        (tmp_path / name).write_text(json.dumps(doc))
        paths.append(str(tmp_path / name))
    js, md = tmp_path / "joined.json", tmp_path / "joined.md"
    r = run_py("join_results.py", *paths, "--json", str(js), "--markdown", str(md))
    assert r.returncode == 0, r.stderr
    joined = json.loads(js.read_text())
    # Same precision only: fp16 against both fp16 series, never against fp32 or bf16.
    names = joined["ratios"]
    assert "ours fp16 graph / torch eager fp16 nhwc" in names
    assert "ours fp16 graph / torch compile-max-autotune fp16 nhwc" in names
    assert not any(n.startswith("ours fp16") and ("fp32" in n or "bf16" in n) for n in names)
    assert not any(n.startswith("ours fp32") and "fp16" in n for n in names)
    (row,) = joined["rows"]
    ratios = row["ratios"]
    assert ratios["ours fp16 graph / torch compile-max-autotune fp16 nhwc"]["ratio"] == pytest.approx(3.0 / 4.1, rel=1e-3)
    # The strongest PyTorch per precision: max-autotune for fp16, fp32; for bf16 the eager run at
    # batch 64 is faster per image (4.0/64 < 8.4/128) and is marked as a different batch.
    best16 = ratios["ours fp16 graph / best torch fp16"]
    assert best16["against"] == "torch compile-max-autotune fp16 nhwc" and best16["ratio"] == pytest.approx(3.0 / 4.1, rel=1e-3)
    assert ratios["ours fp32 graph / best torch fp32"]["against"] == "torch compile-max-autotune fp32 nchw"
    best_bf16 = ratios["ours bf16 graph / best torch bf16"]
    assert best_bf16["against"] == "torch eager bf16 nhwc" and best_bf16["batches_differ"]
    assert best_bf16["ratio"] == pytest.approx((3.3 / 128) / (4.0 / 64), rel=1e-3)
    assert "ours bf16 graph / best torch bf16" in r.stdout and "0.41*" in r.stdout
    table = first_table(md.read_text())
    assert len(table) == 3 and table[2].startswith("| RS-50 @160 |")


# ---- the peer for scripts/device-check (issue 18 item 6): config and batch lists, the time ----------
# ---- budget, compile time reported apart from the latency --------------------------------------

def test_peer_config_and_batch_lists():
    a = torch_peer.parse_args(["--config", "rs50@160,rs152@256,rs420@320,rs50@160", "--batch", "128,1,128"])
    assert torch_peer.config_list(a) == [(50, 160), (152, 256), (420, 320)]  # repeats dropped, order kept
    assert a.batches == [128, 1]
    assert torch_peer.parse_args(["--model", "rs50", "--batch", "64"]).batches == [64]
    assert torch_peer.parse_args([]).batches is None
    for args, fragment in [(["--config", "rs50"], "--config: expected MODEL@RES"),
                           (["--config", "rs51@160"], "--config: expected MODEL@RES"),
                           (["--config", "rs50@16"], "--config: expected MODEL@RES"),
                           (["--config", "rs50@160", "--model", "rs50"], "cannot be combined"),
                           (["--batch", "0"], "--batch must be a positive integer"),
                           (["--batch", "128,x"], "--batch must be a positive integer"),
                           (["--budget-s", "-1"], "--budget-s must not be negative"),
                           (["--compile-mode", "max-autotune,turbo"], "--compile-mode: expected")]:
        r = run_py("torch_peer.py", *args)
        assert r.returncode == 2 and fragment in r.stderr, (args, r.stderr)


def test_peer_compile_time_is_reported_apart_from_the_latency():
    runs = fake_runs(4.1)
    mem = {"peak_bytes": 3, "steady_peak_bytes": 2, "after_build_bytes": 1, "after_runs_bytes": 1}
    compiled = torch_peer.make_result(50, 160, 128, 128, V("fp16", "nhwc", "max-autotune"), 1000, 47.5, runs, mem, True,
                                      compile_s=45.0)
    eager = torch_peer.make_result(50, 160, 128, 128, V("fp16", "nhwc", None), 1000, 3.0, runs, mem, True, compile_s=2.5)
    assert compiled["compile_s"] == 45.0 and compiled["build_s"] == 47.5
    assert compiled["latency_ms"]["max"] < 5  # the compiling call is not a sample
    assert eager["compile_s"] is None  # eager compiles nothing
    doc = peer_doc([])
    doc["results"] = [compiled, eager]
    S.validate(json.loads(json.dumps(doc)), "peer document")
    doc["results"][0]["compile_s"] = "45 s"
    assert any("compile_s" in p for p in S.validation_problems(json.loads(json.dumps(doc))))


def test_peer_runs_configs_batches_variants_in_order_within_the_budget(tmp_path, monkeypatch):
    """Order: config, batch, variant; no run starts after --budget-s (error rows NOT_RUN, exit 0
    from main for those); the JSON is rewritten after each run."""
    started = []
    now = [0.0]

    def fake_run_config(torch, timm, depth, res, a, variant, protocol, index, count, batch=None):
        started.append((depth, batch, variant.precision, variant.compile_mode))
        now[0] += 40.0  # each compiled run takes 40 s
        return torch_peer.make_result(depth, res, batch, batch, variant, 1000, 41.0, fake_runs(4.0),
                                      {"peak_bytes": 1, "after_build_bytes": 1, "after_runs_bytes": 1}, True,
                                      compile_s=39.0)

    monkeypatch.setattr(torch_peer, "run_config", fake_run_config)
    out = tmp_path / "compiled.json"
    a = torch_peer.parse_args(["--config", "rs50@160", "--batch", "128,1", "--mode", "fp16,tf32",
                               "--compile-mode", "max-autotune", "--no-eager", "--budget-s", "100", "--json", str(out)])
    env = S.load(TORCH_FIXTURE)["environment"]
    proto = S.load(TORCH_FIXTURE)["protocol"]

    class FakeTorch:
        __version__ = "2.11.0"

    results = torch_peer.run_all(FakeTorch, None, a, torch_peer.config_list(a), proto, env, "torch_peer.py ...",
                                 clock=lambda: now[0])
    # 0 s, 40 s, 80 s start; at 120 s the budget of 100 s is spent.
    assert started == [(50, 128, "fp16", "max-autotune"), (50, 128, "tf32", "max-autotune"), (50, 1, "fp16", "max-autotune")]
    assert [r["status"] for r in results] == ["ok", "ok", "ok", "error"]
    assert results[3]["error"].startswith("NOT_RUN: the time budget (--budget-s 100)") and results[3]["batch"] == 1
    written = S.load(str(out))  # the last rewrite holds every row
    assert len(written["results"]) == 4 and not os.path.exists(str(out) + ".partial")


def test_join_keeps_batch_1_apart_and_compares_fp32x3_with_strict_fp32(tmp_path):
    ours = S.load(OURS_FIXTURE)
    base = next(r for r in ours["results"] if r["status"] == "ok" and r["depth"] == 50)
    results = []
    for prec, batch, ms in (("fp32", 128, 18.0), ("fp32x3", 128, 9.0), ("fp32", 1, 2.3), ("fp16", 1, 0.6)):
        r = json.loads(json.dumps(base))
        r["precision"], r["batch"], r["batch_requested"] = prec, batch, batch
        r["latency_ms"] = S.summarize([ms] * 5)
        r["samples_ms"], r["iterations"] = [ms] * 5, 5
        r["memory"]["peak_bytes"] = (1 << 30) if batch == 128 else (1 << 28)
        results.append(r)
    ours["results"] = results
    peer = peer_doc([(50, 160, 128, V("fp32", "nchw", None), 27.0)])
    p1 = torch_peer.make_result(50, 160, 1, 1, V("fp32", "nchw", None), 1000, 3.0, fake_runs(10.0),
                                {"peak_bytes": 3 << 28, "steady_peak_bytes": 1 << 28, "after_build_bytes": 1,
                                 "after_runs_bytes": 1}, True)
    peer["results"].append(p1)
    paths = []
    for name, doc in (("ours.json", ours), ("peer.json", peer)):
        (tmp_path / name).write_text(json.dumps(doc))
        paths.append(str(tmp_path / name))
    js, md = tmp_path / "joined.json", tmp_path / "joined.md"
    r = run_py("join_results.py", *paths, "--json", str(js), "--markdown", str(md))
    assert r.returncode == 0, r.stderr
    assert "repeats" not in r.stderr  # batch 1 is its own row, not a repeat of batch 128
    joined = json.loads(js.read_text())
    rows = {x["label"]: x for x in joined["rows"]}
    assert list(rows) == ["RS-50 @160", "RS-50 @160 b1"]
    assert rows["RS-50 @160"]["ratios"]["ours fp32x3 graph / torch eager fp32 nchw"]["ratio"] == pytest.approx(9.0 / 27.0)
    assert rows["RS-50 @160 b1"]["ratios"]["ours fp32 graph / torch eager fp32 nchw"]["ratio"] == pytest.approx(2.3 / 10.0)
    assert rows["RS-50 @160 b1"]["cells"]["ours fp32x3 graph"] is None
    text = md.read_text()
    assert "| RS-50 @160 b1 | 2.30 | - | 0.60 | 10.00 |" in text  # no '(b1)' mark: the row's own batch
    # Memory: ours peak (cudaMemGetInfo), PyTorch's steady state where measured.
    assert "| RS-50 @160 b1 | 0.25 | - | 0.25 | 0.25 |" in text.split("Peak device memory (GiB)")[1]
