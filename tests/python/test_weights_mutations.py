"""Issue 22 through the Python package: seeded mutations of a weights file written by the converter
(`resnetrs convert`, h5py) either load with logits identical to the original's or raise
resnetrs.WeightsInvalidError; never another exception (nanobind's conversion error included), a
crash or a hang. The C API runs the same kind of test, 200 files, on the C++ writer's file
(tests/api/test_api_weights_mutations.cpp); here 60 by default (about 40 % of them load, each a
whole engine). RESNETRS_MUTATIONS and RESNETRS_MUTATION_SEED (default 22) choose the run."""

from __future__ import annotations

import os
import shutil

import numpy as np

import pkg_helpers as P

rs = P.import_package()

RES = 32


def _data_ranges(path):
    """[(offset, size)] of every dataset's contiguous data (h5py here is the test's, not the package's)."""
    import h5py
    out = []
    with h5py.File(path, "r") as f:
        def visit(_, obj):
            if isinstance(obj, h5py.Dataset):
                off = obj.id.get_offset()
                if off is not None:
                    out.append((int(off), int(obj.id.get_storage_size())))
        f.visititems(visit)
    return sorted(out)


class Planner:
    """The mutations of tests/api/weights_mutations.h: bytes overwritten, bits flipped, runs copied,
    the file cut short; 60 % in the first 16 KiB, 25 % in the metadata, 15 % anywhere."""

    def __init__(self, original: bytes, data):
        self.file = original
        self.meta = []
        at = 0
        for off, n in data:
            if off > at:
                self.meta.append((at, off - at))
            at = max(at, off + n)
        if at < len(original):
            self.meta.append((at, len(original) - at))
        self.meta_bytes = sum(n for _, n in self.meta)

    def make(self, seed: int):
        rng = np.random.default_rng(seed)
        size = len(self.file)

        def pick(n):
            return int(rng.integers(0, n)) if n > 0 else 0

        def position():
            r = pick(100)
            if r < 60:
                return pick(min(size, 16384))
            if r < 85 and self.meta_bytes:
                k = pick(self.meta_bytes)
                for off, n in self.meta:
                    if k < n:
                        return off + k
                    k -= n
            return pick(size)

        kind = pick(100)
        if kind < 35:
            n = 1 + pick(8)
            at = min(position(), size - n)
            return f"{n} random byte(s) at {at}", [(at, rng.integers(0, 256, n, dtype=np.uint8).tobytes())], None
        if kind < 65:
            writes = []
            for _ in range(1 + pick(3)):
                at = position()
                writes.append((at, bytes([self.file[at] ^ (1 << pick(8))])))
            return f"bits flipped at {[w[0] for w in writes]}", writes, None
        if kind < 85:
            n = 1 + pick(256)
            to, frm = min(position(), size - n), min(position(), size - n)
            return f"{n} bytes copied from {frm} to {to}", [(to, self.file[frm:frm + n])], None
        cut = position() if pick(2) else size - 1 - pick(4096)
        return f"cut to {cut} of {size} bytes", [], cut

    def apply(self, path, short, writes, cut):
        """The file to try: `path` (the copy) altered in place, or for a cut to less than half the
        file `short` written anew (cheaper than restoring the rest afterwards)."""
        if cut is not None and cut < len(self.file) // 2:
            with open(short, "wb") as f:
                f.write(self.file[:cut])
            return short
        with open(path, "r+b") as f:
            for at, b in writes:
                f.seek(at)
                f.write(b)
            if cut is not None:
                f.truncate(cut)
        return path

    def undo(self, path, writes, cut):
        if cut is not None and cut < len(self.file) // 2:
            return
        with open(path, "r+b") as f:
            for at, b in writes:
                f.seek(at)
                f.write(self.file[at:at + len(b)])
            if cut is not None:
                f.seek(cut)
                f.write(self.file[cut:])


def _logits(path, x):
    with rs.Engine(path, backend="cpu", max_batch=1, resolution=RES) as e:
        return e(x)


def test_mutated_files_load_identically_or_raise_weights_invalid(tmp_path_factory, tmp_path):
    count = int(os.environ.get("RESNETRS_MUTATIONS", "60"))
    seed = int(os.environ.get("RESNETRS_MUTATION_SEED", "22"))
    original = P.weights_file(tmp_path_factory)
    copy, short = str(tmp_path / "mutated.h5"), str(tmp_path / "cut.h5")
    shutil.copyfile(original, copy)
    with open(original, "rb") as f:
        data = f.read()
    planner = Planner(data, _data_ranges(original))
    x = P.pixels(1, seed=3, res=RES)
    ref = _logits(original, x)
    assert np.abs(ref).max() > 0 and np.unique(ref).size > 10  # the logits depend on the weights
    same = refused = 0
    for i in range(count):
        what, writes, cut = planner.make(seed * 1000003 + i)
        path = planner.apply(copy, short, writes, cut)
        try:
            got = _logits(path, x)
        except rs.WeightsInvalidError as e:
            msg = str(e)
            assert path in msg, f"mutation {i} ({what}): the message does not name the file: {msg}"
            msg.encode("utf-8")  # a str that is valid UTF-8 (no lone surrogates)
            refused += 1
        except Exception as e:  # noqa: BLE001 - any other exception is the failure this test looks for
            raise AssertionError(f"mutation {i} ({what}): {type(e).__name__}: {e}") from None
        else:
            assert np.array_equal(got, ref), f"mutation {i} ({what}) loaded with other logits"
            same += 1
        finally:
            planner.undo(copy, writes, cut)
    print(f"weights mutations (seed {seed}): {count} files, {same} loaded with identical logits, "
          f"{refused} refused with WeightsInvalidError")
    with open(copy, "rb") as f:
        assert f.read() == data
    assert refused > 0
