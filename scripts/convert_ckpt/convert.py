"""Write a `resnetrs-weights` HDF5 file (version 1.2) from a Source.

The file is written to a temporary name in the output directory and renamed at the end, so an
error or Ctrl-C never leaves a partial output behind.

HDF5 builds the file in memory (h5py on a BytesIO) and we write the bytes: HDF5 never sees a
failing disk. (With a full disk or a file-size limit, libhdf5 cannot close a file whose metadata it
fails to write; h5py then prints tracebacks from its destructors and the process can crash, seen
with h5py 3.14.) The cost is memory as large as the output: 136 MiB for RS-50, 733 MiB for RS-420.
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from typing import Callable, List, Optional

import numpy as np

from . import __version__
from . import resnetrs_mapping as M
from .sources import ConvertError, PlanItem, Source

FORMAT = "resnetrs-weights"
FORMAT_VERSION = 1
FORMAT_MINOR = 2  # v1.2: the `checksum` covers the root attributes too (v1.1: `checksum`, fixed-length strings, the variant)
CONVERTER_VERSION = f"resnetrs convert_ckpt {__version__}"
PROGRESS_MIN_BYTES = 64 << 20


@dataclass
class Summary:
    depth: int
    num_classes: int
    tensors: int
    values: int
    source: str
    out: str
    bn_epsilon: float
    train_resolution: int
    variant: dict
    seconds: float
    ignored: List[str]

    def text(self) -> str:
        s = (f"converted ResNet-RS-{self.depth} (blocks {','.join(map(str, M.BLOCKS_PER_STAGE[self.depth]))}, "
             f"{self.num_classes} classes): {self.tensors} tensors, {self.values:,} values "
             f"({self.values * 4 / 2**20:.1f} MiB) from {self.source} -> {self.out} "
             f"[bn_epsilon {self.bn_epsilon:g}, train_resolution {self.train_resolution}"
             f"{self._variant_text()}] "
             f"in {self.seconds:.1f} s")
        return s

    def _variant_text(self) -> str:
        v = self.variant
        if v["activation"] == "relu" and v["stride2_padding"] == "symmetric" and v["stage1_shortcut_pool"] == "none":
            return ""  # the TF1 release's network: the line reads as before
        return (f", activation {v['activation']}, stride2_padding {v['stride2_padding']}, "
                f"stage1_shortcut_pool {v['stage1_shortcut_pool']}")


_RES_RE = re.compile(r"resnet-rs-(\d+)-i(\d+)")


def parse_train_resolution(path: str) -> int:
    """160 from a path like .../resnet-rs-50-i160/model.ckpt, else 0."""
    m = None
    for m in _RES_RE.finditer(os.path.abspath(path)):
        pass
    return int(m.group(2)) if m else 0


def check_output_path(out: str) -> None:
    """Fail early, before reading anything, if `out` cannot be written."""
    if not out:
        raise ConvertError("no output file given (--out FILE.h5)")
    if os.path.isdir(out):
        raise ConvertError(f"output path {out} is a directory")
    if os.path.lexists(out) and not os.path.islink(out) and not stat.S_ISREG(os.lstat(out).st_mode):
        # the file is renamed over `out` at the end: that would replace a device node or a FIFO
        raise ConvertError(f"output path {out} exists and is not a regular file; refusing to replace it")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.exists(parent):
        raise ConvertError(f"cannot write {out}: directory {parent} does not exist")
    if not os.path.isdir(parent):
        raise ConvertError(f"cannot write {out}: {parent} is not a directory")
    if not os.access(parent, os.W_OK):
        raise ConvertError(f"cannot write {out}: directory {parent} is not writable")


def _write_error(out: str, e: OSError) -> ConvertError:
    """One line for a failure while writing `out`: "No space left on device", "File too large"
    (RLIMIT_FSIZE), an I/O error, ..."""
    return ConvertError(f"cannot write {out}: {e.strerror or e or type(e).__name__}")


def _fixed_string(value: str) -> np.ndarray:
    """A fixed-length UTF-8 string attribute (the engine never reads variable-length ones)."""
    import h5py
    raw = value.encode("utf-8") or b"\0"
    return np.array(raw, dtype=h5py.string_dtype("utf-8", len(raw)))


_SCHEMA_PART = {"conv1": 0, "conv2": 1, "conv3": 2, "se/reduce": 3, "se/expand": 4, "shortcut": 5}
_SCHEMA_LEAF = {"kernel": 0, "bn/gamma": 1, "bn/beta": 2, "bn/moving_mean": 3, "bn/moving_variance": 4, "bias": 1}


def _schema_key(path: str):
    """Sort key giving the engine's schema order (src/io/weights_schema.cpp): stem conv1..4, then per
    block conv1, conv2, conv3, se/reduce, se/expand, shortcut, then the head; in a conv the kernel,
    then gamma, beta, moving_mean, moving_variance; in an SE or dense layer the kernel, then bias."""
    m = re.fullmatch(r"/stem/conv(\d)/(.+)", path)
    if m:
        return (0, int(m.group(1)), 0, 0, _SCHEMA_LEAF[m.group(2)])
    m = re.fullmatch(r"/stage(\d)/block(\d+)/(conv\d|se/reduce|se/expand|shortcut)/(.+)", path)
    if m:
        return (1, int(m.group(1)), int(m.group(2)), _SCHEMA_PART[m.group(3)], _SCHEMA_LEAF[m.group(4)])
    m = re.fullmatch(r"/head/dense/(kernel|bias)", path)
    if m:
        return (2, 0, 0, 0, _SCHEMA_LEAF[m.group(1)])
    raise ConvertError(f"internal error: {path} has no place in the schema order")


# The root attributes the v1.2 checksum covers, in the order of their canonical text.
CHECKSUMMED_ATTRIBUTES = ("format", "format_version", "format_minor", "depth", "blocks_per_stage", "num_classes",
                          "bn_epsilon", "input_mean", "input_std", "train_resolution", "activation",
                          "stride2_padding", "stage1_shortcut_pool")


def canonical_attributes(attrs) -> bytes:
    """The v1.2 canonical text of the root attributes (docs/weights-format.md, "The checksum"): one
    ASCII line `name=value` per attribute of CHECKSUMMED_ATTRIBUTES; integers in decimal (a list
    comma-separated), floats as 0x + the lowercase hex digits of their IEEE bits (bn_epsilon:
    binary64, input_mean/input_std: binary32 each), strings as their value. `attrs` maps the names
    to the values as stored (h5py's f.attrs: numpy scalars and arrays, bytes)."""
    def ints(v) -> str:
        return ",".join(str(int(x)) for x in np.atleast_1d(np.asarray(v)))

    def floats(v, dtype, bits) -> str:
        a = np.atleast_1d(np.asarray(v, dtype=dtype))
        return ",".join(f"0x{int(x):0{bits // 4}x}" for x in a.view(f"<u{bits // 8}"))

    def text(v) -> str:
        return v.decode("utf-8") if isinstance(v, bytes) else str(v)

    out = []
    for name in CHECKSUMMED_ATTRIBUTES:
        v = attrs[name]
        if name == "bn_epsilon":
            value = floats(v, "<f8", 64)
        elif name in ("input_mean", "input_std"):
            value = floats(v, "<f4", 32)
        elif name in ("format", "activation", "stride2_padding", "stage1_shortcut_pool"):
            value = text(v)
        else:
            value = ints(v)
        out.append(f"{name}={value}\n")
    return "".join(out).encode("ascii")


def weights_checksum(f, paths) -> str:
    """The v1.2 `checksum`: CRC-32 (zlib.crc32) over the canonical text of the root attributes of
    the open h5py file `f` (canonical_attributes), then the float32 little-endian bytes of the
    datasets `paths`, taken in schema order, as 'crc32:' + 8 lowercase hex digits. Both are read
    back from the file, so it covers what was written."""
    crc = zlib.crc32(canonical_attributes(f.attrs))
    for p in sorted(paths, key=_schema_key):
        crc = zlib.crc32(np.ascontiguousarray(f[p][...], dtype="<f4").tobytes(), crc)
    return f"crc32:{crc:08x}"


def _transform(a: np.ndarray, how: str) -> np.ndarray:
    if how == "oihw":
        a = a.transpose(3, 2, 0, 1)
    elif how == "dense":
        a = a.T
    return np.ascontiguousarray(a, dtype=np.float32)


def _validate_values(a: np.ndarray, item: PlanItem) -> None:
    if not np.isfinite(a).all():
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ConvertError(f"tensor {item.key} ({item.spec.h5}) has {bad} NaN or infinite value(s)")
    if item.spec.h5.endswith("/moving_variance") and (a < 0).any():
        raise ConvertError(f"tensor {item.key} ({item.spec.h5}) has negative variance(s) "
                           f"(min {float(a.min()):g})")


def convert(source: Source, out: str, depth: Optional[int] = None, train_resolution: int = 0,
            progress: Optional[bool] = None, log: Callable[[str], None] = lambda s: None,
            _after_tensor: Optional[Callable[[int], None]] = None) -> Summary:
    """Convert `source` into `out`. Raises ConvertError / BundleError / MappingError on bad input.

    depth: if given, must equal the detected depth. progress: None = a tqdm bar on a terminal for
    sources above 64 MiB. _after_tensor: test hook called after each dataset is written.
    """
    import h5py

    t0 = time.time()
    check_output_path(out)
    detected = source.detect_depth()
    if depth is not None and depth != detected:
        raise ConvertError(f"--depth {depth} given, but the source holds a ResNet-RS-{detected} "
                           f"(blocks per stage {list(M.BLOCKS_PER_STAGE[detected])})")
    items = source.plan(detected)
    num_classes = items[-1].spec.shape[0]
    total_bytes = sum(it.spec.num_elements * 4 for it in items)
    show = progress if progress is not None else (total_bytes >= PROGRESS_MIN_BYTES and sys.stderr.isatty())

    out_abs = os.path.abspath(out)
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out_abs) + ".", suffix=".tmp",
                                   dir=os.path.dirname(out_abs))
        os.close(fd)
    except OSError as e:
        raise _write_error(out, e) from None
    ok = False
    bar = None
    try:
        if show:
            from tqdm import tqdm
            bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                       desc=f"ResNet-RS-{detected}", file=sys.stderr, leave=False)
        image = io.BytesIO()
        try:
            values = _write_h5(h5py, image, source, items, detected, num_classes, train_resolution,
                               bar, _after_tensor)
            try:
                _write_bytes(tmp, image)
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
                os.replace(tmp, out_abs)
            except OSError as e:  # disk full, RLIMIT_FSIZE (EFBIG), I/O errors, ...
                raise _write_error(out, e) from None
        finally:
            image.close()
        ok = True
    finally:
        if bar is not None:
            bar.close()
        if not ok:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    ignored = source.ignored({it.key for it in items})
    return Summary(detected, num_classes, len(items), values, source.description(), out,
                   float(source.bn_epsilon), int(train_resolution), dict(source.variant), time.time() - t0, ignored)


def _write_bytes(path: str, image: io.BytesIO) -> None:
    """Write the file image to `path` in chunks (no second copy of it in memory)."""
    view = image.getbuffer()
    try:
        with open(path, "wb", buffering=0) as f:
            pos, n = 0, len(view)
            while pos < n:
                pos += f.write(view[pos:pos + (64 << 20)])
    finally:
        view.release()


def _write_h5(h5py, image: io.BytesIO, source: Source, items: List[PlanItem], detected: int,
              num_classes: int, train_resolution: int, bar, _after_tensor) -> int:
    """Build the HDF5 file in `image`; returns the number of values written."""
    with h5py.File(image, "w") as f:
        a = f.attrs
        a["format"] = _fixed_string(FORMAT)
        a["format_version"] = np.int32(FORMAT_VERSION)
        a["format_minor"] = np.int32(FORMAT_MINOR)
        a["depth"] = np.int32(detected)
        a["blocks_per_stage"] = np.asarray(M.BLOCKS_PER_STAGE[detected], dtype=np.int32)
        a["num_classes"] = np.int32(num_classes)
        a["bn_epsilon"] = np.float64(source.bn_epsilon)
        a["input_mean"] = np.asarray(M.INPUT_MEAN, dtype=np.float32)
        a["input_std"] = np.asarray(M.INPUT_STD, dtype=np.float32)
        a["train_resolution"] = np.int32(train_resolution)
        a["source"] = _fixed_string(source.description())
        a["converter_version"] = _fixed_string(CONVERTER_VERSION)
        for name in ("activation", "stride2_padding", "stage1_shortcut_pool"):
            a[name] = _fixed_string(source.variant[name])
        values = 0
        for n, it in enumerate(items):
            arr = _transform(source.read(it.key), it.transform)
            if arr.shape != it.spec.shape:  # cannot happen after plan(); a guard for the mapping itself
                raise ConvertError(f"internal error: {it.key} -> {it.spec.h5} has shape {arr.shape}, "
                                   f"expected {it.spec.shape}")
            _validate_values(arr, it)
            ds = f.create_dataset(it.spec.h5, data=arr)
            ds.attrs["source_name"] = it.key
            values += arr.size
            if bar is not None:
                bar.update(arr.nbytes)
            if _after_tensor is not None:
                _after_tensor(n)
        a["checksum"] = _fixed_string(weights_checksum(f, [it.spec.h5 for it in items]))
    return values
