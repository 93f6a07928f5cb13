"""End to end, for each of the seven depths, against an independent implementation.

Per depth (one module-scoped case, reused by every test of that depth):
  1. random weights with randomised, data-calibrated BN statistics (rs_helpers.random_weights and
     calibrate_bn), loaded into Keras' own ResNet-RS (tf_keras.applications.ResNetRS<d>, no
     preprocessing, 1000-class top, logits); Keras logits at 64x64 and 75x75, batch 2;
  2. the Keras model exported into our HDF5 by the converter package (KerasSource.from_model);
  3. the same weights written as a TF1 training checkpoint by TensorFlow's SaveV2 kernel (official
     names, EMA shadows, global_step; for RS-50 and RS-101 also the raw values and Momentum slots)
     and converted with the command line (RS-420: in well under a minute);
  4. checks: both files hold exactly the weights at the right paths and layouts, EMA not raw;
     a numpy reference forward of our file matches Keras; the C++ engine
     (build/resnetrs-bench infer --backend cpu) on our file matches Keras: relative L2 <= 1e-4
     and the same top-1.
"""

import gc
import os
import shutil
import time

import h5py
import numpy as np
import pytest

import rs_helpers as H
from convert_ckpt import convert as C
from convert_ckpt.sources import KerasSource

RESOLUTIONS = (64, 75)
TRAIN_RES = {50: 160, 101: 192, 152: 256, 200: 256, 270: 256, 350: 320, 420: 320}
# The TF1 checkpoints: RS-50 and RS-101 as full training checkpoints (raw + EMA + Momentum +
# global_step); the larger ones hold the EMA shadows + global_step only, to save time (the raw and
# Momentum entries only make the file 3x larger; skipping them is the same code path).
TF_CHECKPOINT = {d: ("full" if d in (50, 101) else "ema") for d in H.DEPTHS}
TIMM_DEPTHS = (50, 101)
TOL = 1e-4


class Case:
    pass


class _Timer:
    """Prints where a case's setup time goes (visible with -s, or in the log of a failure)."""

    def __init__(self, name):
        self.name = name
        self.t = time.time()

    def __call__(self, what):
        now = time.time()
        print(f"[{self.name}] {what}: {now - self.t:.1f} s", flush=True)
        self.t = now


@pytest.fixture(scope="module", params=H.DEPTHS, ids=lambda d: f"rs{d}")
def case(request, tmp_path_factory):
    import tf_keras

    d = request.param
    tick = _Timer(f"RS-{d}")
    c = Case()
    c.depth = d
    c.tmp = tmp_path_factory.mktemp(f"rs{d}")
    c.ours = H.random_weights(d, seed=d)
    H.calibrate_bn(c.ours, d, seed=d)
    tick("weights")

    model = H.build_keras(d)
    tick("keras build")
    H.set_keras_weights(model, c.ours)
    c.images = {r: H.test_images(r, seed=r) for r in RESOLUTIONS}
    c.keras = {}
    for r, x in c.images.items():
        xin = ((x.transpose(0, 2, 3, 1) - H.MEAN) / H.STD).astype(np.float32)
        c.keras[r] = model(xin, training=False).numpy().astype(np.float64)
        np.save(c.tmp / f"x{r}.npy", x)
    tick("keras forward")
    bn_eps = {float(l.epsilon) for l in model.layers if hasattr(l, "moving_variance")}
    assert bn_eps == {1e-5}, bn_eps
    c.kh5 = str(c.tmp / "keras_export.h5")
    C.convert(KerasSource.from_model(model), c.kh5)
    if d == 50:
        c.keras_weights_file = str(c.tmp / "keras_weights.h5")
        model.save_weights(c.keras_weights_file)
    tick("keras export")
    del model
    tf_keras.backend.clear_session()
    gc.collect()
    tick("keras free")

    ckdir = c.tmp / f"resnet-rs-{d}-i{TRAIN_RES[d]}"
    ckdir.mkdir()
    full = TF_CHECKPOINT[d] == "full"
    H.write_training_checkpoint(str(ckdir / "model.ckpt"), d, c.ours, raw=full, momentum=full)
    tick("tf checkpoint")
    c.th5 = str(c.tmp / "tf_converted.h5")
    t0 = time.time()
    c.conv = H.run_converter("--tf", ckdir / "model.ckpt", "--out", c.th5)
    c.conv_seconds = time.time() - t0
    tick("convert")
    W, c.attrs = H.read_h5(c.kh5)
    c.W64 = {k: v.astype(np.float64) for k, v in W.items()}
    del W
    yield c
    c.ours = c.W64 = None
    gc.collect()
    shutil.rmtree(c.tmp, ignore_errors=True)  # up to 1.5 GB per depth


def _check_file(path, ours, depth, eps, source_prefix, source_name_ok):
    with h5py.File(path, "r") as f:
        a = f.attrs
        assert a["format"].decode() == "resnetrs-weights"
        assert a["format_version"] == 1 and a["format_version"].dtype == np.int32
        assert a["format_minor"] == 2 and a["format_minor"].dtype == np.int32
        assert a["depth"] == depth and a["depth"].dtype == np.int32
        assert list(a["blocks_per_stage"]) == list(H.BLOCKS[depth]) and a["blocks_per_stage"].dtype == np.int32
        assert a["num_classes"] == 1000 and a["num_classes"].dtype == np.int32
        assert a["bn_epsilon"] == eps and a["bn_epsilon"].dtype == np.float64
        np.testing.assert_array_equal(a["input_mean"], H.MEAN)
        np.testing.assert_array_equal(a["input_std"], H.STD)
        assert a["input_mean"].dtype == np.float32 and a["input_std"].dtype == np.float32
        assert a["train_resolution"].dtype == np.int32
        assert a["source"].decode().startswith(source_prefix)
        assert a["converter_version"].decode().startswith("resnetrs convert_ckpt")
        # format v1.1: fixed-length UTF-8 strings (the engine never reads variable-length ones)
        for name in ("format", "source", "converter_version", "checksum"):
            sd = h5py.check_string_dtype(f.attrs.get_id(name).dtype)
            assert sd.encoding == "utf-8" and sd.length is not None, name
        seen = []
        f.visititems(lambda n, o: seen.append("/" + n) if isinstance(o, h5py.Dataset) else None)
        assert sorted(seen) == sorted(ours)
        for p, want in ours.items():
            ds = f[p]
            assert ds.dtype == np.dtype("<f4"), p
            assert ds.chunks is None and ds.compression is None, p  # contiguous, unfiltered
            assert ds.shape == want.shape, p
            np.testing.assert_array_equal(ds[()], want, err_msg=p)
            assert source_name_ok(p, ds.attrs["source_name"]), (p, ds.attrs["source_name"])
        return dict(a)


def test_tf_checkpoint_converted(case):
    d = case.depth
    assert case.conv.returncode == 0, case.conv.stderr
    assert f"ResNet-RS-{d}" in case.conv.stdout
    assert f"{19 * sum(H.BLOCKS[d]) + 42} tensors" in case.conv.stdout
    assert case.conv.stderr == ""  # nothing ignored: global_step, Momentum and raw values are expected
    names = H.tf1_name_of(d)
    attrs = _check_file(case.th5, case.ours, d, 1.001e-5, "tf1-checkpoint:",
                        lambda p, n: n == names[p] + "/ExponentialMovingAverage")
    assert attrs["train_resolution"] == TRAIN_RES[d]
    assert attrs["source"].decode() == f"tf1-checkpoint:resnet-rs-{d}-i{TRAIN_RES[d]}/model.ckpt (EMA)"
    assert case.conv_seconds < 60, f"conversion took {case.conv_seconds:.1f} s"


def test_keras_export(case):
    d = case.depth
    attrs = _check_file(case.kh5, case.ours, d, 1e-5, "keras:", _keras_name_ok)
    assert attrs["train_resolution"] == 0
    if d == 50:  # the --keras command-line path, from a file written by model.save_weights
        out = case.tmp / "from_keras_file.h5"
        r = H.run_converter("--keras", case.keras_weights_file, "--out", out, "--train-resolution", "160")
        assert r.returncode == 0, r.stderr
        a2 = _check_file(str(out), case.ours, d, 1e-5, "keras:keras_weights.h5", _keras_name_ok)
        assert a2["train_resolution"] == 160


def _keras_name_ok(path, name):
    layer, var = name.rsplit("/", 1)
    g = H.keras_group(layer)  # the tests' own reading of the Keras layer names
    return g is not None and f"{g}/{var}" == path


@pytest.mark.parametrize("res", RESOLUTIONS)
def test_numpy_reference_matches_keras(case, res):
    y = H.numpy_forward(case.W64, case.attrs, case.images[res])
    k = case.keras[res]
    err = H.rel_l2(y, k)
    assert err <= TOL, f"RS-{case.depth} @{res}: numpy reference vs Keras relative L2 {err:.3g}"
    assert list(y.argmax(1)) == list(k.argmax(1))


@pytest.mark.parametrize("res", RESOLUTIONS)
def test_cpp_engine_matches_keras(case, res):
    y = H.cpu_engine_logits(case.kh5, case.tmp / f"x{res}.npy", case.tmp / f"y_keras_{res}.npy")
    k = case.keras[res]
    assert y.shape == k.shape
    err = H.rel_l2(y, k)
    assert err <= TOL, f"RS-{case.depth} @{res}: C++ engine vs Keras relative L2 {err:.3g}"
    assert list(y.argmax(1)) == list(k.argmax(1)), f"top-1 differs: C++ {y.argmax(1)} Keras {k.argmax(1)}"
    if case.depth == 50:
        # the product path: the TF-converted file (bn_epsilon 1.001e-5) against numpy on that file
        yt = H.cpu_engine_logits(case.th5, case.tmp / f"x{res}.npy", case.tmp / f"y_tf_{res}.npy")
        W, attrs = H.read_h5(case.th5)
        yn = H.numpy_forward(W, attrs, case.images[res])
        assert H.rel_l2(yt, yn) <= TOL
        assert H.rel_l2(yt, k) <= TOL
        assert list(yt.argmax(1)) == list(k.argmax(1))


def test_timm_state_dict(case):
    d = case.depth
    if d not in TIMM_DEPTHS:
        return  # the timm path is checked on RS-50 and RS-101 to save time (all names: test_mapping)
    from safetensors.numpy import save_file
    sd = H.timm_named(d, case.ours)
    st = case.tmp / f"resnetrs{d}.safetensors"
    save_file(sd, str(st))
    del sd
    out = case.tmp / "timm.h5"
    r = H.run_converter("--timm", st, "--out", out, "--depth", d)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # num_batches_tracked is expected and not reported
    timm_of = {}
    for L in H.tf_layer_list(d):
        if L["kind"] == "bn":
            for fld in H.BN_FIELDS:
                timm_of[f"{L['group']}/{fld}"] = f"{L['timm']}.{H.TIMM_BN[fld]}"
        else:
            timm_of[L["group"] + "/kernel"] = L["timm"] + ".weight"
            timm_of[L["group"] + "/bias"] = L["timm"] + ".bias"
    attrs = _check_file(str(out), case.ours, d, 1e-5, f"timm:resnetrs{d}.safetensors",
                        lambda p, n: n == timm_of[p])
    assert attrs["train_resolution"] == 0
