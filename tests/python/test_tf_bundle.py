"""The tensor-bundle V2 reader (scripts/convert_ckpt/tf_bundle.py) on the shared fixtures (checked
against each expected.json) and on crafted bundles for what no fixture has."""

import json
import math
import os
import shutil
import struct

import numpy as np
import pytest

import bundle_writer as BW
from convert_ckpt import tf_bundle as TB

V2_FIXTURES = ["dotted_prefix", "embeddings_int64", "half_plus_two", "half_plus_two_snappy",
               "half_plus_two_tf2_snappy", "int64_scalars", "old_string_tensors", "optimizer_slots_snappy",
               "tf1_mnist_snappy", "two_shards_keras", "two_shards_tiny"]


def _expected(fixtures_dir, name):
    with open(os.path.join(fixtures_dir, name, "expected.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("name", V2_FIXTURES)
def test_fixture_matches_expected_json(fixtures_dir, name):
    exp = _expected(fixtures_dir, name)
    r = TB.BundleReader(os.path.join(fixtures_dir, name))
    assert os.path.basename(r.prefix) == exp["prefix"]
    assert r.header.num_shards == exp["header"]["num_shards"]
    assert r.header.endianness == exp["header"]["endianness"] == 0
    assert r.header.producer == exp["header"]["version"]["producer"]
    assert r.names() == sorted(t["name"] for t in exp["tensors"])
    for t in exp["tensors"]:
        e = r.entry(t["name"])
        assert e.dtype == t["dtype"], t["name"]
        assert e.dtype_enum == t["dtype_enum"]
        assert list(e.shape) == t["shape"]
        assert (e.shard_id, e.offset, e.size) == (t["shard_id"], t["offset"], t["size"])
        assert e.crc32c_masked == int(t["crc32c_masked"], 16)
        assert TB.unmask_crc(e.crc32c_masked) == int(t["crc32c_unmasked"], 16)
        a = r.read(t["name"])  # CRC verified
        assert list(a.shape) == t["shape"]
        assert a.size == t["num_elements"]
        if t["dtype"] == "string":
            flat = a.ravel()
            assert [len(s) for s in flat] == t["string_lengths"]
            for s, prefix in zip(flat, t["first_values_latin1"]):
                assert s.decode("latin1").startswith(prefix)
        else:
            flat = a.ravel()
            fv = t["first_values"]
            np.testing.assert_array_equal(flat[:len(fv)].astype(np.float64), np.array(fv, np.float64))
            if "sum_fsum" in t:
                s = math.fsum(flat.astype(np.float64).tolist())
                assert s == pytest.approx(t["sum_fsum"], rel=1e-9, abs=1e-12)
                # a float32 running sum, as a C++ reader would do it, with a tolerance
                assert float(flat.sum(dtype=np.float32)) == pytest.approx(t["sum_fsum"], rel=1e-4, abs=1e-3)
            else:
                assert int(sum(int(v) for v in flat)) == t["sum"]
            if t["dtype"] == "float32":
                assert a.dtype == np.float32
            if t["dtype"] == "int64":
                assert a.dtype == np.int64
    r.close()


def test_specific_values(fixtures_dir):
    r = TB.BundleReader(os.path.join(fixtures_dir, "embeddings_int64", "bundle_checkpoint"))
    np.testing.assert_array_equal(r.read("some_scope/embeddings"), np.arange(80, dtype=np.float32).reshape(5, 16))
    np.testing.assert_array_equal(r.read("some_scope/indices"), [3, 4, 5, 6, 7])
    r = TB.BundleReader(os.path.join(fixtures_dir, "dotted_prefix", "embedding.ckpt"))
    np.testing.assert_array_equal(r.read("my_embedding"), [[1, 2], [3, 5], [7, 11]])
    r = TB.BundleReader(os.path.join(fixtures_dir, "old_string_tensors", "foo.index"))
    strs = r.read("strs")
    assert list(strs) == [b"hello", b"", b"x01", b"c" * 1024]
    assert r.read("scalar").shape == (1,) and r.read("scalar")[0] == b"hello"
    r = TB.BundleReader(os.path.join(fixtures_dir, "tf1_mnist_snappy"))
    assert r.read("global_step") == 46900
    assert r.entry("dense/kernel").shape == (64, 512)
    r = TB.BundleReader(os.path.join(fixtures_dir, "two_shards_keras", "variables"))
    assert r.read("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE") == 324258
    assert r.entry("layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE").shard_id == 1


@pytest.mark.parametrize("name,path", [("v1_single_file", "export"), ("v1_sharded_name", "export"),
                                       ("v1_sharded_name", "export-00000-of-00001"), ("v1_single_file", "")])
def test_v1_rejected(fixtures_dir, name, path):
    with pytest.raises(TB.V1CheckpointError, match="V1"):
        TB.BundleReader(os.path.join(fixtures_dir, name, path) if path else os.path.join(fixtures_dir, name))


def test_prefix_forms(fixtures_dir, tmp_path):
    d = os.path.join(fixtures_dir, "dotted_prefix")
    want = os.path.join(d, "embedding.ckpt")
    assert TB.resolve_prefix(want) == want
    assert TB.resolve_prefix(want + ".index") == want
    assert TB.resolve_prefix(want + ".data-00000-of-00001") == want
    assert TB.resolve_prefix(d) == want
    # A directory with a `checkpoint` file naming an absolute path from another machine.
    dst = tmp_path / "ck"
    shutil.copytree(os.path.join(fixtures_dir, "tf1_mnist_snappy"), dst)
    (dst / "checkpoint").write_text('model_checkpoint_path: "/train/run7/model.ckpt-46900"\n'
                                    'all_model_checkpoint_paths: "/train/run7/model.ckpt-46900"\n')
    assert TB.resolve_prefix(str(dst)) == str(dst / "model.ckpt-46900")
    # Two checkpoints, no `checkpoint` file: ambiguous.
    (dst / "checkpoint").unlink()
    shutil.copy(dst / "model.ckpt-46900.index", dst / "model.ckpt-1.index")
    with pytest.raises(TB.BundleError, match="2 checkpoints"):
        TB.resolve_prefix(str(dst))
    with pytest.raises(TB.BundleError, match="no such checkpoint"):
        TB.resolve_prefix(str(tmp_path / "nothing" / "model.ckpt"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TB.BundleError, match="no TensorFlow checkpoint"):
        TB.resolve_prefix(str(empty))


def test_crc32c_vectors():
    # tf-checkpoint-format.md §3 (crc32c_test.cc)
    assert TB.crc32c(bytes(32)) == 0x8A9136AA
    assert TB.crc32c(b"\xff" * 32) == 0x62A8AB43
    assert TB.crc32c(bytes(range(32))) == 0x46DD794E
    assert TB.crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    assert TB.crc32c(b"world", TB.crc32c(b"hello ")) == TB.crc32c(b"hello world")
    for v in (0, 1, 0x26973E52, 0xFFFFFFFF):
        assert TB.unmask_crc(TB.mask_crc(v)) == v
    assert TB.mask_crc(0x26973E52) == 0x1F273806


# ----------------------------------------------------------------------------------------------
# Crafted bundles.

def test_dtypes_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    t = {
        "f32": rng.standard_normal((2, 3)).astype(np.float32),
        "f64": rng.standard_normal(4),
        "i32": np.arange(-3, 3, dtype=np.int32),
        "u8": np.arange(250, 256, dtype=np.uint8),
        "i16": np.array([-300, 300], np.int16),
        "i8": np.array([-128, 127], np.int8),
        "i64": np.array([2**40, -5], np.int64),
        "b": np.array([True, False, True]),
        "f16": np.array([0.5, -2.0], np.float16),
        "u16": np.array([65535], np.uint16),
        "u32": np.array([2**32 - 1], np.uint32),
        "u64": np.array([2**64 - 1], np.uint64),
        "c64": np.array([1 + 2j], np.complex64),
        "empty": np.zeros((0, 3), np.float32),
        "scalar": np.float32(7.5),
    }
    bf = np.array([1.0, -3.5, 0.15625], np.float32)
    t["bf16"] = (14, (3,), (bf.view(np.uint32) >> 16).astype(np.uint16).tobytes())
    BW.write_bundle(str(tmp_path / "m"), t)
    r = TB.BundleReader(str(tmp_path / "m"))
    for k, v in t.items():
        a = r.read(k)
        if k == "bf16":
            np.testing.assert_array_equal(a, bf)
            assert r.entry(k).dtype == "bfloat16"
        else:
            assert a.dtype == np.asarray(v).dtype, k
            np.testing.assert_array_equal(a, v)


def test_many_blocks_snappy_and_prefix_compression(tmp_path):
    t = {f"layer_{i:03d}/kernel": np.full((i % 5 + 1,), i, np.float32) for i in range(200)}
    BW.write_bundle(str(tmp_path / "m"), t, entries_per_block=17, snappy=True)
    r = TB.BundleReader(str(tmp_path / "m"))
    assert len(r) == 200
    for k, v in t.items():
        np.testing.assert_array_equal(r.read(k), v)


def test_multi_shard(tmp_path):
    t = {"a": np.arange(4, dtype=np.float32), "b": np.arange(3, dtype=np.int64), "c": np.ones(2, np.float32)}
    BW.write_bundle(str(tmp_path / "m"), t, num_shards=3, shard_of=lambda n: "abc".index(n))
    r = TB.BundleReader(str(tmp_path / "m"))
    for k, v in t.items():
        np.testing.assert_array_equal(r.read(k), v)
    os.remove(tmp_path / "m.data-00002-of-00003")
    with pytest.raises(TB.BundleError, match=r"data file .*m\.data-00002-of-00003 is missing"):
        TB.BundleReader(str(tmp_path / "m")).read("c")


def test_big_endian_refused(tmp_path):
    BW.write_bundle(str(tmp_path / "m"), {"a": np.ones(2, np.float32)}, hdr=BW.header(endianness=1))
    with pytest.raises(TB.BundleError, match="big-endian"):
        TB.BundleReader(str(tmp_path / "m"))


def test_v1_header_inside_index_refused(tmp_path):
    BW.write_bundle(str(tmp_path / "m"), {"a": np.ones(2, np.float32)}, hdr=b"\x0a\x02\x0a\x00")
    with pytest.raises(TB.V1CheckpointError, match="V1"):
        TB.BundleReader(str(tmp_path / "m"))


def test_bad_version_refused(tmp_path):
    BW.write_bundle(str(tmp_path / "m"), {"a": np.ones(2, np.float32)}, hdr=BW.header(bad_consumers=[1]))
    with pytest.raises(TB.BundleError, match="unsupported bundle version"):
        TB.BundleReader(str(tmp_path / "m"))
    BW.write_bundle(str(tmp_path / "n"), {"a": np.ones(2, np.float32)}, hdr=BW.header(min_consumer=2))
    with pytest.raises(TB.BundleError, match="unsupported bundle version"):
        TB.BundleReader(str(tmp_path / "n"))


def test_sliced_variable_refused(tmp_path):
    full = (b"big", BW.entry(1, (10, 4), slices=[b"\x0a\x04\x08\x00\x10\x05\x0a\x00"]))
    slice_key = (b"\x00big\x00\x01\x01\x02\x80\x85\x80\x7f", BW.entry(1, (5, 4)))
    BW.write_bundle(str(tmp_path / "m"), {"a": np.ones(2, np.float32)}, extra_entries=[full, slice_key])
    r = TB.BundleReader(str(tmp_path / "m"))
    assert r.names() == ["a", "big"]  # slice keys hidden
    with pytest.raises(TB.BundleError, match="sliced"):
        r.read("big")


def test_variant_and_resource_refused(tmp_path):
    BW.write_bundle(str(tmp_path / "m"), {"v": (21, (1,), b"\x00\x00\x00\x00\x00"), "r": (20, (), b"")})
    r = TB.BundleReader(str(tmp_path / "m"))
    assert r.entry("v").dtype == "variant"
    with pytest.raises(TB.BundleError, match="unsupported dtype variant"):
        r.read("v")
    with pytest.raises(TB.BundleError, match="unsupported dtype resource"):
        r.read("r")


def test_corrupt_index_block(tmp_path):
    BW.write_bundle(str(tmp_path / "m"), {"a": np.ones(2, np.float32)}, corrupt_block=0)
    with pytest.raises(TB.ChecksumError, match="block checksum mismatch"):
        TB.BundleReader(str(tmp_path / "m"))
    try:  # without CRC checks the damage (in a varint) may still be caught as a parse error, cleanly
        TB.BundleReader(str(tmp_path / "m"), verify=False)
    except TB.BundleError as e:
        assert "bad entry in block" in str(e)


def test_corrupt_tensor_and_truncation(tmp_path):
    t = {"w": np.arange(100, dtype=np.float32), "s": np.array([b"abc", b"de"], dtype=object)}
    len_crc = struct.pack("<I", BW.mask(BW.crc(struct.pack("<II", 3, 2))))
    c = BW.crc(struct.pack("<II", 3, 2) + len_crc + b"abcde")  # tf-checkpoint-format.md §5.4
    t["s"] = (7, (2,), b"\x03\x02" + len_crc + b"abcde", BW.mask(c))
    where = BW.write_bundle(str(tmp_path / "m"), t)
    r = TB.BundleReader(str(tmp_path / "m"))
    assert list(r.read("s")) == [b"abc", b"de"]
    data = tmp_path / "m.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    sh, off, size = where["w"]
    raw[off + 17] ^= 0x40
    data.write_bytes(bytes(raw))
    with pytest.raises(TB.ChecksumError, match="'w'"):
        TB.BundleReader(str(tmp_path / "m")).read("w")
    assert TB.BundleReader(str(tmp_path / "m"), verify=False).read("w")[4] != 4.0  # --no-verify reads it
    data.write_bytes(bytes(raw[:off + 10]))
    r = TB.BundleReader(str(tmp_path / "m"))
    with pytest.raises(TB.BundleError, match="truncated"):
        r.check_data_files()
    with pytest.raises(TB.BundleError, match="truncated"):
        r.read("w")


def test_wrong_size_entry(tmp_path):
    BW.write_bundle(str(tmp_path / "m"), {"w": (1, (3,), b"\x00" * 8)})
    with pytest.raises(TB.BundleError, match="invalid size"):
        TB.BundleReader(str(tmp_path / "m")).read("w")


def test_not_a_checkpoint(tmp_path):
    p = tmp_path / "notes.index"
    p.write_text("hello, this is not an sstable but long enough to have a footer of 48 bytes .....\n")
    with pytest.raises(TB.BundleError, match="bad magic"):
        TB.BundleReader(str(p))
    q = tmp_path / "short.index"
    q.write_bytes(b"abc")
    with pytest.raises(TB.BundleError, match="too short"):
        TB.BundleReader(str(q))
    txt = tmp_path / "readme.txt"
    txt.write_text("not a checkpoint")
    with pytest.raises(TB.BundleError, match="not a TensorFlow checkpoint"):
        TB.BundleReader(str(txt))
