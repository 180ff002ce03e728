"""Detaching from a busy multi-threaded process while its breakpoints are being hit.

The target (tests/targets/detach_busy.c) runs five threads that call four functions with
software breakpoints and one with a hardware execute breakpoint (`ba e1`), checking every
return value.  Each cycle attaches, plants the five breakpoints with callbacks that vote GO,
runs, and detaches while traps are in flight, in one of three ways:

  running    detach_processes() while the targets run (a wait that timed out)
  interrupt  set_interrupt() from another thread, then detach at the break-in
  break      a callback votes BREAK on one hit; detach while other threads' traps may be
             queued, reported but not yet consumed

After each detach the process must be alive, untraced, and keep making progress for a
while; a trap left behind (an int3 byte, a debug register, a SIGTRAP pending behind an
interrupt stop, a pc left past an int3 site) kills it or breaks a result check, which its
exit status reports at the end.

The in-suite test runs a few dozen cycles.  The stress variant runs many more and is
skipped unless PYDBG_DETACH_CYCLES is set (hazards §14.1; see README "Things to know"):

    PYDBG_DETACH_CYCLES=1000 python -m pytest tests/api/test_detach.py -k stress -s
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import pydbg
from pydbg.constants import DebugStatus
from tests.api.helpers import WAIT_LIMIT
from tests.busy import Busy

MODES = ("running", "interrupt", "break")
STRESS_CYCLES = int(os.environ.get("PYDBG_DETACH_CYCLES", "0"))


class Votes(pydbg.EventCallbacks):
    """GO at every breakpoint, except BREAK at busy_c's when `break_at` is set."""

    def __init__(self, break_at: Any = None) -> None:
        self.break_at = break_at

    def breakpoint(self, bp: Any) -> int:
        if self.break_at is not None and bp is self.break_at:
            return int(DebugStatus.BREAK)
        return int(DebugStatus.GO)


def cycle(busy: Busy, mode: str, rng: random.Random) -> None:
    """Attach, plant 4 bp + 1 ba e1 with GO callbacks, run, detach the `mode` way."""
    a = busy.addr
    with pydbg.create_client() as client:
        control = client.control
        votes = Votes()
        client.set_event_callbacks(votes)
        client.attach_process(busy.pid)
        assert control.wait_for_event(timeout=WAIT_LIMIT) is True
        control.execute(
            f"bp {a['busy_a']:#x}; bp {a['busy_b']:#x}; bp {a['busy_c']:#x}; "
            f"bp {a['busy_d']:#x}; ba e1 {a['busy_hw']:#x}"
        )
        if mode == "break":
            votes.break_at = next(
                bp
                for i in range(control.get_number_breakpoints())
                if (bp := control.get_breakpoint_by_index(i)).get_offset() == a["busy_c"]
            )
        control.set_execution_status(DebugStatus.GO)
        delay = rng.uniform(0.0, 0.03)
        if mode == "running":
            control.wait_for_event(timeout=delay)
        elif mode == "interrupt":
            timer = threading.Timer(delay, control.set_interrupt)
            timer.start()
            try:
                assert control.wait_for_event(timeout=WAIT_LIMIT) is True
            finally:
                timer.cancel()
                timer.join()
        else:
            assert control.wait_for_event(timeout=WAIT_LIMIT) is True
        client.detach_processes()
        assert control.get_execution_status() == DebugStatus.NO_DEBUGGEE


def run_cycles(targets: Any, count: int, seed: int) -> tuple[int, list[str]]:
    """count cycles over the three modes; (cycles run, descriptions of the deaths).  A
    target that dies is replaced by a fresh one."""
    rng = random.Random(seed)
    binary = targets["detach_busy"]
    deaths: list[str] = []
    busy = Busy(binary)
    try:
        for i in range(count):
            mode = MODES[i % len(MODES)]
            cycle(busy, mode, rng)
            if not busy.alive():
                status = busy.finish()
                deaths.append(f"cycle {i} ({mode}): exit status {status}")
                busy = Busy(binary)
        status = busy.finish()
        if status != 0:
            deaths.append(f"at the end: exit status {status}")
    finally:
        busy.close()
    return count, deaths


@pytest.fixture
def seed() -> Iterator[int]:
    value = random.randrange(1 << 30)
    yield value


@pytest.mark.timeout(120)
def test_detach_while_breakpoints_are_hit_leaves_the_process_running(targets, seed):
    _, deaths = run_cycles(targets, 48, seed)
    assert deaths == [], f"seed {seed}"


@pytest.mark.skipif(not STRESS_CYCLES, reason="stress run: set PYDBG_DETACH_CYCLES=N")
@pytest.mark.timeout(max(60, STRESS_CYCLES * 3))
def test_detach_stress(targets, seed):
    count, deaths = run_cycles(targets, STRESS_CYCLES, seed)
    print(f"\ndetach stress: {count} cycles, {len(deaths)} deaths (seed {seed})")
    for death in deaths:
        print(f"  {death}")
    assert deaths == [], f"seed {seed}"
