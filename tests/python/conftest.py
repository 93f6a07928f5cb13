"""pytest setup for the converter tests.

* tf.compat.v1.layers (used by tf1_reference.py) needs the legacy Keras: TF_USE_LEGACY_KERAS=1 must
  be set before TensorFlow is imported, so it is set here.
* The third-party TF fixtures live at <repo>/../shared/fixtures/tf-bundles (RESNETRS_SHARED_DIR
  overrides <repo>/../shared). A clone without them still passes: the tests that need those bytes
  skip with the reason, and `tf_written` gives every test checkpoints written by the venv's
  TensorFlow during the run (tf_written.py).
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
    """The third-party checkpoints of ../shared (public TensorFlow test data); skips without them."""
    d = H.fixtures_dir()
    if not os.path.isdir(d):
        pytest.skip(f"third-party TF fixtures not found at {d} (they are not part of the repository: "
                    "put shared/ beside the repo or set RESNETRS_SHARED_DIR); the same reader paths "
                    "are tested on TensorFlow-written checkpoints")
    return d


@pytest.fixture(scope="session")
def tf_written(tmp_path_factory):
    """{name: prefix or path} of the checkpoints TensorFlow writes for this run (tf_written.py)."""
    import tf_written as W
    return W.write_all(str(tmp_path_factory.mktemp("tf_written")))
