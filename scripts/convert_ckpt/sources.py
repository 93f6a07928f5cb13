"""Where weights come from: a TF1 checkpoint, a timm state dict, or Keras ResNet-RS weights.

Each source lists its tensors (name, dtype, shape), detects the depth, and tells for each dataset of
our schema which source tensor feeds it (`plan`). Reading is lazy (`read(key)`).
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from . import resnetrs_mapping as M
from .garden_mapping import TF1_VARIANT
from .tf_bundle import BundleReader


class ConvertError(Exception):
    """A clear, one-line reason why the conversion cannot go on."""


@dataclass
class PlanItem:
    spec: M.Tensor          # the dataset we write
    key: str                # the source tensor that feeds it
    src_shape: Tuple[int, ...]
    transform: str          # 'oihw' (HWIO -> OIHW), 'dense' (transpose), 'none'


def _short_list(items: List[str], n: int = 5) -> str:
    s = ", ".join(items[:n])
    if len(items) > n:
        s += f", ... ({len(items)} in all)"
    return s


class Source:
    kind = "?"
    bn_epsilon = M.BN_EPSILON_TIMM
    # The network variant written into the file (format 1.1); every source but the TF2 Model Garden
    # holds the TF1 release's network (timm and Keras ResNet-RS are ports of it).
    variant = TF1_VARIANT

    def list(self) -> List[Tuple[str, str, Tuple[int, ...]]]:
        raise NotImplementedError

    def detect_depth(self) -> int:
        raise NotImplementedError

    def num_classes(self) -> int:
        raise NotImplementedError

    def plan(self, depth: int) -> List[PlanItem]:
        raise NotImplementedError

    def read(self, key: str) -> np.ndarray:
        raise NotImplementedError

    def description(self) -> str:
        raise NotImplementedError

    def ignored(self, used: set) -> List[str]:
        """Source tensors that are neither used nor expected to be skipped (for a warning)."""
        return []

    def close(self) -> None:
        pass

    # Shared check: every planned key present, float dtype, right shape.
    def _check(self, items: List[PlanItem], available: Dict[str, Tuple[str, Tuple[int, ...]]],
               what: str, float_ok=("float32",)) -> None:
        missing = [it.key for it in items if it.key not in available]
        if missing:
            raise ConvertError(f"{what}: missing tensor(s) {_short_list(missing)}")
        bad_dtype = [f"{it.key} is {available[it.key][0]}" for it in items if available[it.key][0] not in float_ok]
        if bad_dtype:
            raise ConvertError(f"{what}: expected {'/'.join(float_ok)} tensors, but {_short_list(bad_dtype)}")
        bad_shape = [f"{it.key} has shape {list(available[it.key][1])}, expected {list(it.src_shape)}"
                     for it in items if tuple(available[it.key][1]) != tuple(it.src_shape)]
        if bad_shape:
            raise ConvertError(f"{what}: wrong shape: {_short_list(bad_shape, 3)}")


# --------------------------------------------------------------------------------------------
# TF1 checkpoint (tensor bundle V2).

_SKIP_TF = re.compile(r"(^global_step$)|(/Momentum$)|(/Momentum/ExponentialMovingAverage$)")


class TFSource(Source):
    kind = "tf"
    bn_epsilon = M.BN_EPSILON_TF

    def __init__(self, path: str, verify: bool = True, use_ema: bool = True,
                 reader: Optional[BundleReader] = None):
        self.reader = reader if reader is not None else BundleReader(path, verify=verify)
        self.prefix = self.reader.prefix
        self.use_ema = use_ema
        self._avail = {e.name: (e.dtype, e.shape) for e in self.reader.entries()}

    def list(self):
        return [(e.name, e.dtype, e.shape) for e in self.reader.entries()]

    def detect_depth(self) -> int:
        return M.detect_depth_tf(self._avail)

    def _key(self, tf_name: str) -> str:
        return tf_name + M.EMA_SUFFIX if self.use_ema else tf_name

    def num_classes(self) -> int:
        k = self._key("dense/bias")
        if k not in self._avail:
            return 1000  # plan() reports the missing tensor
        shp = self._avail[k][1]
        if len(shp) != 1 or shp[0] < 1:
            raise ConvertError(f"{self.reader.index_path}: wrong shape: {k} has shape {list(shp)}, "
                               "expected [num_classes]")
        return int(shp[0])

    def plan(self, depth: int) -> List[PlanItem]:
        if self.use_ema and not any(n.endswith(M.EMA_SUFFIX) for n in self._avail):
            raise ConvertError(
                f"{self.reader.index_path}: the checkpoint has no '/ExponentialMovingAverage' shadow "
                "variables; the released weights are the EMA values. Refusing to use the raw training "
                "values; pass --no-ema to convert them anyway")
        specs = M.tensors(depth, self.num_classes())
        items = [PlanItem(s, self._key(s.tf), s.tf_shape, s.layout if s.layout != "vec" else "none")
                 for s in specs]
        if self.use_ema:
            missing = [it.key for it in items if it.key not in self._avail]
            if missing:
                raw_present = [k[:-len(M.EMA_SUFFIX)] for k in missing if k[:-len(M.EMA_SUFFIX)] in self._avail]
                hint = (" (the raw variable exists; pass --no-ema to use raw values for every tensor)"
                        if raw_present else "")
                raise ConvertError(f"{self.reader.index_path}: missing tensor(s) {_short_list(missing)}{hint}")
        self._check(items, self._avail, self.reader.index_path)
        self.reader.check_data_files([it.key for it in items])
        return items

    def read(self, key: str) -> np.ndarray:
        return self.reader.read(key)

    def description(self) -> str:
        parts = os.path.abspath(self.prefix).split(os.sep)
        short = "/".join(parts[-2:])
        return f"tf1-checkpoint:{short} ({'EMA' if self.use_ema else 'raw values, no EMA'})"

    def ignored(self, used: set) -> List[str]:
        out = []
        model_names = {k[:-len(M.EMA_SUFFIX)] if k.endswith(M.EMA_SUFFIX) else k for k in used}
        for n in self._avail:
            if n in used or _SKIP_TF.search(n):
                continue
            if self.use_ema and n in model_names:
                continue  # the raw value of a variable whose EMA was used
            if not self.use_ema and n.endswith(M.EMA_SUFFIX) and n[:-len(M.EMA_SUFFIX)] in used:
                continue
            out.append(n)
        return sorted(out)

    def close(self):
        self.reader.close()


# --------------------------------------------------------------------------------------------
# timm state dict (.safetensors, or .pth with PyTorch).

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "bf16", "I64": "<i8", "I32": "<i4",
              "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
_ST_NAMES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
             "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool"}


class SafetensorsFile:
    """A minimal lazy .safetensors reader: u64 header length, JSON header, raw little-endian data."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.f = open(path, "rb")
        except OSError as e:
            raise ConvertError(f"{path}: cannot open ({e.strerror})") from None
        size = os.fstat(self.f.fileno()).st_size
        head = self.f.read(8)
        if len(head) < 8:
            raise ConvertError(f"{path}: not a safetensors file (too short)")
        n = struct.unpack("<Q", head)[0]
        if n > size - 8 or n > (100 << 20):
            raise ConvertError(f"{path}: not a safetensors file (bad header length)")
        try:
            header = json.loads(self.f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ConvertError(f"{path}: not a safetensors file (header is not JSON)") from None
        if not isinstance(header, dict):
            raise ConvertError(f"{path}: not a safetensors file (header is not a JSON object)")
        self.base = 8 + n
        self.entries = {}
        for k, v in header.items():
            if k == "__metadata__":
                continue
            try:
                dt, shape, (b, e) = v["dtype"], tuple(int(x) for x in v["shape"]), v["data_offsets"]
            except (KeyError, TypeError, ValueError):
                raise ConvertError(f"{path}: bad header entry for '{k}'") from None
            if self.base + e > size or b > e:
                raise ConvertError(f"{path}: file is truncated: tensor '{k}' needs bytes up to "
                                   f"{self.base + e}, the file has {size}")
            self.entries[k] = (dt, shape, b, e)

    def read(self, key: str) -> np.ndarray:
        dt, shape, b, e = self.entries[key]
        if dt not in _ST_DTYPES:
            raise ConvertError(f"{self.path}: tensor '{key}' has unsupported dtype {dt}")
        self.f.seek(self.base + b)
        buf = self.f.read(e - b)
        if _ST_DTYPES[dt] == "bf16":
            a = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(buf, _ST_DTYPES[dt])
        n = int(np.prod(shape)) if shape else 1
        if a.size != n:
            raise ConvertError(f"{self.path}: tensor '{key}' has {a.size} elements for shape {list(shape)}")
        return a.reshape(shape)

    def close(self):
        self.f.close()


_TIMM_FLOATS = ("float32", "float16", "bfloat16", "float64")


class TimmSource(Source):
    kind = "timm"
    bn_epsilon = M.BN_EPSILON_TIMM

    def __init__(self, path: str):
        self.path = path
        if not os.path.isfile(path):
            raise ConvertError(f"{path}: no such file")
        self._st: Optional[SafetensorsFile] = None
        self._sd: Optional[Dict[str, np.ndarray]] = None
        with open(path, "rb") as f:
            magic = f.read(8)
        is_zip = magic[:4] == b"PK\x03\x04"
        is_pickle = magic[:1] == b"\x80"
        if path.endswith(".safetensors") or not (is_zip or is_pickle):
            self._st = SafetensorsFile(path)
            self._avail = {k: (_ST_NAMES.get(v[0], v[0]), v[1]) for k, v in self._st.entries.items()}
        else:
            self._sd = self._load_pth(path)
            self._avail = {k: (str(v.dtype), tuple(v.shape)) for k, v in self._sd.items()}
        self._prefix = ""
        if not any(k.startswith("layer1.") for k in self._avail):
            for p in ("module.", "model."):
                if any(k.startswith(p + "layer1.") for k in self._avail):
                    self._prefix = p
                    break

    @staticmethod
    def _load_pth(path: str) -> Dict[str, np.ndarray]:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ConvertError(f"{path}: reading a .pth file needs PyTorch, which is not installed; "
                               "use the .safetensors file instead") from None
        import torch
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # torch raises many kinds
            raise ConvertError(f"{path}: cannot load as a PyTorch state dict ({type(e).__name__}: "
                               f"{str(e).splitlines()[0] if str(e) else ''})") from None
        if isinstance(obj, dict):
            for k in ("state_dict", "model", "state_dict_ema", "model_ema"):
                if k in obj and isinstance(obj[k], dict):
                    obj = obj[k]
                    break
        if not isinstance(obj, dict):
            raise ConvertError(f"{path}: not a state dict")
        out = {}
        for k, v in obj.items():
            if hasattr(v, "detach"):
                v = v.detach().cpu()
                if v.is_floating_point():
                    v = v.float()
                out[k] = v.numpy()
        return out

    def _k(self, key: str) -> str:
        return self._prefix + key

    def list(self):
        return sorted((k, v[0], v[1]) for k, v in self._avail.items())

    def detect_depth(self) -> int:
        keys = [k[len(self._prefix):] for k in self._avail if k.startswith(self._prefix)]
        return M.detect_depth_timm(keys)

    def num_classes(self) -> int:
        k = self._k("fc.bias")
        if k not in self._avail:
            raise ConvertError(f"{self.path}: missing tensor(s) {k}")
        return int(self._avail[k][1][0])

    def plan(self, depth: int) -> List[PlanItem]:
        items = [PlanItem(s, self._k(s.timm), s.shape, "none") for s in M.tensors(depth, self.num_classes())]
        self._check(items, self._avail, self.path, float_ok=_TIMM_FLOATS)
        return items

    def read(self, key: str) -> np.ndarray:
        if self._st is not None:
            return self._st.read(key)
        return self._sd[key]

    def description(self) -> str:
        return f"timm:{os.path.basename(self.path)}"

    def ignored(self, used: set) -> List[str]:
        return sorted(k for k in self._avail if k not in used and not k.endswith("num_batches_tracked"))

    def close(self):
        if self._st is not None:
            self._st.close()


# --------------------------------------------------------------------------------------------
# Keras (tf_keras.applications.ResNetRS*) weights: a live model's weights as a dict, or an .h5
# weights file written by model.save_weights('x.h5') / model.save('x.h5') (read with h5py; no TF).

class KerasSource(Source):
    kind = "keras"
    # tf_keras.applications.ResNetRS* build every BatchNormalization with epsilon=1e-5, and TF 2.x's
    # fused kernel applies exactly that value (checked by tests/python/test_keras_e2e.py).
    bn_epsilon = 1e-5

    def __init__(self, weights: Dict[str, np.ndarray], name: str, bn_epsilon: Optional[float] = None):
        self._w = weights
        self._name = name
        if bn_epsilon is not None:
            self.bn_epsilon = float(bn_epsilon)
        self._avail = {k: (str(np.asarray(v).dtype), tuple(np.shape(v))) for k, v in weights.items()}
        self._by_h5: Dict[str, str] = {}
        for k in weights:
            p = M.keras_key_to_h5(k)
            if p is not None:
                if p in self._by_h5:
                    raise ConvertError(f"{name}: two Keras weights map to {p}: {self._by_h5[p]} and {k}")
                self._by_h5[p] = k

    @classmethod
    def from_h5(cls, path: str) -> "KerasSource":
        import h5py
        if not os.path.isfile(path):
            raise ConvertError(f"{path}: no such file")
        try:
            f = h5py.File(path, "r")
        except OSError:
            raise ConvertError(f"{path}: not an HDF5 file (expected Keras weights saved with "
                               "model.save_weights('x.h5'))") from None
        with f:
            g = f["model_weights"] if "model_weights" in f else f
            if "layer_names" not in g.attrs:
                if "format" in f.attrs:
                    raise ConvertError(f"{path}: this is already a '{f.attrs['format']}' file, not Keras weights")
                raise ConvertError(f"{path}: not a Keras HDF5 weights file (no 'layer_names' attribute; "
                                   "Keras 3 '.weights.h5' files are not supported)")
            weights: Dict[str, np.ndarray] = {}
            # Names that are not UTF-8 are kept with surrogateescape (the CLI prints them as \\xNN)
            # and looked up by their bytes, so they never raise a bare UnicodeDecodeError.
            for raw_ln in g.attrs["layer_names"]:
                ln = _keras_name(raw_ln)
                lg = g[raw_ln]
                for raw_wn in lg.attrs.get("weight_names", []):
                    wn = _keras_name(raw_wn)
                    var = wn.split("/")[-1].split(":")[0]
                    weights[f"{ln}/{var}"] = np.asarray(lg[raw_wn])
        return cls(weights, f"keras:{os.path.basename(path)}")

    @classmethod
    def from_model(cls, model, name: Optional[str] = None) -> "KerasSource":
        """Weights of a live tf_keras model (duck-typed: .layers, layer.weights, layer.epsilon)."""
        weights: Dict[str, np.ndarray] = {}
        eps = set()
        for layer in model.layers:
            if hasattr(layer, "moving_variance") and hasattr(layer, "epsilon"):
                eps.add(float(layer.epsilon))
            for w in layer.weights:
                var = w.name.split("/")[-1].split(":")[0]
                weights[f"{layer.name}/{var}"] = np.asarray(w.numpy())
        if len(eps) > 1:
            raise ConvertError(f"Keras model uses several BN epsilons {sorted(eps)}; not supported")
        return cls(weights, name or f"keras:{model.name}", bn_epsilon=eps.pop() if eps else None)

    def list(self):
        return sorted((k, v[0], v[1]) for k, v in self._avail.items())

    def detect_depth(self) -> int:
        return M.detect_depth_keras(self._avail)

    def num_classes(self) -> int:
        k = self._by_h5.get("/head/dense/bias")
        if k is None:
            raise ConvertError(f"{self._name}: missing the 'predictions' layer (was the model built with "
                               "include_top=False?)")
        return int(self._avail[k][1][0])

    def plan(self, depth: int) -> List[PlanItem]:
        items = []
        missing = []
        for s in M.tensors(depth, self.num_classes()):
            k = self._by_h5.get(s.h5)
            if k is None:
                missing.append(s.h5)
                continue
            items.append(PlanItem(s, k, s.tf_shape, s.layout if s.layout != "vec" else "none"))
        if missing:
            raise ConvertError(f"{self._name}: no Keras weight for {_short_list(missing)}")
        self._check(items, self._avail, self._name)
        return items

    def read(self, key: str) -> np.ndarray:
        return np.asarray(self._w[key])

    def description(self) -> str:
        return self._name

    def ignored(self, used: set) -> List[str]:
        return sorted(k for k in self._avail if k not in used)


def open_tf_checkpoint(path: str, verify: bool = True, use_ema: bool = True,
                       activation: Optional[str] = None) -> Source:
    """A TF checkpoint of either family: TF2 object-based (it has an object graph) -> the Model
    Garden source; otherwise the TF1 release's name-based checkpoint."""
    from .garden_source import GardenSource, is_object_based
    reader = BundleReader(path, verify=verify)
    try:
        if is_object_based(reader):
            return GardenSource(reader, use_ema=use_ema, activation=activation)
        if activation is not None:
            raise ConvertError("--activation applies to TF2 Model Garden checkpoints only; this is a TF1 "
                               "checkpoint (the TF1 release's ResNet-RS uses relu)")
        return TFSource(path, verify=verify, use_ema=use_ema, reader=reader)
    except BaseException:
        reader.close()
        raise


def _keras_name(v) -> str:
    """A Keras layer or weight name as str: bytes decoded as UTF-8, other bytes kept as surrogates."""
    return v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else str(v)
