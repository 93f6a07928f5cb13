"""The Triton backend's KIND_GPU instances on a GPU, through a real tritonserver (docs/serving.md,
"GPU instances"). Started by run_gpu_triton_check.sh, which unpacks the server and lays out the
backend; plain Python with numpy and torch (the GPU machine cannot install tritonclient), speaking
KServe v2 over HTTP with urllib. Checks, each printed PASS/FAIL:

  1. a KIND_GPU model (cuda_graph_batch_sizes 1,4,8) and a KIND_CPU model of the same weights load;
  2. host pixels in, host logits out, batches 1, 3 (run on the graph of 4) and 8: the GPU model's
     logits equal the CPU model's within the GPU tests' tolerance (relative L2 <= 1e-4, fp32);
  3. pixels in CUDA shared memory (a torch tensor on the GPU, registered through its IPC handle),
     logits into CUDA shared memory, and the two mixed: the same logits as the host path;
  4. bad requests (wrong shape, a NaN pixel from host memory) fail alone; the server stays ready;
  5. with two GPUs or more, `gpus: [0, 1]` loads one instance per GPU and both answer correctly.
Exit 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np

RES, MAX_BATCH, CLASSES = 64, 8, 1000
RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}", flush=True)
    return ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_model(repo: str, name: str, weights: str, kind: str, gpus: str = "", graphs: str = "") -> None:
    d = os.path.join(repo, name)
    os.makedirs(os.path.join(d, "1"), exist_ok=True)
    os.symlink(weights, os.path.join(d, "1", "model.h5"))
    params = {"weights": "model.h5", "precision": "fp32"}
    if graphs:
        params["cuda_graph_batch_sizes"] = graphs
    plist = ",\n  ".join(f'{{ key: "{k}", value: {{ string_value: "{v}" }} }}' for k, v in params.items())
    with open(os.path.join(d, "config.pbtxt"), "w") as f:
        f.write(f"""name: "{name}"
backend: "resnetrs"
max_batch_size: {MAX_BATCH}
input [ {{ name: "pixels", data_type: TYPE_FP32, format: FORMAT_NCHW, dims: [ 3, {RES}, {RES} ] }} ]
output [ {{ name: "logits", data_type: TYPE_FP32, dims: [ {CLASSES} ] }} ]
instance_group [ {{ kind: {kind}, count: 1 {gpus} }} ]
parameters [
  {plist}
]
""")


class Server:
    def __init__(self, args, repo: str, models: list[str]):
        self.port = free_port()
        self.log_path = os.path.join(args.log, "tritonserver.log")
        env = dict(os.environ, LD_LIBRARY_PATH=args.server_lib_path, OPENBLAS_NUM_THREADS="8")
        cmd = [args.server, f"--model-repository={repo}", f"--backend-directory={args.backends}",
               "--model-control-mode=explicit", *[f"--load-model={m}" for m in models],
               "--http-address=127.0.0.1", f"--http-port={self.port}", "--allow-grpc=false",
               "--allow-metrics=false", "--allow-sagemaker=false", "--allow-vertex-ai=false",
               "--strict-readiness=false", "--exit-timeout-secs=10", "--log-verbose=0"]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def tail(self) -> str:
        with open(self.log_path) as f:
            return f.read()[-4000:]

    def request(self, method: str, path: str, body: bytes = b"", headers=None, timeout=120):
        req = urllib.request.Request(self.base + path, data=body if method == "POST" else None, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def wait_ready(self, timeout=180) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if self.request("GET", "/v2/health/ready", timeout=5)[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.5)
        return False

    def model_ready(self, name: str) -> bool:
        return self.request("GET", f"/v2/models/{name}/ready")[0] == 200

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._log.close()

    def infer(self, model: str, x: np.ndarray | None = None, *, in_shm=None, out_shm=None):
        """Logits [N, 1000] (host path), or None with out_shm; raises RuntimeError(message) on an
        error response. in_shm/out_shm: (region, byte_size, offset) in CUDA shared memory."""
        shape = list(x.shape) if x is not None else in_shm[3]
        inp = {"name": "pixels", "shape": shape, "datatype": "FP32", "parameters": {}}
        blob = b""
        if in_shm is None:
            blob = np.ascontiguousarray(x, np.float32).tobytes()
            inp["parameters"]["binary_data_size"] = len(blob)
        else:
            inp["parameters"].update(shared_memory_region=in_shm[0], shared_memory_byte_size=in_shm[1],
                                     shared_memory_offset=in_shm[2])
        out = {"name": "logits", "parameters": {"binary_data": True}}
        if out_shm is not None:
            out["parameters"] = dict(shared_memory_region=out_shm[0], shared_memory_byte_size=out_shm[1],
                                     shared_memory_offset=out_shm[2])
        header = json.dumps({"inputs": [inp], "outputs": [out]}).encode()
        status, headers, body = self.request("POST", f"/v2/models/{model}/infer", header + blob,
                                             {"Inference-Header-Content-Length": str(len(header)),
                                              "Content-Type": "application/octet-stream"})
        hlen = int({k.lower(): v for k, v in headers.items()}.get("inference-header-content-length", len(body)))
        meta = json.loads(body[:hlen] or b"{}")
        if status != 200:
            raise RuntimeError(meta.get("error", f"HTTP {status}"))
        if out_shm is not None:
            return None
        return np.frombuffer(body[hlen:], np.float32).reshape(shape[0], CLASSES).copy()

    def register_cuda_shm(self, name: str, tensor) -> tuple[int, int]:
        """Registers the CUDA allocation holding `tensor` (torch) as region `name`; returns
        (region byte size, the tensor's byte offset in it)."""
        storage = tensor.untyped_storage()
        shared = storage._share_cuda_()  # (device, IPC handle, storage bytes, offset in the allocation, ...)
        handle, size, offset = shared[1], int(shared[2]), int(shared[3])
        offset += tensor.storage_offset() * tensor.element_size()
        body = json.dumps({"raw_handle": {"b64": base64.b64encode(handle).decode()},
                           "device_id": tensor.device.index or 0, "byte_size": int(shared[3]) + size}).encode()
        status, _, text = self.request("POST", f"/v2/cudasharedmemory/region/{name}/register", body,
                                       {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"cannot register CUDA shared memory '{name}': {text[:500]!r}")
        return int(shared[3]) + size, offset


def rel_l2(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))


def pixels(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, 3, RES, RES)).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--server-lib-path", required=True)
    ap.add_argument("--backends", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    os.makedirs(args.log, exist_ok=True)
    try:
        import torch
    except ImportError:
        print("FAIL: torch is needed for CUDA shared memory (the GPU machine has it)")
        return 1
    if not torch.cuda.is_available():
        print("SKIPPED: no CUDA device")
        return 77
    gpus = torch.cuda.device_count()
    repo = os.path.join(args.work, "models")
    write_model(repo, "rs_gpu", args.weights, "KIND_GPU", "gpus: [ 0 ]", "1,4,8")
    write_model(repo, "rs_cpu", args.weights, "KIND_CPU")
    models = ["rs_gpu", "rs_cpu"]
    if gpus >= 2:
        write_model(repo, "rs_gpu2", args.weights, "KIND_GPU", "gpus: [ 0, 1 ]")
        models.append("rs_gpu2")
    server = Server(args, repo, models)
    try:
        if not check("server ready", server.wait_ready(), "" if server.proc.poll() is None else server.tail()):
            print(server.tail())
            return 1
        ok_load = all(server.model_ready(m) for m in models)
        if not check("models load (KIND_GPU with graphs 1,4,8; KIND_CPU)", ok_load, ", ".join(models)):
            print(server.tail())
            return 1

        # 2. host in, host out
        ref = {}
        for n, seed in ((1, 1), (3, 2), (8, 3)):
            x = pixels(n, seed)
            want = server.infer("rs_cpu", x)
            got = server.infer("rs_gpu", x)
            ref[n] = (x, want, got)
            e = rel_l2(got, want)
            distinct = n == 1 or np.abs(want[0] - want[-1]).max() > 1e-3
            check(f"host pixels -> host logits, batch {n}", e <= 1e-4 and distinct, f"rel L2 vs CPU {e:.2e}")

        # 3. CUDA shared memory in and out (torch tensors on GPU 0)
        x, want, got_host = ref[3]
        t_in = torch.from_numpy(x).cuda(0)
        t_out = torch.full((3, CLASSES), float("nan"), device="cuda:0")
        torch.cuda.synchronize()
        in_size, in_off = server.register_cuda_shm("px", t_in)
        out_size, out_off = server.register_cuda_shm("lg", t_out)
        nbytes_in, nbytes_out = t_in.numel() * 4, t_out.numel() * 4
        server.infer("rs_gpu", in_shm=("px", nbytes_in, in_off, list(x.shape)), out_shm=("lg", nbytes_out, out_off))
        torch.cuda.synchronize()
        g = t_out.cpu().numpy()
        check("GPU pixels -> GPU logits (CUDA shared memory)", np.isfinite(g).all() and rel_l2(g, want) <= 1e-4,
              f"rel L2 vs CPU {rel_l2(g, want):.2e}, bitwise equal to the host path: {np.array_equal(g, got_host)}")
        g2 = server.infer("rs_gpu", in_shm=("px", nbytes_in, in_off, list(x.shape)))
        check("GPU pixels -> host logits", rel_l2(g2, want) <= 1e-4, f"rel L2 {rel_l2(g2, want):.2e}")
        t_out.fill_(float("nan"))
        torch.cuda.synchronize()
        server.infer("rs_gpu", x, out_shm=("lg", nbytes_out, out_off))
        torch.cuda.synchronize()
        g3 = t_out.cpu().numpy()
        check("host pixels -> GPU logits", np.isfinite(g3).all() and rel_l2(g3, want) <= 1e-4,
              f"rel L2 {rel_l2(g3, want):.2e}")
        # a KIND_CPU instance refuses pixels in GPU memory, naming them
        try:
            server.infer("rs_cpu", in_shm=("px", nbytes_in, in_off, list(x.shape)))
            check("KIND_CPU refuses GPU pixels", False, "accepted")
        except RuntimeError as e:
            check("KIND_CPU refuses GPU pixels", "KIND_CPU instances read host memory only" in str(e), str(e)[:160])
        for r in ("px", "lg"):
            server.request("POST", f"/v2/cudasharedmemory/region/{r}/unregister")

        # 4. bad requests fail alone
        bad = pixels(2, 9)
        bad[1, 0, 5, 5] = np.nan
        try:
            server.infer("rs_gpu", bad)
            check("a NaN pixel (host memory) is refused", False, "accepted")
        except RuntimeError as e:
            check("a NaN pixel (host memory) is refused", "non-finite" in str(e), str(e)[:160])
        try:
            server.infer("rs_gpu", pixels(1, 10)[:, :, :32, :])
            check("a wrong shape is refused", False, "accepted")
        except RuntimeError as e:
            check("a wrong shape is refused", "shape" in str(e), str(e)[:160])
        check("server ready after the bad requests", server.model_ready("rs_gpu") and
              rel_l2(server.infer("rs_gpu", ref[1][0]), ref[1][1]) <= 1e-4)

        # 5. one instance per listed GPU
        if gpus >= 2:
            outs = [server.infer("rs_gpu2", ref[8][0]) for _ in range(6)]
            errs = [rel_l2(o, ref[8][1]) for o in outs]
            check("gpus: [0, 1], 6 requests", max(errs) <= 1e-4, f"max rel L2 {max(errs):.2e}")
            with open(server.log_path) as f:
                text = f.read()
            check("an instance on each GPU", "on GPU 0" in text and "on GPU 1" in text)
        else:
            print("NOTE  one GPU here: gpus: [0, 1] (one instance per GPU) not exercised")
        status, _, stats = server.request("GET", "/v2/models/rs_gpu/stats")
        with open(os.path.join(args.log, "rs_gpu_stats.json"), "wb") as f:
            f.write(stats)
    finally:
        server.stop()
    failed = [n for n, ok, _ in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
