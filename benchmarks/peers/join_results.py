#!/usr/bin/env python3
"""Joins resnetrs-bench results with the PyTorch peer's (both in the resnetrs-bench-results
schema, bench_schema.py) into one table per config with ratios ours / PyTorch, printed as text
and as markdown, optionally saved (--markdown, --json) and drawn as a PNG chart (--png).

  join_results.py ours_fp32.json torch_fp32.json [more.json ...] [--markdown joined.md]
                  [--png chart.png] [--json joined.json]

Files are told apart by their producer (resnetrs-bench or torch_peer). A row is a config at a
requested batch ("RS-50 @160" for batch 128, "RS-50 @160 b1" for batch 1). A ratio compares runs of
the same precision only (our fp32x3, an fp32-accurate mode, is compared with PyTorch's strict
fp32); it is of median GPU latency per image (the latency divided by the batch), so a config whose
batch was halved on one side stays comparable, and is marked '*' when the batches differ. Below
1.0 we are faster. Each of our series is compared with every PyTorch series of its precision
(eager, compiled in each mode, each layout) and, when there are several, with the fastest of them
per config ("best torch <precision>": the strongest PyTorch). A second table gives each series'
peak device memory. Standard library + matplotlib (Agg) only; no network.
Exit status: 0 success, 1 unreadable or invalid input, 2 bad flags.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_schema as S  # noqa: E402

OURS = "resnetrs-bench"

Key = Tuple[int, int, int]  # (depth, resolution, batch requested)
TABLE_BATCH = 128


def variant_label(doc: Dict[str, Any], r: Dict[str, Any]) -> str:
    """How a series of runs is named: producer/mode (ours: the CPU's threads and Winograd mode),
    precision, layout, graph."""
    if doc["producer"]["name"] == OURS:
        name = "ours"
        if doc["environment"]["backend"] == "cpu":
            # One series per thread count and Winograd mode (e.g. the scaling from 1 to 2 threads).
            cpu = []
            if r.get("cpu_threads"):
                cpu.append(f"{r['cpu_threads']} thread{'s' if r['cpu_threads'] != 1 else ''}")
            if r.get("cpu_winograd") not in (None, "auto"):
                cpu.append(f"winograd {r['cpu_winograd']}")
            name += " (" + ", ".join(["CPU"] + cpu) + ")"
        extra = " graph" if r["cuda_graph"] else ""
        return f"{name} {r['precision']}{extra}"
    mode = r["mode"].replace("torch-", "torch ")
    return f"{mode} {r['precision']} {r['layout']}"


def collect(docs: List[Tuple[str, Dict[str, Any]]]):
    """-> (variants in order, {variant: is_ours}, {variant: precision}, cells {(key, variant): result})."""
    variants: List[str] = []
    ours: Dict[str, bool] = {}
    precision: Dict[str, str] = {}
    cells: Dict[Tuple[Key, str], Dict[str, Any]] = {}
    for path, doc in docs:
        for r in doc["results"]:
            v = variant_label(doc, r)
            if v not in variants:
                variants.append(v)
                ours[v] = doc["producer"]["name"] == OURS
                precision[v] = r["precision"]
            key = (r["depth"], r["resolution"], r["batch_requested"])
            if (key, v) in cells:
                print(f"join_results.py: note: {path} repeats {v} for {config_label(key)}; the later one is used",
                      file=sys.stderr)
            cells[(key, v)] = r
    return variants, ours, precision, cells


def config_label(key: Key) -> str:
    """RS-50 @160 for the table's batch (128), RS-50 @160 b1 for another requested batch."""
    d, r, b = key
    return f"RS-{d} @{r}" + ("" if b == TABLE_BATCH else f" b{b}")


def config_order(cells) -> List[Key]:
    """Release configs first in the release's order, then the others; larger batches first."""
    keys = {k for k, _ in cells}
    release = [(d, r) for d, r, _, _ in S.RELEASE_CONFIGS]

    def order(k: Key):
        dr = (k[0], k[1])
        return (release.index(dr) if dr in release else len(release), dr, -k[2])
    return sorted(keys, key=order)


def per_image_ms(r: Dict[str, Any]) -> Optional[float]:
    if r is None or r["status"] != "ok":
        return None
    return r["latency_ms"]["median"] / r["batch"]


def best_peer(key: Key, peers: List[str], cells) -> Optional[str]:
    """The PyTorch series with the lowest median latency per image at this config."""
    timed = [(per_image_ms(cells.get((key, p))), p) for p in peers]
    timed = [(t, p) for t, p in timed if t is not None and t > 0]
    return min(timed)[1] if timed else None


def build_rows(docs):
    variants, ours, precision, cells = collect(docs)
    peer = {v: S.peer_precision(precision[v]) for v in variants}
    pairs = [(o, p) for o in variants if ours[o] for p in variants if not ours[p] and peer[o] == precision[p]]
    # Per our series: the PyTorch series of its (peer) precision, when there is more than one.
    best_of = {o: [p for p in variants if not ours[p] and precision[p] == peer[o]] for o in variants if ours[o]}
    best_of = {o: ps for o, ps in best_of.items() if len(ps) > 1}
    rows = []
    for key in config_order(cells):
        row = {"depth": key[0], "resolution": key[1], "batch_requested": key[2], "label": config_label(key),
               "cells": {}, "ratios": {}}
        for v in variants:
            r = cells.get((key, v))
            if r is None:
                row["cells"][v] = None
            elif r["status"] != "ok":
                row["cells"][v] = {"error": r["error"]}
            else:
                row["cells"][v] = {"median_ms": r["latency_ms"]["median"], "batch": r["batch"],
                                   "batch_requested": r["batch_requested"], "images_per_s": r["images_per_s"],
                                   "peak_bytes": r["memory"]["peak_bytes"], "build_s": r["build_s"],
                                   "steady_peak_bytes": r["memory"].get("steady_peak_bytes"),
                                   "engine_bytes": r["memory"].get("engine_bytes"),
                                   "compile_s": r.get("compile_s")}
        for o, p in pairs:
            a, b = per_image_ms(cells.get((key, o))), per_image_ms(cells.get((key, p)))
            if a is not None and b is not None and b > 0:
                differ = cells[(key, o)]["batch"] != cells[(key, p)]["batch"]
                row["ratios"][f"{o} / {p}"] = {"ratio": a / b, "batches_differ": differ}
            else:
                row["ratios"][f"{o} / {p}"] = None
        for o, ps in best_of.items():
            name = f"{o} / best torch {peer[o]}"
            p = best_peer(key, ps, cells)
            a = per_image_ms(cells.get((key, o)))
            if p is not None and a is not None:
                differ = cells[(key, o)]["batch"] != cells[(key, p)]["batch"]
                row["ratios"][name] = {"ratio": a / per_image_ms(cells[(key, p)]), "batches_differ": differ, "against": p}
            else:
                row["ratios"][name] = None
        rows.append(row)
    names = [f"{o} / {p}" for o, p in pairs] + [f"{o} / best torch {peer[o]}" for o in best_of]
    return variants, names, rows


def cell_text(c: Optional[Dict[str, Any]]) -> str:
    if c is None:
        return "-"
    if "error" in c:
        return "error"
    s = f"{c['median_ms']:.2f}"
    if c["batch"] != c["batch_requested"]:
        s += f" (b{c['batch']})"
    return s


def memory_bytes(c: Optional[Dict[str, Any]]) -> Optional[int]:
    """The memory a cell reports: PyTorch's steady state where it was measured, else the peak
    (ours: cudaMemGetInfo above the baseline), else the engine's own count."""
    if c is None or "error" in c:
        return None
    for k in ("steady_peak_bytes", "peak_bytes", "engine_bytes"):
        if c.get(k) is not None:
            return c[k]
    return None


def memory_text(c: Optional[Dict[str, Any]]) -> str:
    b = memory_bytes(c)
    return "-" if b is None else f"{b / 2**30:.2f}"


def ratio_text(x: Optional[Dict[str, Any]]) -> str:
    if x is None:
        return "-"
    return f"{x['ratio']:.2f}" + ("*" if x["batches_differ"] else "")


def table_lines(variants: List[str], ratio_names: List[str], rows, markdown: bool) -> List[str]:
    head = ["config"] + [f"{v} ms" for v in variants] + ratio_names
    body = [[r["label"]] + [cell_text(r["cells"][v]) for v in variants]
            + [ratio_text(r["ratios"][n]) for n in ratio_names] for r in rows]
    return format_table(head, body, markdown)


def memory_lines(variants: List[str], rows, markdown: bool) -> List[str]:
    """Peak device memory per config and series (GiB): ours = cudaMemGetInfo above the baseline
    (engine_bytes where that is missing), PyTorch = max_memory_allocated over the timed runs
    (steady_peak_bytes) where measured, else over the whole config."""
    head = ["config"] + [f"{v} GiB" for v in variants]
    body = [[r["label"]] + [memory_text(r["cells"][v]) for v in variants] for r in rows]
    return format_table(head, body, markdown)


def format_table(head: List[str], body: List[List[str]], markdown: bool) -> List[str]:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        lines += ["| " + " | ".join(b) + " |" for b in body]
    else:
        widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
        fmt = lambda cols: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths)))  # noqa: E731
        lines = [fmt(head), "  ".join("-" * w for w in widths)] + [fmt(b) for b in body]
    return lines


def legend(docs) -> List[str]:
    out = ["Median GPU latency of one forward pass of the batch (ms; batch 128 unless the row says bN; a cell's (bN): "
           "the batch it was halved to). "
           "Ratios: ours / PyTorch of the median latency per image, same precision only; below 1 we are faster; "
           "* the two sides ran different batches. 'best torch P': the fastest PyTorch series of precision P at that "
           "config (eager or compiled, any layout; named in --json)."]
    for path, doc in docs:
        e = doc["environment"]
        p = doc["protocol"]
        sw = e.get("software", {})
        who = doc["producer"]["name"] + " " + doc["producer"]["version"]
        if "torch" in sw:
            who += f" (torch {sw['torch']}, timm {sw.get('timm', '?')})"
        out.append(f"{os.path.basename(path)}: {who} on {e['device_name']}, {p['clock']}, warm-up {p['warmup_ms']:.0f} ms, "
                   f">= {p['min_iterations']} runs and >= {p['min_duration_s']:.1f} s, transfers {p['data_transfers']}")
    return out


def draw_chart(path: str, variants: List[str], rows) -> None:
    """Grouped bars per config: median latency PER IMAGE (batch latency / batch), so configs run
    at different batches stay comparable; a bar whose batch is not 128 is labelled bN."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [r["label"].replace(" @", "\n@").replace(" b", "\nb") for r in rows]
    n = max(len(variants), 1)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6.5, 1.2 * len(rows) + 2.5), 5.0), dpi=120)
    for i, v in enumerate(variants):
        for j, r in enumerate(rows):
            c = r["cells"][v]
            x = j - 0.4 + width * (i + 0.5)
            if c and "median_ms" in c:
                y = c["median_ms"] / c["batch"]
                ax.bar([x], [y], width=width, color=f"C{i}")
                if c["batch"] != c["batch_requested"]:
                    ax.annotate(f"b{c['batch']}", (x, y), ha="center", va="bottom", fontsize=7)
            elif c and "error" in c:
                ax.annotate("error", (x, 0.02), xycoords=("data", "axes fraction"), ha="center", rotation=90,
                            fontsize=7, color=f"C{i}")
    handles = [plt.Rectangle((0, 0), 1, 1, color=f"C{i}") for i in range(len(variants))]
    ax.legend(handles, variants, fontsize=8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("median latency per image (ms, log scale)")
    ax.set_title("ResNet-RS inference: resnetrs vs PyTorch\n(same GPU, same protocol; lower is better)", fontsize=10)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


MEMORY_HEADING = ("Peak device memory (GiB): ours = cudaMemGetInfo above the baseline after build and after the "
                  "timed runs (the engine's device_bytes where not measured); PyTorch = torch.cuda.max_memory_allocated "
                  "over the timed runs (steady state) where measured, else over the whole config.")


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="join_results.py", description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+", help="results files (resnetrs-bench --json, torch_peer.py --json)")
    p.add_argument("--markdown", help="also write the markdown table here")
    p.add_argument("--png", help="draw the latency chart here (PNG)")
    p.add_argument("--json", help="write the joined rows here")
    a = p.parse_args(argv)
    docs = []
    for path in a.inputs:
        try:
            docs.append((path, S.load(path)))
        except (OSError, S.SchemaError) as e:
            print(f"join_results.py: {e}", file=sys.stderr)
            return 1
    if not any(d["producer"]["name"] == OURS for _, d in docs):
        print("join_results.py: note: no resnetrs-bench results among the inputs; no ratios", file=sys.stderr)
    variants, ratio_names, rows = build_rows(docs)
    if not rows:
        print("join_results.py: the inputs hold no results", file=sys.stderr)
        return 1
    text = table_lines(variants, ratio_names, rows, markdown=False)
    md = table_lines(variants, ratio_names, rows, markdown=True)
    mem_text = memory_lines(variants, rows, markdown=False)
    mem_md = memory_lines(variants, rows, markdown=True)
    notes = legend(docs)
    print("\n".join(text))
    print()
    print("\n".join(md))
    print()
    print("Peak device memory (GiB):")
    print("\n".join(mem_text))
    print()
    print("\n".join(notes))
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(md) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n\n" + MEMORY_HEADING + "\n\n"
                    + "\n".join(mem_md) + "\n")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"variants": variants, "ratios": ratio_names, "rows": rows,
                       "inputs": [os.path.basename(x) for x in a.inputs]}, f, indent=2)
            f.write("\n")
    if a.png:
        try:
            draw_chart(a.png, variants, rows)
        except ImportError as e:
            print(f"join_results.py: cannot draw the chart: matplotlib is missing ({e})", file=sys.stderr)
            return 1
        print(f"chart written to {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
