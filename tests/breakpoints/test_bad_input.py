"""Breakpoints asked for wrongly (spec §6.8; pydbg.breakpoints): each request fails with a
clear BreakpointError (or a command error for text that does not read), nothing is
patched, and the session goes on as if nothing had been asked.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from pydbg.breakpoints import BreakpointError, RemovedBreakpointError
from pydbg.commands.errors import CommandError
from tests.breakpoints.helpers import (
    BREAK_WRITE,
    CODE,
    DEFERRED,
    ENABLED,
    INVALID_OFFSET,
    Debuggee,
)
from tests.support import maps


def _unmapped(pid: int) -> int:
    """An address in a gap between two mappings of the process."""
    for (_, end, _, _, _), (start, _, _, _, _) in pairwise(sorted(maps(pid))):
        if start - end >= 0x2000:
            return end + 0x1000
    raise AssertionError("no gap in the address space")


def _finishes(target: Debuggee, result: str = "total 10") -> None:
    assert target.run_to_end() == 0
    assert target.result() == result


def test_breakpoint_at_an_unmapped_address(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    nowhere = _unmapped(target.pid)
    bp = client.control.add_breakpoint(CODE)
    with pytest.raises(BreakpointError, match="not mapped"):
        bp.set_offset(nowhere)
    assert bp.get_offset() == INVALID_OFFSET
    with pytest.raises(BreakpointError, match="not mapped"):
        client.control.execute(f"bp {nowhere:#x}")
    assert client.control.breakpoints() == [bp]  # the failed command left nothing
    client.control.remove_breakpoint(bp)
    _finishes(target)


def test_breakpoint_at_a_data_address(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    data = target.addr("data_word")
    before = target.raw(data, 8)
    assert int.from_bytes(before, "little") == 0x1122334455667788
    bp = client.control.add_breakpoint(CODE)
    with pytest.raises(BreakpointError, match="not executable"):
        bp.set_offset(data)
    with pytest.raises(BreakpointError, match="not executable"):
        client.control.execute(f"bp {data:#x}")
    assert target.raw(data, 8) == before
    assert target.read(data, 8) == before
    assert client.control.get_number_breakpoints() == 1
    client.control.remove_breakpoint(bp)
    _finishes(target)


def test_unknown_breakpoint_ids(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    kept = target.breakpoint(target.addr("bp_hot"))
    with pytest.raises(BreakpointError, match="99"):
        client.control.get_breakpoint_by_id(99)
    for command in ("bc 99", "bd 99", "be 99"):
        with pytest.raises(BreakpointError, match="99"):
            client.control.execute(command)
    with pytest.raises(BreakpointError):
        client.control.get_breakpoint_by_index(1)
    assert client.control.breakpoints() == [kept]
    assert kept.get_flags() & ENABLED
    assert target.go() is True
    client.control.remove_breakpoint(kept)
    with pytest.raises(BreakpointError):
        client.control.remove_breakpoint(kept)  # removed twice
    with pytest.raises(RemovedBreakpointError):
        kept.set_offset(target.addr("bp_hot"))
    _finishes(target)


def test_desired_ids(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    five = client.control.add_breakpoint(CODE, 5)
    assert five.get_id() == 5
    with pytest.raises(BreakpointError, match="taken"):
        client.control.add_breakpoint(CODE, 5)
    assert client.control.get_number_breakpoints() == 1
    assert client.control.add_breakpoint(CODE).get_id() == 0
    client.control.execute(f"bp7 {target.addr('bp_hot'):#x}")
    assert client.control.get_breakpoint_by_id(7).get_offset() == target.addr("bp_hot")
    assert [bp.get_id() for bp in client.control.breakpoints()] == [0, 5, 7]
    assert target.go() is True
    assert "Breakpoint 7 hit" in output.text()
    client.control.execute("bc *")
    _finishes(target)


@pytest.mark.parametrize(
    "command",
    [
        "bp",
        "bp )(",
        "bp /x {hot}",
        "bp {hot} junk junk",
        "bp {hot} 0",
        'bp {hot} "unterminated',
        "ba x4 {data}",
        "ba w3 {data}",
        "ba i4 {data}",
        "ba w4",
        "bc",
        "bc x",
        "gu now",
    ],
)
def test_garbage_commands_change_nothing(client, recorder, launch, command):
    target = launch("bp_threads", "hot", 0, 10)
    text = command.format(hot=hex(target.addr("bp_hot")), data=hex(target.addr("data_word")))
    with pytest.raises((CommandError, BreakpointError)):
        client.control.execute(text)
    assert client.control.get_number_breakpoints() == 0
    assert target.raw(target.addr("bp_hot"), 1) != b"\xcc"
    _finishes(target)


def test_offset_expression_that_cannot_be_evaluated_defers(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    bp = client.control.add_breakpoint(CODE)
    bp.set_offset_expression("no_such_function_yet")
    assert bp.get_flags() & DEFERRED
    assert bp.get_offset() == INVALID_OFFSET
    assert bp.get_offset_expression() == "no_such_function_yet"
    assert bp.get_parameters().offset == INVALID_OFFSET
    with pytest.raises(BreakpointError):
        bp.add_flags(DEFERRED)  # the engine's flag, not the client's
    with pytest.raises(BreakpointError):
        bp.remove_flags(DEFERRED)
    # An expression that evaluates places it: no longer deferred.
    bp.set_offset_expression(hex(target.addr("bp_hot")))
    assert not bp.get_flags() & DEFERRED
    assert bp.get_offset() == target.addr("bp_hot")
    client.control.remove_breakpoint(bp)
    _finishes(target)


def test_deferred_breakpoint_can_be_enabled(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    bp = client.control.add_breakpoint(CODE)
    bp.set_offset_expression("no_such_function_yet")
    bp.add_flags(ENABLED)
    assert bp.get_flags() == ENABLED | DEFERRED
    bp.remove_flags(ENABLED)
    assert bp.get_flags() == DEFERRED
    _finishes(target)


def test_bu_on_what_cannot_be_evaluated_yet_is_deferred(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    client.control.execute("bu no_such_function_yet")
    (bp,) = client.control.breakpoints()
    assert bp.get_flags() & DEFERRED
    assert bp.get_flags() & ENABLED
    assert bp.get_offset() == INVALID_OFFSET
    assert bp.get_offset_expression() == "no_such_function_yet"
    output.take()
    client.control.execute("bl")
    assert output.take().split()[:3] == ["0", "eu", "????????`????????"]
    _finishes(target)
    assert "breakpoint" not in recorder.names()


def test_bp_on_what_cannot_be_evaluated_becomes_deferred(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    output.take()
    client.control.execute("bp no_such_function_yet")
    assert "could not be resolved" in output.take()
    (bp,) = client.control.breakpoints()
    assert bp.get_flags() & DEFERRED
    assert bp.get_offset() == INVALID_OFFSET
    _finishes(target)


def test_wrong_kinds_of_arguments(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    with pytest.raises(BreakpointError):
        client.control.add_breakpoint(2)  # time-travel breakpoints do not exist here
    bp = client.control.add_breakpoint(CODE)
    with pytest.raises(BreakpointError):
        bp.set_offset(-1)
    with pytest.raises(BreakpointError):
        bp.set_offset("bp_hot")  # type: ignore[arg-type]
    with pytest.raises(BreakpointError):
        bp.set_data_parameters(4, BREAK_WRITE)  # a code breakpoint has none
    with pytest.raises(BreakpointError):
        bp.set_pass_count(0)
    with pytest.raises(BreakpointError):
        bp.add_flags(0x100)
    with pytest.raises(BreakpointError):
        bp.condition = 42  # type: ignore[assignment]
    assert bp.get_offset() == INVALID_OFFSET
    assert bp.get_flags() == 0
    client.control.remove_breakpoint(bp)
    _finishes(target)
