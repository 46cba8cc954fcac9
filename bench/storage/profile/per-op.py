#!/usr/bin/env python3
"""Reads `perf script -F comm,pid,tid,ip,sym,dso` (samples with call chains, `perf record -a -g`)
on stdin and prints, per operation served, the CPU time of the server, of fio and of the idle
cores, and the inclusive time of a fixed list of kernel and JVM functions in the server and in fio.

    per-op.py SERVER_PID OPERATIONS SAMPLE_HZ TARGET

OPERATIONS is how many operations fio completed in the recorded window (its rate times the
window); a sample stands for 1/SAMPLE_HZ s of one core. Inclusive: a sample counts for a function
when the function is anywhere in its call chain (once per sample). Prints Markdown rows.
"""
import collections
import re
import sys

def anywhere(needle):
    """Counts a sample when a frame of its call chain names the function (inclusive time)."""
    return lambda frames: any(needle in symbol for symbol, _ in frames)


def landed(where):
    """Counts a sample by where it landed, its leaf frame (symbol, dso): self time."""
    return lambda frames: bool(frames) and where(*frames[0])


STUBS = "StubRoutines (initialstubs)"
# (label, which samples count): what a read or write of NBD data costs on loopback
FUNCTIONS = [
    ("file read (pread64)", anywhere("__x64_sys_pread64")),
    ("file write (pwrite64)", anywhere("__x64_sys_pwrite64")),
    ("socket receive (tcp_recvmsg)", anywhere("tcp_recvmsg")),
    ("socket send (tcp_sendmsg)", anywhere("tcp_sendmsg")),
    ("copy to user (_copy_to_iter)", anywhere("_copy_to_iter")),
    ("copy from user (_copy_from_iter, copy_folio_from_iter_atomic)", anywhere("copy_from_iter")),
    ("softirqs run in this thread (handle_softirqs)", anywhere("handle_softirqs")),
    ("loopback transmit (tcp_write_xmit)", anywhere("tcp_write_xmit")),
    ("interrupts held off until (_raw_spin_unlock_irqrestore)", anywhere("_raw_spin_unlock_irqrestore")),
    ("futex", anywhere("__x64_sys_futex")),
    ("JVM stubs, the CRC32C among them (StubRoutines, self)", landed(lambda symbol, dso: symbol.startswith(STUBS))),
    ("other compiled Java code (self)", landed(lambda symbol, dso: dso.endswith(".map") and not symbol.startswith(STUBS))),
    ("the JVM's own code: compilers, collector, runtime (libjvm.so, self)", landed(lambda symbol, dso: dso.endswith("libjvm.so"))),
]


def samples(stream):
    """Yields (comm, pid, frames) per sample, frames leaf first as (symbol, dso)."""
    head, frames = None, []
    for line in stream:
        if not line.strip():
            if head:
                yield head[0], head[1], frames
            head, frames = None, []
        elif not line[0].isspace():
            match = re.match(r"(.*?)\s+(\d+)/(\d+)\s*$", line.rstrip())
            head = (match.group(1), int(match.group(2))) if match else None
        else:
            match = re.match(r"\s+[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$", line)
            if match:
                frames.append((match.group(1), match.group(2)))
    if head:
        yield head[0], head[1], frames


def main():
    server_pid, operations, hz, target = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    per_group = collections.Counter()
    inclusive = {group: collections.Counter() for group in ("server", "fio")}
    for comm, pid, frames in samples(sys.stdin):
        group = "server" if pid == server_pid else "fio" if comm == "fio" else "idle" if pid == 0 else "other"
        per_group[group] += 1
        if group not in inclusive:
            continue
        for label, counts in FUNCTIONS:
            inclusive[group][label] += counts(frames)
    micros = 1e6 / hz / operations

    decimals = 2 if per_group["server"] * micros < 50 else 1  # 4 KiB operations cost a few µs

    def cell(count):
        return f"{count * micros:,.{decimals}f}"

    print(f"| {target} | whole process (the idle cores: {cell(per_group['idle'])}, other processes: "
          f"{cell(per_group['other'])}) | {cell(per_group['server'])} | {cell(per_group['fio'])} |")
    for label, _ in FUNCTIONS:
        print(f"| {target} | {label} | {cell(inclusive['server'][label])} | {cell(inclusive['fio'][label])} |")

if __name__ == "__main__":
    main()
