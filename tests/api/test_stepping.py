"""Stepping through set_execution_status + wait_for_event: STEP_INTO, STEP_OVER across a
call, STEP_BRANCH to the next branch target, and step counts (spec §4.1, §4.6, §9.3).

The events target's `steps` mode stops itself with an int3 right before step_start (three
straight-line instructions, then a C call of step_callee at -O0).  Expected addresses come
from capstone decoding the target's own bytes, read through client.data_spaces at symbols
pyelftools found; nothing is hard-coded.
"""

from __future__ import annotations

from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from tests.api.helpers import read_lines, wait
from tests.api.recording import (
    BROKE_IN,
    GO,
    STATUS_BREAKPOINT,
    STEP_BRANCH,
    STEP_INTO,
    STEP_OVER,
    exception,
    exit_process,
    status,
)

_cs = Cs(CS_ARCH_X86, CS_MODE_64)


def _at_step_start(client, recorder, start, events) -> int:
    """Run the `steps` mode to its own int3; return the pid.  The pc is step_start."""
    pid = start("steps")
    client.control.set_execution_status(GO)
    assert wait(client) is True
    assert recorder.take() == [status(GO), exception(STATUS_BREAKPOINT, True), *BROKE_IN]
    ((record, _),) = recorder.args_of("exception")[-1:]
    assert record.exception_address == events.addr(pid, "step_break")
    assert client.registers.get_value("rip") == events.addr(pid, "step_start")
    return pid


def _instructions(client, address: int, count: int) -> list:
    """`count` instructions decoded from the target's memory at `address`."""
    code = client.data_spaces.read_virtual(address, 15 * count)
    insns = list(_cs.disasm(code, address, count))
    assert len(insns) == count
    return insns


def _callee_runs(client, events, pid) -> int:
    data = client.data_spaces.read_virtual(events.addr(pid, "callee_runs"), 8)
    return int.from_bytes(data, "little")


def _step(client, recorder, how: int, count: int = 1) -> None:
    """One step request and its wait: the engine breaks when it is done, and that break
    is its own, not an Exception callback (§4.6)."""
    client.control.set_execution_status(how, count)
    assert wait(client) is True
    assert recorder.take() == [status(how), *BROKE_IN]


def test_step_into_executes_one_instruction(client, recorder, start, events):
    pid = _at_step_start(client, recorder, start, events)
    (first,) = _instructions(client, events.addr(pid, "step_start"), 1)
    assert first.mnemonic == "nop"
    _step(client, recorder, STEP_INTO)
    assert client.registers.get_value("rip") == first.address + first.size


def test_trace_command_with_a_count(client, recorder, output, start, events):
    pid = _at_step_start(client, recorder, start, events)
    insns = _instructions(client, events.addr(pid, "step_start"), 3)
    assert [i.mnemonic for i in insns] == ["nop", "xor", "add"]
    after = insns[-1].address + insns[-1].size
    output.take()
    # `t 3` arms three steps; `r rip` after it runs once they are done (implicit wait).
    client.control.execute("t 3; r rip")
    # (Before it, the state after each step, as cdb shows it.)
    assert output.take().endswith(f"\nrip={after:016x}\n")
    # Shown step by step, the three steps run one at a time.
    assert recorder.take() == [status(STEP_INTO), *BROKE_IN] * 3


def test_step_over_runs_the_whole_call(client, recorder, start, events, out_file):
    pid = _at_step_start(client, recorder, start, events)
    callee = events.addr(pid, "step_callee")
    caller_end = events.addr(pid, "step_caller") + events.sym_size("step_caller")
    # Find the call in step_caller's own bytes and step up to it.
    pc = events.addr(pid, "step_start")
    steps = 0
    while True:
        (insn,) = _instructions(client, pc, 1)
        assert insn.address < caller_end, "no call of step_callee in step_caller"
        if insn.mnemonic == "call":
            break
        pc, steps = insn.address + insn.size, steps + 1
    assert int(insn.op_str, 16) == callee
    _step(client, recorder, STEP_INTO, steps)
    assert client.registers.get_value("rip") == insn.address
    assert _callee_runs(client, events, pid) == 0

    _step(client, recorder, STEP_OVER)
    assert client.registers.get_value("rip") == insn.address + insn.size
    assert _callee_runs(client, events, pid) == 1

    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert exit_process(1) in recorder.take()
    assert read_lines(out_file) == ["callee_runs 1"]


def test_step_over_a_plain_instruction_is_one_step(client, recorder, start, events):
    pid = _at_step_start(client, recorder, start, events)
    (first,) = _instructions(client, events.addr(pid, "step_start"), 1)
    _step(client, recorder, STEP_OVER)
    assert client.registers.get_value("rip") == first.address + first.size


def test_step_branch_ends_at_the_branch_target(client, recorder, start, events):
    pid = _at_step_start(client, recorder, start, events)
    # nop; xor; add fall through; the next taken branch is the call of step_callee.
    _step(client, recorder, STEP_BRANCH)
    assert client.registers.get_value("rip") == events.addr(pid, "step_callee")
    assert _callee_runs(client, events, pid) == 0
