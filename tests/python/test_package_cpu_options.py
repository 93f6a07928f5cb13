"""The CPU engine's options through Python (docs/python.md): Engine(threads=, winograd=), their
checks, EngineInfo.cpu_threads, and the --threads / --winograd options of `resnetrs classify` and
`resnetrs validate`. CPU backend, small synthetic RS-50 engines."""

from __future__ import annotations

import json

import numpy as np
import pytest

import pkg_helpers as P

rs = P.import_package()

RES = 32  # the smallest resolution: these tests are about options, not about speed


def synthetic(**kwargs):
    return rs.Engine.synthetic(50, seed=3, backend="cpu", resolution=RES, **kwargs)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return P.weights_file(tmp_path_factory)


BAD_THREADS = [-1, 1025, 2**70, True, 1.5, "2", [2]]


@pytest.mark.parametrize("threads", BAD_THREADS, ids=repr)
def test_bad_threads_are_refused_naming_the_argument(threads):
    with pytest.raises(rs.InvalidArgumentError, match=r"threads=.*expected None or 0 .* or an int 1\.\.1024") as e:
        synthetic(threads=threads)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("winograd", ["on", "", "AUTO", "winograd"])
def test_bad_winograd_is_refused_naming_the_argument(winograd):
    with pytest.raises(rs.InvalidArgumentError, match=f"winograd='{winograd}': expected 'auto', 'off' or 'fast'"):
        synthetic(winograd=winograd)


def test_the_file_constructor_checks_them_too(weights):
    with pytest.raises(rs.InvalidArgumentError, match="threads=-3"):
        rs.Engine(weights, backend="cpu", threads=-3)
    with pytest.raises(rs.InvalidArgumentError, match="winograd='slow'"):
        rs.Engine(weights, backend="cpu", winograd="slow")
    with pytest.raises(TypeError):
        rs.Engine(weights, backend="cpu", winograd=1)


def test_cpu_threads_in_the_info():
    # ENGINE-DEPENDENT (issue 20): EngineInfo.cpu_threads is the C API's resnetrs_engine_info_t.cpu_threads,
    # which stays 0 until the fast CPU engine overrides Engine::cpu_threads(); then a requested count
    # is used as is and None / 0 resolve to the cores this process may run on (>= 1).
    for threads in (1, 2, np.int64(3)):
        with synthetic(threads=threads) as e:
            assert e.info.cpu_threads == int(threads)
            assert f"cpu_threads={int(threads)}" in repr(e.info)
    for threads in (None, 0):
        with synthetic(threads=threads) as e:
            assert e.info.cpu_threads >= 1


def test_threads_and_winograd_give_the_logits_of_the_default_engine():
    """Every combination builds a working engine whose logits match the default engine's
    (Winograd 'fast' trades accuracy for speed: a looser bound, docs/python.md)."""
    x = P.pixels(2, seed=5, res=RES)
    with synthetic(max_batch=2, threads=1, winograd="off") as e:
        want = e(x).astype(np.float64)
    scale = np.abs(want).max()
    assert scale > 0 and np.abs(want[0] - want[1]).max() > 1e-3 * scale  # image-dependent: the check can fail
    for threads, winograd, tol in [(3, "off", 1e-3), (2, "auto", 1e-3), (None, "auto", 1e-3), (2, "fast", 1e-2)]:
        with synthetic(max_batch=2, threads=threads, winograd=winograd) as e:
            got = e(x)
        assert np.abs(got - want).max() <= tol * scale, (threads, winograd)


# ---- the command-line tools -----------------------------------------------------------------------

@pytest.mark.parametrize("command", ["classify", "validate"])
@pytest.mark.parametrize("args, match", [
    (("--threads", "-1"), "argument --threads: -1: expected 0 (the cores this process may run on) or 1..1024"),
    (("--threads", "1025"), "argument --threads: 1025: expected 0"),
    (("--threads", "two"), "argument --threads: 'two' is not an integer"),
    (("--winograd", "on"), "argument --winograd: invalid choice: 'on'"),
])
def test_cli_usage_errors(command, args, match, weights):
    r = P.run_cli(command, "--weights", weights, "a.npy", *args)
    assert r.returncode == 2, r.stderr
    assert f"resnetrs {command}: error:" in r.stderr and match in r.stderr, r.stderr


def test_cli_help_lists_the_options():
    for command in ("classify", "validate"):
        r = P.run_cli(command, "--help")
        assert r.returncode == 0
        assert "--threads N" in r.stdout and "--winograd {auto,off,fast}" in r.stdout


def test_classify_runs_with_threads_and_winograd(weights, tmp_path):
    x = P.pixels(2, seed=44)
    paths = []
    for i in range(2):
        paths.append(str(tmp_path / f"x{i}.npy"))
        np.save(paths[-1], x[i])
    docs = {}
    for extra in ((), ("--threads", "2", "--winograd", "off"), ("--threads", "1", "--winograd", "fast")):
        r = P.run_cli("classify", "--weights", weights, *paths, "--size", P.RES, "--backend", "cpu", "--json",
                      "--top", 3, *extra)
        assert r.returncode == 0, r.stderr
        docs[extra] = json.loads(r.stdout)
    tops = {k: [[t["index"] for t in res["top"]] for res in d["results"]] for k, d in docs.items()}
    # strict modes agree on the classes; 'fast' is less exact, so only its top-1 is compared
    assert tops[()] == tops[("--threads", "2", "--winograd", "off")]
    assert [t[0] for t in tops[()]] == [t[0] for t in tops[("--threads", "1", "--winograd", "fast")]]
    # ENGINE-DEPENDENT (issue 20): 0 until the fast CPU engine reports its threads
    assert docs[("--threads", "2", "--winograd", "off")]["cpu_threads"] == 2
