"""What the command-line tools (classify, validate) share: a parser whose errors are one line with
exit status 2, and the engine and preprocessing options."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Dict, List, Optional, Sequence


class ArgError(Exception):
    """A usage error: the command prints it on one line and exits with status 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2 (the command's main prints it)
        raise ArgError(message)


MAX_THREADS = 1024  # the C API's bound on resnetrs_options_t.cpu_threads


def threads_value(text: str) -> int:
    """--threads N: 0 (the cores this process may run on) or 1..MAX_THREADS."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if not 0 <= n <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"{n}: expected 0 (the cores this process may run on) or 1..{MAX_THREADS}")
    return n


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    """--backend, --precision, --threads, --winograd, --size, --preprocess, --crop-pct."""
    p.add_argument("--backend", choices=("auto", "cuda", "cpu"), default="auto",
                   help="auto (default): cuda when a CUDA device exists, else cpu")
    p.add_argument("--precision", choices=("fp32", "tf32"), default="fp32", help="fp32 (default) or tf32 (cuda)")
    p.add_argument("--threads", type=threads_value, default=None, metavar="N",
                   help="cpu backend: threads of one engine run (default 0: the cores this process may run on)")
    p.add_argument("--winograd", choices=("auto", "off", "fast"), default="auto",
                   help="cpu backend: Winograd 3x3 convolutions; auto (default): where as exact as the direct "
                        "convolution; off; fast: wherever faster, less exact")
    p.add_argument("--size", type=int, default=None, metavar="S",
                   help="input resolution S x S (default: the weights' trained resolution, else 224)")
    p.add_argument("--preprocess", choices=("release", "timm"), default="release",
                   help="release (default): the TF1 release's evaluation transform; timm: timm's")
    p.add_argument("--crop-pct", type=float, default=None, metavar="F", help="timm's crop_pct (with --preprocess timm)")


def engine_options(args: argparse.Namespace) -> Dict[str, object]:
    """The keyword arguments of resnetrs.Engine that add_engine_arguments' options give (all but --size)."""
    return {"backend": args.backend, "precision": args.precision, "threads": args.threads, "winograd": args.winograd}


def parse_command_line(prog: str, parser: argparse.ArgumentParser, argv: Optional[List[str]],
                       at_least_one: Sequence[str]) -> Optional[argparse.Namespace]:
    """The parsed arguments, or None after printing one usage line (the command exits with 2): a
    parse error, or one of the integer options `at_least_one` (when given) below 1."""
    try:
        args = parser.parse_args(argv)
    except ArgError as e:
        print(f"{prog}: error: {e} (see --help)", file=sys.stderr)
        return None
    for name in at_least_one:
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"{prog}: error: --{name} {value}: expected >= 1", file=sys.stderr)
            return None
    return args


def run_command(prog: str, command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """command(args)'s exit status; 130 with one line on Ctrl-C."""
    try:
        return command(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
