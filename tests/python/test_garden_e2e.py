"""The TF2 Model Garden's ResNet-RS (tf-models-official 2.20, experiment resnet_rs_imagenet), end to end.

Per depth (RS-50 and RS-101; one module-scoped case reused by its tests):
  1. the Model Garden builds its own model from the experiment config (garden_reference.py), with
     random weights and BN statistics calibrated on images; its forward pass (training=False) at
     64x64 (even sizes: Keras 'same' pads only after) and 75x75 (odd and even sizes along the way),
     batch 2, is the reference;
  2. its trainer-style checkpoint (global_step, model, EMA optimizer with 'average' and momentum
     slots, backbone; raw values != EMA values) is converted with the command line;
  3. checks: the file holds the EMA values at the right paths and layouts with the variant
     attributes (format 1.1); the C++ engine (build/resnetrs-bench infer --backend cpu) matches the
     Model Garden's logits: relative L2 <= 1e-4 and the same top-1.
For RS-50 also the model-only and the EMA-action checkpoints, --no-ema, --activation, and the
refusals. The names of all seven depths: test_garden_names_all_depths (thin backbones).
"""

import os
import shutil
import time

import h5py
import numpy as np
import pytest

import garden_reference as GR
import rs_helpers as H
from convert_ckpt import garden_mapping as G

DEPTHS = (50, 101)
RESOLUTIONS = (64, 75)
TOL = 1e-4


@pytest.fixture(scope="module")
def garden():
    try:
        return GR.import_garden()
    except ImportError as e:
        pytest.fail(f"the Model Garden (tf-models-official) cannot be imported: {e}; run bash scripts/setup "
                    "(it installs scripts/requirements-nodeps.txt)")


class Case:
    pass


@pytest.fixture(scope="module", params=DEPTHS, ids=lambda d: f"rs{d}")
def case(request, garden, tmp_path_factory):
    g = garden
    d = request.param
    t0 = time.time()
    g.tf_keras.utils.set_random_seed(d)
    c = Case()
    c.depth = d
    c.tmp = tmp_path_factory.mktemp(f"garden{d}")
    c.model, c.cfg = GR.build_model(g, d)
    c.images = {r: H.test_images(r, seed=r + d) for r in RESOLUTIONS}
    GR.randomize(g, c.model, seed=d, images_nhwc=GR.nhwc_normalized(H.test_images(96, seed=1000 + d)))
    c.ref = {}
    for r, x in c.images.items():
        c.ref[r] = c.model(GR.nhwc_normalized(x), training=False).numpy().astype(np.float64)
        np.save(c.tmp / f"x{r}.npy", x)
    c.ema = {p: GR.to_our_layout(p, v.numpy()) for p, v in GR.our_paths(g, c.model, d).items()}
    opt = GR.build_optimizer(g, c.cfg)
    kinds = ("trainer", "model", "ema") if d == 50 else ("trainer",)
    c.ckpt = GR.write_checkpoints(g, c.model, opt, str(c.tmp), seed=d, kinds=kinds)
    c.out = str(c.tmp / "garden.h5")
    c.conv = H.run_converter("--tf", c.ckpt["trainer"], "--out", c.out)
    print(f"[RS-{d}] setup {time.time() - t0:.1f} s", flush=True)
    yield c
    c.model = None
    g.tf_keras.backend.clear_session()
    shutil.rmtree(c.tmp, ignore_errors=True)


def _check_file(path, ema, depth, source_contains, activation="swish"):
    with h5py.File(path, "r") as f:
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}  # v1.1: fixed-length strings
        for name in ("format", "source", "converter_version", "checksum", "activation", "stride2_padding",
                     "stage1_shortcut_pool"):
            sd = h5py.check_string_dtype(f.attrs.get_id(name).dtype)
            assert sd.encoding == "utf-8" and sd.length is not None, name
        assert a["format"] == "resnetrs-weights"
        assert a["format_version"] == 1 and a["format_version"].dtype == np.int32
        assert a["format_minor"] == 2 and a["format_minor"].dtype == np.int32
        assert a["activation"] == activation
        assert a["stride2_padding"] == "same"
        assert a["stage1_shortcut_pool"] == "avg2x2_stride1_same"
        assert a["depth"] == depth
        assert list(a["blocks_per_stage"]) == list(H.BLOCKS[depth])
        assert a["num_classes"] == 1001
        assert a["bn_epsilon"] == 1e-5
        assert source_contains in str(a["source"]), a["source"]
        seen = []
        f.visititems(lambda n, o: seen.append("/" + n) if isinstance(o, h5py.Dataset) else None)
        assert sorted(seen) == sorted(ema)
        for p, want in ema.items():
            ds = f[p]
            assert ds.dtype == np.dtype("<f4") and ds.shape == want.shape, p
            np.testing.assert_array_equal(ds[()], want, err_msg=p)
        return {p: str(f[p].attrs["source_name"]) for p in ema}


def test_trainer_checkpoint_converted_with_ema(case):
    assert case.conv.returncode == 0, case.conv.stderr
    assert case.conv.stderr == ""  # momentum, raw values, global_step, save_counter are expected
    assert f"ResNet-RS-{case.depth}" in case.conv.stdout and "1001 classes" in case.conv.stdout
    names = _check_file(case.out, case.ema, case.depth, "(EMA: the optimizer's 'average' slots)")
    for p, n in names.items():
        assert n.endswith("/.OPTIMIZER_SLOT/optimizer/average/.ATTRIBUTES/VARIABLE_VALUE"), (p, n)
        container, obj = G.garden_object_path(next(t for t in _tensors(case.depth) if t.h5 == p), case.depth)
        # the trainer's checkpoint names the backbone's variables under its root child 'backbone'
        assert n.startswith(("backbone/" if container == "backbone" else "model/") + obj + "/"), (p, n)


def _tensors(depth):
    from convert_ckpt import resnetrs_mapping as M
    return M.tensors(depth, 1001)


@pytest.mark.parametrize("res", RESOLUTIONS)
def test_cpp_engine_matches_model_garden(case, res):
    y = H.cpu_engine_logits(case.out, case.tmp / f"x{res}.npy", case.tmp / f"y{res}.npy")
    k = case.ref[res]
    assert y.shape == k.shape == (2, 1001)
    assert np.std(k) > 1e-3 and GR.rel_l2(k[0], k[1]) > 1e-3  # logits that depend on the image
    err = GR.rel_l2(y, k)
    assert err <= TOL, f"RS-{case.depth} @{res}: C++ engine vs Model Garden relative L2 {err:.3g}"
    assert list(y.argmax(1)) == list(k.argmax(1)), f"top-1 differs: C++ {y.argmax(1)} Model Garden {k.argmax(1)}"


def test_model_only_and_ema_action_checkpoints(case):
    if case.depth != 50:
        return  # the other checkpoint kinds are checked on RS-50
    out = case.tmp / "model_only.h5"
    r = H.run_converter("--tf", case.ckpt["model"], "--out", out)
    assert r.returncode == 0, r.stderr
    _check_file(str(out), case.ema, 50, "(model variables; the checkpoint has no optimizer)")
    out = case.tmp / "ema_action.h5"
    r = H.run_converter("--tf", case.ckpt["ema"], "--out", out)
    assert r.returncode == 0, r.stderr
    names = _check_file(str(out), case.ema, 50, "(EMA: the model variables of an EMA checkpoint)")
    assert all("OPTIMIZER_SLOT" not in n for n in names.values())
    r = H.run_converter("--tf", case.ckpt["ema"], "--out", case.tmp / "x.h5", "--no-ema")
    assert r.returncode == 1 and "this is an EMA checkpoint" in r.stderr


def test_no_ema_and_activation_flags(case):
    if case.depth != 50:
        return
    out = case.tmp / "raw.h5"
    r = H.run_converter("--tf", case.ckpt["trainer"], "--out", out, "--no-ema")
    assert r.returncode == 0, r.stderr
    assert "--no-ema" in r.stderr
    with h5py.File(out, "r") as f:
        w = f["/stage1/block0/conv1/kernel"][()]
        assert "(raw values, no EMA)" in f.attrs["source"].decode()
    assert not np.array_equal(w, case.ema["/stage1/block0/conv1/kernel"])  # the raw values differ
    out = case.tmp / "relu.h5"
    r = H.run_converter("--tf", case.ckpt["trainer"], "--out", out, "--activation", "relu")
    assert r.returncode == 0, r.stderr
    _check_file(str(out), case.ema, 50, "tf2-garden-checkpoint:", activation="relu")


def test_model_garden_code_is_what_the_variant_says(case, garden):
    """The differences from the TF1 release, read from the Model Garden's own config and layers."""
    if case.depth != 50:
        return
    cfg = case.cfg
    m = cfg.task.model
    assert m.num_classes == 1001
    assert m.norm_activation.activation == "swish"
    assert m.norm_activation.norm_epsilon == 1e-5 and m.norm_activation.norm_momentum == 0.0
    r = m.backbone.resnet
    assert (r.stem_type, r.resnetd_shortcut, r.replace_stem_max_pool, r.se_ratio) == ("v1", True, True, 0.25)
    assert cfg.trainer.optimizer_config.ema.trainable_weights_only is False  # BN statistics averaged too
    blocks = [l for l in case.model.backbone.layers if isinstance(l, garden.nn_blocks.BottleneckBlock)]
    assert blocks[0]._shortcut0.strides == (1, 1) and blocks[0]._shortcut0.padding == "same"  # stage-1 pool
    assert blocks[3]._shortcut0.strides == (2, 2) and blocks[3]._conv2.padding == "same"
    assert blocks[3]._conv2.strides == (2, 2)
    stem = [l for l in case.model.backbone.layers if l.weights][:8:2]
    assert [s.strides for s in stem] == [(2, 2), (1, 1), (1, 1), (2, 2)]
    assert all(s.padding == "same" for s in stem)
    assert blocks[0]._activation3.activation.__name__ in ("swish", "silu")
    assert blocks[0]._squeeze_excitation._activation == "relu"  # SE keeps relu inside


def _stored_keys(depth):
    import gzip
    path = os.path.join(H.REPO, "tests", "data", "garden", f"backbone_keys_rs{depth}.txt.gz")
    with gzip.open(path, "rt") as f:
        return set(f.read().split())


@pytest.mark.parametrize("depth", H.DEPTHS)
def test_garden_names_all_depths(depth):
    """Our mapping vs the checkpoint keys TensorFlow gives the Model Garden's backbone of each depth
    (stored by make_garden_names.py from thin backbones; test_stored_names_are_the_real_ones ties
    them to real checkpoints)."""
    want = {G.checkpoint_key("backbone/" + obj) for (container, obj) in G.garden_names(depth).values()
            if container == "backbone"}
    got = {k for k in _stored_keys(depth) if k.endswith("/.ATTRIBUTES/VARIABLE_VALUE")}
    assert len(want) == 19 * sum(H.BLOCKS[depth]) + 42 - 2  # the head's two are not in the backbone
    assert got == want, (sorted(got - want)[:5], sorted(want - got)[:5])


def test_stored_names_are_the_real_ones(case):
    """The stored key lists equal the backbone keys of the full-width checkpoint written here."""
    from convert_ckpt.tf_bundle import BundleReader
    with BundleReader(case.ckpt["trainer"]) as r:
        real = {n for n in r.names() if n.startswith("backbone/") and "/.OPTIMIZER_SLOT/" not in n}
    assert real == _stored_keys(case.depth)
