"""control.step (cdb's step commands from Python) and control.get_last_event_information,
on bp_steps' step_here (tests/targets, see tests/breakpoints/test_steps.py for its shape):
each mode is armed through the facet, the wait returns, and the pc is the one predicted
from the target's own instructions.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import pydbg
from pydbg.breakpoints import BreakpointError
from pydbg.constants import (
    DEBUG_BREAKPOINT_CODE as BREAKPOINT_CODE,
)
from pydbg.constants import (
    DEBUG_BREAKPOINT_DEFERRED as BREAKPOINT_DEFERRED,
)
from pydbg.constants import (
    DebugEvent,
    DebugStatus,
    EngineOptions,
    ExceptionCode,
)
from pydbg.control import (
    LastEventBreakpoint,
    LastEventException,
    LastEventExitProcess,
    StepMode,
)
from pydbg.engine.session import EngineError
from pydbg.errors import SymbolError, UnknownSymbolError
from tests.breakpoints.helpers import WAIT_LIMIT, Debuggee, after, is_call, target_of
from tests.breakpoints.test_steps import Shapes


@pytest.fixture
def launch(client, targets, tmp_path) -> Callable[..., Debuggee]:
    """launch(target, mode, *args, variant=...) -> Debuggee stopped at its initial
    breakpoint."""

    def run(target: str, mode: str, *args: object, variant: str = "pie") -> Debuggee:
        binary = targets.get(target, variant)
        out_file = str(tmp_path / "result.out")
        pid = client.create_process([binary.path, out_file, mode, *(str(a) for a in args)])
        assert client.control.wait_for_event(timeout=WAIT_LIMIT) is True
        return Debuggee(client, binary, pid, out_file)

    return run


@pytest.fixture(params=["pie", "nopie"])
def shapes(client, recorder, launch, request) -> tuple[Debuggee, Shapes]:
    target = launch("bp_steps", "shapes", variant=request.param)
    shapes = Shapes(target)
    bp = target.breakpoint(shapes.here[0].address)
    assert target.go() is True
    client.control.remove_breakpoint(bp)
    return target, shapes


def _step(
    client: pydbg.DebugClient,
    mode: StepMode,
    count: int = 1,
    address: int | None = None,
    *,
    over: bool = False,
) -> int:
    client.control.step(mode, count, address, over=over)
    assert client.control.wait_for_event(timeout=WAIT_LIMIT) is True
    return client.registers.get_value("rip")


def _counts(target: Debuggee) -> tuple[int, int]:
    return target.global_int("leaf_calls"), target.global_int("inner_calls")


def _finishes(target: Debuggee) -> None:
    assert target.run_to_end() == 0
    assert target.result() == "leaf 2 inner 2"


def test_into_and_over(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.INTO) == s.here[1].address
    assert _step(client, StepMode.INTO, 0x0B) == s.here[12].address == s.jmp.address
    assert _step(client, StepMode.INTO, over=True) == s.call1.address
    assert _step(client, StepMode.INTO, over=True) == after(s.call1)  # p: over the call
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_branch(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.BRANCH) == target_of(s.jmp)
    assert _step(client, StepMode.BRANCH) == target_of(s.call1)
    _finishes(target)


def test_to_call(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.TO_CALL) == s.call1.address  # tc
    assert _step(client, StepMode.TO_CALL) == s.leaf_call.address  # into the call
    assert _counts(target) == (1, 0)
    _finishes(target)


def test_to_call_over(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.TO_CALL, over=True) == s.call1.address  # pc
    assert _step(client, StepMode.TO_CALL, over=True) == s.call2.address
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_to_call_with_a_count(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.TO_CALL, 2) == s.leaf_call.address
    _finishes(target)


def test_to_return(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.TO_RETURN) == s.inner_ret.address  # tt
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_to_return_over(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.TO_RETURN, over=True) == s.ret.address  # pt
    assert _counts(target) == (2, 2)
    _finishes(target)


def test_to_branching(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.TO_BRANCHING) == s.jmp.address  # th
    assert _step(client, StepMode.TO_BRANCHING) == s.call1.address
    assert _step(client, StepMode.TO_BRANCHING) == s.leaf_call.address
    _finishes(target)


def test_to_branching_over(client, shapes):
    target, s = shapes
    assert _step(client, StepMode.TO_BRANCHING, over=True) == s.jmp.address  # ph
    assert _step(client, StepMode.TO_BRANCHING, over=True) == s.call1.address
    assert _step(client, StepMode.TO_BRANCHING, over=True) == s.call2.address
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_to_address(client, shapes):
    target, s = shapes
    address = s.inner_ret.address
    assert _step(client, StepMode.TO_ADDRESS, address=address) == address  # ta
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_to_address_over(client, shapes):
    target, s = shapes
    address = s.call2.address
    assert _step(client, StepMode.TO_ADDRESS, address=address, over=True) == address  # pa
    assert _counts(target) == (1, 1)
    _finishes(target)


def test_go_up_returns_one_level_of_a_recursion(client, recorder, launch):
    target = launch("bp_steps", "recurse", 5)
    call = next(
        i for i in target.code("recurse") if is_call(i) and target_of(i) == target.addr("recurse")
    )
    bp = target.breakpoint(target.addr("recurse"))
    bp.condition = "@rdi == 0n2"
    assert target.go() is True
    client.control.remove_breakpoint(bp)
    rsp = target.reg("rsp")
    assert _step(client, StepMode.GO_UP) == after(call)  # gu: recurse(2) returned
    assert target.reg("rsp") == rsp + 8
    assert target.reg("rax") == 2
    assert target.run_to_end() == 0
    assert target.result() == "recurse 5 depth 0"


def test_the_status_a_step_reports(client, shapes):
    target, _ = shapes
    client.control.step(StepMode.TO_CALL)
    assert client.control.get_execution_status() == DebugStatus.STEP_INTO
    assert client.control.wait_for_event(timeout=WAIT_LIMIT) is True
    client.control.step(StepMode.TO_CALL, over=True)
    assert client.control.get_execution_status() == DebugStatus.STEP_OVER
    assert client.control.wait_for_event(timeout=WAIT_LIMIT) is True
    status = client.control.get_execution_status_ex()
    assert status == DebugStatus.BREAK  # not inside a wait
    _finishes(target)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("tc",), {}, "StepMode"),
        ((StepMode.TO_CALL, 0), {}, "positive"),
        ((StepMode.TO_CALL, True), {}, "positive"),
        ((StepMode.TO_ADDRESS,), {}, "address"),
        ((StepMode.TO_CALL, 1, 0x1000), {}, "address"),
        ((StepMode.TO_ADDRESS, 1, -1), {}, "non-negative"),
        ((StepMode.BRANCH,), {"over": True}, "branch"),
    ],
)
def test_bad_steps_change_nothing(client, shapes, args, kwargs, match):
    target, s = shapes
    with pytest.raises(EngineError, match=match):
        client.control.step(*args, **kwargs)
    assert client.control.get_execution_status() == DebugStatus.BREAK
    assert client.registers.get_value("rip") == s.here[0].address
    assert _step(client, StepMode.INTO) == s.here[1].address  # the session goes on
    _finishes(target)


def test_last_event_information(client, launch):
    assert client.control.get_last_event_information() is None
    target = launch("bp_steps", "shapes")
    objects = client.system_objects
    info = client.control.get_last_event_information()
    assert info is not None
    assert info.type == DebugEvent.EXCEPTION
    assert "Initial breakpoint" in info.description
    assert isinstance(info.extra, LastEventException)
    assert info.extra.exception_record.exception_code == ExceptionCode.STATUS_BREAKPOINT
    assert info.extra.first_chance
    assert info.process_id == objects.get_current_process_id()
    assert info.thread_id == objects.get_current_thread_id()

    bp = target.breakpoint(target.addr("step_leaf"))
    assert target.go() is True
    info = client.control.get_last_event_information()
    assert info is not None
    assert info.type == DebugEvent.BREAKPOINT
    assert info.extra == LastEventBreakpoint(bp.get_id())
    assert info.description.endswith(f"Hit breakpoint {bp.get_id()}")
    assert info.thread_id == objects.get_current_thread_id()
    client.control.remove_breakpoint(bp)

    assert target.run_to_end() == 0
    info = client.control.get_last_event_information()
    assert info is not None
    assert info.type == DebugEvent.EXIT_PROCESS
    assert info.extra == LastEventExitProcess(0)
    assert info.description


def test_lastevent_command_shows_the_description(client, launch, output):
    launch("bp_steps", "shapes")
    info = client.control.get_last_event_information()
    assert info is not None
    output.take()
    client.control.execute(".lastevent")
    pid_tid, _, rest = info.description[1:].partition("): ")  # cdb writes pid.tid: ...
    assert output.take() == f"Last event: {pid_tid}: {rest}\n"


def test_initial_break_filter_and_option_are_one_setting(client):
    control = client.control
    assert control.get_engine_options() & EngineOptions.INITIAL_BREAK
    control.execute("sxi ibp")
    assert not control.get_engine_options() & EngineOptions.INITIAL_BREAK
    control.reset_event_filters()
    assert control.get_engine_options() & EngineOptions.INITIAL_BREAK
    control.execute("sxd ibp")  # a second-chance break is a break for ibp
    assert control.get_engine_options() & EngineOptions.INITIAL_BREAK
    control.execute("sxn ibp; sxr")
    assert control.get_engine_options() & EngineOptions.INITIAL_BREAK
    index = control.get_event_filter_index("ibp")
    assert control.get_event_filter_name(index) == "ibp"


# -- deferred breakpoints: decided by the error's type -------------------------------------------


def test_only_an_unknown_symbol_defers_a_breakpoint(client, launch):
    target = launch("bp_steps", "shapes")
    bp = client.control.add_breakpoint(BREAKPOINT_CODE)
    bp.set_offset_expression("no_such_function_yet")  # a SymbolError: deferred
    assert bp.get_flags() & BREAKPOINT_DEFERRED
    # Errors that merely say "unknown" are no symbol the next module could define.
    for text in ("$unknownpseudo", "1/0"):
        with pytest.raises(BreakpointError, match="bad breakpoint expression"):
            bp.set_offset_expression(text)
    with pytest.raises(UnknownSymbolError) as info:
        client.control.evaluate("no_such_function_yet")
    assert isinstance(info.value, SymbolError)
    client.control.remove_breakpoint(bp)
    _finishes_shapes(target)


def _finishes_shapes(target: Debuggee) -> None:
    assert target.run_to_end() == 0
