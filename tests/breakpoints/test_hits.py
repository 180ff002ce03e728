"""Breakpoint hits decided and reported (spec §6.8; pydbg.breakpoints): exact counts under
many threads, pass counts, match threads, one-shot, disabled, private (ADDER_ONLY) and
GO_ONLY breakpoints, conditions, and breakpoint commands.

The bp_threads target (`hot T N`) has T threads call bp_hot(i) for i in 0..N-1 and checks
every return value and its own totals, so a hit lost, reported twice, or a step-over that
corrupts execution shows in its exit status as well as in the counts here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import pydbg
from pydbg.breakpoints import BreakpointError
from tests.api.recording import GO, OUTPUT_ERROR, Recorder
from tests.breakpoints.helpers import (
    ADDER_ONLY,
    ANY_ID,
    CODE,
    ENABLED,
    GO_ONLY,
    ONE_SHOT,
    after,
    go_recording,
    is_call,
)


def _hits_of(recorder: Recorder) -> int:
    return recorder.names().count("breakpoint")


def _hit_count_at_exit(recorder: Recorder, bp: Any) -> list[int]:
    """bp.hit_count as the ExitProcess callback reads it (filled in then)."""
    counts: list[int] = []

    def vote(exit_code: int) -> None:
        counts.append(bp.hit_count)

    recorder.votes["exit_process"] = vote
    return counts


class BreakpointsOnly(pydbg.EventCallbacks):
    """Callbacks interested in breakpoints alone (the engine's fast path serves these)."""

    def __init__(self, vote: int | None) -> None:
        self.vote = vote
        self.hits: list[object] = []

    def breakpoint(self, bp: object) -> int | None:
        self.hits.append(bp)
        return self.vote


# -- counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["pie", "nopie"])
def test_8_threads_hitting_10000_times_are_counted_exactly(client, recorder, launch, variant):
    target = launch("bp_threads", "hot", 8, 1250, variant=variant)
    address = target.addr("bp_hot")
    seen: list[tuple[int, int, int]] = []

    def vote(bp):
        seen.append((target.tid(), target.pc(), bp.get_id()))
        return GO

    recorder.votes["breakpoint"] = vote
    bp = target.breakpoint(address)

    assert target.run_to_end(timeout=60) == 0
    assert target.result() == "total 10000"
    assert len(seen) == 10000
    assert {pc for _, pc, _ in seen} == {address}
    assert {bp_id for _, _, bp_id in seen} == {bp.get_id()}
    per_thread = Counter(tid for tid, _, _ in seen)
    assert sorted(per_thread.values()) == [1250] * 8
    assert bp.hit_count == 10000  # kept after its process ended


def test_every_hit_of_8_threads_breaks_in_once(client, recorder, launch):
    target = launch("bp_threads", "hot", 8, 40)
    address = target.addr("bp_hot")
    bp = target.breakpoint(address)
    per_thread: Counter[int] = Counter()
    arguments: dict[int, list[int]] = {}
    while target.go():
        assert target.pc() == address
        tid = target.tid()
        per_thread[tid] += 1
        arguments.setdefault(tid, []).append(target.reg("rdi"))
    assert client.get_exit_code() == 0
    assert target.result() == "total 320"
    assert sorted(per_thread.values()) == [40] * 8
    # Each thread reached bp_hot with i = 0, 1, ... 39, in order, once each.
    assert all(values == list(range(40)) for values in arguments.values())
    assert _hits_of(recorder) == 320
    assert bp.hit_count == 320


def test_single_thread_hits_counted_by_a_go_voting_callback(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 5000)
    calls: list[object] = []

    def vote(bp):
        calls.append(bp)
        return GO

    recorder.votes["breakpoint"] = vote
    bp = target.breakpoint(target.addr("bp_hot"))
    assert target.run_to_end() == 0
    assert target.result() == "total 5000"
    assert len(calls) == 5000
    assert set(calls) == {bp}
    assert bp.hit_count == 5000


def test_fast_path_counts_hits_voted_go_by_breakpoint_only_callbacks(client, launch):
    target = launch("bp_threads", "hot", 0, 5000)
    callbacks = BreakpointsOnly(GO)
    client.set_event_callbacks(callbacks)
    bp = target.breakpoint(target.addr("bp_hot"))
    assert target.run_to_end() == 0
    assert target.result() == "total 5000"
    assert len(callbacks.hits) == 5000
    assert bp.hit_count == 5000


def test_fast_path_break_leaves_the_session_inspectable(client, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    callbacks = BreakpointsOnly(None)  # no vote: the breakpoint breaks in
    client.set_event_callbacks(callbacks)
    target.breakpoint(address)
    assert target.go() is True
    assert len(callbacks.hits) == 1
    assert target.pc() == address
    assert target.reg("rdi") == 0
    assert target.go() is True
    assert target.reg("rdi") == 1


def test_hit_count_of_a_natively_decided_breakpoint_is_kept_after_the_process_ends(
    client, recorder, launch
):
    target = launch("bp_threads", "hot", 0, 20)
    bp = target.breakpoint(target.addr("bp_hot"))
    bp.set_pass_count(5)
    recorder.votes["breakpoint"] = GO
    at_exit = _hit_count_at_exit(recorder, bp)
    assert target.run_to_end() == 0
    assert at_exit == [20]
    assert bp.hit_count == 20  # "readable after removal and after its process ended"


# -- pass count -----------------------------------------------------------------------------------


def test_pass_count_triggers_at_the_nth_hit_and_every_hit_after(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 20)
    hot = target.code("bp_hot")
    bp = target.breakpoint(hot[0].address)
    bp.set_pass_count(5)
    assert bp.get_pass_count() == 5
    assert bp.get_current_pass_count() == 5

    # A second breakpoint, on bp_hot's ret, stops after the second call.
    ret = target.breakpoint(hot[-1].address)
    ret.set_pass_count(2)
    assert target.go() is True
    assert target.pc() == hot[-1].address
    assert recorder.args_of("breakpoint")[-1] == (ret,)
    assert bp.hit_count == 2
    assert bp.get_current_pass_count() == 3
    client.control.remove_breakpoint(ret)

    assert target.go() is True
    assert target.pc() == hot[0].address
    assert target.reg("rdi") == 4  # the fifth call
    assert bp.hit_count == 5
    assert bp.get_current_pass_count() == 0

    triggered: list[int] = []
    recorder.votes["breakpoint"] = go_recording(triggered, lambda: target.reg("rdi"))
    at_exit = _hit_count_at_exit(recorder, bp)
    assert target.run_to_end() == 0
    assert triggered == list(range(5, 20))
    assert at_exit == [20]
    assert target.result() == "total 20"


def test_set_pass_count_starts_counting_again(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 20)
    bp = target.breakpoint(target.addr("bp_hot"))
    bp.set_pass_count(3)
    assert target.go() is True
    assert target.reg("rdi") == 2
    bp.set_pass_count(4)  # both counters reset: the next trigger is 4 hits later
    assert bp.get_current_pass_count() == 4
    assert target.go() is True
    assert target.reg("rdi") == 6
    assert bp.get_current_pass_count() == 0
    client.control.remove_breakpoint(bp)
    assert target.run_to_end() == 0


def test_bp_command_with_a_pass_count(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 20)
    client.control.execute(f"bp {target.addr('bp_hot'):#x} 0n7")
    (bp,) = client.control.breakpoints()
    assert bp.get_pass_count() == 7
    assert target.go() is True
    assert target.reg("rdi") == 6
    client.control.execute("bc *")
    assert target.run_to_end() == 0


# -- match thread ---------------------------------------------------------------------------------


def test_match_thread_only_that_thread_triggers(client, recorder, launch):
    target = launch("bp_threads", "hot", 4, 50)
    bp = target.breakpoint(target.addr("bp_hot"))
    assert target.go() is True
    assert target.reg("rdi") == 0  # every thread's first call
    chosen, chosen_tid = target.thread_id(), target.tid()

    bp.set_match_thread_id(chosen)
    assert bp.get_match_thread_id() == chosen
    triggered: list[tuple[int, int]] = []

    def vote(b):
        triggered.append((target.tid(), target.reg("rdi")))
        return GO

    recorder.votes["breakpoint"] = vote
    at_exit = _hit_count_at_exit(recorder, bp)
    assert target.run_to_end() == 0
    assert target.result() == "total 200"
    assert triggered == [(chosen_tid, i) for i in range(1, 50)]
    # Other threads pass silently: not counted as hits.
    assert at_exit == [50]


def test_match_thread_any_id_clears_it(client, recorder, launch):
    target = launch("bp_threads", "hot", 2, 10)
    bp = target.breakpoint(target.addr("bp_hot"))
    assert target.go() is True
    bp.set_match_thread_id(target.thread_id())
    bp.set_match_thread_id(ANY_ID)
    assert bp.get_match_thread_id() == ANY_ID
    recorder.votes["breakpoint"] = GO
    assert target.run_to_end() == 0
    assert _hits_of(recorder) == 20


def test_match_thread_of_an_unknown_thread_is_refused(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 3)
    bp = target.breakpoint(target.addr("bp_hot"))
    with pytest.raises(BreakpointError):
        bp.set_match_thread_id(12345)
    assert bp.get_match_thread_id() == ANY_ID
    assert target.go() is True
    client.control.remove_breakpoint(bp)
    assert target.run_to_end() == 0


# -- one-shot, disabled ---------------------------------------------------------------------------


def test_one_shot_removes_itself_at_its_first_trigger(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    original = target.raw(address, 1)
    bp = target.breakpoint(address, ONE_SHOT)
    bp_id = bp.get_id()
    assert target.raw(address, 1) == b"\xcc"

    assert target.go() is True
    assert target.pc() == address
    assert target.reg("rdi") == 0
    assert recorder.args_of("breakpoint") == [(bp,)]
    with pytest.raises(BreakpointError):
        client.control.get_breakpoint_by_id(bp_id)
    assert client.control.get_number_breakpoints() == 0
    assert target.raw(address, 1) == original

    assert target.run_to_end() == 0
    assert _hits_of(recorder) == 1
    assert bp.hit_count == 1
    assert target.result() == "total 10"


def test_bp_slash_1_is_one_shot(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    client.control.execute(f"bp /1 {target.addr('bp_hot'):#x}")
    (bp,) = client.control.breakpoints()
    assert bp.get_flags() & ONE_SHOT
    assert target.go() is True
    assert client.control.breakpoints() == []
    assert target.run_to_end() == 0
    assert _hits_of(recorder) == 1


def test_a_breakpoint_never_enabled_does_not_trigger(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    original = target.raw(address, 1)
    bp = client.control.add_breakpoint(CODE)
    bp.set_offset(address)
    assert not bp.get_flags() & ENABLED  # new breakpoints are disabled (§6.8)
    assert target.raw(address, 1) == original
    assert target.run_to_end() == 0
    assert _hits_of(recorder) == 0
    assert bp.hit_count == 0


def test_bd_disables_and_be_enables_again(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    original = target.raw(address, 1)
    client.control.execute(f"bp {address:#x}")
    (bp,) = client.control.breakpoints()
    assert target.go() is True
    assert target.reg("rdi") == 0

    output.take()
    client.control.execute("bd 0; bl")
    listing = output.take()
    assert listing.split()[:2] == ["0", "d"]
    assert target.raw(address, 1) == original
    assert not bp.get_flags() & ENABLED

    # While disabled bp_hot runs without a trigger; a breakpoint on its ret stops there.
    ret = target.code("bp_hot")[-1].address
    client.control.execute(f"bp {ret:#x} 3")
    assert target.go() is True
    assert target.pc() == ret
    client.control.execute("bc 1; be 0")
    assert bp.get_flags() & ENABLED
    assert target.go() is True
    assert target.pc() == address
    assert target.reg("rdi") == 3
    assert target.run_to_end() == 0
    assert target.result() == "total 10"


# -- private breakpoints --------------------------------------------------------------------------


def test_adder_only_is_invisible_and_silent_to_other_clients(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 5)
    other = client.create_client()
    other_recorder = Recorder()
    other.set_event_callbacks(other_recorder)
    other_output: list[str] = []
    other.set_output_callbacks(lambda mask, text: other_output.append(text))

    bp = target.breakpoint(target.addr("bp_hot"), ADDER_ONLY)
    assert client.control.get_number_breakpoints() == 1
    assert client.control.breakpoints() == [bp]
    assert other.control.get_number_breakpoints() == 0
    assert other.control.breakpoints() == []
    with pytest.raises(BreakpointError):
        other.control.get_breakpoint_by_id(bp.get_id())

    output.take()
    assert target.go() is True
    assert recorder.args_of("breakpoint") == [(bp,)]
    assert "breakpoint" not in other_recorder.names()
    assert "Breakpoint 0 hit" in output.take()
    assert not any("Breakpoint 0 hit" in text for text in other_output)

    # The other client's own breakpoint is public: both see it.
    ret = target.code("bp_hot")[-1].address
    public = other.control.add_breakpoint(CODE)
    public.set_offset(ret)
    public.add_flags(ENABLED)
    assert client.control.get_number_breakpoints() == 2
    assert other.control.breakpoints() == [public]
    assert target.go() is True
    assert target.pc() == ret
    assert other_recorder.args_of("breakpoint") == [(public,)]
    other.control.execute("bc *")  # clears what it can see: its own
    assert client.control.breakpoints() == [bp]
    client.control.execute("bc *")
    assert client.control.get_number_breakpoints() == 0
    assert target.run_to_end() == 0
    assert target.result() == "total 5"


# -- GO_ONLY --------------------------------------------------------------------------------------


def test_go_only_breakpoint_is_not_triggered_by_a_step_over(client, recorder, launch):
    target = launch("bp_steps", "shapes")
    calls = [i for i in target.code("step_here") if is_call(i)]
    start = target.breakpoint(calls[0].address)
    inner = target.breakpoint(target.addr("step_inner"), GO_ONLY)
    assert target.go() is True
    assert target.pc() == calls[0].address
    client.control.remove_breakpoint(start)

    # `p` over the first call runs step_leaf and step_inner: the GO_ONLY one stays quiet.
    recorder.take()
    assert target.command("p") is True
    assert target.pc() == after(calls[0])
    assert target.global_int("inner_calls") == 1
    assert "breakpoint" not in recorder.names()

    # Under `g` it triggers (the second call).
    assert target.go() is True
    assert target.pc() == target.addr("step_inner")
    assert recorder.names().count("breakpoint") == 1
    assert recorder.args_of("breakpoint")[-1] == (inner,)
    assert target.global_int("inner_calls") == 1
    client.control.remove_breakpoint(inner)
    assert target.run_to_end() == 0
    assert target.result() == "leaf 2 inner 2"


def test_plain_breakpoint_triggers_during_a_step_over(client, recorder, launch):
    target = launch("bp_steps", "shapes")
    call = target.first("step_here", is_call)
    start = target.breakpoint(call.address)
    inner = target.breakpoint(target.addr("step_inner"))
    assert target.go() is True
    client.control.remove_breakpoint(start)
    recorder.take()
    assert target.command("p") is True
    assert target.pc() == target.addr("step_inner")
    assert recorder.args_of("breakpoint") == [(start,), (inner,)]  # args_of keeps all
    client.control.remove_breakpoint(inner)
    assert target.run_to_end() == 0
    assert target.result() == "leaf 2 inner 2"


def test_go_only_breakpoint_is_not_triggered_by_traces(client, recorder, launch):
    target = launch("bp_steps", "shapes")
    here, leaf = target.code("step_here"), target.code("step_leaf")
    call = next(i for i in here if is_call(i))
    # The path from step_here: its 12 plain instructions, the jmp (over a ud2), the call,
    # then step_leaf.
    path = [i.address for i in here[:13]] + [call.address] + [i.address for i in leaf]
    start = target.breakpoint(here[0].address)
    target.breakpoint(leaf[0].address, GO_ONLY)
    assert target.go() is True
    client.control.remove_breakpoint(start)
    recorder.take()
    assert target.command("t 0n16") is True
    assert target.pc() == path[16]
    assert "breakpoint" not in recorder.names()


# -- conditions -----------------------------------------------------------------------------------


def test_masm_condition_on_an_argument(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 20)
    bp = target.breakpoint(target.addr("bp_hot"))
    bp.condition = "@rdi == 0n5"
    assert target.go() is True
    assert target.reg("rdi") == 5
    assert bp.hit_count == 1
    assert target.run_to_end() == 0
    assert _hits_of(recorder) == 1
    assert target.result() == "total 20"


def test_masm_condition_the_evaluator_decides(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 20)
    bp = target.breakpoint(target.addr("bp_hot"))
    bp.condition = "(@rdi & 3) == 0"
    seen: list[int] = []
    recorder.votes["breakpoint"] = go_recording(seen, lambda: target.reg("rdi"))
    assert target.run_to_end() == 0
    assert output.text(OUTPUT_ERROR) == ""
    assert seen == [0, 4, 8, 12, 16]
    assert bp.hit_count == 5


def test_bp_slash_w_condition(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 20)
    client.control.execute(f'bp /w "@rdi == 0n11" {target.addr("bp_hot"):#x}')
    (bp,) = client.control.breakpoints()
    assert bp.condition == "@rdi == 0n11"
    assert target.go() is True
    assert target.reg("rdi") == 11
    assert target.run_to_end() == 0
    assert _hits_of(recorder) == 1


def test_python_condition(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 20)
    bp = target.breakpoint(target.addr("bp_hot"))
    bp.condition = lambda b: client.registers.get_value("rdi") % 3 == 0
    seen: list[int] = []
    recorder.votes["breakpoint"] = go_recording(seen, lambda: target.reg("rdi"))
    assert target.run_to_end() == 0
    assert seen == list(range(0, 20, 3))
    assert bp.hit_count == 7


def test_python_condition_in_a_multithreaded_target(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 4, 20)
    bp = target.breakpoint(target.addr("bp_hot"))
    bp.condition = lambda b: client.registers.get_value("rdi") == 7
    seen: list[tuple[int, int]] = []
    recorder.votes["breakpoint"] = go_recording(seen, lambda: (target.tid(), target.reg("rdi")))
    assert target.run_to_end() == 0
    assert output.text(OUTPUT_ERROR) == ""
    assert sorted(rdi for _, rdi in seen) == [7] * 4
    assert len({tid for tid, _ in seen}) == 4
    assert bp.hit_count == 4


def test_condition_that_raises_is_reported_and_triggers(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    bp = target.breakpoint(address)

    def condition(b):
        raise RuntimeError("condition boom")

    bp.condition = condition
    assert target.go() is True
    assert target.pc() == address
    errors = output.text(OUTPUT_ERROR)
    assert "condition of breakpoint 0" in errors
    assert "RuntimeError: condition boom" in errors
    # The session is usable: look, clear, run to the end.
    assert target.reg("rdi") == 0
    client.control.execute("bc 0")
    assert target.run_to_end() == 0
    assert target.result() == "total 10"


def test_bad_condition_string_is_refused(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 3)
    bp = target.breakpoint(target.addr("bp_hot"))
    with pytest.raises(BreakpointError):
        bp.condition = "@rdi == == 3"
    assert bp.condition is None
    assert target.go() is True
    client.control.remove_breakpoint(bp)
    assert target.run_to_end() == 0


# -- commands -------------------------------------------------------------------------------------


def test_command_gc_goes_on(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    client.control.execute(f'bp {target.addr("bp_hot"):#x} "gc"')
    (bp,) = client.control.breakpoints()
    assert bp.get_command() == "gc"
    assert target.run_to_end() == 0
    assert bp.hit_count == 10
    assert "Breakpoint 0 hit" not in output.text()
    assert target.result() == "total 10"


def test_command_gc_goes_on_in_every_thread(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 4, 25)
    client.control.execute(f'bp {target.addr("bp_hot"):#x} "gc"')
    (bp,) = client.control.breakpoints()
    assert target.run_to_end() == 0
    assert bp.hit_count == 100
    assert target.result() == "total 100"


def test_command_echo_prints_then_breaks(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    client.control.execute(f'bp {address:#x} ".echo hi"')
    output.take()
    assert target.go() is True
    assert target.pc() == address
    text = output.take()
    assert "hi\n" in text
    assert text.index("hi\n") < text.index("Breakpoint 0 hit")
    assert target.go() is True
    assert target.reg("rdi") == 1


def test_command_shows_a_register_and_goes(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    client.control.execute(f'bp {address:#x} "r rip; g"')
    output.take()
    assert target.run_to_end() == 0
    lines = [line for line in output.text().splitlines() if line.startswith("rip=")]
    assert lines == [f"rip={address:016x}"] * 10


def test_command_that_fails_to_run_breaks_and_the_session_goes_on(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    client.control.execute(f'bp {address:#x} "nosuchcommand 1"')
    output.take()
    assert target.go() is True
    assert target.pc() == address
    assert "nosuchcommand" in output.text(OUTPUT_ERROR)
    client.control.execute("bc 0")
    assert target.run_to_end() == 0
    assert target.result() == "total 10"


def test_command_that_does_not_parse_is_refused(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    bp = target.breakpoint(target.addr("bp_hot"))
    with pytest.raises(BreakpointError, match="unterminated"):
        bp.set_command('.echo "abc')
    assert bp.get_command() == ""
    assert target.go() is True
    assert target.reg("rdi") == 0
    client.control.remove_breakpoint(bp)
    assert target.run_to_end() == 0
    assert target.result() == "total 10"


def test_gc_from_a_breakpoint_hit_continues(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    target.breakpoint(target.addr("bp_hot"))
    assert target.go() is True
    assert target.reg("rdi") == 0
    assert target.command("gc") is True
    assert target.reg("rdi") == 1
    client.control.execute("gc; ? @rdi")
    assert "Evaluate expression: 2 = " in output.text()


def test_command_gc_during_a_step_over_lets_the_step_finish(client, recorder, output, launch):
    target = launch("bp_steps", "shapes")
    call = target.first("step_here", is_call)
    start = target.breakpoint(call.address)
    assert target.go() is True
    client.control.remove_breakpoint(start)
    client.control.execute(f'bp {target.addr("step_inner"):#x} "gc"')
    (inner,) = client.control.breakpoints()
    assert target.command("p") is True
    assert target.pc() == after(call)  # the step went on past the breakpoint
    assert inner.hit_count == 1


# -- notifications and parameters ----------------------------------------------------------------

CES_BREAKPOINTS = 0x4  # spec §3.4


def _breakpoint_changes(recorder: Recorder) -> list[int]:
    return [c[2] for c in recorder.take() if c[:2] == ("change_engine_state", CES_BREAKPOINTS)]


def test_every_change_is_notified_with_the_breakpoint_id(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    recorder.take()
    client.control.add_breakpoint(CODE)  # id 0, left empty
    bp = client.control.add_breakpoint(CODE)
    assert _breakpoint_changes(recorder) == [0, 1]
    bp.set_offset(address)
    assert _breakpoint_changes(recorder) == [1]
    bp.add_flags(ENABLED | ONE_SHOT)
    assert _breakpoint_changes(recorder) == [1]
    bp.set_pass_count(2)
    assert _breakpoint_changes(recorder) == [1]
    bp.set_command(".echo x")
    assert _breakpoint_changes(recorder) == [1]
    bp.condition = "@rdi != 0n99"
    assert _breakpoint_changes(recorder) == [1]

    params = bp.get_parameters()
    assert (params.offset, params.id, params.break_type, params.proc_type) == (
        address,
        1,
        CODE,
        0x8664,
    )
    assert params.flags == ENABLED | ONE_SHOT
    assert (params.pass_count, params.current_pass_count) == (2, 2)
    assert (params.match_thread, params.command) == (ANY_ID, ".echo x")

    assert target.go() is True  # the second hit triggers; one-shot: it removes itself
    assert target.reg("rdi") == 1
    assert 1 in _breakpoint_changes(recorder)
    client.control.remove_breakpoint(client.control.get_breakpoint_by_id(0))
    assert _breakpoint_changes(recorder) == [0]
    assert target.run_to_end() == 0


def test_bp_and_bu_by_symbol_name(client, recorder, output, launch):
    target = launch("bp_threads", "hot", 0, 10)
    client.control.execute("bp bp_hot; bu bp_ready")
    hot, ready = client.control.breakpoints()
    assert hot.get_offset() == target.addr("bp_hot")
    assert ready.get_offset() == target.addr("bp_ready")
    assert ready.get_offset_expression() == "bp_ready"
    assert target.go() is True
    assert target.pc() == target.addr("bp_hot")
    client.control.execute("bc *")
    assert target.run_to_end() == 0
