"""Process-wide debug-register slots: written into every thread, present and future (a new
thread does not inherit them, hazards §7), cleared everywhere, gone after detach; and
native conditions on execute and data slots, which the core decides without a report
(an execute breakpoint is a fault: the kernel sets RF so that resuming does not re-trap,
§10)."""

from __future__ import annotations

import os
import subprocess

import pytest

from pydbg._native import HW_EXECUTE, HW_READWRITE, HW_WRITE, EventKind
from pydbg.errors import InvalidArgumentError

EFLAGS_RF = 1 << 16


def _enabled(dr7: int, slot: int) -> bool:
    return bool(dr7 & (0b11 << (2 * slot)))


def _spawn(tracer, targets, *args):
    binary = targets["bphot"]
    pid = tracer.spawn([binary.path, *args], stdout=subprocess.DEVNULL)
    return binary, pid


def _run_to(tracer, driver, pid, address):
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == address)
    tracer.remove_breakpoint(pid, address)


def test_slots_reach_threads_created_later(tracer, driver, targets):
    """Set before any thread exists, a write slot and an execute slot fire in each of the
    4 threads created afterwards: they are in the new thread when its CLONE is reported."""
    binary, pid = _spawn(tracer, targets, "clone", "4")
    _run_to(tracer, driver, pid, binary.addr(pid, "clone_ready"))
    var = binary.addr(pid, "slot_var")
    marker = binary.addr(pid, "hw_marker")
    tracer.set_process_hw_breakpoint(pid, 0, var, HW_WRITE, 8)
    tracer.set_process_hw_breakpoint(pid, 1, marker, HW_EXECUTE, 1)
    assert tracer.get_debugreg(pid, 0) == var and tracer.get_debugreg(pid, 1) == marker
    tracer.cont(pid)
    fired: dict[int, list[int]] = {}
    while True:
        event = driver.next()
        if event.tid == pid and event.kind == EventKind.EXITED:
            break
        if event.kind == EventKind.CLONE:
            new = event.message
            assert tracer.get_debugreg(new, 0) == var
            assert tracer.get_debugreg(new, 1) == marker
            dr7 = tracer.get_debugreg(new, 7)
            assert _enabled(dr7, 0) and _enabled(dr7, 1)
            assert not _enabled(dr7, 2) and not _enabled(dr7, 3)
            fired[new] = []
        if event.kind == EventKind.HW_BREAKPOINT:
            fired[event.tid].append(event.dr6 & 0xF)
        driver.resume(event)
    assert event.exit_code == 0
    assert len(fired) == 4
    assert all(sorted(slots) == [0b01, 0b10] for slots in fired.values()), fired


def test_clear_process_slot_clears_every_thread(tracer, driver, targets):
    binary, pid = _spawn(tracer, targets, "clone", "2")
    _run_to(tracer, driver, pid, binary.addr(pid, "clone_ready"))
    marker = binary.addr(pid, "hw_marker")
    tracer.set_process_hw_breakpoint(pid, 2, marker, HW_EXECUTE, 1)
    tracer.cont(pid)
    event = driver.until_kind(EventKind.HW_BREAKPOINT)
    thread = event.tid
    assert event.dr6 & 0xF == 0b100
    tracer.stop_all(pid)
    tracer.clear_process_hw_breakpoint(pid, 2)
    for tid in tracer.threads(pid):
        assert not _enabled(tracer.get_debugreg(tid, 7), 2)
        assert tracer.get_debugreg(tid, 2) == 0
    tracer.cont_all(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert [e.tid for e in driver.log if e.kind == EventKind.HW_BREAKPOINT] == [thread]


def test_execute_slot_with_declining_condition(tracer, driver, targets):
    """10,000 executions, each one trap, none reported: RF keeps the resumed instruction
    from trapping again (hits would never stop otherwise), and none is counted twice."""
    binary, pid = _spawn(tracer, targets, "loop", "10000")
    hot = binary.addr(pid, "hot")
    tracer.set_process_hw_breakpoint(pid, 0, hot, HW_EXECUTE, 1)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op=">=", reg_value=10**6)
    tracer.cont(pid)
    counts = {}

    def at_exit(event):
        if event.kind == EventKind.EXIT:
            counts["exit"] = tracer.breakpoint_counts(pid, hot)
        return False

    assert driver.until_exit(pid, handle=at_exit).exit_code == 0
    assert counts["exit"] == (10_000, 0)
    assert driver.count(EventKind.HW_BREAKPOINT) == 0


def test_execute_slot_reports_the_matching_hit_with_rf_set(tracer, driver, targets):
    binary, pid = _spawn(tracer, targets, "loop", "10000")
    hot = binary.addr(pid, "hot")
    tracer.set_process_hw_breakpoint(pid, 3, hot, HW_EXECUTE, 1)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="==", reg_value=4321)
    tracer.cont(pid)
    event = driver.until_kind(EventKind.HW_BREAKPOINT)
    assert event.dr6 & 0xF == 0b1000
    assert tracer.get_pc(pid) == hot and tracer.get_reg(pid, "rdi") == 4321
    # The fault is reported with RF set: that is what lets a plain resume run hot().
    assert tracer.get_reg(pid, "eflags") & EFLAGS_RF
    assert tracer.breakpoint_counts(pid, hot) == (4322, 1)
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 1


def test_data_slot_condition_sees_the_written_value(tracer, driver, targets):
    """A write slot traps after the write, so a condition on the watched variable reads
    the new value."""
    binary, pid = _spawn(tracer, targets, "loop", "1000")
    value = binary.addr(pid, "hot_value")
    tracer.set_process_hw_breakpoint(pid, 1, value, HW_READWRITE, 8)
    tracer.set_breakpoint_condition(
        pid, value, mem_address=value, mem_size=8, mem_op="==", mem_value=777
    )
    tracer.cont(pid)
    event = driver.until_kind(EventKind.HW_BREAKPOINT)
    assert event.dr6 & 0xF == 0b10
    assert int.from_bytes(tracer.read_memory(pid, value, 8), "little") == 777
    hot = binary.addr(pid, "hot")
    assert hot < tracer.get_pc(pid) < hot + binary.sym_size("hot")
    assert tracer.breakpoint_counts(pid, value) == (778, 1)  # the writes of 0..777
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 1


def test_detach_clears_process_slots_of_every_thread(tracer, driver, targets):
    """An execute slot left in any thread would kill the program with SIGTRAP after the
    detach; the threads of `threads` call worker_tick nonstop."""
    binary = targets["threads"]
    stdin_r, stdin_w = os.pipe()
    try:
        pid = tracer.spawn(
            [binary.path, "4", "spin"],
            stdin=stdin_r,
            stdout=subprocess.DEVNULL,
            kill_on_exit=False,
        )
    finally:
        os.close(stdin_r)
    try:
        _run_to(tracer, driver, pid, binary.addr(pid, "all_ready"))
        tick = binary.addr(pid, "worker_tick")
        tracer.set_breakpoint_condition(pid, tick, tid=-1)  # decline, count
        # The workers run: they are stopped for the programming, and resumed.
        assert len(tracer.threads(pid)) == 5
        tracer.set_process_hw_breakpoint(pid, 0, tick, HW_EXECUTE, 1)
        while tracer.breakpoint_counts(pid, tick)[0] < 100:
            assert tracer.wait(timeout=0.01) == []
        tracer.stop_all(pid)
        assert all(tracer.get_debugreg(t, 0) == tick for t in tracer.threads(pid))
        tracer.cont_all(pid)
        while tracer.breakpoint_counts(pid, tick)[0] < 1000:
            assert tracer.wait(timeout=0.01) == []
        tracer.detach(pid)
    finally:
        os.close(stdin_w)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize(
    ("slot", "offset", "access", "size", "error"),
    [
        (4, 0, HW_WRITE, 8, ValueError),
        (0, 4, HW_WRITE, 8, InvalidArgumentError),
        (0, 0, HW_EXECUTE, 2, ValueError),
    ],
)
def test_invalid_process_slots(tracer, targets, slot, offset, access, size, error):
    binary, pid = _spawn(tracer, targets, "loop", "1")
    with pytest.raises(error):
        tracer.set_process_hw_breakpoint(
            pid, slot, binary.addr(pid, "hot_value") + offset, access, size
        )
    assert tracer.get_debugreg(pid, 7) == 0


# Under KVM a #DB from an execute slot now and then reaches the kernel with DR6 clear;
# the kernel then reports an icebp: SIGTRAP, TRAP_BRKPT, the pc at the slot, RF not set.
# The lostdr6 target makes that very stop on purpose (a SIGTRAP it queues itself from a
# system call that returns to slot_site), so the repair runs on every iteration.


def test_an_empty_dr6_trap_at_an_execute_slot_is_its_declined_hit(tracer, driver, targets):
    binary = targets["lostdr6"]
    pid = tracer.spawn([binary.path, "500"], stdout=subprocess.DEVNULL)
    site = binary.addr(pid, "slot_site")
    tracer.set_process_hw_breakpoint(pid, 2, site, HW_EXECUTE, 1)
    tracer.set_breakpoint_condition(pid, site, register="rdi", reg_op="==", reg_value=0)
    tracer.cont(pid)
    counts = {}

    def at_exit(event):
        if event.kind == EventKind.EXIT:
            counts["exit"] = tracer.breakpoint_counts(pid, site)
        return False

    # Delivered, the SIGTRAP would kill it; counted twice, RF was not set.
    assert driver.until_exit(pid, handle=at_exit).exit_code == 0
    assert counts["exit"] == (500, 0)
    assert driver.count(EventKind.SIGNAL) == 0 and driver.count(EventKind.HW_BREAKPOINT) == 0


def test_an_empty_dr6_trap_at_an_execute_slot_is_reported_as_its_hit(tracer, driver, targets):
    binary = targets["lostdr6"]
    pid = tracer.spawn([binary.path, "50"], stdout=subprocess.DEVNULL)
    site = binary.addr(pid, "slot_site")
    tracer.set_process_hw_breakpoint(pid, 2, site, HW_EXECUTE, 1)
    tracer.cont(pid)
    for _ in range(50):
        event = driver.until(lambda e: e.kind in (EventKind.HW_BREAKPOINT, EventKind.SIGNAL))
        assert event.kind == EventKind.HW_BREAKPOINT and event.dr6 & 0xF == 0b100
        assert tracer.get_pc(pid) == site
        # Set as the kernel sets it for a real hit: the plain resume runs the nop once.
        assert tracer.get_reg(pid, "eflags") & EFLAGS_RF
        tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 50 and driver.count(EventKind.SIGNAL) == 0


def test_a_sigtrap_at_an_address_no_slot_holds_is_still_a_signal(tracer, driver, targets):
    binary = targets["lostdr6"]
    pid = tracer.spawn([binary.path, "1"], stdout=subprocess.DEVNULL)
    site = binary.addr(pid, "slot_site")
    tracer.set_process_hw_breakpoint(pid, 2, site + 1, HW_EXECUTE, 1)
    tracer.cont(pid)
    event = driver.until(lambda e: e.kind in (EventKind.HW_BREAKPOINT, EventKind.SIGNAL))
    assert event.kind == EventKind.SIGNAL and event.signal == 5 and event.address == site
    tracer.clear_process_hw_breakpoint(pid, 2)
    tracer.cont(pid, 0)
    assert driver.until_exit(pid).exit_code == 0
