"""Support for the Triton backend tests: a real tritonserver (from the nvidia-pytriton wheel)
started on 127.0.0.1 with free ports and our backend, model repositories written per test, the
C API through ctypes (the reference the served logits must equal) and the server's RSS.

Nothing here imports pytriton: only the wheel's server binary and its libraries are used.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, Optional

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("RESNETRS_BUILD_DIR") or os.path.join(REPO, "build")
BACKEND_SO = os.path.join(BUILD, "serving", "triton", "libtriton_resnetrs.so")
WEIGHTS_WRITER = os.path.join(BUILD, "serving", "triton", "write_synthetic_weights")
LIBRESNETRS = os.path.join(BUILD, "libresnetrs.so")
MAKE_LABELS = os.path.join(REPO, "serving", "triton", "tools", "make_labels.py")
LABEL_TABLE = os.path.join(REPO, "python", "resnetrs", "data", "imagenet1k_labels.tsv")


def server_paths():
    """(tritonserver binary, its library folder) from the nvidia-pytriton wheel, or None."""
    for pkg, libs in (("pytriton", "nvidia_pytriton.libs"),):
        spec = importlib.util.find_spec(pkg)  # locates the package without importing it
        if spec is None or not spec.submodule_search_locations:
            return None
        root = list(spec.submodule_search_locations)[0]
        binary = os.path.join(root, "tritonserver", "bin", "tritonserver")
        libdir = os.path.join(os.path.dirname(root), libs)
        if os.path.isfile(binary) and os.path.isdir(libdir):
            return binary, libdir
    return None


def skip_reason() -> Optional[str]:
    """Why the Triton tests cannot run here, or None. A missing backend is a visible skip (the
    build had no Triton headers); a missing server when the backend was built is not."""
    if not os.path.isfile(BACKEND_SO):
        return (f"Triton backend not built ({BACKEND_SO} missing): scripts/build builds it when "
                "../shared/third_party/triton-core/include exists")
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_weights(path: str, depth: int = 50, seed: int = 11) -> str:
    subprocess.run([WEIGHTS_WRITER, path, str(depth), str(seed)], check=True, timeout=300)
    return path


def make_labels(workdir: str, out: str) -> str:
    """The Triton label file through serving/triton/tools/make_labels.py: from the resnetrs
    package's ImageNet table when the checkout has it, else from a table of the same format with
    made-up names (distinct per class, so a wrong index shows)."""
    table = LABEL_TABLE
    if not os.path.isfile(table):
        table = os.path.join(workdir, "labels.tsv")
        with open(table, "w") as f:
            f.write("# made-up names in the format of python/resnetrs/data/imagenet1k_labels.tsv\n")
            f.write("".join(f"{i}\tn{i:08d}\tclass {i:04d}, alias {i}\n" for i in range(1000)))
    subprocess.run([sys.executable, MAKE_LABELS, table, out], check=True, capture_output=True, timeout=60)
    return out


def write_model(repo: str, name: str, weights: str, *, res: int = 32, max_batch: int = 8,
                nhwc: bool = False, labels: Optional[str] = None, queue_delay_us: int = 2000,
                params: Optional[Dict[str, str]] = None, warmup: bool = True, instances: int = 1,
                image_input: bool = False) -> str:
    """A model folder <repo>/<name> with config.pbtxt, version 1 holding `weights` (a symlink)."""
    d = os.path.join(repo, name)
    os.makedirs(os.path.join(d, "1"), exist_ok=True)
    link = os.path.join(d, "1", "model.h5")
    if not os.path.lexists(link):
        os.symlink(weights, link)
    dims = f"[ {res}, {res}, 3 ]" if nhwc else f"[ 3, {res}, {res} ]"
    fmt = "FORMAT_NHWC" if nhwc else "FORMAT_NCHW"
    label_line = ""
    if labels is not None:
        shutil.copy(labels, os.path.join(d, "labels.txt"))
        label_line = 'label_filename: "labels.txt"'
    p = {"weights": "model.h5", "precision": "fp32", "resolution": str(res)}
    for k, v in (params or {}).items():  # a misspelt key is added, not replaced
        p[k] = v
    plist = ",\n  ".join(f'{{ key: "{k}", value: {{ string_value: "{v}" }} }}' for k, v in p.items())
    warm = ""
    if warmup:
        # Triton's random_data fills raw random bytes (NaN and Inf included, which the backend
        # rejects): warm up with a file of seeded random pixels instead, <model>/warmup/pixels.
        os.makedirs(os.path.join(d, "warmup"), exist_ok=True)
        images(1, res, 1234, nhwc).tofile(os.path.join(d, "warmup", "pixels"))
        warm = f"""model_warmup [ {{ name: "pixels from a file", batch_size: 1,
  inputs {{ key: "pixels", value: {{ data_type: TYPE_FP32, dims: {dims}, input_data_file: "pixels" }} }} }} ]"""
    optional = "optional: true" if image_input else ""
    image = ',\n  { name: "image", data_type: TYPE_STRING, dims: [ 1 ], optional: true }' if image_input else ""
    with open(os.path.join(d, "config.pbtxt"), "w") as f:
        f.write(f"""name: "{name}"
backend: "resnetrs"
max_batch_size: {max_batch}
input [ {{ name: "pixels", data_type: TYPE_FP32, format: {fmt}, dims: {dims} {optional} }}{image} ]
output [ {{ name: "logits", data_type: TYPE_FP32, dims: [ 1000 ] {label_line} }} ]
instance_group [ {{ kind: KIND_CPU, count: {instances} }} ]
dynamic_batching {{ max_queue_delay_microseconds: {queue_delay_us} }}
parameters [
  {plist}
]
{warm}
""")
    return d


class TritonServer:
    """A tritonserver process with our backend, explicit model control, loopback only."""

    def __init__(self, repo: str, workdir: str, models=()):
        found = server_paths()
        if found is None:
            raise RuntimeError("tritonserver not found: scripts/setup installs nvidia-pytriton (--no-deps)")
        binary, libdir = found
        backends = os.path.join(workdir, "backends", "resnetrs")
        os.makedirs(backends, exist_ok=True)
        link = os.path.join(backends, "libtriton_resnetrs.so")
        if not os.path.lexists(link):
            os.symlink(BACKEND_SO, link)
        self.http_port, self.grpc_port = free_port(), free_port()
        self.log_path = os.path.join(workdir, "tritonserver.log")
        cmd = [binary, f"--model-repository={repo}", f"--backend-directory={os.path.dirname(backends)}",
               "--model-control-mode=explicit", *[f"--load-model={m}" for m in models],
               "--http-address=127.0.0.1", f"--http-port={self.http_port}",
               "--grpc-address=127.0.0.1", f"--grpc-port={self.grpc_port}",
               "--allow-metrics=false", "--allow-sagemaker=false", "--allow-vertex-ai=false",
               "--pinned-memory-pool-byte-size=0", "--exit-timeout-secs=10",
               # Server readiness without every model: the tests load broken configs on purpose, and
               # a model that failed to load keeps a strictly ready server "not ready" (it stays in
               # the repository index even after an unload); the tests check their models' readiness.
               "--strict-readiness=false"]
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        env.setdefault("OPENBLAS_NUM_THREADS", "2")
        # A fixed mmap threshold: blocks above 1 MiB are mapped and given back on free. Without it
        # glibc raises the threshold after the first large free and keeps later engines' memory
        # in its per-thread arenas: the RSS of repeated load/unload then climbs to a plateau
        # (~800 MiB here) that says nothing about leaks (docs/serving.md, "Memory").
        env.setdefault("MALLOC_MMAP_THRESHOLD_", "1048576")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        self.url = f"127.0.0.1:{self.http_port}"
        self.grpc_url = f"127.0.0.1:{self.grpc_port}"

    def log(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def wait_ready(self, timeout: float = 120.0) -> None:
        import tritonclient.http as httpclient
        client = httpclient.InferenceServerClient(self.url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tritonserver exited with {self.proc.returncode}:\n{self.log()[-6000:]}")
            try:
                if client.is_server_ready():
                    client.close()
                    return
            except Exception:  # not listening yet
                pass
            time.sleep(0.2)
        raise RuntimeError(f"tritonserver not ready after {timeout} s:\n{self.log()[-6000:]}")

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._log.close()


def start_server(repo: str, workdir: str, models=(), attempts: int = 3) -> TritonServer:
    """A ready server; retried with new ports when one picked by free_port() was taken meanwhile."""
    for attempt in range(attempts):
        server = TritonServer(repo, workdir, models)
        try:
            server.wait_ready()
            return server
        except RuntimeError:
            server.stop()
            log = server.log()
            if attempt + 1 == attempts or "already in use" not in log.lower():
                raise
    raise AssertionError("unreachable")


# ---- the C API through ctypes: the reference the server must equal ------------------------------

class _Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("api_version", ctypes.c_uint32), ("backend", ctypes.c_int32),
                ("device", ctypes.c_int32), ("precision", ctypes.c_int32), ("max_batch", ctypes.c_int32),
                ("height", ctypes.c_int32), ("width", ctypes.c_int32), ("input_layout", ctypes.c_int32),
                ("cuda_graph", ctypes.c_int32), ("workspace_cap_bytes", ctypes.c_size_t),
                ("tuning_cache_path", ctypes.c_char_p), ("cpu_threads", ctypes.c_int32),
                ("cpu_winograd", ctypes.c_int32)]


class CEngine:
    """A CPU engine of libresnetrs built from a weights file with the options the backend uses."""

    def __init__(self, weights: str, res: int, max_batch: int, nhwc: bool = False, cpu_threads: int = 0,
                 cpu_winograd: int = 0):
        self.lib = lib = ctypes.CDLL(LIBRESNETRS)
        lib.resnetrs_api_version.restype = ctypes.c_uint32
        lib.resnetrs_last_error.restype = ctypes.c_char_p
        lib.resnetrs_engine_destroy.argtypes = [ctypes.c_void_p]
        o = _Options()
        self._check(lib.resnetrs_options_init_versioned(ctypes.byref(o), ctypes.c_size_t(ctypes.sizeof(o)),
                                                       ctypes.c_uint32(lib.resnetrs_api_version())))
        o.backend, o.max_batch, o.height, o.width, o.input_layout = 0, max_batch, res, res, int(nhwc)
        o.cpu_threads, o.cpu_winograd = cpu_threads, cpu_winograd
        self.handle = ctypes.c_void_p()
        self._check(lib.resnetrs_engine_create_from_file(weights.encode(), ctypes.byref(o), ctypes.byref(self.handle)))
        self.res, self.max_batch, self.nhwc = res, max_batch, nhwc

    def _check(self, status: int) -> None:
        if status != 0:
            raise RuntimeError(f"libresnetrs status {status}: {self.lib.resnetrs_last_error().decode()}")

    def run(self, pixels: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(pixels, dtype=np.float32)
        n = x.shape[0]
        out = np.empty((n, 1000), np.float32)
        self._check(self.lib.resnetrs_engine_run_host(self.handle, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_int32(n),
                                                      out.ctypes.data_as(ctypes.c_void_p)))
        return out

    def close(self) -> None:
        if self.handle:
            self.lib.resnetrs_engine_destroy(self.handle)
            self.handle = ctypes.c_void_p()


class _ImageOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("api_version", ctypes.c_uint32), ("preprocess", ctypes.c_int32),
                ("height", ctypes.c_int32), ("width", ctypes.c_int32), ("crop_pct", ctypes.c_float),
                ("layout", ctypes.c_int32), ("max_pixels", ctypes.c_int64)]


def has_image_api() -> bool:
    return hasattr(ctypes.CDLL(LIBRESNETRS), "resnetrs_image_load_memory")


def decode_image(data: bytes, res: int, nhwc: bool = False) -> np.ndarray:
    """resnetrs_image_load_memory with the release preprocessing at res x res: [1, 3, res, res]."""
    lib = ctypes.CDLL(LIBRESNETRS)
    lib.resnetrs_api_version.restype = ctypes.c_uint32
    lib.resnetrs_last_error.restype = ctypes.c_char_p
    o = _ImageOptions()
    st = lib.resnetrs_image_options_init_versioned(ctypes.byref(o), ctypes.c_size_t(ctypes.sizeof(o)),
                                                   ctypes.c_uint32(lib.resnetrs_api_version()))
    if st != 0:
        raise RuntimeError(lib.resnetrs_last_error().decode())
    o.height = o.width = res
    o.layout = int(nhwc)
    out = np.empty((1, res, res, 3) if nhwc else (1, 3, res, res), np.float32)
    st = lib.resnetrs_image_load_memory(ctypes.c_char_p(data), ctypes.c_size_t(len(data)), ctypes.byref(o),
                                        out.ctypes.data_as(ctypes.c_void_p))
    if st != 0:
        raise RuntimeError(lib.resnetrs_last_error().decode())
    return out


def encoded_image(fmt: str, w: int, h: int, seed: int) -> bytes:
    """A seeded random photo-like RGB image (smooth gradients plus noise) as JPEG or PNG bytes."""
    import io
    from PIL import Image
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([xx / w * 255, yy / h * 255, (xx + yy) / (w + h) * 255], -1)
    px = np.clip(base * rng.uniform(0.3, 1.0, 3) + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(px).save(buf, format=fmt)
    return buf.getvalue()


def images(n: int, res: int, seed: int, nhwc: bool = False) -> np.ndarray:
    """Seeded random RGB pixels on 0..255 (never constant), [n,3,res,res] or [n,res,res,3]."""
    x = np.random.default_rng(seed).uniform(0.0, 255.0, (n, 3, res, res)).astype(np.float32)
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if nhwc else x
