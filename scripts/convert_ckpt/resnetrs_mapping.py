"""ResNet-RS structure and the name mappings into the `resnetrs-weights` HDF5 schema.

Sources: shared/docs/resnetrs-architecture.md (§2 structure, §5 TF1 names and the closed-form
numbering, §7 timm keys) and shared/docs/weights-format.md (our HDF5 paths and shapes).

Everything here is pure Python: no numpy, no h5py, no TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

BLOCKS_PER_STAGE: Dict[int, Tuple[int, int, int, int]] = {
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
    270: (4, 29, 53, 4),
    350: (4, 36, 72, 4),
    420: (4, 44, 87, 4),
}
DEPTHS = tuple(sorted(BLOCKS_PER_STAGE))
STAGE_FILTERS = (64, 128, 256, 512)
STEM_CHANNELS = ((3, 32), (32, 32), (32, 64), (64, 64))  # (Cin, Cout) of stem conv1..conv4
FEATURES = 2048
INPUT_MEAN = (123.675, 116.28, 103.53)
INPUT_STD = (58.395, 57.12, 57.375)
BN_FIELDS = ("gamma", "beta", "moving_mean", "moving_variance")
TIMM_BN_FIELDS = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean",
                  "moving_variance": "running_var"}
# BN epsilon to record in the file for each kind of source (weights-format.md).
BN_EPSILON_TF = 1.001e-5   # TF1 graph: fused BN raises 1e-5 to 1.001e-5
BN_EPSILON_TIMM = 1e-5


# Named by every "this is not a checkpoint we know" error.
SUPPORTED_FAMILIES = (
    "Supported checkpoint families: --tf takes the TF1 release's checkpoints (tensorflow/tpu "
    "resnet_rs, tf.layers names conv2d*/batch_normalization*/dense with ExponentialMovingAverage "
    "shadows) and the TF2 Model Garden's object-based checkpoints (tensorflow/models official/vision, "
    "experiment resnet_rs_imagenet: a tf.train.Checkpoint of the trainer or of the model); --timm "
    "takes timm resnetrs* state dicts; --keras takes tf_keras.applications.ResNetRS* HDF5 weights")


class MappingError(Exception):
    """The source does not look like a ResNet-RS model this tool knows."""


def depth_from_blocks(blocks: Iterable[int]) -> Optional[int]:
    blocks = tuple(blocks)
    for d, b in BLOCKS_PER_STAGE.items():
        if b == blocks:
            return d
    return None


def depth_from_total_blocks(n: int) -> Optional[int]:
    for d, b in BLOCKS_PER_STAGE.items():
        if sum(b) == n:
            return d
    return None


# --------------------------------------------------------------------------------------------
# Layers in creation order.

@dataclass(frozen=True)
class Layer:
    """One layer with parameters.

    kind: 'conv' (no bias), 'se' (conv 1x1 with bias), 'bn', 'dense'.
    h5: our group path, e.g. '/stage2/block0/conv2' (kernel at h5+'/kernel') or, for a BN,
        the BN group, e.g. '/stage2/block0/conv2/bn'.
    cin/cout/k: conv geometry; for BN, cout is C; for dense cin=2048, cout=num_classes.
    stage/block: 1-based stage, 0-based block; 0/-1 for stem and head.
    role: 'stem1'..'stem4', 'shortcut', 'conv1', 'conv2', 'conv3', 'se_reduce', 'se_expand',
        'dense' (BNs carry the role of their conv).
    tf: TF1 scope, e.g. 'conv2d_17', 'batch_normalization_9', 'dense'.
    timm: timm key prefix, e.g. 'layer2.0.conv2', 'layer2.0.bn2', 'fc'.
    """
    kind: str
    h5: str
    cin: int
    cout: int
    k: int
    stage: int
    block: int
    role: str
    tf: str
    timm: str


def _tf_conv(i: int) -> str:
    return "conv2d" if i == 0 else f"conv2d_{i}"


def _tf_bn(i: int) -> str:
    return "batch_normalization" if i == 0 else f"batch_normalization_{i}"


def tf_block_indices(k: int, g: int, first: bool) -> Tuple[int, int]:
    """Closed form of §5: (conv base c, BN base n) of global block k (0-based) in stage g (1-based).

    First block of a stage: c = 4 + 5k + (g-1), n = 4 + 3k + (g-1) (c is the projection conv).
    Other blocks:           c = 4 + 5k + g,     n = 4 + 3k + g     (c is conv1).
    """
    if first:
        return 4 + 5 * k + (g - 1), 4 + 3 * k + (g - 1)
    return 4 + 5 * k + g, 4 + 3 * k + g


_STEM_TIMM_CONV = ("conv1.0", "conv1.3", "conv1.6", "maxpool.0")
_STEM_TIMM_BN = ("conv1.1", "conv1.4", "bn1", "maxpool.1")


def layers(depth: int, num_classes: int = 1000) -> List[Layer]:
    """All parameterised layers of ResNet-RS-<depth>, in TF1 creation order."""
    if depth not in BLOCKS_PER_STAGE:
        raise MappingError(f"unsupported depth {depth}; expected one of {', '.join(map(str, DEPTHS))}")
    out: List[Layer] = []
    for i, (cin, cout) in enumerate(STEM_CHANNELS):
        h5 = f"/stem/conv{i + 1}"
        out.append(Layer("conv", h5, cin, cout, 3, 0, -1, f"stem{i + 1}", _tf_conv(i), _STEM_TIMM_CONV[i]))
        out.append(Layer("bn", h5 + "/bn", cout, cout, 0, 0, -1, f"stem{i + 1}", _tf_bn(i), _STEM_TIMM_BN[i]))
    k = 0
    cin = 64
    for gi, nblocks in enumerate(BLOCKS_PER_STAGE[depth]):
        g = gi + 1
        f = STAGE_FILTERS[gi]
        for b in range(nblocks):
            first = b == 0
            c, n = tf_block_indices(k, g, first)
            base = f"/stage{g}/block{b}"
            tb = f"layer{g}.{b}"
            if first:
                out.append(Layer("conv", base + "/shortcut", cin, 4 * f, 1, g, b, "shortcut", _tf_conv(c),
                                 tb + ".downsample.1"))
                out.append(Layer("bn", base + "/shortcut/bn", 4 * f, 4 * f, 0, g, b, "shortcut", _tf_bn(n),
                                 tb + ".downsample.2"))
                c += 1
                n += 1
            for j, (ci, co, kk) in enumerate(((cin, f, 1), (f, f, 3), (f, 4 * f, 1))):
                out.append(Layer("conv", f"{base}/conv{j + 1}", ci, co, kk, g, b, f"conv{j + 1}",
                                 _tf_conv(c + j), f"{tb}.conv{j + 1}"))
                out.append(Layer("bn", f"{base}/conv{j + 1}/bn", co, co, 0, g, b, f"conv{j + 1}",
                                 _tf_bn(n + j), f"{tb}.bn{j + 1}"))
            out.append(Layer("se", base + "/se/reduce", 4 * f, f, 1, g, b, "se_reduce", _tf_conv(c + 3),
                             tb + ".se.fc1"))
            out.append(Layer("se", base + "/se/expand", f, 4 * f, 1, g, b, "se_expand", _tf_conv(c + 4),
                             tb + ".se.fc2"))
            cin = 4 * f
            k += 1
    out.append(Layer("dense", "/head/dense", FEATURES, num_classes, 0, 5, -1, "dense", "dense", "fc"))
    return out


# --------------------------------------------------------------------------------------------
# Tensors.

@dataclass(frozen=True)
class Tensor:
    """One dataset of our file and where it comes from.

    h5: dataset path; shape: its shape (OIHW for convs, [out, in] for the dense).
    layout: 'oihw' (from HWIO via transpose(3,2,0,1)), 'dense' (from [in,out] via .T), 'vec'.
    tf: TF1 variable name without the EMA suffix; tf_shape: its shape (HWIO / [in,out] / [C]).
    timm: timm state_dict key; its shape equals `shape`.
    """
    h5: str
    shape: Tuple[int, ...]
    layout: str
    tf: str
    tf_shape: Tuple[int, ...]
    timm: str
    layer: Layer

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def tensors(depth: int, num_classes: int = 1000) -> List[Tensor]:
    out: List[Tensor] = []
    for L in layers(depth, num_classes):
        if L.kind in ("conv", "se"):
            shape = (L.cout, L.cin, L.k, L.k)
            out.append(Tensor(L.h5 + "/kernel", shape, "oihw", L.tf + "/kernel", (L.k, L.k, L.cin, L.cout),
                              L.timm + ".weight", L))
            if L.kind == "se":
                out.append(Tensor(L.h5 + "/bias", (L.cout,), "vec", L.tf + "/bias", (L.cout,),
                                  L.timm + ".bias", L))
        elif L.kind == "bn":
            for fld in BN_FIELDS:
                out.append(Tensor(f"{L.h5}/{fld}", (L.cout,), "vec", f"{L.tf}/{fld}", (L.cout,),
                                  f"{L.timm}.{TIMM_BN_FIELDS[fld]}", L))
        else:  # dense
            out.append(Tensor(L.h5 + "/kernel", (L.cout, L.cin), "dense", L.tf + "/kernel", (L.cin, L.cout),
                              L.timm + ".weight", L))
            out.append(Tensor(L.h5 + "/bias", (L.cout,), "vec", L.tf + "/bias", (L.cout,),
                              L.timm + ".bias", L))
    return out


def num_model_tensors(depth: int) -> int:
    """19N + 42 (architecture §5)."""
    return 19 * sum(BLOCKS_PER_STAGE[depth]) + 42


# --------------------------------------------------------------------------------------------
# Depth detection.

EMA_SUFFIX = "/ExponentialMovingAverage"
_TF_CONV_RE = re.compile(r"^conv2d(?:_(\d+))?/kernel(?:/ExponentialMovingAverage)?$")
_TF_BN_RE = re.compile(r"^batch_normalization(?:_(\d+))?/gamma(?:/ExponentialMovingAverage)?$")


def detect_depth_tf(names: Iterable[str]) -> int:
    """Depth from TF1 variable names: 5N+8 conv2d scopes and 3N+8 BN scopes for N blocks."""
    convs, bns = set(), set()
    for n in names:
        m = _TF_CONV_RE.match(n)
        if m:
            convs.add(int(m.group(1) or 0))
            continue
        m = _TF_BN_RE.match(n)
        if m:
            bns.add(int(m.group(1) or 0))
    if not convs:
        raise MappingError("no 'conv2d*/kernel' variables found: this does not look like a ResNet-RS "
                           "TF1 checkpoint. " + SUPPORTED_FAMILIES)
    nconv = max(convs) + 1
    nbn = max(bns) + 1 if bns else 0
    if (nconv - 8) % 5 or depth_from_total_blocks((nconv - 8) // 5) is None:
        raise MappingError(f"cannot detect the ResNet-RS depth: the conv2d scopes go up to conv2d_{nconv - 1} "
                           f"({nconv} scopes); expected 5N+8 with N in "
                           f"{sorted(sum(b) for b in BLOCKS_PER_STAGE.values())}")
    n_blocks = (nconv - 8) // 5
    if nbn != 3 * n_blocks + 8:
        raise MappingError(f"cannot detect the ResNet-RS depth: {nconv} conv2d scopes imply {n_blocks} blocks "
                           f"and {3 * n_blocks + 8} batch_normalization scopes, but found {nbn}")
    return depth_from_total_blocks(n_blocks)


_TIMM_BLOCK_RE = re.compile(r"^layer([1-4])\.(\d+)\.conv1\.weight$")


def detect_depth_timm(keys: Iterable[str]) -> int:
    counts = [set(), set(), set(), set()]
    for k in keys:
        m = _TIMM_BLOCK_RE.match(k)
        if m:
            counts[int(m.group(1)) - 1].add(int(m.group(2)))
    blocks = tuple(len(c) for c in counts)
    if sum(blocks) == 0:
        raise MappingError("no 'layer{g}.{b}.conv1.weight' keys found: this does not look like a timm "
                           "ResNet-RS state dict")
    d = depth_from_blocks(blocks)
    if d is None:
        raise MappingError(f"cannot detect the ResNet-RS depth: the state dict has {list(blocks)} blocks per "
                           "stage, which is no ResNet-RS model")
    return d


# --------------------------------------------------------------------------------------------
# Keras (tf_keras.applications.ResNetRS*) layer names -> our paths.
#
# Keras names (tf_keras/src/applications/resnet_rs.py): stem layers '<stem>_stem_conv_{i}' and
# '<stem>_stem_batch_norm_{i}' (the stem prefix carries a uid, e.g. 'stem_1'); blocks
# 'BlockGroup{g+1}__block_{b}__conv_{j}', '..._block_{b}_batch_norm_1' (one underscore),
# '..._block_{b}__batch_norm_{2,3}', '..._projection_conv', '..._projection_batch_norm',
# '..._se_se_reduce', '..._se_se_expand'; head 'predictions'.

_K_STEM_CONV = re.compile(r"(?:^|_)stem_conv_([1-4])$")
_K_STEM_BN = re.compile(r"(?:^|_)stem_batch_norm_([1-4])$")
_K_BLOCK = re.compile(r"(?:^|_)BlockGroup([2-5])__block_(\d+)_(.*)$")


def keras_layer_to_h5(layer_name: str) -> Optional[str]:
    """Our group path for a Keras ResNet-RS layer name ('.../bn' for BNs), or None if unknown."""
    m = _K_STEM_CONV.search(layer_name)
    if m:
        return f"/stem/conv{m.group(1)}"
    m = _K_STEM_BN.search(layer_name)
    if m:
        return f"/stem/conv{m.group(1)}/bn"
    m = _K_BLOCK.search(layer_name)
    if m:
        g, b, rest = int(m.group(1)) - 1, int(m.group(2)), m.group(3)
        base = f"/stage{g}/block{b}"
        rest = rest.lstrip("_")
        table = {"conv_1": "/conv1", "conv_2": "/conv2", "conv_3": "/conv3",
                 "batch_norm_1": "/conv1/bn", "batch_norm_2": "/conv2/bn", "batch_norm_3": "/conv3/bn",
                 "projection_conv": "/shortcut", "projection_batch_norm": "/shortcut/bn",
                 "se_se_reduce": "/se/reduce", "se_se_expand": "/se/expand"}
        if rest in table:
            return base + table[rest]
        return None
    if layer_name == "predictions" or layer_name.endswith("_predictions"):
        return "/head/dense"
    return None


_KERAS_VAR = {"kernel": "kernel", "bias": "bias", "gamma": "gamma", "beta": "beta",
              "moving_mean": "moving_mean", "moving_variance": "moving_variance"}


def keras_key_to_h5(key: str) -> Optional[str]:
    """'<layer name>/<var>' (var without ':0') -> our dataset path, or None."""
    if "/" not in key:
        return None
    layer_name, var = key.rsplit("/", 1)
    var = var.split(":")[0]
    grp = keras_layer_to_h5(layer_name)
    if grp is None or var not in _KERAS_VAR:
        return None
    return f"{grp}/{_KERAS_VAR[var]}"


_K_BLOCK_ONLY = re.compile(r"(?:^|_)BlockGroup([2-5])__block_(\d+)_")


def detect_depth_keras(keys: Iterable[str]) -> int:
    counts = [set(), set(), set(), set()]
    for k in keys:
        m = _K_BLOCK_ONLY.search(k)
        if m:
            counts[int(m.group(1)) - 2].add(int(m.group(2)))
    blocks = tuple(len(c) for c in counts)
    if sum(blocks) == 0:
        raise MappingError("no 'BlockGroup*__block_*' layers found: this does not look like a Keras "
                           "ResNet-RS model")
    d = depth_from_blocks(blocks)
    if d is None:
        raise MappingError(f"cannot detect the ResNet-RS depth: the Keras model has {list(blocks)} blocks per "
                           "stage, which is no ResNet-RS model")
    return d
