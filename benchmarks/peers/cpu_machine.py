#!/usr/bin/env python3
"""The CPU a benchmark runs on: its model name, the cores this process may use, and a short slug
of both for folder names (benchmarks/results/<date>-cpu-<slug>/). Standard library only.

  cpu_machine.py            prints the slug, e.g. intel-xeon-2c
"""
from __future__ import annotations

import os
import platform
import re
import sys

# Words that say nothing about which CPU it is.
_NOISE = {"r", "tm", "cpu", "processor", "core", "with", "radeon", "graphics", "w"}


def host_cpu() -> str:
    """The model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def host_cores() -> int:
    """The cores this process may run on (its affinity mask), which is what the engines default to."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def machine_slug(cpu_name: str, cores: int) -> str:
    """'Intel(R) Xeon(R) Processor', 2 -> 'intel-xeon-2c'; 'AMD EPYC 7B13 64-Core Processor', 8 ->
    'amd-epyc-7b13-8c'. Trademarks, clock speeds and filler words are dropped."""
    text = cpu_name.lower()
    text = re.sub(r"@\s*[\d.]+\s*[gm]hz", " ", text)   # "@ 2.60GHz"
    text = re.sub(r"\b\d+-core\b", " ", text)           # "64-Core" (the cores used come last)
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _NOISE]
    return "-".join(words[:5] + [f"{cores}c"]) if words else f"cpu-{cores}c"


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print("usage: cpu_machine.py   (prints this machine's slug)", file=sys.stderr)
        sys.exit(2)
    print(machine_slug(host_cpu(), host_cores()))
