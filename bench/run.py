"""pydbg's benchmark suite: every workload, raw C ptrace against pydbg, in one invocation.

    python bench/run.py                  # full run: 5 repetitions, pinned and unpinned
    python bench/run.py --quick          # 1 repetition
    python bench/run.py --json           # one JSON object per table row on stdout
    python bench/run.py --write-results  # also write bench/RESULTS.md
    python bench/run.py --only int3,signal --mode pinned --reps 9   # a focused look
    python bench/run.py --only engine-step,engine-step-all --mode pinned

It builds raw_tracer.c and the targets in bench/targets/ with gcc -O2 into a temporary
directory, finds the addresses the workloads need in the targets' symbol tables
(pyelftools), and for each repetition runs every workload twice back to back: once with
the raw C tracer, once with pydbg (pydbg_worker.py), alternating which goes first.  Both
take the same arguments and print one JSON line.  The ratio of a row is the median of the
per-repetition ratios, each from a pair measured seconds apart, so slow drift of a noisy
machine cancels; raw and pydbg columns are medians too.  The engine-step workloads
measure pydbg's DbgEng-style engine (create_client, set_execution_status, wait_for_event)
and are compared with the raw tracer's plain `step` workload on the same arguments.

Every workload runs "pinned" (tracer and target on the same CPU, where ptrace round trips
are fastest and most stable) and "unpinned" (the scheduler decides; 3-6x slower and
noisier).  Pinning is done by setting this process's affinity before starting the tracer,
which the tracer and its target inherit.

Nothing here asserts on timing.  The bars are reported, not enforced (exit status 0 even
when one fails); a workload that errors is reported as such and makes --write-results
refuse, so RESULTS.md never shows numbers from a broken extension (nor from a run during
which the extension was rebuilt).

Every process started is killed and reaped: the tracers run under timeouts, their targets
are seized with EXITKILL, the attach target is killed in a finally, and this process is a
child subreaper, so anything orphaned on the way is killed and reaped at the end (and
reported, since it would mean pydbg failed to clean up).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
WORKER = BENCH / "pydbg_worker.py"

# Sizes chosen so one run takes about a second pinned on the reference machine.
STEPS = 20_000
TRACE_STEPS = 50_000
HITS = 10_000
SIGNALS = 50_000  # (signal stops got cheaper: 20000 took well under 0.1 s pinned)
SYSCALLS = 50_000  # getpid calls: two syscall stops each
ATTACH_CYCLES = 10
ATTACH_THREADS = 100
READ_REPS = 20
READ_SIZE = 16 << 20
IDLE_SECONDS = 2.0
RUN_TIMEOUT = 180.0  # per tracer run; a hung extension costs this much, then is killed

PR_SET_CHILD_SUBREAPER = 36

Json = dict[str, Any]


# -- what is measured and what counts as good ---------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the table: how to read a run's JSON and how to judge the medians.

    `better` says which direction is good: "higher" (rates: ratio = pydbg/raw), "lower"
    (times and stop counts: ratio = raw/pydbg, so a higher ratio is better everywhere),
    or "none" (no meaningful ratio).  A bar is a minimum ratio, a maximum pydbg value, or
    a bound the pydbg value must stay below.
    """

    name: str
    workload: str  # the run that produces it
    unit: str
    better: Literal["higher", "lower", "none"]
    key: str = "value"  # JSON key of the value in both runs
    raw_key: str | None = None  # raw's key when it differs
    min_ratio: float | None = None
    max_pydbg: float | None = None
    pydbg_below: float | None = None
    bar: str = ""

    def ratio(self, raw: float, pydbg: float) -> float | None:
        if self.better == "higher":
            return pydbg / raw if raw > 0 else None
        if self.better == "lower":
            return raw / pydbg if pydbg > 0 else None
        return None

    def passed(self, ratio: float | None, pydbg: float | None) -> bool | None:
        if self.min_ratio is not None:
            return ratio is not None and ratio >= self.min_ratio
        if self.max_pydbg is not None:
            return pydbg is not None and pydbg <= self.max_pydbg
        if self.pydbg_below is not None:
            return pydbg is not None and pydbg < self.pydbg_below
        return None


ROWS = [
    Row("step", "step", "steps/s", "higher", min_ratio=0.85, bar=">= 0.85x"),
    Row("engine-step", "engine-step", "steps/s", "higher", min_ratio=0.8, bar=">= 0.8x"),
    Row("engine-step-all", "engine-step-all", "steps/s", "higher"),
    Row("trace", "trace", "steps/s", "higher", min_ratio=0.97, bar=">= 0.97x"),
    Row("trace-reg", "trace-reg", "steps/s", "higher", min_ratio=0.97, bar=">= 0.97x"),
    Row("int3", "int3", "hits/s", "higher", min_ratio=0.75, bar=">= 0.75x"),
    Row("int3-native", "int3-native", "hits/s", "higher", min_ratio=0.95, bar=">= 0.95x int3"),
    Row(
        "engine-int3-go", "engine-int3-go", "hits/s", "higher", min_ratio=0.75, bar=">= 0.75x int3"
    ),
    Row(
        "engine-int3-cond",
        "engine-int3-cond",
        "hits/s",
        "higher",
        min_ratio=0.95,
        bar=">= 0.95x int3",
    ),
    Row("hwbp", "hwbp", "hits/s", "higher"),
    Row("hwbp-native", "hwbp-native", "hits/s", "higher", bar="(vs raw hwbp)"),
    Row("engine-hwbp-cond", "engine-hwbp-cond", "hits/s", "higher", bar="(vs raw hwbp)"),
    Row("signal", "signal", "signals/s", "higher", min_ratio=0.8, bar=">= 0.8x"),
    Row("engine-signal", "engine-signal", "signals/s", "higher", min_ratio=0.5, bar=">= 0.5x"),
    Row(
        "engine-signal-filtered",
        "engine-signal-filtered",
        "signals/s",
        "higher",
        min_ratio=0.9,
        bar=">= 0.9x",
    ),
    Row("syscall-count", "syscall-count", "syscalls/s", "higher", min_ratio=0.8, bar=">= 0.8x"),
    Row("engine-syscall-callback", "engine-syscall-callback", "syscalls/s", "higher"),
    Row("attach100", "attach100", "ms", "lower", min_ratio=0.5, bar="<= 2x raw time"),
    Row("detach100", "attach100", "ms", "lower", key="detach_ms"),
    Row("read16m", "read16m", "MiB/s", "higher", min_ratio=0.9, bar=">= 0.9x"),
    # No ratio: raw C has no allocating read to compare with (read16m is the like-for-like).
    Row("read16m-alloc", "read16m", "MiB/s", "none", key="alloc_value", raw_key="value"),
    Row("branch1000", "branch1000", "stops", "lower", max_pydbg=4, bar="<= 4 stops"),
    Row("idle", "idle", "%CPU", "none", pydbg_below=2.0, bar="< 2% CPU"),
]

WORKLOADS = list(dict.fromkeys(row.workload for row in ROWS))

# The raw side of workloads that have no raw_tracer.c workload of their own: the engine's
# STEP_INTO loop is compared with raw single steps on the same target, same arguments.
# Declined native hits are compared with the raw int3 loop: what a hit costs a tracer that
# has to look at it.
RAW_WORKLOAD = {
    "engine-step": "step",
    "engine-step-all": "step",
    "int3-native": "int3",
    "hwbp-native": "hwbp",
    "engine-int3-go": "int3",
    "engine-int3-cond": "int3",
    "engine-hwbp-cond": "hwbp",
    "engine-signal": "signal",
    "engine-signal-filtered": "signal",
    "engine-syscall-callback": "syscall-count",
}


# -- building -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    """Paths of the freshly built binaries and the symbol offsets the workloads need."""

    raw: Path
    targets: dict[str, Path]
    offsets: dict[str, int]  # "target:symbol" -> address minus the load base


SYMBOLS = {
    "spin": ["bench_ready"],
    "call_loop": ["bench_hit"],
    "bigmem": ["bench_ready", "bench_buf"],
    "block": ["bench_block", "bench_block_target"],
    "signal_loop": ["bench_handled"],
}


def gcc(source: Path, output: Path, *extra: str) -> None:
    subprocess.run(
        ["gcc", "-O2", "-g", "-Wall", "-Wextra", "-o", str(output), str(source), *extra],
        check=True,
    )


def symbol_offsets(path: Path, names: Sequence[str]) -> dict[str, int]:
    """Offsets of symbols from the load base, the start of the mapping at file offset 0.

    For a PIE the first PT_LOAD is at vaddr 0 and the offset is the symbol value; for a
    fixed-address executable it is the value minus the first segment's address.  Either
    way the tracers add the base they read in /proc/PID/maps (ASLR-proof).
    """
    with path.open("rb") as f:
        elf = ELFFile(f)
        first = min(s["p_vaddr"] for s in elf.iter_segments() if s["p_type"] == "PT_LOAD")
        symtab = elf.get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            raise RuntimeError(f"{path}: no symbol table")
        offsets = {}
        for name in names:
            found = symtab.get_symbol_by_name(name)
            if not found:
                raise RuntimeError(f"{path}: no symbol {name}")
            offsets[name] = int(found[0]["st_value"]) - (first & ~0xFFF)
        return offsets


def build(out: Path) -> Build:
    raw = out / "raw_tracer"
    gcc(BENCH / "raw_tracer.c", raw)
    targets: dict[str, Path] = {}
    offsets: dict[str, int] = {}
    for source in sorted((BENCH / "targets").glob("*.c")):
        binary = out / source.stem
        gcc(source, binary, "-pthread")
        targets[source.stem] = binary
        for name, offset in symbol_offsets(binary, SYMBOLS.get(source.stem, [])).items():
            offsets[f"{source.stem}:{name}"] = offset
    return Build(raw, targets, offsets)


def workload_args(b: Build, workload: str, attach_pid: int) -> list[str]:
    """Arguments shared by raw_tracer and pydbg_worker (see the top of raw_tracer.c)."""
    t, off = b.targets, b.offsets

    def sym(name: str) -> str:
        return hex(off[name])

    args: dict[str, list[str]] = {
        "step": [str(STEPS), str(t["spin"]), sym("spin:bench_ready")],
        "engine-step": [str(STEPS), str(t["spin"]), sym("spin:bench_ready")],
        "engine-step-all": [str(STEPS), str(t["spin"]), sym("spin:bench_ready")],
        "trace": [str(TRACE_STEPS), str(t["spin"]), sym("spin:bench_ready")],
        "trace-reg": [str(TRACE_STEPS), str(t["spin"]), sym("spin:bench_ready")],
        "int3": [str(HITS), str(t["call_loop"]), sym("call_loop:bench_hit")],
        "int3-native": [str(HITS), str(t["call_loop"]), sym("call_loop:bench_hit")],
        "hwbp": [str(HITS), str(t["call_loop"]), sym("call_loop:bench_hit")],
        "hwbp-native": [str(HITS), str(t["call_loop"]), sym("call_loop:bench_hit")],
        "engine-int3-go": [str(HITS), str(t["call_loop"]), sym("call_loop:bench_hit")],
        "engine-int3-cond": [str(HITS), str(t["call_loop"]), sym("call_loop:bench_hit")],
        "engine-hwbp-cond": [str(HITS), str(t["call_loop"]), sym("call_loop:bench_hit")],
        "signal": [str(SIGNALS), str(t["signal_loop"])],
        "engine-signal": [str(SIGNALS), str(t["signal_loop"]), sym("signal_loop:bench_handled")],
        "engine-signal-filtered": [
            str(SIGNALS),
            str(t["signal_loop"]),
            sym("signal_loop:bench_handled"),
        ],
        "syscall-count": [str(SYSCALLS), str(t["getpid_loop"])],
        "engine-syscall-callback": [str(SYSCALLS), str(t["getpid_loop"])],
        "attach100": [str(ATTACH_CYCLES), str(attach_pid)],
        "read16m": [
            str(READ_REPS),
            str(t["bigmem"]),
            sym("bigmem:bench_ready"),
            sym("bigmem:bench_buf"),
            str(READ_SIZE),
        ],
        "branch1000": [str(t["block"]), sym("block:bench_block"), sym("block:bench_block_target")],
        "idle": [str(t["idle"]), str(IDLE_SECONDS)],
    }
    return [workload, *args[workload]]


# -- running --------------------------------------------------------------------------------


@contextlib.contextmanager
def affinity(cpus: set[int]) -> Iterator[None]:
    """Run the body with this thread's CPU set narrowed; processes started inside inherit it."""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_json(argv: list[str]) -> Json:
    """Run one tracer process and return its JSON line; raise RuntimeError on failure."""
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=worker_env(), cwd=ROOT
        )
    except subprocess.TimeoutExpired as e:  # subprocess.run killed and reaped it
        raise RuntimeError(f"timed out after {e.timeout:.0f} s") from None
    if proc.returncode != 0:
        how = (
            f"killed by {signal.Signals(-proc.returncode).name}"
            if proc.returncode < 0
            else f"exit status {proc.returncode}"
        )
        tail = proc.stderr.strip().splitlines()[-1:] or [""]
        raise RuntimeError(f"{how}: {tail[0]}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError("printed no result")
    result: Json = json.loads(lines[-1])
    return result


@contextlib.contextmanager
def threads_target(b: Build) -> Iterator[int]:
    """Start the 100-thread target, wait until all threads exist, kill and reap it after."""
    proc = subprocess.Popen(
        [str(b.targets["threads"]), str(ATTACH_THREADS)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("threads target did not start")
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass
class Pair:
    """The two runs of one workload in one repetition: side ("raw"/"pydbg") -> its JSON
    line, or -> why it failed."""

    runs: dict[str, Json] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def run_pair(b: Build, workload: str, cpus: set[int], pydbg_first: bool) -> Pair:
    pair = Pair()
    sides: list[tuple[str, list[str]]] = [
        ("raw", [str(b.raw)]),
        ("pydbg", [sys.executable, str(WORKER)]),
    ]
    if pydbg_first:
        sides.reverse()
    with affinity(cpus), contextlib.ExitStack() as stack:
        attach_pid = stack.enter_context(threads_target(b)) if workload == "attach100" else 0
        for side, prefix in sides:
            args = workload_args(b, workload, attach_pid)
            if side == "raw":
                args[0] = RAW_WORKLOAD.get(workload, workload)
            try:
                pair.runs[side] = run_json(prefix + args)
            except (RuntimeError, ValueError) as e:
                pair.errors[side] = str(e)
    return pair


def check_extension() -> str | None:
    """None if pydbg._native imports in a fresh interpreter, else why not."""
    proc = subprocess.run(
        [sys.executable, "-c", "import pydbg._native"],
        capture_output=True,
        text=True,
        env=worker_env(),
        cwd=ROOT,
        timeout=60,
    )
    if proc.returncode == 0:
        return None
    return (proc.stderr.strip().splitlines() or ["import failed"])[-1]


def extension_stamp() -> list[tuple[str, int]]:
    """Which extension binaries and Python modules pydbg has and when each last changed: a
    rebuild or an edit during the run would mix two versions of pydbg in one table."""
    pydbg = ROOT / "pydbg"
    files = [*pydbg.glob("_native*.so"), *pydbg.rglob("*.py")]
    return sorted((str(p.relative_to(pydbg)), p.stat().st_mtime_ns) for p in files)


def become_subreaper() -> None:
    """Make orphaned grandchildren (a target whose tracer died) our children to reap."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def sweep(build_dir: Path) -> list[str]:
    """Kill and reap any process still running a binary we built; return what was found.

    Called when no subprocess of ours is alive any more, so reaping with waitpid(-1)
    cannot take a status that subprocess.Popen is waiting for.
    """
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            exe = os.readlink(entry / "exe")
        except OSError:
            continue
        if exe.startswith(str(build_dir) + os.sep):
            found.append(f"{entry.name} {Path(exe).name}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.01)
    return found


# -- summarising ----------------------------------------------------------------------------


@dataclass
class Result:
    """A table row: medians over the repetitions of one Row in one pinning mode."""

    row: Row
    pinned: bool
    raw: list[float] = field(default_factory=list)
    pydbg: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    extra: Json = field(default_factory=dict)

    @property
    def raw_median(self) -> float | None:
        return statistics.median(self.raw) if self.raw else None

    @property
    def pydbg_median(self) -> float | None:
        return statistics.median(self.pydbg) if self.pydbg else None

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    @property
    def passed(self) -> bool | None:
        if self.errors:
            return False if self.row.bar else None
        return self.row.passed(self.ratio, self.pydbg_median)

    def add(self, pair: Pair) -> None:
        row = self.row
        raw_run, pydbg_run = pair.runs.get("raw", {}), pair.runs.get("pydbg", {})
        raw = raw_run.get(row.raw_key or row.key)
        pydbg = pydbg_run.get(row.key)
        for side, message in pair.errors.items():
            self.errors.append(f"{side}: {message}")
        if raw is not None:
            self.raw.append(float(raw))
        if pydbg is not None:
            self.pydbg.append(float(pydbg))
        if raw is not None and pydbg is not None:
            ratio = row.ratio(float(raw), float(pydbg))
            if ratio is not None:
                self.ratios.append(ratio)
        # Keep the diagnostics of the last pydbg run (pcs reached, wake-ups, ...).
        skip = {"workload", "n", "value", "unit", row.key}
        self.extra.update({k: v for k, v in pydbg_run.items() if k not in skip})
        if row.name == "branch1000" and raw_run:
            self.extra["raw_switch_stops"] = raw_run.get("switch_stops")

    def as_json(self) -> Json:
        return {
            "workload": self.row.name,
            "pinned": self.pinned,
            "raw": self.raw_median,
            "pydbg": self.pydbg_median,
            "unit": self.row.unit,
            "ratio": self.ratio,
            "bar": self.row.bar or None,
            "passed": self.passed,
            "reps": len(self.pydbg),
            "raw_all": self.raw,
            "pydbg_all": self.pydbg,
            "ratio_all": self.ratios,
            "errors": self.errors,
            **{k: v for k, v in self.extra.items() if k != "detach_ms"},
        }


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 0.01 else f"{value:.2g}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def fmt_range(ratios: Sequence[float]) -> str:
    return f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else "-"


def fmt_pass(result: Result) -> str:
    return {True: "pass", False: "FAIL", None: "-"}[result.passed] + (
        " (error)" if result.errors else ""
    )


HEADER = ["workload", "pinned", "raw", "pydbg", "unit", "ratio", "ratio range", "bar", "result"]
RATIO_NOTE = (
    "ratio: pydbg/raw for rates, raw/pydbg for times and stop counts, so higher is better "
    "everywhere; median of per-repetition ratios, whose spread is the ratio range."
)


def table_cells(results: Sequence[Result]) -> list[list[str]]:
    return [
        [
            r.row.name,
            "yes" if r.pinned else "no",
            fmt(r.raw_median),
            fmt(r.pydbg_median),
            r.row.unit,
            fmt_ratio(r.ratio),
            fmt_range(r.ratios),
            r.row.bar or "-",
            fmt_pass(r),
        ]
        for r in results
    ]


def text_table(results: Sequence[Result]) -> str:
    cells = [HEADER, *table_cells(results)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([RATIO_NOTE, "", *lines])


def markdown_table(results: Sequence[Result]) -> str:
    cells = table_cells(results)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def notes(results: Sequence[Result]) -> list[str]:
    """Diagnostics worth reading next to the table, and every error seen."""
    out: list[str] = []
    for r in results:
        mode = "pinned" if r.pinned else "unpinned"
        x = r.extra
        if r.row.name == "branch1000" and "calls" in x:
            out.append(
                f"branch1000 ({mode}): pydbg made {x.get('calls')} branch_step call(s), "
                f"pcs reached (offsets) {[hex(p) for p in x.get('pcs', [])]}, kinds "
                f"{x.get('kinds')}, singleblock_works() = {x.get('singleblock_works')}; raw "
                f"PTRACE_SINGLEBLOCK stops confirmed by context switches: "
                f"{x.get('raw_switch_stops')}"
            )
        if r.row.name == "idle" and "cpu_seconds" in x:
            out.append(
                f"idle ({mode}): pydbg used {fmt(x.get('cpu_seconds'))} s CPU over "
                f"{fmt(x.get('seconds'))} s, {x.get('switches')} context switches, "
                f"{x.get('wait_calls')} wait() call(s)"
            )
        if r.row.workload.startswith("engine-step") and r.raw_median and r.pydbg_median:
            raw_us, pydbg_us = 1e6 / r.raw_median, 1e6 / r.pydbg_median
            per_step = x.get("callbacks_per_step") or {}
            heard = ", ".join(f"{k} {v:g}" for k, v in per_step.items()) or "none"
            out.append(
                f"{r.row.name} ({mode}): {pydbg_us:.1f} us per step against raw {raw_us:.1f} us "
                f"({pydbg_us - raw_us:+.1f} us); interest mask {x.get('mask', 0):#x}; "
                f"callbacks per step: {heard}"
            )
        if r.row.name == "attach100" and "threads" in x:
            out.append(f"attach100 ({mode}): seize() returned {x.get('threads')} threads")
        out += [f"{r.row.name} ({mode}) error: {e}" for e in dict.fromkeys(r.errors)]
    return out


# -- RESULTS.md -----------------------------------------------------------------------------


def command_output(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.stdout.strip().splitlines() or ["unknown"])[0]


LOAD: list[float] = []  # 1-minute load average when the measurement began and ended


def machine() -> list[str]:
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return [
        f"- Kernel: {platform.system()} {platform.release()} ({platform.machine()})",
        f"- CPU: {model}, {os.cpu_count()} vCPUs",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        f"- Compiler: {command_output(['gcc', '--version'])}",
        f"- pydbg tree: {command_output(['git', 'describe', '--always', '--dirty'])}",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        *(
            [
                f"- Load average (1 min) at the start and end of the measurement: "
                f"{LOAD[0]:.1f}, {LOAD[-1]:.1f} (anything near or above the CPU count means "
                "other work shared the CPUs: rates drop, unpinned pairs contend, and "
                "co-location ratios shrink toward 1x)"
            ]
            if LOAD
            else []
        ),
    ]


METHOD = f"""\
- Every workload runs twice per repetition, back to back: `bench/raw_tracer.c`, a plain C
  PTRACE_SEIZE tracer doing the job the fastest straightforward way, and
  `bench/pydbg_worker.py`, the natural pydbg._native code for it.  Which goes first
  alternates between repetitions.  Each run is a fresh process with a fresh target.
- Targets are `bench/targets/*.c`, built with `gcc -O2` for this run (PIE); addresses come
  from their symbol tables (pyelftools) plus the load base read in /proc/PID/maps.
- pinned = tracer and target on one CPU (this process's affinity is narrowed before
  starting them; children inherit it); unpinned = the scheduler decides, and it sometimes
  places both on one CPU and sometimes not, so unpinned rates are bimodal: read the
  ratios (each from one pair) rather than comparing the raw and pydbg medians.
- Unpinned, pydbg runs with its defaults, which is what a user gets: `Tracer(colocate=True)`
  pins the tracing thread to its current CPU when it spawns, and the program inherits
  that CPU, while the raw C tracer is left to the scheduler.  Run with
  `PYDBG_BENCH_COLOCATE=0` to measure `Tracer(colocate=False)` instead.  attach100 targets
  are not spawned by the tracer, so co-location does not apply to them.
- Values are medians over the repetitions; ratio is the median of the per-repetition
  ratios (pydbg/raw for rates, raw/pydbg for times and counts: higher is better).
- step: {STEPS} PTRACE_SINGLESTEP round trips on a spinning thread (pydbg: a Python loop
  over `Tracer.step`).  trace: {TRACE_STEPS} steps recording rip (raw: PEEKUSER per step;
  pydbg: one `Tracer.trace` call).  trace-reg: the same recording rsp too (raw: one
  GETREGS per step; pydbg: `Tracer.trace(register="rsp")`).
- engine-step: {STEPS} steps of the same spinning thread through the engine, the loop a
  DbgEng user writes: `create_client()`, `set_event_callbacks(cb)`, `create_process`,
  the initial break, the run to bench_ready (an int3 planted with `write_virtual`), then
  `set_execution_status(DEBUG_STATUS_STEP_INTO)` + `wait_for_event()` per step.  cb
  overrides exception() and exit_process() (interest mask 0x22) and returns None.
  engine-step-all: the same with interest mask 0x1FFF, so every change_engine_state /
  change_debuggee_state notification is delivered too (each callback only counts).  Both
  are compared with the raw `step` workload (PTRACE_SINGLESTEP + waitpid) on the same
  arguments, run as that repetition's raw side.  `python bench/profile_engine_step.py`
  breaks one engine step down (native floor, pure-Python cost, cProfile per function).
- int3: {HITS} hits of a breakpoint on a function called in a loop, after 1000 warm-up
  hits; raw does waitpid, GETREGS, rip-1, SETREGS, restore byte, SINGLESTEP, waitpid,
  re-insert, CONT with pwrite on /proc/PID/mem; pydbg does `wait()` + `cont()`.
  hwbp: the same with a DR0 execute breakpoint (waitpid + CONT per hit).
- int3-native / hwbp-native: the same breakpoint (an int3; a process-wide DR0 execute
  slot) with a native condition that reads rsp and never passes, so the core declines
  every hit inside one `wait()` call and nothing reaches Python; hits are read from
  `breakpoint_counts` around a `wait(timeout)` as long as {HITS} hits took in the
  warm-up.  int3-native is compared with raw int3 (a hit the tracer looks at),
  hwbp-native with raw hwbp (the debug-register floor: waitpid + CONT per hit), since a
  debug register needs no step over the instruction and is the fair floor for it.
- engine-int3-go / engine-int3-cond / engine-hwbp-cond: a breakpoint through the engine
  (`add_breakpoint`): a Python callback voting GO at every hit, or a native condition no
  hit passes, on the int3 or served by a debug register; compared with raw int3, or for
  the debug register one with raw hwbp.
- signal: {SIGNALS} SIGUSR1 raised by the target and passed back on resume (the
  target's handler runs).
- engine-signal: the same target through the engine: an exception() callback (interest
  mask DEBUG_EVENT_EXCEPTION) that counts and returns GO_HANDLED, so the handler does not
  run; default filters.  engine-signal-filtered: no callback and `sxi e000000a` (ignore,
  not handled), so the native core delivers each SIGUSR1 without reporting it
  (`Tracer.set_pass_signals`); counted by the target's own handler count, read around a
  timed `wait_for_event(timeout)`.  Both are compared with raw signal.
- syscall-count: strace -c's job on a target calling getpid in a loop: every syscall
  stop (entry and exit) counted by number.  raw: a PTRACE_SYSCALL loop reading
  PTRACE_GET_SYSCALL_INFO at each stop.  pydbg: through the engine,
  `Control.set_syscall_counting(True)` with nothing else listening, so the native core
  counts and resumes each stop (`Tracer.set_syscall_pass`); counted with
  `get_syscall_counts` around a timed `wait_for_event(timeout)`.  {SYSCALLS} calls.
  engine-syscall-callback: the same through a Python `syscall` callback (interest mask
  DEBUG_EVENT_SYSCALL) hearing every entry and exit; compared with raw syscall-count.
- attach100 / detach100: a running target of {ATTACH_THREADS} threads (sleeping in
  nanosleep loops); seize every thread (re-listing /proc/PID/task) and interrupt it until
  all are stopped, then detach; median of {ATTACH_CYCLES} cycles per run.
- read16m: {READ_REPS} reads of 16 MiB (process_vm_readv into a reused buffer; pydbg:
  `read_memory_into` a reused bytearray).  read16m-alloc is pydbg's `read_memory`, which
  allocates a new bytes object per read: raw has no such read, so it gets no ratio.
- branch1000: stops needed to cross 1000 straight-line instructions and the jmp after them,
  counted as the target thread's voluntary context switches (each ptrace stop is one; raw
  checks this against its own count).  raw uses PTRACE_SINGLEBLOCK, which KVM degrades to
  single steps; pydbg uses `Tracer.branch_step`.
- idle: CPU time of the pydbg process (getrusage, all threads) while it blocks in
  `Tracer.wait()` and the target computes for {IDLE_SECONDS:g} s.
- Nothing here is a timed assertion: the bars are reported for reading, not enforced.
"""


def colocation(results: Sequence[Result]) -> list[str]:
    """What pydbg's default co-location gives against an unpinned raw tracer, from this
    run's unpinned rows (the figures README.md quotes)."""
    found = {
        r.row.name: r.ratio
        for r in results
        if not r.pinned and r.row.name in ("step", "int3", "signal") and r.ratio is not None
    }
    if len(found) < 3:
        return []
    return [
        f"- Co-location (unpinned rows: pydbg, sharing its program's CPU by default, against "
        f"an unpinned raw C tracer): steps {found['step']:.1f}x, int3 hits "
        f"{found['int3']:.1f}x, signal stops {found['signal']:.1f}x in this run."
    ]


def write_results(results: Sequence[Result], reps: int) -> None:
    text = "\n".join(
        [
            "# pydbg benchmark results",
            "",
            "Written by `python bench/run.py --write-results`; numbers from one run on the",
            "machine below.  " + RATIO_NOTE,
            "",
            markdown_table(results),
            "",
            *[f"- {n}" for n in notes(results)],
            *colocation(results),
            "",
            "## Machine",
            "",
            *machine(),
            "",
            f"## Method ({reps} repetitions)",
            "",
            METHOD,
        ]
    )
    RESULTS.write_text(text)


# -- main -----------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="one repetition instead of five")
    p.add_argument("--reps", type=int, default=None, help="repetitions (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per row on stdout")
    p.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    p.add_argument(
        "--only", default="", help=f"comma-separated workloads (from {','.join(WORKLOADS)})"
    )
    p.add_argument(
        "--mode", choices=["both", "pinned", "unpinned"], default="both", help="pinning modes"
    )
    p.add_argument("--build-dir", type=Path, help="build here and keep it (default: temp)")
    return p.parse_args(argv)


def measure(b: Build, workloads: Sequence[str], modes: Sequence[bool], reps: int) -> list[Result]:
    allowed = os.sched_getaffinity(0)
    # The highest-numbered CPU: CPU 0 usually takes more of the device interrupts.
    pin = {max(allowed)}
    results = {
        (row.name, pinned): Result(row, pinned)
        for pinned in modes
        for row in ROWS
        if row.workload in workloads
    }
    for pinned in modes:
        cpus = pin if pinned else allowed
        for rep in range(reps):
            for workload in workloads:
                progress(f"{'pinned' if pinned else 'unpinned'} rep {rep + 1}/{reps}: {workload}")
                pair = run_pair(b, workload, cpus, pydbg_first=rep % 2 == 1)
                for error in pair.errors.items():
                    progress(f"  {error[0]} failed: {error[1]}")
                for row in ROWS:
                    if row.workload == workload:
                        results[(row.name, pinned)].add(pair)
    return list(results.values())


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    reps = args.reps or (1 if args.quick else 5)
    workloads = [w for w in WORKLOADS if not args.only or w in args.only.split(",")]
    modes = {"both": [True, False], "pinned": [True], "unpinned": [False]}[args.mode]
    if shutil.which("gcc") is None:
        progress("gcc not found")
        return 1

    stamp = extension_stamp()
    broken = check_extension()
    if broken:
        progress(f"pydbg._native does not import ({broken}); pydbg columns will be errors")
    become_subreaper()
    with contextlib.ExitStack() as stack:
        if args.build_dir:
            out = args.build_dir.resolve()
            out.mkdir(parents=True, exist_ok=True)
        else:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pydbg-bench-")))
        progress(f"building in {out}")
        b = build(out)
        try:
            LOAD.append(os.getloadavg()[0])
            results = measure(b, workloads, modes, reps)
            LOAD.append(os.getloadavg()[0])
        finally:
            leftovers = sweep(out)
    for leftover in leftovers:
        progress(f"WARNING: killed leftover process {leftover}")
    if extension_stamp() != stamp:
        broken = "pydbg was rebuilt or edited during the run"
        progress(f"WARNING: {broken}; the pydbg numbers mix two builds")

    if args.json:
        for r in results:
            print(json.dumps(r.as_json()))
    else:
        print(text_table(results))
        for note in notes(results):
            print(f"- {note}")

    if args.write_results:
        errors = [r for r in results if r.errors]
        if broken or errors:
            progress(f"not writing RESULTS.md: {broken or 'some runs failed (see above)'}")
            return 1
        write_results(results, reps)
        progress(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
