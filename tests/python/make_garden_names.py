"""Regenerates tests/data/garden/backbone_keys_rs<depth>.txt.gz: the checkpoint keys TensorFlow gives
the variables of the Model Garden's resnet_rs_imagenet backbone (tf.train.Checkpoint(backbone=...)),
for all seven depths, from thin (1/16 width) backbones: names do not depend on the width. Building
the seven backbones takes minutes, too long for every test run, so the lists are stored;
test_garden_e2e.py checks them against our mapping for every depth and against the keys of the real
RS-50 / RS-101 checkpoints it writes.

    .venv/bin/python tests/python/make_garden_names.py
"""
import gzip
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import garden_reference as GR  # noqa: E402
import rs_helpers as H  # noqa: E402


def main():
    g = GR.import_garden()
    out_dir = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "data", "garden")
    os.makedirs(out_dir, exist_ok=True)
    for d in H.DEPTHS:
        keys, _ = GR.backbone_object_paths(g, d)
        keys = sorted(k for k in keys if k.startswith("backbone/"))
        path = os.path.join(out_dir, f"backbone_keys_rs{d}.txt.gz")
        with gzip.GzipFile(path, "wb", mtime=0) as f:
            f.write(("\n".join(keys) + "\n").encode())
        print(f"RS-{d}: {len(keys)} keys -> {path}", flush=True)
        g.tf_keras.backend.clear_session()


if __name__ == "__main__":
    main()
