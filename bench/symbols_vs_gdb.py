"""Symbol loading and lookup, pydbg.elf against gdb, on the system's libc and python3.

    python bench/symbols_vs_gdb.py              # 7 repetitions, markdown table on stdout
    python bench/symbols_vs_gdb.py --reps 15
    python bench/symbols_vs_gdb.py --files /usr/lib/x86_64-linux-gnu/libm.so.6

What is timed, per file:

- cold, a fresh process each repetition, wall time from spawn to exit:
  - gdb: `gdb -batch -nx -ex 'info symbol ADDR' FILE` (auto-loading and debuginfod off),
    which reads the file's minimal symbols (and its separate debug file, when
    /usr/lib/debug has one) and answers once;
  - pydbg: `python -c` importing pydbg.elf, opening the image, building its symbol table
    and answering `symbolize(ADDR)` once;
  - pydbg.elf alone: the same with the `pydbg` package's own `__init__` (which imports
    the whole debugger engine) left out, to show what the symbol code itself costs;
  - python: `python -c pass`, the interpreter's start, for scale;
- warm: load + first lookup inside a process that has already imported pydbg.elf;
- later lookups: the mean time of one `symbolize` once the table is built (pydbg), and
  one more `info symbol` command in a gdb that already has the file loaded
  ((time of 2001 commands - time of 1) / 2000).

Python children run with compiled bytecode, as an installed package would: the bench
drops PYTHONDONTWRITEBYTECODE for them and points PYTHONPYCACHEPREFIX at a temporary
directory (so the source tree gets no __pycache__), and one untimed run per variant
compiles it first.  The same ADDR (a function's address plus 16, from the middle of
.text) is asked in every run.  Each repetition runs the cold variants back to back, in
an order that alternates between repetitions; the table shows medians.  No bar is
enforced: the goal (pydbg no slower than gdb cold, later lookups under 0.1 ms) is printed
next to the numbers.
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
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from pydbg.elf import SymbolKind, open_image  # noqa: E402

TIMEOUT = 300.0
GDB_ARGS = ["-batch", "-nx", "-iex", "set debuginfod enabled off", "-iex", "set auto-load off"]

# Runs in the child.  BYPASS leaves the pydbg package __init__ out by registering a bare
# package object for `pydbg` before importing pydbg.elf.
_CHILD = """
import sys
if {bypass}:
    import types
    pkg = types.ModuleType("pydbg")
    pkg.__path__ = [{pkgdir!r}]
    sys.modules["pydbg"] = pkg
sys.path.insert(0, {root!r})
from pydbg.elf import open_image
print(open_image({path!r}).symbols.symbolize({addr}))
"""


def mapped_library(fragment: str) -> str | None:
    """The path of a library this process maps whose name contains `fragment`."""
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and fragment in os.path.basename(parts[5]):
                return os.path.realpath(parts[5])
    return None


def pick_address(path: str) -> int:
    """A function from the middle of .text, plus 16 (or inside .text if none)."""
    image = open_image(path)
    text = image.section(".text")
    funcs = sorted(
        s.address
        for s in image.symbols
        if s.kind is SymbolKind.FUNCTION and s.section == ".text" and s.size > 16
    )
    if funcs:
        return funcs[len(funcs) // 2] + 16
    assert text is not None, f"{path} has no .text"
    return text.addr + text.size // 2


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stdout.strip()


def gdb_later_lookup(gdb: str, path: str, addr: int, reps: int, env: dict[str, str]) -> float:
    """Seconds per extra `info symbol` in a gdb that has the file loaded."""
    with tempfile.TemporaryDirectory() as tmp:
        many = os.path.join(tmp, "many.gdb")
        with open(many, "w") as f:
            f.write(f"info symbol {addr:#x}\n" * 2001)
        one = os.path.join(tmp, "one.gdb")
        with open(one, "w") as f:
            f.write(f"info symbol {addr:#x}\n")
        t_many, t_one = [], []
        for _ in range(max(3, reps // 2)):
            t_many.append(timed([gdb, *GDB_ARGS, "-x", many, path], env)[0])
            t_one.append(timed([gdb, *GDB_ARGS, "-x", one, path], env)[0])
    return max(0.0, statistics.median(t_many) - statistics.median(t_one)) / 2000


def pydbg_later_lookup(path: str, reps: int) -> tuple[float, float]:
    """(median seconds for load + first lookup in a warm process, seconds per later
    lookup)."""
    from pydbg.elf import clear_cache

    clear_cache()
    text = open_image(path).section(".text")
    assert text is not None
    addresses = [text.addr + (i * 7919) % text.size for i in range(5000)]
    warm = []
    for _ in range(reps):
        clear_cache()
        start = time.perf_counter()
        symbols = open_image(path).symbols
        symbols.symbolize(addresses[0])
        warm.append(time.perf_counter() - start)
    start = time.perf_counter()
    for addr in addresses:
        symbols.symbolize(addr)
    return statistics.median(warm), (time.perf_counter() - start) / len(addresses)


def bench_file(gdb: str, path: str, reps: int, pycache: str) -> dict[str, float | str]:
    addr = pick_address(path)
    env = dict(os.environ, DEBUGINFOD_URLS="")
    py_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    py_env["PYTHONPYCACHEPREFIX"] = pycache
    python = sys.executable
    pkgdir = os.path.join(ROOT, "pydbg")

    def child(bypass: bool) -> list[str]:
        code = _CHILD.format(bypass=bypass, pkgdir=pkgdir, root=ROOT, path=path, addr=addr)
        return [python, "-c", code]

    runs: dict[str, Callable[[], tuple[float, str]]] = {
        "gdb": lambda: timed([gdb, *GDB_ARGS, "-ex", f"info symbol {addr:#x}", path], env),
        "pydbg": lambda: timed(child(False), py_env),
        "pydbg.elf": lambda: timed(child(True), py_env),
        "python": lambda: timed([python, "-c", "pass"], py_env),
    }
    for run in runs.values():  # compile the bytecode, fill the page cache
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    answers: dict[str, str] = {}
    order = list(runs)
    for rep in range(reps):
        for name in order if rep % 2 == 0 else reversed(order):
            elapsed, out = runs[name]()
            times[name].append(elapsed)
            answers.setdefault(name, out)
    warm, later = pydbg_later_lookup(path, reps)
    row: dict[str, float | str] = {name: statistics.median(v) for name, v in times.items()}
    row["warm"] = warm
    row["later_pydbg"] = later
    row["later_gdb"] = gdb_later_lookup(gdb, path, addr, reps, env)
    row["addr"] = f"{addr:#x}"
    row["gdb_says"] = answers["gdb"].splitlines()[0] if answers["gdb"] else ""
    row["pydbg_says"] = answers["pydbg"]
    debug = open_image(path).debug_image
    row["debug"] = debug.path if debug is not None else ""
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="repetitions (median shown)")
    parser.add_argument("--files", nargs="*", help="files to bench (default: libc, python3)")
    args = parser.parse_args()
    gdb = shutil.which("gdb")
    if gdb is None:
        print("gdb is not installed: nothing to compare with", file=sys.stderr)
        return 1
    files = args.files or [
        f
        for f in (
            mapped_library("libc.so") or mapped_library("libc-"),
            os.path.realpath(sys.executable),
            mapped_library("libpython"),
        )
        if f
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pydbg-bench-pycache-") as pycache:
        for path in files:
            print(f"benchmarking {path} ...", file=sys.stderr)
            rows.append((path, bench_file(gdb, path, args.reps, pycache)))

    ms = 1e3
    print(f"Median of {args.reps} cold runs per cell (fresh process each), in ms; "
          "lookups in microseconds.\n")  # fmt: skip
    print(
        "| file | gdb cold | pydbg cold | gdb / pydbg | pydbg.elf alone cold | gdb / pydbg.elf"
        " | python start | pydbg warm load+lookup | later lookup pydbg | later lookup gdb |"
    )
    print("|" + " --- |" * 10)
    for path, r in rows:
        gdb_t, py_t, elf_t = float(r["gdb"]), float(r["pydbg"]), float(r["pydbg.elf"])
        print(
            f"| {os.path.basename(path)} | {gdb_t * ms:.0f} | {py_t * ms:.0f} | "
            f"{gdb_t / py_t:.2f}x | {elf_t * ms:.0f} | {gdb_t / elf_t:.2f}x | "
            f"{float(r['python']) * ms:.0f} | {float(r['warm']) * ms:.1f} | "
            f"{float(r['later_pydbg']) * 1e6:.1f} | {float(r['later_gdb']) * 1e6:.1f} |"
        )
    print()
    for path, r in rows:
        debug = f" (debug file {r['debug']})" if r["debug"] else ""
        print(f"- {path}{debug}: `info symbol {r['addr']}`: gdb `{r['gdb_says']}`, "
              f"pydbg `{r['pydbg_says']}`")  # fmt: skip
    print("\nGoal: pydbg no slower than gdb cold (gdb / pydbg >= 1.00x), later lookups < 100 us.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
