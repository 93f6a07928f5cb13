"""Format v1.2 as the converter writes it (docs/weights-format.md): `format_minor` 2, fixed-length
root strings, and a `checksum` over the canonical text of the root attributes and the datasets
that the C++ engine verifies. The engine loading the converted file is the independent check of the
checksum's definition (attribute text, dataset order, bytes); a flipped bit in the data or a
changed attribute must then be refused, and a v1.1 file load with a warning. No TensorFlow needed:
the source is a timm .safetensors file."""

import json
import os
import re
import subprocess

import h5py
import numpy as np
import pytest

import rs_helpers as H
from convert_ckpt import convert as C

D = 50


def _write_safetensors(path, tensors):
    names = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}
    header, blobs, offset = {}, [], 0
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    head = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little") + head + b"".join(blobs))


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    d = tmp_path_factory.mktemp("checksum")
    st = d / "rs50.safetensors"
    _write_safetensors(st, H.timm_named(D, H.random_weights(D, seed=31)))
    out = d / "rs50.h5"
    H.run_converter("--timm", st, "--out", out, check=True)
    np.save(d / "x.npy", np.random.default_rng(3).uniform(0, 255, (1, 3, 32, 32)).astype(np.float32))
    return d, out


def _bench_infer(weights, d):
    exe = H.bench_path()
    if not os.path.isfile(exe):
        pytest.fail(f"C++ engine not found at {exe}: build it first (bash scripts/build), or set RESNETRS_BENCH")
    cmd = [exe, "infer", "--weights", str(weights), "--input", str(d / "x.npy"), "--output", str(d / "y.npy"),
           "--backend", "cpu"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_v12_attributes(converted):
    _, out = converted
    with h5py.File(out, "r") as f:
        assert int(f.attrs["format_version"]) == 1 and int(f.attrs["format_minor"]) == 2
        assert re.fullmatch(r"crc32:[0-9a-f]{8}", f.attrs["checksum"].decode())
        for name in ("format", "source", "converter_version", "checksum"):
            assert not f.attrs.get_id(name).get_type().is_variable_str(), name
        assert f.attrs["format"].decode() == "resnetrs-weights"
        # the checksum covers the attributes and every dataset: recomputing it agrees
        paths = []
        f.visititems(lambda n, o: paths.append("/" + n) if isinstance(o, h5py.Dataset) else None)
        assert len(paths) == 346
        assert C.weights_checksum(f, paths) == f.attrs["checksum"].decode()


def test_canonical_attributes_text():
    """The converter's canonical text is the one docs/weights-format.md shows (and the C++ unit
    test checks for canonical_attributes() in src/io/weights_checksum.cpp)."""
    a = {"format": b"resnetrs-weights", "format_version": np.int32(1), "format_minor": np.int32(2),
         "depth": np.int32(50), "blocks_per_stage": np.array([3, 4, 6, 3], np.int32), "num_classes": np.int32(1000),
         "bn_epsilon": np.float64(1.001e-5), "input_mean": np.array([123.675, 116.28, 103.53], np.float32),
         "input_std": np.array([58.395, 57.12, 57.375], np.float32), "train_resolution": np.int32(160),
         "activation": b"relu", "stride2_padding": b"symmetric", "stage1_shortcut_pool": b"none"}
    assert C.canonical_attributes(a) == (
        b"format=resnetrs-weights\nformat_version=1\nformat_minor=2\ndepth=50\nblocks_per_stage=3,4,6,3\n"
        b"num_classes=1000\nbn_epsilon=0x3ee4fe13ec9bf514\ninput_mean=0x42f7599a,0x42e88f5c,0x42cf0f5c\n"
        b"input_std=0x4269947b,0x42647ae1,0x42658000\ntrain_resolution=160\nactivation=relu\n"
        b"stride2_padding=symmetric\nstage1_shortcut_pool=none\n")


def test_changed_attribute_is_refused_and_v11_warns(converted):
    """input_std 57.375 -> 57.375904 (issue 22): refused by the v1.2 checksum. The same file as
    v1.1 (format_minor 1, the checksum of the datasets only) loads, warning that its attributes
    are not covered."""
    import shutil
    import zlib
    d, out = converted
    bad = d / "std.h5"
    shutil.copyfile(out, bad)
    with h5py.File(bad, "r+") as f:
        f.attrs["input_std"] = np.array([58.395, 57.12, 57.375904], np.float32)
    r = _bench_infer(bad, d)
    assert r.returncode != 0 and "'checksum'" in r.stderr and "root attributes' and the datasets'" in r.stderr, r.stderr
    v11 = d / "v11.h5"
    shutil.copyfile(out, v11)
    with h5py.File(v11, "r+") as f:
        paths = []
        f.visititems(lambda n, o: paths.append("/" + n) if isinstance(o, h5py.Dataset) else None)
        crc = 0
        for p in sorted(paths, key=C._schema_key):
            crc = zlib.crc32(np.ascontiguousarray(f[p][...], dtype="<f4").tobytes(), crc)
        f.attrs["format_minor"] = np.int32(1)
        f.attrs["checksum"] = np.bytes_(f"crc32:{crc:08x}".encode())
    r = _bench_infer(v11, d)
    assert r.returncode == 0, r.stderr
    assert "format v1.1" in r.stderr and "input_std" in r.stderr and "v1.2" in r.stderr, r.stderr


def test_engine_verifies_the_converters_checksum(converted):
    d, out = converted
    r = _bench_infer(out, d)
    assert r.returncode == 0, r.stderr
    assert "checksum" not in r.stderr and "v1.0" not in r.stderr


def test_flipped_bit_in_data_is_refused(converted):
    d, out = converted
    bad = d / "flipped.h5"
    data = bytearray(out.read_bytes())
    with h5py.File(out, "r") as f:  # a dataset that comes first in TF1 order but last in its block
        ds = f["/stage2/block0/shortcut/kernel"]
        at = ds.id.get_offset() + 1234
    data[at] ^= 0x10
    bad.write_bytes(bytes(data))
    r = _bench_infer(bad, d)
    assert r.returncode != 0
    assert "checksum" in r.stderr and "damaged" in r.stderr, r.stderr


def test_schema_order():
    # The engine's order inside a block 0: conv1, conv2, conv3, se, then the shortcut.
    paths = ["/stage1/block0/shortcut/kernel", "/stage1/block0/conv1/bn/gamma", "/head/dense/bias",
             "/stage1/block0/se/expand/bias", "/stem/conv2/kernel", "/stage1/block0/conv1/kernel",
             "/head/dense/kernel", "/stage1/block0/se/reduce/kernel", "/stage1/block0/conv3/bn/moving_variance",
             "/stage1/block1/conv1/kernel", "/stem/conv1/bn/beta"]
    assert sorted(paths, key=C._schema_key) == [
        "/stem/conv1/bn/beta", "/stem/conv2/kernel", "/stage1/block0/conv1/kernel", "/stage1/block0/conv1/bn/gamma",
        "/stage1/block0/conv3/bn/moving_variance", "/stage1/block0/se/reduce/kernel", "/stage1/block0/se/expand/bias",
        "/stage1/block0/shortcut/kernel", "/stage1/block1/conv1/kernel", "/head/dense/kernel", "/head/dense/bias"]
