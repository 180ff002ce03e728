"""Waiting on a running target: timeouts leave it running, SetInterrupt breaks in or ends a
wait from another thread, Ctrl-C breaks in, and the session refuses inspection while the
targets run (spec §4.2, §4.4, §9.1).

The events target's `spin` mode loops forever without a system call, so it produces no
event of its own.
"""

from __future__ import annotations

import signal
import threading

import pytest

from pydbg.engine.session import TargetRunningError
from tests.api.helpers import later, wait
from tests.api.recording import (
    BREAK,
    BROKE_IN,
    GO,
    INTERRUPT_ACTIVE,
    INTERRUPT_EXIT,
    INTERRUPT_PASSIVE,
    STATUS_BREAKPOINT,
    WAIT_TIMEOUT,
    exception,
    status,
)
from tests.support import task_state


def _spinning(client, recorder, start) -> int:
    """The spin target, set running: GO armed and one timed-out wait behind it."""
    pid = start("spin")
    client.control.set_execution_status(GO)
    assert wait(client, timeout=0.2) is False
    calls = recorder.take()
    assert calls[0] == status(GO)
    return pid


def test_timeout_returns_false_and_the_target_keeps_running(client, recorder, start):
    pid = start("spin")
    client.control.set_execution_status(GO)
    assert recorder.take() == [status(GO)]
    assert wait(client, timeout=0.2) is False
    assert task_state(pid) in ("R", "S")  # not `t`: nothing stopped it
    assert client.control.get_execution_status() == GO
    # The timeout is reported as GO with DEBUG_STATUS_WAIT_TIMEOUT and without
    # INSIDE_WAIT: it ends the wait (§1.2, §4.2's reference algorithm).
    assert recorder.take() == [status(GO | WAIT_TIMEOUT)]
    # A second wait just goes on waiting.
    assert wait(client, timeout=0.05) is False
    assert task_state(pid) in ("R", "S")


def test_inspection_while_running_raises(client, recorder, start):
    _spinning(client, recorder, start)
    with pytest.raises(TargetRunningError):
        client.registers.get_value("rip")
    with pytest.raises(TargetRunningError):
        client.data_spaces.read_virtual(0x1000, 8)
    with pytest.raises(TargetRunningError):
        client.control.set_execution_status(GO)


def test_set_interrupt_from_another_thread_breaks_in(client, recorder, start):
    pid = _spinning(client, recorder, start)
    with later(0.2, client.control.set_interrupt):
        assert client.control.wait_for_event() is True
    assert recorder.take() == [exception(STATUS_BREAKPOINT, True), *BROKE_IN]
    assert task_state(pid) == "t"
    ((record, _),) = recorder.args_of("exception")[-1:]
    assert record.exception_address == client.registers.get_value("rip")
    assert client.control.get_execution_status() == BREAK
    # Broken in, the session can be inspected and resumed.
    client.control.set_execution_status(GO)
    assert wait(client, timeout=0.05) is False
    assert task_state(pid) in ("R", "S")


def test_exit_interrupt_ends_the_wait_without_stopping_the_target(client, recorder, start):
    pid = _spinning(client, recorder, start)
    with later(0.2, client.control.set_interrupt, INTERRUPT_EXIT):
        assert client.control.wait_for_event() is False
    assert task_state(pid) in ("R", "S")
    assert client.control.get_execution_status() == GO
    assert not [c for c in recorder.take() if c[0] != "change_engine_state"]
    # It can still be broken into afterwards.
    client.control.set_interrupt(INTERRUPT_ACTIVE)
    assert wait(client) is True
    assert recorder.take() == [exception(STATUS_BREAKPOINT, True), *BROKE_IN]


def test_ctrl_c_during_a_wait_breaks_in(client, recorder, start):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGINT reaches Python code only in the main thread")
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT does not raise KeyboardInterrupt here")
    pid = _spinning(client, recorder, start)
    main = threading.main_thread().ident
    assert main is not None
    try:
        with later(0.2, signal.pthread_kill, main, signal.SIGINT):
            broke_in = client.control.wait_for_event()
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C during wait_for_event raised KeyboardInterrupt")
    assert broke_in is True
    assert recorder.take() == [exception(STATUS_BREAKPOINT, True), *BROKE_IN]
    assert task_state(pid) == "t"


def test_passive_interrupt_only_registers_a_user_interrupt(client, recorder, start):
    pid = _spinning(client, recorder, start)
    assert client.control.get_interrupt() is False
    client.control.set_interrupt(INTERRUPT_PASSIVE)
    assert wait(client, timeout=0.05) is False  # no break-in
    assert task_state(pid) in ("R", "S")
    assert client.control.get_interrupt() is True
    assert client.control.get_interrupt() is False  # cleared by reading it
