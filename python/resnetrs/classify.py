"""`resnetrs classify --weights W.h5 IMAGE... [--top 5] [--batch N] [--workers K] [--backend B] [--json]`:
the top-k ImageNet classes of each image with their softmax probabilities.

Images are decoded and preprocessed by the C API (resnetrs.load_image: JPEG/PNG, the release's
evaluation transform by default); a .npy file is taken as already preprocessed pixels [3, S, S]
float32 on the 0..255 scale. They run in batches on one engine while K threads decode the next
batches (resnetrs.pipeline); top-k is resnetrs_topk. An image that fails is reported (stderr, and
in --json) and the others are still classified; the exit status is then 1. Usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

from . import _core
from ._cli import OneLineParser, add_engine_arguments, engine_options, parse_command_line, run_command
from .errors import Error, InvalidArgumentError
from .images import load_image
from .labels import imagenet_classes
from .pipeline import ImageBatches

PROG = "resnetrs classify"
DEFAULT_SIZE = 224


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description="Top-k ImageNet-1k classes of images, with softmax probabilities.",
                epilog="Example: resnetrs classify --weights rs50-i160.h5 cat.jpg dog.png --top 3")
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="JPEG or PNG files (or .npy files of preprocessed pixels [3,S,S] float32, 0..255)")
    p.add_argument("--weights", required=True, metavar="W.h5", help="resnetrs-weights file (resnetrs convert)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="classes per image (default 5)")
    p.add_argument("--batch", type=int, default=8, metavar="N", help="images per engine run (default 8)")
    add_engine_arguments(p)
    p.add_argument("--workers", type=int, default=None, metavar="K",
                   help="threads decoding the next batches while the engine runs (default: the cores)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.add_argument("--progress", dest="progress", action="store_const", const=True, default=None,
                   help="always show the progress bar (default: on a terminal, for more than one batch)")
    p.add_argument("--no-progress", dest="progress", action="store_const", const=False, help="never show it")
    return p


def trained_resolution(weights: str) -> int:
    """The weights file's root attribute train_resolution (docs/weights-format.md), 0 if unknown.
    Read by the library (resnetrs_weights_read_info: libhdf5 parses the file in its helper process,
    never in this one); raises resnetrs.Error (IoError, WeightsInvalidError) for a bad file."""
    return int(_core.weights_info(weights).train_resolution)


def load_pixels(path: str, size: int, preprocess: str, crop_pct: Optional[float]) -> np.ndarray:
    """[3, size, size] float32 pixels of one input (an image file, or a .npy of pixels)."""
    if path.lower().endswith(".npy"):
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise InvalidArgumentError(f"{path}: not a readable .npy file: {e}") from None
        if x.dtype != np.float32 or x.shape != (3, size, size):
            raise InvalidArgumentError(f"{path}: .npy pixels must be float32 [3, {size}, {size}], "
                                       f"found {x.dtype} {list(x.shape)}")
        return x
    return load_image(path, size=size, preprocess=preprocess, crop_pct=crop_pct)


def _class_of(index: int, names) -> Dict[str, object]:
    if names is not None:
        c = names[index]
        return {"index": index, "wnid": c.wnid, "label": c.name}
    return {"index": index, "wnid": "", "label": f"class {index}"}


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="img", desc="classify", file=sys.stderr, leave=False)


def classify(args: argparse.Namespace) -> int:
    n = len(args.images)
    try:
        size = args.size or trained_resolution(args.weights) or DEFAULT_SIZE
        engine = _core.Engine(args.weights, max_batch=min(args.batch, n), resolution=size, **engine_options(args))
    except Error as e:
        print(f"{PROG}: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    info = engine.info
    if not 1 <= args.top <= info.num_classes:
        print(f"{PROG}: error: --top {args.top}: expected 1..{info.num_classes}", file=sys.stderr)
        return 2
    names = imagenet_classes() if info.num_classes == 1000 else None
    show = args.progress if args.progress is not None else (sys.stderr.isatty() and n > args.batch)
    bar = _progress(n, show)
    results: List[Dict[str, object]] = [{} for _ in range(n)]
    failed = 0

    def loader(path: str, out: np.ndarray) -> None:
        if path.lower().endswith(".npy"):
            out[...] = load_pixels(path, size, args.preprocess, args.crop_pct)
        else:  # decoded straight into its row of the batch
            load_image(path, size=size, preprocess=args.preprocess, crop_pct=args.crop_pct, out=out)

    # The decoding pipeline (resnetrs.pipeline): --workers threads load the next batches while the
    # engine runs this one; results stay in the order of the arguments.
    with engine, ImageBatches(args.images, args.batch, size=size, workers=args.workers, loader=loader) as batches:
        for b in batches:
            for i, e in b.failures:
                path = args.images[i]
                failed += 1
                msg = str(e) if path in str(e) else f"{path}: {e}"  # always name the file
                results[i] = {"image": path, "error": {"type": type(e).__name__,
                                                       "status": getattr(e, "status_name", "IO_ERROR"), "message": msg}}
                print(f"{PROG}: error: {type(e).__name__}: {msg}", file=sys.stderr)
            if b.indices:
                logits = engine(b.pixels)
                idx, probs = _core.topk(logits, args.top)
                for row, i in enumerate(b.indices):
                    top = [dict(_class_of(int(c), names), prob=float(p)) for c, p in zip(idx[row], probs[row])]
                    results[i] = {"image": args.images[i], "top": top}
            if bar is not None:
                bar.update(len(b.indices) + len(b.failures))
    if bar is not None:
        bar.close()
    _print(results, args, info)
    return 1 if failed else 0


def _print(results: Sequence[Dict[str, object]], args: argparse.Namespace, info) -> None:
    if args.json:
        doc = {"weights": os.path.abspath(args.weights), "depth": info.depth, "resolution": [info.height, info.width],
               "preprocess": args.preprocess, "backend": info.backend, "precision": info.precision,
               "cpu_threads": info.cpu_threads, "results": list(results)}
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    for r in results:
        if "error" in r:
            print(f"{r['image']}: error: {r['error']['message']}")
            continue
        print(r["image"])
        for rank, t in enumerate(r["top"], 1):
            print(f"  {rank}. {t['prob']:.4f}  {t['index']:4d} {t['wnid']:9s}  {t['label']}")


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_command_line(PROG, build_parser(), argv, ("batch", "top", "workers", "size"))
    if args is None:
        return 2
    return run_command(PROG, classify, args)


if __name__ == "__main__":
    sys.exit(main())
