"""Helpers of the validate tests (test_validate.py, test_validate_ray.py): a labelled image set made
from real photographs, the sample images that scikit-learn and scikit-image ship in their wheels,
re-encoded by PIL at several sizes and qualities; its labels are the engine's own predictions,
computed one image at a time with load_image + Engine (independently of the pipeline)."""

from __future__ import annotations

import importlib.util
import io
import os
from typing import Dict, List, NamedTuple

import numpy as np
import pytest

RES = 64  # as the package tests: the CPU engine at 64 x 64 is fast

# (package, file inside it): photographs (scikit-image's camera.png is grayscale).
PHOTOS = [("sklearn", "datasets/images/china.jpg"), ("sklearn", "datasets/images/flower.jpg"),
          ("skimage", "data/astronaut.png"), ("skimage", "data/chelsea.png"), ("skimage", "data/coffee.png"),
          ("skimage", "data/rocket.jpg"), ("skimage", "data/motorcycle_left.png"), ("skimage", "data/camera.png")]
# Re-encodings of each photograph: (format, short side in pixels, JPEG quality, crop box as fractions).
VARIANTS = [("JPEG", 200, 92, (0.0, 0.0, 1.0, 1.0)), ("JPEG", 120, 40, (0.1, 0.0, 0.8, 1.0)),
            ("PNG", 90, None, (0.0, 0.2, 1.0, 0.9))]


class Image(NamedTuple):
    name: str       # file name, unique
    data: bytes     # the encoded file


class Reference(NamedTuple):
    top: np.ndarray     # int [n, 5], best first
    probs: np.ndarray   # float [n, 5]
    logits: np.ndarray  # float32 [n, 1000]


def photo_paths() -> List[str]:
    """The sample photographs; skips (naming what is missing) without scikit-learn / scikit-image."""
    out = []
    for package, rel in PHOTOS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            pytest.skip(f"{package} is not installed (scripts/requirements.txt): its sample photographs make the "
                        "labelled test set")
        path = os.path.join(list(spec.submodule_search_locations)[0], rel)
        if not os.path.isfile(path):
            pytest.skip(f"{package} has no {rel}")
        out.append(path)
    return out


def encoded_images() -> List[Image]:
    """Every photograph in every variant: 24 JPEG and PNG files of 90..300 pixels a side."""
    from PIL import Image as PILImage
    out = []
    for path in photo_paths():
        stem = os.path.splitext(os.path.basename(path))[0]
        with PILImage.open(path) as im:
            im.load()
            base = im.convert("L" if im.mode in ("L", "I;16") else "RGB")
        for v, (fmt, short, quality, box) in enumerate(VARIANTS):
            w, h = base.size
            crop = base.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
            cw, ch = crop.size
            scale = short / min(cw, ch)
            img = crop.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), PILImage.BICUBIC)
            buf = io.BytesIO()
            if fmt == "JPEG":
                img.save(buf, "JPEG", quality=quality)
            else:
                img.save(buf, "PNG")
            out.append(Image(f"{stem}-{v}.{'jpg' if fmt == 'JPEG' else 'png'}", buf.getvalue()))
    return out


def reference(engine_factory, paths: List[str]) -> Reference:
    """Top-5 of each image, one image at a time: resnetrs.load_image, then an engine of max_batch 1."""
    import resnetrs as rs
    logits = []
    with engine_factory(1) as engine:
        for p in paths:
            logits.append(engine(rs.load_image(p, size=RES)[None])[0])
    logits = np.stack(logits)
    top, probs = rs.topk(logits, 5)
    return Reference(top.astype(np.int64), probs.astype(np.float64), logits)


def check_margins(ref: Reference) -> None:
    """The labelled set is only a test when it cannot flip between batch sizes (the CPU engine's sums
    may differ in the last bits between them, docs/testing.md) and when its labels vary: every
    image's 6 best logits must be apart by far more than that, and the predictions not all one."""
    s = -np.sort(-ref.logits.astype(np.float64), axis=1)[:, :6]
    gaps = np.diff(-s, axis=1).min(axis=1) / np.maximum(1.0, np.abs(s).max(axis=1))
    assert gaps.min() > 1e-5, f"near-tie among the top 6 logits of image {int(gaps.argmin())}: {gaps.min():.2e}"
    assert len(set(ref.top[:, 0].tolist())) >= 4, f"the predictions hardly vary: {sorted(set(ref.top[:, 0]))}"


def write_folder(root: str, images: List[Image], labels: List[int]) -> Dict[str, int]:
    """An ImageNet-style class folder: root/<wnid>/<name>; returns {path: label}."""
    import resnetrs as rs
    classes = rs.imagenet_classes()
    out = {}
    for img, label in zip(images, labels):
        d = os.path.join(root, classes[label].wnid)
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, img.name)
        with open(p, "wb") as f:
            f.write(img.data)
        out[p] = label
    return out


def add_corrupt_files(root: str, wnid: str) -> List[str]:
    """Files that cannot be decoded, in a class folder of `root`: a truncated JPEG, text named .jpg,
    an empty .png, a GIF named .JPEG. Returns their paths."""
    d = os.path.join(root, wnid)
    os.makedirs(d, exist_ok=True)
    good = next(os.path.join(dp, f) for dp, _, fs in sorted(os.walk(root)) for f in sorted(fs) if f.endswith(".jpg"))
    with open(good, "rb") as f:
        jpeg = f.read()
    files = {"truncated.jpg": jpeg[: len(jpeg) // 3], "text.jpg": b"this is not an image\n", "empty.png": b"",
             "animation.JPEG": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"}
    out = []
    for name, data in files.items():
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        out.append(p)
    return out
