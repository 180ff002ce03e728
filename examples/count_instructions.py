"""Count every instruction a program executes, with pydbg's native trace loop.

    python examples/count_instructions.py [--pin] [PROGRAM [ARG ...]]   (default: /bin/true)

The program is launched stopped before its first instruction (in the dynamic loader), then
single-stepped in C until it exits.  Signals it receives are delivered as usual (the step
that delivers one lands on the handler's first instruction and is counted).  Threads other
than the main one run free and are not counted.

--pin runs the tracer and the program on one CPU: on a 2-vCPU KVM guest a single step
costs 3-6x more when the two sit on different CPUs.
"""

from __future__ import annotations

import os
import sys
import time

from pydbg._native import EventKind, Tracer, TraceReason

CHUNK = 1 << 30


def count(argv: list[str]) -> tuple[int, int]:
    """Return (instructions executed by the main thread, exit code)."""
    with Tracer() as tracer:
        pid = tracer.spawn(argv)
        total = 0
        while True:
            result = tracer.trace(pid, CHUNK, record=False)
            total += result.steps
            if result.reason is not TraceReason.EVENT or result.event is None:
                continue
            event = result.event
            if event.kind is EventKind.EXIT:
                code = event.exit_code
                tracer.cont(pid)
                for late in tracer.wait():
                    if late.kind in (EventKind.EXITED, EventKind.KILLED) and late.tid == pid:
                        break
                return total, code
            if event.kind is EventKind.SIGNAL:
                # Deliver it; the step lands on the handler's first instruction.
                tracer.step(pid, event.signal)
                total += 1
            elif event.kind is EventKind.CLONE:
                tracer.cont(event.message)
            elif event.kind in (EventKind.EXITED, EventKind.KILLED):
                return total, event.exit_code


def main() -> int:
    args = sys.argv[1:]
    if args and args[0] == "--pin":
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        args = args[1:]
    argv = args or ["/bin/true"]
    start = time.perf_counter()
    total, code = count(argv)
    elapsed = time.perf_counter() - start
    print(
        f"{argv[0]}: {total} instructions in {elapsed:.3f} s "
        f"({total / elapsed:,.0f} steps/s), exit code {code}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
