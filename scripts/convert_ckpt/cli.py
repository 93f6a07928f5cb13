"""Command line of the converter (scripts/convert_ckpt/convert_ckpt.py)."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import List, Optional

from . import __version__
from .convert import convert, parse_train_resolution
from .resnetrs_mapping import DEPTHS, MappingError
from .sources import ConvertError, KerasSource, TimmSource, open_tf_checkpoint
from .tf_bundle import BundleError

PROG = "convert_ckpt"


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise _ArgError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Convert a ResNet-RS checkpoint (the TF1 release's or the TF2 Model Garden's tensor "
                    "bundle, a timm state dict, or Keras ResNet-RS weights) into the engine's "
                    "resnetrs-weights HDF5 file.",
        epilog="Example: convert_ckpt.py --tf resnet-rs-50-i160/model.ckpt --out rs50-i160.h5")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--tf", metavar="PREFIX",
                     help="TensorFlow checkpoint, TF1 release (tensorflow/tpu) or TF2 Model Garden "
                          "(official/vision resnet_rs_imagenet; detected by its object graph): the prefix "
                          "(model.ckpt, ckpt-N), the .index file, or a directory with a 'checkpoint' file "
                          "or exactly one *.index")
    src.add_argument("--timm", metavar="FILE",
                     help="timm resnetrs* state dict: .safetensors (or .pth when PyTorch is installed)")
    src.add_argument("--keras", metavar="FILE",
                     help="Keras ResNet-RS weights saved as HDF5 (model.save_weights('x.h5'))")
    p.add_argument("--out", metavar="FILE.h5", help="output HDF5 file (written atomically)")
    p.add_argument("--depth", type=int, choices=DEPTHS,
                   help="expected depth; only checked against what is detected")
    p.add_argument("--no-verify", action="store_true", help="skip the CRC-32C checks of a TF checkpoint")
    p.add_argument("--no-ema", action="store_true",
                   help="TF: use the raw training values instead of the ExponentialMovingAverage shadows "
                        "(not what the released accuracies were measured with)")
    p.add_argument("--activation", choices=("swish", "relu"), default=None,
                   help="TF2 Model Garden only: the activation the model was trained with (checkpoints do "
                        "not record it; default swish, as in resnet_rs_imagenet)")
    p.add_argument("--list", action="store_true", help="print the source's tensors (name, dtype, shape) and exit")
    p.add_argument("--train-resolution", type=int, default=None, metavar="N",
                   help="resolution the checkpoint was trained at (default: parsed from a path like "
                        "resnet-rs-50-i160, else 0)")
    p.add_argument("--progress", dest="progress", action="store_const", const=True, default=None,
                   help="always show the progress bar")
    p.add_argument("--no-progress", dest="progress", action="store_const", const=False,
                   help="never show the progress bar")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def printable(s: str) -> str:
    """s with the bytes that are not UTF-8 (file and tensor names decoded with surrogateescape)
    written as \\xNN, so that any stream can print it."""
    try:
        return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that surrogateescape did not make
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


def _robust_output() -> None:
    """Print what the terminal's encoding cannot show as escapes (PYTHONIOENCODING=ascii:strict, a C
    locale, a pipe) instead of failing on it half-way through the output."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # replaced or detached streams
            pass


def _err(msg: str) -> None:
    msg = " ".join(printable(str(msg)).split())  # one line
    print(f"{PROG}: error: {msg}", file=sys.stderr)


def _warn(msg: str) -> None:
    print(f"{PROG}: warning: {printable(str(msg))}", file=sys.stderr)


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: Optional[List[str]] = None) -> int:
    _robust_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ArgError as e:
        _err(f"{e} (see --help)")
        return 2
    if not (args.tf or args.timm or args.keras):
        _err("give a source: --tf PREFIX, --timm FILE or --keras FILE (see --help)")
        return 2
    if not args.list and not args.out:
        _err("--out FILE.h5 is required (or --list)")
        return 2
    if args.no_ema and not args.tf:
        _err("--no-ema applies to --tf checkpoints only")
        return 2
    if args.activation and not args.tf:
        _err("--activation applies to --tf checkpoints of the TF2 Model Garden only")
        return 2
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread
        pass

    source = None
    try:
        if args.tf:
            if args.no_ema:
                _warn("--no-ema: converting the raw training values, not the ExponentialMovingAverage "
                      "shadows the released accuracies were measured with")
            source = open_tf_checkpoint(args.tf, verify=not args.no_verify, use_ema=not args.no_ema,
                                        activation=args.activation)
            src_path = source.prefix
        elif args.timm:
            source = TimmSource(args.timm)
            src_path = args.timm
        else:
            source = KerasSource.from_h5(args.keras)
            src_path = args.keras

        if args.list:
            rows = [(printable(name), dt, shape) for name, dt, shape in source.list()]
            w = max((len(r[0]) for r in rows), default=4)
            for name, dt, shape in rows:
                print(f"{name:<{w}}  {dt:<9} {list(shape)}")
            print(f"{len(rows)} tensors", file=sys.stderr)
            return 0

        res = args.train_resolution if args.train_resolution is not None else parse_train_resolution(src_path)
        summary = convert(source, args.out, depth=args.depth, train_resolution=res, progress=args.progress)
        if summary.ignored:
            ex = ", ".join(summary.ignored[:5])
            _warn(f"ignored {len(summary.ignored)} tensor(s) that are not part of the model: {ex}"
                  f"{', ...' if len(summary.ignored) > 5 else ''}")
        print(printable(summary.text()))
        return 0
    except (BundleError, MappingError, ConvertError) as e:
        _err(e)
        return 1
    except OSError as e:
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        _err(f"{e.strerror or e}{where}")
        return 1
    except MemoryError:
        _err("out of memory")
        return 1
    except KeyboardInterrupt:
        _err("interrupted; no output written")
        return 130
    finally:
        if source is not None:
            source.close()
