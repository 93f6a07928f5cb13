#!/usr/bin/env python3
"""Joins the CPU benchmark of one run: resnetrs-bench --backend cpu results (one file per config
and thread count, or several in one), cpu_peers.py's results (PyTorch eager, ONNX Runtime,
OpenVINO) and the SGEMM ceiling (sgemm_ceiling.py) into one table per config and thread count:
milliseconds per image of every series, ours / the best of ONNX Runtime and OpenVINO against the
goal (<= 0.9), the time the model's GFLOPs take at the SGEMM ceiling and the share of the ceiling
each reaches; then the speed-up from the fewest threads to each other count. Printed as text and
markdown, optionally saved (--markdown, --json) and drawn (--png).

  join_cpu_results.py ours-*.json peers.json --sgemm sgemm.json [--markdown joined.md]
                      [--json joined.json] [--png chart.png]

Times are medians of the batch latency divided by the batch. The thread count of a row comes from
the row ("cpu_threads", or "threads"), else its document's environment.software (the same keys),
else a --threads N in its command line. A missing or failed series shows '-' or 'error'; the ratio uses
whichever of ONNX Runtime and OpenVINO ran. Standard library + matplotlib (Agg, for --png only).
Exit status: 0 success, 1 unreadable, invalid or unusable input, 2 bad flags.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_schema as S  # noqa: E402
import sgemm_ceiling as G  # noqa: E402

OURS_PRODUCER = "resnetrs-bench"
PEERS_PRODUCER = "cpu_peers"
OURS = "resnetrs"
PEER_ORDER = ("pytorch-eager-nchw", "pytorch-eager-channels-last", "onnxruntime", "openvino")
GOAL_PEERS = ("onnxruntime", "openvino")
GOAL_RATIO = 0.9

Key = Tuple[int, int, int, int]  # depth, resolution, batch requested, threads


class InputError(ValueError):
    """An input the join cannot use; the message says which and why."""


def threads_of(doc: Dict[str, Any], r: Dict[str, Any]) -> Optional[int]:
    """The threads a row ran on: the row's cpu_threads (both producers write the count the runtime
    used; 0 would mean 'all cores', which is not a count), else the environment's, else the command's."""
    sw = doc["environment"].get("software") or {}
    for where in (r, sw):
        for k in ("cpu_threads", "threads"):
            if isinstance(where.get(k), int) and not isinstance(where.get(k), bool) and where[k] > 0:
                return where[k]
    m = re.search(r"--threads[= ](\d+)\b", doc.get("command", ""))
    return int(m.group(1)) if m else None


def series_of(doc: Dict[str, Any], r: Dict[str, Any]) -> str:
    return OURS if doc["producer"]["name"] == OURS_PRODUCER else r["mode"]


def collect(docs: List[Tuple[str, Dict[str, Any]]]):
    """-> (series in order, {(key, series): result}, {series: input file})."""
    cells: Dict[Tuple[Key, str], Dict[str, Any]] = {}
    seen: List[str] = []
    for path, doc in docs:
        producer = doc["producer"]["name"]
        if producer not in (OURS_PRODUCER, PEERS_PRODUCER):
            raise InputError(f"{path}: produced by {producer}, not by resnetrs-bench or cpu_peers.py")
        if doc["environment"]["backend"] != "cpu":
            raise InputError(f"{path}: {doc['environment']['backend']} results; the CPU join takes CPU results only")
        for r in doc["results"]:
            t = threads_of(doc, r)
            if t is None:
                raise InputError(f"{path}: cannot tell the thread count of {r['model']} @{r['resolution']} "
                                 "(no 'threads' in the row or environment.software, no --threads in the command)")
            s = series_of(doc, r)
            if s not in seen:
                seen.append(s)
            key = (r["depth"], r["resolution"], r["batch_requested"], t)
            if (key, s) in cells:
                print(f"join_cpu_results.py: note: {path} repeats {s} for {label(key)}, {t} thread(s); the later "
                      "one is used", file=sys.stderr)
            cells[(key, s)] = r
    order = [OURS] + list(PEER_ORDER)
    series = [s for s in order if s in seen] + [s for s in seen if s not in order]
    return series, cells


def label(key: Key) -> str:
    return f"RS-{key[0]} @{key[1]} b{key[2]}"


def ms_per_image(r: Optional[Dict[str, Any]]) -> Optional[float]:
    if r is None or r.get("status") != "ok":
        return None
    return r["latency_ms"]["median"] / r["batch"]


def best_of(key: Key, names, cells) -> Tuple[Optional[str], Optional[float]]:
    """The fastest of `names` at this config and thread count (by ms per image), among those that ran."""
    timed = [(ms_per_image(cells.get((key, n))), n) for n in names]
    timed = [(t, n) for t, n in timed if t is not None and t > 0]
    if not timed:
        return None, None
    t, n = min(timed)
    return n, t


def gflops_of(key: Key, series: List[str], cells) -> Optional[float]:
    """The model's GFLOPs per image: ours computes it, the peers carry the release figure."""
    for s in series:
        r = cells.get((key, s))
        if r is not None and r.get("status") == "ok" and r.get("gflops_per_image"):
            return float(r["gflops_per_image"])
    return S.release_gflops(key[0], key[1])


def build_rows(series: List[str], cells, sgemm: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    rows = []
    for key in sorted({k for k, _ in cells}):
        row: Dict[str, Any] = {"depth": key[0], "resolution": key[1], "batch": key[2], "threads": key[3],
                               "label": label(key), "ms_per_image": {}, "errors": {}}
        for s in series:
            r = cells.get((key, s))
            row["ms_per_image"][s] = ms_per_image(r)
            if r is not None and r.get("status") != "ok":
                row["errors"][s] = r.get("error")
        best, best_ms = best_of(key, GOAL_PEERS, cells)
        ours = row["ms_per_image"].get(OURS)
        row["best_peer"], row["best_peer_ms_per_image"] = best, best_ms
        row["ratio"] = ours / best_ms if ours is not None and best_ms else None
        row["goal_met"] = None if row["ratio"] is None else row["ratio"] <= GOAL_RATIO
        gflop = gflops_of(key, series, cells)
        ceiling = G.ceiling_for(sgemm, key[3]) if sgemm else None
        row["gflops_per_image"], row["ceiling_gflops"] = gflop, ceiling
        row["ceiling_ms_per_image"] = G.ceiling_ms(gflop, ceiling) if gflop and ceiling else None
        row["pct_of_ceiling"] = {s: (100.0 * row["ceiling_ms_per_image"] / t if row["ceiling_ms_per_image"] and t else None)
                                 for s, t in row["ms_per_image"].items()}
        rows.append(row)
    return rows


def scaling_rows(series: List[str], rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Per config, each series' speed-up from the fewest threads measured to each other count
    (time at the fewest / time at that count)."""
    out = []
    configs = sorted({(r["depth"], r["resolution"], r["batch"]) for r in rows})
    for c in configs:
        mine = sorted((r for r in rows if (r["depth"], r["resolution"], r["batch"]) == c), key=lambda r: r["threads"])
        if len(mine) < 2:
            continue
        base = mine[0]
        for r in mine[1:]:
            speedup = {}
            for s in series:
                a, b = base["ms_per_image"].get(s), r["ms_per_image"].get(s)
                speedup[s] = a / b if a is not None and b else None
            out.append({"label": r["label"], "from_threads": base["threads"], "to_threads": r["threads"],
                        "speedup": speedup})
    return out


# ---- text -------------------------------------------------------------------------------------

def num(x: Optional[float], fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def cell(row: Dict[str, Any], s: str) -> str:
    if s in row["errors"]:
        return "not fp32" if str(row["errors"][s]).startswith("NOT_FP32") else "error"
    return num(row["ms_per_image"][s])


def main_table(series: List[str], rows: List[Dict[str, Any]], markdown: bool) -> List[str]:
    head = (["config", "threads"] + [f"{s} ms/img" for s in series]
            + ["ours / best(ORT, OV)", f"goal <= {GOAL_RATIO:g}", "SGEMM-ceiling ms/img", "ours % of ceiling",
               "best peer % of ceiling"])
    body = []
    for r in rows:
        goal = "-" if r["goal_met"] is None else ("met" if r["goal_met"] else "not met")
        best_pct = r["pct_of_ceiling"].get(r["best_peer"]) if r["best_peer"] else None
        body.append([r["label"], str(r["threads"])] + [cell(r, s) for s in series]
                    + [num(r["ratio"]), goal, num(r["ceiling_ms_per_image"]),
                       num(r["pct_of_ceiling"].get(OURS), "{:.0f}%"), num(best_pct, "{:.0f}%")])
    return format_table(head, body, markdown)


def scaling_table(series: List[str], scaling: List[Dict[str, Any]], markdown: bool) -> List[str]:
    head = ["config", "threads"] + series
    body = [[x["label"], f"{x['from_threads']} -> {x['to_threads']}"] + [num(x["speedup"][s], "x{:.2f}") for s in series]
            for x in scaling]
    return format_table(head, body, markdown)


def format_table(head: List[str], body: List[List[str]], markdown: bool) -> List[str]:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        return lines + ["| " + " | ".join(b) + " |" for b in body]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = lambda cols: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths)))  # noqa: E731
    return [fmt(head), "  ".join("-" * w for w in widths)] + [fmt(b) for b in body]


def notes(docs, sgemm: Optional[Dict[str, Any]]) -> List[str]:
    out = [f"ms/img: median latency of one forward pass of the batch divided by the batch (steady clock, input in "
           f"memory). ours / best(ORT, OV): our ms/img over the faster of ONNX Runtime and OpenVINO at that config "
           f"and thread count; the goal is <= {GOAL_RATIO:g}. SGEMM-ceiling ms/img: the model's GFLOPs per image at "
           f"the SGEMM ceiling of that thread count; % of ceiling = that time / the series' time. 'not fp32': the "
           f"peer's logits were more than 1e-3 off PyTorch eager fp32's."]
    for path, doc in docs:
        e, p = doc["environment"], doc["protocol"]
        sw = e.get("software") or {}
        versions = ", ".join(f"{k} {sw[k]}" for k in ("torch", "timm", "onnxruntime", "openvino") if k in sw)
        who = doc["producer"]["name"] + " " + doc["producer"]["version"] + (f" ({versions})" if versions else "")
        winograd = sorted({str(r["cpu_winograd"]) for r in doc["results"] if r.get("cpu_winograd") is not None})
        if winograd:
            who += f", winograd {'/'.join(winograd)}"
        out.append(f"{os.path.basename(path)}: {who} on {e['host_cpu']} ({e['host_cores']} cores), warm-up "
                   f"{p['warmup_ms']:.0f} ms, >= {p['min_iterations']} runs and >= {p['min_duration_s']:.1f} s")
    if sgemm:
        for c in sgemm["ceiling"]:
            libs = []
            for r in sgemm["results"]:
                if r["threads"] == c["threads"] and r["status"] == "ok":
                    what = r["software"].get("blas") or "?"
                    if r["software"].get("kernel"):
                        what += " " + r["software"]["kernel"]
                    libs.append(f"{r['library']} ({what}) {r['gflops_median']:.1f}")
            out.append(f"SGEMM ceiling, {c['threads']} thread(s): {c['gflops']:.1f} GFLOP/s = the faster of "
                       + ", ".join(libs) + f" GFLOP/s ({sgemm['n']}^3 float32, median)")
    return out


# ---- chart ------------------------------------------------------------------------------------

def draw_chart(path: str, series: List[str], rows: List[Dict[str, Any]]) -> None:
    """Grouped bars per config and thread count (ms per image, log scale), the SGEMM-ceiling time
    of each group as a black line across it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(series), 1)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(7.0, 1.3 * len(rows) + 2.5), 5.2), dpi=120)
    for i, s in enumerate(series):
        for j, r in enumerate(rows):
            x = j - 0.4 + width * (i + 0.5)
            t = r["ms_per_image"].get(s)
            if t is not None:
                ax.bar([x], [t], width=width, color=f"C{i}")
            elif s in r["errors"]:
                ax.annotate("error", (x, 0.02), xycoords=("data", "axes fraction"), ha="center", rotation=90,
                            fontsize=7, color=f"C{i}")
    for j, r in enumerate(rows):
        if r["ceiling_ms_per_image"]:
            ax.hlines(r["ceiling_ms_per_image"], j - 0.45, j + 0.45, colors="black", linewidth=1.5)
    handles = [plt.Rectangle((0, 0), 1, 1, color=f"C{i}") for i in range(len(series))]
    handles.append(plt.Line2D([0], [0], color="black", linewidth=1.5))
    ax.legend(handles, series + ["SGEMM ceiling"], fontsize=8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{r['label'].replace(' b', chr(10) + 'b')}\n{r['threads']} thr" for r in rows], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("median latency per image (ms, log scale)")
    ax.set_title("ResNet-RS on the CPU, strict fp32: resnetrs vs PyTorch, ONNX Runtime, OpenVINO\n"
                 "(same machine, same run, same threads; lower is better)", fontsize=10)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def join(docs, sgemm) -> Dict[str, Any]:
    series, cells = collect(docs)
    rows = build_rows(series, cells, sgemm)
    return {"series": series, "goal_peers": list(GOAL_PEERS), "goal_ratio": GOAL_RATIO, "rows": rows,
            "scaling": scaling_rows(series, rows), "sgemm_ceiling": sgemm["ceiling"] if sgemm else None}


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="join_cpu_results.py", description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+", help="resnetrs-bench --json and cpu_peers.py --json files")
    p.add_argument("--sgemm", help="sgemm_ceiling.py --json file (without it, no ceiling columns)")
    p.add_argument("--markdown", help="also write the markdown tables here")
    p.add_argument("--json", help="write the joined rows here")
    p.add_argument("--png", help="draw the chart here (PNG)")
    a = p.parse_args(argv)
    try:
        docs = [(path, S.load(path)) for path in a.inputs]
        sgemm = G.load(a.sgemm) if a.sgemm else None
        joined = join(docs, sgemm)
    except (OSError, S.SchemaError, InputError) as e:
        print(f"join_cpu_results.py: {e}", file=sys.stderr)
        return 1
    if not joined["rows"]:
        print("join_cpu_results.py: the inputs hold no results", file=sys.stderr)
        return 1
    if OURS not in joined["series"]:
        print("join_cpu_results.py: note: no resnetrs-bench results among the inputs; no ratios", file=sys.stderr)
    series, rows, scaling = joined["series"], joined["rows"], joined["scaling"]
    text = main_table(series, rows, False)
    md = main_table(series, rows, True)
    legend = notes(docs, sgemm)
    print("\n".join(text))
    if scaling:
        print("\nSpeed-up with more threads (ms/img at the fewer threads / ms/img at the more):")
        print("\n".join(scaling_table(series, scaling, False)))
    print()
    print("\n".join(legend))
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(md) + "\n\n")
            if scaling:
                f.write("Speed-up with more threads (ms/img at the fewer threads / ms/img at the more):\n\n"
                        + "\n".join(scaling_table(series, scaling, True)) + "\n\n")
            f.write("\n".join(f"- {n}" for n in legend) + "\n")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(dict(joined, inputs=[os.path.basename(x) for x in a.inputs],
                           sgemm_input=os.path.basename(a.sgemm) if a.sgemm else None), f, indent=2)
            f.write("\n")
    if a.png:
        try:
            draw_chart(a.png, series, rows)
        except ImportError as e:
            print(f"join_cpu_results.py: cannot draw the chart: matplotlib is missing ({e})", file=sys.stderr)
            return 1
        print(f"chart written to {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
