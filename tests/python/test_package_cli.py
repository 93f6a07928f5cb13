"""The `resnetrs` command of the Python package: `resnetrs convert` (the converter of
scripts/convert_ckpt, one implementation) and `resnetrs classify` end to end on synthetic weights,
checked against the C API through ctypes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import pkg_helpers as P

rs = P.import_package()


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return P.weights_file(tmp_path_factory)


@pytest.fixture(scope="module")
def c_api():
    return P.capi(rs)


def test_convert_is_the_converter_of_scripts(weights, tmp_path):
    """`resnetrs convert`, `python -m resnetrs.convert` and scripts/convert_ckpt/convert_ckpt.py are
    one implementation: the same file from the same checkpoint."""
    import h5py
    src = os.path.join(os.path.dirname(weights), "rs50.safetensors")
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    r = subprocess.run([sys.executable, "-m", "resnetrs.convert", "--timm", src, "--out", a, "--train-resolution",
                        str(P.TRAIN_RES), "--no-progress"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    P.H.run_converter("--timm", src, "--out", b, "--train-resolution", P.TRAIN_RES, "--no-progress", check=True)
    with h5py.File(weights, "r") as f0, h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names = []
        f0.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        assert len(names) > 300
        for n in names:
            assert np.array_equal(f0[n][()], fa[n][()]) and np.array_equal(f0[n][()], fb[n][()]), n
        assert int(fa.attrs["train_resolution"]) == P.TRAIN_RES


def test_convert_help_and_errors(tmp_path):
    r = P.run_cli("convert", "--help")
    assert r.returncode == 0 and "resnetrs convert" in r.stdout and "--timm" in r.stdout
    r = P.run_cli("convert", "--timm", tmp_path / "missing.safetensors", "--out", tmp_path / "x.h5")
    assert r.returncode != 0 and "resnetrs convert: error:" in r.stderr and "missing.safetensors" in r.stderr
    assert not (tmp_path / "x.h5").exists()


def test_top_level_command():
    r = P.run_cli("--help")
    assert r.returncode == 0 and "convert" in r.stdout and "classify" in r.stdout
    r = P.run_cli("frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr
    r = subprocess.run([sys.executable, "-m", "resnetrs", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "libresnetrs 0.1.0" in r.stdout


def _write_inputs(tmp_path, n, seed):
    x = P.pixels(n, seed=seed)
    paths = []
    for i in range(n):
        p = tmp_path / f"img{i}.npy"
        np.save(p, x[i])
        paths.append(str(p))
    return x, paths


def test_classify_npy_end_to_end(weights, c_api, tmp_path):
    """Top-k of classify equals the argsort of the C API's logits for the same pixels; bad inputs
    give their errors and the other inputs are still classified."""
    x, good = _write_inputs(tmp_path, 5, seed=40)
    bad_shape = tmp_path / "bad_shape.npy"
    np.save(bad_shape, np.ones((3, 32, 32), np.float32))
    not_npy = tmp_path / "text.npy"
    not_npy.write_text("not a numpy file")
    missing = tmp_path / "missing.jpg"
    inputs = [good[0], str(bad_shape), good[1], good[2], str(not_npy), good[3], str(missing), good[4]]
    r = P.run_cli("classify", "--weights", weights, *inputs, "--top", 3, "--batch", 2, "--size", P.RES,
                  "--backend", "cpu", "--json")
    assert r.returncode == 1, r.stderr  # some inputs failed
    doc = json.loads(r.stdout)
    assert doc["resolution"] == [P.RES, P.RES] and doc["backend"] == "cpu" and doc["depth"] == 50
    res = doc["results"]
    assert [d["image"] for d in res] == inputs

    logits = c_api.logits(weights, x)
    order = np.argsort(-logits.astype(np.float64), axis=1, kind="stable")[:, :3]
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    labels = rs.imagenet_classes()
    for k, i in enumerate((0, 2, 3, 5, 7)):
        top = res[i]["top"]
        assert [t["index"] for t in top] == order[k].tolist()
        # classify ran other batch sizes than the reference: the CPU engine's sums may differ in the
        # last bits between batch sizes (docs/testing.md), so the probabilities agree to 1e-3 relative
        np.testing.assert_allclose([t["prob"] for t in top], p[k, order[k]], rtol=1e-3, atol=1e-7)
        assert [t["wnid"] for t in top] == [labels[j].wnid for j in order[k]]
    assert res[1]["error"]["type"] == "InvalidArgumentError" and "[3, 64, 64]" in res[1]["error"]["message"]
    assert res[4]["error"]["type"] == "InvalidArgumentError" and "not a readable .npy" in res[4]["error"]["message"]
    assert "error" in res[6] and "missing.jpg" in res[6]["error"]["message"]
    for name in ("bad_shape.npy", "text.npy", "missing.jpg"):
        assert name in r.stderr
    assert len({tuple(t["index"] for t in res[i]["top"]) for i in (0, 2, 3, 5, 7)}) > 1  # image-dependent


def test_classify_text_output_and_default_size(weights, tmp_path):
    """Without --size the weights' train_resolution (160) is used: 64-pixel .npy files are refused
    with a message naming the expected shape; with --size they are classified as text."""
    _, good = _write_inputs(tmp_path, 2, seed=41)
    r = P.run_cli("classify", "--weights", weights, good[0], "--backend", "cpu")
    assert r.returncode == 1 and f"[3, {P.TRAIN_RES}, {P.TRAIN_RES}]" in r.stderr
    r = P.run_cli("classify", "--weights", weights, *good, "--size", P.RES, "--top", 2, "--backend", "cpu",
                  "--progress", "--batch", 1)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == good[0] and lines[3] == good[1] and len(lines) == 6
    assert lines[1].startswith("  1. ") and lines[2].startswith("  2. ")
    assert "img" in r.stderr  # the progress bar (forced)


def test_classify_usage_errors(weights, tmp_path):
    for args, match in [((), "--weights"), (("--weights", weights), "IMAGE"),
                        (("--weights", weights, "a.npy", "--batch", "0"), "--batch 0"),
                        (("--weights", weights, "a.npy", "--top", "0"), "--top 0"),
                        (("--weights", weights, "a.npy", "--backend", "tpu"), "--backend")]:
        r = P.run_cli("classify", *args)
        assert r.returncode == 2 and "resnetrs classify: error:" in r.stderr and match in r.stderr, (args, r.stderr)
    r = P.run_cli("classify", "--weights", tmp_path / "none.h5", "a.npy", "--backend", "cpu")
    assert r.returncode == 1 and "IoError" in r.stderr and "none.h5" in r.stderr


@pytest.mark.skipif(not rs.HAS_IMAGES, reason="libresnetrs has no image decoding yet (interface B, pyimages)")
def test_classify_images_end_to_end(weights, c_api, tmp_path):
    """JPEG and PNG files through classify: top-k equals the argsort of the C API's logits of the
    pixels resnetrs.load_image gives; a corrupt image fails alone."""
    import tensorflow as tf
    rng = np.random.default_rng(50)
    paths = []
    for i, (h, w) in enumerate(((90, 120), (130, 77), (64, 64))):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        p = tmp_path / (f"im{i}.jpg" if i != 1 else f"im{i}.png")
        data = tf.io.encode_png(img) if p.suffix == ".png" else tf.io.encode_jpeg(img, quality=90)
        p.write_bytes(data.numpy())
        paths.append(str(p))
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(open(paths[0], "rb").read()[:200])
    inputs = [paths[0], str(corrupt), paths[1], paths[2]]
    r = P.run_cli("classify", "--weights", weights, *inputs, "--size", P.RES, "--backend", "cpu", "--json",
                  "--top", 4, "--batch", 3)
    assert r.returncode == 1
    res = json.loads(r.stdout)["results"]
    assert res[1]["error"]["type"] == "ImageInvalidError" and "corrupt.jpg" in r.stderr
    x = np.stack([rs.load_image(p, size=P.RES) for p in paths])
    x2 = rs.load_image(open(paths[0], "rb").read(), size=P.RES)
    assert np.array_equal(x2, x[0])
    order = np.argsort(-c_api.logits(weights, x).astype(np.float64), axis=1, kind="stable")[:, :4]
    for k, i in enumerate((0, 2, 3)):
        assert [t["index"] for t in res[i]["top"]] == order[k].tolist()
    with pytest.raises(rs.ImageInvalidError):
        rs.load_image(str(corrupt), size=P.RES)
    with pytest.raises(rs.IoError):
        rs.load_image(str(tmp_path / "missing.png"), size=P.RES)


def test_classify_learns_train_resolution_through_the_library(weights, tmp_path):
    """classify reads the weights' metadata through the library (resnetrs_weights_read_info, whose
    parse runs in the library's helper process), never with h5py in its own process: with h5py
    made unimportable it still uses train_resolution (160) and refuses 64-pixel inputs by it."""
    _, good = _write_inputs(tmp_path, 1, seed=43)
    code = ("import sys; sys.modules['h5py'] = None\n"
            "from resnetrs.cli import main\n"
            f"sys.exit(main(['classify', '--weights', {str(weights)!r}, {str(good[0])!r}, '--backend', 'cpu']))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r.stderr
    assert f"[3, {P.TRAIN_RES}, {P.TRAIN_RES}]" in r.stderr and "h5py" not in r.stderr, r.stderr
    # A bad weights file is reported by classify as the library words it, exit status 1.
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not HDF5")
    r = P.run_cli("classify", "--weights", bad, good[0], "--backend", "cpu")
    assert r.returncode == 1 and "WeightsInvalidError" in r.stderr and "not an HDF5 file" in r.stderr, r.stderr
