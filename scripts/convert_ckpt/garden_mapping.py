"""Names of the TF2 Model Garden's ResNet-RS (tensorflow/models official/vision, experiment
`resnet_rs_imagenet`) in an object-based checkpoint, and the variant it runs.

The Model Garden model is a `ClassificationModel` (official/vision/modeling/classification_model.py)
around a functional `ResNet` backbone (official/vision/modeling/backbones/resnet.py) built with
stem_type='v1', replace_stem_max_pool=True, resnetd_shortcut=True, se_ratio=0.25. Keras tracks a
functional model's layers that own weights as `layer_with_weights-<i>`, in layer order, and a
layer's sub-layers by the attribute names its code gives them. So, with k the global 0-based block
index (docs/converter.md has the table):

  backbone  layer_with_weights-0 .. -7      stem conv1, bn1, conv2, bn2, conv3, bn3, conv4, bn4
            layer_with_weights-(8+k)        BottleneckBlock k: _conv1/_norm1, _conv2/_norm2,
                                            _conv3/_norm3, _squeeze_excitation/_se_reduce and
                                            /_se_expand; first block of a stage also
                                            _shortcut1/_norm0 (the 1x1 conv after the ResNet-D pool)
  model     layer_with_weights-0            the backbone
            layer_with_weights-1            the Dense head (kernel [2048, classes], bias)

Variables: conv `kernel` (HWIO), SE `kernel`/`bias`, BN `gamma`/`beta`/`moving_mean`/
`moving_variance`, Dense `kernel` ([in, out])/`bias` -- the layouts of the TF1 checkpoints.
Pure Python.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

from . import resnetrs_mapping as M

STEM_LAYERS = 8  # backbone layer_with_weights-0..7: 4 x (conv, bn)
HEAD_LAYER = "layer_with_weights-1"  # of the ClassificationModel; -0 is the backbone
BLOCK_ROLES = {  # our role -> the BottleneckBlock attribute(s): (conv or SE layer, its BN)
    "shortcut": ("_shortcut1", "_norm0"),
    "conv1": ("_conv1", "_norm1"),
    "conv2": ("_conv2", "_norm2"),
    "conv3": ("_conv3", "_norm3"),
    "se_reduce": ("_squeeze_excitation/_se_reduce", None),
    "se_expand": ("_squeeze_excitation/_se_expand", None),
}

# What the Model Garden's network is, as data for the weights file (format 1.1):
#  - activation: NormActivation(activation='swish') in resnet_rs_imagenet (the checkpoint does not
#    record it; `--activation` overrides it for a checkpoint trained with another config);
#  - stride2_padding: every stride-2 conv is a Keras Conv2D(padding='same');
#  - stage1_shortcut_pool: BottleneckBlock(resnetd_shortcut=True) puts AveragePooling2D(2,
#    strides=<block stride>, padding='same') before the projection of every first block, stride 1
#    in stage 1.
GARDEN_VARIANT = {"activation": "swish", "stride2_padding": "same", "stage1_shortcut_pool": "avg2x2_stride1_same"}
TF1_VARIANT = {"activation": "relu", "stride2_padding": "symmetric", "stage1_shortcut_pool": "none"}
# norm_epsilon of resnet_rs_imagenet; TF 2.21's fused batch norm applies it as given.
BN_EPSILON_GARDEN = 1e-5


def block_index(depth: int, stage: int, block: int) -> int:
    """Global 0-based index of block `block` (0-based) of stage `stage` (1-based)."""
    return sum(M.BLOCKS_PER_STAGE[depth][:stage - 1]) + block


def garden_object_path(t: M.Tensor, depth: int) -> Tuple[str, str]:
    """(container, object path of the variable) of one of our tensors.

    container: 'backbone' (the ResNet node) or 'model' (the ClassificationModel node).
    """
    L = t.layer
    var = t.h5.rsplit("/", 1)[1]
    if L.kind == "dense":
        return "model", f"{HEAD_LAYER}/{var}"
    if L.role.startswith("stem"):
        i = 2 * (int(L.role[-1]) - 1) + (1 if L.kind == "bn" else 0)
        return "backbone", f"layer_with_weights-{i}/{var}"
    layer, bn = BLOCK_ROLES[L.role]
    sub = bn if L.kind == "bn" else layer
    k = block_index(depth, L.stage, L.block)
    return "backbone", f"layer_with_weights-{STEM_LAYERS + k}/{sub}/{var}"


def garden_names(depth: int, num_classes: int = 1001) -> Dict[str, Tuple[str, str]]:
    """{our dataset path: (container, object path)} for every tensor of ResNet-RS-<depth>."""
    return {t.h5: garden_object_path(t, depth) for t in M.tensors(depth, num_classes)}


def checkpoint_key(object_path: str) -> str:
    """The key TF gives a variable's value: '<object path>/.ATTRIBUTES/VARIABLE_VALUE'."""
    return f"{object_path}/.ATTRIBUTES/VARIABLE_VALUE"


def slot_key(object_path: str, optimizer_path: str, slot: str) -> str:
    """The key of an optimizer slot of that variable (e.g. the EMA optimizer's 'average')."""
    return f"{object_path}/.OPTIMIZER_SLOT/{optimizer_path}/{slot}/.ATTRIBUTES/VARIABLE_VALUE"


def stage_blocks_from_first_flags(first: List[bool]) -> List[int]:
    """Blocks per stage from 'this block has a projection' flags in block order."""
    out: List[int] = []
    for f in first:
        if f or not out:
            out.append(0)
        out[-1] += 1
    return out
