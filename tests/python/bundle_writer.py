"""A tiny tensor-bundle V2 writer for crafting edge cases that no fixture has (big-endian headers,
sliced entries, odd dtypes, several data blocks, Snappy blocks, corrupt CRCs).

Written for the tests only, from shared/docs/tf-checkpoint-format.md; not used by the converter.
"""

import struct

import cramjam
import google_crc32c
import numpy as np


def _varint(v: int) -> bytes:
    v &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_varint(no, v):
    return _varint(no << 3) + _varint(v)


def _field_bytes(no, b):
    return _varint((no << 3) | 2) + _varint(len(b)) + b


def _field_fixed32(no, v):
    return _varint((no << 3) | 5) + struct.pack("<I", v)


def mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def crc(b):
    return google_crc32c.value(bytes(b))


def header(num_shards=1, endianness=0, producer=1, min_consumer=0, bad_consumers=()):
    ver = _field_varint(1, producer)
    if min_consumer:
        ver += _field_varint(2, min_consumer)
    for b in bad_consumers:
        ver += _field_varint(3, b)
    out = _field_varint(1, num_shards)
    if endianness:
        out += _field_varint(2, endianness)
    return out + _field_bytes(3, ver)


def entry(dtype, shape, shard_id=0, offset=0, size=0, crc32c=0, slices=()):
    shp = b"".join(_field_bytes(2, _field_varint(1, d)) for d in shape)
    out = _field_varint(1, dtype) + _field_bytes(2, shp)
    if shard_id:
        out += _field_varint(3, shard_id)
    if offset:
        out += _field_varint(4, offset)
    if size:
        out += _field_varint(5, size)
    out += _field_fixed32(6, crc32c)
    for s in slices:
        out += _field_bytes(7, s)
    return out


def _block(items, restart_interval=16):
    body = bytearray()
    restarts = []
    prev = b""
    for i, (k, v) in enumerate(items):
        if i % restart_interval == 0:
            restarts.append(len(body))
            shared = 0
        else:
            shared = 0
            while shared < min(len(prev), len(k)) and prev[shared] == k[shared]:
                shared += 1
        body += _varint(shared) + _varint(len(k) - shared) + _varint(len(v)) + k[shared:] + v
        prev = k
    for r in restarts or [0]:
        body += struct.pack("<I", r)
    body += struct.pack("<I", len(restarts or [0]))
    return bytes(body)


def sstable(items, entries_per_block=1000, snappy=False, corrupt_block=None):
    """An SSTable holding (key, value) items (sorted by the caller)."""
    out = bytearray()
    index_items = []

    def write_block(raw, compress):
        ctype = 0
        if compress:
            raw = bytes(cramjam.snappy.compress_raw(raw))
            ctype = 1
        off = len(out)
        trailer_crc = mask(crc(raw + bytes([ctype])))
        out.extend(raw + bytes([ctype]) + struct.pack("<I", trailer_crc))
        return off, len(raw)

    chunks = [items[i:i + entries_per_block] for i in range(0, len(items), entries_per_block)]
    for n, ch in enumerate(chunks):
        off, size = write_block(_block(ch), snappy)
        if corrupt_block == n:
            out[off] ^= 0x01
        sep = ch[-1][0] + b"\xff"
        index_items.append((sep, _varint(off) + _varint(size)))
    meta_off, meta_size = write_block(_block([]), False)
    idx_off, idx_size = write_block(_block(index_items, restart_interval=1), False)
    footer = _varint(meta_off) + _varint(meta_size) + _varint(idx_off) + _varint(idx_size)
    footer += b"\x00" * (40 - len(footer)) + struct.pack("<Q", 0xDB4775248B80FB57)
    out.extend(footer)
    return bytes(out)


DT = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "int64": 9, "bool": 10,
      "bfloat16": 14, "uint16": 17, "float16": 19, "uint32": 22, "uint64": 23, "complex64": 8}


def write_bundle(prefix, tensors, hdr=None, extra_entries=(), entries_per_block=1000, snappy=False,
                 num_shards=1, shard_of=None, corrupt_block=None):
    """tensors: {name: numpy array, or (dtype_enum, shape, raw bytes[, masked crc])}. Returns {name: (shard, offset, size)}."""
    datas = [bytearray() for _ in range(num_shards)]
    items = []
    where = {}
    for name in sorted(tensors):
        t = tensors[name]
        crc_value = None
        if isinstance(t, tuple):
            dt, shape, raw = t[:3]
            if len(t) > 3:
                crc_value = t[3]
        else:
            a = np.asarray(t)
            dt = DT[str(a.dtype) if a.dtype.name != "bfloat16" else "bfloat16"]
            shape = a.shape
            raw = np.ascontiguousarray(a).tobytes()
        sh = shard_of(name) if shard_of else 0
        off = len(datas[sh])
        datas[sh] += raw
        where[name] = (sh, off, len(raw))
        items.append((name.encode(), entry(dt, shape, sh, off, len(raw),
                                             crc_value if crc_value is not None else mask(crc(raw)))))
    items.extend(extra_entries)
    items.sort(key=lambda kv: kv[0])
    items.insert(0, (b"", hdr if hdr is not None else header(num_shards)))
    with open(prefix + ".index", "wb") as f:
        f.write(sstable(items, entries_per_block, snappy, corrupt_block))
    for i, d in enumerate(datas):
        with open(f"{prefix}.data-{i:05d}-of-{num_shards:05d}", "wb") as f:
            f.write(d)
    return where
