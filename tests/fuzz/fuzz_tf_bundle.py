#!/usr/bin/env python3
"""atheris fuzz target for the tensor-bundle reader (scripts/convert_ckpt/tf_bundle.py).

The reader's contract: whatever the files hold, it returns arrays or raises BundleError. Any other
exception (ValueError, MemoryError, IndexError, struct.error, ...), a hang or a large allocation is
a finding.

One fuzz input describes the files of a checkpoint directory:

    byte 0            flags: bit 0 = verify CRCs, bit 1 = also write a `checkpoint` state file
    u32 LE + bytes    model.ckpt.index
    u32 LE + bytes    (only with bit 1) the `checkpoint` file, read when the directory is opened
    u32 LE + bytes    ... one chunk per data shard: model.ckpt.data-0000i-of-0000n, n = chunk count

A length runs to the end of the input when it is larger than what is left.

    python tests/fuzz/fuzz_tf_bundle.py --seeds DIR       # write the seed corpus (crafted bundles)
    python tests/fuzz/fuzz_tf_bundle.py DIR [libFuzzer flags: -runs=N -max_total_time=S ...]

docs/testing.md has the short run of scripts/test and the long run.
"""

import os
import shutil
import struct
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))
sys.path[:0] = [os.path.join(_REPO, "scripts"), os.path.join(_REPO, "tests", "python")]

MAX_SHARDS = 4
PREFIX = "model.ckpt"


def split_input(data: bytes):
    """(verify, state_file or None, index bytes, [shard bytes]) from one fuzz input."""
    if not data:
        return True, None, b"", []
    flags, pos = data[0], 1

    def chunk():
        nonlocal pos
        if pos + 4 > len(data):
            out = data[pos:]
            pos = len(data)
            return out
        n = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        out = data[pos:pos + n]
        pos += len(out)
        return out

    index = chunk()
    state = chunk() if flags & 2 else None
    shards = []
    while pos < len(data) and len(shards) < MAX_SHARDS:
        shards.append(chunk())
    return bool(flags & 1), state, index, shards


def join_input(verify: bool, index: bytes, shards, state=None) -> bytes:
    out = bytearray([(1 if verify else 0) | (2 if state is not None else 0)])
    for part in [index] + ([state] if state is not None else []) + list(shards):
        out += struct.pack("<I", len(part)) + part
    return bytes(out)


def write_seeds(out_dir: str) -> int:
    """Crafted bundles (tests/python/bundle_writer.py) covering what the reader parses: every
    fixed dtype, strings, several index blocks, Snappy, two shards, slices, bad headers, a
    `checkpoint` file with escapes. Returns the number of seeds written."""
    import numpy as np
    import bundle_writer as BW

    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(1)
    seeds = []
    with tempfile.TemporaryDirectory() as tmp:
        def bundle(tensors, **kw):
            prefix = os.path.join(tmp, "b")
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
            BW.write_bundle(prefix, tensors, **kw)
            with open(prefix + ".index", "rb") as f:
                index = f.read()
            n = kw.get("num_shards", 1)
            shards = []
            for i in range(n):
                with open(f"{prefix}.data-{i:05d}-of-{n:05d}", "rb") as f:
                    shards.append(f.read())
            return index, shards

        strs = (7, (3,), b"\x03\x00\x02" + struct.pack("<I", BW.mask(BW.crc(struct.pack("<III", 3, 0, 2))))
                + b"abcde")
        basic = {"conv2d/kernel": rng.standard_normal((3, 3, 2, 4)).astype(np.float32),
                 "global_step": np.array(7, np.int64), "s": strs}
        seeds.append(bundle(basic))
        seeds.append(bundle({"f64": rng.standard_normal(3), "i32": np.arange(4, dtype=np.int32),
                             "u8": np.arange(5, dtype=np.uint8), "b": np.array([True, False]),
                             "f16": np.array([0.5], np.float16), "c64": np.array([1 + 2j], np.complex64),
                             "bf16": (14, (2,), b"\x80\x3f\x00\x40"), "empty": np.zeros((0, 3), np.float32),
                             "scalar": np.float32(1.5)}))
        seeds.append(bundle({f"layer_{i:02d}/w": np.full((i % 3 + 1,), i, np.float32) for i in range(40)},
                            entries_per_block=7, snappy=True))
        seeds.append(bundle({"a": np.arange(3, dtype=np.float32), "b": np.arange(2, dtype=np.int64)},
                            num_shards=2, shard_of=lambda n: "ab".index(n)))
        full = (b"big", BW.entry(1, (4, 2), slices=[b"\x0a\x04\x08\x00\x10\x02\x0a\x00"]))
        slice_key = (b"\x00big\x00\x01\x01\x02\x80\x85\x80\x7f", BW.entry(1, (2, 2)))
        seeds.append(bundle({"a": np.ones(2, np.float32)}, extra_entries=[full, slice_key]))
        seeds.append(bundle({"v": (21, (1,), b"\x00" * 5), "r": (20, (), b"")},
                            hdr=BW.header(min_consumer=0, bad_consumers=[3])))
    for i, (index, shards) in enumerate(seeds):
        for verify in (True, False):
            with open(os.path.join(out_dir, f"seed-{i}-{'crc' if verify else 'nocrc'}"), "wb") as f:
                f.write(join_input(verify, index, shards))
    state = b'model_checkpoint_path: "/train/run\\0557/model.ckpt"\nall_model_checkpoint_paths: "x\\n\\x41"\n'
    with open(os.path.join(out_dir, "seed-state"), "wb") as f:
        f.write(join_input(False, seeds[0][0], seeds[0][1], state=state))
    return 2 * len(seeds) + 1


def make_test_one_input(tf_bundle, workdir: str):
    BundleReader, BundleError = tf_bundle.BundleReader, tf_bundle.BundleError

    def test_one_input(data: bytes) -> None:
        verify, state, index, shards = split_input(data)
        for f in os.listdir(workdir):
            os.unlink(os.path.join(workdir, f))
        with open(os.path.join(workdir, PREFIX + ".index"), "wb") as f:
            f.write(index)
        for i, b in enumerate(shards):
            with open(os.path.join(workdir, f"{PREFIX}.data-{i:05d}-of-{len(shards):05d}"), "wb") as f:
                f.write(b)
        if state is not None:
            with open(os.path.join(workdir, "checkpoint"), "wb") as f:
                f.write(state)
        try:
            # the directory: resolves through the `checkpoint` file when there is one
            with BundleReader(workdir if state is not None else os.path.join(workdir, PREFIX),
                              verify=verify) as r:
                r.header, len(r), r.entries()
                try:
                    r.check_data_files()
                except BundleError:
                    pass
                for name in r.names():
                    try:
                        a = r.read(name)
                    except BundleError:
                        continue
                    assert tuple(a.shape) == tuple(r.entry(name).shape), name
        except BundleError:
            pass

    return test_one_input


def main(argv):
    if len(argv) >= 3 and argv[1] == "--seeds":
        n = write_seeds(argv[2])
        print(f"wrote {n} seeds to {argv[2]}")
        return 0
    import atheris
    with atheris.instrument_imports(include=["convert_ckpt"]):
        from convert_ckpt import tf_bundle
    atheris.Setup(argv, make_test_one_input(tf_bundle, _workdir()))
    atheris.Fuzz()  # libFuzzer ends the process itself
    return 0


def _workdir() -> str:
    """A directory for the files of one input, in memory (/dev/shm) when possible. libFuzzer exits
    without unwinding Python, so nothing can remove it at the end: each process removes those of
    processes that are gone (named by their pid) instead. FUZZ_TF_BUNDLE_WORKDIR overrides."""
    if os.environ.get("FUZZ_TF_BUNDLE_WORKDIR"):
        d = os.environ["FUZZ_TF_BUNDLE_WORKDIR"]
        os.makedirs(d, exist_ok=True)
        return d
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    for name in os.listdir(base):
        if name.startswith("fuzz_tf_bundle.") and name.split(".")[-1].isdigit():
            pid = int(name.split(".")[-1])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                shutil.rmtree(os.path.join(base, name), ignore_errors=True)
            except OSError:  # alive, another user's
                pass
    d = os.path.join(base, f"fuzz_tf_bundle.{os.getpid()}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


if __name__ == "__main__":
    sys.exit(main(sys.argv))
