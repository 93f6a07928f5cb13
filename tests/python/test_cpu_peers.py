"""The CPU peer benchmark's pure parts (benchmarks/peers: cpu_peers.py, sgemm_ceiling.py,
join_cpu_results.py, cpu_machine.py), without torch, ONNX Runtime or OpenVINO: config parsing, the
rows and documents against the shared schema, the SGEMM arithmetic and its schema, and the join of
sample documents (ratios against the best of ONNX Runtime and OpenVINO, the goal column, missing and
failed peers, the ceiling columns, thread scaling) through its command line into markdown, JSON and
a PNG. The sample numbers are invented for these tests.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(REPO, "benchmarks", "peers")
sys.path.insert(0, PEERS)

import bench_schema as S  # noqa: E402
import cpu_machine  # noqa: E402
import cpu_peers as P  # noqa: E402
import join_cpu_results as J  # noqa: E402
import sgemm_ceiling as G  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---- sample documents ---------------------------------------------------------------------------

def runs(ms, n=10):
    """Fake protocol output: n samples spread around `ms` (median exactly ms)."""
    samples = [ms * (1 + 0.01 * (i - n // 2)) for i in range(n)]
    samples[n // 2] = ms
    if n % 2 == 0:
        samples[n // 2 - 1] = ms
    return {"warmup_iterations": 3, "warmup_s": 1.0, "timed_s": sum(samples) / 1e3,
            "samples": [(s, s, s) for s in samples]}


def peer_row(peer, config, threads, ms_per_batch):
    return P.ok_row(peer, config, threads, 35_700_000, 2.0, runs(ms_per_batch), True, 3e-7, {"sample": True})


def peers_doc(rows):
    protocol = {"warmup_ms": 1000.0, "min_iterations": 10, "min_duration_s": 3.0, "clock": "steady_clock",
                "data_transfers": "excluded", "synchronization": "per_iteration", "percentiles": "nearest_rank",
                "reduced_cpu_table": False}
    return P.make_document(rows, protocol, {"python": "3.11", "torch": "2.15.0", "onnxruntime": "1.32.0",
                                            "openvino": "2026.4.1"}, "cpu_peers.py SAMPLE for tests")


def ours_doc(config, threads, ms_per_batch, thread_field="command", gflops=4.5639):
    """A resnetrs-bench --backend cpu document (one config), the thread count given where
    `thread_field` says: in the command line, the environment, or the row."""
    doc = peers_doc([P.ok_row("resnetrs", config, threads, 35_700_000, 0.5, runs(ms_per_batch), True, None, {})])
    doc["producer"] = {"name": "resnetrs-bench", "version": "0.1.0"}
    doc["command"] = f"resnetrs-bench --backend cpu --model rs{config[0]} --res {config[1]} --batch {config[2]}"
    r = doc["results"][0]
    for k in ("cpu_threads", "max_rel_diff_vs_torch", "settings", "compile_mode"):
        r.pop(k)
    r.update(weights="synthetic:seed=1", gflops_per_image=gflops, cpu_winograd="auto")
    if thread_field == "command":
        doc["command"] += f" --threads {threads}"
    elif thread_field == "software":
        doc["environment"]["software"] = {"library_version": "0.1.0", "cpu_threads": threads}
    elif thread_field == "row":
        r["cpu_threads"] = threads
    elif thread_field == "row-threads":
        r["threads"] = threads
    return doc


def sgemm_doc(gflops_by_threads):
    results = []
    for t, (numpy_g, torch_g) in gflops_by_threads.items():
        for lib, g in (("numpy", numpy_g), ("torch", torch_g)):
            ms = G.gemm_flop(2048) / (g * 1e9) * 1e3
            raw = {"warmup_iterations": 2, "samples_ms": [ms] * 10, "max_rel_error": 1e-7,
                   "software": {"blas": "openblas" if lib == "numpy" else "mkl", "kernel": "SkylakeX" if lib == "numpy" else None}}
            results.append(G.result_from(lib, t, 2048, raw))
    return {"schema": G.SCHEMA, "schema_version": G.SCHEMA_VERSION, "created_utc": "2026-12-08T00:00:00Z",
            "command": "sgemm_ceiling.py SAMPLE", "n": 2048, "host_cpu": "Sample CPU", "host_cores": 2,
            "protocol": {}, "results": results, "ceiling": G.ceilings(results)}


RS50_B1, RS50_B8, RS101_B1 = (50, 160, 1), (50, 160, 8), (101, 192, 1)


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


# ---- cpu_peers ----------------------------------------------------------------------------------

def test_configs_parse_with_batch_1_by_default_and_refuse_bad_items():
    assert P.parse_configs("rs50@160b8, rs101@192,rs50@160b8") == [(50, 160, 8), (101, 192, 1)]
    assert P.parse_configs(P.DEFAULT_CONFIGS) == [(50, 160, 1), (50, 160, 8), (101, 192, 1), (152, 256, 1)]
    for bad in ("rs51@160", "rs50@16", "rs50@160b0", "rs50-160", "rs50@160x8", ""):
        with pytest.raises(ValueError):
            P.parse_configs(bad)


def test_peer_flags_are_checked():
    for argv, fragment in ((["--peers", "tensorflow"], "--peers"), (["--threads", "0"], "--threads"),
                           (["--threads", "a"], "--threads"), (["--config", "rs7@160"], "--config"),
                           (["--iterations", "0"], "--iterations")):
        p = subprocess.run([sys.executable, os.path.join(PEERS, "cpu_peers.py"), *argv], capture_output=True, text=True)
        assert p.returncode == 2 and fragment in p.stderr, (argv, p.stderr)
    a = P.parse_args(["--threads", "2,1,2", "--peers", "openvino,onnxruntime"])
    assert a.thread_list == [2, 1] and a.peer_list == ["openvino", "onnxruntime"]


def test_peer_rows_and_document_follow_the_schema():
    rows = [peer_row(p, RS50_B8, 2, 240.0) for p in P.PEERS]
    rows.append(P.error_row("openvino", RS101_B1, 1, "RuntimeError: sample failure"))
    doc = peers_doc(rows)
    S.validate(doc, "sample peers document")
    r = rows[0]
    assert r["cpu_threads"] == 2 and r["batch"] == 8 and r["precision"] == "fp32" and r["mode"] == "pytorch-eager-nchw"
    assert r["latency_ms"]["median"] == pytest.approx(240.0)
    assert r["images_per_s"] == pytest.approx(8 * 10 / r["timed_s"])
    assert r["gflops_per_image"] == pytest.approx(2 * 2.28)
    assert [x["layout"] for x in rows[:4]] == ["nchw", "nhwc", "nchw", "nchw"]
    assert doc["environment"]["backend"] == "cpu" and doc["protocol"]["clock"] == "steady_clock"


def test_relative_difference_separates_fp32_from_bf16():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((2, 1000)).astype(np.float64) * 3
    fp32 = ref.astype(np.float32)
    # bf16: 8 bits of mantissa, the rounding a bf16 datapath would leave on the logits
    bf16 = (fp32.view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    assert P.relative_difference(np, fp32, ref) < 1e-6
    assert P.relative_difference(np, bf16, ref) > P.FP32_REL_TOLERANCE
    assert P.not_fp32_message(0.02).startswith("NOT_FP32")


def test_rows_that_are_not_finite_or_not_fp32_become_errors_that_still_validate():
    def row(finite, rel):
        return P.judged(P.ok_row("openvino", RS50_B1, 2, 1, 1.0, runs(30.0), finite, rel, {}))
    assert row(True, 5e-7)["status"] == "ok"
    r = row(True, 2e-2)
    assert r["status"] == "error" and r["error"].startswith("NOT_FP32") and r["latency_ms"]["median"] == 30.0
    assert row(False, float("nan"))["error"].startswith("NON_FINITE")
    assert row(True, float("nan"))["status"] == "error"  # a NaN difference is no agreement
    assert row(False, float("nan"))["max_rel_diff_vs_torch"] is None  # JSON has no NaN
    doc = peers_doc([row(True, 2e-2), row(False, float("nan"))])
    S.validate(json.loads(json.dumps(doc, allow_nan=False)), "judged rows")


def test_machine_slug():
    assert cpu_machine.machine_slug("Intel(R) Xeon(R) Processor", 2) == "intel-xeon-2c"
    assert cpu_machine.machine_slug("AMD EPYC 7B13 64-Core Processor", 8) == "amd-epyc-7b13-8c"
    assert cpu_machine.machine_slug("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", 6) == "intel-i7-8700-6c"
    assert cpu_machine.machine_slug("", 4) == "cpu-4c"
    assert cpu_machine.host_cores() >= 1


# ---- SGEMM ------------------------------------------------------------------------------------

def test_sgemm_arithmetic():
    assert G.gemm_flop(2048) == 2 * 2048 ** 3 == 17_179_869_184
    assert G.gflops(2048, 0.1) == pytest.approx(171.79869184)
    assert G.ceiling_ms(4.56, 152.0) == pytest.approx(30.0)
    with pytest.raises(ValueError):
        G.gflops(2048, 0.0)
    with pytest.raises(ValueError):
        G.ceiling_ms(4.56, 0.0)


def test_sgemm_result_median_and_best_and_the_ceiling_picks_the_faster_library():
    raw = {"warmup_iterations": 1, "samples_ms": [100.0, 125.0, 200.0], "max_rel_error": 1e-7, "software": {}}
    r = G.result_from("numpy", 2, 2048, raw)
    assert r["status"] == "ok"
    assert r["gflops_median"] == pytest.approx(G.gemm_flop(2048) / 0.125 / 1e9)
    assert r["gflops_best"] == pytest.approx(G.gemm_flop(2048) / 0.100 / 1e9)
    doc = sgemm_doc({1: (80.0, 90.0), 2: (160.0, 150.0)})
    assert G.validation_problems(doc) == []
    assert [(c["threads"], c["library"]) for c in doc["ceiling"]] == [(1, "torch"), (2, "numpy")]
    assert G.ceiling_for(doc, 1) == pytest.approx(90.0) and G.ceiling_for(doc, 2) == pytest.approx(160.0)
    assert G.ceiling_for(doc, 4) is None
    assert doc["ceiling"][1]["by_library"] == {"numpy": pytest.approx(160.0), "torch": pytest.approx(150.0)}


def test_sgemm_wrong_product_is_an_error_and_left_out_of_the_ceiling():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 64), dtype=np.float32), rng.standard_normal((64, 64), dtype=np.float32)
    good = a @ b
    assert G.check_product(np, a, b, good) < 1e-6
    bad = good.copy()
    bad[:, :] *= 1.01  # every entry 1% off: any sampled entry shows it
    err = G.check_product(np, a, b, bad)
    assert err > G.CHECK_RTOL
    raw = {"warmup_iterations": 1, "samples_ms": [50.0], "max_rel_error": err, "software": {}}
    r = G.result_from("numpy", 1, 2048, raw)
    assert r["status"] == "error" and r["error"].startswith("WRONG_RESULT")
    ok = G.result_from("torch", 1, 2048, dict(raw, max_rel_error=1e-7, samples_ms=[200.0]))
    assert G.ceilings([r, ok]) == [{"threads": 1, "gflops": ok["gflops_median"], "library": "torch",
                                    "by_library": {"torch": ok["gflops_median"]}}]


def test_sgemm_schema_problems_are_named():
    doc = sgemm_doc({1: (80.0, 90.0)})
    doc["results"][0]["gflops_median"] = -1
    doc["results"][1]["library"] = "eigen"
    doc.pop("ceiling")
    problems = "\n".join(G.validation_problems(doc))
    assert "gflops_median" in problems and "library" in problems and "$.ceiling" in problems


def test_numpy_worker_runs_without_the_openblas_overrides():
    base = {"PATH": "/bin", "OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "1048576"}
    env = G.worker_env("numpy", 2, base)
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env and env["PATH"] == "/bin"
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "2"
    torch_env = G.worker_env("torch", 1, base)  # only numpy's process loses them
    assert torch_env["OPENBLAS_CORETYPE"] == "Haswell" and torch_env["OPENBLAS_L2_SIZE"] == "1048576"
    assert base["OPENBLAS_CORETYPE"] == "Haswell"  # the caller's environment is left as it was


def test_sgemm_numpy_worker_measures_a_small_product(tmp_path):
    """The measuring path of a worker on a 64^3 product, in this process's environment as it is
    (the OpenBLAS overrides stay: tests never change them)."""
    pytest.importorskip("threadpoolctl")
    out = tmp_path / "raw.json"
    p = subprocess.run([sys.executable, os.path.join(PEERS, "sgemm_ceiling.py"), "--worker", "numpy",
                        "--threads", "1", "--n", "64", "--warmup-ms", "0", "--iterations", "3", "--duration-s", "0",
                        "--json", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    r = G.result_from("numpy", 1, 64, json.loads(out.read_text()))
    assert r["status"] == "ok" and r["iterations"] >= 3 and r["max_rel_error"] < 1e-5
    assert r["software"]["blas"] == "openblas" and r["software"]["kernel"] and r["software"]["blas_threads"] == 1
    assert r["gflops_median"] == pytest.approx(G.gflops(64, r["time_ms"]["median"] / 1e3))


# ---- the join -----------------------------------------------------------------------------------

def sample_run(tmp_path):
    """Ours at 1 and 2 threads for RS-50 b1, b8 and RS-101 b1; every peer, except: OpenVINO missing at
    RS-50 b8 2 threads, failed at RS-101 b1 1 thread, no ONNX Runtime at RS-101 b1 at all, and
    PyTorch channels_last not fp32 at RS-50 b8 1 thread."""
    paths = []
    ours = {(RS50_B1, 1): 50.0, (RS50_B1, 2): 27.0, (RS50_B8, 1): 400.0, (RS50_B8, 2): 208.0,
            (RS101_B1, 1): 150.0, (RS101_B1, 2): 80.0}
    for i, ((c, t), ms) in enumerate(ours.items()):
        field = ("command", "software", "row")[i % 3]
        gflops = 2 * 6.01 if c == RS101_B1 else 4.5639
        paths.append(write(tmp_path, f"ours-{i}.json", ours_doc(c, t, ms, field, gflops)))
    rows = []
    for (c, t) in ours:
        scale = 1 if t == 1 else 0.55
        base = {RS50_B1: 60.0, RS50_B8: 480.0, RS101_B1: 160.0}[c] * scale
        rows += [peer_row("pytorch-eager-nchw", c, t, base * 2), peer_row("pytorch-eager-channels-last", c, t, base * 1.8)]
        if (c, t) == (RS50_B8, 1):  # a peer that did not compute in fp32: kept, shown, never compared
            rows[-1].update(status="error", error=P.not_fp32_message(0.02))
        if c != RS101_B1:
            rows.append(peer_row("onnxruntime", c, t, base))
        if (c, t) == (RS101_B1, 1):
            rows.append(P.error_row("openvino", c, t, "RuntimeError: sample failure"))
        elif (c, t) != (RS50_B8, 2):
            rows.append(peer_row("openvino", c, t, base * 0.95))
    paths.append(write(tmp_path, "peers.json", peers_doc(rows)))
    sgemm = write(tmp_path, "sgemm.json", sgemm_doc({1: (140.0, 152.0), 2: (270.0, 300.0)}))
    return paths, sgemm


def test_join_ratios_best_peer_goal_and_ceiling(tmp_path):
    paths, sgemm = sample_run(tmp_path)
    joined = J.join([(p, S.load(p)) for p in paths], G.load(sgemm))
    assert joined["series"] == ["resnetrs", "pytorch-eager-nchw", "pytorch-eager-channels-last", "onnxruntime", "openvino"]
    rows = {(r["label"], r["threads"]): r for r in joined["rows"]}
    assert len(rows) == 6

    r = rows[("RS-50 @160 b1", 1)]  # ORT 60, OpenVINO 57: OpenVINO is the best
    assert r["best_peer"] == "openvino" and r["best_peer_ms_per_image"] == pytest.approx(57.0)
    assert r["ratio"] == pytest.approx(50.0 / 57.0) and r["goal_met"] is True
    assert r["ceiling_gflops"] == pytest.approx(152.0)  # torch's, the faster at 1 thread
    assert r["ceiling_ms_per_image"] == pytest.approx(4.5639 / 152.0 * 1e3)
    assert r["pct_of_ceiling"]["resnetrs"] == pytest.approx(100 * (4.5639 / 152.0 * 1e3) / 50.0)

    r = rows[("RS-50 @160 b8", 1)]  # per image: ours 50, OpenVINO 57: met
    assert r["ms_per_image"]["resnetrs"] == pytest.approx(50.0)
    assert r["ratio"] == pytest.approx(50.0 / 57.0)

    r = rows[("RS-50 @160 b8", 2)]  # OpenVINO missing: ORT (264/8 = 33) alone; 26/33 = 0.79
    assert r["ms_per_image"]["openvino"] is None and "openvino" not in r["errors"]
    assert r["best_peer"] == "onnxruntime" and r["ratio"] == pytest.approx(26.0 / 33.0)
    assert r["ceiling_gflops"] == pytest.approx(300.0)

    r = rows[("RS-50 @160 b1", 2)]  # 27 against OpenVINO 31.35: 0.86, met
    assert r["goal_met"] is True and r["ratio"] == pytest.approx(27.0 / 31.35)

    r = rows[("RS-101 @192 b1", 1)]  # no ORT, OpenVINO failed: no ratio, no goal, the error kept
    assert r["best_peer"] is None and r["ratio"] is None and r["goal_met"] is None
    assert r["errors"]["openvino"].startswith("RuntimeError")
    assert r["gflops_per_image"] == pytest.approx(12.02)

    r = rows[("RS-101 @192 b1", 2)]  # ours 80 vs OpenVINO 83.6: 0.957, not met
    assert r["goal_met"] is False and r["ratio"] == pytest.approx(80.0 / (160 * 0.55 * 0.95))


def test_join_scaling_from_1_to_2_threads(tmp_path):
    paths, sgemm = sample_run(tmp_path)
    joined = J.join([(p, S.load(p)) for p in paths], G.load(sgemm))
    scaling = {x["label"]: x for x in joined["scaling"]}
    assert set(scaling) == {"RS-50 @160 b1", "RS-50 @160 b8", "RS-101 @192 b1"}
    s = scaling["RS-50 @160 b1"]
    assert (s["from_threads"], s["to_threads"]) == (1, 2)
    assert s["speedup"]["resnetrs"] == pytest.approx(50.0 / 27.0)
    assert s["speedup"]["onnxruntime"] == pytest.approx(1 / 0.55)
    assert scaling["RS-50 @160 b8"]["speedup"]["openvino"] is None  # missing at 2 threads
    assert scaling["RS-50 @160 b8"]["speedup"]["pytorch-eager-channels-last"] is None  # not fp32 at 1 thread
    assert scaling["RS-101 @192 b1"]["speedup"]["openvino"] is None  # failed at 1 thread


def test_join_command_line_writes_markdown_json_and_chart(tmp_path):
    paths, sgemm = sample_run(tmp_path)
    md, js, png = tmp_path / "joined.md", tmp_path / "joined.json", tmp_path / "chart.png"
    p = subprocess.run([sys.executable, os.path.join(PEERS, "join_cpu_results.py"), *paths, "--sgemm", sgemm,
                        "--markdown", str(md), "--json", str(js), "--png", str(png)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    table = [line for line in md.read_text().splitlines() if line.startswith("| RS-")]
    assert len(table) == 6 + 3  # six rows, then three scaling rows
    head = md.read_text().splitlines()[0]
    assert "ours / best(ORT, OV)" in head and "goal <= 0.9" in head and "SGEMM-ceiling ms/img" in head
    row = next(line for line in table if line.startswith("| RS-50 @160 b1 | 1 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2:7] == ["50.00", "120.00", "108.00", "60.00", "57.00"]
    assert cells[7:] == ["0.88", "met", "30.03", "60%", "53%"]
    failed = next(line for line in table if line.startswith("| RS-101 @192 b1 | 1 |"))
    assert "| - | error | - | - |" in failed
    assert "| RS-50 @160 b1 | 1 -> 2 | x1.85 |" in md.read_text()
    not_fp32 = next(line for line in table if line.startswith("| RS-50 @160 b8 | 1 |"))
    assert "| 50.00 | 120.00 | not fp32 | 60.00 | 57.00 | 0.88 | met |" in not_fp32
    assert "SGEMM ceiling, 2 thread(s): 300.0 GFLOP/s" in md.read_text()
    assert ", winograd auto on " in md.read_text()  # our runs say how they ran their 3x3 convolutions
    joined = json.loads(js.read_text())
    assert joined["goal_ratio"] == 0.9 and joined["goal_peers"] == ["onnxruntime", "openvino"]
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_join_without_ours_or_ceiling_leaves_those_columns_empty(tmp_path):
    paths, _ = sample_run(tmp_path)
    peers_only = [p for p in paths if p.endswith("peers.json")]
    joined = J.join([(p, S.load(p)) for p in peers_only], None)
    assert "resnetrs" not in joined["series"]
    assert all(r["ratio"] is None and r["ceiling_ms_per_image"] is None for r in joined["rows"])
    assert all(r["best_peer"] is not None for r in joined["rows"] if r["label"] != "RS-101 @192 b1" or r["threads"] == 2)
    p = subprocess.run([sys.executable, os.path.join(PEERS, "join_cpu_results.py"), *peers_only],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "no resnetrs-bench results" in p.stderr


def test_join_refuses_what_it_cannot_place(tmp_path):
    no_threads = ours_doc(RS50_B1, 1, 50.0, thread_field="nowhere")
    gpu = json.load(open(os.path.join(REPO, "tests", "data", "bench", "ours_h200_fixture.json")))
    broken = peers_doc([peer_row("onnxruntime", RS50_B1, 1, 30.0)])
    del broken["results"][0]["latency_ms"]
    for doc, fragment in ((no_threads, "cannot tell the thread count"), (gpu, "CPU results only"),
                          (broken, "latency_ms")):
        path = write(tmp_path, "in.json", doc)
        p = subprocess.run([sys.executable, os.path.join(PEERS, "join_cpu_results.py"), path],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 1 and fragment in p.stderr, (fragment, p.stderr)
    bad_sgemm = write(tmp_path, "sgemm.json", {"schema": "other"})
    ok = write(tmp_path, "ok.json", ours_doc(RS50_B1, 1, 50.0))
    p = subprocess.run([sys.executable, os.path.join(PEERS, "join_cpu_results.py"), ok, "--sgemm", bad_sgemm],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and G.SCHEMA in p.stderr


def test_join_takes_the_thread_count_from_row_environment_or_command():
    for field in ("row", "row-threads", "software", "command"):
        doc = ours_doc(RS50_B1, 3, 50.0, thread_field=field)
        assert J.threads_of(doc, doc["results"][0]) == 3, field
    doc = ours_doc(RS50_B1, 3, 50.0, thread_field="command")
    doc["results"][0]["cpu_threads"] = 0  # 'all the cores' is no count: the command's is taken
    assert J.threads_of(doc, doc["results"][0]) == 3
    doc = ours_doc(RS50_B1, 3, 50.0, thread_field="nowhere")
    doc["command"] += " --threads=4"
    assert J.threads_of(doc, doc["results"][0]) == 4


@pytest.mark.parametrize("args, fragment", [(["--threads", "x"], "--threads: 'x'"), (["--bogus"], "unknown argument"),
                                            (["--out"], "--out needs a folder"),
                                            (["--threads", " , "], "no thread count")])
def test_bench_cpu_refuses_bad_arguments_before_installing_anything(args, fragment):
    p = subprocess.run(["bash", os.path.join(REPO, "scripts", "bench-cpu"), *args], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and fragment in p.stderr, p.stderr


def test_bench_cpu_help_names_every_option():
    p = subprocess.run(["bash", os.path.join(REPO, "scripts", "bench-cpu"), "--help"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0
    for option in ("--out", "--threads", "--no-build", "--quick", "RESNETRS_BENCH", ".venv-bench-cpu"):
        assert option in p.stdout, option

