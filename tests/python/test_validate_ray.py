"""resnetrs.ray_data (the [ray] extra) on a local Ray cluster of 2 CPUs, started once for this module
and bound to loopback: its predictions equal the single-process resnetrs.validate() image by image,
on the labelled photographs of validate_helpers.py (corrupt files included), whether the rows come
from read_samples (paths and labels) or from ray.data.read_binary_files (bytes). docs/validate.md."""

from __future__ import annotations

import ipaddress
import os
import shutil

import numpy as np
import pytest

import pkg_helpers as P
import validate_helpers as V

rs = P.import_package()
pytestmark = pytest.mark.skipif(not rs.HAS_IMAGES, reason="libresnetrs has no image decoding")


def _descendants(root: int):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = set(), [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _listening_addresses(pids):
    """(address, port) of the TCP sockets listening in `pids` (from /proc: no tool needed)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            continue
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                addr, port = local.split(":")
                # the kernel prints each 32-bit word of the address in host (little-endian) order
                raw = b"".join(bytes.fromhex(addr[i:i + 8])[::-1] for i in range(0, len(addr), 8))
                ip = ipaddress.ip_address(raw)
                out.append((ip.ipv4_mapped or ip if ip.version == 6 else ip, int(port, 16)))
    return out


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    # Loopback only: with RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (read when Ray is imported) Ray takes
    # 127.0.0.1 as the node's address and binds its servers there (checked below); no usage
    # statistics are sent.
    for k, v in (("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0"), ("RAY_USAGE_STATS_ENABLED", "0")):
        os.environ[k] = v
    ray = pytest.importorskip("ray", reason="Ray is not installed (the [ray] extra; scripts/requirements.txt)")
    pytest.importorskip("ray.data", reason="Ray Data is not installed (ray[data])")
    if ray.is_initialized():
        pytest.skip("a Ray cluster is already initialized in this process")
    import ray._private.ray_constants as rc
    if rc.ENABLE_RAY_CLUSTER:
        pytest.skip("Ray was imported before this module could keep it on loopback")
    temp = tmp_path_factory.mktemp("ray")
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, object_store_memory=256 << 20, log_to_driver=False,
             _temp_dir=str(temp), configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return P.weights_file(tmp_path_factory)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, weights):
    """The class folder of the photographs labelled by the engine (one image at a time), with 4
    corrupt files; and the list of those."""
    images = V.encoded_images()
    flat = tmp_path_factory.mktemp("ray-photos")
    paths = []
    for img in images:
        (flat / img.name).write_bytes(img.data)
        paths.append(str(flat / img.name))
    ref = V.reference(lambda b: rs.Engine(weights, backend="cpu", max_batch=b, resolution=V.RES), paths)
    root = str(tmp_path_factory.mktemp("ray-val") / "val")
    V.write_folder(root, images, ref.top[:, 0].tolist())
    bad = V.add_corrupt_files(root, rs.imagenet_classes()[7].wnid)
    return root, bad


@pytest.fixture(scope="module")
def single_process(weights, folder):
    return rs.validate(weights, folder[0], batch=4, workers=2, size=V.RES, backend="cpu")


def _assert_same_predictions(summary, single):
    by_path = {p.path: p for p in single.predictions if p is not None}
    assert set(summary.predictions) == set(by_path)
    for path, p in summary.predictions.items():
        q = by_path[path]
        assert (p.label, p.top) == (q.label, q.top), path
        # the two runs batch differently and their engines time their algorithms apart: the last bits
        # of the logits may differ, small probabilities by a few % (test_validate.py)
        np.testing.assert_allclose(p.probs, q.probs, rtol=5e-2, atol=1e-6, err_msg=path)


def test_ray_servers_listen_on_loopback_only(ray_cluster):
    addresses = _listening_addresses(_descendants(os.getpid()) | {os.getpid()})
    assert addresses, "no listening socket found in Ray's processes"
    assert all(ip.is_loopback for ip, _ in addresses), [f"{ip}:{port}" for ip, port in addresses]


def test_ray_validate_equals_single_process(ray_cluster, weights, folder, single_process):
    import resnetrs.ray_data as rr
    s = rr.validate(weights, folder[0], size=V.RES, batch_size=5, backend="cpu")
    n = single_process.classified
    assert (s.images, s.classified, s.labelled, s.correct1, s.correct5) == (single_process.images, n, n, n, n)
    assert s.top1 == 1.0
    _assert_same_predictions(s, single_process)
    assert [f.path for f in s.failed] == sorted(folder[1]) == sorted(f.path for f in single_process.failed)
    assert {(f.error, f.status) for f in s.failed} == {("ImageInvalidError", "IMAGE_INVALID")}
    assert all(f.path in f.message for f in s.failed)


def test_ray_read_binary_files_labels_from_folders(ray_cluster, weights, folder, single_process):
    """Rows {path, bytes} from ray.data.read_binary_files: decoded from the bytes, labelled by the
    WordNet id of their folder."""
    import resnetrs.ray_data as rr
    ds = ray_cluster.data.read_binary_files(folder[0], include_paths=True)
    s = rr.summarize(rr.predict(ds, weights, size=V.RES, batch_size=8, backend="cpu"))
    # read_binary_files may give paths without the leading '/' of a local file system
    s.predictions = {("/" + p if not p.startswith("/") else p): v._replace(path="/" + p if not p.startswith("/") else p)
                     for p, v in s.predictions.items()}
    assert s.correct1 == s.classified == s.labelled == single_process.classified
    _assert_same_predictions(s, single_process)
    assert len(s.failed) == len(folder[1])
