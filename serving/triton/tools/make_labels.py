#!/usr/bin/env python3
"""Writes a Triton label file (one class name per line, line i = logit i) for the classification
extension (`label_filename` in config.pbtxt; docs/serving.md) from the resnetrs Python package's
ImageNet table, python/resnetrs/data/imagenet1k_labels.tsv ("index<TAB>wnid<TAB>lemmas" lines,
'#' comments). Each line is the first lemma ("tench"); the index Triton reports beside it tells
the two pairs of classes that share a first lemma apart ("crane", the bird and the machine; "maillot").

  python3 serving/triton/tools/make_labels.py [TABLE.tsv] OUT.txt
"""
import os
import sys

DEFAULT_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "python", "resnetrs",
                             "data", "imagenet1k_labels.tsv")


def labels_from_table(text: str):
    names = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].isdigit() or int(parts[0]) != len(names):
            raise ValueError(f"line {n}: expected 'index<TAB>wnid<TAB>lemmas' for class {len(names)}, got {line!r}")
        name = parts[2].split(", ")[0].strip()
        if not name or ":" in name:
            raise ValueError(f"line {n}: class {parts[0]} has no usable name ({parts[2]!r}; ':' is Triton's separator)")
        names.append(name)
    if not names:
        raise ValueError("no classes in the table")
    return names


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    table, out = (argv[1], argv[2]) if len(argv) == 3 else (DEFAULT_TABLE, argv[1])
    try:
        with open(table, encoding="utf-8") as f:
            names = labels_from_table(f.read())
    except (OSError, ValueError) as e:
        print(f"make_labels: {table}: {e}", file=sys.stderr)
        return 1
    with open(out, "w", encoding="utf-8") as f:
        f.write("".join(n + "\n" for n in names))
    print(f"make_labels: {len(names)} classes -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
