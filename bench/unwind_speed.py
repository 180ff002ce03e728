"""What a stack walk costs once the CFI is loaded (moved here from the test suite, which
asserts no wall-clock times).

    python bench/unwind_speed.py            # both measurements, pinned to one CPU

* walk10: the `unwind` test target (tests/targets/unwind.c, built -O2 PIE) stopped in
  libc's write() under four nested calls; the first 10-frame walk (which loads and lazily
  decodes the CFI) and the median of 50 more.  Goal: median under 5 ms.
* deep-python: python3 stopped in write() under 30 levels of map() (each a C call, so the
  C stack grows); the median cost of a whole walk per frame, over 10 walks.  Goal: under
  0.5 ms a frame.

It reuses the test suite's helpers (tests/unwind/helpers.py) to run the targets to the
stop, so the measured walks are exactly those the tests check for correctness.  Nothing
here is asserted: the goals are printed beside the numbers.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydbg._native import Tracer  # noqa: E402
from pydbg.unwind import UnwindStop, load_cfi  # noqa: E402
from pydbg.unwind.cfi import clear_cache  # noqa: E402
from tests.support import TARGET_SOURCES, Driver  # noqa: E402
from tests.unwind.helpers import stop_in  # noqa: E402

WALK_GOAL = 0.005  # seconds for 10 frames through libc, CFI loaded


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def walk10(tracer: Tracer, driver: Driver, program: str) -> None:
    stop = stop_in(tracer, driver, [program, "nest", "4"], "libc.so.6", "write")
    clear_cache()
    first = timed(lambda: stop.unwind(tracer, max_frames=10), 1)[0]
    frames = stop.unwind(tracer, max_frames=10)
    if len(frames) != 10 or frames[-1].stop is not UnwindStop.MAX_FRAMES:
        raise RuntimeError(f"walk10: {len(frames)} frames, last {frames[-1].stop}")
    decoded = load_cfi(stop.path).decoded_fdes
    again = timed(lambda: stop.unwind(tracer, max_frames=10), 50)
    median = statistics.median(again)
    print(
        f"walk10: first walk {first * 1e3:.1f} ms (loads CFI, {decoded} FDEs decoded), then "
        f"median {median * 1e3:.2f} ms, best {min(again) * 1e3:.2f} ms "
        f"(goal < {WALK_GOAL * 1e3:.0f} ms: {'met' if median < WALK_GOAL else 'MISSED'})"
    )


def deep_python(tracer: Tracer, driver: Driver) -> None:
    code = "import os; f = lambda n: os.write(1, b'x') if n == 0 else [*map(f, [n - 1])][0]; f(30)"
    stop = stop_in(tracer, driver, [sys.executable, "-c", code], "libc.so.6", "write")
    frames = stop.unwind(tracer)
    if frames[-1].stop is not UnwindStop.OUTERMOST:
        raise RuntimeError(f"deep-python: the walk ended with {frames[-1].stop}")
    per_frame = statistics.median(timed(lambda: stop.unwind(tracer), 10)) / len(frames)
    goal = WALK_GOAL / 10
    print(
        f"deep-python: {len(frames)} frames through libpython, {per_frame * 1e6:.0f} us a "
        f"frame (goal < {goal * 1e6:.0f} us: {'met' if per_frame < goal else 'MISSED'})"
    )


def main() -> int:
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "unwind-O2")
        subprocess.run(
            ["gcc", "-O2", "-g", "-fPIE", "-pie", os.path.join(TARGET_SOURCES, "unwind.c")]
            + ["-o", program],
            check=True,
        )
        with Tracer() as tracer:
            driver = Driver(tracer)
            walk10(tracer, driver, program)
            deep_python(tracer, driver)
    return 0


if __name__ == "__main__":
    sys.exit(main())
