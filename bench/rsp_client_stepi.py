"""pydbg's GDB-remote client single-stepping a gdbserver target, against gdb doing the same.

    python bench/rsp_client_stepi.py              # 2000 steps, 3 repetitions
    python bench/rsp_client_stepi.py --steps 5000 --reps 5

The same program (tests/targets/loop.c, -O0, a loop calling tick()) is served by a real
gdbserver on the loopback each time.  gdb (batch) connects, breaks at tick, deletes the
breakpoint and times `stepi N` (bench/gdbremote_stepi.py's measurement).  pydbg connects
with pydbg.connect("gdbserver:127.0.0.1:PORT"), `bp tick; g; bc *`, and times `t N` +
the wait for its end.  Connection set-up and symbol loading are not counted.  Prints
per-step times and the ratio gdb time / pydbg time (the issue's bar: >= 0.9).
No bar is enforced.
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gdbremote_stepi import _server, _time_steps  # noqa: E402

import pydbg  # noqa: E402


def _time_pydbg(program: str, steps: int, tmp: str) -> float:
    proc, port = _server("gdbserver", program, os.path.join(tmp, "client.err"))
    try:
        client = pydbg.connect(f"gdbserver:127.0.0.1:{port}")
        control = client.control
        try:
            control.wait_for_event()
            control.execute("bp tick")
            control.execute("g")
            control.wait_for_event()
            control.execute("bc *")
            start = time.perf_counter()
            control.execute(f"t 0x{steps:x}")  # (cdb numbers are hex by default)
            control.wait_for_event()
            return time.perf_counter() - start
        finally:
            client.end_session(0)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("gdbserver") is None:
        print("gdbserver is not installed (apt-get install gdbserver)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "loop")
        source = os.path.join(ROOT, "tests", "targets", "loop.c")
        subprocess.run(["gcc", "-O0", "-g", "-pthread", source, "-o", program], check=True)
        times: dict[str, list[float]] = {"gdb": [], "pydbg": []}
        for rep in range(args.reps):
            order = ("gdb", "pydbg") if rep % 2 == 0 else ("pydbg", "gdb")
            for kind in order:
                if kind == "gdb":
                    times[kind].append(_time_steps("gdbserver", program, args.steps, tmp))
                else:
                    times[kind].append(_time_pydbg(program, args.steps, tmp))
    print(f"stepping a gdbserver target {args.steps} times, median of {args.reps}:")
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, value in medians.items():
        print(f"  {kind:6} {value:7.3f} s   {value / args.steps * 1e6:7.1f} us/step")
    ratio = medians["gdb"] / medians["pydbg"]
    print(f"  speed ratio pydbg / gdb: {ratio:.2f}x  (bar: >= 0.9)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
