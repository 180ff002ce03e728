"""Hot code breakpoints served by a debug register, and the tracing API of the control
facet, on real targets.

A code breakpoint whose hits the native core decides (a native condition, a match
thread, a pass count) moves from its int3 to a free debug register: one stop per hit, no
step-over.  A data breakpoint that needs the register takes it back.
"""

from __future__ import annotations

import pytest

from pydbg._native import TraceReason
from pydbg.constants import DEBUG_BREAK_WRITE, DEBUG_BREAKPOINT_DATA, DEBUG_BREAKPOINT_ENABLED
from tests.api.recording import GO


def served(client, bp) -> bool:
    return client._engine.breakpoints.served_by_register(bp)


def test_a_native_condition_never_true_is_served_by_a_register(client, recorder, launch):
    target = launch("bp_threads", "hot", 4, 500)
    bp = target.breakpoint(target.addr("bp_hot"))
    bp.condition = "@rdi == 0n100000"  # bp_hot(i) never sees that i
    assert served(client, bp)
    assert target.raw(target.addr("bp_hot"), 1) != b"\xcc"  # no int3 in memory
    assert target.run_to_end() == 0
    assert target.result() == "total 2000"
    assert recorder.args_of("breakpoint") == []
    assert bp.hit_count == 0  # hits that fail the condition are not hits


def test_a_served_breakpoint_reports_the_hits_its_condition_takes(client, recorder, launch):
    target = launch("bp_threads", "hot", 4, 100)
    bp = target.breakpoint(target.addr("bp_hot"))
    bp.condition = "@rdi == 0n42"
    assert served(client, bp)
    seen: list[int] = []
    recorder.votes["breakpoint"] = lambda b: seen.append(target.reg("rdi")) or GO
    assert target.run_to_end() == 0
    assert seen == [42, 42, 42, 42]  # once per thread
    assert target.result() == "total 400"


def test_a_data_breakpoint_takes_the_register_back(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 50)
    hot = target.addr("bp_hot")
    code = target.breakpoint(hot)
    code.condition = "@rdi == 0n30"
    assert served(client, code)
    watches = []
    for _ in range(4):  # every slot, the served breakpoint's included
        bp = client.control.add_breakpoint(DEBUG_BREAKPOINT_DATA)
        bp.set_data_parameters(8, DEBUG_BREAK_WRITE)
        bp.set_offset(target.addr("hot_total"))
        bp.add_flags(DEBUG_BREAKPOINT_ENABLED)
        watches.append(bp)
    assert not served(client, code)
    assert target.raw(hot, 1) == b"\xcc"  # back on its int3
    for bp in watches:
        client.control.remove_breakpoint(bp)
    recorder.votes["breakpoint"] = GO
    assert target.run_to_end() == 0
    assert code.hit_count == 1


def test_trace_until_the_function_returns_at_the_right_depth(client, launch):
    target = launch("bp_steps", "recurse", 5)
    entry = target.addr("recurse")
    bp = target.breakpoint(entry)
    for _ in range(3):  # recurse(5), recurse(4), recurse(3)
        assert target.go() is True
    client.control.remove_breakpoint(bp)
    rsp = target.reg("rsp")
    result = client.control.trace(10_000_000, until_return=True, register="rsp")
    assert result.reason == TraceReason.RETURNED
    # Back in recurse(4), one level up: rsp is above the return slot it popped.
    assert target.reg("rsp") == rsp + 8
    assert client.symbols.get_name_by_offset(target.pc())[0].endswith("!recurse")
    assert len(result.values) == result.steps == len(result.pcs)
    assert result.values[0] == rsp and result.pcs[0] == entry
    assert target.run_to_end() == 0


def test_trace_a_count_and_an_address(client, launch):
    target = launch("bp_steps", "recurse", 3)
    code = target.code("recurse")
    result = client.control.trace(5, until=None)
    assert result.reason == TraceReason.COUNT and result.steps == 5
    bp = target.breakpoint(code[0].address)
    assert target.go() is True
    client.control.remove_breakpoint(bp)
    result = client.control.trace(1000, until=code[3].address)
    assert result.reason == TraceReason.ADDRESS
    assert list(result.pcs) == [insn.address for insn in code[:3]]
    assert target.pc() == code[3].address
    with pytest.raises(Exception, match="max_steps"):
        client.control.trace(0)
    assert target.run_to_end() == 0
