"""A from-scratch reader for TensorFlow checkpoints in the tensor-bundle V2 format.

A bundle is `<prefix>.index` (a LevelDB-style SSTable whose key "" holds a BundleHeaderProto and
every other key a BundleEntryProto) plus `<prefix>.data-SSSSS-of-NNNNN` files holding the raw
tensor bytes. The byte format is described in shared/docs/tf-checkpoint-format.md.

Only numpy, cramjam (Snappy) and google-crc32c (CRC-32C) are used; no TensorFlow.

What it does:
  * verifies every SSTable block CRC and every tensor CRC (unless verify=False);
  * reads Snappy-compressed index blocks;
  * reads float32, int64, string and the other fixed-width dtypes;
  * handles any number of data shards;
  * reads tensors lazily: the index is parsed up front, a tensor's bytes are read (one seek + read)
    only when asked for.
What it refuses, with a BundleError naming the file and the problem:
  * V1 (TensorSliceWriter) checkpoints, big-endian bundles, sliced (partitioned) variables,
    variant/resource dtypes, truncated or corrupted files.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

try:
    import google_crc32c as _crc32c
except ImportError:  # pragma: no cover - the project venv has it
    _crc32c = None

try:
    import cramjam as _cramjam
except ImportError:  # pragma: no cover - the project venv has it
    _cramjam = None


class BundleError(Exception):
    """A checkpoint that cannot be read; the message says which file and why."""


class V1CheckpointError(BundleError):
    """The path holds a TF V1 (TensorSliceWriter) checkpoint, not a V2 tensor bundle."""


class ChecksumError(BundleError):
    """A CRC-32C did not match (a block of the index, or a tensor's bytes)."""


# --------------------------------------------------------------------------------------------
# CRC-32C with TF's masking.

_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) of data; `crc` continues an earlier value (Extend)."""
    if _crc32c is None:
        raise BundleError("google-crc32c is not installed; run scripts/setup or pass --no-verify")
    if not isinstance(data, bytes):
        data = bytes(data)
    if crc:
        return _crc32c.extend(crc, data) & _U32
    return _crc32c.value(data) & _U32


def mask_crc(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def unmask_crc(masked: int) -> int:
    rot = (masked - _MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


# --------------------------------------------------------------------------------------------
# Varints and a minimal protobuf wire-format walker.

def read_varint(buf: bytes, pos: int, limit: Optional[int] = None) -> Tuple[int, int]:
    """Decode a LEB128 varint (up to 64 bits) at buf[pos]; returns (value, new_pos)."""
    end = len(buf) if limit is None else limit
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint too long")


def _to_int64(v: int) -> int:
    return v - (1 << 64) if v >= (1 << 63) else v


def iter_proto_fields(buf: bytes) -> Iterator[Tuple[int, int, object]]:
    """Yield (field_number, wire_type, value) for a serialized protobuf message.

    value is an int for varint (0), fixed64 (1) and fixed32 (5) fields, bytes for length-delimited
    (2) ones. Groups (3, 4) are not used by any message read here and are rejected.
    """
    pos = 0
    n = len(buf)
    while pos < n:
        key, pos = read_varint(buf, pos)
        fno, wt = key >> 3, key & 7
        if fno == 0:
            raise ValueError("field number 0")
        if wt == 0:
            val, pos = read_varint(buf, pos)
        elif wt == 1:
            if pos + 8 > n:
                raise ValueError("truncated fixed64")
            val = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wt == 2:
            ln, pos = read_varint(buf, pos)
            if pos + ln > n:
                raise ValueError("truncated length-delimited field")
            val = bytes(buf[pos:pos + ln])
            pos += ln
        elif wt == 5:
            if pos + 4 > n:
                raise ValueError("truncated fixed32")
            val = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield fno, wt, val


# --------------------------------------------------------------------------------------------
# SSTable (LevelDB table format without filter blocks).

TABLE_MAGIC = 0xDB4775248B80FB57
_MAGIC_BYTES = struct.pack("<Q", TABLE_MAGIC)
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5


def looks_like_sstable(path: str) -> bool:
    """True if the file is at least a footer long and ends with the SSTable magic."""
    try:
        size = os.path.getsize(path)
        if size < FOOTER_SIZE:
            return False
        with open(path, "rb") as f:
            f.seek(size - 8)
            return f.read(8) == _MAGIC_BYTES
    except OSError:
        return False


def _decode_handle(buf: bytes, pos: int = 0) -> Tuple[int, int, int]:
    off, pos = read_varint(buf, pos)
    size, pos = read_varint(buf, pos)
    return off, size, pos


# A Snappy element expands at most ~21x (a 3-byte copy of 64 bytes): a block claiming more than
# this is refused before the decompressor allocates what it claims (up to 4 GiB).
_SNAPPY_MAX_RATIO = 32


def _snappy_decompress(data: bytes) -> bytes:
    if _cramjam is None:
        raise BundleError("cramjam is not installed (needed for Snappy-compressed index blocks)")
    claimed, _ = read_varint(data, 0)  # ValueError when truncated: the caller reports it
    if claimed > _SNAPPY_MAX_RATIO * len(data) + 64:
        raise ValueError(f"claims {claimed} decompressed bytes from {len(data)}")
    out = bytes(_cramjam.snappy.decompress_raw(data))
    if len(out) != claimed:
        raise ValueError(f"decompressed to {len(out)} bytes, {claimed} claimed")
    return out


def _parse_block_entries(block: bytes, what: str) -> List[Tuple[bytes, bytes]]:
    """Decode the (key, value) entries of one decompressed block."""
    n = len(block)
    if n < 4:
        raise BundleError(f"{what}: bad block contents (shorter than 4 bytes)")
    num_restarts = struct.unpack_from("<I", block, n - 4)[0]
    if num_restarts > (n - 4) // 4:
        raise BundleError(f"{what}: bad block contents (restart count {num_restarts})")
    limit = n - 4 * (1 + num_restarts)
    out: List[Tuple[bytes, bytes]] = []
    if num_restarts == 0:
        return out
    pos = 0
    prev = b""
    try:
        while pos < limit:
            shared, pos = read_varint(block, pos, limit)
            non_shared, pos = read_varint(block, pos, limit)
            vlen, pos = read_varint(block, pos, limit)
            if shared > len(prev) or pos + non_shared + vlen > limit:
                raise ValueError("entry runs past the block")
            key = prev[:shared] + bytes(block[pos:pos + non_shared])
            pos += non_shared
            val = bytes(block[pos:pos + vlen])
            pos += vlen
            out.append((key, val))
            prev = key
    except ValueError as e:
        raise BundleError(f"{what}: bad entry in block ({e})") from None
    return out


def read_sstable(path: str, verify: bool = True) -> List[Tuple[bytes, bytes]]:
    """Read all (key, value) pairs of an SSTable file, in order."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise BundleError(f"{path}: cannot read ({e.strerror})") from None
    if len(data) < FOOTER_SIZE:
        raise BundleError(f"{path}: file is too short to be an sstable ({len(data)} bytes); "
                          "not a TensorFlow checkpoint index")
    if data[-8:] != _MAGIC_BYTES:
        raise BundleError(f"{path}: not an sstable (bad magic number); not a TensorFlow checkpoint index")
    footer = data[-FOOTER_SIZE:]
    try:
        _meta_off, _meta_size, p = _decode_handle(footer, 0)
        idx_off, idx_size, _ = _decode_handle(footer, p)
    except ValueError:
        raise BundleError(f"{path}: corrupt sstable footer") from None

    def read_block(off: int, size: int, what: str) -> bytes:
        if off + size + BLOCK_TRAILER_SIZE > len(data) - FOOTER_SIZE:
            raise BundleError(f"{path}: {what} at offset {off} size {size} runs past the end of the file "
                              "(truncated index?)")
        raw = data[off:off + size + 1]
        ctype = raw[size]
        if verify:
            stored = struct.unpack_from("<I", data, off + size + 1)[0]
            if unmask_crc(stored) != crc32c(raw):
                raise ChecksumError(f"{path}: block checksum mismatch in the {what} at offset {off}")
        body = raw[:size]
        if ctype == 0:
            return body
        if ctype == 1:
            try:
                return _snappy_decompress(body)
            except BundleError:
                raise
            except Exception as e:
                raise BundleError(f"{path}: corrupted compressed {what} at offset {off} ({e})") from None
        raise BundleError(f"{path}: bad block type {ctype} in the {what} at offset {off}")

    index_block = read_block(idx_off, idx_size, "index block")
    entries: List[Tuple[bytes, bytes]] = []
    for n, (_sep, handle) in enumerate(_parse_block_entries(index_block, f"{path}: index block")):
        try:
            off, size, _ = _decode_handle(handle)
        except ValueError:
            raise BundleError(f"{path}: bad block handle in the index block") from None
        block = read_block(off, size, f"data block {n}")
        entries.extend(_parse_block_entries(block, f"{path}: data block {n}"))
    return entries


# --------------------------------------------------------------------------------------------
# DataType enum (tensorflow/core/framework/types.proto).

# enum -> (name, numpy dtype of one stored element)
_FIXED_DTYPES: Dict[int, Tuple[str, str]] = {
    1: ("float32", "<f4"),
    2: ("float64", "<f8"),
    3: ("int32", "<i4"),
    4: ("uint8", "u1"),
    5: ("int16", "<i2"),
    6: ("int8", "i1"),
    8: ("complex64", "<c8"),
    9: ("int64", "<i8"),
    10: ("bool", "?"),
    11: ("qint8", "i1"),
    12: ("quint8", "u1"),
    13: ("qint32", "<i4"),
    14: ("bfloat16", "<u2"),
    15: ("qint16", "<i2"),
    16: ("quint16", "<u2"),
    17: ("uint16", "<u2"),
    18: ("complex128", "<c16"),
    19: ("float16", "<f2"),
    22: ("uint32", "<u4"),
    23: ("uint64", "<u8"),
    24: ("float8_e5m2", "u1"),
    25: ("float8_e4m3fn", "u1"),
    26: ("float8_e4m3fnuz", "u1"),
    27: ("float8_e4m3b11fnuz", "u1"),
    28: ("float8_e5m2fnuz", "u1"),
    29: ("int4", "i1"),
    30: ("uint4", "u1"),
    31: ("int2", "i1"),
    32: ("uint2", "u1"),
}
DT_STRING = 7
DT_RESOURCE = 20
DT_VARIANT = 21

_MAX_NDIM = 64                     # numpy's limit (TensorFlow allows 254)
_MAX_ARRAY_BYTES = (1 << 63) - 1   # numpy's limit on an array's size in bytes


def dtype_name(enum: int) -> str:
    if enum in _FIXED_DTYPES:
        return _FIXED_DTYPES[enum][0]
    if enum == DT_STRING:
        return "string"
    if enum == DT_RESOURCE:
        return "resource"
    if enum == DT_VARIANT:
        return "variant"
    if 101 <= enum <= 132:
        return f"ref_type_{enum}"
    return f"unknown_dtype_{enum}"


# --------------------------------------------------------------------------------------------
# Bundle records.

@dataclass
class TensorEntry:
    name: str
    dtype_enum: int
    shape: Tuple[int, ...]
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    crc32c_masked: int = 0
    num_slices: int = 0

    @property
    def dtype(self) -> str:
        return dtype_name(self.dtype_enum)

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass
class BundleHeader:
    num_shards: int = 0
    endianness: int = 0
    producer: int = 0
    min_consumer: int = 0
    bad_consumers: List[int] = field(default_factory=list)


def _parse_header(val: bytes, index_path: str) -> BundleHeader:
    if val[:1] == b"\x0a":
        raise V1CheckpointError(
            f"{index_path}: this is a TF V1 (TensorSliceWriter) checkpoint, not a V2 tensor bundle; "
            "only V2 (.index + .data-*) is supported. Re-save it with "
            "tf.compat.v1.train.Saver(write_version=tf.compat.v1.train.SaverDef.V2)")
    h = BundleHeader()
    try:
        for fno, wt, v in iter_proto_fields(val):
            if fno == 1 and wt == 0:
                h.num_shards = _to_int64(v)
            elif fno == 2 and wt == 0:
                h.endianness = v
            elif fno == 3 and wt == 2:
                for f2, w2, v2 in iter_proto_fields(v):
                    if f2 == 1 and w2 == 0:
                        h.producer = _to_int64(v2)
                    elif f2 == 2 and w2 == 0:
                        h.min_consumer = _to_int64(v2)
                    elif f2 == 3 and w2 == 0:
                        h.bad_consumers.append(_to_int64(v2))
                    elif f2 == 3 and w2 == 2:  # packed
                        p = 0
                        while p < len(v2):
                            x, p = read_varint(v2, p)
                            h.bad_consumers.append(_to_int64(x))
    except ValueError as e:
        raise BundleError(f"{index_path}: unable to parse the bundle header ({e})") from None
    return h


def _parse_shape(buf: bytes) -> Tuple[Tuple[int, ...], bool]:
    dims: List[int] = []
    unknown_rank = False
    for fno, wt, v in iter_proto_fields(buf):
        if fno == 2 and wt == 2:
            size = 0
            for f2, w2, v2 in iter_proto_fields(v):
                if f2 == 1 and w2 == 0:
                    size = _to_int64(v2)
            dims.append(size)
        elif fno == 3 and wt == 0:
            unknown_rank = bool(v)
    return tuple(dims), unknown_rank


def _parse_entry(name: str, val: bytes, index_path: str) -> TensorEntry:
    e = TensorEntry(name=name, dtype_enum=0, shape=())
    unknown_rank = False
    try:
        for fno, wt, v in iter_proto_fields(val):
            if fno == 1 and wt == 0:
                e.dtype_enum = v
            elif fno == 2 and wt == 2:
                e.shape, unknown_rank = _parse_shape(v)
            elif fno == 3 and wt == 0:
                e.shard_id = _to_int64(v)
            elif fno == 4 and wt == 0:
                e.offset = _to_int64(v)
            elif fno == 5 and wt == 0:
                e.size = _to_int64(v)
            elif fno == 6 and wt == 5:
                e.crc32c_masked = v
            elif fno == 7 and wt == 2:
                e.num_slices += 1
    except ValueError as ex:
        raise BundleError(f"{index_path}: unable to parse the entry of tensor '{name}' ({ex})") from None
    if unknown_rank or any(d < 0 for d in e.shape) or len(e.shape) > 254:
        raise BundleError(f"{index_path}: invalid tensor shape {list(e.shape)} for tensor '{name}'")
    if e.offset < 0 or e.size < 0 or e.shard_id < 0:
        raise BundleError(f"{index_path}: invalid offset/size/shard in the entry of tensor '{name}'")
    return e


def data_filename(prefix: str, shard_id: int, num_shards: int) -> str:
    return f"{prefix}.data-{shard_id:05d}-of-{num_shards:05d}"


_DATA_SUFFIX = re.compile(r"\.data-\d{5,}-of-\d{5,}$")
_V1_SHARD_SUFFIX = re.compile(r"-\d{5}-of-\d{5}$")


def resolve_prefix(path: str) -> str:
    """Turn what a user passes into a bundle prefix (the path without `.index`).

    Accepted: the prefix itself; `<prefix>.index`; `<prefix>.data-*-of-*`; a directory that holds a
    `checkpoint` file (its model_checkpoint_path is used); a directory without one but with exactly
    one `*.index` file. Raises BundleError (or V1CheckpointError) with a clear message otherwise.
    """
    p = os.fspath(path)
    if os.path.isdir(p):
        d = p
        ckpt_file = os.path.join(d, "checkpoint")
        if os.path.isfile(ckpt_file):
            name = _read_checkpoint_state(ckpt_file)
            if name is not None:
                cand = name if os.path.isabs(name) else os.path.join(d, name)
                if os.path.isfile(cand + ".index"):
                    return cand
                # Paths in `checkpoint` are often absolute paths of the training machine.
                cand2 = os.path.join(d, os.path.basename(name))
                if os.path.isfile(cand2 + ".index"):
                    return cand2
                for c in (cand, cand2):  # a V1 Saver's state file names its V1 file(s)
                    v1 = _v1_files(c.replace("?????", "00000"))
                    if v1:
                        raise V1CheckpointError(
                            f"TensorFlow V1 checkpoint format detected ({v1[0]}, named by {ckpt_file}); "
                            "only V2 (.index + .data-*) is supported")
                raise BundleError(f"{ckpt_file} names checkpoint '{name}', but neither {cand}.index "
                                  f"nor {cand2}.index exists")
        indexes = sorted(f for f in os.listdir(d) if f.endswith(".index"))
        if len(indexes) == 1:
            return os.path.join(d, indexes[0][:-len(".index")])
        if len(indexes) > 1:
            raise BundleError(f"{d}: directory holds {len(indexes)} checkpoints "
                              f"({', '.join(indexes[:4])}{', ...' if len(indexes) > 4 else ''}) and no "
                              "'checkpoint' file; pass the prefix of one of them")
        v1 = [f for f in sorted(os.listdir(d)) if looks_like_sstable(os.path.join(d, f))]
        if v1:
            raise V1CheckpointError(
                f"TensorFlow V1 checkpoint format detected ({os.path.join(d, v1[0])}); only V2 "
                "(.index + .data-*) is supported")
        raise BundleError(f"{d}: no TensorFlow checkpoint found (no 'checkpoint' file and no *.index file)")
    if p.endswith(".index") and os.path.isfile(p):
        return p[:-len(".index")]
    m = _DATA_SUFFIX.search(p)
    if m and os.path.isfile(p) and os.path.isfile(p[:m.start()] + ".index"):
        return p[:m.start()]
    if os.path.isfile(p + ".index"):
        return p
    # Not a V2 bundle. Say why as precisely as possible.
    v1 = _v1_files(p)
    if v1:
        raise V1CheckpointError(
            f"TensorFlow V1 checkpoint format detected ({v1[0]}); only V2 (.index + .data-*) is "
            "supported. Re-save it with tf.compat.v1.train.Saver("
            "write_version=tf.compat.v1.train.SaverDef.V2)")
    if os.path.isfile(p):
        raise BundleError(f"{p}: not a TensorFlow checkpoint (expected a V2 bundle: "
                          f"{p}.index plus data files, or the .index file itself)")
    raise BundleError(f"{p}: no such checkpoint ({p}.index does not exist)")


def _v1_files(p: str) -> List[str]:
    """The V1 (TensorSliceWriter) files at `p`: the file itself or its `p-SSSSS-of-NNNNN` shards."""
    if os.path.isfile(p):
        return [p] if looks_like_sstable(p) else []
    d = os.path.dirname(p) or "."
    base = os.path.basename(p)
    if not os.path.isdir(d):
        return []
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return []
    return [os.path.join(d, f) for f in names
            if f.startswith(base) and _V1_SHARD_SUFFIX.fullmatch(f[len(base):])
            and looks_like_sstable(os.path.join(d, f))]


_SIMPLE_ESCAPES = {"n": 10, "r": 13, "t": 9, "v": 11, "f": 12, "a": 7, "b": 8,
                   "\\": 92, "'": 39, '"': 34, "?": 63}


def _unescape_text_proto(s: str) -> bytes:
    """The bytes of a protobuf text-format string literal's body (C escapes: \\n \\t \\" \\\\ ...,
    octal \\ooo, hex \\xHH). Raises ValueError naming a bad escape."""
    out = bytearray()
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= n:
            raise ValueError("a lone backslash at the end")
        c = s[i + 1]
        if c in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[c])
            i += 2
        elif c in "01234567":
            j = i + 1
            while j < min(i + 4, n) and s[j] in "01234567":
                j += 1
            v = int(s[i + 1:j], 8)
            if v > 255:
                raise ValueError(f"octal escape '{s[i:j]}' is above \\377")
            out.append(v)
            i = j
        elif c in "xX":
            j = i + 2
            while j < min(i + 4, n) and s[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 2:
                raise ValueError(f"'\\{c}' without hex digits")
            out.append(int(s[i + 2:j], 16))
            i = j
        else:
            raise ValueError(f"unknown escape '\\{c}'")
    return bytes(out)


def _read_checkpoint_state(path: str) -> Optional[str]:
    """model_checkpoint_path from a text-format CheckpointState file, or None.

    The path is decoded as UTF-8 with surrogateescape, as Python does for file names. A string
    literal with a bad escape raises BundleError."""
    try:
        with open(path, "rb") as f:
            text = f.read(1 << 20).decode("utf-8", "surrogateescape")  # a real one is a few lines
    except OSError:
        return None
    m = re.search(r'^\s*model_checkpoint_path\s*:\s*"((?:[^"\\\n]|\\.)*)"', text, re.M)
    if not m:
        return None
    try:
        raw = _unescape_text_proto(m.group(1))
    except ValueError as e:
        raise BundleError(f"{path}: bad model_checkpoint_path: {e}") from None
    if b"\x00" in raw:
        raise BundleError(f"{path}: bad model_checkpoint_path: it contains a NUL byte")
    return raw.decode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------------------------
# The reader.

class BundleReader:
    """Lazy reader of one V2 tensor bundle.

    >>> r = BundleReader("model.ckpt")          # or the .index path, or the directory
    >>> r.names()                               # sorted tensor names (slice keys hidden)
    >>> r.entry("dense/kernel").shape
    >>> r.read("dense/kernel")                  # numpy array; CRC checked unless verify=False
    """

    def __init__(self, path: str, verify: bool = True):
        self.prefix = resolve_prefix(path)
        self.index_path = self.prefix + ".index"
        self.verify = verify
        records = read_sstable(self.index_path, verify=verify)
        if not records or records[0][0] != b"":
            raise BundleError(f"{self.index_path}: failed to seek to header entry (no '' key); "
                              "not a TensorFlow V2 checkpoint index")
        self.header = _parse_header(records[0][1], self.index_path)
        h = self.header
        if h.producer < 0 or h.min_consumer > 1 or 1 in h.bad_consumers:
            raise BundleError(f"{self.index_path}: unsupported bundle version (producer {h.producer}, "
                              f"min_consumer {h.min_consumer}, bad_consumers {h.bad_consumers})")
        if h.endianness == 1:
            raise BundleError(f"{self.index_path}: big-endian tensor bundle (written on a big-endian host); "
                              "not supported")
        if h.endianness != 0:
            raise BundleError(f"{self.index_path}: unknown endianness value {h.endianness} in the header")
        if h.num_shards < 1:
            raise BundleError(f"{self.index_path}: invalid num_shards {h.num_shards} in the header")
        self._entries: Dict[str, TensorEntry] = {}
        self._slice_keys = 0
        for key, val in records[1:]:
            if key[:1] == b"\x00":
                self._slice_keys += 1
                continue
            name = key.decode("utf-8", errors="surrogateescape")
            e = _parse_entry(name, val, self.index_path)
            if e.num_slices == 0 and e.shard_id >= h.num_shards:
                raise BundleError(f"{self.index_path}: tensor '{name}' is in shard {e.shard_id}, but the "
                                  f"bundle has {h.num_shards} shard(s)")
            self._entries[name] = e
        self._files: Dict[int, object] = {}
        self._sizes: Dict[int, int] = {}

    # -- listing -----------------------------------------------------------------------------
    def names(self) -> List[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, name: str) -> TensorEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise BundleError(f"{self.index_path}: key '{name}' not found in checkpoint") from None

    def entries(self) -> List[TensorEntry]:
        return [self._entries[n] for n in self.names()]

    def data_path(self, shard_id: int) -> str:
        return data_filename(self.prefix, shard_id, self.header.num_shards)

    # -- file access -------------------------------------------------------------------------
    def _file(self, shard_id: int):
        f = self._files.get(shard_id)
        if f is None:
            path = self.data_path(shard_id)
            try:
                f = open(path, "rb")
            except FileNotFoundError:
                raise BundleError(f"data file {path} is missing (shard {shard_id} of "
                                  f"{self.header.num_shards})") from None
            except OSError as e:
                raise BundleError(f"{path}: cannot open ({e.strerror})") from None
            self._files[shard_id] = f
            self._sizes[shard_id] = os.fstat(f.fileno()).st_size
        return f

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def check_data_files(self, names: Optional[List[str]] = None) -> None:
        """Check up front that every data file exists and is long enough for the given tensors."""
        for name in (names if names is not None else self.names()):
            e = self.entry(name)
            if e.num_slices or e.size == 0:
                continue
            self._file(e.shard_id)
            fsize = self._sizes[e.shard_id]
            if e.offset + e.size > fsize:
                raise BundleError(
                    f"data file {self.data_path(e.shard_id)} is truncated: tensor '{name}' needs bytes "
                    f"[{e.offset}, {e.offset + e.size}) but the file has {fsize} bytes")

    def _read_bytes(self, e: TensorEntry) -> bytes:
        f = self._file(e.shard_id)
        truncated = BundleError(
            f"data file {self.data_path(e.shard_id)} is truncated: tensor '{e.name}' needs bytes "
            f"[{e.offset}, {e.offset + e.size}) but the file has {self._sizes[e.shard_id]} bytes")
        # Check against the file's size first: an entry may claim any size (2^40 bytes), and
        # asking read() for it would try to allocate that much.
        if e.offset + e.size > self._sizes[e.shard_id]:
            raise truncated
        try:
            f.seek(e.offset)
            buf = f.read(e.size)
        except MemoryError:
            raise BundleError(f"tensor '{e.name}' needs {e.size} bytes: not enough memory to read it "
                              f"from {self.data_path(e.shard_id)}") from None
        except OSError as ex:
            raise BundleError(f"{self.data_path(e.shard_id)}: cannot read ({ex.strerror or ex})") from None
        if len(buf) != e.size:  # the file shrank since it was opened
            raise truncated
        return buf

    def _check_shape(self, e: TensorEntry, itemsize: int) -> None:
        """Refuse shapes numpy cannot hold, before allocating anything for them."""
        if len(e.shape) > _MAX_NDIM:
            raise BundleError(f"{self.index_path}: tensor '{e.name}' has {len(e.shape)} dimensions; "
                              f"at most {_MAX_NDIM} are supported")
        n = itemsize
        for d in e.shape:
            n *= max(d, 1)  # numpy refuses such shapes even when another dimension is 0
        if n > _MAX_ARRAY_BYTES:
            raise BundleError(f"{self.index_path}: tensor '{e.name}' has an impossible shape "
                              f"{list(e.shape)} (more than 2^63 bytes)")

    # -- reading -----------------------------------------------------------------------------
    def read(self, name: str) -> np.ndarray:
        """The tensor as a numpy array (strings: an object array of bytes)."""
        e = self.entry(name)
        if e.num_slices:
            raise BundleError(f"{self.index_path}: tensor '{name}' is a sliced (partitioned) variable "
                              f"saved as {e.num_slices} slices; sliced variables are not supported")
        if e.dtype_enum == DT_STRING:
            return self._read_string(e)
        if e.dtype_enum not in _FIXED_DTYPES:
            raise BundleError(f"{self.index_path}: tensor '{name}' has unsupported dtype {e.dtype} "
                              f"(enum {e.dtype_enum})")
        tname, np_dt = _FIXED_DTYPES[e.dtype_enum]
        itemsize = np.dtype(np_dt).itemsize
        self._check_shape(e, itemsize)
        if e.size != e.num_elements * itemsize:
            raise BundleError(f"{self.index_path}: invalid size in bundle entry of tensor '{name}': "
                              f"{e.size} bytes for shape {list(e.shape)} of {tname}")
        buf = self._read_bytes(e) if e.size else b""
        if self.verify and e.size:
            if crc32c(buf) != unmask_crc(e.crc32c_masked):
                raise ChecksumError(f"checksum does not match for tensor '{name}' "
                                    f"(bytes [{e.offset}, {e.offset + e.size}) of "
                                    f"{self.data_path(e.shard_id)}): the data file is corrupted")
        arr = np.frombuffer(buf, dtype=np_dt).reshape(e.shape)
        if e.dtype_enum == 14:  # bfloat16 -> float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        return arr

    def _read_string(self, e: TensorEntry) -> np.ndarray:
        self._check_shape(e, np.dtype(object).itemsize)
        n = e.num_elements
        if n == 0:
            return np.empty(e.shape, dtype=object)
        # n varint lengths (at least a byte each) and a 4-byte checksum of the lengths come first:
        # an entry whose size cannot hold them is refused before anything of size n is allocated.
        if e.size < n + 4:
            raise BundleError(f"{self.index_path}: invalid size in bundle entry of string tensor "
                              f"'{e.name}': {e.size} bytes cannot hold {n} string(s)")
        out = np.empty(n, dtype=object)
        buf = self._read_bytes(e)
        where = f"string tensor '{e.name}' in {self.data_path(e.shard_id)}"
        pos = 0
        lengths = []
        try:
            for _ in range(n):
                ln, pos = read_varint(buf, pos)
                lengths.append(ln)
        except ValueError:
            raise BundleError(f"{where}: corrupted string lengths") from None
        if pos + 4 + sum(lengths) > len(buf):
            raise BundleError(f"{where}: invalid size in bundle entry ({e.size} bytes too small)")
        stored_len_crc = buf[pos:pos + 4]
        if self.verify:
            c = 0
            for ln in lengths:
                c = crc32c(struct.pack("<I", ln) if ln <= _U32 else struct.pack("<Q", ln), c)
            if mask_crc(c) != struct.unpack("<I", stored_len_crc)[0]:
                raise ChecksumError(f"{where}: the length checksum does not match")
            c = crc32c(stored_len_crc, c)
            c = crc32c(buf[pos + 4:pos + 4 + sum(lengths)], c)
            if mask_crc(c) != e.crc32c_masked:
                raise ChecksumError(f"checksum does not match for tensor '{e.name}': the data file "
                                    f"{self.data_path(e.shard_id)} is corrupted")
        pos += 4
        for i, ln in enumerate(lengths):
            out[i] = bytes(buf[pos:pos + ln])
            pos += ln
        return out.reshape(e.shape)
