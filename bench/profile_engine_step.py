"""Where the time of one engine STEP_INTO round trip goes.

    python bench/profile_engine_step.py                 # timings, then a cProfile table
    python bench/profile_engine_step.py --all           # callbacks with interest mask 0x1FFF
    python bench/profile_engine_step.py --steps 50000 --top 40

It runs the engine-step loop of pydbg_worker.py (create_client, callbacks, create_process,
run to bench_ready in bench/targets/spin.c, then set_execution_status(STEP_INTO) +
wait_for_event per step), pinned to one CPU like run.py's pinned mode, and prints:

* us per step of the engine loop; of `Tracer.step` called directly on the engine's own
  tracer and thread (the native floor, same process, same target); and of the engine loop
  with a null backend whose `step` returns a recorded STEP event without a system call,
  which is the engine's pure Python cost, measured without a profiler;
* a cProfile table of the engine loop (real or, with --null, null backend): calls per
  step, own time and cumulative time per step for every function.  cProfile roughly
  doubles the cost of a Python call, so read its us as proportions; the calls per step
  are exact.  Cython methods of the tracer do not appear in it: their time is in their
  caller's own time (StepPlan.run holds the PTRACE_SINGLESTEP + waitpid round trip).

Nothing here is asserted; it is a tool for whoever makes the loop faster.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

# This checkout's pydbg, as run.py gives its workers, unless PYTHONPATH names another (to
# compare a modified copy: PYTHONPATH=/path/to/copy python bench/profile_engine_step.py).
_PYTHONPATH = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p in sys.path]
sys.path.insert(
    max(map(sys.path.index, _PYTHONPATH), default=0) + 1,
    str(Path(__file__).resolve().parent.parent),
)

from pydbg_worker import AllCallbacks, StepCallbacks, engine_run_to, load_base  # noqa: E402
from run import BENCH, ROOT, gcc, symbol_offsets  # noqa: E402

import pydbg  # noqa: E402
from pydbg.constants import DEBUG_END_ACTIVE_TERMINATE, DEBUG_STATUS_STEP_INTO  # noqa: E402


class NullBackend:
    """The engine's tracer with `step` answered from a recorded event, no system call: what
    remains of a step is the engine's own Python."""

    def __init__(self, real: Any, record: Any) -> None:
        self._real = real
        self._record = record
        self.closed = False  # an attribute, as cheap as the tracer's C getter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def has_pending(self) -> bool:
        return False

    def step(self, tid: int, sig: int = 0) -> Any:
        return self._record


class TimedBackend:
    """The engine's tracer with the time spent inside `step` (the PTRACE_SINGLESTEP +
    waitpid round trip and its decoding) added up, so the rest of a real step, the engine's
    Python with the caches as the kernel left them, can be told apart."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._step = real.step
        self.closed = False
        self.inside_ns = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def has_pending(self) -> bool:
        return bool(self._real.has_pending())

    def step(self, tid: int, sig: int = 0) -> Any:
        t0 = time.perf_counter_ns()
        record = self._step(tid, sig)
        self.inside_ns += time.perf_counter_ns() - t0
        return record


@contextlib.contextmanager
def session(target: Path, ready_off: int, all_events: bool) -> Iterator[pydbg.DebugClient]:
    client = pydbg.create_client()
    client.set_event_callbacks(AllCallbacks() if all_events else StepCallbacks())
    try:
        pid = client.create_process([str(target)])
        client.control.wait_for_event()
        engine_run_to(client, pid, load_base(pid, str(target)) + ready_off)
        yield client
    finally:
        client.end_session(DEBUG_END_ACTIVE_TERMINATE)


def step_loop(client: pydbg.DebugClient, n: int) -> float:
    """Seconds for n engine steps."""
    set_status, wait = client.control.set_execution_status, client.control.wait_for_event
    t0 = time.perf_counter()
    for _ in range(n):
        set_status(DEBUG_STATUS_STEP_INTO)
        wait()
    return time.perf_counter() - t0


def native_loop(client: pydbg.DebugClient, n: int) -> float:
    """Seconds for n Tracer.step calls on the engine's own tracer and current thread."""
    engine = client._engine
    assert engine.current is not None
    tid, step = engine.current.tid, engine.backend.step
    t0 = time.perf_counter()
    for _ in range(n):
        step(tid)
    return time.perf_counter() - t0


@contextlib.contextmanager
def null_backend(client: pydbg.DebugClient) -> Iterator[None]:
    engine = client._engine
    assert engine.current is not None
    real = engine.backend
    record = real.step(engine.current.tid)  # one real STEP event to replay
    engine._backend = NullBackend(real, record)
    try:
        yield
    finally:
        engine._backend = real


def timed_outside(client: pydbg.DebugClient, n: int, reps: int) -> tuple[float, float]:
    """(us per step outside Tracer.step, us inside it), best of reps, real backend."""
    engine = client._engine
    real = engine.backend
    results = []
    try:
        for _ in range(reps):
            timed = TimedBackend(real)
            engine._backend = timed
            total = step_loop(client, n)
            inside = timed.inside_ns / 1e9
            results.append(((total - inside) / n * 1e6, inside / n * 1e6))
    finally:
        engine._backend = real
    return min(results)


def best(run: Callable[[], float], reps: int) -> float:
    return min(run() for _ in range(reps))


def profile_table(profiler: cProfile.Profile, n: int, top: int) -> list[str]:
    stats = pstats.Stats(profiler)
    rows: list[tuple[float, float, float, str]] = []
    root = str(ROOT) + os.sep
    for (path, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = name if path == "~" else f"{path.replace(root, '')}:{line}({name})"
        rows.append((tottime, ncalls, cumtime, where))
    rows.sort(reverse=True)
    calls = sum(r[1] for r in rows)
    python = sum(r[1] for r in rows if ".py:" in r[3])
    lines = [
        f"function calls per step: {calls / n:.1f} (of which Python functions: "
        f"{python / n:.1f}); profiled time per step {sum(r[0] for r in rows) / n * 1e6:.1f} us",
        f"{'calls/step':>10} {'own us':>8} {'cum us':>8}  function",
    ]
    for tottime, ncalls, cumtime, where in rows[:top]:
        per_call = f"{ncalls / n:10.2f} {tottime / n * 1e6:8.2f} {cumtime / n * 1e6:8.2f}"
        lines.append(f"{per_call}  {where}")
    return lines


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=20_000, help="steps per measurement")
    p.add_argument("--reps", type=int, default=5, help="timed repetitions (best is shown)")
    p.add_argument("--all", action="store_true", help="callbacks with interest mask 0x1FFF")
    p.add_argument("--null", action="store_true", help="profile with the null backend")
    p.add_argument("--top", type=int, default=35, help="rows of the profile table")
    p.add_argument("--no-pin", action="store_true", help="leave the CPU to the scheduler")
    return p.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if not args.no_pin:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    n = args.steps
    with tempfile.TemporaryDirectory(prefix="pydbg-profile-") as out:
        target = Path(out) / "spin"
        gcc(BENCH / "targets" / "spin.c", target)
        ready_off = symbol_offsets(target, ["bench_ready"])["bench_ready"]
        with session(target, ready_off, args.all) as client:
            engine_us = best(lambda: step_loop(client, n), args.reps) / n * 1e6
            native_us = best(lambda: native_loop(client, n), args.reps) / n * 1e6
            outside_us, inside_us = timed_outside(client, n, args.reps)
            with null_backend(client):
                null_us = best(lambda: step_loop(client, n), args.reps) / n * 1e6
                if args.null:
                    profiler = cProfile.Profile()
                    profiler.runcall(step_loop, client, n)
            if not args.null:
                profiler = cProfile.Profile()
                profiler.runcall(step_loop, client, n)
    mask = "0x1FFF" if args.all else "0x22 (exception + exit_process)"
    print(f"pydbg from {Path(pydbg.__file__).parent}")
    print(f"interest mask {mask}, {n} steps, best of {args.reps}:")
    print(f"  engine loop                {engine_us:6.2f} us/step")
    print(f"  Tracer.step directly       {native_us:6.2f} us/step")
    print(f"  engine over Tracer.step    {engine_us - native_us:6.2f} us/step")
    print(f"  engine, null backend       {null_us:6.2f} us/step (pure Python, no profiler)")
    print(
        f"  engine outside Tracer.step {outside_us:6.2f} us/step (real backend; inside it "
        f"{inside_us:.2f} us; the timing adds ~0.2 us)"
    )
    print()
    print(f"cProfile of the engine loop ({'null' if args.null else 'real'} backend):")
    for line in profile_table(profiler, n, args.top):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
