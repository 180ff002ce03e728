"""Hardware debug registers: execute breakpoints, write and read/write watchpoints of every
size, DR7 encoding, DR6 decoding, argument validation (hazards §10; scenarios 37, 38)."""

from __future__ import annotations

import pytest

from pydbg._native import HW_EXECUTE, HW_READWRITE, HW_WRITE, TRAP_HWBKPT, EventKind
from pydbg.errors import InvalidArgumentError

DR6_BS = 0x4000
# DR7 LEN encoding per size (Intel SDM vol. 3, 17.2.4).
LEN_BITS = {1: 0b00, 2: 0b01, 4: 0b11, 8: 0b10}


def _dr7_slot(dr7: int, slot: int) -> tuple[bool, int, int]:
    """(enabled, RW bits, LEN bits) of one slot."""
    enabled = bool(dr7 & (0b11 << (2 * slot)))
    field = (dr7 >> (16 + 4 * slot)) & 0xF
    return enabled, field & 0b11, field >> 2


def _run_to(tracer, driver, binary, pid, symbol):
    address = binary.addr(pid, symbol)
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == address)
    tracer.remove_breakpoint(pid, address)


@pytest.mark.parametrize("slot", [0, 3])
def test_execute_breakpoint_counts_exactly(tracer, driver, targets, slot):
    """Scenario 37: 1000 calls, exactly 1000 hits; no re-trigger on resume (RF)."""
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "1000"])
    tick = binary.addr(pid, "tick")
    tracer.set_hw_breakpoint(pid, slot, tick, HW_EXECUTE, 1)
    assert tracer.get_debugreg(pid, slot) == tick
    enabled, rw, length = _dr7_slot(tracer.get_debugreg(pid, 7), slot)
    assert (enabled, rw, length) == (True, 0b00, 0b00)
    tracer.cont(pid)

    def check(event):
        if event.kind == EventKind.HW_BREAKPOINT:
            assert event.tid == pid
            assert tracer.get_pc(pid) == tick
            assert event.dr6 & 0xF == 1 << slot
            assert event.si_code == TRAP_HWBKPT
        return False

    end = driver.until_exit(pid, handle=check)
    assert end.exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 1000
    assert driver.count(EventKind.BREAKPOINT) == 0


def test_raw_debug_register_programming(tracer, driver, targets):
    """set_debugreg is the raw interface: DR0 = address, then DR7 enabling slot 0."""
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "5"])
    tick = binary.addr(pid, "tick")
    tracer.set_debugreg(pid, 0, tick)
    tracer.set_debugreg(pid, 7, 0b01)  # L0, RW=00 (execute), LEN=00
    assert tracer.get_debugreg(pid, 0) == tick
    assert tracer.get_debugreg(pid, 7) & 0xF000F == 0b01
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 5


def test_clear_execute_breakpoint(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "100"])
    tick = binary.addr(pid, "tick")
    tracer.set_hw_breakpoint(pid, 1, tick, HW_EXECUTE, 1)
    tracer.cont(pid)

    def clear_at_ten(event):
        if event.kind == EventKind.HW_BREAKPOINT and driver.count(EventKind.HW_BREAKPOINT) == 10:
            tracer.clear_hw_breakpoint(pid, 1)
            assert not _dr7_slot(tracer.get_debugreg(pid, 7), 1)[0]
        return False

    assert driver.until_exit(pid, handle=clear_at_ten).exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 10


def test_write_watchpoints_of_every_size(tracer, driver, targets):
    binary = targets["watch"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "watch_ready")
    watched = [("w1", 1, 0x11), ("w2", 2, 0x2222), ("w4", 4, 0x44444444),
               ("w8", 8, 0x8888888888888888)]  # fmt: skip
    for slot, (name, size, _) in enumerate(watched):
        tracer.set_hw_breakpoint(pid, slot, binary.addr(pid, name), HW_WRITE, size)
    dr7 = tracer.get_debugreg(pid, 7)
    for slot, (name, size, _) in enumerate(watched):
        assert tracer.get_debugreg(pid, slot) == binary.addr(pid, name)
        assert _dr7_slot(dr7, slot) == (True, 0b01, LEN_BITS[size]), name
    writer = binary.addr(pid, "do_writes")
    writer_end = writer + binary.sym_size("do_writes")
    tracer.cont(pid)
    for slot, (name, size, value) in enumerate(watched):
        event = driver.next()
        assert event.kind == EventKind.HW_BREAKPOINT, event
        assert event.dr6 & 0xF == 1 << slot, (name, hex(event.dr6))
        # A data breakpoint traps after the write: the new value is in memory and the pc
        # is inside do_writes, past the store.
        data = tracer.read_memory(pid, binary.addr(pid, name), size)
        assert int.from_bytes(data, "little") == value
        assert writer < tracer.get_pc(pid) < writer_end
        assert tracer.get_debugreg(pid, 6) & 0xF == 1 << slot
        tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 4


def test_write_watchpoint_ignores_reads_readwrite_does_not(tracer, driver, targets):
    binary = targets["watch"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "watch_ready")
    r4 = binary.addr(pid, "r4")
    tracer.set_hw_breakpoint(pid, 0, r4, HW_WRITE, 4)  # r4 is only read
    tracer.set_hw_breakpoint(pid, 2, r4, HW_READWRITE, 4)
    assert _dr7_slot(tracer.get_debugreg(pid, 7), 2) == (True, 0b11, LEN_BITS[4])
    tracer.cont(pid)
    event = driver.next()
    assert event.kind == EventKind.HW_BREAKPOINT
    assert event.dr6 & 0xF == 1 << 2
    reader = binary.addr(pid, "do_reads")
    assert reader < tracer.get_pc(pid) < reader + binary.sym_size("do_reads")
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 1


def test_step_after_watchpoint_is_a_step(tracer, driver, targets):
    """Scenario 38: DR6 from the watchpoint hit does not leak into the next step."""
    binary = targets["watch"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "watch_ready")
    tracer.set_hw_breakpoint(pid, 1, binary.addr(pid, "w2"), HW_WRITE, 2)
    tracer.cont(pid)
    hit = driver.next()
    assert hit.kind == EventKind.HW_BREAKPOINT and hit.dr6 & 0xF == 0b10
    step = tracer.step(pid)
    assert step.kind == EventKind.STEP
    assert step.dr6 & 0xF == 0
    assert step.dr6 & DR6_BS
    tracer.clear_hw_breakpoint(pid, 1)
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


@pytest.mark.parametrize(
    ("symbol", "offset", "access", "size", "error"),
    [
        # Misaligned addresses are what the kernel rejects with EINVAL.
        ("w8", 4, HW_WRITE, 8, InvalidArgumentError),
        ("w8", 2, HW_WRITE, 4, InvalidArgumentError),
        ("w8", 1, HW_READWRITE, 2, InvalidArgumentError),
        # Sizes the contract rules out may be refused before the kernel is asked.
        ("tick", 0, HW_EXECUTE, 4, ValueError),  # execute breakpoints are 1 byte long
        ("w8", 0, HW_WRITE, 3, ValueError),  # no such length
    ],
)
def test_invalid_hw_breakpoints(tracer, driver, targets, symbol, offset, access, size, error):
    binary = targets["watch"] if symbol != "tick" else targets["loop"]
    pid = tracer.spawn([binary.path])
    address = binary.addr(pid, symbol) + offset
    with pytest.raises(error):
        tracer.set_hw_breakpoint(pid, 0, address, access, size)
    # Nothing half-programmed is left: the slot stays disabled and the program runs clean.
    assert not _dr7_slot(tracer.get_debugreg(pid, 7), 0)[0]
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.HW_BREAKPOINT) == 0


def test_invalid_slot(tracer, targets):
    binary = targets["watch"]
    pid = tracer.spawn([binary.path])
    with pytest.raises((ValueError, IndexError)):
        tracer.set_hw_breakpoint(pid, 4, binary.addr(pid, "w8"), HW_WRITE, 8)
    with pytest.raises((ValueError, IndexError)):
        tracer.get_debugreg(pid, 4)  # DR4/DR5 are not accessible
