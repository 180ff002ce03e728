"""control.trace at code breakpoints: an int3 `bp` and a debug-register `ba e1` stop it
the same way, as gdb's `stepi N` stops at either kind (checked with gdb 13.1 on this
machine: `stepi 7` stops after 2 steps at a `break *addr` and after 3 at an `hbreak *addr`,
and reports each as a hit; from the breakpoint's own address it steps on).

The trace stops before the breakpoint's instruction with reason BREAKPOINT, the stop is the
result's event, and the next wait_for_event reports the hit like any other.  At the pc the
trace starts from, neither kind stops it.
"""

from __future__ import annotations

import pytest

from pydbg._native import EventKind, TraceReason
from tests.api.recording import GO
from tests.breakpoints.helpers import BREAK_EXECUTE, DATA


def _add(target, kind: str, address: int):
    if kind == "bp":
        return target.breakpoint(address)
    bp = target.breakpoint(address, break_type=DATA)  # `ba e1 address`
    bp.set_data_parameters(1, BREAK_EXECUTE)
    return bp


@pytest.fixture
def at_step_here(client, launch):
    """bp_steps stopped at the first of step_here's 12 plain instructions; its code."""
    target = launch("bp_steps", "shapes")
    code = target.code("step_here")
    entry = target.breakpoint(code[0].address)
    assert target.go() is True
    client.control.remove_breakpoint(entry)
    return target, code


@pytest.mark.parametrize("first, second", [("bp", "ba"), ("ba", "bp")])
def test_a_trace_stops_at_an_int3_and_a_debug_register_alike(
    client, recorder, at_step_here, first, second
):
    target, code = at_step_here
    one = _add(target, first, code[2].address)
    two = _add(target, second, code[5].address)
    expected_kind = {"bp": EventKind.BREAKPOINT, "ba": EventKind.HW_BREAKPOINT}
    before = len(recorder.args_of("breakpoint"))

    result = client.control.trace(7)
    assert result.reason == TraceReason.BREAKPOINT
    assert list(result.pcs) == [i.address for i in code[:2]]
    assert target.pc() == code[2].address  # its instruction has not run
    assert result.event.kind == expected_kind[first]
    assert client.control.wait_for_event(timeout=20.0) is True
    assert recorder.args_of("breakpoint")[before:] == [(one,)]
    assert one.hit_count == 1

    # From the breakpoint itself the trace steps on, to the next one.
    result = client.control.trace(7)
    assert result.reason == TraceReason.BREAKPOINT
    assert list(result.pcs) == [i.address for i in code[2:5]]
    assert target.pc() == code[5].address
    assert result.event.kind == expected_kind[second]
    assert client.control.wait_for_event(timeout=20.0) is True
    assert recorder.args_of("breakpoint")[before:] == [(one,), (two,)]
    assert two.hit_count == 1

    result = client.control.trace(7)
    assert result.reason == TraceReason.COUNT
    assert list(result.pcs) == [i.address for i in code[5:12]]
    assert one.hit_count == two.hit_count == 1
    client.control.remove_breakpoint(one)
    client.control.remove_breakpoint(two)
    recorder.votes["breakpoint"] = GO
    assert target.run_to_end() == 0


def test_a_trace_starting_on_either_kind_steps_on(client, recorder, at_step_here):
    target, code = at_step_here
    bp = _add(target, "bp", code[0].address)
    ba = _add(target, "ba", code[0].address)
    result = client.control.trace(4)
    assert result.reason == TraceReason.COUNT
    assert list(result.pcs) == [i.address for i in code[:4]]
    assert bp.hit_count == ba.hit_count == 0
    client.control.remove_breakpoint(bp)
    client.control.remove_breakpoint(ba)
    recorder.votes["breakpoint"] = GO
    assert target.run_to_end() == 0
