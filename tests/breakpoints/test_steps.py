"""The stepping commands against code of known shape (spec §8; pydbg.engine.stepping):
`t`, `t N`, `p`, `tb`, `tc`/`pc`, `tt`/`pt`, `th`/`ph`, `ta`/`pa`, `gu`, each followed by
a wait, with `@$ip` checked against the pc predicted from the target's own instructions.

bp_steps' step_here (assembly) is 12 plain instructions, a `jmp` over a `ud2`, a call of
step_leaf (which calls step_inner), a `cmp`, a second call of step_leaf, and a `ret`.
Every expected address is found by decoding those functions' bytes from the built file.
A step that goes wrong shows twice: in the pc, and in the counters the target checks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.breakpoints.helpers import (
    Debuggee,
    after,
    is_call,
    is_ret,
    target_of,
)


class Shapes:
    """The landmarks of step_here and its callees, at their runtime addresses."""

    def __init__(self, target: Debuggee) -> None:
        self.here = target.code("step_here")
        self.leaf = target.code("step_leaf")
        self.inner = target.code("step_inner")
        self.jmp = next(i for i in self.here if i.mnemonic == "jmp")
        self.call1, self.call2 = [i for i in self.here if is_call(i)]
        self.ret = next(i for i in self.here if is_ret(i))
        self.leaf_call = next(i for i in self.leaf if is_call(i))
        self.inner_ret = next(i for i in self.inner if is_ret(i))
        assert self.here.index(self.jmp) == 12
        assert target_of(self.jmp) == self.call1.address != after(self.jmp)
        assert target_of(self.call1) == target.addr("step_leaf")
        assert target_of(self.leaf_call) == target.addr("step_inner")


@pytest.fixture(params=["pie", "nopie"])
def shapes(client, recorder, launch, request) -> tuple[Debuggee, Shapes]:
    """bp_steps `shapes` (PIE and not), stopped at step_here's first instruction."""
    target = launch("bp_steps", "shapes", variant=request.param)
    shapes = Shapes(target)
    bp = target.breakpoint(shapes.here[0].address)
    assert target.go() is True
    client.control.remove_breakpoint(bp)
    assert _ip(target) == shapes.here[0].address
    return target, shapes


def _ip(target: Debuggee) -> int:
    ip = target.client.control.evaluate("@$ip")
    assert ip == target.client.registers.get_value("rip")
    return ip


def _step(target: Debuggee, command: str) -> int:
    """Run a stepping command, wait for its end, and return @$ip."""
    assert target.command(command) is True
    return _ip(target)


def _counts(target: Debuggee) -> tuple[int, int]:
    return target.global_int("leaf_calls"), target.global_int("inner_calls")


def _finishes(target: Debuggee) -> None:
    assert target.run_to_end() == 0
    assert target.result() == "leaf 2 inner 2"


def test_t_executes_one_instruction(shapes):
    target, s = shapes
    assert _step(target, "t") == s.here[1].address
    assert _step(target, "t") == s.here[2].address
    _finishes(target)


def test_t_with_a_count(shapes):
    target, s = shapes
    assert _step(target, "t 0n10") == s.here[10].address
    assert _step(target, "t 2") == s.jmp.address
    assert _step(target, "t") == s.call1.address  # the jmp is taken, over the ud2
    assert _step(target, "t") == target.addr("step_leaf")  # t enters calls
    _finishes(target)


def test_p_steps_over_a_call(shapes):
    target, s = shapes
    assert _step(target, "p 0n13") == s.call1.address  # plain instructions and the jmp
    assert _counts(target) == (0, 0)
    assert _step(target, "p") == after(s.call1)
    assert _counts(target) == (1, 1)
    assert _step(target, "p 2") == after(s.call2)
    assert _counts(target) == (2, 2)
    _finishes(target)


def test_tb_ends_at_the_next_taken_branch_target(shapes):
    target, s = shapes
    assert _step(target, "tb") == target_of(s.jmp)
    assert _step(target, "tb") == target_of(s.call1)  # the call is the next taken branch
    assert _counts(target) == (0, 0)
    _finishes(target)


def test_tc_stops_at_the_next_call_and_enters_it(shapes):
    target, s = shapes
    assert _step(target, "tc") == s.call1.address
    assert _counts(target) == (0, 0)
    # At a call, tc runs it (into it) and stops at the next call: step_leaf's.
    assert _step(target, "tc") == s.leaf_call.address
    assert _counts(target) == (1, 0)
    _finishes(target)


def test_tc_with_a_count(shapes):
    target, s = shapes
    assert _step(target, "tc 2") == s.leaf_call.address
    _finishes(target)


def test_pc_stops_at_the_next_call_and_steps_over_it(shapes):
    target, s = shapes
    assert _step(target, "pc") == s.call1.address
    assert _step(target, "pc") == s.call2.address
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_tt_stops_at_the_first_return_reached_inside_the_calls(shapes):
    target, s = shapes
    assert _step(target, "tt") == s.inner_ret.address
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_pt_stops_at_the_return_of_this_function(shapes):
    target, s = shapes
    assert _step(target, "pt") == s.ret.address
    assert _counts(target) == (2, 2)
    _finishes(target)


def test_th_stops_at_every_branching_instruction(shapes):
    target, s = shapes
    assert _step(target, "th") == s.jmp.address
    assert _step(target, "th") == s.call1.address
    # Into the call: step_leaf's own call is its first branching instruction.
    assert _step(target, "th") == s.leaf_call.address
    assert _step(target, "th") == s.inner_ret.address
    _finishes(target)


def test_ph_stops_at_branching_instructions_over_calls(shapes):
    target, s = shapes
    assert _step(target, "ph") == s.jmp.address
    assert _step(target, "ph") == s.call1.address
    assert _step(target, "ph") == s.call2.address
    assert _counts(target) == (1, 1)
    assert _step(target, "ph") == s.ret.address
    assert _counts(target) == (2, 2)
    _finishes(target)


def test_ta_traces_to_an_address_inside_the_calls(shapes):
    target, s = shapes
    assert _step(target, f"ta {s.inner_ret.address:#x}") == s.inner_ret.address
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_pa_steps_to_an_address_over_the_calls(shapes):
    target, s = shapes
    assert _step(target, f"pa {s.call2.address:#x}") == s.call2.address
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_step_commands_inside_a_command_line(shapes, output):
    target, s = shapes
    output.take()
    target.client.control.execute("pc; r rip; tc; r rip")
    shown = [line for line in output.take().splitlines() if re.fullmatch("rip=[0-9a-f]+", line)]
    assert shown == [
        f"rip={s.call1.address:016x}",
        f"rip={s.leaf_call.address:016x}",
    ]


# -- gu -------------------------------------------------------------------------------------------


def _recurse_landmarks(target: Debuggee) -> tuple[Any, Any]:
    """(the first instruction after recurse's prologue, its recursive call)."""
    code = target.code("recurse")
    frame = next(i for i in code if i.mnemonic == "mov" and i.op_str == "rbp, rsp")
    body = code[code.index(frame) + 1]
    call = next(i for i in code if is_call(i) and target_of(i) == target.addr("recurse"))
    return body, call


@pytest.mark.parametrize("n", [0, 3])
def test_gu_returns_exactly_one_level_of_a_recursion(client, recorder, launch, n):
    target = launch("bp_steps", "recurse", 5)
    body, call = _recurse_landmarks(target)
    bp = target.breakpoint(body.address)
    bp.condition = f"@rdi == 0n{n}"
    assert target.go() is True
    assert target.reg("rdi") == n
    client.control.remove_breakpoint(bp)
    rbp = target.reg("rbp")
    # recurse(n) returns n to recurse(n + 1), right after its recursive call; the frames
    # below (n - 1 ... 0) return to the same address deeper down and do not end it.
    assert _step(target, "gu") == after(call)
    assert target.reg("rsp") == rbp + 16
    assert target.reg("rax") == n
    assert target.run_to_end() == 0
    assert target.result() == "recurse 5 depth 0"


def test_gu_from_the_first_instruction_of_a_function(client, recorder, launch):
    target = launch("bp_steps", "recurse", 5)
    _, call = _recurse_landmarks(target)
    bp = target.breakpoint(target.addr("recurse"))
    bp.condition = "@rdi == 0n2"
    assert target.go() is True
    client.control.remove_breakpoint(bp)
    rsp = target.reg("rsp")
    assert _step(target, "gu") == after(call)
    assert target.reg("rsp") == rsp + 8
    assert target.reg("rax") == 2
    assert target.run_to_end() == 0


# -- cost -----------------------------------------------------------------------------------------


def test_p_over_a_call_of_a_million_instructions_takes_few_stops(
    counting_client, launch_counted, stops
):
    target = launch_counted("bp_steps", "busy")
    call = target.first("busy_caller", is_call)
    assert target_of(call) == target.addr("busy")
    bp = target.breakpoint(call.address)
    assert target.go() is True
    counting_client.control.remove_breakpoint(bp)
    stops.update(resumes=0, stops=0)
    assert _step(target, "p") == after(call)
    assert target.reg("rcx") == 0  # busy's loop ran to its end
    assert stops["stops"] <= 4, stops
    assert stops["resumes"] <= 4, stops
    assert target.run_to_end() == 0
    assert target.result() == "busy 1"


def test_tb_across_a_thousand_straight_instructions_takes_few_stops(
    counting_client, launch_counted, stops
):
    target = launch_counted("bp_steps", "block")
    code = target.code("straight_block")
    jmp = next(i for i in code if i.mnemonic == "jmp")
    assert code.index(jmp) == 1000
    bp = target.breakpoint(code[0].address)
    assert target.go() is True
    counting_client.control.remove_breakpoint(bp)
    stops.update(resumes=0, stops=0)
    assert _step(target, "tb") == target_of(jmp)
    assert is_ret(next(i for i in code if i.address == target_of(jmp)))
    assert stops["stops"] <= 4, stops
    assert stops["resumes"] <= 4, stops
    assert target.run_to_end() == 0
    assert target.result() == "block"
