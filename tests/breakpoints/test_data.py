"""Processor (debug-register) breakpoints: `ba` and DEBUG_BREAKPOINT_DATA (spec §6.8,
hazards §10, scenarios 36-38).  A write watchpoint catches writes from threads created
after it was set; sizes need aligned addresses; four slots are all x86 has; an execute
breakpoint fires once per execution, never in a loop.

A data breakpoint traps after the access: the pc is the instruction after the store,
found here by decoding the writer and looking for the store to the watched address.
"""

from __future__ import annotations

import pytest
from capstone.x86 import X86_OP_MEM, X86_REG_RIP

from pydbg.breakpoints import BreakpointError
from tests.api.recording import GO
from tests.breakpoints.helpers import (
    BREAK_EXECUTE,
    BREAK_READ,
    BREAK_WRITE,
    DATA,
    ENABLED,
    Debuggee,
    after,
)


@pytest.fixture(autouse=True)
def _debug_registers() -> None:
    from pydbg._native import Tracer

    if not hasattr(Tracer, "set_process_hw_breakpoint"):
        pytest.skip("the native core has no process-wide debug registers yet")


def _store_to(target: Debuggee, function: str, address: int):
    """The instruction of `function` that stores to `address` (rip-relative)."""
    for insn in target.code(function):
        for op in insn.operands:
            if (
                op.type == X86_OP_MEM
                and op.mem.base == X86_REG_RIP
                and after(insn) + op.mem.disp == address
                and insn.mnemonic.startswith("mov")
                and insn.operands[0].type == X86_OP_MEM
            ):
                return insn
    raise AssertionError(f"no store to {address:#x} in {function}")


def _at_ready(client, launch, *args: object) -> Debuggee:
    target = launch("bp_threads", *args)
    ready = target.breakpoint(target.addr("bp_ready"))
    assert target.go() is True
    client.control.remove_breakpoint(ready)
    return target


def _watch(client, target: Debuggee, name: str, size: int, access: int = BREAK_WRITE):
    bp = client.control.add_breakpoint(DATA)
    bp.set_data_parameters(size, access)
    bp.set_offset(target.addr(name))
    bp.add_flags(ENABLED)
    return bp


def _catches_writes_of_later_threads(client, recorder, target: Debuggee, bp) -> None:
    watched = target.addr("watched")
    store = _store_to(target, "watch_writer", watched)
    tids = set()
    for k in range(1, 5):
        assert target.go() is True
        assert recorder.args_of("breakpoint")[-1] == (bp,)
        assert target.pc() == after(store)
        assert target.global_int("watched", 4) == k
        tids.add(target.tid())
    assert target.pid not in tids and len(tids) == 4  # four new threads, none the main one
    assert target.run_to_end() == 0
    assert target.result() == "watched 4"
    assert bp.hit_count == 4


def test_ba_w4_catches_writes_of_threads_created_after_it(client, recorder, output, launch):
    target = _at_ready(client, launch, "watch", 4)
    client.control.execute(f"ba w4 {target.addr('watched'):#x}")
    (bp,) = client.control.breakpoints()
    assert bp.get_type()[0] == DATA
    assert bp.get_data_parameters() == (4, BREAK_WRITE)
    assert bp.get_offset() == target.addr("watched")
    output.take()
    client.control.execute("bl")
    assert " w 4 " in output.take()
    _catches_writes_of_later_threads(client, recorder, target, bp)


def test_data_breakpoint_api_catches_writes_of_later_threads(client, recorder, launch):
    target = _at_ready(client, launch, "watch", 4)
    bp = _watch(client, target, "watched", 4)
    _catches_writes_of_later_threads(client, recorder, target, bp)


def test_read_watch_catches_reads_and_writes(client, recorder, launch):
    target = _at_ready(client, launch, "watch", 2)
    client.control.execute(f"ba r4 {target.addr('watched'):#x}")
    (bp,) = client.control.breakpoints()
    assert bp.get_data_parameters() == (4, BREAK_READ)
    writers = set()
    for k in (1, 2):
        assert target.go() is True
        assert target.global_int("watched", 4) == k
        writers.add(target.tid())
    assert target.pid not in writers
    # x86 has no read-only watch: READ is read or write; main then reads the result.
    assert target.go() is True
    assert target.tid() == target.pid
    client.control.execute("bc *")
    assert target.run_to_end() == 0
    assert target.result() == "watched 2"


def test_disabled_data_breakpoint_catches_nothing(client, recorder, launch):
    target = _at_ready(client, launch, "watch", 4)
    bp = _watch(client, target, "watched", 4)
    bp.remove_flags(ENABLED)
    recorder.take()
    assert target.run_to_end() == 0
    assert "breakpoint" not in recorder.names()
    assert target.result() == "watched 4"
    assert bp.hit_count == 0


def test_misaligned_watch_is_refused(client, recorder, launch):
    target = _at_ready(client, launch, "watch", 1)
    watched = target.addr("watched")
    with pytest.raises(BreakpointError, match="align"):
        client.control.execute(f"ba w4 {watched + 1:#x}")
    assert client.control.get_number_breakpoints() == 0

    bp = client.control.add_breakpoint(DATA)
    bp.set_data_parameters(4, BREAK_WRITE)
    with pytest.raises(BreakpointError, match="align"):
        bp.set_offset(watched + 2)
    bp.set_offset(watched + 4)  # 4-aligned, not 8-aligned (watched is 8-aligned)
    with pytest.raises(BreakpointError, match="align"):
        bp.set_data_parameters(8, BREAK_WRITE)
    assert bp.get_data_parameters() == (4, BREAK_WRITE)
    client.control.remove_breakpoint(bp)
    assert target.run_to_end() == 0


def test_a_fifth_data_breakpoint_is_refused_clearly(client, recorder, launch):
    target = _at_ready(client, launch, "watch", 2)
    watches = [
        _watch(client, target, "watched", 4),
        _watch(client, target, "hot_total", 8),
        _watch(client, target, "data_word", 8),
        _watch(client, target, "data_word", 1),
    ]
    fifth = client.control.add_breakpoint(DATA)
    fifth.set_data_parameters(2, BREAK_WRITE)
    fifth.set_offset(target.addr("data_word") + 2)
    with pytest.raises(BreakpointError, match="debug registers"):
        fifth.add_flags(ENABLED)
    assert not fifth.get_flags() & ENABLED
    with pytest.raises(BreakpointError, match="debug registers"):
        client.control.execute(f"ba w1 {target.addr('data_word') + 7:#x}")
    assert client.control.get_number_breakpoints() == 5

    # Freeing a slot makes room; the session went on meanwhile.
    client.control.remove_breakpoint(watches[3])
    fifth.add_flags(ENABLED)
    assert fifth.get_flags() & ENABLED
    assert target.go() is True
    assert recorder.args_of("breakpoint")[-1] == (watches[0],)
    client.control.execute("bc *")
    assert target.run_to_end() == 0
    assert target.result() == "watched 2"


def test_execute_breakpoint_fires_once_per_call(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 100)
    address = target.addr("bp_hot")
    bp = client.control.add_breakpoint(DATA)
    bp.set_data_parameters(1, BREAK_EXECUTE)
    bp.set_offset(address)
    bp.add_flags(ENABLED)
    assert target.raw(address, 1) != b"\xcc"  # no int3: a debug register
    seen: list[int] = []

    def vote(b):
        assert target.pc() == address
        seen.append(target.reg("rdi"))
        return GO

    recorder.votes["breakpoint"] = vote
    assert target.run_to_end() == 0
    assert seen == list(range(100))
    assert target.result() == "total 100"


def test_ba_e1_breaks_at_the_instruction(client, recorder, launch):
    target = launch("bp_threads", "hot", 2, 10)
    address = target.addr("bp_hot")
    client.control.execute(f"ba e1 {address:#x}")
    (bp,) = client.control.breakpoints()
    assert bp.get_data_parameters() == (1, BREAK_EXECUTE)
    for _ in range(3):
        assert target.go() is True
        assert target.pc() == address
    client.control.execute("bc *")
    assert target.run_to_end() == 0
    assert target.result() == "total 20"


def test_execute_breakpoint_of_size_4_is_refused(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 1)
    bp = client.control.add_breakpoint(DATA)
    with pytest.raises(BreakpointError):
        bp.set_data_parameters(4, BREAK_EXECUTE)
    with pytest.raises(BreakpointError):
        client.control.execute(f"ba e4 {target.addr('bp_hot'):#x}")
    client.control.remove_breakpoint(bp)
    assert client.control.get_number_breakpoints() == 0
    assert target.run_to_end() == 0
