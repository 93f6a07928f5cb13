"""Checkpoints written by TensorFlow itself (the venv's tensorflow-cpu) during the test run, so the
reader's tests need nothing from outside the repository. They cover what the third-party fixtures
of ../shared/fixtures/tf-bundles cover, except Snappy-compressed index blocks (TensorFlow writes
uncompressed ones; the crafted bundles of bundle_writer.py cover Snappy):

  dtypes/model.ckpt         SaveV2: every fixed-width dtype TensorFlow saves, strings (empty, 1024
                            bytes = a 2-byte length varint), an empty tensor, scalars
  dotted/embedding.ckpt     a prefix with a dot; float32 [3, 2] with known values
  shards/model.ckpt         tf.compat.v1 Saver(sharded=True) on two CPU devices: 2 data files
  tf2/ckpt-1                tf.train.Checkpoint: object-based names and the object-graph string
  mnist/model.ckpt-46900    tf.compat.v1 Saver of a small conv net (not a ResNet-RS), Momentum
                            slots, global_step, and TensorFlow's own `checkpoint` state file
  v1_single/export          V1 (TensorSliceWriter) checkpoint, the way Saver(write_version=V1) writes it
  v1_sharded/export-00000-of-00001   the same with sharded=True

write_all(root) writes them all (a few seconds) and returns {name: path}.
"""

from __future__ import annotations

import os
from typing import Dict

import numpy as np


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")  # V1's deprecation banner
    return tf


def dtype_tensors() -> Dict[str, object]:
    """name -> numpy array (strings: a numpy bytes array) of the `dtypes` bundle."""
    rng = np.random.default_rng(5)
    bf = np.array([1.0, -3.5, 0.15625, 2.0**100], np.float32)
    return {
        "float32": rng.standard_normal((2, 3, 4)).astype(np.float32),
        "float64": rng.standard_normal(5),
        "float16": np.array([0.5, -2.0, 65504.0], np.float16),
        "bfloat16": bf,  # written as tf.bfloat16 (these values are exact in bfloat16)
        "int8": np.array([-128, 0, 127], np.int8),
        "int16": np.array([-32768, 300], np.int16),
        "int32": np.arange(-3, 3, dtype=np.int32).reshape(2, 3),
        "int64": np.array([2**40, -5, 2**63 - 1], np.int64),
        "uint8": np.arange(250, 256, dtype=np.uint8),
        "uint16": np.array([65535, 1], np.uint16),
        "uint32": np.array([2**32 - 1], np.uint32),
        "uint64": np.array([2**64 - 1, 3], np.uint64),
        "bool": np.array([True, False, True]),
        "complex64": np.array([1 + 2j, -0.5j], np.complex64),
        "complex128": np.array([3 - 4j], np.complex128),
        "empty": np.zeros((0, 3), np.float32),
        "scalar": np.float32(7.5),
        "strings": np.array([b"hello", b"", b"x01", b"c" * 1024], dtype=object),
        "string_scalar": np.array(b"\xff\x00 binary", dtype=object),
        "strings_2d": np.array([[b"a", b"bc"], [b"", b"def"]], dtype=object),
    }


def _save_v2(tf, prefix: str, tensors: Dict[str, object]) -> None:
    names = sorted(tensors)
    values = []
    for n in names:
        a = tensors[n]
        if n == "bfloat16":
            values.append(tf.cast(tf.constant(a), tf.bfloat16))
        elif isinstance(a, np.ndarray) and a.dtype == object:
            values.append(tf.constant(a.tolist() if a.ndim else a.item(), dtype=tf.string))
        else:
            values.append(tf.constant(a))
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names), tensors=values)


def write_all(root: str) -> Dict[str, str]:
    tf = _tf()
    tf1 = tf.compat.v1
    out: Dict[str, str] = {}

    def mk(name):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        return d

    out["dtypes"] = os.path.join(mk("dtypes"), "model.ckpt")
    _save_v2(tf, out["dtypes"], dtype_tensors())
    out["dotted"] = os.path.join(mk("dotted"), "embedding.ckpt")
    _save_v2(tf, out["dotted"], {"my_embedding": np.array([[1, 2], [3, 5], [7, 11]], np.float32)})

    g = tf.Graph()
    with g.as_default():
        with tf.device("/cpu:0"):
            tf1.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="on_cpu0")
        with tf.device("/cpu:1"):
            tf1.Variable(np.arange(4, dtype=np.int64), name="on_cpu1")
            tf1.Variable(np.float32(-1.25), name="also_cpu1")
        saver = tf1.train.Saver(sharded=True)
        with tf1.Session(config=tf1.ConfigProto(device_count={"CPU": 2})) as sess:
            sess.run(tf1.global_variables_initializer())
            out["shards"] = saver.save(sess, os.path.join(mk("shards"), "model.ckpt"), write_meta_graph=False)

    ck = tf.train.Checkpoint(v=tf.Variable(np.arange(3, dtype=np.float32)),
                             step=tf.Variable(np.int64(12)))
    out["tf2"] = ck.write(os.path.join(mk("tf2"), "ckpt-1"))

    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, [None, 28, 28, 1])
        h = tf1.layers.conv2d(x, 8, 3, activation=tf.nn.relu)
        h = tf1.layers.conv2d(h, 8, 3, activation=tf.nn.relu)
        logits = tf1.layers.dense(tf1.layers.flatten(h), 10)
        step = tf1.train.get_or_create_global_step()
        loss = tf.reduce_mean(tf.square(logits))
        train = tf1.train.MomentumOptimizer(0.1, 0.9).minimize(loss, global_step=step)
        saver = tf1.train.Saver()
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(train, {x: np.random.default_rng(0).standard_normal((2, 28, 28, 1))})
            sess.run(step.assign(46900))
            out["mnist"] = saver.save(sess, os.path.join(mk("mnist"), "model.ckpt"), global_step=46900,
                                      write_meta_graph=False)

    for name, sharded in (("v1_single", False), ("v1_sharded", True)):
        g = tf.Graph()
        with g.as_default():
            tf1.Variable(np.float32(0.5), name="a")
            tf1.Variable(np.float32(2.0), name="b")
            saver = tf1.train.Saver(write_version=tf1.train.SaverDef.V1, sharded=sharded)
            with tf1.Session() as sess:
                sess.run(tf1.global_variables_initializer())
                p = saver.save(sess, os.path.join(mk(name), "export"), write_meta_graph=False)
        out[name] = p.replace("?????", "00000")
    return out


def restore(prefix: str, name: str, dtype_name: str) -> object:
    """One tensor as TensorFlow's own RestoreV2 kernel reads it (numpy)."""
    tf = _tf()
    dt = tf.as_dtype(dtype_name)
    t = tf.raw_ops.RestoreV2(prefix=prefix, tensor_names=[name], shape_and_slices=[""], dtypes=[dt])[0]
    if dt == tf.bfloat16:
        t = tf.cast(t, tf.float32)
    return t.numpy()
