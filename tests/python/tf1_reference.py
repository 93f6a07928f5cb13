"""A TF1-style ResNet-RS graph (tf.compat.v1.layers, as tensorflow/tpu resnet_model.py builds it).

Used by the tests for two things: TensorFlow itself picks the variable names (auto-numbered
conv2d_K / batch_normalization_J / dense, in layer-creation order), which checks the converter's
closed-form numbering; and a checkpoint written by tf.compat.v1.train.Saver with EMA shadows,
Momentum slots and global_step, exactly like a training run's.

Needs TF_USE_LEGACY_KERAS=1 before TensorFlow is imported (conftest.py sets it): tf.compat.v1.layers
is not available with Keras 3.
"""


BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3),
          270: (4, 29, 53, 4), 350: (4, 36, 72, 4), 420: (4, 44, 87, 4)}


def build_tf1_resnetrs(depth, images, num_classes=1000):
    """Build the inference graph under the current default graph; returns the logits tensor."""
    import tensorflow as tf
    L = tf.compat.v1.layers

    def conv(x, filters, k, s):
        if s > 1:
            pad = k - 1
            b = pad // 2
            x = tf.pad(x, [[0, 0], [b, pad - b], [b, pad - b], [0, 0]])
        return L.conv2d(x, filters, k, s, padding="SAME" if s == 1 else "VALID", use_bias=False)

    def bn(x, relu=True):
        x = L.batch_normalization(x, axis=3, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                                  training=False, fused=True)
        return tf.nn.relu(x) if relu else x

    x = images
    x = bn(conv(x, 32, 3, 2))
    x = bn(conv(x, 32, 3, 1))
    x = bn(conv(x, 64, 3, 1))
    x = bn(conv(x, 64, 3, 2))
    for gi, n in enumerate(BLOCKS[depth]):
        f = (64, 128, 256, 512)[gi]
        for b in range(n):
            s = 2 if (gi > 0 and b == 0) else 1
            shortcut = x
            if b == 0:
                if s == 2:
                    shortcut = tf.nn.avg_pool2d(x, 2, 2, "SAME")
                shortcut = bn(conv(shortcut, 4 * f, 1, 1), relu=False)
            y = bn(conv(x, f, 1, 1))
            y = bn(conv(y, f, 3, s))
            y = bn(conv(y, 4 * f, 1, 1), relu=False)
            se = tf.reduce_mean(y, [1, 2], keepdims=True)
            se = L.Conv2D(f, 1, use_bias=True, activation=tf.nn.relu)(se)
            se = L.Conv2D(4 * f, 1, use_bias=True, activation=tf.nn.sigmoid)(se)
            y = y * se
            x = tf.nn.relu(y + shortcut)
    x = tf.reduce_mean(x, [1, 2])
    return L.dense(x, num_classes)


def tf1_variable_shapes(depth):
    """{name: shape} of the model variables TensorFlow creates for ResNet-RS-<depth> (graph only)."""
    import tensorflow as tf
    g = tf.Graph()
    with g.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3])
        build_tf1_resnetrs(depth, images)
        return {v.op.name: tuple(v.shape.as_list()) for v in tf.compat.v1.global_variables()}
