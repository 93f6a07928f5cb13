"""The TF2 side of the converter without the Model Garden: the object-graph decoder against
TensorFlow's own protobuf, and the refusals, on small object-based checkpoints written by
tf.train.Checkpoint (fast: no ResNet is built). The Model Garden's real checkpoints are converted
and run in test_garden_e2e.py.
"""

import numpy as np
import pytest

import rs_helpers as H
from convert_ckpt.tf2_object_graph import OBJECT_GRAPH_KEY, parse_object_graph
from convert_ckpt.tf_bundle import BundleReader


def _tf():
    import tensorflow as tf
    return tf


def _module(tf, **children):
    m = tf.Module()
    for k, v in children.items():
        setattr(m, k, v)
    return m


def _conv(tf, shape=(1, 1, 4, 4), bias=False):
    m = _module(tf, kernel=tf.Variable(np.ones(shape, np.float32) * 0.5))
    if bias:
        m.bias = tf.Variable(np.zeros(shape[-1], np.float32))
    return m


def _bn(tf, c=4):
    return _module(tf, gamma=tf.Variable(np.ones(c, np.float32)), beta=tf.Variable(np.zeros(c, np.float32)),
                   moving_mean=tf.Variable(np.zeros(c, np.float32)), moving_variance=tf.Variable(np.ones(c, np.float32)))


def _fake_backbone(tf, blocks=(3, 4, 6, 3)):
    """An object tree with the Model Garden backbone's names (shapes are not ResNet's)."""
    bb = tf.Module()
    for i in range(8):
        setattr(bb, f"layer_with_weights-{i}", _conv(tf) if i % 2 == 0 else _bn(tf))
    k = 8
    for n in blocks:
        for b in range(n):
            blk = _module(tf, _conv1=_conv(tf), _norm1=_bn(tf), _conv2=_conv(tf), _norm2=_bn(tf), _conv3=_conv(tf),
                          _norm3=_bn(tf), _squeeze_excitation=_module(tf, _se_reduce=_conv(tf, bias=True),
                                                                         _se_expand=_conv(tf, bias=True)))
            if b == 0:
                blk._shortcut1 = _conv(tf)
                blk._norm0 = _bn(tf)
            setattr(bb, f"layer_with_weights-{k}", blk)
            k += 1
    return bb


def test_object_graph_decoder_matches_tensorflow(tmp_path):
    tf = _tf()
    from tensorflow.core.protobuf import trackable_object_graph_pb2
    v = tf.Variable(np.arange(6, dtype=np.float32))
    opt_model = _module(tf, dense=_module(tf, kernel=v, bias=tf.Variable(np.ones(2, np.float32))))
    import tf_keras
    opt = tf_keras.optimizers.legacy.SGD(0.1, momentum=0.9)
    opt.apply_gradients([(tf.ones_like(v), v)])  # a momentum slot for v
    prefix = tf.train.Checkpoint(model=opt_model, optimizer=opt, step=tf.Variable(3)).write(str(tmp_path / "c"))
    with BundleReader(prefix) as r:
        raw = bytes(r.read(OBJECT_GRAPH_KEY).reshape(-1)[0])
    ours = parse_object_graph(raw)
    ref = trackable_object_graph_pb2.TrackableObjectGraph()
    ref.ParseFromString(raw)
    assert len(ours) == len(ref.nodes) > 5
    for a, b in zip(ours, ref.nodes):
        assert a.children == {c.local_name: c.node_id for c in b.children}
        assert a.attributes == {t.name: t.checkpoint_key for t in b.attributes}
        assert a.slot_variables == [(s.original_variable_node_id, s.slot_name, s.slot_variable_node_id)
                                    for s in b.slot_variables]
    assert any(s[1] == "momentum" for n in ours for s in n.slot_variables)


def test_a_tf2_checkpoint_of_something_else_names_the_supported_families(tmp_path):
    tf = _tf()
    prefix = tf.train.Checkpoint(net=_module(tf, w=tf.Variable(np.ones(3, np.float32)))).write(str(tmp_path / "x"))
    r = H.run_converter("--tf", prefix, "--out", tmp_path / "o.h5")
    assert r.returncode == 1
    assert "no Model Garden ResNet-RS backbone found" in r.stderr
    assert "Supported checkpoint families" in r.stderr and "TF1 release" in r.stderr and "Model Garden" in r.stderr
    assert not (tmp_path / "o.h5").exists()


def test_a_tf1_bundle_of_something_else_names_the_supported_families(tmp_path):
    H.save_v2(str(tmp_path / "m.ckpt"), {"foo/bar": np.ones(3, np.float32)})
    r = H.run_converter("--tf", tmp_path / "m.ckpt", "--out", tmp_path / "o.h5")
    assert r.returncode == 1
    assert "does not look like a ResNet-RS" in r.stderr and "Supported checkpoint families" in r.stderr


def test_backbone_only_checkpoint_is_refused(tmp_path):
    tf = _tf()
    prefix = tf.train.Checkpoint(backbone=_fake_backbone(tf)).write(str(tmp_path / "bb"))
    r = H.run_converter("--tf", prefix, "--out", tmp_path / "o.h5")
    assert r.returncode == 1
    assert "no classification head" in r.stderr


def _fake_model(tf, **kw):
    bb = _fake_backbone(tf, **kw)
    head = _module(tf, kernel=tf.Variable(np.ones((2048, 1001), np.float32)), bias=tf.Variable(np.ones(1001, np.float32)))
    model = tf.Module()
    setattr(model, "layer_with_weights-0", bb)
    setattr(model, "layer_with_weights-1", head)
    return model


def test_depth_detected_from_the_blocks_and_bad_counts_refused(tmp_path):
    tf = _tf()
    from convert_ckpt.garden_source import GardenSource
    prefix = tf.train.Checkpoint(model=_fake_model(tf, blocks=(3, 4, 23, 3))).write(str(tmp_path / "m101"))
    with BundleReader(prefix) as r:
        assert GardenSource(r).detect_depth() == 101
    prefix = tf.train.Checkpoint(model=_fake_model(tf, blocks=(3, 4, 5, 3))).write(str(tmp_path / "bad"))
    r = H.run_converter("--tf", prefix, "--out", tmp_path / "o.h5")
    assert r.returncode == 1
    assert "cannot detect the ResNet-RS depth" in r.stderr and "[3, 4, 5, 3]" in r.stderr
    # a model-only checkpoint of the right structure but wrong shapes: refused naming the tensor
    prefix = tf.train.Checkpoint(model=_fake_model(tf)).write(str(tmp_path / "m50"))
    r = H.run_converter("--tf", prefix, "--out", tmp_path / "o.h5")
    assert r.returncode == 1
    assert "wrong shape" in r.stderr and "layer_with_weights-0/kernel" in r.stderr, r.stderr
    # ...and one without a variable the model needs: refused naming it
    m = _fake_model(tf)
    del getattr(getattr(m, "layer_with_weights-0"), "layer_with_weights-9")._squeeze_excitation._se_expand.bias
    prefix = tf.train.Checkpoint(model=m).write(str(tmp_path / "m50b"))
    r = H.run_converter("--tf", prefix, "--out", tmp_path / "o.h5")
    assert r.returncode == 1
    assert "missing variable" in r.stderr and "layer_with_weights-9/_squeeze_excitation/_se_expand/bias" in r.stderr


def test_optimizer_without_ema_is_refused_unless_no_ema(tmp_path):
    tf = _tf()
    import tf_keras
    model = _fake_model(tf)
    opt = tf_keras.optimizers.legacy.SGD(0.1, momentum=0.9)
    v = getattr(model, "layer_with_weights-1").kernel
    opt.apply_gradients([(tf.zeros_like(v), v)])
    prefix = tf.train.Checkpoint(model=model, optimizer=opt).write(str(tmp_path / "t"))
    r = H.run_converter("--tf", prefix, "--out", tmp_path / "o.h5")
    assert r.returncode == 1
    assert "no ExponentialMovingAverage 'average' slots" in r.stderr and "--no-ema" in r.stderr
    r = H.run_converter("--tf", prefix, "--out", tmp_path / "o.h5", "--no-ema")
    assert "--no-ema" in r.stderr and "no ExponentialMovingAverage" not in r.stderr  # gets past the EMA rule


def test_activation_flag_is_for_model_garden_checkpoints_only(tmp_path):
    H.save_v2(str(tmp_path / "m.ckpt"), {"conv2d/kernel": np.ones((3, 3, 3, 32), np.float32)})
    r = H.run_converter("--tf", tmp_path / "m.ckpt", "--out", tmp_path / "o.h5", "--activation", "relu")
    assert r.returncode == 1 and "--activation applies to TF2 Model Garden checkpoints only" in r.stderr
    r = H.run_converter("--timm", tmp_path / "x.safetensors", "--out", tmp_path / "o.h5", "--activation", "relu")
    assert r.returncode == 2
