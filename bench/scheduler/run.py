#!/usr/bin/env python3
"""Scheduler benchmark: herd's scheduler against Pacemaker's crm_simulate on the same generated CIB.

Usage (from the repository root, after `mvn -pl herd-scheduler compile`):
    bench/scheduler/run.py [--sizes 10x1000,100x10000] [--crm-timeout 900] [--out bench/results/scheduler.md]

For each size NODESxRESOURCES it writes a CIB with gen_cib.py, then measures
  - herd: reading the CIB and scheduling it, in process (best of three, after JIT warm-up in the same
    JVM), and the whole `herd simulate` process from start to exit;
  - crm_simulate -R (Pacemaker's scheduler on the same file, printing the transition summary), when
    installed (Debian: apt-get install pacemaker-cli-utils);
and how many summary lines the two plans share. Results go to a Markdown table.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLASSES = os.environ.get("HERD_SCHEDULER_CLASSES", os.path.join(ROOT, "herd-scheduler", "target", "classes"))


def java():
    home = os.environ.get("JAVA_HOME")
    return os.path.join(home, "bin", "java") if home else "java"


def summary(text):
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("Transition Summary:"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        if inside and line.strip():
            lines.append(re.sub(r"\s+", " ", line.strip()))
    return lines


def timed(argv, timeout):
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", time.monotonic() - start
    return proc.returncode, proc.stdout, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10x1000,100x10000")
    ap.add_argument("--crm-timeout", type=float, default=900)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "scheduler.md"))
    args = ap.parse_args()
    if not os.path.isdir(CLASSES):
        sys.exit("build first: mvn -B -q -pl herd-scheduler compile")
    crm = shutil.which("crm_simulate")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            nodes, resources = (int(x) for x in size.split("x"))
            cib = os.path.join(tmp, f"cluster-{nodes}x{resources}.xml")
            with open(cib, "w") as f:
                subprocess.run([sys.executable, os.path.join(HERE, "gen_cib.py"), str(nodes), str(resources)], stdout=f, check=True)
            rc, out, _ = timed([java(), "-cp", CLASSES, "herd.scheduler.simulate.Simulator", "--timing", cib], 3600)
            m = re.search(r"parse_ms=(\d+) schedule_ms=(\d+) changes=(\d+)", out)
            parse_ms, schedule_ms, changes = (int(m.group(i)) for i in (1, 2, 3)) if m else (None, None, None)
            rc, herd_out, herd_wall = timed([java(), "-cp", CLASSES, "herd.scheduler.simulate.Simulator", cib], 3600)
            herd_lines = summary(herd_out)
            crm_wall, crm_lines, note = None, [], "crm_simulate not installed"
            if crm:
                rc, crm_out, crm_wall = timed([crm, "-x", cib, "-R"], args.crm_timeout)
                note = "" if rc is not None else f"crm_simulate gave no answer in {args.crm_timeout:.0f} s"
                crm_lines = summary(crm_out)
                if rc is None:
                    crm_wall = None
            shared = len(set(herd_lines) & set(crm_lines)) if crm_lines else None
            rows.append((nodes, resources, parse_ms, schedule_ms, herd_wall, crm_wall, len(herd_lines), len(crm_lines), shared, note))
            print(rows[-1], flush=True)
    with open(args.out, "w") as f:
        f.write("# Scheduler benchmark\n\n")
        f.write("Generated clusters (bench/scheduler/gen_cib.py: primitives, groups of three, a few clones, "
                "location preferences and bans, colocations, mandatory orders; ~80 % already running, 1 % failed).\n\n")
        f.write("| nodes | resources | herd parse ms | herd schedule ms | herd process s | crm_simulate -R s | speed-up (process) "
                "| summary lines herd / Pacemaker / shared | note |\n|---|---|---|---|---|---|---|---|---|\n")
        for n, r, p, s, hw, cw, hl, cl, sh, note in rows:
            speed = f"{cw / hw:.1f}x" if cw and hw else "-"
            f.write(f"| {n} | {r} | {p} | {s} | {hw:.1f} | {'-' if cw is None else f'{cw:.1f}'} | {speed} | "
                    f"{hl} / {cl} / {'-' if sh is None else sh} | {note} |\n")
        f.write("\nRe-run: `mvn -B -q -pl herd-scheduler compile && bench/scheduler/run.py` "
                "(`--sizes 1000x100000` for the largest cluster). The machine is shared, so figures vary between runs.\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
