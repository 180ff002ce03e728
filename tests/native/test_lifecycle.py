"""Threads and processes coming and going under the tracer: CLONE, FORK/VFORK, EXEC and
EXIT events, exits while threads are stopped, zombie leaders, exec from a non-leader
thread (hazards §3, §6.2, §7; scenarios 20, 21, 24, 43)."""

from __future__ import annotations

import os

import pytest

from pydbg._native import EventKind, ThreadState
from tests.support import task_tids


def test_clone_event_new_thread_already_stopped_in_table(tracer, driver, targets):
    pid = tracer.spawn([targets["loop"].path, "10", "3"])
    tracer.cont(pid)
    clones = []

    def check_clone(event):
        if event.kind == EventKind.CLONE:
            new = event.message
            # The new thread is in the table and stopped before the caller hears of it.
            assert new in tracer.threads(pid)
            assert tracer.thread_state(new) == ThreadState.STOPPED
            assert tracer.thread_state(event.tid) == ThreadState.STOPPED
            assert tracer.pid_of(new) == pid
            assert event.tid == pid and event.pid == pid
            clones.append(new)
        return False

    end = driver.until_exit(pid, handle=check_clone)
    assert end.exit_code == 0
    assert len(clones) == 3 and len(set(clones)) == 3
    # Every thread reported its PTRACE_EVENT_EXIT and its exit exactly once.
    for tid in [pid, *clones]:
        assert driver.kinds_for(tid).count(EventKind.EXIT) == 1, tid
        assert driver.kinds_for(tid).count(EventKind.EXITED) == 1, tid
    # The leader's exit is the last event of the process.
    assert driver.log[-1] is end


def test_fork_and_exec_followed(tracer, driver, targets):
    loop = targets["loop"]
    pid = tracer.spawn([targets["forkexec"].path, "fork", loop.path, "5"], trace_fork=True)
    tracer.cont(pid)
    fork = driver.until_kind(EventKind.FORK)
    child = fork.message
    assert fork.tid == pid
    assert sorted(tracer.processes()) == sorted([pid, child])
    assert tracer.threads(child) == [child]
    assert tracer.thread_state(child) == ThreadState.STOPPED
    assert tracer.pid_of(child) == child
    tracer.cont(pid)
    tracer.cont(child)
    exec_event = driver.until(lambda e: e.kind == EventKind.EXEC)
    assert exec_event.tid == exec_event.pid == child
    assert exec_event.message == child
    # After the exec the child is the new image: its globals read from the new file.
    assert os.path.realpath(f"/proc/{child}/exe") == loop.path
    marker = tracer.read_memory(child, loop.addr(child, "loop_marker"), 16)
    assert marker == b"loop-target-img\0"
    tracer.cont(child)
    child_end = driver.until_exit(child)
    assert child_end.exit_code == 0
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.FORK) == 1
    assert tracer.processes() == []


def test_vfork_events(tracer, driver, targets):
    pid = tracer.spawn(
        [targets["forkexec"].path, "vfork", targets["loop"].path, "3"], trace_fork=True
    )
    tracer.cont(pid)
    vfork = driver.until_kind(EventKind.VFORK)
    child = vfork.message
    assert tracer.thread_state(child) == ThreadState.STOPPED
    driver.resume(vfork)
    end = driver.until_exit(pid)
    assert end.exit_code == 0
    assert driver.count(EventKind.VFORK_DONE, [pid]) == 1
    assert driver.count(EventKind.EXEC, [child]) == 1
    assert [e.exit_code for e in driver.log if e.kind == EventKind.EXITED and e.tid == child] == [0]


def test_fork_not_followed(tracer, driver, targets):
    pid = tracer.spawn([targets["forkexec"].path, "fork", "/bin/true"])
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    # Only the parent was ever traced.
    assert {e.tid for e in driver.log} == {pid}
    assert driver.count(EventKind.FORK) == 0


def test_exit_group_while_other_threads_stopped(tracer, driver, targets):
    """Scenario 24: exit(7) by one thread while every other thread is ptrace-stopped."""
    binary = targets["exit7"]
    pid = tracer.spawn([binary.path, "group"])
    tracer.insert_breakpoint(pid, binary.addr(pid, "about_to_exit"))
    tracer.cont(pid)
    hit = driver.until_kind(EventKind.BREAKPOINT)
    assert hit.tid == pid
    tracer.stop_all(pid)
    tids = tracer.threads(pid)
    assert len(tids) == 5
    assert all(tracer.thread_state(t) == ThreadState.STOPPED for t in tids)
    # Resume only the exiting thread; exit_group takes the stopped ones with it.
    tracer.cont(pid)
    end = driver.until_exit(pid)
    assert end.kind == EventKind.EXITED and end.exit_code == 7
    for tid in tids:
        assert driver.kinds_for(tid).count(EventKind.EXIT) == 1, tid
        assert driver.kinds_for(tid).count(EventKind.EXITED) == 1, tid
    assert all(e.exit_code == 7 for e in driver.log if e.kind == EventKind.EXIT)
    assert tracer.processes() == []
    assert not os.path.exists(f"/proc/{pid}")


def test_threads_exit_while_stopped_at_breakpoints(tracer, driver, targets):
    """Workers stop at a breakpoint just before returning; all are resumed together."""
    binary = targets["exit7"]
    pid = tracer.spawn([binary.path, "threads"])
    tracer.insert_breakpoint(pid, binary.addr(pid, "worker_exit"))
    tracer.cont(pid)
    hits = set()

    def collect(event):
        if event.kind == EventKind.BREAKPOINT:
            hits.add(event.tid)
            # Hold every worker at the breakpoint until all four are there.
            if len(hits) == 4:
                tracer.stop_all(pid)
                tracer.cont_all(pid)
            return True
        return False

    end = driver.until_exit(pid, handle=collect)
    assert end.exit_code == 7
    assert len(hits) == 4
    for tid in hits:
        assert driver.kinds_for(tid).count(EventKind.EXIT) == 1
        assert driver.kinds_for(tid).count(EventKind.EXITED) == 1
    assert [e.exit_code for e in driver.log if e.kind == EventKind.EXIT and e.tid in hits] == [
        0
    ] * 4


@pytest.mark.timeout(60)
def test_zombie_leader(tracer, driver, targets):
    """Scenario 20: main calls pthread_exit; a worker hits a breakpoint afterwards and the
    process exits 7; the exit is reported on the leader's id, with no hang."""
    binary = targets["exit7"]
    pid = tracer.spawn([binary.path, "leader"])
    tracer.insert_breakpoint(pid, binary.addr(pid, "about_to_exit"))
    tracer.cont(pid)
    hit = driver.until_kind(EventKind.BREAKPOINT)
    assert hit.tid != pid and hit.pid == pid
    tracer.cont(hit.tid)
    end = driver.until_exit(pid)
    assert end.kind == EventKind.EXITED and end.exit_code == 7
    assert tracer.processes() == []


@pytest.mark.parametrize("variant", ["pie", "nopie"])
def test_exec_from_non_leader_thread(tracer, driver, targets, variant):
    """Scenario 21/43: the third thread execs; EXEC arrives on the pid with the old tid;
    the thread list collapses to one; old breakpoints are gone; the new image runs."""
    binary = targets.get("exec_thread", variant)
    loop = targets.get("loop", variant)
    pid = tracer.spawn([binary.path, loop.path, "50"])
    tracer.insert_breakpoint(pid, binary.addr(pid, "old_image_only"))
    tracer.cont(pid)
    clones = []

    def track(event):
        if event.kind == EventKind.CLONE:
            clones.append(event.message)
        return False

    exec_event = None

    def until_exec(event):
        nonlocal exec_event
        track(event)
        if event.kind == EventKind.EXEC:
            exec_event = event
            return True
        return False

    # until_exit would resume the EXEC stop; stop at it instead.
    event = driver.until(lambda e: until_exec(e))
    assert event is exec_event
    assert len(clones) == 2
    assert exec_event.tid == exec_event.pid == pid
    assert exec_event.message == clones[1]  # the exec'ing thread was created second
    assert tracer.threads(pid) == [pid]
    assert task_tids(pid) == [pid]
    assert tracer.breakpoints(pid) == {}
    assert os.path.realpath(f"/proc/{pid}/exe") == loop.path
    # Memory is the new image's (scenario 43), and breakpoints work in it.
    marker = tracer.read_memory(pid, loop.addr(pid, "loop_marker"), 16)
    assert marker == b"loop-target-img\0"
    tick = loop.addr(pid, "tick")
    tracer.insert_breakpoint(pid, tick)
    tracer.cont(pid)
    end = driver.until_exit(pid)
    assert end.exit_code == 0
    after_exec = driver.log[driver.log.index(exec_event) + 1 :]
    hits = [e for e in after_exec if e.kind == EventKind.BREAKPOINT]
    assert len(hits) == 50 and all(e.address == tick for e in hits)
