"""pytest setup for the converter tests.

* tf.compat.v1.layers (used by tf1_reference.py) needs the legacy Keras: TF_USE_LEGACY_KERAS=1 must
  be set before TensorFlow is imported, so it is set here.
* The shared fixtures live at <repo>/../shared (RESNETRS_SHARED_DIR overrides).
"""
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))
for p in (os.path.join(_REPO, "scripts"), _HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

import pytest  # noqa: E402

import rs_helpers as H  # noqa: E402


@pytest.fixture(scope="session")
def fixtures_dir():
    d = H.fixtures_dir()
    if not os.path.isdir(d):
        pytest.fail(f"shared fixtures not found at {d}; put shared/ beside the repo or set RESNETRS_SHARED_DIR")
    return d
