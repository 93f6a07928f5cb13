"""The `resnetrs` command: `resnetrs convert ...` (the checkpoint converter), `resnetrs classify ...`
(top-k ImageNet classes of image files) and `resnetrs validate ...` (accuracy on a labelled image
set). See docs/python.md and docs/validate.md."""

from __future__ import annotations

import sys
from typing import List, Optional

USAGE = """usage: resnetrs COMMAND ...

commands:
  convert    convert a ResNet-RS checkpoint (TF1, timm, Keras) into a weights file (docs/converter.md)
  classify   top-k ImageNet classes of image files with a weights file
  validate   top-1 / top-5 accuracy of a weights file on a labelled image set (docs/validate.md)

`resnetrs COMMAND --help` describes a command; `resnetrs --version` prints the versions.
"""


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0 if argv else 2
    if argv[0] == "--version":
        from . import __version__, library_version
        print(f"resnetrs {__version__} (libresnetrs {library_version()})")
        return 0
    command, rest = argv[0], argv[1:]
    if command == "convert":
        from .convert import main as convert_main
        return convert_main(rest)
    if command == "classify":
        from .classify import main as classify_main
        return classify_main(rest)
    if command == "validate":
        from .validation import main as validate_main
        return validate_main(rest)
    print(f"resnetrs: error: unknown command '{command}' (expected convert, classify or validate; see resnetrs --help)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
