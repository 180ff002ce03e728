"""Tracer.seize / detach / kill / interrupt against running processes started outside the
tracer (hazards §2, §14 and scenarios 2-6, 39, 44).

Targets here are plain subprocesses; the `procs` fixture reaps them after the tracer is
closed, and a test waits for a target itself only after detaching it (a waitpid on a
traced child would take its ptrace stops).
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

from pydbg._native import HW_EXECUTE, HW_WRITE, EventKind, ThreadState, Tracer, gettid
from pydbg.errors import (
    AlreadyTracedError,
    NoSuchProcessError,
    ProcessExitedError,
    PtracePermissionError,
    SelfAttachError,
)
from tests.support import (
    all_tasks_in_state,
    task_state,
    task_tids,
    tracer_pid,
    unused_pid,
    wait_until,
)


def _assert_all_stopped_by(tracer, pid):
    tids = task_tids(pid)
    assert sorted(tracer.threads(pid)) == tids
    for tid in tids:
        assert tracer.thread_state(tid) == ThreadState.STOPPED
        assert tracer.pid_of(tid) == pid
        assert task_state(pid, tid) == "t", f"tid {tid}"
        assert tracer_pid(pid, tid) == tracer.owner_tid, f"tid {tid}"


def _finish(proc, expected=0):
    """End a `threads`/`blockread` target by closing its stdin; check its exit status."""
    proc.stdin.close()
    assert proc.wait(timeout=30) == expected


def test_seize_single_thread_and_detach(tracer, procs, targets):
    proc = procs.start([targets["threads"].path, "1", "spin"], ready=b"ready")
    pid = proc.pid
    tids = tracer.seize(pid)
    assert sorted(tids) == task_tids(pid) and len(tids) == 2
    assert tracer.processes() == [pid]
    _assert_all_stopped_by(tracer, pid)
    # The interrupt stops of the seize are the core's own: nothing to report.
    assert not tracer.has_pending()
    assert tracer.wait(timeout=0) == []
    assert tracer.get_pc(pid) != 0
    tracer.detach(pid)
    assert tracer.processes() == []
    for tid in tids:
        assert tracer_pid(pid, tid) == 0
    # The spinning worker runs again.
    worker = [t for t in tids if t != pid][0]
    assert wait_until(lambda: task_state(pid, worker) == "R"), task_state(pid, worker)
    _finish(proc)


@pytest.mark.parametrize("variant", ["pie", "nopie", "pie-O2"])
def test_seize_100_threads(tracer, procs, targets, variant):
    proc = procs.start([targets.get("threads", variant).path, "100"], ready=b"ready 100")
    pid = proc.pid
    tids = tracer.seize(pid)
    assert len(tids) == 101
    assert sorted(tids) == task_tids(pid)
    _assert_all_stopped_by(tracer, pid)
    assert tracer.wait(timeout=0) == []
    tracer.detach(pid)
    for tid in tids:
        assert tracer_pid(pid, tid) == 0, f"tid {tid} still traced"
    _finish(proc)


@pytest.mark.timeout(60)
def test_seize_rescans_while_threads_appear(tracer, procs, targets):
    """Threads created while the seize walks /proc/PID/task are all caught (§2)."""
    proc = procs.start([targets["churn"].path], stdout=None)
    pid = proc.pid
    for _ in range(30):
        tracer.seize(pid)
        # Everything that exists now is ours and stopped; new threads cannot appear while
        # every thread is stopped, so /proc is stable for the comparison.
        listed = set(task_tids(pid))
        missing = {
            tid: (task_state(pid, tid), tracer_pid(pid, tid))
            for tid in listed - set(tracer.threads(pid))
        }
        assert not missing, f"threads not in the table: {{tid: (state, TracerPid)}} {missing}"
        assert set(tracer.threads(pid)) == listed
        for tid in listed:
            assert tracer.thread_state(tid) == ThreadState.STOPPED
            assert task_state(pid, tid) == "t", f"tid {tid}"
        tracer.detach(pid)
        assert tracer.processes() == []
        for tid in task_tids(pid):
            assert tracer_pid(pid, tid) == 0
    _finish(proc)


def test_seize_already_traced_by_another_process(tracer, procs, targets):
    proc = procs.start([targets["threads"].path, "2"], ready=b"ready 2")
    seizer = procs.start([targets["seizer"].path, str(proc.pid), "hold"], ready=b"seized")
    with pytest.raises(AlreadyTracedError) as info:
        tracer.seize(proc.pid)
    exc = info.value
    assert isinstance(exc, PtracePermissionError) and isinstance(exc, PermissionError)
    assert exc.tracer_pid == seizer.pid
    assert str(seizer.pid) in str(exc)
    assert exc.pid == proc.pid
    # Nothing half-attached is left in the table.
    assert tracer.processes() == []
    seizer.stdin.close()
    assert seizer.wait(timeout=30) == 0
    for tid in task_tids(proc.pid):
        assert tracer_pid(proc.pid, tid) == 0
    _finish(proc)


def test_seize_already_traced_by_another_thread_of_ours(tracer, procs, targets):
    """TracerPid names the tracing *thread*: a Tracer owned by another Python thread."""
    proc = procs.start([targets["threads"].path, "2"], ready=b"ready 2")
    seized = threading.Event()
    release = threading.Event()
    result: dict[str, object] = {}

    def other_engine():
        try:
            with Tracer() as other:
                result["tid"] = gettid()
                other.seize(proc.pid)
                seized.set()
                release.wait(30)
                other.detach(proc.pid)
        except BaseException as e:  # reported to the main thread below
            result["error"] = e
        finally:
            seized.set()

    helper = threading.Thread(target=other_engine)
    helper.start()
    try:
        assert seized.wait(30)
        assert "error" not in result, result
        with pytest.raises(AlreadyTracedError) as info:
            tracer.seize(proc.pid)
        assert info.value.tracer_pid == result["tid"]
        assert tracer.processes() == []
    finally:
        release.set()
        helper.join(30)
    assert "error" not in result, result
    _finish(proc)


def test_seize_nonexistent_pid(tracer):
    pid = unused_pid()
    with pytest.raises(NoSuchProcessError) as info:
        tracer.seize(pid)
    assert info.value.pid == pid
    assert str(pid) in str(info.value)
    assert tracer.processes() == []


def test_seize_zombie(tracer, procs, targets):
    proc = procs.start([targets["loop"].path, "0"], stdin=None, stdout=None)
    assert wait_until(lambda: task_state(proc.pid) == "Z"), task_state(proc.pid)
    with pytest.raises(ProcessExitedError) as info:
        tracer.seize(proc.pid)
    assert info.value.pid == proc.pid
    assert tracer.processes() == []
    # The tracer did not reap it: its real parent still gets the exit status.
    assert proc.wait(timeout=10) == 0


def test_seize_self(tracer):
    with pytest.raises(SelfAttachError):
        tracer.seize(os.getpid())
    assert tracer.processes() == []


def test_seize_job_control_stopped_stays_stopped(tracer, procs, targets):
    """Scenario 5: a process in state T, attached and detached, is still T."""
    proc = procs.start([targets["threads"].path, "2"], ready=b"ready 2")
    pid = proc.pid
    os.kill(pid, signal.SIGSTOP)
    assert wait_until(lambda: all_tasks_in_state(pid, "T"))
    tids = tracer.seize(pid)
    assert sorted(tids) == task_tids(pid)
    for tid in tids:
        assert tracer.thread_state(tid) == ThreadState.STOPPED
    assert tracer.get_regs(pid).rip != 0
    tracer.detach(pid)
    assert wait_until(lambda: all_tasks_in_state(pid, "T")), [
        task_state(pid, t) for t in task_tids(pid)
    ]
    for tid in task_tids(pid):
        assert tracer_pid(pid, tid) == 0
    os.kill(pid, signal.SIGCONT)
    _finish(proc)


def test_detach_leave_stopped(tracer, procs, targets):
    proc = procs.start([targets["threads"].path, "2"], ready=b"ready 2")
    pid = proc.pid
    tracer.seize(pid)
    tracer.detach(pid, leave_stopped=True)
    assert tracer.processes() == []
    assert wait_until(lambda: all_tasks_in_state(pid, "T")), [
        task_state(pid, t) for t in task_tids(pid)
    ]
    os.kill(pid, signal.SIGCONT)
    _finish(proc)


def test_detach_does_not_disturb_blocked_read(tracer, procs, targets):
    """Scenario 6: a read() blocked on a pipe survives attach/detach without EINTR."""
    proc = procs.start([targets["blockread"].path], ready=b"ready")
    pid = proc.pid
    assert wait_until(lambda: task_state(pid) == "S")
    tracer.seize(pid)
    # Interrupted inside read: the syscall restarts (-ERESTARTSYS) when resumed.
    assert tracer.get_reg(pid, "orig_rax") == 0
    tracer.detach(pid)
    proc.stdin.write(b"after-detach\n")
    proc.stdin.close()
    assert proc.stdout.read() == b"got:after-detach\n"
    assert proc.wait(timeout=30) == 0


def test_detach_removes_breakpoints_and_debug_registers(tracer, procs, targets):
    """Scenarios 39/44: detach with a software breakpoint hit, another pending, and debug
    registers on every thread; the target neither dies of SIGTRAP nor keeps DR7 set."""
    binary = targets["threads"]
    proc = procs.start([binary.path, "4"], ready=b"ready 4")
    pid = proc.pid
    tids = tracer.seize(pid)
    tick = binary.addr(pid, "worker_tick")
    ticks = binary.addr(pid, "ticks")
    tracer.insert_breakpoint(pid, tick)
    for tid in tids:
        tracer.set_hw_breakpoint(tid, 1, ticks, HW_WRITE, 8)
        tracer.set_hw_breakpoint(tid, 2, tick, HW_EXECUTE, 1)
    for tid in tids:
        tracer.cont(tid)
    events = tracer.wait(timeout=30)
    assert events, "no worker reached worker_tick"
    assert {e.kind for e in events} <= {EventKind.BREAKPOINT, EventKind.HW_BREAKPOINT}
    tracer.stop_all(pid)
    tracer.detach(pid)
    assert tracer.processes() == []
    for tid in task_tids(pid):
        assert tracer_pid(pid, tid) == 0
    # A raw tracer of our own sees DR7 cleared on every thread.
    dump = procs.start([targets["seizer"].path, str(pid), "dr"], stdin=None)
    out, _ = dump.communicate(timeout=30)
    assert dump.returncode == 0
    rows = dict(line.split() for line in out.decode().splitlines())
    assert sorted(int(t) for t in rows) == task_tids(pid)
    assert all(int(v) == 0 for v in rows.values()), rows
    # Workers go on calling worker_tick: an int3 left behind would kill the process.
    _finish(proc)


def test_seize_kill_on_exit_close_kills(procs, targets):
    proc = procs.start([targets["threads"].path, "2"], ready=b"ready 2")
    t = Tracer()
    try:
        t.seize(proc.pid, kill_on_exit=True)
    finally:
        t.close()
    assert proc.wait(timeout=30) == -signal.SIGKILL


def test_seize_then_kill(tracer, procs, targets):
    proc = procs.start([targets["threads"].path, "100"], ready=b"ready 100")
    tracer.seize(proc.pid)
    status = tracer.kill(proc.pid)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert tracer.processes() == []
    # Dead; its real parent (subprocess, here) still collects the exit status: the tracer
    # must not have taken it away.
    assert task_state(proc.pid) == "Z"
    assert proc.wait(timeout=10) == -signal.SIGKILL


def test_interrupt_running_thread(tracer, driver, targets):
    pid = tracer.spawn([targets["loop"].path, "-1"])
    for _ in range(20):
        tracer.cont(pid)
        assert tracer.thread_state(pid) == ThreadState.RUNNING
        tracer.interrupt(pid)
        event = driver.next()
        assert event.kind == EventKind.INTERRUPT
        assert event.tid == pid and event.pid == pid
        assert event.signal == signal.SIGTRAP
        assert tracer.thread_state(pid) == ThreadState.STOPPED
    assert driver.count(EventKind.INTERRUPT) == 20
    assert len(driver.log) == 20


def test_interrupt_thread_blocked_in_read(tracer, driver, targets):
    """An interrupted read() shows -ERESTARTSYS and restarts transparently (§11)."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        pid = tracer.spawn([targets["blockread"].path], stdin=in_r, stdout=out_w)
    finally:
        os.close(in_r)
        os.close(out_w)
    try:
        tracer.cont(pid)
        assert wait_until(lambda: task_state(pid) == "S")
        tracer.interrupt(pid)
        assert driver.next().kind == EventKind.INTERRUPT
        regs = tracer.get_regs(pid)
        assert regs.orig_rax == 0  # read
        assert regs.rax & ((1 << 64) - 1) == (-512) & ((1 << 64) - 1)  # -ERESTARTSYS
        tracer.cont(pid)
        os.write(in_w, b"data\n")
    finally:
        os.close(in_w)
    assert driver.until_exit(pid).exit_code == 0
    assert os.read(out_r, 100) == b"ready\ngot:data\n"
    os.close(out_r)


def test_kill_running_multithreaded(tracer, driver, targets):
    binary = targets["threads"]
    in_r, in_w = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = tracer.spawn([binary.path, "100"], stdin=in_r, stdout=devnull)
    finally:
        os.close(in_r)
        os.close(devnull)
    try:
        tracer.insert_breakpoint(pid, binary.addr(pid, "all_ready"))
        tracer.cont(pid)
        driver.until_kind(EventKind.BREAKPOINT)
        assert len(tracer.threads(pid)) == 101
        tracer.cont(pid)
        status = tracer.kill(pid)
    finally:
        os.close(in_w)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert tracer.processes() == []
    assert not os.path.exists(f"/proc/{pid}")
    with pytest.raises(ProcessLookupError):
        tracer.get_regs(pid)


def test_kill_at_exec_stop(tracer, targets):
    pid = tracer.spawn([targets["loop"].path, "1"])
    status = tracer.kill(pid)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert tracer.processes() == []
    assert not os.path.exists(f"/proc/{pid}")
