"""Format v1.1 as the converter writes it (docs/weights-format.md): `format_minor` 1, fixed-length
root strings, and a `checksum` that the C++ engine verifies. The engine loading the converted file
is the independent check of the checksum's definition (dataset order, bytes); a flipped bit in
the data must then be refused. No TensorFlow needed: the source is a timm .safetensors file."""

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


def test_v11_attributes(converted):
    _, out = converted
    with h5py.File(out, "r") as f:
        assert int(f.attrs["format_version"]) == 1 and int(f.attrs["format_minor"]) == 1
        assert re.fullmatch(r"crc32:[0-9a-f]{8}", f.attrs["checksum"].decode())
        for name in ("format", "source", "converter_version", "checksum"):
            assert not f.attrs.get_id(name).get_type().is_variable_str(), name
        assert f.attrs["format"].decode() == "resnetrs-weights"
        # the checksum covers every dataset: recomputing it over the same datasets agrees
        paths = []
        f.visititems(lambda n, o: paths.append("/" + n) if isinstance(o, h5py.Dataset) else None)
        assert len(paths) == 346
        assert C.weights_checksum(f, paths) == f.attrs["checksum"].decode()


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
