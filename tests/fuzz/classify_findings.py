"""Sorts the fuzzer's findings into those inside libhdf5 and those in the project's code.

Each saved input (crash-*, timeout-*, leak-*, oom-*) is judged by its report in the fuzzer's log
(the report printed before "Test unit written to ..."), or, when the log has none, by running it
again alone; the report's first stack frame that is neither the sanitizers', libFuzzer's nor
libc's decides: a frame in libhdf5 makes it
an HDF5 finding (Debian 12's libhdf5 1.10.8 has faults on malformed files: docs/testing.md,
"Fuzzing"), anything else a project finding. Prints one line per finding; exit 1 if any finding
that reproduces is the project's, else 0 (one that does not reproduce alone is listed as unknown).
    python3 classify_findings.py FUZZ_BINARY FINDINGS_DIR [FUZZER_LOG]
"""
import os
import re
import subprocess
import sys

FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ in (\S+)(.*)$")
NOISE = ("__interceptor_", "__asan", "__sanitizer", "__lsan", "__ubsan", "fuzzer::", "libc.so", "libpthread",
         "raise", "abort", "__pthread_kill", "malloc", "calloc", "realloc", "operator new", "free")


LIBC = ("sysdeps/", "string/", "stdlib/", "nptl/", "signal/", "libc.so")


def first_frame(report: str, binary: str) -> str:
    exe = os.path.basename(binary)
    for line in report.splitlines():
        m = FRAME.match(line)
        if not m:
            continue
        where = m.group(1) + m.group(2)
        if "libhdf5" in m.group(2):
            return where.strip()
        if any(n in where for n in NOISE) or any(n in m.group(2) for n in LIBC):
            continue
        if f"/{exe}+0x" in m.group(2):  # the sanitizer runtime (interceptors such as strdup)
            continue
        return where.strip()
    # frames without a symbol: "#1 0x... (/lib/.../libhdf5_serial.so.103+0x1233e4)"
    for line in report.splitlines():
        if re.match(r"^\s*#\d+ 0x[0-9a-f]+ \(", line) and "libhdf5" in line:
            return line.strip()
    return ""


def reports_in_log(path: str) -> dict:
    out, buf = {}, []
    if not path or not os.path.exists(path):
        return out
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r"Test unit written to (\S+)", line)
            if m:
                out[os.path.basename(m.group(1))] = "".join(buf)
                buf = []
            else:
                buf.append(line)
                buf = buf[-400:]
    return out


def main() -> int:
    binary, findings = sys.argv[1], sys.argv[2]
    logged = reports_in_log(sys.argv[3] if len(sys.argv) > 3 else "")
    project = 0
    names = sorted(f for f in os.listdir(findings) if re.match(r"(crash|timeout|leak|oom|slow-unit)-", f))
    for name in names:
        # An RSS-limit report lists the largest live allocations (often libFuzzer's own, at start-up),
        # not the allocation that grew: an oom-* input is always run again alone with a malloc limit
        # below the RSS limit, so the report names the call that asked for the memory.
        oom = name.startswith("oom-")
        if not oom and name in logged and first_frame(logged[name], binary):
            report, rc = logged[name], 1
        else:
            limits = ["-timeout=10", "-rss_limit_mb=4096"] + (["-malloc_limit_mb=1024"] if oom else [])
            r = subprocess.run([binary, *limits, os.path.join(findings, name)],
                               capture_output=True, text=True, errors="replace", timeout=120)
            report, rc = r.stdout + r.stderr, r.returncode
        frame = first_frame(report, binary)
        kind = (re.search(r"ERROR: (?:AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer): ([\w-]+(?: [\w-]+)?)", report)
                or re.search(r"(runtime error)", report))
        kind = kind.group(1) if kind else f"exit {rc}"
        if rc != 0 and "libhdf5" in frame:
            print(f"  libhdf5   {name}: {kind} at {frame[:140]}")
        elif rc == 0:
            # In fork mode the job's report is not in the log, and some of libhdf5's heap faults
            # depend on the heap's state left by earlier inputs: listed, not failed.
            print(f"  (unknown) {name}: does not reproduce alone")
        else:
            project += 1
            print(f"  PROJECT   {name}: {kind} at {frame[:140] or '(no frame)'}")
    print(f"classify_findings: {len(names)} finding(s), {project} in the project's code")
    return 1 if project else 0


if __name__ == "__main__":
    sys.exit(main())
