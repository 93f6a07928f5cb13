"""The ResNet-RS name mapping (scripts/convert_ckpt/resnetrs_mapping.py): the §5 closed form against
an independent enumeration in creation order, the §5 tables, parameter counts (§6), shapes
(weights-format.md), the timm keys (§7), the Keras names, and depth detection — for all seven depths."""

import pytest

import rs_helpers as H
from convert_ckpt import resnetrs_mapping as M

# architecture §5: (proj conv, proj BN) index at the start of stages 1-4; last conv / BN index.
TABLE5 = {
    50: ([(4, 4), (20, 14), (41, 27), (72, 46)], 87, 55, 346),
    101: ([(4, 4), (20, 14), (41, 27), (157, 97)], 172, 106, 669),
    152: ([(4, 4), (20, 14), (61, 39), (242, 148)], 257, 157, 992),
    200: ([(4, 4), (20, 14), (141, 87), (322, 196)], 337, 205, 1296),
    270: ([(4, 4), (25, 17), (171, 105), (437, 265)], 457, 277, 1752),
    350: ([(4, 4), (25, 17), (206, 126), (567, 343)], 587, 355, 2246),
    420: ([(4, 4), (25, 17), (246, 150), (682, 412)], 702, 424, 2683),
}
# architecture §6: trainable parameters as timm counts them.
TRAINABLE = {50: 35691912, 101: 63618696, 152: 86621576, 200: 93209992, 270: 129861448,
             350: 163956168, 420: 191891656}


def _num(scope):
    head = scope.split("/")[0]
    tail = head.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


@pytest.mark.parametrize("depth", H.DEPTHS)
def test_closed_form_matches_enumeration(depth):
    ours = {t.h5: t for t in M.tensors(depth)}
    theirs = H.tf1_name_of(depth)
    assert set(ours) == set(theirs)
    for path, tfname in theirs.items():
        assert ours[path].tf == tfname, path
    # the layers the two describe have the same TF-layout shapes
    for L in H.tf_layer_list(depth):
        if L["kind"] in ("conv", "se"):
            assert ours[L["group"] + "/kernel"].tf_shape == L["hwio"]
            assert ours[L["group"] + "/kernel"].shape == (L["hwio"][3], L["hwio"][2], L["hwio"][0], L["hwio"][1])
        elif L["kind"] == "bn":
            assert ours[L["group"] + "/gamma"].shape == (L["c"],)


@pytest.mark.parametrize("depth", H.DEPTHS)
def test_section5_table(depth):
    starts, last_conv, last_bn, n_tensors = TABLE5[depth]
    layers = M.layers(depth)
    proj = [(L.tf, ) for L in layers if L.role == "shortcut"]
    convs = [_num(L.tf) for L in layers if L.role == "shortcut" and L.kind == "conv"]
    bns = [_num(L.tf) for L in layers if L.role == "shortcut" and L.kind == "bn"]
    assert list(zip(convs, bns)) == starts
    assert len(proj) == 8
    conv_idx = sorted(_num(L.tf) for L in layers if L.kind in ("conv", "se"))
    bn_idx = sorted(_num(L.tf) for L in layers if L.kind == "bn")
    assert conv_idx == list(range(last_conv + 1))
    assert bn_idx == list(range(last_bn + 1))
    N = sum(M.BLOCKS_PER_STAGE[depth])
    assert len(conv_idx) == 5 * N + 8 and len(bn_idx) == 3 * N + 8
    assert len(M.tensors(depth)) == n_tensors == M.num_model_tensors(depth) == 19 * N + 42
    trainable = [t for t in M.tensors(depth) if not t.h5.endswith(("moving_mean", "moving_variance"))]
    assert len(trainable) == 13 * N + 26
    assert sum(t.num_elements for t in trainable) == TRAINABLE[depth]


def test_weights_format_shapes_rs50():
    t = {x.h5: x.shape for x in M.tensors(50)}
    assert t["/stem/conv1/kernel"] == (32, 3, 3, 3)
    assert t["/stem/conv2/kernel"] == (32, 32, 3, 3)
    assert t["/stem/conv3/kernel"] == (64, 32, 3, 3)
    assert t["/stem/conv4/kernel"] == (64, 64, 3, 3)
    assert [t[f"/stem/conv{i}/bn/gamma"] for i in range(1, 5)] == [(32,), (32,), (64,), (64,)]
    assert t["/stage1/block0/shortcut/kernel"] == (256, 64, 1, 1)
    assert t["/stage2/block0/shortcut/kernel"] == (512, 256, 1, 1)
    assert t["/stage2/block0/conv1/kernel"] == (128, 256, 1, 1)
    assert t["/stage2/block1/conv1/kernel"] == (128, 512, 1, 1)
    assert t["/stage2/block0/conv2/kernel"] == (128, 128, 3, 3)
    assert t["/stage4/block2/conv3/kernel"] == (2048, 512, 1, 1)
    assert t["/stage3/block5/se/reduce/kernel"] == (256, 1024, 1, 1)
    assert t["/stage3/block5/se/reduce/bias"] == (256,)
    assert t["/stage3/block5/se/expand/kernel"] == (1024, 256, 1, 1)
    assert t["/stage3/block5/se/expand/bias"] == (1024,)
    assert t["/head/dense/kernel"] == (1000, 2048)
    assert t["/head/dense/bias"] == (1000,)
    assert "/stage1/block1/shortcut/kernel" not in t


def test_section7_example():
    # architecture §7: "conv2d_4 is layer1.0.downsample.1, batch_normalization_4 is downsample.2,
    # conv2d_5..9 are layer1.0 conv1, conv2, conv3, se.fc1, se.fc2, batch_normalization_5..7 are
    # bn1..bn3, and conv2d_10 is layer1.1.conv1."
    by_tf = {L.tf: L for L in M.layers(50)}
    assert by_tf["conv2d_4"].timm == "layer1.0.downsample.1"
    assert by_tf["batch_normalization_4"].timm == "layer1.0.downsample.2"
    assert [by_tf[f"conv2d_{i}"].timm for i in range(5, 10)] == [
        "layer1.0.conv1", "layer1.0.conv2", "layer1.0.conv3", "layer1.0.se.fc1", "layer1.0.se.fc2"]
    assert [by_tf[f"batch_normalization_{i}"].timm for i in range(5, 8)] == [
        "layer1.0.bn1", "layer1.0.bn2", "layer1.0.bn3"]
    assert by_tf["conv2d_10"].timm == "layer1.1.conv1"
    assert by_tf["conv2d"].timm == "conv1.0" and by_tf["conv2d_3"].timm == "maxpool.0"
    assert by_tf["batch_normalization_2"].timm == "bn1"
    assert by_tf["dense"].timm == "fc"


@pytest.mark.parametrize("depth", H.DEPTHS)
def test_timm_keys_match_independent_table(depth):
    ours = {t.timm for t in M.tensors(depth)}
    theirs = {k for k in H.timm_named(depth, {t.h5: None for t in M.tensors(depth)})
              if not k.endswith("num_batches_tracked")}
    assert ours == theirs


@pytest.mark.parametrize("depth", H.DEPTHS)
def test_detect_depth(depth):
    names = [t.tf for t in M.tensors(depth)]
    assert M.detect_depth_tf(names) == depth
    assert M.detect_depth_tf([n + "/ExponentialMovingAverage" for n in names] + ["global_step"]) == depth
    assert M.detect_depth_timm([t.timm for t in M.tensors(depth)]) == depth
    assert M.detect_depth_keras([f"BlockGroup{g + 2}__block_{b}__conv_1/kernel"
                                 for g, n in enumerate(M.BLOCKS_PER_STAGE[depth]) for b in range(n)]) == depth


def test_detect_depth_errors():
    with pytest.raises(M.MappingError, match="does not look like a ResNet-RS"):
        M.detect_depth_tf(["dense/kernel", "global_step"])
    names = [t.tf for t in M.tensors(50) if not t.tf.startswith("conv2d_87/")]
    with pytest.raises(M.MappingError, match="cannot detect"):
        M.detect_depth_tf(names)
    with pytest.raises(M.MappingError, match=r"\[3, 4, 5, 3\]"):
        M.detect_depth_timm([f"layer{g}.{b}.conv1.weight" for g, n in zip((1, 2, 3, 4), (3, 4, 5, 3))
                             for b in range(n)])
    with pytest.raises(M.MappingError):
        M.layers(51)


def test_keras_names():
    cases = {
        "stem_1_stem_conv_1/kernel": "/stem/conv1/kernel",
        "stem_stem_batch_norm_4/moving_variance": "/stem/conv4/bn/moving_variance",
        "BlockGroup2__block_0__conv_1/kernel": "/stage1/block0/conv1/kernel",
        "BlockGroup2__block_0_batch_norm_1/gamma": "/stage1/block0/conv1/bn/gamma",
        "BlockGroup4__block_12__batch_norm_3/beta": "/stage3/block12/conv3/bn/beta",
        "BlockGroup3__block_0__projection_conv/kernel": "/stage2/block0/shortcut/kernel",
        "BlockGroup3__block_0__projection_batch_norm/moving_mean": "/stage2/block0/shortcut/bn/moving_mean",
        "BlockGroup5__block_2__se_se_reduce/bias": "/stage4/block2/se/reduce/bias",
        "BlockGroup5__block_2__se_se_expand/kernel": "/stage4/block2/se/expand/kernel",
        "predictions/kernel": "/head/dense/kernel",
    }
    for k, v in cases.items():
        assert M.keras_key_to_h5(k) == v, k
        layer = k.rsplit("/", 1)[0]
        assert (H.keras_group(layer) + "/" + k.rsplit("/", 1)[1]) == v
    assert M.keras_key_to_h5("avg_pool/foo") is None
