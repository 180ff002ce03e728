"""Tracer.stop_all / cont_all: all-stop over many threads, over several processes, and
against threads that appear and vanish meanwhile (hazards §6; scenarios 9, 19)."""

from __future__ import annotations

import os

import pytest

from pydbg._native import EventKind, ThreadState
from tests.support import task_state


def _assert_all_stopped(tracer, pid):
    states = {t: (tracer.thread_state(t).name, task_state(pid, t)) for t in tracer.threads(pid)}
    # The kernel agrees: every thread sits in a ptrace-stop.
    bad = {t: s for t, s in states.items() if s != ("STOPPED", "t")}
    assert not bad, f"not stopped {{tid: (state, /proc state)}}: {bad}"


def _spawn_threads(tracer, driver, binary, count):
    """Spawn the `threads` target and run it until every worker has started."""
    in_r, in_w = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = tracer.spawn([binary.path, str(count)], stdin=in_r, stdout=devnull)
    finally:
        os.close(in_r)
        os.close(devnull)
    ready = binary.addr(pid, "all_ready")
    tracer.insert_breakpoint(pid, ready)
    tracer.cont(pid)
    hit = driver.until_kind(EventKind.BREAKPOINT)
    assert hit.address == ready
    tracer.remove_breakpoint(pid, ready)
    return pid, in_w


@pytest.mark.timeout(120)
@pytest.mark.parametrize("variant", ["pie", "nopie"])
def test_stop_all_100_threads_repeatedly(tracer, driver, targets, variant):
    pid, stdin_w = _spawn_threads(tracer, driver, targets.get("threads", variant), 100)
    try:
        assert len(tracer.threads(pid)) == 101
        assert driver.count(EventKind.CLONE) == 100
        tracer.cont_all(pid)
        for _ in range(20):
            tracer.stop_all(pid)
            _assert_all_stopped(tracer, pid)
            # The workers only sleep and tick: no real event can have been stashed.
            assert not tracer.has_pending()
            tracer.cont_all(pid)
            assert all(tracer.thread_state(t) == ThreadState.RUNNING for t in tracer.threads(pid))
    finally:
        os.close(stdin_w)  # EOF: main joins every worker and exits 0
    end = driver.until_exit(pid)
    assert end.exit_code == 0
    assert driver.count(EventKind.EXITED) == 101


def test_stop_all_every_process(tracer, targets):
    pids = [tracer.spawn([targets["loop"].path, "-1"]) for _ in range(3)]
    for pid in pids:
        tracer.cont(pid)
    tracer.stop_all()
    for pid in pids:
        _assert_all_stopped(tracer, pid)
    assert tracer.wait(timeout=0) == []
    # Stopping what is already stopped is a no-op.
    tracer.stop_all()
    tracer.stop_all(pids[0])
    assert not tracer.has_pending()
    # cont_all(pid) resumes one process only.
    tracer.cont_all(pids[1])
    assert tracer.thread_state(pids[0]) == ThreadState.STOPPED
    assert tracer.thread_state(pids[1]) == ThreadState.RUNNING
    assert tracer.thread_state(pids[2]) == ThreadState.STOPPED


@pytest.mark.timeout(120)
def test_stop_all_with_short_lived_threads(tracer, driver, targets):
    """Scenario 19: many stop-all cycles while the target creates and joins threads
    non-stop: no error, no hang, every listed thread really stopped, and a clean exit."""
    in_r, in_w = os.pipe()
    try:
        pid = tracer.spawn([targets["churn"].path], stdin=in_r)
    finally:
        os.close(in_r)
    try:
        tracer.cont(pid)
        for cycle in range(300):
            # Let the target make progress: handle whatever it reported (new threads,
            # exits), then stop everything.
            for event in tracer.wait(timeout=0.002):
                driver.log.append(event)
                driver.resume(event)
            tracer.stop_all(pid)
            if cycle % 10 == 0:
                _assert_all_stopped(tracer, pid)
            else:
                running = {
                    t: (tracer.thread_state(t).name, task_state(pid, t))
                    for t in tracer.threads(pid)
                    if tracer.thread_state(t) != ThreadState.STOPPED
                }
                assert not running, f"cycle {cycle}: not stopped {{tid: (state, /proc)}}: {running}"
            stashed = tracer.wait(timeout=0) if tracer.has_pending() else []
            driver.log.extend(stashed)
            tracer.cont_all(pid)
    finally:
        os.close(in_w)
    end = driver.until_exit(pid)
    assert end.exit_code == 0
    clones = driver.count(EventKind.CLONE)
    assert clones > 2  # the creators made threads while we were stopping everything
    # Every thread that was announced also ended exactly once.
    created = {e.message for e in driver.log if e.kind == EventKind.CLONE} | {pid}
    ended = [e.tid for e in driver.log if e.kind == EventKind.EXITED]
    assert sorted(ended) == sorted(created)
