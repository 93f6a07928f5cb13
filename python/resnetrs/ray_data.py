"""resnetrs on Ray Data (the optional extra: `pip install .[ray]`; docs/validate.md): image files
read by `ray.data`, decoded by our preprocessing in Ray tasks, classified by actors that each hold
one Engine (one GPU each where the cluster has GPUs), on one machine or many.

    import ray, resnetrs.ray_data as rr
    ds = rr.read_samples("/data/imagenet/val")            # rows {path, label}; or any dataset of
    preds = rr.predict(ds, "rs50-i160.h5", size=160)      # {path, bytes} (ray.data.read_binary_files)
    print(rr.summarize(preds).top1)

The steps are public so they can be placed in a pipeline of one's own:
`ds.map_batches(decode_batch, fn_kwargs=dict(size=S))` adds `pixels` (and `error`, '' when the image
loaded); `.map_batches(Classifier, fn_constructor_kwargs=dict(weights=W, size=S),
compute=ray.data.ActorPoolStrategy(size=N), num_gpus=1)` replaces `pixels` by `top` (the 5 most
likely classes) and `probs`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, List, Optional

import numpy as np

from . import _core
from .dataset import read_dataset, wnid_to_index
from .errors import Error
from .images import load_image
from .validation import TOP, Failure, Prediction

NO_LABEL = -1


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the [data] extra
    except ImportError as e:
        raise ImportError(f"resnetrs.ray_data needs Ray Data: pip install 'resnetrs[ray]' (or 'ray[data]'): "
                          f"{e}") from None
    return ray


def read_samples(data: "str | os.PathLike[str]", images: Optional[str] = None, *,
                 override_num_blocks: Optional[int] = None):
    """A ray.data.Dataset of rows {path, label} for DATA (a class folder, a list file or the
    devkit's ground truth: resnetrs.read_dataset). The files are read where decode_batch runs (a
    shared file system on a cluster); for object storage use ray.data.read_binary_files(...,
    include_paths=True) instead, whose rows {path, bytes} decode_batch accepts as well."""
    ray = _ray()
    samples = read_dataset(data, images)
    return ray.data.from_items([{"path": s.path, "label": s.label} for s in samples],
                               override_num_blocks=override_num_blocks)


def _label_from_path(path: str) -> int:
    """The logit index of the WordNet id naming the image's folder (ImageNet-style), else NO_LABEL."""
    return wnid_to_index().get(os.path.basename(os.path.dirname(path)), NO_LABEL)


def decode_batch(batch: Dict[str, np.ndarray], *, size: int, preprocess: str = "release",
                 crop_pct: Optional[float] = None) -> Dict[str, np.ndarray]:
    """A Ray Data batch function: decodes each row's image (its `bytes` when the dataset has them,
    else the file at `path`) into `pixels` [n, 3, size, size] float32. A row whose image fails gets
    zero pixels, its error ('Type: message') in `error` and its status name in `error_status` (''
    for the others): it is reported, never raised. Adds `label` from the image's folder name when the rows have none."""
    paths = [str(p) for p in batch["path"]]
    n = len(paths)
    pixels = np.zeros((n, 3, size, size), np.float32)
    errors: List[str] = []
    statuses: List[str] = []
    data = batch.get("bytes")
    for i, path in enumerate(paths):
        source = bytes(data[i]) if data is not None else path
        try:
            load_image(source, size=size, preprocess=preprocess, crop_pct=crop_pct, out=pixels[i])
            errors.append("")
            statuses.append("")
        except (Error, OSError) as e:
            msg = str(e)
            errors.append(f"{type(e).__name__}: {msg if path in msg else path + ': ' + msg}")
            statuses.append(getattr(e, "status_name", "IO_ERROR"))
    out = {k: v for k, v in batch.items() if k != "bytes"}
    if "label" not in out:
        out["label"] = np.array([_label_from_path(p) for p in paths], np.int64)
    out["pixels"] = pixels
    out["error"] = np.array(errors, dtype=object)
    out["error_status"] = np.array(statuses, dtype=object)
    return out


class Classifier:
    """A Ray Data callable class: one Engine per actor. Each batch's rows without an error are
    classified (in engine runs of at most max_batch images); `pixels` is replaced by `top`
    (int32 [n, 5], -1 for failed rows) and `probs` (float32 [n, 5])."""

    def __init__(self, weights: str, *, size: int, backend: str = "auto", precision: str = "fp32",
                 max_batch: int = 64):
        self.engine = _core.Engine(weights, backend=backend, precision=precision, max_batch=max_batch,
                                   resolution=size)
        self.max_batch = max_batch
        self.k = min(TOP, self.engine.info.num_classes)

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        pixels = batch["pixels"]
        ok = np.flatnonzero(np.asarray([e == "" for e in batch["error"]], bool))
        top = np.full((len(pixels), self.k), -1, np.int32)
        probs = np.zeros((len(pixels), self.k), np.float32)
        for start in range(0, len(ok), self.max_batch):
            rows = ok[start:start + self.max_batch]
            logits = self.engine(np.ascontiguousarray(pixels[rows], dtype=np.float32))
            top[rows], probs[rows] = _core.topk(logits, self.k)
        out = {k: v for k, v in batch.items() if k != "pixels"}
        out["top"] = top
        out["probs"] = probs
        return out


def predict(ds, weights: str, *, size: int, batch_size: int = 32, concurrency: int = 1,
            num_gpus: Optional[float] = None, num_cpus: float = 1, backend: str = "auto", precision: str = "fp32",
            preprocess: str = "release", crop_pct: Optional[float] = None):
    """The predictions of `ds` (rows {path[, label][, bytes]}): decode_batch in Ray tasks, then a
    pool of `concurrency` Classifier actors, each with one engine (num_gpus per actor: default 1
    when the cluster has GPUs and backend is not 'cpu', else 0; num_cpus per actor). Where the two
    steps ask for the same resources (no GPUs), Ray fuses decoding into the actors. Lazy: a
    ray.data.Dataset of rows {path, label, error, error_status, top, probs}."""
    ray = _ray()
    if num_gpus is None:
        num_gpus = 1 if backend != "cpu" and ray.cluster_resources().get("GPU", 0) > 0 else 0
    decoded = ds.map_batches(decode_batch, fn_kwargs=dict(size=size, preprocess=preprocess, crop_pct=crop_pct),
                             batch_size=batch_size)
    return decoded.map_batches(Classifier, fn_constructor_kwargs=dict(weights=weights, size=size, backend=backend,
                                                                      precision=precision, max_batch=batch_size),
                               batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=concurrency),
                               num_gpus=num_gpus, num_cpus=num_cpus)


@dataclasses.dataclass
class Summary:
    """Accuracy over the images classified; failed images are listed, not counted in it. Rows
    without a label (NO_LABEL) are predicted but not scored."""
    images: int
    classified: int
    labelled: int
    correct1: int
    correct5: int
    failed: List[Failure]
    predictions: Dict[str, Prediction]   # by image path

    @property
    def top1(self) -> float:
        return self.correct1 / self.labelled if self.labelled else 0.0

    @property
    def top5(self) -> float:
        return self.correct5 / self.labelled if self.labelled else 0.0


def summarize(predictions, batch_size: int = 1024) -> Summary:
    """Runs `predictions` (predict's dataset) and gathers its rows on the driver (path, label, top-5
    and error per image: small): the accuracy, the failures and every prediction by path."""
    images = classified = labelled = correct1 = correct5 = 0
    failed: List[Failure] = []
    by_path: Dict[str, Prediction] = {}
    for b in predictions.iter_batches(batch_size=batch_size, batch_format="numpy"):
        for path, label, error, status, top, probs in zip(b["path"], b["label"], b["error"], b["error_status"],
                                                          b["top"], b["probs"]):
            images += 1
            path, label = str(path), int(label)
            if error:
                kind, _, message = str(error).partition(": ")
                failed.append(Failure(path, label, kind, str(status), message))
                continue
            classes = tuple(int(c) for c in top)
            by_path[path] = Prediction(path, label, classes, tuple(float(p) for p in probs))
            classified += 1
            if label != NO_LABEL:
                labelled += 1
                correct1 += classes[0] == label
                correct5 += label in classes
    failed.sort(key=lambda f: f.path)
    return Summary(images, classified, labelled, correct1, correct5, failed, by_path)


def validate(weights: str, data: "str | os.PathLike[str]", *, size: int, images: Optional[str] = None,
             batch_size: int = 32, concurrency: int = 1, **options: Any) -> Summary:
    """resnetrs.validate on Ray Data: read_samples -> predict -> summarize. Needs ray.init() first
    (or Ray starts a local cluster)."""
    return summarize(predict(read_samples(data, images), weights, size=size, batch_size=batch_size,
                             concurrency=concurrency, **options))


__all__ = ["read_samples", "decode_batch", "Classifier", "predict", "summarize", "validate", "Summary", "NO_LABEL"]
