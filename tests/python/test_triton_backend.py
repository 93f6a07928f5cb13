"""The Triton backend (serving/triton, docs/serving.md) in a real tritonserver 2.51.0, KIND_CPU.

One server for the module, started on 127.0.0.1 with free ports, our backend and explicit model
control, always stopped at the end (also when a test fails). Weights: RS-50 synthetic weights
written to a file; the reference is the C API (ctypes) on the same file with the same options.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import triton_support as T
# The server's engines and the test's C API engines are built apart: equal up to float32 rounding.
from capi_ctypes import assert_same_network_logits as same

pytestmark = pytest.mark.skipif(T.skip_reason() is not None, reason=T.skip_reason() or "")

RES = 32          # small resolution keeps the CPU engine fast enough for CI
MAX_BATCH = 8
MODEL = "rs50"
NHWC_MODEL = "rs50_nhwc"
CYCLE_MODEL = "rs50_cycle"
IMAGE_MODEL = "rs50_images"  # inputs 'pixels' and 'image', both optional


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    work = tmp_path_factory.mktemp("triton")
    weights = T.write_weights(str(work / "rs50.h5"))
    labels = work / "labels.txt"
    T.make_labels(str(work), str(labels))
    repo = work / "models"
    T.write_model(str(repo), MODEL, weights, res=RES, max_batch=MAX_BATCH, labels=str(labels))
    T.write_model(str(repo), NHWC_MODEL, weights, res=RES, max_batch=4, nhwc=True, instances=2)
    T.write_model(str(repo), CYCLE_MODEL, weights, res=RES, max_batch=2, warmup=True)
    T.write_model(str(repo), IMAGE_MODEL, weights, res=RES, max_batch=MAX_BATCH, image_input=True)
    server = T.start_server(str(repo), str(work), models=[MODEL])
    try:
        engine = T.CEngine(weights, RES, MAX_BATCH)
        state = dict(server=server, weights=weights, labels=str(labels), repo=str(repo), engine=engine)
        yield state
        engine.close()
        for key in ("http", "grpc"):
            if key in state:
                state[key].close()
    finally:
        server.stop()
        print(f"\n[triton] server log: {server.log_path}")


def http_client(env):
    """The module's HTTP client (one keep-alive connection: the server waits for open
    connections at shutdown, so clients are few and closed before it stops)."""
    if "http" not in env:
        import tritonclient.http as httpclient
        env["http"] = httpclient.InferenceServerClient(env["server"].url)
    return env["http"]


def grpc_client(env):
    if "grpc" not in env:
        import tritonclient.grpc as grpcclient
        env["grpc"] = grpcclient.InferenceServerClient(env["server"].grpc_url)
    return env["grpc"]


def infer_http(env, x, model=MODEL, class_count=0):
    import tritonclient.http as httpclient
    inp = httpclient.InferInput("pixels", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=True)
    out = httpclient.InferRequestedOutput("logits", binary_data=True, class_count=class_count)
    return http_client(env).infer(model, [inp], outputs=[out]).as_numpy("logits")


def infer_grpc(env, x, model=MODEL):
    import tritonclient.grpc as grpcclient
    inp = grpcclient.InferInput("pixels", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    return grpc_client(env).infer(model, [inp]).as_numpy("logits")


def assert_ready(env):
    c = http_client(env)
    assert c.is_server_live() and c.is_server_ready()
    assert c.is_model_ready(MODEL)


def test_http_and_grpc_equal_the_c_api(env):
    engine = env["engine"]
    for n, seed in ((1, 1), (3, 2), (MAX_BATCH, 3)):
        x = T.images(n, RES, seed)
        want = engine.run(x)
        assert np.isfinite(want).all() and want.std() > 0
        got_http = infer_http(env, x)
        got_grpc = infer_grpc(env, x)
        assert got_http.shape == (n, 1000) and got_grpc.shape == (n, 1000)
        same(got_http, want, f"HTTP batch {n}")
        same(got_grpc, want, f"gRPC batch {n}")
    # and different images give different logits (the comparison is not vacuous)
    assert not np.array_equal(infer_http(env, T.images(1, RES, 7)), infer_http(env, T.images(1, RES, 8)))


def test_nhwc_input_equals_the_c_api_with_two_instances(env):
    c = http_client(env)
    c.load_model(NHWC_MODEL)
    try:
        x = T.images(2, RES, 21, nhwc=True)
        engine = T.CEngine(env["weights"], RES, 4, nhwc=True)
        want = engine.run(x)
        engine.close()
        cfg = http_client(env).get_model_config(NHWC_MODEL)
        assert cfg["instance_group"][0]["count"] == 2
        for _ in range(2):  # whichever instance answers
            same(infer_http(env, x, model=NHWC_MODEL), want, "NHWC model")
        # the same image in NCHW through the NCHW model gives the same classes
        nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        np.testing.assert_allclose(infer_http(env, nchw), want, rtol=1e-4, atol=1e-4)
    finally:
        c.unload_model(NHWC_MODEL)


def test_classification_extension_gives_the_top_k_with_labels(env):
    x = T.images(2, RES, 31)
    want = env["engine"].run(x)
    got = infer_http(env, x, class_count=5)  # [2, 5] of b"value:index:label"
    with open(env["labels"]) as f:
        names = f.read().splitlines()
    assert len(names) == 1000
    assert got.shape == (2, 5)
    for row, logits in zip(got, want):
        entries = [e.decode().split(":") for e in row]
        idx = [int(e[1]) for e in entries]
        assert idx == list(np.argsort(-logits, kind="stable")[:5])
        assert [e[2] for e in entries] == [names[i] for i in idx]
        np.testing.assert_allclose([float(e[0]) for e in entries], logits[idx], rtol=0, atol=1e-6)  # printed with 6 decimals


def _post(env, path, body: bytes, content_type="application/json"):
    req = urllib.request.Request(f"http://{env['server'].url}{path}", data=body, method="POST",
                                 headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_every_kind_of_bad_request_gets_an_error_and_the_server_goes_on(env):
    from tritonclient.utils import InferenceServerException
    good = T.images(1, RES, 41)
    want = env["engine"].run(good)
    path = f"/v2/models/{MODEL}/infer"

    def body(shape, datatype="FP32", data=None, name="pixels"):
        n = int(np.prod(shape))
        return json.dumps({"inputs": [{"name": name, "shape": shape, "datatype": datatype,
                                       "data": data if data is not None else [1.0] * n}]}).encode()

    bad = {
        "wrong height": body([1, 3, RES + 1, RES]),
        "channels last to an NCHW model": body([1, RES, RES, 3]),
        "missing batch dimension": body([3, RES, RES]),
        "batch above max_batch_size": body([MAX_BATCH + 1, 3, RES, RES]),
        "wrong dtype": body([1, 3, RES, RES], "INT32", [1] * (3 * RES * RES)),
        "too few values": body([1, 3, RES, RES], data=[1.0] * 10),
        "unknown input name": body([1, 3, RES, RES], name="image"),
        "no inputs": json.dumps({"inputs": []}).encode(),
        "not JSON": b"{this is not json",
        "NaN pixel in JSON": json.dumps({"inputs": [{"name": "pixels", "shape": [1, 3, RES, RES],
                                                                   "datatype": "FP32",
                                                                   "data": ["NaN"] + [1.0] * (3 * RES * RES - 1)}]}).encode(),
    }
    for what, b in bad.items():
        status, text = _post(env, path, b)
        assert status >= 400, f"{what}: HTTP {status} {text[:200]}"
        assert "error" in text, f"{what}: {text[:200]}"
        assert_ready(env)
    status, _ = _post(env, "/v2/models/no_such_model/infer", body([1, 3, RES, RES]))
    assert status >= 400

    # The backend's own check through the client: a non-finite pixel is named in the error.
    nan = good.copy()
    nan[0, 1, 2, 3] = np.inf
    with pytest.raises(InferenceServerException, match="non-finite"):
        infer_grpc(env, nan)
    same(infer_http(env, good), want, "after the bad requests")


def test_a_bad_request_in_a_batch_fails_alone(env):
    """Requests queued together form one batch (the instance is busy with the first); the one
    with an infinite pixel gets an error, the others their own correct logits."""
    import tritonclient.grpc as grpcclient
    client = grpc_client(env)
    xs = [T.images(1, RES, 100 + i) for i in range(MAX_BATCH)]
    bad_index = 3
    xs[bad_index] = xs[bad_index].copy()
    xs[bad_index][0, 0, 0, 0] = np.inf
    results, done = {}, threading.Semaphore(0)

    def cb(i):
        def f(result, error):
            results[i] = (result, error)
            done.release()
        return f

    # one request to occupy the instance, then the batch
    first = grpcclient.InferInput("pixels", [MAX_BATCH, 3, RES, RES], "FP32")
    first.set_data_from_numpy(T.images(MAX_BATCH, RES, 99))
    client.async_infer(MODEL, [first], cb("first"))
    for i, x in enumerate(xs):
        inp = grpcclient.InferInput("pixels", list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        client.async_infer(MODEL, [inp], cb(i), request_id=str(i))
    for _ in range(len(xs) + 1):
        assert done.acquire(timeout=120), "a response was lost"
    assert results["first"][1] is None
    refs = {i: env["engine"].run(x) for i, x in enumerate(xs) if i != bad_index}
    for i in range(len(xs)):
        result, error = results[i]
        if i == bad_index:
            assert error is not None and "non-finite" in str(error)
        else:
            assert error is None, f"request {i}: {error}"
            assert result.get_response().id == str(i)
            np.testing.assert_allclose(result.as_numpy("logits"), refs[i], rtol=1e-4, atol=1e-5)
    assert_ready(env)


def _batch_stats(env, model):
    stats = http_client(env).get_inference_statistics(model)["model_stats"][0]
    return {int(b["batch_size"]): int(b["compute_infer"]["count"]) for b in stats.get("batch_stats", [])}, stats


def test_load_32_in_flight_every_response_matched_none_lost(env):
    import tritonclient.grpc as grpcclient
    n_requests, in_flight, n_images = int(os.environ.get("RESNETRS_TRITON_LOAD_REQUESTS", "2000")), 32, 64
    pool = T.images(n_images, RES, 500)
    refs = np.concatenate([env["engine"].run(pool[i:i + 1]) for i in range(n_images)])
    before, _ = _batch_stats(env, MODEL)
    client = grpc_client(env)
    slots = threading.Semaphore(in_flight)
    lock = threading.Lock()
    sent_at, latency, results, errors = {}, {}, {}, {}
    all_done = threading.Event()

    def callback(result, error):
        t = time.perf_counter()
        rid = int(result.get_response().id) if error is None else None
        with lock:
            if error is not None:
                errors[len(errors)] = str(error)
            else:
                latency[rid] = t - sent_at[rid]
                results[rid] = result.as_numpy("logits")
            if len(results) + len(errors) == n_requests:
                all_done.set()
        slots.release()

    t0 = time.perf_counter()
    for i in range(n_requests):
        slots.acquire()
        inp = grpcclient.InferInput("pixels", [1, 3, RES, RES], "FP32")
        inp.set_data_from_numpy(pool[i % n_images:i % n_images + 1])
        with lock:
            sent_at[i] = time.perf_counter()
        client.async_infer(MODEL, [inp], callback, request_id=str(i))
    assert all_done.wait(timeout=600), f"lost responses: {n_requests - len(results) - len(errors)}"
    wall = time.perf_counter() - t0
    assert not errors, f"{len(errors)} errors, first: {next(iter(errors.values()))}"
    assert sorted(results) == list(range(n_requests))
    for i, got in results.items():
        own = refs[i % n_images]
        d = np.abs(refs - got[0]).max(axis=1)
        # its own image's logits (batched runs may sum in another order: docs/testing.md) and
        # nearer to them than to any other image's: no mix-up between requests batched together
        np.testing.assert_allclose(got[0], own, rtol=1e-4, atol=1e-5, err_msg=f"request {i}")
        assert int(np.argmin(d)) == i % n_images, f"request {i} got image {int(np.argmin(d))}'s logits"

    after, stats = _batch_stats(env, MODEL)
    formed = {b: after.get(b, 0) - before.get(b, 0) for b in sorted(after) if after.get(b, 0) > before.get(b, 0)}
    lat = np.array(sorted(latency.values())) * 1e3
    # the engine alone at the full batch, right after (same machine load): the server's overhead
    x = T.images(MAX_BATCH, RES, 501)
    env["engine"].run(x)
    t1, runs = time.perf_counter(), 8
    for _ in range(runs):
        env["engine"].run(x)
    alone = runs * MAX_BATCH / (time.perf_counter() - t1)
    load = os.getloadavg()[0]
    report = (f"[triton load] RS-50 @{RES} KIND_CPU x1, {n_requests} requests of 1 image, {in_flight} in flight (gRPC): "
              f"{n_requests / wall:.1f} req/s, latency p50 {np.percentile(lat, 50):.1f} ms, "
              f"p99 {np.percentile(lat, 99):.1f} ms; batches Triton formed (size: count) {formed}; "
              f"the engine alone at batch {MAX_BATCH} right after: {alone:.1f} images/s "
              f"(server/engine {n_requests / wall / alone:.2f}); load average {load:.1f} on {os.cpu_count()} CPUs")
    print("\n" + report)
    with open(os.path.join(T.BUILD, "triton_load_test.log"), "w") as f:
        f.write(report + "\n" + json.dumps(stats, indent=1) + "\n")
    assert sum(b * c for b, c in formed.items()) == n_requests
    assert max(formed) > 1, "the dynamic batcher never formed a batch"


def test_load_unload_twenty_times_leaves_memory_flat(env):
    server, c = env["server"], http_client(env)
    x = T.images(2, RES, 77)
    want = env["engine"].run(x)

    def cycle():
        c.load_model(CYCLE_MODEL)
        assert c.is_model_ready(CYCLE_MODEL)
        got = infer_http(env, x, model=CYCLE_MODEL)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        c.unload_model(CYCLE_MODEL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # unloading finishes in the background
            state = [m for m in c.get_model_repository_index() if m["name"] == CYCLE_MODEL]
            if state and state[0].get("state") == "UNAVAILABLE":
                return
            time.sleep(0.05)
        raise AssertionError(f"{CYCLE_MODEL} did not unload")

    for _ in range(2):  # allocator and thread pools reach their steady state
        cycle()
    base = server.rss_bytes()
    for _ in range(20):
        cycle()
    end = server.rss_bytes()
    engine_bytes = os.path.getsize(env["weights"])  # one leaked engine holds at least its weights
    print(f"\n[triton memory] server RSS after 2 warm-up cycles {base / 2**20:.1f} MiB, after 20 more "
          f"load/unload cycles {end / 2**20:.1f} MiB (one engine's weights file: {engine_bytes / 2**20:.1f} MiB)")
    # flat within 24 MiB (Triton's own bookkeeping, thread stacks): a leaked engine per cycle would
    # add ~20 x 137 MiB, a leaked weights read or staging buffer of this model at least ~20 x 1 MiB
    assert end - base < 24 * 2**20, f"server RSS grew by {(end - base) / 2**20:.1f} MiB over 20 load/unload cycles"
    assert_ready(env)


def test_the_example_model_repository_serves_as_documented(env, tmp_path):
    """serving/triton/model_repository/resnetrs50 as shipped, with weights at 1/model.h5."""
    import shutil
    src = os.path.join(T.REPO, "serving", "triton", "model_repository", "resnetrs50")
    dst = os.path.join(env["repo"], "resnetrs50")
    shutil.copytree(src, dst)
    os.symlink(env["weights"], os.path.join(dst, "1", "model.h5"))
    c = http_client(env)
    c.load_model("resnetrs50")
    try:
        cfg = c.get_model_config("resnetrs50")
        res = int(cfg["input"][0]["dims"][1])
        x = T.images(1, res, 61)
        engine = T.CEngine(env["weights"], res, int(cfg["max_batch_size"]))
        want = engine.run(x)
        engine.close()
        same(infer_http(env, x, model="resnetrs50"), want, "resnetrs50")
    finally:
        c.unload_model("resnetrs50")


@pytest.mark.parametrize("what,change,message", [
    ("unknown parameter", dict(params={"weigths": "model.h5"}), "unknown parameter 'weigths'"),
    ("resolution disagrees with dims", dict(params={"resolution": "64"}), "disagrees with the input 'pixels' dims"),
    ("missing weights file", dict(params={"weights": "nowhere.h5"}), "nowhere.h5"),
    ("bad precision", dict(params={"precision": "fp8"}), "precision"),
    ("tf32 on the CPU", dict(params={"precision": "tf32"}), "CPU backend computes in fp32 only"),
    ("max_batch below max_batch_size", dict(params={"max_batch": "2"}), "smaller than max_batch_size"),
    ("graph sizes above max_batch", dict(params={"cuda_graph_batch_sizes": "1,99"}), "cuda_graph_batch_sizes"),
    ("negative cpu_threads", dict(params={"cpu_threads": "-1"}), "parameter 'cpu_threads' must be an integer in 0..1024"),
    ("bad cpu_winograd", dict(params={"cpu_winograd": "on"}), "parameter 'cpu_winograd' must be auto, off or fast"),
])
def test_a_bad_model_config_fails_to_load_with_a_clear_message(env, what, change, message):
    from tritonclient.utils import InferenceServerException
    name = "bad_" + what.replace(" ", "_")
    T.write_model(env["repo"], name, env["weights"], res=RES, max_batch=4, warmup=False, **change)
    c = http_client(env)
    with pytest.raises(InferenceServerException, match=message):
        c.load_model(name)
    assert not c.is_model_ready(name)
    assert_ready(env)


def test_cpu_threads_and_winograd_reach_each_instance(env):
    """A model with cpu_threads 2 and cpu_winograd off serves the logits of a C API engine built with
    the same options (up to float32 rounding: each engine times its own choices), from each of its two instances."""
    name = "rs50_cpu_options"
    T.write_model(env["repo"], name, env["weights"], res=RES, max_batch=4, warmup=False, instances=2,
                  params={"cpu_threads": "2", "cpu_winograd": "off"})
    c = http_client(env)
    c.load_model(name)
    try:
        engine = T.CEngine(env["weights"], RES, 4, cpu_threads=2, cpu_winograd=1)  # RESNETRS_CPU_WINOGRAD_OFF
        x = T.images(3, RES, 77)
        want = engine.run(x)
        engine.close()
        for _ in range(4):  # more requests than instances: both serve
            same(infer_http(env, x, model=name), want, name)
        # ENGINE-DEPENDENT (issue 20): the threads the engine resolved (0 until the fast CPU engine reports them)
        assert env["server"].log().count("on the CPU (2 threads)") >= 2
    finally:
        c.unload_model(name)
    assert_ready(env)


def test_weights_whose_bytes_are_not_utf8_fail_to_load_with_a_valid_utf8_message(env, tmp_path):
    """Issue 22: the load error quotes the file's bytes escaped (\\xNN), so the server can put it in
    its JSON and gRPC replies; the server goes on."""
    import shutil
    import h5py
    from tritonclient.utils import InferenceServerException
    bad = str(tmp_path / "activation.h5")
    shutil.copyfile(env["weights"], bad)
    with h5py.File(bad, "r+") as f:
        del f.attrs["activation"]
        f.attrs["activation"] = np.bytes_(b"re\xff\xfelu")
    T.write_model(env["repo"], "bad_utf8_weights", bad, res=RES, max_batch=4, warmup=False)
    for client in (http_client(env), grpc_client(env)):
        with pytest.raises(InferenceServerException, match=r"'activation'.*re\\xFF\\xFElu"):
            client.load_model("bad_utf8_weights")
    assert not http_client(env).is_model_ready("bad_utf8_weights")
    assert_ready(env)


def test_kind_gpu_instances_are_refused(env):
    """A KIND_GPU instance fails to load here: the server itself refuses it first, having no GPU (on
    a GPU machine a default build's backend refuses it naming RESNETRS_UNVERIFIED_GPU:
    tests/triton/test_memory_policy.cpp; the gated GPU path is tests/gpu_triton/)."""
    from tritonclient.utils import InferenceServerException
    d = T.write_model(env["repo"], "gpu_instance", env["weights"], res=RES, max_batch=4, warmup=False)
    cfg = os.path.join(d, "config.pbtxt")
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("KIND_CPU", "KIND_GPU"))
    c = http_client(env)
    with pytest.raises(InferenceServerException, match="(?i)gpu") as e:
        c.load_model("gpu_instance")
    print(f"\n[triton] KIND_GPU on this machine: {e.value}")
    # KIND_MODEL reaches the backend here: its refusal names the kind it runs
    with open(cfg, "w") as f:
        f.write(text.replace("KIND_CPU", "KIND_MODEL").replace('name: "gpu_instance"', 'name: "model_instance"'))
    os.rename(d, os.path.join(env["repo"], "model_instance"))
    with pytest.raises(InferenceServerException, match="KIND_MODEL; this backend runs KIND_CPU( and KIND_GPU)? instances"):
        c.load_model("model_instance")
    assert_ready(env)


def test_make_labels_reads_the_package_table_and_refuses_a_broken_one(tmp_path):
    import subprocess
    import sys
    table = tmp_path / "t.tsv"
    table.write_text("# header\n# index\twnid\tlemmas\n0\tn01\ttench, Tinca tinca\n1\tn02\tgoldfish\n")
    out = tmp_path / "labels.txt"
    r = subprocess.run([sys.executable, T.MAKE_LABELS, str(table), str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_text() == "tench\ngoldfish\n"
    table.write_text("0\tn01\ttench\n2\tn03\tskipped one\n")
    r = subprocess.run([sys.executable, T.MAKE_LABELS, str(table), str(out)], capture_output=True, text=True)
    assert r.returncode == 1 and "line 2" in r.stderr and "class 1" in r.stderr
    if os.path.isfile(T.LABEL_TABLE):  # the resnetrs package's table, when this checkout has it
        r = subprocess.run([sys.executable, T.MAKE_LABELS, str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        names = out.read_text().splitlines()
        assert len(names) == 1000 and names[0] == "tench" and names[1] == "goldfish"


@pytest.fixture
def image_model(env):
    if not T.has_image_api():
        pytest.skip("libresnetrs has no image functions (C API version < 2): the 'image' input is not built")
    c = http_client(env)
    c.load_model(IMAGE_MODEL)
    yield IMAGE_MODEL
    c.unload_model(IMAGE_MODEL)


def image_input(module, files):
    inp = module.InferInput("image", [len(files), 1], "BYTES")
    inp.set_data_from_numpy(np.array([[f] for f in files], dtype=np.object_))
    return inp


def test_encoded_images_equal_the_c_api_decode_and_run(env, image_model):
    import tritonclient.grpc as grpcclient
    import tritonclient.http as httpclient
    files = [T.encoded_image("JPEG", 80, 60, 1), T.encoded_image("PNG", 50, 70, 2)]
    pixels = np.concatenate([T.decode_image(f, RES) for f in files])
    want = env["engine"].run(pixels)
    got_http = http_client(env).infer(image_model, [image_input(httpclient, files)]).as_numpy("logits")
    got_grpc = grpc_client(env).infer(image_model, [image_input(grpcclient, files)]).as_numpy("logits")
    same(got_http, want, "images over HTTP")
    same(got_grpc, want, "images over gRPC")
    # the same model takes pixels too
    same(infer_http(env, pixels, model=image_model), want, "pixels to the image model")


def test_a_corrupt_image_fails_alone_among_images_and_pixels(env, image_model):
    import tritonclient.grpc as grpcclient
    client = grpc_client(env)
    good = T.encoded_image("JPEG", 64, 64, 5)
    requests = {
        "good image": [image_input(grpcclient, [good])],
        "truncated JPEG": [image_input(grpcclient, [good[: len(good) // 2]])],
        "not an image": [image_input(grpcclient, [b"GIF89a this is not a JPEG or PNG"])],
        "empty": [image_input(grpcclient, [b""])],
    }
    px = grpcclient.InferInput("pixels", [1, 3, RES, RES], "FP32")
    x = T.images(1, RES, 6)
    px.set_data_from_numpy(x)
    requests["pixels"] = [px]
    results, done = {}, threading.Semaphore(0)
    for name, inputs in requests.items():
        def cb(result, error, name=name):
            results[name] = (result, error)
            done.release()
        client.async_infer(image_model, inputs, cb)
    for _ in requests:
        assert done.acquire(timeout=120), "a response was lost"
    for name in ("truncated JPEG", "not an image", "empty"):
        assert results[name][1] is not None, name
        assert "input 'image' element 0" in str(results[name][1]), f"{name}: {results[name][1]}"
    assert results["good image"][1] is None and results["pixels"][1] is None
    np.testing.assert_allclose(results["good image"][0].as_numpy("logits"), env["engine"].run(T.decode_image(good, RES)),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(results["pixels"][0].as_numpy("logits"), env["engine"].run(x), rtol=1e-4, atol=1e-5)
    # a request with both inputs is refused by the backend, and so is a bad BYTES layout
    both = [image_input(grpcclient, [good]), px]
    from tritonclient.utils import InferenceServerException
    with pytest.raises(InferenceServerException, match="exactly one input"):
        client.infer(image_model, both)
    assert_ready(env)
