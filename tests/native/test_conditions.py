"""Native breakpoint conditions: traps decided in the core, counted, and (when declined)
never reported; the step-over they need in single- and multi-threaded processes, signals
arriving meanwhile, and how conditions follow fork and exec (hazards §6.1, §7, §8, §9).

The `bphot` target exits 0 only if hot() ran exactly as often as it was called, so a
declined hit whose step-over skipped or repeated hot's first instruction (`push rbp`)
shows in the exit status; `threads` and `bphot signals` print what they counted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from pydbg._native import EventKind, ThreadState
from pydbg.errors import InvalidRegisterError
from tests.support import insn_at

SIGCOUNT = signal.SIGRTMIN + 1  # counted by `bphot signals`
SIGSTOP_LOOP = signal.SIGRTMIN + 2  # ends its loop


def _spawn(tracer, targets, *args, **kw):
    binary = targets["bphot"]
    pid = tracer.spawn([binary.path, *args], **kw)
    return binary, pid, binary.addr(pid, "hot")


def _read_long(tracer, pid, address):
    return int.from_bytes(tracer.read_memory(pid, address, 8), "little")


def _run(driver, pid, on_event=None):
    """Resume everything until pid exits; return (its exit event, the BREAKPOINT events).
    on_event(event) sees every event first and may return True when it resumed it."""
    hits = []

    def handle(event):
        if on_event is not None and on_event(event):
            return True
        if event.kind == EventKind.BREAKPOINT:
            hits.append(event)
        return False

    end = driver.until_exit(pid, handle=handle)
    return end, hits


def test_declining_condition_swallows_every_hit(tracer, driver, targets):
    """10,000 hits, none reported; every one counted; each step-over exact."""
    binary, pid, hot = _spawn(tracer, targets, "loop", "10000", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op=">", reg_value=10**6)
    assert tracer.breakpoint_counts(pid, hot) == (0, 0)
    tracer.cont(pid)
    seen = {}

    def at_exit(event):
        if event.kind == EventKind.EXIT:
            seen["counts"] = tracer.breakpoint_counts(pid, hot)
            seen["calls"] = _read_long(tracer, pid, binary.addr(pid, "hot_calls"))
        return False

    end, hits = _run(driver, pid, at_exit)
    assert end.exit_code == 0
    assert hits == []
    assert seen == {"counts": (10_000, 0), "calls": 10_000}
    assert driver.count(EventKind.BREAKPOINT) == 0


def test_register_condition_reports_the_matching_hit(tracer, driver, targets):
    _, pid, hot = _spawn(tracer, targets, "loop", "10000", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="==", reg_value=5000)
    tracer.cont(pid)
    event = driver.until_kind(EventKind.BREAKPOINT)
    assert event.address == hot and tracer.get_pc(pid) == hot
    assert tracer.get_reg(pid, "rdi") == 5000
    assert tracer.breakpoint_counts(pid, hot) == (5001, 1)
    tracer.cont(pid)
    end, hits = _run(driver, pid)
    assert end.exit_code == 0 and hits == []


@pytest.mark.parametrize(
    ("size", "op", "value", "reported"),
    [
        (8, "==", 777, [777]),
        (4, "<", 3, [0, 1, 2]),
        (2, ">=", 997, [997, 998, 999]),
        (1, "!=", 0, None),  # low byte of hot_index: every i that is not a multiple of 256
        (8, "<=", -1, list(range(1000))),  # -1 is 2**64 - 1: everything is below
        (4, "==", -1, []),  # -1 in 4 bytes is 0xffffffff: never
    ],
)
def test_memory_condition(tracer, driver, targets, size, op, value, reported):
    binary, pid, hot = _spawn(tracer, targets, "loop", "1000", stdout=subprocess.DEVNULL)
    index = binary.addr(pid, "hot_index")
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(
        pid, hot, mem_address=index, mem_size=size, mem_op=op, mem_value=value
    )
    tracer.cont(pid)
    values = []

    def record(event):
        if event.kind == EventKind.BREAKPOINT:
            values.append(tracer.get_reg(pid, "rdi"))
        return False

    end, _ = _run(driver, pid, record)
    assert end.exit_code == 0
    if reported is None:
        reported = [i for i in range(1000) if i % 256]
    assert values == reported


def test_skip_counts_matches(tracer, driver, targets):
    _, pid, hot = _spawn(tracer, targets, "loop", "10", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op=">=", reg_value=5, skip=2)
    tracer.cont(pid)
    values = []

    def record(event):
        if event.kind == EventKind.BREAKPOINT:
            values.append(tracer.get_reg(pid, "rdi"))
            values.append(tracer.breakpoint_counts(pid, hot))
        return False

    end, _ = _run(driver, pid, record)
    assert end.exit_code == 0
    # Matches are i = 5..9; the first two are skipped.
    assert values == [7, (8, 3), 8, (9, 4), 9, (10, 5)]


def test_condition_without_tests_only_counts(tracer, driver, targets):
    _, pid, hot = _spawn(tracer, targets, "loop", "5", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot)
    tracer.cont(pid)
    counts = []

    def record(event):
        if event.kind == EventKind.BREAKPOINT:
            counts.append(tracer.breakpoint_counts(pid, hot))
        return False

    end, _ = _run(driver, pid, record)
    assert end.exit_code == 0
    assert counts == [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]


def test_unreadable_memory_counts_as_a_match(tracer, driver, targets):
    _, pid, hot = _spawn(tracer, targets, "loop", "3", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, mem_address=0, mem_size=8, mem_op="==", mem_value=1)
    tracer.cont(pid)
    end, hits = _run(driver, pid)
    assert end.exit_code == 0
    assert len(hits) == 3


def test_clearing_a_condition_makes_a_plain_breakpoint(tracer, driver, targets):
    _, pid, hot = _spawn(tracer, targets, "loop", "10", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="==", reg_value=5)
    tracer.cont(pid)
    driver.until_kind(EventKind.BREAKPOINT)
    assert tracer.get_reg(pid, "rdi") == 5
    tracer.clear_breakpoint_condition(pid, hot)
    tracer.clear_breakpoint_condition(pid, hot)  # nothing there: no error
    assert tracer.breakpoint_counts(pid, hot) == (0, 0)
    assert hot in tracer.breakpoints(pid)  # the site stays
    tracer.cont(pid)
    end, hits = _run(driver, pid)
    assert end.exit_code == 0
    assert len(hits) == 4  # i = 6..9


def test_condition_and_site_are_independent(tracer, driver, targets):
    """A condition may come before the site and outlive it; removing the site leaves the
    condition, and the program runs clean."""
    _, pid, hot = _spawn(tracer, targets, "loop", "100", stdout=subprocess.DEVNULL)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="==", reg_value=40)
    assert tracer.breakpoints(pid) == {}
    tracer.insert_breakpoint(pid, hot)
    tracer.cont(pid)
    driver.until_kind(EventKind.BREAKPOINT)
    tracer.remove_breakpoint(pid, hot)
    assert tracer.breakpoints(pid) == {}
    assert tracer.breakpoint_counts(pid, hot) == (41, 1)
    tracer.cont(pid)
    end, hits = _run(driver, pid)
    assert end.exit_code == 0 and hits == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"register": "rdi"}, ValueError),  # no reg_op
        ({"reg_op": "=="}, ValueError),  # no register
        ({"register": "rdi", "reg_op": "=<"}, ValueError),
        ({"register": "xmm0", "reg_op": "=="}, InvalidRegisterError),
        ({"mem_address": 8, "mem_size": 3, "mem_op": "=="}, ValueError),
        ({"mem_address": 8, "mem_size": 8}, ValueError),  # no mem_op
        ({"skip": -1}, ValueError),
    ],
)
def test_invalid_conditions(tracer, targets, kwargs, error):
    _, pid, hot = _spawn(tracer, targets, "loop", "1", stdout=subprocess.DEVNULL)
    tracer.set_breakpoint_condition(pid, hot, tid=pid)
    with pytest.raises(error):
        tracer.set_breakpoint_condition(pid, hot, **kwargs)
    # The previous condition is untouched.
    tracer.insert_breakpoint(pid, hot)
    tracer.cont(pid)
    event = tracer.wait(timeout=30)
    assert [e.kind for e in event] == [EventKind.BREAKPOINT]
    assert tracer.breakpoint_counts(pid, hot) == (1, 1)


@pytest.mark.timeout(60)
def test_tid_condition_with_eight_threads(tracer, driver, targets):
    """8 threads hit one site; only the chosen thread's hits are reported, every hit is
    counted exactly once (against the program's own count), and the program's output is
    what it prints untraced."""
    binary = targets["threads"]
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        pid = tracer.spawn([binary.path, "8", "spin"], stdin=stdin_r, stdout=out_w)
    finally:
        os.close(stdin_r)
        os.close(out_w)
    ready = binary.addr(pid, "all_ready")
    tick = binary.addr(pid, "worker_tick")
    tracer.insert_breakpoint(pid, ready)
    tracer.cont(pid)
    driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == ready)
    tracer.remove_breakpoint(pid, ready)
    tracer.stop_all(pid)
    driver.queue.extend(tracer.wait(timeout=0) if tracer.has_pending() else [])
    workers = sorted(set(tracer.threads(pid)) - {pid})
    assert len(workers) == 8
    chosen = workers[3]
    # A worker stopped inside worker_tick would count a tick without a trap: let each
    # leave the function first, so that every tick from here on starts at the site.
    end_of_tick = tick + binary.sym_size("worker_tick")
    for tid in workers:
        while tick < tracer.get_pc(tid) < end_of_tick:
            assert tracer.step(tid).kind == EventKind.STEP
    ticks_before = _read_long(tracer, pid, binary.addr(pid, "ticks"))
    tracer.insert_breakpoint(pid, tick)
    tracer.set_breakpoint_condition(pid, tick, tid=chosen)
    reported = []
    at_exit = {}
    closed = False
    tracer.cont_all(pid)
    while True:
        events = list(driver.queue) or tracer.wait(timeout=30)
        driver.queue.clear()
        assert events, driver.describe()
        gone = False
        for event in events:
            driver.log.append(event)
            if event.kind == EventKind.BREAKPOINT:
                assert event.tid == chosen and event.address == tick
                reported.append(event)
            elif event.kind == EventKind.EXIT and event.tid == pid:
                at_exit["ticks"] = _read_long(tracer, pid, binary.addr(pid, "ticks"))
                at_exit["counts"] = tracer.breakpoint_counts(pid, tick)
            elif event.kind in (EventKind.EXITED, EventKind.KILLED) and event.tid == pid:
                gone = True
            elif event.kind == EventKind.SIGNAL:
                raise AssertionError(f"unexpected {event}")
        if gone:
            break
        if len(reported) >= 20 and not closed:
            os.close(stdin_w)
            closed = True
        # All-stop: handle the round with everything stopped, then resume everything.
        tracer.stop_all(pid)
        driver.queue.extend(tracer.wait(timeout=0) if tracer.has_pending() else [])
        if not driver.queue:
            tracer.cont_all(pid)
    if not closed:
        os.close(stdin_w)
    output = b""
    while chunk := os.read(out_r, 4096):
        output += chunk
    os.close(out_r)
    assert events[-1].exit_code == 0
    assert output == b"ready 8\n"
    ticks = at_exit["ticks"] - ticks_before
    assert at_exit["counts"] == (ticks, len(reported))
    assert ticks > len(reported)  # the others hit too, and were declined


def _signal_loop(tracer, driver, pid, hot):
    """Run `bphot signals|sigthread` to its end, delivering every signal; return the
    SIGNAL events, the program's exit event, the counts at its exit stop and how many
    signals were reported with the pc just past the site's instruction: those arrived
    while the thread sat at the trap, preempted the step-over, and were delivered after
    it (the deferred-signal path)."""
    signals = []
    counts = None
    after_site = insn_at(tracer, pid, hot).size + hot
    deferred = 0
    while True:
        event = driver.next()
        if event.tid == pid and event.kind in (EventKind.EXITED, EventKind.KILLED):
            return signals, event, counts, deferred
        if event.kind == EventKind.EXIT and event.tid == pid:
            counts = tracer.breakpoint_counts(pid, hot)
        if event.kind == EventKind.SIGNAL:
            deferred += tracer.get_pc(event.tid) == after_site
            signals.append(event)
            assert event.signal in (SIGCOUNT, SIGSTOP_LOOP), event
            tracer.cont(event.tid, event.signal)
            continue
        assert event.kind not in (EventKind.BREAKPOINT, EventKind.HW_BREAKPOINT), event
        driver.resume(event)


def test_signals_sent_while_hits_are_declined_arrive_once(tracer, driver, targets):
    """A single-threaded program hits a declined site nonstop while another process
    sends it 200 queued signals, in bursts of 4 so that several wait at one step-over:
    each is reported once and its handler runs once."""
    out_r, out_w = os.pipe()
    try:
        binary, pid, hot = _spawn(tracer, targets, "signals", stdout=out_w)
    finally:
        os.close(out_w)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, tid=-1)  # no thread has tid -1
    tracer.cont(pid)
    count = 200

    def send():
        for _ in range(count // 4):
            for _ in range(4):
                os.kill(pid, SIGCOUNT)
            time.sleep(0.001)
        os.kill(pid, SIGSTOP_LOOP)

    # Let the loop get going first, so the signals land among declined hits.
    deadline = time.monotonic() + 10
    while tracer.breakpoint_counts(pid, hot)[0] < 100 and time.monotonic() < deadline:
        assert tracer.wait(timeout=0.01) == []
    sender = threading.Thread(target=send)
    sender.start()
    try:
        signals, end, (hits, matches), deferred = _signal_loop(tracer, driver, pid, hot)
    finally:
        sender.join()
    output = os.read(out_r, 4096)
    os.close(out_r)
    assert end.exit_code == 0
    assert [e.signal for e in signals].count(SIGCOUNT) == count
    assert output == f"handled {count}\n".encode()
    assert hits > 100 and matches == 0
    # The thread spends most of its time stopped at the trap, so signals land there.
    assert deferred > 0


def test_several_signals_queued_at_one_step_over_are_each_delivered_once(tracer, driver, targets):
    """Three signals queued while the thread sits at a reported breakpoint all preempt
    the step off it.  The first is reported right after the step-over (the instruction
    ran); the others go back to the thread's queue and are reported one at a time after:
    three SIGNAL events, three handler runs."""
    out_r, out_w = os.pipe()
    try:
        binary, pid, hot = _spawn(tracer, targets, "signals", stdout=out_w)
    finally:
        os.close(out_w)
    tracer.insert_breakpoint(pid, hot)
    tracer.cont(pid)
    driver.until_kind(EventKind.BREAKPOINT)
    for _ in range(3):
        os.kill(pid, SIGCOUNT)
    tracer.cont(pid)
    first = driver.next()
    assert first.kind == EventKind.SIGNAL and first.signal == SIGCOUNT
    assert tracer.get_pc(pid) == hot + insn_at(tracer, pid, hot).size
    tracer.cont(pid, SIGCOUNT)
    signals = [first]
    while len(signals) < 3:
        event = driver.next()
        if event.kind == EventKind.SIGNAL:
            signals.append(event)
            tracer.cont(pid, event.signal)
        else:
            assert event.kind == EventKind.BREAKPOINT, event
            tracer.cont(pid)
    assert [e.signal for e in signals] == [SIGCOUNT] * 3
    tracer.remove_breakpoint(pid, hot)
    os.kill(pid, SIGSTOP_LOOP)
    signals, end, _, _ = _signal_loop(tracer, driver, pid, hot)
    assert [e.signal for e in signals] == [SIGSTOP_LOOP]
    assert end.exit_code == 0
    assert os.read(out_r, 4096) == b"handled 3\n"
    os.close(out_r)


def test_signals_from_another_target_thread_arrive_once(tracer, driver, targets):
    """The same with the sender a thread of the program itself: every declined hit then
    stops the sender for the step-over and resumes it after."""
    out_r, out_w = os.pipe()
    try:
        _, pid, hot = _spawn(tracer, targets, "sigthread", "300", stdout=out_w)
    finally:
        os.close(out_w)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="==", reg_value=2**63)
    tracer.cont(pid)
    signals, end, (hits, matches), deferred = _signal_loop(tracer, driver, pid, hot)
    output = os.read(out_r, 4096)
    os.close(out_r)
    assert end.exit_code == 0
    assert hits > 0 and matches == 0 and deferred > 0
    assert output == b"handled 300\n"
    assert [e.signal for e in signals].count(SIGCOUNT) == 300
    assert {e.tid for e in signals} == {pid}


def test_wait_timeout_and_wake_while_hits_are_declined(tracer, driver, targets):
    """wait() keeps its timeout, and wake() its promise, while the core declines hits
    nonstop: a timer or wake signal that lands just after a status was reaped is kept."""
    _, pid, hot = _spawn(tracer, targets, "loop", "1000000000", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, tid=-1)
    tracer.cont(pid)
    before = 0
    progressed = 0
    for _ in range(100):
        start = time.monotonic()
        assert tracer.wait(timeout=0.005) == []
        assert time.monotonic() - start < 5
        hits = tracer.breakpoint_counts(pid, hot)[0]
        # A loaded machine may not run the target at all within one 5 ms wait: hits never
        # go back, and most waits see some declined (the wait really ran the loop).
        assert hits >= before
        progressed += hits > before
        before = hits
    assert progressed >= 10
    for _ in range(20):
        waker = threading.Timer(0.005, tracer.wake)
        waker.start()
        start = time.monotonic()
        assert tracer.wait() == []
        assert time.monotonic() - start < 5
        waker.join()
    tracer.kill(pid)


def test_interrupt_and_stop_all_while_hits_are_declined(tracer, driver, targets):
    """Interrupting a thread that keeps hitting a declined site: it comes to rest (an
    INTERRUPT is reported for Tracer.interrupt, nothing for stop_all), and resuming it
    loses no hit and repeats none."""
    binary, pid, hot = _spawn(tracer, targets, "loop", "20000", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="==", reg_value=2**64 - 1)
    tracer.cont(pid)
    for round_ in range(40):
        assert tracer.wait(timeout=0.002) == []
        if round_ % 2:
            tracer.interrupt(pid)
            events = driver.next()
            assert events.kind == EventKind.INTERRUPT, events
        else:
            tracer.stop_all(pid)
            assert not tracer.has_pending()
        assert tracer.thread_state(pid) == ThreadState.STOPPED
        if round_ % 4 == 0:
            tracer.step(pid)  # from wherever it rests, a site included
        tracer.cont_all(pid)
    seen = {}

    def at_exit(event):
        if event.kind == EventKind.EXIT:
            seen["counts"] = tracer.breakpoint_counts(pid, hot)
        return False

    end, hits = _run(driver, pid, at_exit)
    assert end.exit_code == 0 and hits == []
    assert seen["counts"] == (20_000, 0)


def test_step_and_trace_from_a_conditional_site(tracer, driver, targets):
    binary, pid, hot = _spawn(tracer, targets, "loop", "50", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="==", reg_value=3)
    tracer.cont(pid)
    driver.until_kind(EventKind.BREAKPOINT)
    assert tracer.step(pid).kind == EventKind.STEP
    assert tracer.get_pc(pid) != hot
    # A trace that stops at breakpoints stops only where the condition passes; the sites
    # it passes on the way are counted like hits.
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="==", reg_value=6)
    result = tracer.trace(pid, 10**6, stop_at_breakpoints=True)
    assert result.reason.name == "BREAKPOINT"
    assert tracer.get_pc(pid) == hot and tracer.get_reg(pid, "rdi") == 6
    assert tracer.breakpoint_counts(pid, hot) == (3, 1)  # i = 4, 5, 6
    tracer.clear_breakpoint_condition(pid, hot)
    tracer.remove_breakpoint(pid, hot)
    tracer.cont(pid)
    end, _ = _run(driver, pid)
    assert end.exit_code == 0


def test_conditions_are_copied_to_fork_children(tracer, driver, targets):
    binary, pid, hot = _spawn(
        tracer, targets, "fork", "1000", trace_fork=True, stdout=subprocess.DEVNULL
    )
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op=">", reg_value=5000)
    tracer.cont(pid)
    counts = {}
    child = None
    while True:
        event = driver.next()
        assert event.kind != EventKind.BREAKPOINT, event
        if event.kind == EventKind.FORK:
            child = event.message
            assert tracer.breakpoints(child) == tracer.breakpoints(pid)
            assert tracer.breakpoint_counts(child, hot) == (0, 0)
        if event.kind == EventKind.EXIT:
            counts[event.pid] = tracer.breakpoint_counts(event.pid, hot)
        if event.tid == pid and event.kind == EventKind.EXITED:
            break
        driver.resume(event)
    assert event.exit_code == 0
    assert counts == {pid: (1000, 0), child: (1000, 0)}


def test_exec_drops_conditions(tracer, driver, targets):
    binary, pid, hot = _spawn(tracer, targets, "exec", "5", stdout=subprocess.DEVNULL)
    tracer.insert_breakpoint(pid, hot)
    tracer.set_breakpoint_condition(pid, hot, register="rdi", reg_op="!=", reg_value=0)
    tracer.cont(pid)
    event = driver.until_kind(EventKind.EXEC)
    assert tracer.breakpoints(pid) == {}
    assert tracer.breakpoint_counts(pid, hot) == (0, 0)
    tracer.cont(pid)
    end, hits = _run(driver, pid)
    assert end.exit_code == 0 and hits == []
    assert event.pid == pid
