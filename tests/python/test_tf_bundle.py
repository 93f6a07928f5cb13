"""The tensor-bundle V2 reader (scripts/convert_ckpt/tf_bundle.py) on checkpoints TensorFlow writes
during the run (checked against TensorFlow's own RestoreV2), on the third-party fixtures of
../shared (checked against each expected.json; skipped when absent), and on crafted bundles for what
neither has (including hostile entries: the reader raises BundleError and nothing else)."""

import json
import math
import os
import shutil
import struct
import tracemalloc

import numpy as np
import pytest

import bundle_writer as BW
import tf_written as W
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


# ----------------------------------------------------------------------------------------------
# Checkpoints written by TensorFlow in this run (no ../shared needed).

@pytest.mark.parametrize("name", ["dtypes", "dotted", "shards", "tf2", "mnist"])
def test_tf_written_matches_tensorflow(tf_written, name):
    """Names, dtypes, shapes and every value equal what TensorFlow's own reader returns."""
    import tensorflow as tf
    prefix = tf_written[name]
    tfr = tf.train.load_checkpoint(prefix)
    shapes, dtypes = tfr.get_variable_to_shape_map(), tfr.get_variable_to_dtype_map()
    with TB.BundleReader(prefix) as r:
        assert r.prefix == prefix
        assert r.names() == sorted(shapes)
        for n in r.names():
            e = r.entry(n)
            assert list(e.shape) == shapes[n], n
            assert e.dtype == dtypes[n].name, n
            got, ref = r.read(n), W.restore(prefix, n, e.dtype)  # ours CRC-checked
            if e.dtype == "string":
                ref = np.asarray(ref, dtype=object)
                assert got.shape == ref.shape, n
                assert list(got.ravel()) == list(ref.ravel()), n
            else:
                assert got.dtype == (np.float32 if e.dtype == "bfloat16" else ref.dtype), n
                np.testing.assert_array_equal(got, ref, err_msg=n)
    if name == "shards":
        assert r.header.num_shards == 2
        assert {r.entry(n).shard_id for n in r.names()} == {0, 1}


def test_tf_written_dtypes_are_what_was_saved(tf_written):
    """Independent of TensorFlow's reader: the values the test wrote come back, bit for bit."""
    want = W.dtype_tensors()
    with TB.BundleReader(tf_written["dtypes"]) as r:
        assert r.names() == sorted(want)
        for n, v in want.items():
            got = r.read(n)
            if n not in ("empty", "scalar") and not n.startswith("string"):
                assert r.entry(n).dtype == n  # the tensors are named after their dtypes
            if got.dtype == object:
                assert list(got.ravel()) == list(np.asarray(v, dtype=object).ravel()), n
                assert got.shape == np.shape(v), n
            else:
                np.testing.assert_array_equal(got, v, err_msg=n)
                assert got.shape == np.shape(v), n
        assert r.read("strings")[3] == b"c" * 1024  # a 2-byte length varint
        np.testing.assert_array_equal(
            TB.BundleReader(tf_written["dotted"]).read("my_embedding"), [[1, 2], [3, 5], [7, 11]])
        mn = TB.BundleReader(tf_written["mnist"])
        assert mn.read("global_step") == 46900
        assert mn.entry("conv2d/kernel").shape == (3, 3, 1, 8)
        assert "conv2d/kernel/Momentum" in mn


@pytest.mark.parametrize("name,path", [("v1_single", ""), ("v1_single", "export"), ("v1_sharded", ""),
                                       ("v1_sharded", "export"), ("v1_sharded", "export-00000-of-00001")])
def test_v1_rejected_tf_written(tf_written, tmp_path, name, path):
    d = os.path.dirname(tf_written[name])
    with pytest.raises(TB.V1CheckpointError, match="V1"):  # with TensorFlow's `checkpoint` file
        TB.BundleReader(os.path.join(d, path) if path else d)
    bare = tmp_path / "bare"  # and without it
    shutil.copytree(d, bare)
    os.remove(bare / "checkpoint")
    with pytest.raises(TB.V1CheckpointError, match="V1"):
        TB.BundleReader(str(bare / path) if path else str(bare))


# ----------------------------------------------------------------------------------------------
# The third-party fixtures of ../shared (public TensorFlow test data; skipped when absent).

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


def test_prefix_forms(tf_written, tmp_path):
    want = tf_written["dotted"]
    d = os.path.dirname(want)
    assert TB.resolve_prefix(want) == want
    assert TB.resolve_prefix(want + ".index") == want
    assert TB.resolve_prefix(want + ".data-00000-of-00001") == want
    assert TB.resolve_prefix(d) == want
    # A directory with a `checkpoint` file naming an absolute path from another machine.
    dst = tmp_path / "ck"
    mnist = tf_written["mnist"]
    assert TB.resolve_prefix(os.path.dirname(mnist)) == mnist  # through TensorFlow's own `checkpoint`
    shutil.copytree(os.path.dirname(mnist), dst)
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


def test_checkpoint_state_escapes(tmp_path):
    """model_checkpoint_path is a text-format string: C escapes are decoded, bad ones refused."""
    d = tmp_path / "ck"
    d.mkdir()
    BW.write_bundle(str(d / "m\u00e9\"x"), {"a": np.ones(2, np.float32)})  # the name: m, e-acute, quote, x
    for literal in ("m\\303\\251\\\"x", "m\\xc3\\xa9\\x22x", "/train/m\u00e9\\\"x"):
        (d / "checkpoint").write_text(f'model_checkpoint_path: "{literal}"\n', encoding="utf-8")
        assert TB.resolve_prefix(str(d)) == str(d / "m\u00e9\"x"), literal
    for literal, why in (("model\\x.ckpt", "without hex digits"), ("model\\q.ckpt", "unknown escape"),
                         ("m\\777", "above"), ("m\\000x", "NUL")):
        (d / "checkpoint").write_text(f'model_checkpoint_path: "{literal}"\n')
        with pytest.raises(TB.BundleError, match=why) as ei:
            TB.resolve_prefix(str(d))
        assert str(d / "checkpoint") in str(ei.value)
    # bytes that are not UTF-8 name a file the same way the file system does (surrogateescape)
    BW.write_bundle(os.fsdecode(bytes(d) + b"/raw\xff"), {"a": np.ones(2, np.float32)})
    (d / "checkpoint").write_bytes(b'model_checkpoint_path: "raw\\377"\n')
    assert TB.resolve_prefix(str(d)) == os.fsdecode(bytes(d) + b"/raw\xff")
    (d / "checkpoint").write_bytes(b'model_checkpoint_path: "raw\xff"\n')
    assert TB.resolve_prefix(str(d)) == os.fsdecode(bytes(d) + b"/raw\xff")


# ----------------------------------------------------------------------------------------------
# Hostile entries: a BundleError, never another exception and never an allocation of what the
# entry claims.

def test_too_many_dimensions(tmp_path):
    BW.write_bundle(str(tmp_path / "m"), {"ok": (1, (1,) * 64, b"\x00\x00\x80\x3f"),
                                          "deep": (1, (1,) * 65, b"\x00\x00\x80\x3f"),
                                          "sdeep": (7, (1,) * 65, b"\x00" * 5)})
    r = TB.BundleReader(str(tmp_path / "m"))
    assert r.read("ok").shape == (1,) * 64 and r.read("ok").ravel()[0] == 1.0
    for n in ("deep", "sdeep"):
        assert len(r.entry(n).shape) == 65  # listed fine
        with pytest.raises(TB.BundleError, match="65 dimensions"):
            r.read(n)


def test_impossible_shapes(tmp_path):
    BW.write_bundle(str(tmp_path / "m"), {"zero_and_huge": (1, (0, 2**62, 4), b""),
                                          "obj_zero_and_huge": (7, (0, 2**62), b""),
                                          "strings_huge": (7, (2**40,), b"\x00" * 10),
                                          "strings_no_bytes": (7, (3,), b"")})
    r = TB.BundleReader(str(tmp_path / "m"))
    for n, why in (("zero_and_huge", "impossible shape"), ("obj_zero_and_huge", "impossible shape"),
                   ("strings_huge", "cannot hold"), ("strings_no_bytes", "cannot hold")):
        with pytest.raises(TB.BundleError, match=why):
            r.read(n)


def test_huge_claimed_size_is_not_allocated(tmp_path):
    """An entry claiming 2^40 bytes in a small file: 'truncated', without trying to read 1 TiB."""
    n = 1 << 38
    where = BW.write_bundle(str(tmp_path / "m"), {"a": np.arange(4, dtype=np.float32)},
                            extra_entries=[(b"huge", BW.entry(1, (n,), offset=0, size=4 * n))])
    assert where["a"][2] == 16
    r = TB.BundleReader(str(tmp_path / "m"))
    tracemalloc.start()
    try:
        with pytest.raises(TB.BundleError, match="truncated"):
            r.read("huge")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak
    with pytest.raises(TB.BundleError, match="truncated"):
        r.check_data_files()


def test_snappy_block_claiming_too_much(tmp_path):
    """A Snappy block whose header claims far more bytes than it can expand to is refused before
    the decompressor allocates them."""
    import cramjam
    body = bytes(cramjam.snappy.compress_raw(b"x" * 100))
    assert body[0] == 100
    bomb = BW._varint(0xFFFFFFFF) + body[1:]
    ctype = b"\x01"
    block = bomb + ctype + struct.pack("<I", BW.mask(BW.crc(bomb + ctype)))
    meta = BW._block([])
    meta_off = len(block)
    block += meta + b"\x00" + struct.pack("<I", BW.mask(BW.crc(meta + b"\x00")))
    idx = BW._block([(b"\xff", BW._varint(0) + BW._varint(len(bomb)))], restart_interval=1)
    idx_off = len(block)
    block += idx + b"\x00" + struct.pack("<I", BW.mask(BW.crc(idx + b"\x00")))
    footer = BW._varint(meta_off) + BW._varint(len(meta)) + BW._varint(idx_off) + BW._varint(len(idx))
    block += footer + b"\x00" * (40 - len(footer)) + struct.pack("<Q", TB.TABLE_MAGIC)
    (tmp_path / "m.index").write_bytes(block)
    with pytest.raises(TB.BundleError, match="claims 4294967295 decompressed bytes"):
        TB.BundleReader(str(tmp_path / "m"))
