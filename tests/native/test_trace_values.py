"""Tracer.trace extensions: recording a register at every step, and stopping when the
function returns (until_return), checked on straight-line code and on a recursive
factorial whose deeper frames return to the same address."""

from __future__ import annotations

import subprocess

import pytest

from pydbg._native import HW_EXECUTE, EventKind, TraceReason
from tests.support import linear_pcs


def _run_to(tracer, driver, pid, address, nth=1):
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    for _ in range(nth):
        driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == address)
        if _ < nth - 1:
            tracer.cont(pid)
    tracer.remove_breakpoint(pid, address)


def _fact(tracer, driver, targets, n, nth=1):
    """`bphot fact n` stopped at the entry of its nth call of fact (argument n - nth + 1)."""
    binary = targets["bphot"]
    pid = tracer.spawn([binary.path, "fact", str(n)], stdout=subprocess.DEVNULL)
    fact = binary.addr(pid, "fact")
    _run_to(tracer, driver, pid, fact, nth)
    assert tracer.get_reg(pid, "rdi") == n - nth + 1
    return binary, pid, fact


def test_register_values_follow_the_pcs(tracer, driver, targets):
    """In the block of 1000 `add $1, %rax`, rax before instruction k is 5 + k."""
    binary = targets["block"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, pid, binary.addr(pid, "block_start"))
    pcs = linear_pcs(tracer, pid, binary.addr(pid, "block_start"), binary.addr(pid, "block_end"))
    result = tracer.trace(pid, 1000, register="rax")
    assert result.reason == TraceReason.COUNT and result.steps == 1000
    assert result.values.format == "Q"
    assert list(result.pcs) == pcs
    assert list(result.values) == [5 + k for k in range(1000)]
    # rip is the pc itself; without record the values still come.
    more = tracer.trace(pid, 3, register="rip")
    assert list(more.values) == list(more.pcs) and more.pcs[0] == binary.addr(pid, "block_end")
    quiet = tracer.trace(pid, 2, record=False, register="rip")
    assert len(quiet.pcs) == 0 and len(quiet.values) == 2
    assert len(tracer.trace(pid, 2).values) == 0  # no register asked
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_unknown_register_is_refused(tracer, driver, targets):
    binary = targets["block"]
    pid = tracer.spawn([binary.path])
    with pytest.raises(KeyError):
        tracer.trace(pid, 10, register="xmm0")
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_until_return_from_the_outermost_call(tracer, driver, targets):
    """From fact's first instruction, the trace runs through all 6 recursive calls and
    their returns (to the same address inside fact) and stops at the caller, in main."""
    binary, pid, fact = _fact(tracer, driver, targets, 6)
    rsp = tracer.get_reg(pid, "rsp")
    ret = int.from_bytes(tracer.read_memory(pid, rsp, 8), "little")
    result = tracer.trace(pid, 100_000, register="rdi", until_return=True)
    assert result.reason == TraceReason.RETURNED
    assert tracer.get_pc(pid) == ret
    main = binary.addr(pid, "main")
    assert main <= ret < main + binary.sym_size("main")
    assert tracer.get_reg(pid, "rsp") == rsp + 8
    assert tracer.get_reg(pid, "rax") == 720
    entries = [v for pc, v in zip(result.pcs, result.values, strict=True) if pc == fact]
    assert entries == [6, 5, 4, 3, 2, 1]
    # The last instruction traced is fact's outermost `ret`.
    assert result.pcs[-1] in range(fact, fact + binary.sym_size("fact"))
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_until_return_stops_at_its_own_depth(tracer, driver, targets):
    """Entered at the third call (fact(4) of fact(6)): deeper calls return to the same
    address inside fact with the stack pointer below the frame; only fact(4)'s own
    return, above it, ends the trace."""
    binary, pid, fact = _fact(tracer, driver, targets, 6, nth=3)
    rsp = tracer.get_reg(pid, "rsp")
    ret = int.from_bytes(tracer.read_memory(pid, rsp, 8), "little")
    assert fact < ret < fact + binary.sym_size("fact")  # a recursive call site
    result = tracer.trace(pid, 100_000, register="rdi", until_return=True)
    assert result.reason == TraceReason.RETURNED
    assert tracer.get_pc(pid) == ret and tracer.get_reg(pid, "rsp") == rsp + 8
    assert tracer.get_reg(pid, "rax") == 24  # fact(4)
    # Three deeper frames returned to ret before: those passes did not stop the trace.
    assert list(result.pcs).count(ret) == 3
    entries = [v for pc, v in zip(result.pcs, result.values, strict=True) if pc == fact]
    assert entries == [4, 3, 2, 1]
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_until_return_with_an_explicit_frame(tracer, driver, targets):
    """Started inside the function, the caller names the return address and the stack
    slot that holds it (the stack pointer at the function's entry)."""
    binary, pid, fact = _fact(tracer, driver, targets, 5)
    slot = tracer.get_reg(pid, "rsp")
    ret = int.from_bytes(tracer.read_memory(pid, slot, 8), "little")
    for _ in range(3):  # push rbp; mov rbp, rsp; ...: the stack pointer has moved
        tracer.step(pid)
    assert tracer.get_reg(pid, "rsp") != slot
    result = tracer.trace(pid, 100_000, until_return=(ret, slot))
    assert result.reason == TraceReason.RETURNED
    assert tracer.get_pc(pid) == ret and tracer.get_reg(pid, "rax") == 120
    # Checked before every step, the first included: already returned, nothing to do.
    again = tracer.trace(pid, 5, until_return=(ret, slot))
    assert again.reason == TraceReason.RETURNED and again.steps == 0
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_until_return_and_until_whichever_comes_first(tracer, driver, targets):
    binary, pid, fact = _fact(tracer, driver, targets, 5)
    slot = tracer.get_reg(pid, "rsp")
    ret = int.from_bytes(tracer.read_memory(pid, slot, 8), "little")
    tracer.step(pid)  # off the entry, which `until` would match at once
    result = tracer.trace(pid, 100_000, until=fact, until_return=(ret, slot))
    assert result.reason == TraceReason.ADDRESS  # the recursive call reaches fact first
    assert tracer.get_reg(pid, "rdi") == 4
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_trace_through_a_declining_execute_slot(tracer, driver, targets):
    """An execute slot on fact whose condition declines every trap: the trace meets it at
    each entry (the first included), counts it, and goes on without an event."""
    binary, pid, fact = _fact(tracer, driver, targets, 6)
    tracer.set_process_hw_breakpoint(pid, 0, fact, HW_EXECUTE, 1)
    tracer.set_breakpoint_condition(pid, fact, register="rdi", reg_op=">", reg_value=100)
    result = tracer.trace(pid, 100_000, register="rdi", until_return=True)
    assert result.reason == TraceReason.RETURNED and result.event is None
    assert tracer.get_reg(pid, "rax") == 720
    entries = [v for pc, v in zip(result.pcs, result.values, strict=True) if pc == fact]
    assert entries == [6, 5, 4, 3, 2, 1]
    assert tracer.breakpoint_counts(pid, fact) == (6, 0)
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_branch_step_crosses_a_declined_site(tracer, driver, targets):
    """branch_step runs to the block's jmp with a temporary breakpoint; a conditional
    site on the way that declines its trap does not end it."""
    binary = targets["block"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, pid, binary.addr(pid, "block_start"))
    pcs = linear_pcs(tracer, pid, binary.addr(pid, "block_start"), binary.addr(pid, "block_end"))
    tracer.insert_breakpoint(pid, pcs[500])
    tracer.set_breakpoint_condition(pid, pcs[500], register="rax", reg_op="==", reg_value=0)
    event = tracer.branch_step(pid)
    assert event.kind == EventKind.STEP
    assert tracer.get_pc(pid) == binary.addr(pid, "block_target")
    assert tracer.get_reg(pid, "rax") == 1005
    assert tracer.breakpoint_counts(pid, pcs[500]) == (1, 0)
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
