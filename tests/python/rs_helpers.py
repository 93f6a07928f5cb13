"""Test helpers: paths, the converter command, an independent description of the ResNet-RS
structure and its names (written from resnetrs-architecture.md, not from the converter's code),
random weights, checkpoint writers, and a numpy reference forward pass of our HDF5 schema.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Dict, List, Tuple

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONVERTER = os.path.join(REPO, "scripts", "convert_ckpt", "convert_ckpt.py")

BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3),
          270: (4, 29, 53, 4), 350: (4, 36, 72, 4), 420: (4, 44, 87, 4)}
DEPTHS = sorted(BLOCKS)
FILTERS = (64, 128, 256, 512)
MEAN = np.array([123.675, 116.28, 103.53], np.float32)
STD = np.array([58.395, 57.12, 57.375], np.float32)


def shared_dir() -> str:
    return os.environ.get("RESNETRS_SHARED_DIR") or os.path.join(os.path.dirname(REPO), "shared")


def fixtures_dir() -> str:
    return os.path.join(shared_dir(), "fixtures", "tf-bundles")


def bench_path() -> str:
    p = os.environ.get("RESNETRS_BENCH") or os.path.join(REPO, "build", "resnetrs-bench")
    return p if os.path.isabs(p) else os.path.join(REPO, p)


def cpu_engine_logits(weights, x_path, out_path) -> np.ndarray:
    """Logits of the C++ CPU engine (`resnetrs-bench infer --backend cpu`) for the pixels in x_path,
    as float64; fails the test when the binary is missing or the run fails."""
    import pytest
    exe = bench_path()
    if not os.path.isfile(exe):
        pytest.fail(f"C++ engine not found at {exe}: build it first (bash scripts/build), or point "
                    "RESNETRS_BENCH at the binary")
    cmd = [exe, "infer", "--weights", str(weights), "--input", str(x_path), "--output", str(out_path),
           "--backend", "cpu"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return np.load(out_path).astype(np.float64)


def run_converter(*args, check=False, timeout=600) -> subprocess.CompletedProcess:
    """Run the converter command line exactly as a user would."""
    cmd = [sys.executable, CONVERTER, *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise AssertionError(f"converter failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r


def with_rlimits(cmd, **limits) -> list:
    """`cmd` (a Python command) run under resource limits, e.g. with_rlimits(cmd, RLIMIT_FSIZE=n):
    a small Python sets them and execs the command. (Not preexec_fn: the test process has
    TensorFlow's threads, and running Python code between fork and exec can deadlock there.)"""
    assert cmd[0] == sys.executable
    setup = "; ".join(f"resource.setrlimit(resource.{k}, ({int(v)}, {int(v)}))" for k, v in limits.items())
    return [sys.executable, "-c", f"import os, resource, sys; {setup}; os.execv(sys.executable, [sys.executable] + sys.argv[1:])",
            *map(str, cmd[1:])]


# --------------------------------------------------------------------------------------------
# The structure, enumerated in TF1 layer-creation order (architecture §5, "Order of layer creation").
# Each layer: dict(kind, group (our HDF5 group), tf (TF1 scope), timm (key prefix), shape info).

def tf_layer_list(depth: int, num_classes: int = 1000) -> List[dict]:
    conv_n = [0]
    bn_n = [0]

    def next_conv():
        i = conv_n[0]
        conv_n[0] += 1
        return "conv2d" if i == 0 else f"conv2d_{i}"

    def next_bn():
        i = bn_n[0]
        bn_n[0] += 1
        return "batch_normalization" if i == 0 else f"batch_normalization_{i}"

    out = []
    stem = [(3, 32, "conv1.0", "conv1.1"), (32, 32, "conv1.3", "conv1.4"), (32, 64, "conv1.6", "bn1"),
            (64, 64, "maxpool.0", "maxpool.1")]
    for i, (ci, co, tc, tb) in enumerate(stem):
        g = f"/stem/conv{i + 1}"
        out.append(dict(kind="conv", group=g, tf=next_conv(), timm=tc, hwio=(3, 3, ci, co)))
        out.append(dict(kind="bn", group=g + "/bn", tf=next_bn(), timm=tb, c=co))
    cin = 64
    for gi, n in enumerate(BLOCKS[depth]):
        f = FILTERS[gi]
        for b in range(n):
            base = f"/stage{gi + 1}/block{b}"
            tp = f"layer{gi + 1}.{b}"
            if b == 0:
                out.append(dict(kind="conv", group=base + "/shortcut", tf=next_conv(), timm=tp + ".downsample.1",
                                hwio=(1, 1, cin, 4 * f)))
                out.append(dict(kind="bn", group=base + "/shortcut/bn", tf=next_bn(), timm=tp + ".downsample.2",
                                c=4 * f))
            for j, (ci, co, k) in enumerate(((cin, f, 1), (f, f, 3), (f, 4 * f, 1))):
                out.append(dict(kind="conv", group=f"{base}/conv{j + 1}", tf=next_conv(),
                                timm=f"{tp}.conv{j + 1}", hwio=(k, k, ci, co)))
                out.append(dict(kind="bn", group=f"{base}/conv{j + 1}/bn", tf=next_bn(),
                                timm=f"{tp}.bn{j + 1}", c=co))
            out.append(dict(kind="se", group=base + "/se/reduce", tf=next_conv(), timm=tp + ".se.fc1",
                            hwio=(1, 1, 4 * f, f)))
            out.append(dict(kind="se", group=base + "/se/expand", tf=next_conv(), timm=tp + ".se.fc2",
                            hwio=(1, 1, f, 4 * f)))
            cin = 4 * f
    out.append(dict(kind="dense", group="/head/dense", tf="dense", timm="fc", io=(2048, num_classes)))
    return out


BN_FIELDS = ("gamma", "beta", "moving_mean", "moving_variance")
TIMM_BN = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}


def random_weights(depth: int, seed: int, num_classes: int = 1000) -> Dict[str, np.ndarray]:
    """Random weights in OUR layout ({HDF5 dataset path: float32 array}), with randomised BN stats.

    Scales keep activations O(1) through 139 blocks: He-normal convs, BN gamma in [0.5, 1.5]
    (bn3 in [0.05, 0.25]), beta/mean ~ N(0, 0.1), variance in [0.5, 2]. To stay fast for RS-420
    (192M values), each tensor is a random window of one pool of N(0,1) values, at a random offset
    (so no two tensors share their values in the same places), times its scale.
    """
    rng = np.random.default_rng(seed)
    pool = rng.standard_normal(1 << 23, dtype=np.float32)

    def normal(shape, std):
        n = int(np.prod(shape))
        off = int(rng.integers(0, pool.size - n))
        return (pool[off:off + n] * np.float32(std)).reshape(shape)

    w: Dict[str, np.ndarray] = {}
    for L in tf_layer_list(depth, num_classes):
        g = L["group"]
        if L["kind"] in ("conv", "se"):
            kh, kw, ci, co = L["hwio"]
            w[g + "/kernel"] = normal((co, ci, kh, kw), np.sqrt(2.0 / (kh * kw * ci)))
            if L["kind"] == "se":
                w[g + "/bias"] = normal((co,), 0.1)
        elif L["kind"] == "bn":
            c = L["c"]
            # bn3 scales the residual branch: keep it small so 139 blocks stay stable (not chaotic).
            lo, hi = (0.05, 0.25) if g.endswith("conv3/bn") else (0.5, 1.5)
            w[g + "/gamma"] = rng.uniform(lo, hi, c).astype(np.float32)
            w[g + "/beta"] = normal((c,), 0.1)
            w[g + "/moving_mean"] = normal((c,), 0.1)
            w[g + "/moving_variance"] = rng.uniform(0.5, 2.0, c).astype(np.float32)
        else:
            i, o = L["io"]
            w[g + "/kernel"] = normal((o, i), 1.0 / np.sqrt(i))
            w[g + "/bias"] = normal((o,), 0.1)
    return w


def to_source_layout(path: str, a: np.ndarray) -> np.ndarray:
    """Our layout -> TF/Keras layout: OIHW -> HWIO, dense [out,in] -> [in,out]."""
    if a.ndim == 4:
        return np.ascontiguousarray(a.transpose(2, 3, 1, 0))
    if path == "/head/dense/kernel":
        return np.ascontiguousarray(a.T)
    return a


def tf1_named(depth: int, ours: Dict[str, np.ndarray], num_classes: int = 1000) -> Dict[str, np.ndarray]:
    """{TF1 variable name: array in TF layout} for weights in our layout."""
    out = {}
    for L in tf_layer_list(depth, num_classes):
        g = L["group"]
        if L["kind"] == "bn":
            for fld in BN_FIELDS:
                out[f"{L['tf']}/{fld}"] = ours[f"{g}/{fld}"]
        else:
            out[L["tf"] + "/kernel"] = to_source_layout(g + "/kernel", ours[g + "/kernel"])
            if L["kind"] in ("se", "dense"):
                out[L["tf"] + "/bias"] = ours[g + "/bias"]
    return out


def tf1_name_of(depth: int) -> Dict[str, str]:
    """{our dataset path: TF1 variable name}."""
    out = {}
    for L in tf_layer_list(depth):
        g = L["group"]
        if L["kind"] == "bn":
            for fld in BN_FIELDS:
                out[f"{g}/{fld}"] = f"{L['tf']}/{fld}"
        else:
            out[g + "/kernel"] = L["tf"] + "/kernel"
            if L["kind"] in ("se", "dense"):
                out[g + "/bias"] = L["tf"] + "/bias"
    return out


def timm_named(depth: int, ours: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """A timm resnetrs state dict (architecture §7) for weights in our layout."""
    out = {}
    for L in tf_layer_list(depth):
        g = L["group"]
        if L["kind"] == "bn":
            for fld in BN_FIELDS:
                out[f"{L['timm']}.{TIMM_BN[fld]}"] = ours[f"{g}/{fld}"]
            out[f"{L['timm']}.num_batches_tracked"] = np.zeros((), np.int64)
        else:
            out[L["timm"] + ".weight"] = ours[g + "/kernel"]
            if L["kind"] in ("se", "dense"):
                out[L["timm"] + ".bias"] = ours[g + "/bias"]
    return out


def is_trainable(name: str) -> bool:
    return not (name.endswith("/moving_mean") or name.endswith("/moving_variance"))


def save_v2(prefix: str, tensors: Dict[str, np.ndarray]) -> None:
    """Write a V2 tensor bundle with exactly these keys, with TensorFlow's own SaveV2 kernel."""
    import tensorflow as tf
    names = sorted(tensors)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tensors[n] for n in names])


def write_training_checkpoint(prefix: str, depth: int, ours: Dict[str, np.ndarray], raw: bool = True,
                              momentum: bool = True, ema: bool = True, global_step: int = 109475,
                              drop=(), override=None) -> None:
    """A checkpoint shaped like a ResNet-RS training run, written by TensorFlow's SaveV2 kernel:
    <var>/ExponentialMovingAverage for every variable (BN statistics included) holding `ours`, the
    raw variables (EMA + 1, so a converter that picks them is caught), <var>/Momentum for the
    trainable ones (-7), and global_step. drop: keys to leave out; override: {key: array}."""
    named = tf1_named(depth, ours)
    t: Dict[str, np.ndarray] = {"global_step": np.array(global_step, np.int64)}
    for n, a in named.items():
        if ema:
            t[n + "/ExponentialMovingAverage"] = a
        if raw:
            t[n] = a + np.float32(1.0)
        if momentum and is_trainable(n):
            t[n + "/Momentum"] = np.full_like(a, -7.0)
    for k in drop:
        del t[k]
    t.update(override or {})
    save_v2(prefix, t)


# --------------------------------------------------------------------------------------------
# Keras (tf_keras.applications.ResNetRS*): layer names -> our groups, written independently of the
# converter's own table.

def keras_group(layer_name: str):
    m = re.search(r"stem_(conv|batch_norm)_([1-4])$", layer_name)
    if m:
        return f"/stem/conv{m.group(2)}" + ("/bn" if m.group(1) == "batch_norm" else "")
    m = re.match(r"BlockGroup(\d)__block_(\d+)_+(.+)$", layer_name)
    if m:
        base = f"/stage{int(m.group(1)) - 1}/block{m.group(2)}"
        role = m.group(3)
        if role.startswith("conv_"):
            return f"{base}/conv{role[-1]}"
        if role.startswith("batch_norm_"):
            return f"{base}/conv{role[-1]}/bn"
        return {"projection_conv": base + "/shortcut", "projection_batch_norm": base + "/shortcut/bn",
                "se_se_reduce": base + "/se/reduce", "se_se_expand": base + "/se/expand"}[role]
    if layer_name == "predictions":
        return "/head/dense"
    return None


def set_keras_weights(model, ours: Dict[str, np.ndarray]) -> int:
    """Load weights given in our layout into a Keras ResNet-RS model; returns the tensor count."""
    n = 0
    for layer in model.layers:
        if not layer.weights:
            continue
        g = keras_group(layer.name)
        assert g is not None, f"unexpected Keras layer {layer.name}"
        vals = []
        for w in layer.weights:
            var = w.name.split("/")[-1].split(":")[0]
            p = f"{g}/{var}"
            vals.append(to_source_layout(p, ours[p]))
        layer.set_weights(vals)
        n += len(vals)
    assert n == len(ours), (n, len(ours))
    return n


def build_keras(depth: int):
    """Keras ResNet-RS with any input size, logits output, no preprocessing, 1000-class top."""
    import tf_keras
    fn = getattr(tf_keras.applications, f"ResNetRS{depth}")
    return fn(weights=None, include_top=True, include_preprocessing=False, classes=1000,
              classifier_activation=None, input_tensor=tf_keras.Input(shape=(None, None, 3)))


# --------------------------------------------------------------------------------------------
# A numpy reference forward pass of OUR file (float64), written from weights-format.md and
# architecture §2/§3: all 3x3 convs pad 1 on every side; the projection shortcut of stages 2-4 is a
# 2x2/2 'same' average pool whose divisor counts only the cells inside the input.

def read_h5(path: str) -> Tuple[Dict[str, np.ndarray], dict]:
    import h5py
    out: Dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out["/" + name] = obj[()]
        f.visititems(visit)
        # v1.1 root strings are fixed-length: h5py gives bytes; the tests compare str
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    return out, attrs


def _conv(x, w, stride):
    n, c, h, wd = x.shape
    o, i, kh, kw = w.shape
    assert i == c, (w.shape, x.shape)
    if kh == 1:
        if stride != 1:
            x = x[:, :, ::stride, ::stride]
        n, c, h, wd = x.shape
        return np.matmul(w.reshape(o, i), x.reshape(n, c, h * wd)).reshape(n, o, h, wd)
    p = kh // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    ho = (h + 2 * p - kh) // stride + 1
    wo = (wd + 2 * p - kw) // stride + 1
    cols = np.empty((n, c, kh, kw, ho, wo), x.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, :, a, b] = xp[:, :, a:a + stride * (ho - 1) + 1:stride, b:b + stride * (wo - 1) + 1:stride]
    return np.matmul(w.reshape(o, i * kh * kw), cols.reshape(n, c * kh * kw, ho * wo)).reshape(n, o, ho, wo)


def _bn(x, W, g, eps, calib=None):
    if calib is not None:
        # Data-dependent BN statistics: the batch's own mean/variance, randomly perturbed, so that
        # the random network keeps its outputs input-dependent (see calibrate_bn).
        rng = calib
        m = x.mean(axis=(0, 2, 3))
        v = x.var(axis=(0, 2, 3))
        v = np.maximum(v, 0.25 * v.mean()) + 1e-3  # few samples in the last stages: no tiny variances
        W[g + "/moving_mean"] = (m + 0.1 * np.sqrt(v) * rng.standard_normal(m.shape)).astype(np.float32)
        W[g + "/moving_variance"] = (v * rng.uniform(0.8, 1.25, v.shape)).astype(np.float32)
    scale = W[g + "/gamma"] / np.sqrt(W[g + "/moving_variance"].astype(np.float64) + eps)
    shift = W[g + "/beta"] - W[g + "/moving_mean"] * scale
    return x * scale[None, :, None, None] + shift[None, :, None, None]


def _avgpool_same(x):
    n, c, h, w = x.shape
    ph, pw = h % 2, w % 2
    xp = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)))
    ones = np.pad(np.ones((h, w)), ((0, ph), (0, pw)))
    s = xp[:, :, 0::2, 0::2] + xp[:, :, 1::2, 0::2] + xp[:, :, 0::2, 1::2] + xp[:, :, 1::2, 1::2]
    cnt = ones[0::2, 0::2] + ones[1::2, 0::2] + ones[0::2, 1::2] + ones[1::2, 1::2]
    return s / cnt


def numpy_forward(W: Dict[str, np.ndarray], attrs: dict, x_nchw_255: np.ndarray, calibrate=None) -> np.ndarray:
    """Logits [N, classes] of our HDF5 weights for pixels on the 0..255 scale, NCHW.

    calibrate: a numpy Generator to REPLACE every BN's moving statistics in W (in place) by the
    batch statistics, perturbed (used once to make random test weights; see calibrate_bn).
    """
    orig = W
    W = {k: v.astype(np.float64, copy=False) for k, v in W.items()}
    if calibrate is not None:
        class _W(dict):
            def __setitem__(self, k, v):
                orig[k] = v
                super().__setitem__(k, v.astype(np.float64))
        W = _W(W)
    eps = float(attrs["bn_epsilon"])
    mean = np.asarray(attrs["input_mean"], np.float64)[None, :, None, None]
    std = np.asarray(attrs["input_std"], np.float64)[None, :, None, None]
    relu = lambda t: np.maximum(t, 0.0)  # noqa: E731
    x = (x_nchw_255.astype(np.float64) - mean) / std
    for i, s in enumerate((2, 1, 1, 2)):
        g = f"/stem/conv{i + 1}"
        x = relu(_bn(_conv(x, W[g + "/kernel"], s), W, g + "/bn", eps, calibrate))
    blocks = [int(b) for b in attrs["blocks_per_stage"]]
    for gi, n in enumerate(blocks):
        for b in range(n):
            base = f"/stage{gi + 1}/block{b}"
            s = 2 if (gi > 0 and b == 0) else 1
            if b == 0:
                sc = _avgpool_same(x) if s == 2 else x
                sc = _bn(_conv(sc, W[base + "/shortcut/kernel"], 1), W, base + "/shortcut/bn", eps, calibrate)
            else:
                sc = x
            y = relu(_bn(_conv(x, W[base + "/conv1/kernel"], 1), W, base + "/conv1/bn", eps, calibrate))
            y = relu(_bn(_conv(y, W[base + "/conv2/kernel"], s), W, base + "/conv2/bn", eps, calibrate))
            y = _bn(_conv(y, W[base + "/conv3/kernel"], 1), W, base + "/conv3/bn", eps, calibrate)
            sq = y.mean(axis=(2, 3))
            wr = W[base + "/se/reduce/kernel"]
            we = W[base + "/se/expand/kernel"]
            r = relu(sq @ wr.reshape(wr.shape[0], -1).T + W[base + "/se/reduce/bias"])
            e = 1.0 / (1.0 + np.exp(-(r @ we.reshape(we.shape[0], -1).T + W[base + "/se/expand/bias"])))
            x = relu(y * e[:, :, None, None] + sc)
    feat = x.mean(axis=(2, 3))
    return feat @ W["/head/dense/kernel"].T + W["/head/dense/bias"]


def calibrate_bn(W: Dict[str, np.ndarray], depth: int, seed: int, res: int = 64) -> None:
    """Replace the random BN statistics in W (our layout) by perturbed statistics of a calibration
    batch, as a trained network has them. Without this a deep random ResNet maps every input to
    nearly the same logits (the constant BN shifts dominate), which would hide bugs."""
    x = test_images(res, seed + 1000)
    attrs = dict(bn_epsilon=1e-5, input_mean=MEAN, input_std=STD, blocks_per_stage=BLOCKS[depth])
    numpy_forward(W, attrs, x, calibrate=np.random.default_rng(seed))


def test_images(res: int, seed: int) -> np.ndarray:
    """Two very different float32 images [2,3,res,res] on the 0..255 scale: noise and a pattern."""
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0, 255, (3, res, res))
    yy, xx = np.mgrid[0:res, 0:res] / res
    x1 = np.stack([255 * xx, 255 * yy, 128 + 100 * np.sin(10 * xx * yy + seed)])
    return np.stack([x0, x1]).astype(np.float32)


def rel_l2(a, b) -> float:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))
