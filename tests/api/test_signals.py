"""Signals as DbgEng exceptions end to end: first and second chance, the exception filters'
defaults, `sxe`, and handled / not-handled continuation deciding whether the program's
handler runs (spec §5.4-5.6, §9.2).

The events target writes a line from its SIGUSR1 handler and exits with the number of
handler runs, so each test knows exactly what reached the program.
"""

from __future__ import annotations

import signal

import pytest

from tests.api.helpers import read_lines, wait
from tests.api.recording import (
    BROKE_IN,
    DBG_CONTROL_C,
    END,
    GO,
    GO_HANDLED,
    GO_NOT_HANDLED,
    SIGUSR1_CODE,
    STATUS_ACCESS_VIOLATION,
    ended,
    exception,
    exit_process,
    status,
)

SEGV_MAPERR = 1  # asm-generic/siginfo.h


def _run_to_access_violation(client, recorder, start) -> int:
    pid = start("segv")
    client.control.set_execution_status(GO)
    assert wait(client) is True
    assert recorder.take() == [status(GO), exception(STATUS_ACCESS_VIOLATION, True), *BROKE_IN]
    return pid


def test_access_violation_breaks_at_first_chance(client, recorder, start, events, out_file):
    pid = _run_to_access_violation(client, recorder, start)
    faulting = events.addr(pid, "segv_insn")
    ((record, first_chance),) = recorder.args_of("exception")[-1:]
    assert first_chance is True
    assert record.exception_address == faulting
    # §9.2: access kind (0: read), the faulting address (NULL), then signo and si_code.
    assert record.exception_information == (0, 0, signal.SIGSEGV, SEGV_MAPERR)
    assert client.registers.get_value("rip") == faulting
    assert read_lines(out_file) == ["segv"]


@pytest.mark.parametrize("continuation", [GO_NOT_HANDLED, GO])
def test_not_handled_access_violation_gets_a_second_chance_then_kills(
    client, recorder, start, events, continuation
):
    # `av` is not handled by default (§5.4), so a plain GO passes it on like GO_NOT_HANDLED.
    pid = _run_to_access_violation(client, recorder, start)
    client.control.set_execution_status(continuation)
    # No handler in the program: the second chance comes before the signal is delivered.
    assert wait(client) is True
    assert recorder.take() == [
        status(GO),
        exception(STATUS_ACCESS_VIOLATION, False),
        *BROKE_IN,
    ]
    assert client.registers.get_value("rip") == events.addr(pid, "segv_insn")

    # Passed on not handled once more, the signal is delivered and kills the process.
    client.control.set_execution_status(GO_NOT_HANDLED)
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(128 + signal.SIGSEGV), *ended(END)]


def test_handled_access_violation_restarts_the_faulting_instruction(
    client, recorder, start, events
):
    # §5.6: gh marks it handled and restarts at the faulting instruction, so it recurs.
    pid = _run_to_access_violation(client, recorder, start)
    client.control.execute("gh")
    assert wait(client) is True
    assert recorder.take() == [status(GO), exception(STATUS_ACCESS_VIOLATION, True), *BROKE_IN]
    assert client.registers.get_value("rip") == events.addr(pid, "segv_insn")


def test_caught_signal_does_not_break_by_default_and_reaches_the_handler_once(
    client, recorder, start, out_file
):
    # SIGUSR1 has no sx code of its own: the default filter breaks on the second chance
    # only, and a signal the program catches never gets one (§9.2).
    start("usr1")
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert recorder.take() == [
        status(GO),
        exception(SIGUSR1_CODE, True),
        exit_process(1),
        *ended(END),
    ]
    assert read_lines(out_file) == ["handler", "raised 1"]


@pytest.mark.parametrize(
    ("command", "runs"),
    [("gh", 0), ("gn", 1), ("g", 1)],  # plain g: the filter's continue option, not handled
)
def test_sxe_breaks_on_the_signal_and_the_continuation_decides_delivery(
    client, recorder, start, out_file, command, runs
):
    pid = start("usr1")
    client.control.execute("sxe e000000a")
    recorder.take()  # ChangeEngineState(EVENT_FILTERS, ...)
    client.control.set_execution_status(GO)
    assert wait(client) is True
    assert recorder.take() == [status(GO), exception(SIGUSR1_CODE, True), *BROKE_IN]
    ((record, _),) = recorder.args_of("exception")[-1:]
    assert record.exception_information[0] == signal.SIGUSR1
    assert record.sender_pid == pid  # raise(): the program sent it to itself

    client.control.execute(command)
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(runs), *ended(END)]
    handler = ["handler"] * runs
    assert read_lines(out_file) == [*handler, f"raised {runs}"]


def test_go_handled_status_suppresses_the_signal(client, recorder, start, out_file):
    start("usr1")
    client.control.execute("sxe e000000a")
    client.control.set_execution_status(GO)
    assert wait(client) is True
    client.control.set_execution_status(GO_HANDLED)
    assert wait(client) is False
    assert recorder.take()[-3:] == [exit_process(0), *ended(END)]
    assert read_lines(out_file) == ["raised 0"]


def test_sigint_is_a_control_c_that_breaks_and_is_handled_by_default(
    client, recorder, start, out_file
):
    # `cc` (§5.4): break, handled; a plain GO then suppresses the signal.
    start("sigint")
    client.control.set_execution_status(GO)
    assert wait(client) is True
    assert recorder.take() == [status(GO), exception(DBG_CONTROL_C, True), *BROKE_IN]
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(0), *ended(END)]
    assert read_lines(out_file) == ["survived"]


def test_sigint_passed_on_not_handled_kills_after_a_second_chance(client, recorder, start):
    start("sigint")
    client.control.set_execution_status(GO)
    assert wait(client) is True
    client.control.execute("gn")
    assert wait(client) is True
    assert recorder.take()[-3:] == [exception(DBG_CONTROL_C, False), *BROKE_IN]
    client.control.execute("gn")
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(128 + signal.SIGINT), *ended(END)]
