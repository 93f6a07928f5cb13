"""python -m resnetrs ... is the `resnetrs` command."""
import sys

from .cli import main

sys.exit(main())
