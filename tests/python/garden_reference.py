"""The TF2 Model Garden's ResNet-RS (tf-models-official, official/vision) as the reference of the
garden-variant tests: the model exactly as the experiment `resnet_rs_imagenet` builds it, random
weights with data-calibrated BN statistics, its EMA optimizer, and checkpoints written the way the
Model Garden's trainer writes them.

tf-models-official is installed without its declared dependencies (scripts/requirements-nodeps.txt).
Its `official/vision/__init__.py` imports every vision task (COCO evaluation, pycocotools, ...),
none of which the model needs, so `import_garden()` registers `official.vision` as a bare package
first; the modules below it then import normally.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from typing import Dict, List, Tuple

import numpy as np


def import_garden():
    """Imports what the tests use from the Model Garden; returns a namespace of modules.

    Raises ImportError when tf-models-official (or one of the few packages it needs here) is missing.
    """
    spec = importlib.util.find_spec("official")
    if spec is None or spec.origin is None:
        raise ImportError("tf-models-official is not installed (scripts/requirements-nodeps.txt)")
    if "official.vision" not in sys.modules:
        import official
        vision = types.ModuleType("official.vision")
        vision.__path__ = [os.path.join(os.path.dirname(spec.origin), "vision")]
        sys.modules["official.vision"] = vision
        official.vision = vision
    import tensorflow as tf
    import tf_keras
    from official.core import exp_factory
    from official.modeling import optimization
    from official.vision.configs import image_classification  # noqa: F401  (registers resnet_rs_imagenet)
    from official.vision.modeling import factory
    from official.vision.modeling.backbones import resnet
    from official.vision.modeling.layers import nn_blocks
    return types.SimpleNamespace(tf=tf, tf_keras=tf_keras, exp_factory=exp_factory, optimization=optimization,
                                 factory=factory, resnet=resnet, nn_blocks=nn_blocks)


def experiment_config(g, depth: int):
    cfg = g.exp_factory.get_exp_config("resnet_rs_imagenet")
    cfg.task.model.backbone.resnet.model_id = depth
    return cfg


def build_model(g, depth: int):
    """ClassificationModel of resnet_rs_imagenet at this depth, any input size."""
    cfg = experiment_config(g, depth)
    spec = g.tf_keras.layers.InputSpec(shape=[None, None, None, 3])
    return g.factory.build_classification_model(input_specs=spec, model_config=cfg.task.model), cfg


def build_optimizer(g, cfg):
    """The trainer's optimizer for this config (an EMA-wrapped SGD), with its shadow copy."""
    f = g.optimization.OptimizerFactory(cfg.trainer.optimizer_config)
    opt = f.build_optimizer(f.build_learning_rate())
    assert isinstance(opt, g.optimization.ExponentialMovingAverage), type(opt)
    return opt


# --------------------------------------------------------------------------------------------
# The model's variables by our dataset path, read from the live Python objects (not from a
# checkpoint or the converter): the backbone's weighted layers in order are the 4 stem conv/BN
# pairs and then the BottleneckBlocks; a block's parts are its attributes.

def our_paths(g, model, depth: int) -> Dict[str, object]:
    """{our dataset path: tf.Variable} for the model."""
    bb = model.backbone
    layers = [l for l in bb.layers if l.weights]
    out: Dict[str, object] = {}
    for i in range(4):
        conv, bn = layers[2 * i], layers[2 * i + 1]
        out[f"/stem/conv{i + 1}/kernel"] = conv.kernel
        for fld in ("gamma", "beta", "moving_mean", "moving_variance"):
            out[f"/stem/conv{i + 1}/bn/{fld}"] = getattr(bn, fld)
    blocks = layers[8:]
    assert all(isinstance(b, g.nn_blocks.BottleneckBlock) for b in blocks)
    k = 0
    from rs_helpers import BLOCKS
    for gi, n in enumerate(BLOCKS[depth]):
        for b in range(n):
            blk = blocks[k]
            base = f"/stage{gi + 1}/block{b}"
            parts = [("conv1", blk._conv1, blk._norm1), ("conv2", blk._conv2, blk._norm2),
                     ("conv3", blk._conv3, blk._norm3)]
            if b == 0:
                parts.append(("shortcut", blk._shortcut1, blk._norm0))
            for name, conv, bn in parts:
                out[f"{base}/{name}/kernel"] = conv.kernel
                for fld in ("gamma", "beta", "moving_mean", "moving_variance"):
                    out[f"{base}/{name}/bn/{fld}"] = getattr(bn, fld)
            se = blk._squeeze_excitation
            out[f"{base}/se/reduce/kernel"] = se._se_reduce.kernel
            out[f"{base}/se/reduce/bias"] = se._se_reduce.bias
            out[f"{base}/se/expand/kernel"] = se._se_expand.kernel
            out[f"{base}/se/expand/bias"] = se._se_expand.bias
            k += 1
    assert k == len(blocks)
    dense = [l for l in model.layers if l.weights and l is not bb]
    assert len(dense) == 1
    out["/head/dense/kernel"] = dense[0].kernel
    out["/head/dense/bias"] = dense[0].bias
    assert len(out) == len(model.variables), (len(out), len(model.variables))
    return out


def to_our_layout(path: str, a: np.ndarray) -> np.ndarray:
    if a.ndim == 4:
        return np.ascontiguousarray(a.transpose(3, 2, 0, 1))
    if path == "/head/dense/kernel":
        return np.ascontiguousarray(a.T)
    return a


def randomize(g, model, seed: int, images_nhwc: np.ndarray) -> None:
    """Random weights of realistic scale; BN statistics calibrated on `images_nhwc`, then jittered.

    Kernels keep the Model Garden's own seeded VarianceScaling initialisation. BN gamma U(0.5, 1.5)
    (the block's last BN U(0.05, 0.25), so 100+ blocks stay stable), beta N(0, 0.1), SE and dense
    biases N(0, 0.1). Statistics: one forward pass in training mode (norm_momentum is 0.0 in
    resnet_rs_imagenet, so each moving statistic becomes its batch statistic), then mean + N(0, 0.05)
    and variance x U(0.8, 1.25), so they are not exactly the batch's.
    """
    rng = np.random.default_rng(seed)
    for v in model.variables:
        name = v.name.split(":")[0]
        shape = tuple(v.shape)
        if name.endswith("/gamma"):
            v.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        elif name.endswith("/beta") or name.endswith("/bias"):
            v.assign((0.1 * rng.standard_normal(shape)).astype(np.float32))
    # bn3 (the _norm3 of each block) is found by object, not by name: names are 'batch_normalization_N'.
    for layer in model.backbone.layers:
        if isinstance(layer, g.nn_blocks.BottleneckBlock):
            layer._norm3.gamma.assign(rng.uniform(0.05, 0.25, tuple(layer._norm3.gamma.shape)).astype(np.float32))
    x = g.tf.constant(images_nhwc)
    model(x, training=True)  # momentum 0: moving statistics := batch statistics
    for v in model.variables:
        name = v.name.split(":")[0]
        shape = tuple(v.shape)
        if name.endswith("/moving_mean"):
            v.assign(v.numpy() + (0.05 * rng.standard_normal(shape)).astype(np.float32))
        elif name.endswith("/moving_variance"):
            v.assign(v.numpy() * rng.uniform(0.8, 1.25, shape).astype(np.float32))


def nhwc_normalized(x_nchw_255: np.ndarray) -> np.ndarray:
    from rs_helpers import MEAN, STD
    return ((x_nchw_255.transpose(0, 2, 3, 1) - MEAN) / STD).astype(np.float32)


def write_checkpoints(g, model, opt, outdir: str, seed: int, kinds=("trainer",)) -> Dict[str, str]:
    """Checkpoints of the model whose CURRENT variable values are the EMA weights to convert.

    'trainer': what base_trainer.py saves (tf.train.Checkpoint(global_step, model, optimizer,
      backbone)) during training: the model variables hold the raw training values (EMA + noise,
      so a converter that takes them is caught), the EMA optimizer's 'average' slots the EMA values,
      SGD momentum slots -7.
    'model': tf.train.Checkpoint(model=model) holding the EMA values (as export_base.py restores).
    'ema': what actions.EMACheckpointing saves (ema_checkpoints/average_weights-N): the trainer's
      checkpoint saved between two swap_weights(): variables = EMA, 'average' slots = raw values.
    On return the model holds the EMA values again. Returns {kind: checkpoint prefix}.
    """
    tf = g.tf
    rng = np.random.default_rng(seed + 1)
    ema = [v.numpy() for v in model.variables]
    # raw training values: other than the EMA values everywhere (variances stay positive)
    raw = [e * np.float32(1.5) + np.float32(0.1) if v.name.split(":")[0].endswith("/moving_variance")
           else e + (0.5 * rng.standard_normal(e.shape)).astype(np.float32)
           for v, e in zip(model.variables, ema)]
    opt.shadow_copy(model)
    trainable = model.trainable_variables
    opt.apply_gradients(zip([tf.zeros_like(v) for v in trainable], trainable))  # creates the momentum slots
    for v in trainable:
        opt._optimizer.get_slot(v, "momentum").assign(tf.fill(v.shape, -7.0))
    gs = tf.Variable(10, dtype=tf.int64, name="global_step")
    ckpt = tf.train.Checkpoint(global_step=gs, model=model, optimizer=opt, **model.checkpoint_items)
    out = {}

    def put(values, averages):
        for v, a in zip(model.variables, values):
            v.assign(a)
        for s, a in zip(opt._average_weights, averages):
            s.assign(a)

    if "trainer" in kinds:
        put(raw, ema)
        out["trainer"] = ckpt.write(os.path.join(outdir, "trainer", "ckpt-10"))
    if "ema" in kinds:
        put(ema, raw)
        out["ema"] = ckpt.write(os.path.join(outdir, "ema_checkpoints", "average_weights-10"))
    put(ema, ema)
    if "model" in kinds:
        out["model"] = tf.train.Checkpoint(model=model).write(os.path.join(outdir, "model_only", "ckpt-1"))
    return out


def rel_l2(a, b) -> float:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def backbone_object_paths(g, depth: int, depth_multiplier: float = 0.0625) -> Tuple[List[str], int]:
    """The object paths of a thin resnet_rs_imagenet backbone's variables (names do not depend on width),
    from the object graph TensorFlow builds for a checkpoint of it; and the number of its variables."""
    tf = g.tf
    bb = g.resnet.ResNet(model_id=depth, stem_type="v1", resnetd_shortcut=True, replace_stem_max_pool=True,
                         se_ratio=0.25, activation="swish", norm_momentum=0.0, norm_epsilon=1e-5,
                         depth_multiplier=depth_multiplier)
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        prefix = tf.train.Checkpoint(backbone=bb).write(os.path.join(d, "bb"))
        names = [n for n, _ in tf.train.list_variables(prefix)]
    return names, len(bb.variables)
