"""Source-line lookups in libc's separate debug file, pydbg.elf against gdb.

    python bench/lines.py             # 5 repetitions, markdown table on stdout
    python bench/lines.py --reps 9

Queries (the same for both): `malloc.c:3300` (file:line -> addresses) and the address
of `malloc` + 0x39 (address -> line).  libc's debug file is found by its build id under
/usr/lib/debug/.build-id (Debian's libc6-dbg).

- pydbg first lookup: in a fresh process that has imported pydbg.elf, the wall time of
  open_image(libc) + the first query of one kind (the line index is built then);
  each kind is timed in its own process so that neither pays for the other.
- pydbg later lookups: the mean of 1000 more queries of that kind (other lines / other
  addresses of malloc) in the same process.
- pydbg address first without .debug_aranges: the same on a copy of the debug file
  with that section removed (objcopy), as clang leaves it: the unit is found by its
  first DIE's low_pc/high_pc or DW_AT_ranges.
- gdb: `gdb -batch -nx -ex 'info line FILE:N' -ex 'info line *ADDR' libc.so.6`, wall
  time from spawn to exit (median), and gdb with no query, to show what the two queries
  add to loading the file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
FILE, LINE = "malloc.c", 3300
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = r"""
import sys, time
sys.path.insert(0, {root!r})
from pydbg.elf import open_image
kind = {kind!r}
t0 = time.perf_counter()
image = open_image({path!r})
lines = image.lines
if kind == "line":
    got = lines.addresses_for_line({file!r}, {line})
else:
    got = lines.find_address({addr})
t1 = time.perf_counter()
n = 1000
if kind == "line":
    for i in range(n):
        lines.addresses_for_line({file!r}, {line} + i % 50)
else:
    for i in range(n):
        lines.find_address({addr} + i % 700)
t2 = time.perf_counter()
print(t1 - t0, (t2 - t1) / n, got)
"""


def _malloc_address() -> int:
    sys.path.insert(0, ROOT)
    from pydbg.elf import open_image

    symbol = open_image(LIBC).symbols.lookup("malloc")
    assert symbol is not None
    return int(symbol.address) + 0x39


def _pydbg(kind: str, addr: int, path: str = LIBC) -> tuple[float, float, str]:
    code = _CHILD.format(root=ROOT, kind=kind, path=path, file=FILE, line=LINE, addr=addr)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    first, later, got = out.split(" ", 2)
    return float(first), float(later), got.strip()


def _debug() -> str:
    sys.path.insert(0, ROOT)
    from pydbg.elf import open_image

    found = open_image(LIBC).find_debug_file()
    if found is None:
        raise SystemExit("no debug file for libc: install libc6-dbg")
    return found


def _gdb(queries: list[str]) -> tuple[float, str]:
    args = ["gdb", "-batch", "-nx", "-iex", "set debuginfod enabled off"]
    for q in queries:
        args += ["-ex", q]
    t0 = time.perf_counter()
    out = subprocess.run(args + [LIBC], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t0, out.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    reps = parser.parse_args().reps
    addr = _malloc_address()
    rows: dict[str, list[float]] = {}
    answers: dict[str, str] = {}
    queries = [f"info line {FILE}:{LINE}", f"info line *{addr:#x}"]
    tmp = tempfile.mkdtemp()
    bare = os.path.join(tmp, "libc-no-aranges.debug")
    subprocess.run(["objcopy", "--remove-section", ".debug_aranges", _debug(), bare], check=True)
    for _ in range(reps):
        for kind in ("line", "address"):
            first, later, got = _pydbg(kind, addr)
            rows.setdefault(f"pydbg {kind} first", []).append(first)
            rows.setdefault(f"pydbg {kind} later", []).append(later)
            answers[f"pydbg {kind}"] = got
        first, later, got = _pydbg("address", addr, bare)
        rows.setdefault("pydbg address first, no .debug_aranges", []).append(first)
        answers["pydbg address, no aranges"] = got
        wall, out = _gdb(queries)
        rows.setdefault("gdb both queries", []).append(wall)
        answers["gdb"] = out
        rows.setdefault("gdb no query", []).append(_gdb([])[0])
    shutil.rmtree(tmp)
    print(f"libc {LIBC}; {FILE}:{LINE}; address {addr:#x}; {reps} repetitions, medians\n")
    print("| measurement | time |\n|---|---|")
    for name, values in rows.items():
        value = statistics.median(values)
        text = f"{value * 1e6:.1f} µs" if value < 0.01 else f"{value:.3f} s"
        print(f"| {name} | {text} |")
    print()
    for name, text in answers.items():
        print(f"{name}: {text}")


if __name__ == "__main__":
    main()
