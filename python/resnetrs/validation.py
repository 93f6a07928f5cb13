"""`resnetrs validate --weights W.h5 DATA [--batch N] [--workers K] [--json]` and resnetrs.validate():
top-1 / top-5 accuracy of a weights file on a labelled image set (docs/validate.md).

DATA is an ImageNet-style class folder, a list file or the devkit's validation ground truth
(resnetrs.dataset). Images go through the decoding pipeline (resnetrs.pipeline: K threads fill
the next batches while the engine runs one); an image that cannot be decoded is counted and named
and the run goes on. The run reports the decode rate and the engine rate measured separately, and
which of the two bounded it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import _core
from ._cli import OneLineParser, add_engine_arguments, engine_options, parse_command_line, run_command
from .classify import DEFAULT_SIZE, trained_resolution
from .dataset import Sample, read_dataset
from .errors import Error, InvalidArgumentError
from .pipeline import ImageBatches, default_workers

PROG = "resnetrs validate"
TOP = 5  # top-k of the predictions (top-5 accuracy)


class Prediction(NamedTuple):
    path: str
    label: int                 # the true class (logit index)
    top: Tuple[int, ...]       # the 5 most likely classes, best first (resnetrs_topk)
    probs: Tuple[float, ...]   # their softmax probabilities


class Failure(NamedTuple):
    path: str
    label: int
    error: str     # the exception's class name
    status: str    # the C API's status name
    message: str   # names the file


@dataclasses.dataclass
class ValidationResult:
    """What resnetrs.validate() measured. top1 / top5 are fractions of the images classified
    (images that failed to decode are counted in `failed`, not in the accuracy)."""
    images: int                  # samples in the data set
    classified: int              # images decoded and classified
    correct1: int
    correct5: int
    failed: List[Failure]
    seconds: float               # wall time of the run (the engine's build not included)
    engine_s: float              # time inside engine runs
    decode_s: float              # decoding time summed over images (over all threads)
    wait_s: float                # time the engine loop waited for decoded batches
    workers: int
    batch: int
    depth: int
    resolution: Tuple[int, int]
    preprocess: str
    backend: str
    precision: str
    predictions: List[Optional[Prediction]]  # per sample, in data set order; None where it failed
    cpu_threads: int = 0         # threads of a CPU engine's runs (EngineInfo.cpu_threads); 0 on cuda

    @property
    def top1(self) -> float:
        return self.correct1 / self.classified if self.classified else 0.0

    @property
    def top5(self) -> float:
        return self.correct5 / self.classified if self.classified else 0.0

    @property
    def images_per_s(self) -> float:
        return self.classified / self.seconds if self.seconds > 0 else 0.0

    @property
    def engine_images_per_s(self) -> float:
        """How fast the engine classifies when it never waits: classified images / engine time."""
        return self.classified / self.engine_s if self.engine_s > 0 else float("inf")

    @property
    def decode_images_per_s(self) -> float:
        """How fast the K threads decode when they never wait: images / (decode time / K)."""
        return self.images / (self.decode_s / self.workers) if self.decode_s > 0 else float("inf")

    @property
    def bound(self) -> str:
        """'engine' or 'decoding': the slower of the two rates, the one that set the pace."""
        return "decoding" if self.decode_images_per_s < self.engine_images_per_s else "engine"

    def to_dict(self, predictions: bool = False) -> Dict[str, Any]:
        d = {"images": self.images, "classified": self.classified, "failed": len(self.failed),
             "top1": self.top1, "top5": self.top5, "correct1": self.correct1, "correct5": self.correct5,
             "seconds": self.seconds, "images_per_s": self.images_per_s,
             "engine_images_per_s": _finite(self.engine_images_per_s),
             "decode_images_per_s": _finite(self.decode_images_per_s), "bound": self.bound,
             "engine_s": self.engine_s, "decode_s": self.decode_s, "wait_s": self.wait_s, "workers": self.workers,
             "batch": self.batch, "depth": self.depth, "resolution": list(self.resolution),
             "preprocess": self.preprocess, "backend": self.backend, "precision": self.precision,
             "cpu_threads": self.cpu_threads, "failures": self.failures_as_dicts()}
        if predictions:
            d["predictions"] = [None if p is None else {"image": p.path, "label": p.label, "top": list(p.top),
                                                        "probs": list(p.probs)} for p in self.predictions]
        return d

    def failures_as_dicts(self) -> List[Dict[str, Any]]:
        return [{"image": f.path, "label": f.label, "type": f.error, "status": f.status, "message": f.message}
                for f in self.failed]


def _finite(x: float) -> Optional[float]:
    return x if x != float("inf") else None


def _message(path: str, e: Exception) -> str:
    msg = str(e)
    return msg if path in msg else f"{path}: {msg}"  # always name the file


def _failure(sample: Sample, e: Exception) -> Failure:
    return Failure(sample.path, sample.label, type(e).__name__, getattr(e, "status_name", "IO_ERROR"),
                   _message(sample.path, e))


def run(engine, samples: Sequence[Sample], *, batch: int, workers: Optional[int] = None, preprocess: str = "release",
        crop_pct: Optional[float] = None, on_batch: Optional[Callable[[int, int, int], None]] = None,
        on_failure: Optional[Callable[[Failure], None]] = None) -> ValidationResult:
    """Classifies `samples` with an open engine (built with max_batch >= batch, a square
    resolution and NCHW input). on_batch(done, correct1, classified) after each batch;
    on_failure(f) for each image that fails."""
    info = engine.info
    if info.height != info.width or info.layout != "nchw":
        raise InvalidArgumentError(f"validation needs an engine with a square resolution and layout 'nchw', "
                                   f"got {info.height}x{info.width} '{info.layout}'")
    if not 1 <= batch <= info.max_batch:
        raise InvalidArgumentError(f"batch {batch}: expected 1..{info.max_batch} (the engine's max_batch)")
    workers = default_workers() if workers is None else workers
    k = min(TOP, info.num_classes)
    predictions: List[Optional[Prediction]] = [None] * len(samples)
    failed: List[Failure] = []
    correct1 = correct5 = classified = 0
    engine_s = decode_s = wait_s = 0.0
    start = time.perf_counter()
    with ImageBatches([s.path for s in samples], batch, size=info.height, preprocess=preprocess, crop_pct=crop_pct,
                      workers=workers) as batches:
        done = 0
        while True:
            t = time.perf_counter()
            b = next(batches, None)
            wait_s += time.perf_counter() - t
            if b is None:
                break
            decode_s += b.decode_s
            for i, e in b.failures:
                failed.append(_failure(samples[i], e))
                if on_failure is not None:
                    on_failure(failed[-1])
            if b.indices:
                t = time.perf_counter()
                logits = engine(b.pixels)
                engine_s += time.perf_counter() - t
                top, probs = _core.topk(logits, k)
                for row, i in enumerate(b.indices):
                    s = samples[i]
                    classes = tuple(int(c) for c in top[row])
                    predictions[i] = Prediction(s.path, s.label, classes, tuple(float(p) for p in probs[row]))
                    correct1 += classes[0] == s.label
                    correct5 += s.label in classes
                classified += len(b.indices)
            done += len(b.indices) + len(b.failures)
            if on_batch is not None:
                on_batch(done, correct1, classified)
    seconds = time.perf_counter() - start
    return ValidationResult(len(samples), classified, correct1, correct5, failed, seconds, engine_s, decode_s, wait_s,
                            workers, batch, info.depth, (info.height, info.width), preprocess, info.backend,
                            info.precision, predictions, info.cpu_threads)


def _samples(data: Union[str, "os.PathLike[str]", Sequence[Tuple[str, int]]], images: Optional[str]) -> List[Sample]:
    if isinstance(data, (str, os.PathLike)):
        return read_dataset(data, images)
    return [Sample(os.fspath(p), int(label)) for p, label in data]


def validate(weights: Union[str, "os.PathLike[str]", "_core.Engine"],
             data: Union[str, "os.PathLike[str]", Sequence[Tuple[str, int]]], *, batch: int = 32,
             workers: Optional[int] = None, size: Optional[int] = None, preprocess: str = "release",
             crop_pct: Optional[float] = None, backend: str = "auto", precision: str = "fp32",
             threads: Optional[int] = None, winograd: str = "auto", images: Optional[str] = None,
             progress: bool = False) -> ValidationResult:
    """Top-1 / top-5 accuracy of `weights` (a weights file, or an open Engine) on `data`: a class
    folder, a list file, the devkit's ground-truth file (resnetrs.read_dataset; `images` is the image
    folder of the two file forms) or a sequence of (path, class index) pairs.

    size: the input resolution (default: the weights' trained resolution, else 224; an Engine's
    own). preprocess, crop_pct: as resnetrs.load_image. workers: decoding threads (default: the
    cores). backend, precision, threads, winograd: as resnetrs.Engine (not used with an Engine). Images that fail to decode are in result.failed; the run goes on."""
    samples = _samples(data, images)
    if batch < 1:
        raise InvalidArgumentError(f"batch {batch}: expected >= 1")
    bar = _progress_bar(len(samples)) if progress else None
    on_batch = None if bar is None else _bar_updater(bar)
    try:
        if isinstance(weights, _core.Engine):
            return run(weights, samples, batch=min(batch, weights.info.max_batch), workers=workers,
                       preprocess=preprocess, crop_pct=crop_pct, on_batch=on_batch)
        size = size or trained_resolution(os.fspath(weights)) or DEFAULT_SIZE
        batch = min(batch, len(samples))
        with _core.Engine(weights, backend=backend, precision=precision, max_batch=batch, resolution=size,
                          threads=threads, winograd=winograd) as engine:
            return run(engine, samples, batch=batch, workers=workers, preprocess=preprocess, crop_pct=crop_pct,
                       on_batch=on_batch)
    finally:
        if bar is not None:
            bar.close()


# -- the command --------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description="Top-1 and top-5 accuracy of a weights file on a labelled image set.",
                epilog="Example: resnetrs validate --weights rs50-i160.h5 /data/imagenet/val --batch 64")
    p.add_argument("data", metavar="DATA",
                   help="a class folder (one sub-folder per WordNet id), a list file (path<TAB>class-index), or "
                        "the devkit's ILSVRC2012_validation_ground_truth.txt")
    p.add_argument("--weights", required=True, metavar="W.h5", help="resnetrs-weights file (resnetrs convert)")
    p.add_argument("--images", metavar="DIR", default=None,
                   help="folder of the images of a list or ground-truth file (default: the file's folder)")
    p.add_argument("--batch", type=int, default=32, metavar="N", help="images per engine run (default 32)")
    p.add_argument("--workers", type=int, default=None, metavar="K",
                   help=f"decoding threads (default: the cores, here {default_workers()})")
    add_engine_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.add_argument("--predictions", metavar="FILE", default=None,
                   help="also write each image's top-5 classes and probabilities to FILE (TSV)")
    p.add_argument("--progress", dest="progress", action="store_const", const=True, default=None,
                   help="always show the progress bar (default: on a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_const", const=False, help="never show it")
    return p


def _progress_bar(total: int):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="img", desc="validate", file=sys.stderr, leave=False)


def _bar_updater(bar) -> Callable[[int, int, int], None]:
    def update(done: int, correct1: int, classified: int) -> None:
        bar.update(done - bar.n)
        if classified:
            bar.set_postfix_str(f"top-1 {100.0 * correct1 / classified:.2f}%", refresh=False)
    return update


def _rate(x: float) -> str:
    return "unmeasured" if x == float("inf") else f"{x:.1f} images/s"


def report_text(r: ValidationResult, weights: str) -> str:
    lines = [f"{PROG}: {os.path.basename(weights)}: RS-{r.depth} at {r.resolution[0]}x{r.resolution[1]}, "
             f"{r.preprocess} preprocessing, {r.backend} {r.precision}, batch {r.batch}, {r.workers} decoding threads",
             f"images     {r.images} ({r.classified} classified, {len(r.failed)} failed)",
             f"top-1      {100.0 * r.top1:.3f} %  ({r.correct1} / {r.classified})",
             f"top-5      {100.0 * r.top5:.3f} %  ({r.correct5} / {r.classified})",
             f"speed      {r.images_per_s:.1f} images/s ({r.seconds:.1f} s)",
             f"bound by   {r.bound}: engine {_rate(r.engine_images_per_s)}, decoding {_rate(r.decode_images_per_s)} "
             f"with {r.workers} threads; the engine waited {r.wait_s:.1f} s for images"]
    return "\n".join(lines)


def write_predictions(path: str, r: ValidationResult, samples: Sequence[Sample]) -> None:
    """TSV: image, label, top-5 classes (comma-separated), their probabilities; or image, label,
    'error', message for an image that failed."""
    failed = {f.path: f for f in r.failed}
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("# image\tlabel\ttop5\tprobs\n")
        for s, p in zip(samples, r.predictions):
            if p is None:
                msg = failed[s.path].message.replace("\t", " ").replace("\n", " ") if s.path in failed else "failed"
                f.write(f"{s.path}\t{s.label}\terror\t{msg}\n")
            else:
                f.write(f"{s.path}\t{s.label}\t{','.join(map(str, p.top))}\t{','.join(f'{x:.6g}' for x in p.probs)}\n")


def _validate_cli(args: argparse.Namespace) -> int:
    try:
        samples = read_dataset(args.data, args.images)
    except (Error, OSError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    size = args.size or trained_resolution(args.weights) or DEFAULT_SIZE
    batch = min(args.batch, len(samples))
    try:
        engine = _core.Engine(args.weights, max_batch=batch, resolution=size, **engine_options(args))
    except Error as e:
        print(f"{PROG}: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    bar = _progress_bar(len(samples)) if show else None

    def on_failure(f: Failure) -> None:
        line = f"{PROG}: error: {f.error}: {f.message}"
        if bar is not None:
            bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    try:
        with engine:
            r = run(engine, samples, batch=batch, workers=args.workers, preprocess=args.preprocess,
                    crop_pct=args.crop_pct, on_batch=None if bar is None else _bar_updater(bar), on_failure=on_failure)
    finally:
        if bar is not None:
            bar.close()
    if args.predictions:
        write_predictions(args.predictions, r, samples)
    if args.json:
        doc = {"weights": os.path.abspath(args.weights), "data": os.path.abspath(args.data), **r.to_dict()}
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(report_text(r, args.weights))
        for f in r.failed:
            print(f"failed     {f.message}")
    return 1 if r.failed else 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_command_line(PROG, build_parser(), argv, ("batch", "workers", "size"))
    if args is None:
        return 2
    if args.crop_pct is not None and args.preprocess != "timm":
        print(f"{PROG}: error: --crop-pct applies to --preprocess timm only", file=sys.stderr)
        return 2
    return run_command(PROG, _validate_cli, args)


if __name__ == "__main__":
    sys.exit(main())
