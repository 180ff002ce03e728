"""Breakpoints among threads and signals (hazards §9.2, §9.3; scenarios 17, 18, 29, 32):
stepping a thread off a breakpoint never lets another thread run past it, a breakpoint
removed while threads sit on it or have hit it is not reported again and kills nothing,
and a signal that arrives while a thread is being stepped off a breakpoint is delivered
exactly once.
"""

from __future__ import annotations

from collections import Counter

from tests.api.recording import GO, STATUS_BREAKPOINT
from tests.breakpoints.helpers import ENABLED, SIGRT1, after, tgkill

# A signal without a Windows counterpart is reported as 0xE0000000 | signo (README).
SIGRT1_CODE = 0xE0000000 | SIGRT1


def _stray_breakpoint_exceptions(recorder) -> list[tuple[object, ...]]:
    """Breakpoint exceptions (a SIGTRAP nobody claimed) after the initial breakpoint."""
    return [c for c in recorder.calls if c[:2] == ("exception", STATUS_BREAKPOINT)]


def _take_off_and_go_on(client, recorder, target, take_off, put_back) -> None:
    """Ten rounds of: stop at bp_hot's entry (some thread; others may have trapped there
    meanwhile), take the entry breakpoint away, and go on to the next stop at a
    breakpoint on bp_hot's ret.  The threads that had trapped at the entry must simply
    go on: never a second report, never a stray breakpoint exception."""
    hot = target.code("bp_hot")
    entry = target.breakpoint(hot[0].address)
    ret = target.breakpoint(hot[-1].address)
    ret.remove_flags(ENABLED)
    recorder.take()
    for _ in range(10):
        assert target.go() is True
        assert (target.pc(), recorder.args_of("breakpoint")[-1]) == (hot[0].address, (entry,))
        entry = take_off(entry)
        assert target.raw(hot[0].address, 1) != b"\xcc"
        ret.add_flags(ENABLED)
        assert target.go() is True
        assert _stray_breakpoint_exceptions(recorder) == []
        assert (target.pc(), recorder.args_of("breakpoint")[-1]) == (hot[-1].address, (ret,))
        ret.remove_flags(ENABLED)
        entry = put_back(entry)
    client.control.execute("bc *")
    assert target.run_to_end() == 0
    assert target.result() == "total 1600"
    assert _stray_breakpoint_exceptions(recorder) == []


def test_remove_while_threads_sit_on_the_breakpoint(client, recorder, launch):
    target = launch("bp_threads", "hot", 8, 200)
    address = target.addr("bp_hot")

    def take_off(bp):
        client.control.remove_breakpoint(bp)
        return None

    _take_off_and_go_on(client, recorder, target, take_off, lambda _: target.breakpoint(address))


def test_disable_while_threads_sit_on_the_breakpoint(client, recorder, launch):
    target = launch("bp_threads", "hot", 8, 200)

    def take_off(bp):
        client.control.execute(f"bd {bp.get_id()}")
        return bp

    def put_back(bp):
        client.control.execute(f"be {bp.get_id()}")
        return bp

    _take_off_and_go_on(client, recorder, target, take_off, put_back)


def test_first_callback_removes_the_breakpoint(client, recorder, launch):
    target = launch("bp_threads", "hot", 8, 500)
    address = target.addr("bp_hot")
    recorder.take()
    bp = target.breakpoint(address)
    hits: list[int] = []

    def vote(b):
        hits.append(target.tid())
        if client.control.breakpoints():
            client.control.remove_breakpoint(bp)
        return GO

    recorder.votes["breakpoint"] = vote
    assert target.run_to_end() == 0
    assert target.result() == "total 4000"
    assert 1 <= len(hits) <= 8
    assert len(set(hits)) == len(hits)  # at most one hit per thread was already in flight
    assert _stray_breakpoint_exceptions(recorder) == []


def test_tracing_from_a_breakpoint_runs_only_that_thread(client, recorder, launch):
    target = launch("bp_threads", "hot", 4, 50)
    hot = target.code("bp_hot")
    bp = target.breakpoint(hot[0].address)
    assert target.go() is True
    # Only this thread may trigger from now on: no other thread's hit is reported first.
    bp.set_match_thread_id(target.thread_id())
    total = target.global_int("hot_total")
    tid = target.tid()
    # Trace the hitting thread through bp_hot (its atomic add included): the other threads,
    # some of them perhaps on the same breakpoint, stay where they are.
    for insn in hot[:-1]:
        assert target.pc() == insn.address
        assert target.command("t") is True
        assert target.tid() == tid
    assert target.pc() == hot[-1].address
    assert target.global_int("hot_total") == total + 1


def test_each_hit_stepped_one_instruction_then_resumed(client, recorder, launch):
    target = launch("bp_threads", "hot", 4, 25)
    hot = target.code("bp_hot")
    bp = target.breakpoint(hot[0].address)
    hits: Counter[int] = Counter()
    steps: Counter[int] = Counter()
    command, stepping = "g", 0
    while target.command(command):
        tid = target.tid()
        if target.pc() == hot[0].address:
            # A hit (another thread's hit, queued before the step, may come first: the
            # step of the thread before it then never ran).
            hits[tid] += 1
            command, stepping = "t", tid
        else:
            assert (tid, target.pc()) == (stepping, after(hot[0]))
            steps[tid] += 1
            command = "g"
    assert client.get_exit_code() == 0
    assert target.result() == "total 100"
    assert sorted(hits.values()) == [25] * 4
    assert sum(steps.values()) >= 25
    assert all(steps[tid] <= hits[tid] for tid in steps)
    assert bp.hit_count == 100


def test_signal_sent_while_stopped_at_a_breakpoint_is_delivered_once(client, recorder, launch):
    target = launch("bp_threads", "sig", 200)
    recorder.take()
    sent: list[int] = []

    def vote(b):
        # The thread sits on the int3: its step off the breakpoint at the resume meets the
        # pending signal first.
        if target.reg("rdi") % 20 == 0:
            tgkill(target.pid, target.tid(), SIGRT1)
            sent.append(target.reg("rdi"))
        return GO

    recorder.votes["breakpoint"] = vote
    bp = target.breakpoint(target.addr("bp_hot"))
    assert target.run_to_end() == 0
    assert len(sent) == 10
    assert target.result() == "handled 10"
    assert [c for c in recorder.calls if c[0] == "exception"] == [
        ("exception", SIGRT1_CODE, True)
    ] * 10
    assert bp.hit_count == 200


def test_several_signals_queued_during_a_step_over_are_each_delivered_once(
    client, recorder, launch
):
    target = launch("bp_threads", "sig", 100)
    recorder.take()

    def vote(b):
        if target.reg("rdi") % 20 == 0:
            for _ in range(3):  # real-time signals queue: three of them wait for the step
                tgkill(target.pid, target.tid(), SIGRT1)
        return GO

    recorder.votes["breakpoint"] = vote
    target.breakpoint(target.addr("bp_hot"))
    assert target.run_to_end() == 0
    assert recorder.names().count("exception") == 15  # each one reported once ...
    assert target.result() == "handled 15"  # ... and each one delivered once


def test_signals_from_another_thread_during_step_overs_are_delivered_once(client, recorder, launch):
    target = launch("bp_threads", "sigthread", 300)
    recorder.take()
    recorder.votes["breakpoint"] = GO
    bp = target.breakpoint(target.addr("bp_hot"))
    code = target.run_to_end(timeout=60)
    assert target.result() == "sent 300 handled 300"
    assert code == 0
    assert bp.hit_count >= 300
    assert recorder.names().count("exception") == 300
    assert _stray_breakpoint_exceptions(recorder) == []


def test_simultaneous_hits_of_two_breakpoints_are_each_reported_once(client, recorder, launch):
    target = launch("bp_threads", "hot", 8, 100)
    hot = target.code("bp_hot")
    entry = target.breakpoint(hot[0].address)
    ret = target.breakpoint(hot[-1].address)
    seen: Counter[tuple[int, int]] = Counter()

    def vote(b):
        assert target.pc() == b.get_offset()
        seen[(target.tid(), b.get_id())] += 1
        return GO

    recorder.votes["breakpoint"] = vote
    assert target.run_to_end(timeout=60) == 0
    assert target.result() == "total 800"
    assert len(seen) == 16
    assert set(seen.values()) == {100}
    assert entry.hit_count == ret.hit_count == 800
