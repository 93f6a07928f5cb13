#!/usr/bin/env python3
"""Convert a ResNet-RS checkpoint into the engine's HDF5 weights file.

    .venv/bin/python scripts/convert_ckpt/convert_ckpt.py --tf resnet-rs-50-i160/model.ckpt --out rs50.h5

See docs/converter.md, or --help.
"""
import os
import sys

# Run as a script, sys.path[0] is this folder, where 'convert_ckpt' would resolve to this very file.
# Put the folder above (scripts/) first so that 'convert_ckpt' is the package.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
sys.path.insert(0, os.path.dirname(_here))

from convert_ckpt.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
