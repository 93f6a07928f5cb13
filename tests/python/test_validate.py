"""`resnetrs validate`, resnetrs.validate() and the decoding pipeline (resnetrs.ImageBatches) on a
labelled set of real photographs (validate_helpers.py) whose labels are the engine's own
predictions, computed one image at a time: exactly 100% top-1; shifted labels give the expected
counts; corrupt files are counted and named; worker counts and batch sizes change nothing per
image; classify (which uses the pipeline) agrees. docs/validate.md."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time

import numpy as np
import pytest

import pkg_helpers as P
import validate_helpers as V

rs = P.import_package()
pytestmark = pytest.mark.skipif(not rs.HAS_IMAGES, reason="libresnetrs has no image decoding")


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return P.weights_file(tmp_path_factory)


def _engine_factory(weights):
    return lambda max_batch: rs.Engine(weights, backend="cpu", max_batch=max_batch, resolution=V.RES)


@pytest.fixture(scope="module")
def data(weights, tmp_path_factory):
    """{images, flat paths, reference, clean class folder, folder with corrupt files, corrupt paths}."""
    images = V.encoded_images()
    flat = tmp_path_factory.mktemp("photos")
    paths = []
    for img in images:
        p = flat / img.name
        p.write_bytes(img.data)
        paths.append(str(p))
    ref = V.reference(_engine_factory(weights), paths)
    V.check_margins(ref)
    clean = str(tmp_path_factory.mktemp("val") / "clean")
    V.write_folder(clean, images, ref.top[:, 0].tolist())
    corrupt = str(tmp_path_factory.mktemp("val") / "corrupt")
    shutil.copytree(clean, corrupt)
    bad = V.add_corrupt_files(corrupt, rs.imagenet_classes()[5].wnid)
    return {"images": images, "paths": paths, "ref": ref, "clean": clean, "corrupt": corrupt, "bad": bad}


def _by_name(result):
    """{file name: Prediction} of a ValidationResult."""
    return {os.path.basename(p.path): p for p in result.predictions if p is not None}


def _assert_equals_reference(result, data, rtol=5e-2):
    """The same 5 classes in the same order as one image at a time, and the same probabilities: to
    5e-2 relative. The engines here are built for other batch sizes and each times its own
    algorithm per layer (docs/cpu-engine.md), so their logits (hundreds, with these weights) may
    differ by ~1e-4 relative, a few hundredths absolute, which moves a small softmax probability by
    a few %."""
    preds = _by_name(result)
    assert len(preds) == len(data["images"])
    for i, img in enumerate(data["images"]):
        p = preds[img.name]
        assert list(p.top) == data["ref"].top[i].tolist(), img.name
        np.testing.assert_allclose(p.probs, data["ref"].probs[i], rtol=rtol, atol=1e-6, err_msg=img.name)


def test_labels_from_the_engine_give_exactly_100_percent(weights, data):
    r = rs.validate(weights, data["clean"], batch=8, workers=4, size=V.RES, backend="cpu")
    n = len(data["images"])
    assert (r.images, r.classified, r.correct1, r.correct5, r.failed) == (n, n, n, n, [])
    assert r.top1 == 1.0 and r.top5 == 1.0
    assert (r.depth, r.resolution, r.backend, r.batch, r.workers) == (50, (V.RES, V.RES), "cpu", 8, 4)
    assert r.seconds > 0 and r.engine_s > 0 and r.decode_s > 0 and r.bound in ("engine", "decoding")
    _assert_equals_reference(r, data)


def test_worker_counts_and_batch_sizes_give_identical_results(weights, data):
    """Same batches, other worker counts: bit-identical; other batch sizes: the same classes, and the
    probabilities as _assert_equals_reference says."""
    runs = {}
    with rs.Engine(weights, backend="cpu", max_batch=8, resolution=V.RES) as engine:
        pairs = [(s.path, s.label) for s in rs.read_dataset(data["clean"])]  # the API's other form of data
        for workers, batch in ((1, 3), (4, 3), (1, 8), (4, 8)):
            r = rs.validate(engine, pairs if workers == 1 else data["clean"], batch=batch, workers=workers)
            assert r.correct1 == len(data["images"]) and (r.workers, r.batch) == (workers, batch)
            _assert_equals_reference(r, data)
            runs[workers, batch] = r
    for batch in (3, 8):
        assert runs[1, batch].predictions == runs[4, batch].predictions  # exactly equal, tuples of floats


def test_classify_one_image_at_a_time_and_batched_equal_the_reference(weights, data):
    for extra in (("--batch", 1, "--workers", 1), ("--batch", 5, "--workers", 4)):
        r = P.run_cli("classify", "--weights", weights, *data["paths"], "--size", V.RES, "--backend", "cpu",
                      "--json", "--top", 5, *extra)
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout)["results"]
        assert [x["image"] for x in res] == data["paths"]
        for i, x in enumerate(res):
            assert [t["index"] for t in x["top"]] == data["ref"].top[i].tolist()
            np.testing.assert_allclose([t["prob"] for t in x["top"]], data["ref"].probs[i], rtol=5e-2, atol=1e-6)  # as _assert_equals_reference


def test_shifted_labels_give_the_expected_counts(weights, data, tmp_path):
    """A list file (relative paths; classes as indices or WordNet ids): a third of the labels are the
    second-best class (a top-5 hit, a top-1 miss), a third a class outside the top 5 (two misses)."""
    ref, classes = data["ref"], rs.imagenet_classes()
    lines, want1, want5 = [], 0, 0
    for i, path in enumerate(data["paths"]):
        if i % 3 == 0:
            label = int(ref.top[i, 1])
            want5 += 1
        elif i % 3 == 1:
            label = next(c for c in range(1000) if c not in ref.top[i])
        else:
            label = int(ref.top[i, 0])
            want1 += 1
            want5 += 1
        field = classes[label].wnid if i % 2 else str(label)
        lines.append(f"{os.path.relpath(path, tmp_path)}\t{field}")
    listing = tmp_path / "val.tsv"
    listing.write_text("# image\tclass\n" + "\n".join(lines) + "\n")
    r = P.run_cli("validate", "--weights", weights, listing, "--size", V.RES, "--backend", "cpu", "--batch", 4,
                  "--workers", 2, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    n = len(data["paths"])
    assert (doc["images"], doc["classified"], doc["failed"]) == (n, n, 0)
    assert (doc["correct1"], doc["correct5"]) == (want1, want5) and 0 < want1 < want5 < n
    assert doc["top1"] == pytest.approx(want1 / n) and doc["top5"] == pytest.approx(want5 / n)
    assert doc["bound"] in ("engine", "decoding") and doc["images_per_s"] > 0


def test_defaults_are_the_weights_resolution_and_the_release_transform(weights, data, tmp_path):
    """Without --size the weights' train_resolution (160) is used, with the release's transform;
    absolute paths in a list file are taken as they are."""
    listing = tmp_path / "two.tsv"
    listing.write_text("".join(f"{p}\t{int(data['ref'].top[i, 0])}\n" for i, p in enumerate(data["paths"][:2])))
    r = P.run_cli("validate", "--weights", weights, listing, "--backend", "cpu", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["resolution"] == [P.TRAIN_RES, P.TRAIN_RES] and doc["preprocess"] == "release"
    assert doc["classified"] == 2 and doc["batch"] == 2


def test_devkit_ground_truth_file(weights, data, tmp_path):
    """The devkit's ILSVRC2012_validation_ground_truth.txt: line i is the ILSVRC2012_ID (the devkit's
    class order) of ILSVRC2012_val_0000000i.JPEG in --images."""
    from resnetrs.dataset import devkit_order
    images = tmp_path / "ILSVRC2012_img_val"
    images.mkdir()
    order, classes = devkit_order(), rs.imagenet_classes()
    ids = []
    for i, img in enumerate(data["images"], 1):
        (images / f"ILSVRC2012_val_{i:08d}.JPEG").write_bytes(img.data)  # PNGs too: the decoder reads the bytes
        ids.append(order.index(classes[int(data["ref"].top[i - 1, 0])].wnid) + 1)
    gt = tmp_path / "ILSVRC2012_validation_ground_truth.txt"
    gt.write_text("".join(f"{d}\n" for d in ids))
    r = rs.validate(weights, str(gt), images=str(images), size=V.RES, backend="cpu", batch=6, workers=2)
    assert r.correct1 == r.classified == len(ids) and not r.failed
    assert {os.path.basename(p.path) for p in r.predictions} == {f"ILSVRC2012_val_{i:08d}.JPEG" for i in
                                                                 range(1, len(ids) + 1)}


def test_devkit_order_is_the_devkits():
    """Anchors of the devkit's numbering: ID 1 is n02119789 (kit fox); the ground truth's first five
    IDs (490, 361, 171, 822, 297) name the classes of validation images 1..5; and the shipped list is
    tensorflow-datasets' when it is installed."""
    from resnetrs.dataset import devkit_order
    order = devkit_order()
    assert order[0] == "n02119789" and sorted(order) == [c.wnid for c in rs.imagenet_classes()]
    assert [order[i - 1] for i in (490, 361, 171, 822, 297)] == ["n01751748", "n09193705", "n02105855",
                                                                "n04263257", "n03125729"]
    import importlib.util
    spec = importlib.util.find_spec("tensorflow_datasets")
    if spec is not None and spec.submodule_search_locations:
        src = os.path.join(list(spec.submodule_search_locations)[0], "image_classification",
                           "imagenet_resized_labels.txt")
        with open(src) as f:
            assert f.read().split() == order


def test_corrupt_files_are_counted_and_named(weights, data, tmp_path):
    preds = tmp_path / "pred.tsv"
    r = P.run_cli("validate", "--weights", weights, data["corrupt"], "--size", V.RES, "--backend", "cpu",
                  "--batch", 5, "--predictions", preds, "--progress")
    assert r.returncode == 1, r.stderr  # some images failed
    assert "top-1 100.00%" in r.stderr  # the progress bar (forced: stderr is no terminal here)
    n, bad = len(data["images"]), data["bad"]
    assert f"images     {n + len(bad)} ({n} classified, {len(bad)} failed)" in r.stdout
    assert "top-1      100.000 %" in r.stdout and "bound by   " in r.stdout
    for p in bad:
        assert p in r.stderr and f"failed     " in r.stdout and p in r.stdout
    rows = [line.split("\t") for line in preds.read_text().splitlines() if not line.startswith("#")]
    assert len(rows) == n + len(bad)
    assert sorted(row[0] for row in rows if row[2] == "error") == sorted(bad)
    api = rs.validate(weights, data["corrupt"], size=V.RES, backend="cpu", batch=7, workers=3)
    assert sorted(f.path for f in api.failed) == sorted(bad) and api.correct1 == api.classified == n
    assert {(f.error, f.status) for f in api.failed} == {("ImageInvalidError", "IMAGE_INVALID")}
    assert all(f.path in f.message for f in api.failed)


def test_bad_data_and_usage(weights, data, tmp_path, capsys):
    """Refusals before any engine is built (in-process: main() is the command's body), and a missing
    weights file through the installed command."""
    from resnetrs.validation import main
    (tmp_path / "cats").mkdir()
    (tmp_path / "listing.tsv").write_text("a.jpg\t1000\n")
    (tmp_path / "gt.txt").write_text("1\n1001\n")
    for args, match in [((tmp_path,), "not named by an ImageNet-1k WordNet id: cats"),
                        ((tmp_path / "none",), "no such file or folder"),
                        ((tmp_path / "listing.tsv",), "class index 1000 outside 0..999"),
                        ((tmp_path / "gt.txt",), "gt.txt:2: ILSVRC2012_ID 1001 outside 1..1000"),
                        ((data["clean"], "--batch", 0), "--batch 0"),
                        ((data["clean"], "--workers", 0), "--workers 0"),
                        ((data["clean"], "--crop-pct", 0.9), "--crop-pct applies to --preprocess timm only"),
                        ((data["clean"],), "--weights")]:
        argv = [str(a) for a in args] + ([] if match == "--weights" else ["--weights", weights]) + ["--backend", "cpu"]
        assert main(argv) == 2, args
        err = capsys.readouterr().err
        assert "resnetrs validate: error:" in err and match in err, (args, err)
    r = P.run_cli("validate", "--weights", tmp_path / "none.h5", data["clean"], "--backend", "cpu")
    assert r.returncode == 1 and "IoError" in r.stderr and "none.h5" in r.stderr
    assert "validate" in P.run_cli("--help").stdout


# ---- the pipeline -------------------------------------------------------------------------------

def test_image_batches_in_order_with_bounded_reads_and_close(data):
    paths, bad = data["paths"], data["bad"]
    sources = paths[:7] + [bad[0]] + paths[7:]
    pulled = []

    def lazily():
        for s in sources:
            pulled.append(s)
            yield s

    with rs.ImageBatches(lazily(), 4, size=V.RES, workers=3, prefetch=2) as batches:
        first = next(batches)
        assert len(pulled) <= 4 * 3  # the batch in hand and `prefetch` batches: the rest is not read yet
        got = [first] + list(batches)
    want = np.stack([rs.load_image(p, size=V.RES) for p in paths])
    rows = np.concatenate([b.pixels for b in got])
    assert [i for b in got for i in b.indices] == [i for i in range(len(sources)) if i != 7]
    assert np.array_equal(rows, want)  # the same decoder: bit-identical
    failures = [f for b in got for f in b.failures]
    assert [i for i, _ in failures] == [7] and isinstance(failures[0][1], rs.ImageInvalidError)
    assert [len(b.indices) + len(b.failures) for b in got] == [4] * 6 + [1]

    # Stopping early: close() joins the threads and the rest is never read.
    pulled.clear()
    batches = rs.ImageBatches(lazily(), 2, size=V.RES, workers=2, prefetch=1)
    next(batches)
    batches.close()
    assert len(pulled) <= 2 * 2 and list(batches) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("resnetrs-decode")]
    with pytest.raises(rs.InvalidArgumentError, match="batch_size 0"):
        rs.ImageBatches(paths, 0)


def test_custom_loader_and_nhwc(data):
    def loader(path, out):
        if path.endswith("-1.jpg"):
            raise rs.InvalidArgumentError(f"{path}: refused by the loader")
        rs.load_image(path, size=V.RES, layout="nhwc", out=out)

    got = list(rs.ImageBatches(data["paths"], 5, size=V.RES, layout="nhwc", workers=2, loader=loader))
    assert got[0].pixels.shape[1:] == (V.RES, V.RES, 3)
    refused = [i for b in got for i, _ in b.failures]
    assert refused == [i for i, p in enumerate(data["paths"]) if p.endswith("-1.jpg")] and refused

    def buggy(path, out):
        raise ZeroDivisionError("a bug, not a bad image")

    with pytest.raises(ZeroDivisionError):  # only image errors are per-image failures
        list(rs.ImageBatches(data["paths"][:2], 2, size=V.RES, loader=buggy))


def test_load_image_into_a_row(data, tmp_path):
    p = data["paths"][0]
    x = rs.load_image(p, size=V.RES)
    batch = np.full((2, 3, V.RES, V.RES), -1, np.float32)
    assert rs.load_image(p, size=V.RES, out=batch[1]) is not None
    assert np.array_equal(batch[1], x) and (batch[0] == -1).all()
    with pytest.raises(rs.ImageInvalidError):
        rs.load_image(data["bad"][0], size=V.RES, out=batch[0])
    assert (batch[0] == -1).all()  # untouched by a failure
    ro = np.zeros((3, V.RES, V.RES), np.float32)
    ro.flags.writeable = False
    from resnetrs import _core
    for out, match in [(ro, "read-only"), (np.zeros((3, V.RES, V.RES)), "float64"),
                       (np.zeros((3, V.RES, 2 * V.RES), np.float32)[:, :, ::2], "not C-contiguous"),
                       (np.zeros((4, V.RES, V.RES), np.float32), r"shape \(4, 64, 64\)")]:
        with pytest.raises(rs.InvalidArgumentError, match=match):
            _core.load_image_into(p, out)
    with pytest.raises(rs.InvalidArgumentError, match="expected"):
        rs.load_image(p, size=V.RES, out=np.zeros((3, 32, 32), np.float32))


def test_decoding_releases_the_gil(tmp_path):
    """Another Python thread makes progress while an image decodes: K decoding threads really run
    in parallel."""
    from PIL import Image as PILImage
    rng = np.random.default_rng(3)
    big = tmp_path / "big.jpg"  # 2400 x 2400 of 2x2 noise: ~0.2 s to decode and preprocess
    noise = rng.integers(0, 256, (1200, 1200, 3), dtype=np.uint8)
    PILImage.fromarray(np.repeat(np.repeat(noise, 2, 0), 2, 1)).save(big, quality=90)
    out = np.empty((3, 320, 320), np.float32)
    span = {}

    def decode():
        span["start"] = time.perf_counter()
        rs.load_image(str(big), size=320, out=out)
        span["end"] = time.perf_counter()

    t = threading.Thread(target=decode)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
    t.join()
    inside = [s for s in ticks if span["start"] + 0.01 < s < span["end"] - 0.01]
    assert span["end"] - span["start"] > 0.05, "the decode is too short to tell"
    took = span["end"] - span["start"]
    assert len(inside) > 1000, f"the main thread ran {len(inside)} times during a {took:.2f} s decode"
