"""Tracer.cont_wait: cont + wait in one call, answering a simple signal-delivery-stop of
the resumed thread with its facts (signo, si_code, address, pc, sender_pid), read in that
stop.  The facts must be what the Event of the same stop gives (si_code, address,
sender_pid) and what get_pc reads there; everything else comes back as wait()'s list.

The `signals` target raises from one call site, so every stop of `usr1 N` has the same
pc and siginfo: stops taken as facts and stops taken as Events can be compared.
"""

from __future__ import annotations

import os
import signal

import pytest

from pydbg._native import EventKind
from pydbg.errors import NotStoppedError

USR1 = 1 << (signal.SIGUSR1 - 1)
TRAP = 1 << (signal.SIGTRAP - 1)
SI_USER = 0
SI_TKILL = -6
TIMEOUT = 10.0


def _event_facts(tracer, event) -> tuple[int, int, int, int, int]:
    """The facts as the general path reads them: the Event's lazy siginfo and get_pc."""
    assert event.kind == EventKind.SIGNAL
    return (
        event.signal,
        event.si_code,
        event.address,
        tracer.get_pc(event.tid),
        event.sender_pid,
    )


def test_facts_are_the_events_values(tracer, driver, targets):
    pid = tracer.spawn([targets["signals"].path, "usr1", "6"])
    tracer.cont(pid)
    first = driver.next()
    expected = _event_facts(tracer, first)
    assert expected[:2] == (signal.SIGUSR1, SI_TKILL) and expected[4] == pid
    seen = [expected]
    for i in range(5):
        # Delivered each time (the handler counts), alternately taken as facts and as
        # an Event: the same raise site, so the same values.
        got = tracer.cont_wait(pid, signal.SIGUSR1, TIMEOUT, USR1 if i % 2 == 0 else 0)
        if i % 2 == 0:
            assert isinstance(got, tuple)
            assert got[3] == tracer.get_pc(pid)  # still in that stop
            seen.append(got)
        else:
            assert isinstance(got, list) and len(got) == 1
            seen.append(_event_facts(tracer, got[0]))
    assert seen == [expected] * 6
    end = tracer.cont_wait(pid, signal.SIGUSR1, TIMEOUT, USR1)
    assert isinstance(end, list) and len(end) == 1
    assert end[0].kind == EventKind.EXIT  # (the exit stop: no signal, a record)
    assert end[0].exit_code == 6  # every signal was delivered
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 6


def _waiting_for_usr1(tracer, driver, binary) -> int:
    """`signals usr1wait`, stopped with its SIGUSR1 handler installed."""
    pid = tracer.spawn([binary.path, "usr1wait"])
    address = binary.addr(pid, "usr1_ready")
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    assert driver.until_kind(EventKind.BREAKPOINT).address == address
    tracer.remove_breakpoint(pid, address)
    assert tracer.step(pid).kind == EventKind.STEP
    return pid


def test_facts_of_a_signal_sent_from_outside(tracer, driver, targets):
    pid = _waiting_for_usr1(tracer, driver, targets["signals"])
    os.kill(pid, signal.SIGUSR1)  # queued while the thread is stopped: SI_USER, our pid
    got = tracer.cont_wait(pid, 0, TIMEOUT, USR1)
    assert isinstance(got, tuple)
    assert got == (signal.SIGUSR1, SI_USER, 0, tracer.get_pc(pid), os.getpid())
    tracer.cont(pid, signal.SIGUSR1)
    assert driver.until_exit(pid).exit_code == 1


def test_records_when_the_stop_does_not_qualify(tracer, driver, targets):
    pid = tracer.spawn([targets["signals"].path, "usr1", "2"])
    tracer.cont(pid)
    assert driver.next().kind == EventKind.SIGNAL
    # Not in the mask: the list wait() returns, its Event still readable in the stop.
    got = tracer.cont_wait(pid, 0, TIMEOUT, TRAP)
    assert isinstance(got, list) and len(got) == 1
    assert got[0].kind == EventKind.SIGNAL and got[0].si_code == SI_TKILL
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0  # both suppressed


def test_a_sigtrap_never_qualifies(tracer, driver, targets):
    pid = tracer.spawn([targets["signals"].path, "trap"])
    got = tracer.cont_wait(pid, 0, TIMEOUT, TRAP | USR1)
    assert isinstance(got, list) and len(got) == 1
    assert got[0].kind == EventKind.SIGNAL and got[0].signal == signal.SIGTRAP
    tracer.cont(pid, signal.SIGTRAP)
    assert driver.until_exit(pid).exit_code == 1


def test_a_running_thread_is_refused(tracer, driver, targets):
    pid = _waiting_for_usr1(tracer, driver, targets["signals"])
    tracer.cont(pid)
    with pytest.raises(NotStoppedError):
        tracer.cont_wait(pid, 0, TIMEOUT, USR1)
    os.kill(pid, signal.SIGUSR1)
    event = driver.next()
    assert event.kind == EventKind.SIGNAL
    tracer.cont(pid, signal.SIGUSR1)
    assert driver.until_exit(pid).exit_code == 1


def test_the_timeout_passes_with_the_thread_running(tracer, driver, targets):
    pid = _waiting_for_usr1(tracer, driver, targets["signals"])
    assert tracer.cont_wait(pid, 0, 0.05, USR1) == []
    os.kill(pid, signal.SIGUSR1)
    event = driver.next()
    assert event.kind == EventKind.SIGNAL
    tracer.cont(pid, signal.SIGUSR1)
    assert driver.until_exit(pid).exit_code == 1
