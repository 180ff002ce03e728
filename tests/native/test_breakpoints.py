"""Software breakpoints: insertion and removal, BREAKPOINT events with the pc rewound,
exact hit counts with automatic step-over, and many threads hitting one site
(hazards §9; scenarios 15, 17, 18).

The `loop` target exits 0 only if tick() ran exactly N times per thread, so a step-over that
skips or repeats tick's first instruction shows in the exit status, not just in our counts.
"""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from pydbg._native import SI_KERNEL, EventKind, ThreadState


def test_insert_remove_and_reference_counting(tracer, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "1"])
    tick = binary.addr(pid, "tick")
    original = binary.file_bytes(binary.sym("tick"), 1)[0]
    assert tracer.breakpoints(pid) == {}
    tracer.insert_breakpoint(pid, tick)
    assert tracer.breakpoints(pid) == {tick: original}
    tracer.insert_breakpoint(pid, tick)  # a second user of the same site
    tracer.remove_breakpoint(pid, tick)
    assert tracer.breakpoints(pid) == {tick: original}  # still one user left
    tracer.remove_breakpoint(pid, tick)
    assert tracer.breakpoints(pid) == {}
    assert tracer.read_memory(pid, tick, 1)[0] == original


@pytest.mark.parametrize("variant", ["pie", "nopie", "pie-O2", "static"])
def test_breakpoint_hits_are_exact(tracer, driver, targets, variant):
    binary = targets.get("loop", variant)
    if binary is None:
        pytest.skip("gcc -static does not work here")
    pid = tracer.spawn([binary.path, "500"])
    tick = binary.addr(pid, "tick")
    tracer.insert_breakpoint(pid, tick)
    tracer.cont(pid)

    def check(event):
        if event.kind == EventKind.BREAKPOINT:
            assert event.address == tick
            assert event.tid == pid
            assert event.signal == signal.SIGTRAP
            assert event.si_code == SI_KERNEL
            assert tracer.get_pc(pid) == tick  # rewound past the int3
        return False  # cont steps over the breakpoint by itself

    end = driver.until_exit(pid, handle=check)
    assert end.exit_code == 0
    assert driver.count(EventKind.BREAKPOINT) == 500


def test_step_from_breakpoint_then_cont(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "50"])
    tick = binary.addr(pid, "tick")
    tracer.insert_breakpoint(pid, tick)
    tracer.cont(pid)
    steps = 0

    def step_then_cont(event):
        nonlocal steps
        if event.kind != EventKind.BREAKPOINT:
            return False
        stepped = tracer.step(pid)
        assert stepped.kind == EventKind.STEP
        assert tracer.get_pc(pid) != tick
        steps += 1
        tracer.cont(pid)
        return True

    assert driver.until_exit(pid, handle=step_then_cont).exit_code == 0
    assert steps == 50


def test_remove_after_some_hits(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "100"])
    tick = binary.addr(pid, "tick")
    tracer.insert_breakpoint(pid, tick)
    tracer.cont(pid)

    def remove_at_ten(event):
        if event.kind == EventKind.BREAKPOINT and driver.count(EventKind.BREAKPOINT) == 10:
            tracer.remove_breakpoint(pid, tick)
        return False

    assert driver.until_exit(pid, handle=remove_at_ten).exit_code == 0
    assert driver.count(EventKind.BREAKPOINT) == 10


def _all_stop_loop(tracer, driver, pid, on_hit, rounds_limit=100000):
    """The engine's loop: take what wait() returns, stop everything, handle all events of
    the round (stashed ones included), resume everything with cont_all."""
    end = None
    for _ in range(rounds_limit):
        events = list(driver.queue) or tracer.wait(timeout=30)
        driver.queue.clear()
        assert events, driver.describe()
        if pid in tracer.processes():
            tracer.stop_all(pid)
            events += tracer.wait(timeout=0) if tracer.has_pending() else []
        for event in events:
            driver.log.append(event)
            if event.kind == EventKind.BREAKPOINT:
                on_hit(event)
            if event.tid == pid and event.kind in (EventKind.EXITED, EventKind.KILLED):
                end = event
        if end is not None:
            return end
        tracer.cont_all(pid)
    raise AssertionError("too many rounds")


@pytest.mark.timeout(120)
def test_eight_threads_one_breakpoint(tracer, driver, targets):
    """Scenario 17: every hit of every thread is reported once, with the pc at the site."""
    binary = targets["loop"]
    per_thread = 250
    pid = tracer.spawn([binary.path, str(per_thread), "8"])
    tick = binary.addr(pid, "tick")
    tracer.insert_breakpoint(pid, tick)
    tracer.cont(pid)
    hits: Counter[int] = Counter()

    def on_hit(event):
        assert event.address == tick
        assert tracer.thread_state(event.tid) == ThreadState.STOPPED
        assert tracer.get_pc(event.tid) == tick
        hits[event.tid] += 1

    end = _all_stop_loop(tracer, driver, pid, on_hit)
    assert end.exit_code == 0  # the target counted 8 * 250 ticks
    assert len(hits) == 8
    assert set(hits.values()) == {per_thread}, hits


@pytest.mark.timeout(60)
def test_remove_while_other_hits_pending(tracer, driver, targets):
    """Scenario 18: removing the breakpoint at the first hit, while other threads may
    already have executed the int3: no SIGTRAP death, between 1 and 8 hits reported."""
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "20000", "8"])
    tick = binary.addr(pid, "tick")
    tracer.insert_breakpoint(pid, tick)
    tracer.cont(pid)

    def remove_first(event):
        if event.kind == EventKind.BREAKPOINT and tick in tracer.breakpoints(pid):
            tracer.remove_breakpoint(pid, tick)
        return False

    end = driver.until_exit(pid, handle=remove_first, timeout=60)
    assert end.kind == EventKind.EXITED and end.exit_code == 0
    assert 1 <= driver.count(EventKind.BREAKPOINT) <= 8
    assert driver.count(EventKind.SIGNAL) == 0


def test_breakpoint_in_thread_storm(tracer, driver, targets):
    """Scenario 15: threads created and joined in a loop each hit the breakpoint."""
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "3", "40"])
    finish = binary.addr(pid, "finish")
    tracer.insert_breakpoint(pid, finish)
    worker = binary.addr(pid, "tick")
    tracer.insert_breakpoint(pid, worker)
    tracer.cont(pid)
    end = _all_stop_loop(tracer, driver, pid, on_hit=lambda e: None)
    assert end.exit_code == 0
    by_site = Counter(e.address for e in driver.log if e.kind == EventKind.BREAKPOINT)
    assert by_site == {worker: 3 * 40, finish: 1}
