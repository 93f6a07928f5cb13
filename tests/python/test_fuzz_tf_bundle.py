"""A short run of the atheris fuzz target of the tensor-bundle reader (tests/fuzz/fuzz_tf_bundle.py)
on a seed corpus written here: the reader must raise nothing but BundleError, never hang, never
allocate what a hostile entry claims. The long run is in docs/testing.md."""

import os
import re
import struct
import subprocess
import sys
import types

import pytest

import rs_helpers as H

TARGET = os.path.join(H.REPO, "tests", "fuzz", "fuzz_tf_bundle.py")
RUNS = 20000            # about 20 s on one core here; the time cap keeps a slow CI machine in budget
MAX_SECONDS = 40


def _target_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("fuzz_tf_bundle", TARGET)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_input_layout_roundtrip():
    F = _target_module()
    data = F.join_input(True, b"INDEX", [b"s0", b"", b"s2"], state=b"ck")
    assert F.split_input(data) == (True, b"ck", b"INDEX", [b"s0", b"", b"s2"])
    assert F.split_input(F.join_input(False, b"I", [b"d"])) == (False, None, b"I", [b"d"])
    assert F.split_input(b"") == (True, None, b"", [])
    # a length past the end takes what is left
    assert F.split_input(b"\x01" + struct.pack("<I", 99) + b"abc") == (True, None, b"abc", [])


def test_harness_reports_other_exceptions(tmp_path):
    """The harness swallows BundleError only: anything else reaches atheris as a finding."""
    F = _target_module()

    class BundleError(Exception):
        pass

    class Reader:
        def __init__(self, path, verify=True):
            raise ValueError("not a BundleError")

    fake = types.SimpleNamespace(BundleReader=Reader, BundleError=BundleError)
    one = F.make_test_one_input(fake, str(tmp_path))
    with pytest.raises(ValueError):
        one(F.join_input(True, b"x", [b"y"]))

    class Quiet(Reader):
        def __init__(self, path, verify=True):
            raise BundleError("expected")

    F.make_test_one_input(types.SimpleNamespace(BundleReader=Quiet, BundleError=BundleError),
                          str(tmp_path))(b"\x00")


def test_fuzz_short_run(tmp_path, capsys):
    try:
        import atheris  # noqa: F401
    except ImportError:
        pytest.fail("atheris is not installed: run scripts/setup (it is pinned in scripts/requirements.txt)")
    corpus = tmp_path / "corpus"
    r = subprocess.run([sys.executable, TARGET, "--seeds", str(corpus)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    seeds = len(os.listdir(corpus))
    assert seeds >= 10
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    # Memory: libFuzzer's -rss_limit_mb reads the peak RSS, which a child inherits from this (TensorFlow-
    # sized) process, so it is off; an address-space limit of 1 GiB (the target needs ~200 MB) turns
    # an allocation of what a hostile entry claims into a MemoryError, which is a finding.
    cmd = H.with_rlimits([sys.executable, TARGET, corpus, f"-runs={RUNS}", f"-max_total_time={MAX_SECONDS}",
                          "-seed=1", "-rss_limit_mb=0", "-timeout=10", f"-artifact_prefix={artifacts}/"],
                         RLIMIT_AS=1 << 30)
    env = dict(os.environ, FUZZ_TF_BUNDLE_WORKDIR=str(tmp_path / "work"))  # removed with tmp_path
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=MAX_SECONDS + 60,
                       stdin=subprocess.DEVNULL, env=env)
    out = r.stdout + r.stderr
    findings = os.listdir(artifacts)
    assert r.returncode == 0 and not findings, f"findings {findings}:\n{out[-6000:]}"
    m = re.search(r"Done (\d+) runs in (\d+) second", out)
    assert m, out[-3000:]
    runs, secs = int(m.group(1)), int(m.group(2))
    assert runs >= 1000, out[-3000:]  # it really ran
    cov = re.findall(r"cov: (\d+)", out)
    with capsys.disabled():
        print(f"\n[fuzz_tf_bundle] {runs} executions in {secs} s from {seeds} seeds, "
              f"coverage {cov[-1] if cov else '?'} edges, corpus {len(os.listdir(corpus))} inputs, 0 findings")
