"""Thread affinity of the tracer (hazards §1; scenario 46): every method except wake()
refuses callers other than the owner thread with WrongThreadError, never with the kernel's
misleading ESRCH; a second Tracer owned by another thread works on its own; colocate pins
the owner and spawned programs to one CPU and close() undoes it."""

from __future__ import annotations

import os
import threading

import pytest

from pydbg._native import HW_WRITE, EventKind, Tracer, gettid
from pydbg.errors import WrongThreadError
from tests.support import Driver


def _from_other_thread(function):
    """Run function() on a fresh thread; return (its tid, its exception or None)."""
    outcome: dict[str, object] = {}

    def body():
        outcome["tid"] = gettid()
        try:
            function()
        except BaseException as e:  # handed back to the test thread
            outcome["error"] = e

    helper = threading.Thread(target=body)
    helper.start()
    helper.join(30)
    assert not helper.is_alive()
    return outcome["tid"], outcome.get("error")


def test_gettid_and_owner(tracer):
    assert gettid() == threading.get_native_id()
    assert tracer.owner_tid == gettid()
    assert not tracer.closed


def test_calls_from_another_thread_raise_wrong_thread(tracer, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "-1"])
    tick = binary.addr(pid, "tick")
    regs = tracer.get_regs(pid)
    calls = {
        "spawn": lambda: tracer.spawn([binary.path, "1"]),
        "seize": lambda: tracer.seize(pid),
        "get_regs": lambda: tracer.get_regs(pid),
        "set_regs": lambda: tracer.set_regs(pid, regs),
        "get_reg": lambda: tracer.get_reg(pid, "rip"),
        "get_fpregs": lambda: tracer.get_fpregs(pid),
        "get_debugreg": lambda: tracer.get_debugreg(pid, 7),
        "set_hw_breakpoint": lambda: tracer.set_hw_breakpoint(pid, 0, tick & ~7, HW_WRITE, 8),
        "read_memory": lambda: tracer.read_memory(pid, tick, 8),
        "write_memory": lambda: tracer.write_memory(pid, tick, b"\x90"),
        "insert_breakpoint": lambda: tracer.insert_breakpoint(pid, tick),
        "cont": lambda: tracer.cont(pid),
        "step": lambda: tracer.step(pid),
        "trace": lambda: tracer.trace(pid, 10),
        "interrupt": lambda: tracer.interrupt(pid),
        "stop_all": lambda: tracer.stop_all(),
        "wait": lambda: tracer.wait(timeout=0),
        "detach": lambda: tracer.detach(pid),
        "kill": lambda: tracer.kill(pid),
        "close": lambda: tracer.close(),
    }
    for name, call in calls.items():
        caller, error = _from_other_thread(call)
        assert isinstance(error, WrongThreadError), (name, error)
        assert not isinstance(error, ProcessLookupError)
        assert error.owner_tid == tracer.owner_tid
        assert error.caller_tid == caller
    # None of the refused calls did anything: the target is untouched and still ours.
    assert tracer.breakpoints(pid) == {}
    assert tracer.read_memory(pid, tick, 1) == binary.file_bytes(binary.sym("tick"), 1)
    assert tracer.processes() == [pid]
    assert not tracer.closed


def test_wake_is_free_threaded(tracer):
    caller, error = _from_other_thread(tracer.wake)
    assert error is None
    assert tracer.wait() == []


@pytest.mark.timeout(60)
def test_one_tracer_per_thread(tracer, driver, targets):
    """Two engines on two threads, each with its own target, run side by side."""
    binary = targets["loop"]
    results: dict[str, object] = {}

    def other_engine():
        try:
            with Tracer() as other:
                other_driver = Driver(other)
                pid = other.spawn([binary.path, "200"])
                other.insert_breakpoint(pid, binary.addr(pid, "tick"))
                other.cont(pid)
                results["exit"] = other_driver.until_exit(pid).exit_code
                results["hits"] = other_driver.count(EventKind.BREAKPOINT)
        except BaseException as e:
            results["error"] = e

    helper = threading.Thread(target=other_engine)
    helper.start()
    try:
        pid = tracer.spawn([binary.path, "300"])
        tracer.insert_breakpoint(pid, binary.addr(pid, "tick"))
        tracer.cont(pid)
        assert driver.until_exit(pid).exit_code == 0
        assert driver.count(EventKind.BREAKPOINT) == 300
    finally:
        helper.join(60)
    assert "error" not in results, results
    assert results == {"exit": 0, "hits": 200}


def _affinity(tid: int) -> set[int]:
    return os.sched_getaffinity(tid)


def test_colocate_pins_owner_and_program_then_restores(targets):
    before = _affinity(0)
    if len(before) < 2:
        pytest.skip("one CPU: nothing to pin")
    with Tracer() as t:
        pid = t.spawn([targets["loop"].path, "1"])
        owner = _affinity(0)
        assert len(owner) == 1
        assert _affinity(pid) == owner
    assert _affinity(0) == before


def test_colocate_false_leaves_affinity_alone(targets):
    before = _affinity(0)
    with Tracer(colocate=False) as t:
        pid = t.spawn([targets["loop"].path, "1"])
        assert _affinity(0) == before
        assert _affinity(pid) == before
    assert _affinity(0) == before
