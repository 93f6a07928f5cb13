"""The CPU peers, one function per runtime, each run in a worker process of its own by
cpu_peers.py: timm's ResNet-RS (random weights, torch.manual_seed(0)) in PyTorch eager (NCHW or
channels_last), and its ONNX export in ONNX Runtime and OpenVINO, on a fixed number of threads, in
strict fp32. Also the export itself (cached per config).

Every runner returns the same thing: a "build" callable giving (run, settings), where run() does one
forward pass of the fixed input and returns the logits as a numpy array, and settings records how
the runtime was configured (read back from it where it can say).
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Dict, Tuple

SEED = 0
EXPORT_FORMAT = 1  # bump when the export's options change: the cache folder names it


def peer_input(batch: int, res: int):
    """The input every peer gets: standard normal float32, NCHW, the same for every peer."""
    import numpy as np
    return np.random.default_rng(SEED).standard_normal((batch, 3, res, res), dtype=np.float32)


def make_model(torch, timm, depth: int):
    torch.manual_seed(SEED)  # the same random weights in the export and in the eager peers
    return timm.create_model(f"resnetrs{depth}", pretrained=False).eval()


def strict_fp32_torch(torch) -> Dict[str, Any]:
    """No reduced-precision shortcut in PyTorch's CPU kernels (oneDNN may use bf16/TF32 for fp32
    when allowed): oneDNN's fp32 precision set to 'ieee' through the new API alone (with it set,
    code that reads the legacy flags raises, torch.export among them: the export process sets
    nothing and runs PyTorch's default, which is strict fp32 too); returns what is in force."""
    mkldnn = torch.backends.mkldnn
    mkldnn.fp32_precision = "ieee"
    return {"mkldnn_fp32_precision": mkldnn.fp32_precision, "mkldnn_conv_fp32_precision": mkldnn.conv.fp32_precision,
            "float32_matmul_precision": torch.get_float32_matmul_precision()}


# ---- the export -------------------------------------------------------------------------------

def export_dir(cache: str, depth: int, res: int, batch: int, torch_version: str, timm_version: str) -> str:
    tag = f"torch-{torch_version}-timm-{timm_version}-f{EXPORT_FORMAT}".replace("+", "_")
    return os.path.join(cache, tag, f"rs{depth}-{res}-b{batch}")


def export(cache: str, depth: int, res: int, batch: int) -> Dict[str, Any]:
    """Exports timm's model at a static batch to <dir>/model.onnx (weights in model.onnx.data),
    with the eager NCHW logits of peer_input as the reference (reference.npy) and meta.json; a
    second call finds them and returns meta.json."""
    import numpy as np
    import onnx
    import timm
    import torch

    from importlib.metadata import version
    d = export_dir(cache, depth, res, batch, version("torch"), version("timm"))
    meta_path = os.path.join(d, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            return dict(json.load(f), cached=True)
    os.makedirs(d, exist_ok=True)
    # PyTorch's defaults are strict fp32 on the CPU; setting the precision flags here would make
    # torch.export refuse (it reads the legacy TF32 flags).
    model = make_model(torch, timm, depth)
    x = torch.from_numpy(peer_input(batch, res))
    with torch.inference_mode():
        reference = model(x).numpy()
    t0 = time.perf_counter()
    path = os.path.join(d, "model.onnx")
    # torch.export-based exporter at its default opset; static shapes (no dynamic axes).
    torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["logits"], dynamo=True)
    export_s = time.perf_counter() - t0
    np.save(os.path.join(d, "reference.npy"), reference)
    proto = onnx.load(path, load_external_data=False)
    meta = {"depth": depth, "resolution": res, "batch": batch, "onnx": "model.onnx",
            "opset": next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None),
            "params": sum(p.numel() for p in model.parameters()), "export_s": export_s,
            "torch": torch.__version__, "timm": timm.__version__, "onnx_version": onnx.__version__,
            "exporter": "torch.onnx.export(dynamo=True)", "seed": SEED}
    with open(meta_path + ".partial", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
    os.replace(meta_path + ".partial", meta_path)  # written last: a half export is redone
    return dict(meta, cached=False)


# ---- the runners ------------------------------------------------------------------------------

Build = Callable[[], Tuple[Callable[[], Any], Dict[str, Any]]]


def torch_eager(depth: int, res: int, batch: int, threads: int, channels_last: bool) -> Build:
    import torch
    import timm

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process (only the first call may set it)
        pass
    settings = strict_fp32_torch(torch)

    def build():
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        model = make_model(torch, timm, depth).to(memory_format=fmt)
        x = torch.from_numpy(peer_input(batch, res)).contiguous(memory_format=fmt)

        def run():
            with torch.inference_mode():
                return model(x).numpy()
        return run, dict(settings, intra_op_threads=torch.get_num_threads(),
                         inter_op_threads=torch.get_num_interop_threads(),
                         memory_format="channels_last" if channels_last else "contiguous (NCHW)",
                         mkldnn=bool(torch.backends.mkldnn.is_available()))
    return build


def onnxruntime(model_path: str, batch: int, res: int, threads: int) -> Build:
    import onnxruntime as ort

    def build():
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        feed = {name: peer_input(batch, res)}

        def run():
            return sess.run(None, feed)[0]
        return run, {"providers": sess.get_providers(), "intra_op_num_threads": threads, "inter_op_num_threads": 1,
                     "execution_mode": "ORT_SEQUENTIAL", "graph_optimization_level": "ORT_ENABLE_ALL",
                     "input_type": sess.get_inputs()[0].type, "precision": "fp32 (the ONNX model's types; no fp16)"}
    return build


OPENVINO_READ_BACK = ("INFERENCE_PRECISION_HINT", "EXECUTION_MODE_HINT", "PERFORMANCE_HINT", "INFERENCE_NUM_THREADS",
                      "NUM_STREAMS", "ENABLE_CPU_PINNING", "ENABLE_HYPER_THREADING", "SCHEDULING_CORE_TYPE")


def openvino(model_path: str, batch: int, res: int, threads: int) -> Build:
    import openvino as ov

    def build():
        core = ov.Core()
        # f32 forced: on AVX-512 BF16 / AMX CPUs OpenVINO defaults INFERENCE_PRECISION_HINT to bf16.
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32"}
        compiled = core.compile_model(core.read_model(model_path), "CPU", config)
        request = compiled.create_infer_request()
        x = peer_input(batch, res)
        request.set_input_tensor(ov.Tensor(x))  # a copy: the request owns its input memory
        read_back = {}
        for key in OPENVINO_READ_BACK:
            try:
                read_back[key] = str(compiled.get_property(key))
            except Exception:  # noqa: BLE001 - a property this version does not have
                read_back[key] = None
        if read_back["INFERENCE_PRECISION_HINT"] not in ("f32", "<Type: 'float32'>"):
            raise RuntimeError(f"OpenVINO compiled the model with INFERENCE_PRECISION_HINT "
                               f"{read_back['INFERENCE_PRECISION_HINT']} although f32 was asked for")

        def run():
            request.infer()
            return request.get_output_tensor(0).data
        return run, {"device": "CPU", "requested": {k: str(v) for k, v in config.items()}, "compiled": read_back,
                     "device_name": core.get_property("CPU", "FULL_DEVICE_NAME")}
    return build
