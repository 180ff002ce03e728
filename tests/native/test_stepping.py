"""Stepping: single steps checked against capstone's decoding of the target's own bytes,
stepping over breakpoint sites and syscalls, the C loops (trace, run_until), branch_step
over the 1000-instruction block, and PTRACE_SYSCALL stops (hazards §9.2-9.4; scenarios
29-31, 35, 41)."""

from __future__ import annotations

import os
import signal

import pytest

from pydbg._native import (
    REQ_SINGLESTEP,
    REQ_SYSCALL,
    TRAP_BRKPT,
    TRAP_TRACE,
    EventKind,
    TraceReason,
)
from tests.support import insn_at, linear_pcs, successors

SYS_GETPID = 39


def _run_to(tracer, driver, binary, pid, symbol, keep=False):
    address = binary.addr(pid, symbol)
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == address)
    if not keep:
        tracer.remove_breakpoint(pid, address)
    return address


@pytest.fixture
def block(tracer, driver, targets):
    """The `block` target stopped at block_start (rax = 5), breakpoint removed."""
    binary = targets["block"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "block_start")
    assert tracer.get_reg(pid, "rax") == 5
    return binary, pid


def _block_pcs(tracer, binary, pid):
    """Addresses of the 1000 adds, decoded from memory."""
    pcs = linear_pcs(tracer, pid, binary.addr(pid, "block_start"), binary.addr(pid, "block_end"))
    assert len(pcs) == 1000
    return pcs


def _finish(tracer, driver, pid):
    tracer.cont(pid)
    return driver.until_exit(pid).exit_code


def test_step_lands_on_the_decoded_next_instruction(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "5"])
    _run_to(tracer, driver, binary, pid, "tick")
    checked = 0
    for _ in range(60):
        pc = tracer.get_pc(pid)
        insn = insn_at(tracer, pid, pc)
        expected = successors(tracer, pid, pid, insn)
        event = tracer.step(pid)
        assert event.kind == EventKind.STEP, (insn.mnemonic, event)
        assert event.tid == pid
        assert event.si_code == TRAP_TRACE
        new_pc = tracer.get_pc(pid)
        assert event.address == new_pc
        if expected is not None:
            assert new_pc in expected, f"{insn.mnemonic} {insn.op_str} at {pc:#x} -> {new_pc:#x}"
            checked += 1
    assert checked >= 50
    assert _finish(tracer, driver, pid) == 0


def test_first_step_after_spawn_executes_the_first_instruction(tracer, driver, targets):
    """The spawned program sits in its exec stop, inside execve: a single step from there
    only finishes the system call at the same pc.  step() must still execute one
    instruction, or the first `t` of a session would do nothing."""
    pid = tracer.spawn([targets["loop"].path, "1"])
    for _ in range(3):
        pc = tracer.get_pc(pid)
        expected = successors(tracer, pid, pid, insn_at(tracer, pid, pc))
        event = tracer.step(pid)
        assert event.kind == EventKind.STEP
        assert tracer.get_pc(pid) != pc
        if expected is not None:
            assert tracer.get_pc(pid) in expected
    assert _finish(tracer, driver, pid) == 0


def test_first_step_after_a_clone_event_executes_an_instruction(tracer, driver, targets):
    """The same for the creating thread stopped at its CLONE event (inside clone)."""
    binary = targets["threads"]
    pid = tracer.spawn([binary.path, "2", "1"])
    tracer.cont(pid)
    event = driver.until(lambda e: e.kind == EventKind.CLONE)
    tid = event.tid
    pc = tracer.get_pc(tid)
    expected = successors(tracer, pid, tid, insn_at(tracer, pid, pc))
    assert tracer.step(tid).kind == EventKind.STEP
    if expected is not None:
        assert tracer.get_pc(tid) in expected
    assert tracer.get_pc(tid) != pc or expected == {pc}
    tracer.kill(pid)


def test_singlestep_reports_through_wait(tracer, driver, block):
    binary, pid = block
    start = binary.addr(pid, "block_start")
    tracer.singlestep(pid)
    assert tracer.last_request(pid) == REQ_SINGLESTEP
    event = driver.next()
    assert event.kind == EventKind.STEP and event.tid == pid
    assert tracer.get_pc(pid) == _block_pcs(tracer, binary, pid)[1]
    assert tracer.get_pc(pid) == start + insn_at(tracer, pid, start).size
    assert tracer.get_reg(pid, "rax") == 6
    assert _finish(tracer, driver, pid) == 0


def test_step_over_breakpoint_site(tracer, driver, targets):
    binary = targets["block"]
    pid = tracer.spawn([binary.path])
    start = _run_to(tracer, driver, binary, pid, "block_start", keep=True)
    original = tracer.read_memory(pid, start, 4)
    event = tracer.step(pid)
    assert event.kind == EventKind.STEP
    pcs = _block_pcs(tracer, binary, pid)
    assert tracer.get_pc(pid) == pcs[1]
    assert tracer.get_reg(pid, "rax") == 6  # the original add ran exactly once
    # The breakpoint is back in place, invisible to reads.
    assert start in tracer.breakpoints(pid)
    assert tracer.read_memory(pid, start, 4) == original
    # Jump back onto the site: it traps again.
    tracer.set_pc(pid, start)
    tracer.set_reg(pid, "rax", 5)
    tracer.cont(pid)
    again = driver.until_kind(EventKind.BREAKPOINT)
    assert again.address == start and tracer.get_reg(pid, "rax") == 5
    tracer.remove_breakpoint(pid, start)
    assert _finish(tracer, driver, pid) == 0


def test_trace_records_pcs(tracer, driver, block):
    binary, pid = block
    pcs = _block_pcs(tracer, binary, pid)
    result = tracer.trace(pid, 100)
    assert result.reason == TraceReason.COUNT
    assert result.steps == 100
    assert result.event is None
    assert result.pcs.format == "Q"
    assert list(result.pcs) == pcs[:100]
    assert tracer.get_pc(pid) == pcs[100]
    assert tracer.get_reg(pid, "rax") == 105
    quiet = tracer.trace(pid, 50, record=False)
    assert quiet.steps == 50 and len(quiet.pcs) == 0
    assert tracer.get_reg(pid, "rax") == 155
    assert _finish(tracer, driver, pid) == 0


def test_trace_until_address(tracer, driver, block):
    binary, pid = block
    pcs = _block_pcs(tracer, binary, pid)
    result = tracer.trace(pid, 1_000_000, until=binary.addr(pid, "block_end"))
    assert result.reason == TraceReason.ADDRESS
    assert result.steps == 1000
    assert list(result.pcs) == pcs
    assert tracer.get_pc(pid) == binary.addr(pid, "block_end")
    assert tracer.get_reg(pid, "rax") == 1005
    assert _finish(tracer, driver, pid) == 0


def test_trace_steps_over_breakpoints_transparently(tracer, driver, block):
    binary, pid = block
    pcs = _block_pcs(tracer, binary, pid)
    tracer.insert_breakpoint(pid, pcs[10])
    result = tracer.trace(pid, 5000, until=binary.addr(pid, "block_end"))
    assert result.reason == TraceReason.ADDRESS
    assert list(result.pcs) == pcs  # the site appears once, executed once
    assert tracer.get_reg(pid, "rax") == 1005
    assert pcs[10] in tracer.breakpoints(pid)
    tracer.remove_breakpoint(pid, pcs[10])
    assert _finish(tracer, driver, pid) == 0


def test_trace_stops_at_breakpoints_when_asked(tracer, driver, block):
    binary, pid = block
    pcs = _block_pcs(tracer, binary, pid)
    tracer.insert_breakpoint(pid, pcs[10])
    result = tracer.trace(pid, 5000, stop_at_breakpoints=True)
    assert result.reason == TraceReason.BREAKPOINT
    assert result.steps == 10
    assert list(result.pcs) == pcs[:10]
    assert tracer.get_pc(pid) == pcs[10]
    assert tracer.get_reg(pid, "rax") == 15
    tracer.remove_breakpoint(pid, pcs[10])
    assert _finish(tracer, driver, pid) == 0


def test_trace_stops_only_at_the_listed_sites(tracer, driver, block):
    binary, pid = block
    pcs = _block_pcs(tracer, binary, pid)
    tracer.insert_breakpoint(pid, pcs[10])
    tracer.insert_breakpoint(pid, pcs[20])
    result = tracer.trace(pid, 5000, stop_at_breakpoints=[pcs[20]])
    assert result.reason == TraceReason.BREAKPOINT
    assert list(result.pcs) == pcs[:20]  # the unlisted site was stepped over
    # The stop is the record an int3 trap there would have made.
    event = result.event
    assert event.kind == EventKind.BREAKPOINT and event.address == pcs[20]
    assert event.tid == pid and event.signal == signal.SIGTRAP
    assert tracer.get_pc(pid) == pcs[20]
    # The starting pc never stops the trace; the instruction there runs once.
    result = tracer.trace(pid, 5, stop_at_breakpoints=[pcs[20]])
    assert result.reason == TraceReason.COUNT and list(result.pcs) == pcs[20:25]
    assert tracer.get_reg(pid, "rax") == 30
    tracer.remove_breakpoint(pid, pcs[10])
    tracer.remove_breakpoint(pid, pcs[20])
    assert _finish(tracer, driver, pid) == 0


def test_trace_stops_at_an_execute_slot_as_at_an_int3(tracer, driver, block):
    from pydbg._native import HW_EXECUTE

    binary, pid = block
    pcs = _block_pcs(tracer, binary, pid)
    tracer.set_hw_breakpoint(pid, 0, pcs[0], HW_EXECUTE, 1)
    tracer.set_hw_breakpoint(pid, 1, pcs[7], HW_EXECUTE, 1)
    # Slot 0 is at the starting pc: stepped past, as an int3 there would be.
    result = tracer.trace(pid, 5000)
    assert result.reason == TraceReason.BREAKPOINT
    assert list(result.pcs) == pcs[:7]
    assert result.event.kind == EventKind.HW_BREAKPOINT and result.event.dr6 & 0b10
    assert tracer.get_pc(pid) == pcs[7] and tracer.get_reg(pid, "rax") == 12
    result = tracer.trace(pid, 3)
    assert result.reason == TraceReason.COUNT and list(result.pcs) == pcs[7:10]
    tracer.clear_hw_breakpoint(pid, 0)
    tracer.clear_hw_breakpoint(pid, 1)
    assert _finish(tracer, driver, pid) == 0


def test_trace_ends_at_a_signal_event(tracer, driver, targets):
    binary = targets["signals"]
    pid = tracer.spawn([binary.path, "int3"])
    _run_to(tracer, driver, binary, pid, "do_own_int3")
    result = tracer.trace(pid, 1000)
    assert result.reason == TraceReason.EVENT
    event = result.event
    assert event.kind == EventKind.SIGNAL and event.signal == signal.SIGTRAP
    assert event.si_code != TRAP_TRACE  # the int3, not a step
    assert tracer.get_pc(pid) == binary.addr(pid, "own_int3") + 1
    assert result.steps == len(result.pcs) > 0
    tracer.cont(pid, signal.SIGTRAP)
    assert driver.until_exit(pid).exit_code == 11


def test_run_until(tracer, driver, block):
    binary, pid = block
    result = tracer.run_until(pid, binary.addr(pid, "block_target"))
    assert result.reason == TraceReason.ADDRESS
    assert result.steps == 1001  # 1000 adds and the jmp
    assert tracer.get_pc(pid) == binary.addr(pid, "block_target")
    assert tracer.get_reg(pid, "rax") == 1005
    limited = tracer.run_until(pid, binary.addr(pid, "after_call"), max_steps=3)
    assert limited.reason == TraceReason.COUNT and limited.steps == 3
    assert _finish(tracer, driver, pid) == 0


@pytest.mark.timeout(120)
def test_trace_true_to_exit(tracer, driver):
    pid = tracer.spawn(["true"])
    first = tracer.get_pc(pid)
    result = tracer.trace(pid, 50_000_000)
    assert result.reason == TraceReason.EVENT
    assert result.event.kind == EventKind.EXIT
    assert result.event.exit_code == 0
    assert result.steps == len(result.pcs) > 1000
    assert result.pcs[0] == first
    # The trace ended in the exit_group syscall: the thread sits in its PTRACE_EVENT_EXIT
    # stop right after a `syscall` instruction, and its memory is still readable there.
    assert tracer.read_memory(pid, tracer.get_pc(pid) - 2, 2) == b"\x0f\x05"
    assert tracer.get_reg(pid, "orig_rax") == 231  # exit_group
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_trace_static_binary_from_entry_to_exit(tracer, driver, targets):
    binary = targets.get("loop", "static")
    if binary is None:
        pytest.skip("gcc -static does not work here")
    pid = tracer.spawn([binary.path, "3"])
    result = tracer.trace(pid, 50_000_000)
    assert result.reason == TraceReason.EVENT and result.event.kind == EventKind.EXIT
    assert result.pcs[0] == binary.entry
    tick = binary.sym("tick")
    assert list(result.pcs).count(tick) == 3
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_branch_step(tracer, driver, block):
    """Scenario 35: each branch_step stops at the target of the next *taken* branch."""
    binary, pid = block
    hops = [
        ("block_target", 1005),  # over the 1000 adds and the jmp
        ("second_target", 1005),  # past the not-taken jnz to the taken jmp
        ("block_callee", 1005),  # the call
        ("after_call", 1005),  # the ret
    ]
    for symbol, rax in hops:
        event = tracer.branch_step(pid)
        assert event.kind == EventKind.STEP, (symbol, event)
        assert tracer.get_pc(pid) == binary.addr(pid, symbol), symbol
        assert tracer.get_reg(pid, "rax") == rax
    # No temporary breakpoint is left behind.
    assert tracer.breakpoints(pid) == {}
    assert _finish(tracer, driver, pid) == 0


def test_singleblock_probe(tracer):
    works = tracer.singleblock_works()
    assert isinstance(works, bool)
    assert tracer.singleblock_works() is works


def test_step_over_syscall_instruction(tracer, driver, targets):
    """Scenario 31: stepping `syscall` runs it and stops after it: a STEP with
    si_code TRAP_BRKPT, not a breakpoint."""
    binary = targets["sysret"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "getpid_insn")
    event = tracer.step(pid)
    assert event.kind == EventKind.STEP
    assert event.si_code == TRAP_BRKPT
    assert tracer.get_pc(pid) == binary.addr(pid, "after_getpid")
    assert tracer.get_reg(pid, "rax") == pid
    assert _finish(tracer, driver, pid) == 0


def test_step_with_signal_enters_handler(tracer, driver, targets):
    """Scenario 30: a step that injects a signal stops at the handler's first instruction."""
    binary = targets["signals"]
    pid = tracer.spawn([binary.path, "usr1wait"])
    _run_to(tracer, driver, binary, pid, "usr1_ready")
    event = tracer.step(pid, signal.SIGUSR1)
    assert event.kind == EventKind.STEP
    assert tracer.get_pc(pid) == binary.addr(pid, "on_signal")
    assert _finish(tracer, driver, pid) == 1


def test_singlestep_with_signal_reports_step_at_handler(tracer, driver, targets):
    """The asynchronous form: the stop at the handler's first instruction is the STEP
    (the kernel reports it with si_code SIGTRAP from ptrace_notify), not a SIGTRAP signal
    that would kill the program if delivered."""
    binary = targets["signals"]
    pid = tracer.spawn([binary.path, "usr1wait"])
    _run_to(tracer, driver, binary, pid, "usr1_ready")
    assert tracer.step(pid).kind == EventKind.STEP  # leave the former breakpoint site
    tracer.singlestep(pid, signal.SIGUSR1)
    event = driver.next()
    assert tracer.get_pc(pid) == binary.addr(pid, "on_signal")
    assert event.kind == EventKind.STEP, event
    assert _finish(tracer, driver, pid) == 1


def test_syscall_stops_and_return_value_rewrite(tracer, driver, targets):
    """Scenario 41: at the exit stop of getpid, set rax = 1234: the program sees 1234."""
    binary = targets["sysret"]
    pid = tracer.spawn([binary.path])
    after = binary.addr(pid, "after_getpid")
    entry = None
    for _ in range(10_000):
        tracer.syscall(pid)
        assert tracer.last_request(pid) == REQ_SYSCALL
        event = driver.next()
        assert event.kind == EventKind.SYSCALL, event
        is_getpid_entry = event.syscall_op == 1 and event.syscall_nr == SYS_GETPID
        if is_getpid_entry and tracer.get_pc(pid) == after:
            entry = event
            break
    assert entry is not None
    assert tracer.get_reg(pid, "orig_rax") == SYS_GETPID
    assert entry.address == after
    tracer.syscall(pid)
    exit_stop = driver.next()
    assert exit_stop.kind == EventKind.SYSCALL
    assert exit_stop.syscall_op == 2
    assert exit_stop.syscall_ret == pid
    assert exit_stop.syscall_nr == -1
    assert tracer.get_reg(pid, "rax") == pid
    tracer.set_reg(pid, "rax", 1234)
    assert _finish(tracer, driver, pid) == 42


def test_step_pc_matches_capstone_in_o2_code(tracer, driver, targets):
    binary = targets.get("block", "pie-O2")
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "run_block")
    for _ in range(20):
        pc = tracer.get_pc(pid)
        insn = insn_at(tracer, pid, pc)
        expected = successors(tracer, pid, pid, insn)
        assert tracer.step(pid).kind == EventKind.STEP
        if expected is not None:
            assert tracer.get_pc(pid) in expected, f"{insn.mnemonic} {insn.op_str} at {pc:#x}"
    assert _finish(tracer, driver, pid) == 0


def test_stepping_does_not_leak_into_the_environment(tracer, driver, targets):
    # After all the stepping above, a plain run still prints nothing unexpected.
    pid = tracer.spawn([targets["loop"].path, "3"])
    assert tracer.step(pid).kind == EventKind.STEP
    assert _finish(tracer, driver, pid) == 0
    assert os.path.exists(f"/proc/{pid}") is False
