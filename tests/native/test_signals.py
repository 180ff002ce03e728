"""Signals: signal-delivery-stops decoded with si_code and sender, injection and
suppression, job-control stops with LISTEN, and SIGTRAPs that are not breakpoints
(hazards §4, §4.1, §8; scenarios 8, 12, 13, 14).

The `signals` target exits with the number of handler runs, so every test knows exactly
how many signals reached the program.
"""

from __future__ import annotations

import os
import signal
import struct
import time

from pydbg._native import REQ_LISTEN, SI_KERNEL, EventKind, ThreadState
from tests.support import task_state

SI_USER = 0
SI_TKILL = -6


def _siginfo_head(event) -> tuple[int, int, int]:
    """si_signo, si_errno, si_code from the raw 128-byte siginfo."""
    assert event.siginfo is not None and len(event.siginfo) == 128
    return struct.unpack_from("<iii", event.siginfo)


def test_raised_signals_are_reported_and_delivered(tracer, driver, targets):
    pid = tracer.spawn([targets["signals"].path, "usr1", "3"])
    tracer.cont(pid)
    seen = []

    def deliver(event):
        if event.kind == EventKind.SIGNAL:
            # Read while the thread still sits in the stop the event describes.
            seen.append((event.signal, event.si_code, event.sender_pid, _siginfo_head(event)))
        return False  # the driver delivers the signal

    end = driver.until_exit(pid, handle=deliver)
    assert end.exit_code == 3  # the handler ran once per raise
    # raise() is tgkill: SI_TKILL from the program itself.
    assert seen == [(signal.SIGUSR1, SI_TKILL, pid, (signal.SIGUSR1, 0, SI_TKILL))] * 3


def _stop_at(tracer, driver, binary, pid, symbol):
    """Run to a function entry and take the breakpoint out again."""
    address = binary.addr(pid, symbol)
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    event = driver.until_kind(EventKind.BREAKPOINT)
    assert event.address == address
    tracer.remove_breakpoint(pid, address)
    # Leave the breakpoint site with an explicit step, so the next cont is a plain one.
    assert tracer.step(pid).kind == EventKind.STEP
    return event


def test_signal_from_another_process(tracer, driver, targets):
    binary = targets["signals"]
    pid = tracer.spawn([binary.path, "usr1wait"])
    _stop_at(tracer, driver, binary, pid, "usr1_ready")
    os.kill(pid, signal.SIGUSR1)  # queued while the thread is stopped
    tracer.cont(pid)
    event = driver.next()
    assert event.kind == EventKind.SIGNAL
    assert event.signal == signal.SIGUSR1
    assert event.si_code == SI_USER
    assert event.sender_pid == os.getpid()
    assert _siginfo_head(event) == (signal.SIGUSR1, 0, SI_USER)
    assert tracer.thread_state(pid) == ThreadState.STOPPED
    tracer.cont(pid, signal.SIGUSR1)
    assert driver.until_exit(pid).exit_code == 1


def test_signal_pending_during_breakpoint_step_over(tracer, driver, targets):
    """Scenario 32: cont from a breakpoint steps over it first; a signal already pending
    preempts that step.  The signal is reported with the thread stopped in its
    signal-delivery-stop, and delivering it runs the handler exactly once."""
    binary = targets["signals"]
    pid = tracer.spawn([binary.path, "usr1wait"])
    address = binary.addr(pid, "usr1_ready")
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    assert driver.until_kind(EventKind.BREAKPOINT).address == address
    os.kill(pid, signal.SIGUSR1)
    tracer.cont(pid)  # step over usr1_ready's first instruction, then run
    event = driver.next()
    assert event.kind == EventKind.SIGNAL and event.signal == signal.SIGUSR1
    assert tracer.thread_state(pid) == ThreadState.STOPPED
    tracer.cont(pid, signal.SIGUSR1)
    assert driver.until_exit(pid).exit_code == 1
    assert driver.count(EventKind.BREAKPOINT) == 1


def test_raise_sigstop_group_stop_listen_and_sigcont(tracer, driver, targets):
    """Scenario 8/14: a job-control stop stays a stop (LISTEN) until SIGCONT from outside;
    the program's SIGCONT handler then runs exactly once."""
    pid = tracer.spawn([targets["signals"].path, "stop"])
    tracer.cont(pid)
    delivery = driver.next()
    assert delivery.kind == EventKind.SIGNAL and delivery.signal == signal.SIGSTOP
    assert delivery.si_code == SI_TKILL and delivery.sender_pid == pid
    tracer.cont(pid, signal.SIGSTOP)  # inject: starts the group-stop
    group = driver.next()
    assert group.kind == EventKind.GROUP_STOP
    assert group.signal == signal.SIGSTOP
    assert group.tid == pid
    tracer.listen(pid)
    assert tracer.thread_state(pid) == ThreadState.LISTENING
    assert tracer.last_request(pid) == REQ_LISTEN
    # Stopped for real: nothing happens until someone sends SIGCONT.
    assert tracer.wait(timeout=0.3) == []
    assert task_state(pid) in ("t", "T")
    os.kill(pid, signal.SIGCONT)
    woke = driver.next()
    assert woke.kind == EventKind.CONTINUED and woke.tid == pid
    assert tracer.thread_state(pid) == ThreadState.STOPPED

    def deliver_sigcont(event):
        if event.kind == EventKind.SIGNAL:
            assert event.signal == signal.SIGCONT
        return False

    tracer.cont(pid)
    assert driver.until_exit(pid, handle=deliver_sigcont).exit_code == 1
    assert driver.count(EventKind.GROUP_STOP) == 1


def test_external_sigstop_to_traced_process_stays_stopped(tracer, driver, targets):
    """Scenario 14: SIGSTOP from outside; restarting with LISTEN keeps it in job control."""
    pid = tracer.spawn([targets["signals"].path, "stop"])
    tracer.cont(pid)
    # Let the program raise its own SIGSTOP first and handle it like the test above.
    assert driver.next().signal == signal.SIGSTOP
    tracer.cont(pid, signal.SIGSTOP)
    assert driver.next().kind == EventKind.GROUP_STOP
    tracer.listen(pid)
    os.kill(pid, signal.SIGSTOP)  # a second stop while already stopped changes nothing
    assert tracer.wait(timeout=0.2) == []
    assert tracer.thread_state(pid) == ThreadState.LISTENING
    os.kill(pid, signal.SIGCONT)
    assert driver.next().kind == EventKind.CONTINUED
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 1


def test_raise_sigtrap_is_a_signal_not_a_breakpoint(tracer, driver, targets):
    """Scenario 12: a program's own raise(SIGTRAP) goes to its handler once."""
    pid = tracer.spawn([targets["signals"].path, "trap"])
    tracer.cont(pid)
    event = driver.next()
    assert event.kind == EventKind.SIGNAL
    assert event.signal == signal.SIGTRAP
    assert event.si_code == SI_TKILL
    assert event.sender_pid == pid
    tracer.cont(pid, signal.SIGTRAP)
    assert driver.until_exit(pid).exit_code == 1
    assert driver.count(EventKind.BREAKPOINT) == 0


def test_program_int3_without_breakpoint_is_a_signal(tracer, driver, targets):
    """Scenario 13: an int3 the program executes itself, where no breakpoint is inserted,
    is reported as SIGTRAP/SI_KERNEL with the pc *not* rewound, and is deliverable."""
    binary = targets["signals"]
    pid = tracer.spawn([binary.path, "int3"])
    tracer.cont(pid)
    event = driver.next()
    assert event.kind == EventKind.SIGNAL
    assert event.signal == signal.SIGTRAP
    assert event.si_code == SI_KERNEL
    assert event.sender_pid == 0
    assert tracer.get_pc(pid) == binary.addr(pid, "own_int3") + 1
    tracer.cont(pid, signal.SIGTRAP)
    # Handler ran once (1) and saw si_code SI_KERNEL (+10).
    assert driver.until_exit(pid).exit_code == 11


def test_sigkill_while_stopped_at_signal(tracer, driver, targets):
    pid = tracer.spawn([targets["signals"].path, "usr1", "1"])
    tracer.cont(pid)
    assert driver.next().kind == EventKind.SIGNAL
    os.kill(pid, signal.SIGKILL)
    # The ptrace-stopped thread dies without being resumed by us.  wait() drains
    # waitpid(WNOHANG) even when the table says nothing runs, so the death shows up.
    events = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events += tracer.wait(timeout=0.05)
        if any(e.kind in (EventKind.EXITED, EventKind.KILLED) for e in events):
            break
        for e in events:
            if e.kind == EventKind.EXIT:
                tracer.cont(e.tid)
    kinds = [e.kind for e in events]
    assert EventKind.KILLED in kinds, f"death never reported: {events}"
    end = events[kinds.index(EventKind.KILLED)]
    assert end.tid == pid and end.signal == signal.SIGKILL
    assert tracer.processes() == []
    assert not os.path.exists(f"/proc/{pid}")
