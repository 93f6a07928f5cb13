"""The Python package resnetrs (docs/python.md): Engine over the C API, inputs (numpy, views,
DLPack), errors, threads and the GIL, topk, labels, stubs. CPU backend; weights made by
`resnetrs convert` (pkg_helpers.weights_file)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pkg_helpers as P
from capi_ctypes import assert_same_network_logits

rs = P.import_package()


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return P.weights_file(tmp_path_factory)


@pytest.fixture(scope="module")
def engine(weights):
    with rs.Engine(weights, backend="cpu", max_batch=4, resolution=P.RES) as e:
        yield e


@pytest.fixture(scope="module")
def c_api():
    return P.capi(rs)


# ---- results ------------------------------------------------------------------------------------

def test_logits_equal_the_c_api(engine, weights, c_api):
    x = P.pixels(3, seed=1)
    got = engine(x)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (3, 1000)
    want = c_api.logits(weights, x)
    assert_same_network_logits(got, want, "package vs C API")
    # the images are different, and so are their logits (the test can fail)
    assert np.abs(got[0] - got[1]).max() > 1e-2 and np.abs(got[1] - got[2]).max() > 1e-2


def test_logits_equal_bench_infer(engine, weights, tmp_path):
    """The same .npy through resnetrs-bench infer (built by scripts/build) gives the same logits."""
    bench = P.H.bench_path()
    if not os.path.isfile(bench):
        pytest.skip(f"{bench} not built (scripts/build)")
    x = P.pixels(2, seed=2)
    np.save(tmp_path / "x.npy", x)
    r = subprocess.run([bench, "infer", "--weights", weights, "--input", tmp_path / "x.npy", "--output",
                        tmp_path / "y.npy", "--backend", "cpu"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert_same_network_logits(engine(x), np.load(tmp_path / "y.npy"), "package vs resnetrs-bench infer")


def test_nhwc_layout_matches_nchw(engine, weights):
    x = P.pixels(2, seed=3)
    # The fixture's options but the layout: the same algorithm choices (remembered in the process).
    with rs.Engine(weights, backend="cpu", max_batch=4, resolution=P.RES, layout="nhwc") as e:
        assert e.info.layout == "nhwc"
        got = e(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    want = engine(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_non_square_resolution(weights):
    x = P.pixels(1, seed=4, res=96)[:, :, :64, :]  # [1, 3, 64, 96]
    with rs.Engine(weights, backend="cpu", resolution=(64, 96)) as e:
        assert e.info.resolution == (64, 96)
        assert e(np.ascontiguousarray(x)).shape == (1, 1000)


def test_info(engine, weights):
    i = engine.info
    assert (i.depth, i.num_classes, i.channels, i.resolution, i.layout) == (50, 1000, 3, (P.RES, P.RES), "nchw")
    assert (i.max_batch, i.backend, i.precision, i.device, i.device_bytes, i.cuda_graph) == (4, "cpu", "fp32", -1, 0, False)
    assert 35_000_000 < i.trainable_params < 36_000_000  # RS-50: 35.7M as timm counts
    assert i.macs_per_image > 0 and i.load_ms > 0 and i.build_ms > 0 and i.tune_ms >= 0
    # train_resolution comes with the image functions of the C API (interface B)
    assert i.train_resolution == (P.TRAIN_RES if rs.HAS_IMAGES else 0)
    assert "RS-50" in repr(engine) and "cpu" in repr(engine)


def test_synthetic_engine(engine):
    x = P.pixels(1, seed=5)
    with rs.Engine.synthetic(50, seed=3, backend="cpu", resolution=P.RES) as a:
        assert a.info.depth == 50 and np.array_equal(a(x), a(x))
        assert np.abs(a(x) - engine(x)).max() > 1e-3  # other weights than the file's


def test_auto_backend_uses_the_c_api_status(weights):
    with rs.Engine(weights, max_batch=1, resolution=P.RES) as e:
        backend = e.info.backend
    if backend == "cpu":  # no CUDA device here: an explicit cuda engine says so
        with pytest.raises(rs.NoDeviceError):
            rs.Engine(weights, backend="cuda", resolution=P.RES)
    else:
        assert backend == "cuda"


def test_close_and_with(weights):
    with rs.Engine(weights, backend="cpu", resolution=P.RES) as e:
        assert not e.closed
    assert e.closed
    with pytest.raises(rs.InvalidArgumentError, match="closed"):
        e(P.pixels(1, seed=6))
    e.close()  # idempotent
    assert e.info.depth == 50  # the info stays readable


# ---- inputs -------------------------------------------------------------------------------------

def test_numpy_views(engine):
    x = P.pixels(4, seed=7)
    full = engine(x)
    assert np.array_equal(engine(x[1:3]), engine(x[1:3].copy()))   # a contiguous view
    ro = x.copy()
    ro.flags.writeable = False
    assert np.array_equal(engine(ro), full)                   # read-only memory
    with pytest.raises(rs.InvalidArgumentError, match="not C-contiguous"):
        engine(x[:, :, ::-1, :])                              # a strided view is refused, not copied
    with pytest.raises(rs.InvalidArgumentError, match="C-contiguous"):
        engine(np.asfortranarray(x))


class DLPackOnly:
    """A producer seen only through the DLPack protocol (no buffer protocol)."""

    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kwargs):
        return self.a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_dlpack_producers(engine):
    x = P.pixels(2, seed=8)
    want = engine(x)
    assert np.array_equal(engine(DLPackOnly(x)), want)
    assert np.array_equal(engine(x.__dlpack__()), want)      # a raw DLPack capsule


def test_torch_cpu_tensor(engine):
    torch = pytest.importorskip("torch", reason="torch is not installed (numpy's DLPack covers the protocol)")
    x = P.pixels(2, seed=9)
    assert np.array_equal(engine(torch.from_numpy(x)), engine(x))


# A DLPack tensor that says it lives on CUDA device 0, made with ctypes: the binding must refuse it
# before touching its (bogus) data pointer.
class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32), ("dtype", _DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


class FakeCudaTensor:
    def __init__(self, shape):
        self.shape = (ctypes.c_int64 * len(shape))(*shape)
        self.mt = _DLManagedTensor()
        self.mt.dl_tensor = _DLTensor(ctypes.c_void_p(0x10000), _DLDevice(2, 0), len(shape), _DLDataType(2, 32, 1),
                                      self.shape, None, 0)

    def __dlpack__(self, **kwargs):
        new = ctypes.pythonapi.PyCapsule_New
        new.restype = ctypes.py_object
        new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        return new(ctypes.addressof(self.mt), b"dltensor", None)

    def __dlpack_device__(self):
        return (2, 0)


def test_device_tensors_are_refused(engine):
    t = FakeCudaTensor((1, 3, P.RES, P.RES))
    with pytest.raises(rs.InvalidArgumentError, match=r"input is on cuda:0"):
        engine(t)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((1, 3, P.RES, P.RES), np.float64), r"dtype float64, expected float32"),
    (np.zeros((1, 3, P.RES, P.RES), np.uint8), r"dtype uint8, expected float32"),
    (np.zeros((3, P.RES, P.RES), np.float32), r"expected a 4-d batch \[batch, 3, 64, 64\].*x\[None\]"),
    (np.zeros((1, 3, P.RES, P.RES + 1), np.float32), r"shape \(1, 3, 64, 65\), expected \[batch, 3, 64, 64\]"),
    (np.zeros((1, P.RES, P.RES, 3), np.float32), r"expected \[batch, 3, 64, 64\] \(layout 'nchw'\)"),
    (np.zeros((5, 3, P.RES, P.RES), np.float32), r"batch is 5, expected 1..4"),
    (np.zeros((0, 3, P.RES, P.RES), np.float32), r"batch is 0, expected 1..4"),
    ([[1.0, 2.0]], r"must be an array.*got list"),
])
def test_bad_inputs_name_what_was_expected(engine, bad, match):
    with pytest.raises(rs.InvalidArgumentError, match=match):
        engine(bad)


# ---- errors -------------------------------------------------------------------------------------

def test_error_classes_match_c_statuses():
    from resnetrs import _core
    for status in range(1, 12):
        cls = rs.error_class(status)
        assert issubclass(cls, rs.Error) and cls is not rs.Error
        assert cls.status == status
        if status <= 10 or rs.HAS_IMAGES:  # IMAGE_INVALID (11) arrives with interface B
            assert cls.status_name == _core.status_string(status)
    assert rs.error_class(99) is rs.Error
    assert issubclass(rs.InvalidArgumentError, ValueError) and issubclass(rs.IoError, OSError)


HOSTILE = os.path.join(os.path.dirname(__file__), "..", "data", "hostile-weights")


def test_hostile_weights_files_refused_and_the_process_goes_on():
    """Files on which libhdf5 1.10.8 crashes (tests/data/hostile-weights): the package ships the
    helper that parses them (docs/weights-format.md), so each is WeightsInvalidError, with no
    fallback to parsing in the Python process."""
    assert os.access(os.path.join(os.path.dirname(rs.__file__), "resnetrs-parse-weights"), os.X_OK)
    files = sorted(os.path.join(HOSTILE, f) for f in os.listdir(HOSTILE) if f.endswith(".h5"))
    assert len(files) == 10
    script = ("import sys, resnetrs as rs\n"
              "crashed = 0\n"
              "for f in sys.argv[1:]:\n"
              "    try:\n"
              "        rs.Engine(f, backend='cpu', resolution=32)\n"
              "        print('ACCEPTED', f)\n"
              "    except rs.WeightsInvalidError as e:\n"
              "        assert f in str(e), str(e)\n"
              "        crashed += 'libhdf5 crashed' in str(e)\n"
              "print('done', crashed)\n")
    env = {k: v for k, v in os.environ.items() if k != "RESNETRS_WEIGHTS_PARSER"}
    r = subprocess.run([sys.executable, "-c", script, *files], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert "ACCEPTED" not in r.stdout
    assert "parsing it in this process" not in r.stderr
    done = [line for line in r.stdout.splitlines() if line.startswith("done ")]
    assert done, r.stdout  # the process went on (six of the files fault libhdf5 1.10.8 in the helper:
    # tests/api/hostile_files_check.cpp counts them against the HDF5 version the build found)


def test_creation_errors(weights, tmp_path):
    with pytest.raises(rs.IoError, match="no-such.h5"):
        rs.Engine(tmp_path / "no-such.h5", backend="cpu")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(rs.WeightsInvalidError, match="junk.h5"):
        rs.Engine(junk, backend="cpu")
    cases = [(dict(backend="gpu"), "backend='gpu': expected 'auto', 'cuda' or 'cpu'"),
             (dict(precision="fp64"), "precision='fp64': expected 'fp32', 'tf32', 'fp16', 'bf16' or 'fp32x3'"),
             (dict(layout="chw"), "layout='chw': expected 'nchw' or 'nhwc'"),
             (dict(backend="cpu", precision="tf32"), "CPU backend computes in fp32 only"),
             (dict(backend="cpu", precision="fp16"), "CPU backend computes in fp32 only"),
             (dict(resolution=16), "resolution is 16x16"),
             (dict(resolution=(64, 5000)), "resolution is 64x5000"),
             (dict(max_batch=0), "max_batch is 0"),
             (dict(device=-1), "device is -1")]
    for kwargs, match in cases:
        with pytest.raises(rs.InvalidArgumentError, match=match):
            rs.Engine(weights, **kwargs)
    with pytest.raises(TypeError):
        rs.Engine(weights, resolution="big")


def test_weights_info(weights, engine):
    """What the file says, through the library (resnetrs_weights_read_info), no engine needed."""
    i = rs.weights_info(weights)
    assert isinstance(i, rs.WeightsInfo)
    assert (i.format_version, i.format_minor, i.depth, i.num_classes) == (1, 2, 50, 1000)
    assert i.blocks_per_stage == [3, 4, 6, 3]
    assert i.train_resolution == P.TRAIN_RES == engine.info.train_resolution
    assert i.bn_epsilon == pytest.approx(1e-5) and len(i.input_mean) == 3 and len(i.input_std) == 3
    assert (i.activation, i.stride2_padding, i.stage1_shortcut_pool) == ("relu", "symmetric", "none")
    assert i.source.startswith("timm:") and i.checksum.startswith("crc32:") and "convert_ckpt" in i.converter_version
    with pytest.raises(rs.IoError, match="no-such.h5"):
        rs.weights_info("/nonexistent/no-such.h5")


def test_file_bytes_that_are_not_utf8_raise_weights_invalid(weights, tmp_path):
    """A file whose strings (or whose path) hold bytes that are not UTF-8 raises
    WeightsInvalidError / IoError with those bytes escaped, never nanobind's conversion error."""
    import shutil
    import h5py  # the test alters the file; the package itself never opens it with h5py
    bad = tmp_path / "activation.h5"
    shutil.copyfile(weights, bad)
    with h5py.File(bad, "r+") as f:
        del f.attrs["activation"]
        f.attrs["activation"] = np.bytes_(b"re\xff\xfelu")
    for call in (lambda: rs.Engine(bad, backend="cpu"), lambda: rs.weights_info(bad)):
        with pytest.raises(rs.WeightsInvalidError) as e:
            call()
        assert "re\\xFF\\xFElu" in str(e.value) and "'activation'" in str(e.value)
        str(e.value).encode("utf-8")
    # A path that is not UTF-8 (os.fsdecode gives surrogates) is quoted escaped.
    odd = os.path.join(os.fsencode(tmp_path), b"r\xe9sum\xe9.h5")
    with pytest.raises(rs.IoError) as e:
        rs.Engine(os.fsdecode(odd), backend="cpu")
    assert "r\\xE9sum\\xE9.h5" in str(e.value)


def test_topk(engine):
    logits = engine(P.pixels(3, seed=10))
    idx, probs = rs.topk(logits, k=5)
    assert idx.dtype == np.int32 and probs.dtype == np.float32 and idx.shape == probs.shape == (3, 5)
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert np.array_equal(idx, np.argsort(-z, axis=1, kind="stable")[:, :5])
    np.testing.assert_allclose(probs, np.take_along_axis(p, idx.astype(np.int64), 1), rtol=1e-5, atol=1e-7)
    with pytest.raises(rs.InvalidArgumentError, match="k is 0"):
        rs.topk(logits, 0)
    bad = logits.copy()
    bad[1, 7] = np.nan
    with pytest.raises(rs.InvalidArgumentError, match="finite"):
        rs.topk(bad, 3)
    with pytest.raises(rs.InvalidArgumentError, match=r"expected \[batch, classes\]"):
        rs.topk(logits[0], 3)


# ---- threads and the GIL ------------------------------------------------------------------------

def test_threads_share_one_engine_and_the_process(engine, weights):
    xs = [P.pixels(2, seed=20 + i) for i in range(4)]
    want = [engine(x) for x in xs]
    errors = []

    def worker(i, e):
        try:
            for _ in range(2):
                assert np.array_equal(e(xs[i]), want[i])
        except Exception as ex:  # noqa: BLE001 - reported below
            errors.append(ex)

    # The fixture's options: the same algorithms (choices are remembered per process), the same bits.
    with rs.Engine(weights, backend="cpu", max_batch=4, resolution=P.RES) as other:
        threads = [threading.Thread(target=worker, args=(i, engine if i % 2 else other)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors


def test_gil_is_released_while_running(engine):
    """Another Python thread makes progress while a run is in flight."""
    x = P.pixels(4, seed=30)
    span = {}

    def run():  # several runs: one RS-50 run at this size is shorter than the test can resolve
        span["start"] = time.perf_counter()
        for _ in range(10):
            engine(x)
        span["end"] = time.perf_counter()

    t = threading.Thread(target=run)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
    t.join()
    inside = [s for s in ticks if span["start"] + 0.02 < s < span["end"] - 0.02]
    assert span["end"] - span["start"] > 0.1, "the run is too short to tell"
    assert len(inside) > 1000, f"the main thread ran {len(inside)} times during a {span['end'] - span['start']:.2f} s run"


# ---- package data and stubs ---------------------------------------------------------------------

def test_imagenet_labels():
    c = rs.imagenet_classes()
    assert len(c) == 1000 and c[0] == (0, "n01440764", "tench, Tinca tinca")
    assert c[999].wnid == "n15075141"  # toilet tissue, the last of the sorted ids
    wnids = [k.wnid for k in c]
    assert wnids == sorted(wnids) and len(set(wnids)) == 1000
    assert all(k.index == i and k.name for i, k in enumerate(c))


def test_type_stubs_are_shipped_and_current(tmp_path):
    pkg = os.path.dirname(rs.__file__)
    assert os.path.isfile(os.path.join(pkg, "py.typed"))
    shipped = os.path.join(pkg, "_core.pyi")
    assert os.path.isfile(shipped), "resnetrs/_core.pyi missing from the package"
    r = subprocess.run([sys.executable, "-m", "nanobind.stubgen", "-q", "-m", "resnetrs._core", "-o",
                        str(tmp_path / "_core.pyi")], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 and "No module named nanobind" in r.stderr:
        pytest.skip("nanobind is not installed in this venv")
    assert r.returncode == 0, r.stderr
    with open(shipped) as f:
        text = f.read()
    assert text == (tmp_path / "_core.pyi").read_text(), "the shipped stub differs from the module"
    for name in ("class Engine", "class EngineInfo", "def topk", "def __call__", "def synthetic", "train_resolution",
                 "class WeightsInfo", "def weights_info"):
        assert name in text


def test_public_names():
    for name in rs.__all__:
        assert hasattr(rs, name), name


# ---- images (the C API's image functions, interface B) ------------------------------------------

@pytest.mark.skipif(rs.HAS_IMAGES, reason="the library has image decoding")
def test_load_image_without_image_functions_says_so(tmp_path):
    with pytest.raises(rs.Error, match="built without image decoding"):
        rs.load_image(tmp_path / "x.jpg")


@pytest.mark.skipif(not rs.HAS_IMAGES, reason="libresnetrs has no image decoding yet (interface B, pyimages)")
def test_load_image_options(tmp_path):
    rng = np.random.default_rng(60)
    yy, xx = np.mgrid[0:120, 0:90]
    img = np.stack([xx * 2.5, yy * 2.0, rng.integers(0, 256, (120, 90))], -1).astype(np.uint8)
    import tensorflow as tf
    path = tmp_path / "im.png"
    path.write_bytes(tf.io.encode_png(img).numpy())
    x = rs.load_image(path, size=P.RES)
    assert x.dtype == np.float32 and x.shape == (3, P.RES, P.RES) and 20 < x.mean() < 235
    assert np.array_equal(rs.load_image(str(path), size=P.RES, layout="nhwc"), x.transpose(1, 2, 0))
    assert np.array_equal(rs.load_image(bytearray(path.read_bytes()), size=P.RES), x)
    t = rs.load_image(path, size=P.RES, preprocess="timm", crop_pct=0.9)
    assert t.shape == x.shape and not np.array_equal(t, x)  # another transform
    with pytest.raises(rs.InvalidArgumentError, match="preprocess='tf'"):
        rs.load_image(path, preprocess="tf")
    with pytest.raises(rs.InvalidArgumentError, match="crop_pct applies to preprocess='timm' only"):
        rs.load_image(path, crop_pct=0.9)
    with pytest.raises(rs.ImageInvalidError, match="im.png"):
        rs.load_image(path, size=P.RES, max_pixels=1000)  # 120 x 90 pixels: over the limit
    with pytest.raises(rs.ImageInvalidError):
        rs.load_image(b"\x89PNG\r\n\x1a\n truncated", size=P.RES)
