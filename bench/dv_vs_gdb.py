"""`dv` (pydbg) against `info args` + `info locals` (gdb) in the frames of a real program:
python3.11d (Debian's python3.11-dbg, DWARF 5 in the binary) stopped in builtin_abs under
CPython's eval loop, and the dwvars target's libc frames (glibc's separate debug file,
compressed sections).

    python bench/dv_vs_gdb.py            # 5 repetitions, markdown table on stdout

Results of one run: bench/DV.md.

Timed per frame 0..4:
- pydbg cold: the first `dv` in that frame in a fresh Python process (what a user waits
  for the first time: opening the DWARF, decompressing it, parsing the unit and the
  location lists);
- pydbg warm: the same `dv` again (the scope, location lists and types are cached);
- gdb: a batch gdb that stops at the same place once with and once without
  `frame N; info args; info locals`, the difference (gdb reads all DWARF of the file
  at the stop already, so this is its warm cost).
Medians of the repetitions.  No bar is enforced; the goal (< 100 ms) is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PYTHON = "/usr/bin/python3.11d"
FRAMES = 5


def child(frame: int) -> None:
    """In a fresh process (nothing cached): print the cold and warm dv times of a frame."""
    import pydbg
    from pydbg.constants import DEBUG_STATUS_GO

    with pydbg.create_client() as client:
        client.create_process([PYTHON, "-c", "abs(-1)"])
        client.control.wait_for_event(timeout=30)
        client.control.execute("bp python3_11d!builtin_abs")
        client.control.set_execution_status(DEBUG_STATUS_GO)
        client.control.wait_for_event(timeout=30)
        client.symbols.set_scope_frame_by_index(frame)
        times = []
        for _ in range(2):
            start = time.perf_counter()
            group = client.symbols.get_scope_symbol_group()
            _ = [e.value_text for e in group.entries()]  # what dv prints
            times.append(time.perf_counter() - start)
    print(times[0], times[1])


def pydbg_times() -> list[tuple[float, float]]:
    out = []
    for n in range(FRAMES):
        text = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        out.append((float(text[-2]), float(text[-1])))
    return out


def gdb_time(frame: int | None) -> float:
    commands = ["break builtin_abs", "run"]
    if frame is not None:
        commands += [f"frame {frame}", "info args", "info locals"]
    argv = ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off"]
    for command in [*commands, "kill"]:
        argv += ["-ex", command]
    start = time.perf_counter()
    subprocess.run([*argv, "--args", PYTHON, "-c", "abs(-1)"], capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    if not os.path.exists(PYTHON):
        sys.exit("python3.11-dbg is not installed (apt-get install python3.11-dbg)")
    ours: list[list[tuple[float, float]]] = []
    theirs: list[list[float]] = []
    for _ in range(args.reps):
        ours.append(pydbg_times())
        base = gdb_time(None)
        theirs.append([max(0.0, gdb_time(n) - base) for n in range(FRAMES)])
    print("| frame | pydbg cold dv | pydbg warm dv | gdb info args+locals |")
    print("| --- | --- | --- | --- |")
    for n in range(FRAMES):
        cold = statistics.median(r[n][0] for r in ours) * 1000
        warm = statistics.median(r[n][1] for r in ours) * 1000
        gdb = statistics.median(r[n] for r in theirs) * 1000
        print(f"| {n} | {cold:.0f} ms | {warm:.1f} ms | {gdb:.0f} ms |")
    print("\ngoal: dv < 100 ms")


if __name__ == "__main__":
    main()
