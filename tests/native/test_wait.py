"""Tracer.wait / wake / has_pending: blocking, timeouts, wake-ups, and the decoding of
exit and kill statuses (hazards §4, §5)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from pydbg._native import REQ_CONT, EventKind, ThreadState, Tracer
from tests.support import task_state, wait_until


def test_wait_timeout_returns_empty_and_target_keeps_running(tracer, targets):
    pid = tracer.spawn([targets["loop"].path, "-1"])
    tracer.cont(pid)
    assert tracer.last_request(pid) == REQ_CONT
    assert tracer.wait(timeout=0.2) == []
    assert tracer.thread_state(pid) == ThreadState.RUNNING
    assert wait_until(lambda: task_state(pid) == "R"), task_state(pid)
    assert tracer.wait(timeout=0) == []


def test_wait_with_nothing_traced_returns_at_once():
    with Tracer() as t:
        # No timeout: a wait that cannot get an event must not block forever.
        assert t.wait() == []
        assert t.processes() == []


def test_wait_with_everything_stopped_returns_at_once(tracer, targets):
    pid = tracer.spawn([targets["loop"].path, "1"])
    assert tracer.thread_state(pid) == ThreadState.STOPPED
    assert tracer.wait() == []


@pytest.mark.timeout(30)
def test_wake_from_another_thread_ends_a_blocked_wait(tracer, targets):
    in_r, in_w = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = tracer.spawn([targets["blockread"].path], stdin=in_r, stdout=devnull)
        tracer.cont(pid)  # blocks in read(): running, silent

        def waker():
            # Only sequencing: make it likely the main thread is already blocked.
            wait_until(lambda: task_state(pid) == "S", timeout=5)
            tracer.wake()

        helper = threading.Thread(target=waker)
        helper.start()
        try:
            assert tracer.wait() == []  # no timeout: only wake() can end it
        finally:
            helper.join()
        assert tracer.thread_state(pid) == ThreadState.RUNNING
        # wake() before wait(): the next wait returns [] at once.
        tracer.wake()
        assert tracer.wait() == []
    finally:
        for fd in (in_r, in_w, devnull):
            os.close(fd)


def test_exited_event_carries_exit_code(tracer, driver, targets):
    pid = tracer.spawn([targets["exit7"].path, "group"])
    tracer.cont(pid)
    end = driver.until_exit(pid)
    assert end.kind == EventKind.EXITED
    assert end.exit_code == 7
    assert end.signal == 0
    assert end.tid == end.pid == pid
    assert os.WIFEXITED(end.status) and os.WEXITSTATUS(end.status) == 7
    assert not end.core_dumped
    exits = [e for e in driver.log if e.kind == EventKind.EXIT]
    assert {e.tid for e in exits} == {e.tid for e in driver.log if e.kind == EventKind.EXITED}
    assert all(e.exit_code == 7 for e in exits)
    assert tracer.processes() == []


def test_killed_event_carries_signal(tracer, driver, targets):
    pid = tracer.spawn([targets["loop"].path, "-1"])
    tracer.cont(pid)
    os.kill(pid, signal.SIGKILL)
    end = driver.until_exit(pid)
    assert end.kind == EventKind.KILLED
    assert end.signal == signal.SIGKILL
    assert end.exit_code == -1
    assert not end.core_dumped
    assert os.WIFSIGNALED(end.status) and os.WTERMSIG(end.status) == signal.SIGKILL
    # Every event of the run was about this one thread, and the last one is the death.
    assert {e.tid for e in driver.log} == {pid}
    assert driver.log[-1] is end
    assert tracer.processes() == []


def test_exit_event_message_is_the_wait_status(tracer, driver, targets):
    pid = tracer.spawn([targets["loop"].path, "-1"])
    tracer.cont(pid)
    os.kill(pid, signal.SIGTERM)
    # SIGTERM is reported as a signal first; delivering it kills the process.
    first = driver.next()
    assert first.kind == EventKind.SIGNAL and first.signal == signal.SIGTERM
    tracer.cont(pid, signal.SIGTERM)
    exit_stop = driver.next()
    assert exit_stop.kind == EventKind.EXIT
    assert exit_stop.exit_code == 128 + signal.SIGTERM
    assert os.WIFSIGNALED(exit_stop.message)
    assert os.WTERMSIG(exit_stop.message) == signal.SIGTERM
    tracer.cont(pid)
    end = driver.next()
    assert end.kind == EventKind.KILLED and end.signal == signal.SIGTERM


def test_stop_all_stashes_real_events_for_wait(tracer, driver, targets):
    """A stop collected by stop_all that is a real event is kept and returned by wait."""
    quiet = tracer.spawn([targets["loop"].path, "-1"])
    exiting = tracer.spawn([targets["loop"].path, "0"])
    tracer.cont(quiet)
    tracer.cont(exiting)
    # The exiting process now sits in its PTRACE_EVENT_EXIT stop, not yet collected.
    assert wait_until(lambda: task_state(exiting) == "t")
    tracer.stop_all()
    assert tracer.thread_state(quiet) == ThreadState.STOPPED
    assert tracer.thread_state(exiting) == ThreadState.STOPPED
    assert tracer.has_pending()
    events = tracer.wait(timeout=0)
    assert [(e.kind, e.tid) for e in events] == [(EventKind.EXIT, exiting)]
    assert not tracer.has_pending()
    assert tracer.wait(timeout=0) == []
    tracer.cont(exiting)
    assert driver.until_exit(exiting).exit_code == 0
    assert tracer.processes() == [quiet]


@pytest.mark.timeout(30)
def test_ctrl_c_in_a_blocked_wait_raises_keyboard_interrupt(tracer, targets):
    """SIGINT while the owner blocks in wait(): KeyboardInterrupt, target untouched."""
    in_r, in_w = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = tracer.spawn([targets["blockread"].path], stdin=in_r, stdout=devnull)
        tracer.cont(pid)

        def interrupter():
            wait_until(lambda: task_state(pid) == "S", timeout=5)
            os.kill(os.getpid(), signal.SIGINT)

        helper = threading.Thread(target=interrupter)
        helper.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                tracer.wait()  # no timeout: only the signal can end it
        finally:
            helper.join()
        # The session is still usable and the target still ours and running.
        assert tracer.thread_state(pid) == ThreadState.RUNNING
        tracer.stop_all(pid)
        assert tracer.thread_state(pid) == ThreadState.STOPPED
        assert tracer.wait(timeout=0) == []
    finally:
        for fd in (in_r, in_w, devnull):
            os.close(fd)


@pytest.mark.timeout(30)
def test_children_that_are_not_tracees_keep_their_exit_status(tracer, targets):
    """A subprocess started from the tracing thread exits while wait() blocks: its status
    is left to subprocess (hazards §5), and the tracee's events still come through."""
    import subprocess

    pid = tracer.spawn([targets["loop"].path, "3"])
    bystander = subprocess.Popen(["/bin/sh", "-c", "exit 42"])
    try:
        wait_until(lambda: task_state(bystander.pid) == "Z", timeout=10)
        tracer.cont(pid)
        kinds = []
        while True:
            events = tracer.wait(timeout=10)
            assert events, "no event from the tracee while a foreign zombie exists"
            kinds += [e.kind for e in events]
            done = [e for e in events if e.tid == pid and e.kind == EventKind.EXITED]
            for e in events:
                if e.kind not in (EventKind.EXITED, EventKind.KILLED):
                    tracer.cont(e.tid)
            if done:
                assert done[0].exit_code == 0
                break
        assert EventKind.EXIT in kinds
    finally:
        assert bystander.wait(timeout=10) == 42


def test_exec_while_the_other_threads_sit_stopped(tracer, driver, targets):
    """Only the exec'ing thread runs; the leader and the sleeper sit in ptrace-stops.
    execve kills them, and waits until they have left their PTRACE_EVENT_EXIT stops: wait
    must see those stops (a wait for the running thread alone would deadlock the exec)."""
    binary = targets["exec_thread"]
    loop = targets["loop"]
    pid = tracer.spawn([binary.path, loop.path, "5"])
    tracer.cont(pid)
    clones = []
    while len(clones) < 2:
        event = driver.next()
        assert event.kind == EventKind.CLONE, event
        clones.append(event.message)
        if len(clones) == 1:
            driver.resume(event)  # the sleeper runs, the leader goes on
    # The leader sits in its second CLONE stop, the execer in its initial stop; stop the
    # sleeper too, then let only the execer run.
    tracer.stop_all(pid)
    assert not tracer.has_pending()
    tracer.cont(clones[1])
    kinds = []
    while True:
        event = driver.next(timeout=20)
        kinds.append(event.kind)
        if event.kind == EventKind.EXEC:
            break
        driver.resume(event)
    assert kinds.count(EventKind.EXIT) >= 1  # the stopped threads' exit stops were seen
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
