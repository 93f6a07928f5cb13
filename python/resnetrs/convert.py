"""`resnetrs convert ...` and `python -m resnetrs.convert ...`: the checkpoint converter.

One implementation: this runs scripts/convert_ckpt (packaged as resnetrs.convert_ckpt), the same
code as `python scripts/convert_ckpt/convert_ckpt.py`. Flags and errors: docs/converter.md.
"""

from __future__ import annotations

import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None, prog: str = "resnetrs convert") -> int:
    from .convert_ckpt import cli
    cli.PROG = prog  # its usage and error lines name the command the user typed
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(prog="python -m resnetrs.convert"))
