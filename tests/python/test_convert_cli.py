"""The converter's command line on TensorFlow-written RS-50 checkpoints: flags, path forms, the EMA
rule, and bad inputs (each must give a one-line error naming the problem and leave no output)."""

import os
import shutil
import stat
import subprocess
import sys

import h5py
import numpy as np
import pytest

import bundle_writer as BW
import rs_helpers as H
from convert_ckpt import convert as C
from convert_ckpt import tf_bundle as TB
from convert_ckpt.sources import TFSource

D = 50
EMA = "/ExponentialMovingAverage"


@pytest.fixture(scope="module")
def weights():
    return H.random_weights(D, seed=123)


@pytest.fixture(scope="module")
def base_ckpt(tmp_path_factory, weights):
    """resnet-rs-50-i160/model.ckpt with raw values, EMA shadows, Momentum slots and global_step."""
    d = tmp_path_factory.mktemp("base") / "resnet-rs-50-i160"
    d.mkdir()
    H.write_training_checkpoint(str(d / "model.ckpt"), D, weights)
    return d / "model.ckpt"


def _copy_ckpt(prefix, dst_dir):
    os.makedirs(dst_dir, exist_ok=True)
    for f in os.listdir(os.path.dirname(prefix)):
        if f.startswith(os.path.basename(prefix) + "."):
            shutil.copy(os.path.join(os.path.dirname(prefix), f), dst_dir)
    return os.path.join(dst_dir, os.path.basename(prefix))


def assert_clean_error(r, out, *needles):
    assert r.returncode != 0
    err = r.stderr.strip()
    assert "Traceback" not in r.stderr, r.stderr
    assert len(err.splitlines()) == 1, r.stderr
    assert err.startswith("convert_ckpt: error:"), err
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"
    if out is not None:
        out = str(out)
        assert not os.path.exists(out)
        parent = os.path.dirname(os.path.abspath(out))
        if os.path.isdir(parent):
            assert not [f for f in os.listdir(parent) if f.endswith(".tmp")], os.listdir(parent)


def _ours_from(path):
    W, attrs = H.read_h5(path)
    return W, attrs


# ------------------------------------------------------------------------------------------------
# Good paths and flags.

def test_convert_and_path_forms(base_ckpt, weights, tmp_path):
    out = tmp_path / "rs50.h5"
    r = H.run_converter("--tf", base_ckpt, "--out", out, "--depth", "50")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "ResNet-RS-50" in r.stdout and "346 tensors" in r.stdout and "(EMA)" in r.stdout
    W, attrs = _ours_from(out)
    for k, v in weights.items():
        np.testing.assert_array_equal(W[k], v, err_msg=k)  # EMA, not raw (raw = EMA + 1)
    assert attrs["train_resolution"] == 160
    assert oct(os.stat(out).st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode
    # the .index path, the directory with exactly one *.index, a directory with a `checkpoint` file
    ck = base_ckpt.parent
    for arg in (str(base_ckpt) + ".index", ck):
        o2 = tmp_path / "b.h5"
        r = H.run_converter("--tf", arg, "--out", o2, "--train-resolution", "224")
        assert r.returncode == 0, r.stderr
        W2, a2 = _ours_from(o2)
        assert a2["train_resolution"] == 224
        np.testing.assert_array_equal(W2["/head/dense/kernel"], weights["/head/dense/kernel"])
    d2 = tmp_path / "withstate"
    _copy_ckpt(str(base_ckpt), d2)
    shutil.copy(str(base_ckpt) + ".index", d2 / "other.ckpt-5.index")  # a second, unrelated index
    (d2 / "checkpoint").write_text('model_checkpoint_path: "/gcs/run/model.ckpt"\n')
    o3 = tmp_path / "c.h5"
    r = H.run_converter("--tf", d2, "--out", o3)
    assert r.returncode == 0, r.stderr
    assert _ours_from(o3)[1]["train_resolution"] == 0
    # overwrite an existing output atomically
    r = H.run_converter("--tf", base_ckpt, "--out", o3)
    assert r.returncode == 0
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_list(base_ckpt):
    r = H.run_converter("--tf", base_ckpt, "--list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1 + 346 * 2 + (346 - 2 * (3 * 16 + 8))  # global_step, raw+EMA, Momentum
    rows = {ln.split()[0]: ln.split(None, 2)[1:] for ln in lines}
    assert rows["global_step"] == ["int64", "[]"]
    assert rows["conv2d_17/kernel" + EMA] == ["float32", "[1, 1, 64, 256]"]  # stage1/block2/conv3
    assert rows["dense/kernel/Momentum"] == ["float32", "[2048, 1000]"]


def test_no_ema_refused_then_allowed(tmp_path, weights):
    ck = tmp_path / "noema"
    ck.mkdir()
    H.write_training_checkpoint(str(ck / "model.ckpt"), D, weights, ema=False)
    out = tmp_path / "x.h5"
    r = H.run_converter("--tf", ck / "model.ckpt", "--out", out)
    assert_clean_error(r, out, "ExponentialMovingAverage", "--no-ema")
    r = H.run_converter("--tf", ck / "model.ckpt", "--out", out, "--no-ema")
    assert r.returncode == 0, r.stderr
    assert "warning: --no-ema" in r.stderr
    W, attrs = _ours_from(out)
    np.testing.assert_array_equal(W["/stage3/block2/conv2/kernel"], weights["/stage3/block2/conv2/kernel"] + 1)
    assert attrs["source"].endswith("(raw values, no EMA)")
    with h5py.File(out, "r") as f:
        assert f["/stem/conv1/kernel"].attrs["source_name"] == "conv2d/kernel"


def test_partial_ema_refused(tmp_path, weights):
    ck = tmp_path / "partial"
    ck.mkdir()
    H.write_training_checkpoint(str(ck / "model.ckpt"), D, weights,
                                drop=["batch_normalization_20/moving_variance" + EMA])
    out = tmp_path / "x.h5"
    r = H.run_converter("--tf", ck / "model.ckpt", "--out", out)
    assert_clean_error(r, out, "missing", "batch_normalization_20/moving_variance" + EMA, "--no-ema")


def test_unexpected_tensors_warned(tmp_path, weights):
    ck = tmp_path / "extra"
    ck.mkdir()
    H.write_training_checkpoint(str(ck / "model.ckpt"), D, weights, raw=False, momentum=False,
                                override={"some_tpu_thing": np.ones(3, np.float32)})
    r = H.run_converter("--tf", ck / "model.ckpt", "--out", tmp_path / "x.h5")
    assert r.returncode == 0
    assert "warning: ignored 1 tensor(s) that are not part of the model: some_tpu_thing" in r.stderr


# ------------------------------------------------------------------------------------------------
# Bad inputs.

def test_truncated_data_file(base_ckpt, tmp_path):
    p = _copy_ckpt(str(base_ckpt), tmp_path / "trunc")
    data = p + ".data-00000-of-00001"
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) * 6 // 10)
    out = tmp_path / "x.h5"
    r = H.run_converter("--tf", p, "--out", out)
    assert_clean_error(r, out, "truncated", "model.ckpt.data-00000-of-00001")


def test_flipped_byte(base_ckpt, tmp_path):
    p = _copy_ckpt(str(base_ckpt), tmp_path / "flip")
    name = "conv2d_17/kernel" + EMA
    e = TB.BundleReader(p).entry(name)
    data = p + ".data-00000-of-00001"
    with open(data, "r+b") as f:
        f.seek(e.offset + e.size // 2)
        b = f.read(1)
        f.seek(e.offset + e.size // 2)
        f.write(bytes([b[0] ^ 0x10]))
    out = tmp_path / "x.h5"
    r = H.run_converter("--tf", p, "--out", out)
    assert_clean_error(r, out, "checksum does not match", f"'{name}'")
    # --no-verify converts it (and the damage shows in that tensor)
    r = H.run_converter("--tf", p, "--out", out, "--no-verify")
    assert r.returncode == 0, r.stderr
    W, _ = _ours_from(out)
    path = {v: k for k, v in H.tf1_name_of(D).items()}["conv2d_17/kernel"]
    ref = TB.BundleReader(str(base_ckpt)).read(name).transpose(3, 2, 0, 1)
    assert (W[path] != ref).sum() == 1


def test_flipped_byte_in_index(base_ckpt, tmp_path):
    p = _copy_ckpt(str(base_ckpt), tmp_path / "flipidx")
    with open(p + ".index", "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 0x01]))
    out = tmp_path / "x.h5"
    r = H.run_converter("--tf", p, "--out", out)
    assert_clean_error(r, out, "block checksum mismatch", "model.ckpt.index")


def test_missing_tensor(tmp_path, weights):
    ck = tmp_path / "missing"
    ck.mkdir()
    H.write_training_checkpoint(str(ck / "model.ckpt"), D, weights, raw=False, momentum=False,
                                drop=["conv2d_40/kernel" + EMA])
    out = tmp_path / "x.h5"
    r = H.run_converter("--tf", ck / "model.ckpt", "--out", out)
    assert_clean_error(r, out, "missing tensor", "conv2d_40/kernel" + EMA)


def test_wrong_shape(tmp_path, weights):
    ck = tmp_path / "shape"
    ck.mkdir()
    H.write_training_checkpoint(str(ck / "model.ckpt"), D, weights, raw=False, momentum=False,
                                override={"conv2d_30/kernel" + EMA: np.zeros((3, 3, 7, 7), np.float32)})
    out = tmp_path / "x.h5"
    r = H.run_converter("--tf", ck / "model.ckpt", "--out", out)
    want = str(list(H.tf1_named(D, weights)["conv2d_30/kernel"].shape))
    assert_clean_error(r, out, "wrong shape", "conv2d_30/kernel" + EMA, "[3, 3, 7, 7]", want)


def test_nan_and_negative_variance(tmp_path, weights):
    bad = weights["/stage2/block1/conv1/kernel"].transpose(2, 3, 1, 0).copy()
    bad[0, 0, 3, 4] = np.nan
    name = H.tf1_name_of(D)["/stage2/block1/conv1/kernel"] + EMA
    ck = tmp_path / "nan"
    ck.mkdir()
    H.write_training_checkpoint(str(ck / "model.ckpt"), D, weights, raw=False, momentum=False,
                                override={name: bad})
    out = tmp_path / "x.h5"
    assert_clean_error(H.run_converter("--tf", ck / "model.ckpt", "--out", out), out, name, "NaN")
    var = H.tf1_name_of(D)["/stage4/block0/conv2/bn/moving_variance"] + EMA
    ck2 = tmp_path / "negvar"
    ck2.mkdir()
    v = weights["/stage4/block0/conv2/bn/moving_variance"].copy()
    v[7] = -0.5
    H.write_training_checkpoint(str(ck2 / "model.ckpt"), D, weights, raw=False, momentum=False,
                                override={var: v})
    assert_clean_error(H.run_converter("--tf", ck2 / "model.ckpt", "--out", out), out, var, "negative variance")


def test_depth_mismatch(base_ckpt, tmp_path):
    out = tmp_path / "x.h5"
    r = H.run_converter("--tf", base_ckpt, "--out", out, "--depth", "101")
    assert_clean_error(r, out, "--depth 101", "ResNet-RS-50")


def test_v1_file(tf_written, tmp_path):
    out = tmp_path / "x.h5"
    for p in (tf_written["v1_single"], os.path.dirname(tf_written["v1_single"]), tf_written["v1_sharded"],
              os.path.dirname(tf_written["v1_sharded"])):
        r = H.run_converter("--tf", p, "--out", out)
        assert_clean_error(r, out, "V1")


def test_v1_file_third_party(fixtures_dir, tmp_path):
    out = tmp_path / "x.h5"
    for p in (os.path.join(fixtures_dir, "v1_single_file", "export"),
              os.path.join(fixtures_dir, "v1_sharded_name", "export-00000-of-00001"),
              os.path.join(fixtures_dir, "v1_sharded_name")):
        r = H.run_converter("--tf", p, "--out", out)
        assert_clean_error(r, out, "V1")


def test_not_a_checkpoint(tf_written, tmp_path):
    out = tmp_path / "x.h5"
    txt = tmp_path / "model.ckpt"
    txt.write_text("hello\n" * 20)
    assert_clean_error(H.run_converter("--tf", txt, "--out", out), out, "not a TensorFlow checkpoint")
    idx = tmp_path / "junk.index"
    idx.write_bytes(os.urandom(200))
    assert_clean_error(H.run_converter("--tf", idx, "--out", out), out, "not an sstable")
    assert_clean_error(H.run_converter("--tf", tmp_path / "nope" / "model.ckpt", "--out", out), out,
                       "no such checkpoint")
    # a valid V2 bundle that is no ResNet-RS
    r = H.run_converter("--tf", os.path.dirname(tf_written["mnist"]), "--out", out)
    assert_clean_error(r, out, "ResNet-RS")
    # timm / keras inputs that are not what they claim
    assert_clean_error(H.run_converter("--timm", txt, "--out", out), out, "not a safetensors file")
    assert_clean_error(H.run_converter("--keras", txt, "--out", out), out, "not an HDF5 file")


def test_unwritable_output(base_ckpt, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = H.run_converter("--tf", base_ckpt, "--out", afile / "x.h5")
    assert_clean_error(r, None, "is not a directory")
    r = H.run_converter("--tf", base_ckpt, "--out", tmp_path / "no" / "such" / "dir" / "x.h5")
    assert_clean_error(r, tmp_path / "no" / "such" / "dir" / "x.h5", "does not exist")
    r = H.run_converter("--tf", base_ckpt, "--out", tmp_path)
    assert_clean_error(r, None, "is a directory")
    if os.geteuid() != 0:  # root ignores directory permissions
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        r = H.run_converter("--tf", base_ckpt, "--out", ro / "x.h5")
        assert_clean_error(r, ro / "x.h5", "not writable")


def test_usage_errors(tmp_path):
    r = H.run_converter()
    assert_clean_error(r, None, "--tf")
    r = H.run_converter("--tf", "x", "--timm", "y", "--out", tmp_path / "x.h5")
    assert_clean_error(r, None, "not allowed with")
    r = H.run_converter("--tf", "x")
    assert_clean_error(r, None, "--out")
    r = H.run_converter("--tf", "x", "--out", "y.h5", "--depth", "51")
    assert_clean_error(r, None, "--depth")
    r = H.run_converter("--help")
    assert r.returncode == 0 and "--no-ema" in r.stdout


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupt_leaves_no_output(base_ckpt, tmp_path, exc):
    out = tmp_path / "x.h5"

    def boom(n):
        if n == 150:
            raise exc("stop")

    src = TFSource(str(base_ckpt))
    with pytest.raises(exc):
        C.convert(src, str(out), _after_tensor=boom)
    src.close()
    assert os.listdir(tmp_path) == []


def test_progress_bar(base_ckpt, tmp_path):
    r = H.run_converter("--tf", base_ckpt, "--out", tmp_path / "x.h5", "--progress")
    assert r.returncode == 0, r.stderr
    # tqdm drew a bar on stderr (how many intermediate states it draws depends on timing: tqdm
    # throttles redraws and leave=False clears the finished bar, so look for the bar, not its end)
    assert "ResNet-RS-50:" in r.stderr and "/136M" in r.stderr
    r = H.run_converter("--tf", base_ckpt, "--out", tmp_path / "y.h5", "--no-progress")
    assert r.returncode == 0 and r.stderr == ""


def test_pth_without_torch(tmp_path):
    try:
        import torch  # noqa: F401
        pytest.skip("PyTorch is installed here; the message for its absence cannot be checked")
    except ImportError:
        pass
    pth = tmp_path / "resnetrs50.pth"
    pth.write_bytes(b"PK\x03\x04" + bytes(100))
    out = tmp_path / "x.h5"
    assert_clean_error(H.run_converter("--timm", pth, "--out", out), out, "PyTorch", ".safetensors")


# ------------------------------------------------------------------------------------------------
# Failures while writing, odd names and odd outputs.

def _run_with_fsize_limit(limit, *args):
    """The converter with RLIMIT_FSIZE set (Python ignores SIGXFSZ: writes past it fail with EFBIG)."""
    cmd = H.with_rlimits([sys.executable, H.CONVERTER, *args], RLIMIT_FSIZE=limit)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def test_file_size_limit(base_ckpt, tmp_path):
    """A full disk or a file-size limit while writing: one line, no traceback, no crash, no file
    left, wherever the writing stops: at the start, in the middle, at the very last byte."""
    full = tmp_path / "full.h5"
    r = H.run_converter("--tf", base_ckpt, "--out", full)
    assert r.returncode == 0, r.stderr
    size = os.path.getsize(full)
    for limit in (64 << 10, size // 2, size - 1):
        out = tmp_path / f"lim{limit}.h5"
        r = _run_with_fsize_limit(limit, "--tf", base_ckpt, "--out", out)
        assert_clean_error(r, out, f"cannot write {out}", "File too large")


def test_bad_escape_in_checkpoint_file(tmp_path):
    d = tmp_path / "ck"
    d.mkdir()
    BW.write_bundle(str(d / "model.ckpt"), {"a": np.ones(2, np.float32)})
    (d / "checkpoint").write_text('model_checkpoint_path: "model\\x.ckpt"\n')
    out = tmp_path / "x.h5"
    assert_clean_error(H.run_converter("--tf", d, "--out", out), out, str(d / "checkpoint"),
                       "bad model_checkpoint_path", "without hex digits")
    assert_clean_error(H.run_converter("--tf", d, "--list"), None, "bad model_checkpoint_path")


def test_list_odd_names_on_a_strict_stdout(tmp_path):
    """--list on an ASCII-only, strict stdout: names that are not UTF-8, or not ASCII, print with
    backslash escapes instead of crashing half-way through the listing."""
    data = np.arange(2, dtype=np.float32)
    BW.write_bundle(str(tmp_path / "m"), {"caf\u00e9/kernel": data, "plain": data},
                    extra_entries=[(b"raw\xff\xfename", BW.entry(1, (2,), offset=0, size=8,
                                                                  crc32c=BW.mask(BW.crc(data.tobytes()))))])
    env = dict(os.environ, PYTHONIOENCODING="ascii:strict", LC_ALL="C")
    r = subprocess.run([sys.executable, H.CONVERTER, "--tf", str(tmp_path / "m"), "--list"],
                       capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    names = [ln.split()[0] for ln in r.stdout.splitlines()]
    assert names == ["caf\\xe9/kernel", "plain", "raw\\xff\\xfename"], r.stdout
    assert r.stderr.strip() == "3 tensors"
    # and an error message naming such a tensor
    out = tmp_path / "x.h5"
    r = subprocess.run([sys.executable, H.CONVERTER, "--tf", str(tmp_path / "m"), "--out", str(out)],
                       capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert_clean_error(r, out, "ResNet-RS")


def test_output_not_a_regular_file(base_ckpt, tmp_path):
    """The output is renamed over --out at the end: a FIFO (or a device such as /dev/full) given as
    --out is refused, never replaced."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = H.run_converter("--tf", base_ckpt, "--out", fifo)
    assert_clean_error(r, None, "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["fifo"]
