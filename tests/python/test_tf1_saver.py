"""A checkpoint written the way the ResNet-RS training wrote it: a TF1 graph built with
tf.compat.v1.layers (TensorFlow picks the conv2d_K / batch_normalization_J / dense names by itself),
tf.compat.v1.train.ExponentialMovingAverage over the trainable variables and the BN moving
statistics, a Nesterov MomentumOptimizer (the /Momentum slots), global_step, and
tf.compat.v1.train.Saver (V2). RS-50 with its real shapes.

Checks: TensorFlow's own names equal the converter's closed form; the converted file holds the EMA
values, tensor by tensor, in the right layout; our bundle reader agrees with TensorFlow's
(tf.train.load_checkpoint) on every tensor of the file."""

import numpy as np
import pytest

import rs_helpers as H
from convert_ckpt import resnetrs_mapping as M
from convert_ckpt import tf_bundle as TB

D = 50


@pytest.fixture(scope="module")
def saver_ckpt(tmp_path_factory):
    import tensorflow as tf
    from tf1_reference import build_tf1_resnetrs

    ours = H.random_weights(D, seed=77)
    named = H.tf1_named(D, ours)
    ckdir = tmp_path_factory.mktemp("saver") / "resnet-rs-50-i160"
    ckdir.mkdir()
    g = tf.Graph()
    with g.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [None, 32, 32, 3])
        build_tf1_resnetrs(D, images)
        global_step = tf.compat.v1.train.get_or_create_global_step()
        trainable = tf.compat.v1.trainable_variables()
        model_vars = [v for v in tf.compat.v1.global_variables() if v is not global_step]
        tf_names = {v.op.name: tuple(v.shape.as_list()) for v in model_vars}
        # TPU get_ema_vars: trainables plus the BN moving statistics
        ema_vars = trainable + [v for v in model_vars if "moving_" in v.op.name]
        ema = tf.compat.v1.train.ExponentialMovingAverage(0.9999, num_updates=global_step)
        ema.apply(ema_vars)
        opt = tf.compat.v1.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True)
        opt.apply_gradients([(tf.zeros_like(v), v) for v in trainable], global_step=global_step)
        saver = tf.compat.v1.train.Saver()
        # Give every variable its value by feeding its initial value to its initializer: one run,
        # no extra ops (Variable.load per variable grows the graph and slows down quadratically).
        values = {}
        for v in model_vars:
            n = v.op.name
            values[v] = named[n] + np.float32(1.0)                 # raw: not what must be used
            values[ema.average(v)] = named[n]                       # EMA shadow: the weights
            if v in trainable:
                values[opt.get_slot(v, "momentum")] = np.full(v.shape.as_list(), -7.0, np.float32)
        values[global_step] = np.int64(109475)
        assert len(values) == len(tf.compat.v1.global_variables())
        with tf.compat.v1.Session() as sess:
            sess.run([v.initializer for v in values], feed_dict={v.initial_value: a for v, a in values.items()})
            prefix = saver.save(sess, str(ckdir / "model.ckpt"))
    return dict(ours=ours, tf_names=tf_names, prefix=prefix, dir=ckdir)


def test_tensorflow_names_equal_closed_form(saver_ckpt):
    want = {t.tf: t.tf_shape for t in M.tensors(D)}
    assert saver_ckpt["tf_names"] == want


def test_saver_checkpoint_converted(saver_ckpt, tmp_path):
    out = tmp_path / "rs50.h5"
    r = H.run_converter("--tf", saver_ckpt["dir"], "--out", out)  # directory with a `checkpoint` file
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    W, attrs = H.read_h5(str(out))
    assert attrs["depth"] == 50 and attrs["train_resolution"] == 160
    assert attrs["bn_epsilon"] == 1.001e-5
    assert sorted(W) == sorted(saver_ckpt["ours"])
    for p, v in saver_ckpt["ours"].items():
        np.testing.assert_array_equal(W[p], v, err_msg=p)
    import h5py
    names = H.tf1_name_of(D)
    with h5py.File(out, "r") as f:
        for p in W:
            assert f[p].attrs["source_name"] == names[p] + "/ExponentialMovingAverage"


def test_reader_agrees_with_tensorflow(saver_ckpt):
    import tensorflow as tf
    tfr = tf.train.load_checkpoint(saver_ckpt["prefix"])
    shapes = tfr.get_variable_to_shape_map()
    dtypes = tfr.get_variable_to_dtype_map()
    ours = TB.BundleReader(saver_ckpt["prefix"])
    assert sorted(shapes) == ours.names()
    assert len(ours) == 1 + 346 * 2 + 234  # global_step, raw + EMA, Momentum of the 234 trainables
    for n in ours.names():
        e = ours.entry(n)
        assert tuple(shapes[n]) == e.shape, n
        assert dtypes[n].name == e.dtype, n
        np.testing.assert_array_equal(ours.read(n), tfr.get_tensor(n), err_msg=n)
