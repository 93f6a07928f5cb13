"""Labelled image sets for `resnetrs validate` (docs/validate.md): the list of (image path, class
index) pairs of an ImageNet-style class folder, a list file, or the ILSVRC-2012 devkit's validation
ground truth. Class indices are logit indices: the standard ILSVRC-2012 order of the ResNet-RS
logits (the 1000 WordNet ids sorted; resnetrs.imagenet_classes()).

Only the listing lives here; decoding is the pipeline's (resnetrs.pipeline)."""

from __future__ import annotations

import functools
import os
import re
from importlib import resources
from typing import Dict, List, NamedTuple, Optional

from .errors import InvalidArgumentError
from .labels import imagenet_classes

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")  # what the decoder reads (any case: ImageNet's are .JPEG)
DEVKIT_IMAGE_NAME = "ILSVRC2012_val_{:08d}.JPEG"  # validation image i (1-based) of the ground-truth file
_WNID = re.compile(r"n\d{8}$")


class Sample(NamedTuple):
    path: str    # image file
    label: int   # logit index of its class


@functools.lru_cache(maxsize=None)
def wnid_to_index() -> Dict[str, int]:
    """WordNet id -> logit index (n01440764 -> 0, ...)."""
    return {c.wnid: c.index for c in imagenet_classes()}


@functools.lru_cache(maxsize=None)
def devkit_order() -> List[str]:
    """The WordNet ids in the devkit's order: devkit_order()[i - 1] is ILSVRC2012_ID i
    (data/imagenet1k_devkit_order.txt; scripts/make_devkit_order.py says where it comes from)."""
    text = resources.files("resnetrs").joinpath("data/imagenet1k_devkit_order.txt").read_text(encoding="utf-8")
    ids = [line for line in text.splitlines() if line and not line.startswith("#")]
    if len(ids) != 1000 or set(ids) != set(wnid_to_index()):
        raise RuntimeError("resnetrs/data/imagenet1k_devkit_order.txt: expected the 1000 ImageNet-1k WordNet ids")
    return ids


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def read_image_folder(root: str) -> List[Sample]:
    """An ImageNet-style folder: one sub-folder per class, named by its WordNet id (n01440764 ...),
    holding that class's JPEG/PNG files (sub-folders below it included). Any subset of the 1000
    classes may be present; the label is the WordNet id's logit index, not the folder's rank."""
    index = wnid_to_index()
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
    if not classes:
        raise InvalidArgumentError(f"{root}: no class folders (expected one sub-folder per WordNet id, "
                                   "e.g. n01440764/, holding that class's images)")
    unknown = [c for c in classes if c not in index]
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise InvalidArgumentError(f"{root}: {len(unknown)} class folder(s) not named by an ImageNet-1k WordNet id: "
                                   f"{shown} (expected names such as n01440764, the ILSVRC-2012 classes)")
    out: List[Sample] = []
    for c in classes:
        files = []
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, c), followlinks=True):
            dirnames.sort()
            files.extend(os.path.join(dirpath, f) for f in filenames if _is_image(f))
        out.extend(Sample(p, index[c]) for p in sorted(files))
    if not out:
        raise InvalidArgumentError(f"{root}: no images in its class folders (expected files ending in "
                                   f"{', '.join(IMAGE_EXTENSIONS)}, any case)")
    return out


def _label_of(field: str, where: str) -> int:
    index = wnid_to_index()
    if _WNID.match(field):
        if field not in index:
            raise InvalidArgumentError(f"{where}: '{field}' is not an ImageNet-1k WordNet id")
        return index[field]
    try:
        label = int(field)
    except ValueError:
        raise InvalidArgumentError(f"{where}: class '{field}' is neither a class index 0..999 "
                                   "nor a WordNet id") from None
    if not 0 <= label < 1000:
        raise InvalidArgumentError(f"{where}: class index {label} outside 0..999")
    return label


def read_list_file(path: str, images: Optional[str] = None) -> List[Sample]:
    """A list file: one `image-path<TAB>class` line per image, class = its logit index 0..999 (or its
    WordNet id); relative paths are taken from `images` (default: the list file's folder). Empty
    lines and lines starting with '#' are skipped."""
    base = images if images is not None else os.path.dirname(os.path.abspath(path))
    out: List[Sample] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            image, sep, cls = line.rpartition("\t")
            if not sep or not image:
                raise InvalidArgumentError(f"{path}:{n}: expected 'image-path<TAB>class-index', found {line[:80]!r}")
            out.append(Sample(os.path.join(base, image), _label_of(cls.strip(), f"{path}:{n}")))
    if not out:
        raise InvalidArgumentError(f"{path}: no images listed")
    return out


def read_devkit_ground_truth(path: str, images: Optional[str] = None) -> List[Sample]:
    """The devkit's data/ILSVRC2012_validation_ground_truth.txt: line i is the ILSVRC2012_ID (1..1000,
    the devkit's class order) of ILSVRC2012_val_0000000i.JPEG in `images` (default: the file's
    folder). IDs are mapped to logit indices through the WordNet ids."""
    base = images if images is not None else os.path.dirname(os.path.abspath(path))
    order, index = devkit_order(), wnid_to_index()
    out: List[Sample] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            field = line.strip()
            if not field:
                continue
            try:
                devkit_id = int(field)
            except ValueError:
                raise InvalidArgumentError(f"{path}:{n}: expected an ILSVRC2012_ID 1..1000, "
                                           f"found {field[:40]!r}") from None
            if not 1 <= devkit_id <= 1000:
                raise InvalidArgumentError(f"{path}:{n}: ILSVRC2012_ID {devkit_id} outside 1..1000")
            out.append(Sample(os.path.join(base, DEVKIT_IMAGE_NAME.format(n)), index[order[devkit_id - 1]]))
    if not out:
        raise InvalidArgumentError(f"{path}: no labels")
    return out


def _looks_like_ground_truth(path: str) -> bool:
    """Every non-empty line of the first few is a bare integer (a list file's lines have a TAB)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line.strip() for _, line in zip(range(20), f)]
    lines = [line for line in lines if line]
    return bool(lines) and all(line.isdigit() for line in lines)


def read_dataset(data: "str | os.PathLike[str]", images: Optional[str] = None) -> List[Sample]:
    """The samples of DATA: a class folder (read_image_folder), the devkit's validation ground-truth
    file (read_devkit_ground_truth: one integer per line), or a list file (read_list_file). `images`
    is the image folder of the two file forms (default: the file's folder)."""
    data = os.fspath(data)
    if os.path.isdir(data):
        if images is not None:
            raise InvalidArgumentError(f"{data} is a class folder: --images applies to a list or ground-truth "
                                       "file only")
        return read_image_folder(data)
    if not os.path.exists(data):
        raise InvalidArgumentError(f"{data}: no such file or folder (expected a class folder, a list file or "
                                   "the devkit's ILSVRC2012_validation_ground_truth.txt)")
    if images is not None and not os.path.isdir(images):
        raise InvalidArgumentError(f"--images {images}: not a folder")
    try:
        if _looks_like_ground_truth(data):
            return read_devkit_ground_truth(data, images)
        return read_list_file(data, images)
    except UnicodeDecodeError as e:
        raise InvalidArgumentError(f"{data}: not a text file ({e.reason} at byte {e.start})") from None
