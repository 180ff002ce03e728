"""gdb single-stepping through `pydbg gdbserver` against gdb through the real gdbserver.

    python bench/gdbremote_stepi.py              # 5000 steps, 3 repetitions
    python bench/gdbremote_stepi.py --steps 20000 --reps 5

The same program (tests/targets/loop.c, built here with -O0, a loop calling tick()) is
served by each server on the loopback; gdb (batch mode, `set sysroot /`) connects,
breaks at tick, deletes the breakpoint (a `stepi N` stops at breakpoints) and times
`stepi N` with its Python clock, so connection set-up and
symbol loading are not counted.  Prints per-step times and the ratio
gdbserver time / pydbg time (the issue's bar: >= 0.8).  Needs gdbserver (apt gdbserver).
No bar is enforced.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _server(kind: str, program: str, err_path: str) -> tuple[subprocess.Popen[bytes], int]:
    if kind == "pydbg":
        cmd = [sys.executable, "-m", "pydbg", "gdbserver", "127.0.0.1:0", "--", program, "-1"]
    else:
        cmd = ["gdbserver", "127.0.0.1:0", program, "-1"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(err_path, errors="replace") as f:
            found = re.search(r"Listening on port (\d+)", f.read())
        if found:
            return proc, int(found.group(1))
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"{kind} did not start")


def _time_steps(kind: str, program: str, steps: int, tmp: str) -> float:
    proc, port = _server(kind, program, os.path.join(tmp, f"{kind}.err"))
    try:
        script = (
            "python\nimport time\nt = time.perf_counter()\n"
            f"gdb.execute('stepi {steps}', to_string=True)\n"
            "print('ELAPSED', time.perf_counter() - t)\nend\n"
        )
        script_path = os.path.join(tmp, "steps.gdb")
        with open(script_path, "w") as f:
            f.write(script)
        out = subprocess.run(
            [
                "gdb", "-nx", "-batch",
                "-ex", "set sysroot /",
                "-ex", f"target remote 127.0.0.1:{port}",
                "-ex", "break tick",
                "-ex", "continue",
                "-ex", "delete",
                "-x", script_path,
                "-ex", "kill",
                program,
            ],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        found = re.search(r"ELAPSED ([0-9.]+)", out.stdout)
        if not found:
            raise RuntimeError(f"no timing from gdb:\n{out.stdout}\n{out.stderr}")
        return float(found.group(1))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("gdbserver") is None:
        print("gdbserver is not installed (apt-get install gdbserver)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "loop")
        source = os.path.join(ROOT, "tests", "targets", "loop.c")
        subprocess.run(["gcc", "-O0", "-g", "-pthread", source, "-o", program], check=True)
        times: dict[str, list[float]] = {"gdbserver": [], "pydbg": []}
        for rep in range(args.reps):
            order = ("gdbserver", "pydbg") if rep % 2 == 0 else ("pydbg", "gdbserver")
            for kind in order:
                times[kind].append(_time_steps(kind, program, args.steps, tmp))
    print(f"gdb `stepi {args.steps}`, median of {args.reps}:")
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, value in medians.items():
        print(f"  {kind:10} {value:7.3f} s   {value / args.steps * 1e6:7.1f} us/step")
    ratio = medians["gdbserver"] / medians["pydbg"]
    print(f"  speed ratio pydbg / gdbserver: {ratio:.2f}x  (bar: >= 0.8)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
