"""What the command-line tools (classify, validate) share: a parser whose errors are one line with
exit status 2, and the engine and preprocessing options."""

from __future__ import annotations

import argparse


class ArgError(Exception):
    """A usage error: the command prints it on one line and exits with status 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2 (the command's main prints it)
        raise ArgError(message)


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    """--backend, --precision, --size, --preprocess, --crop-pct."""
    p.add_argument("--backend", choices=("auto", "cuda", "cpu"), default="auto",
                   help="auto (default): cuda when a CUDA device exists, else cpu")
    p.add_argument("--precision", choices=("fp32", "tf32"), default="fp32", help="fp32 (default) or tf32 (cuda)")
    p.add_argument("--size", type=int, default=None, metavar="S",
                   help="input resolution S x S (default: the weights' trained resolution, else 224)")
    p.add_argument("--preprocess", choices=("release", "timm"), default="release",
                   help="release (default): the TF1 release's evaluation transform; timm: timm's")
    p.add_argument("--crop-pct", type=float, default=None, metavar="F", help="timm's crop_pct (with --preprocess timm)")
