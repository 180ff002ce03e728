"""Event callbacks steering a real process (issue 3 scenarios 6-8): a callback that
raises, clients voting differently, interest masks, invalid votes, and the calls a
callback may not make (spec §3.1, §3.2, §4.2, §4.6; pydbg.callbacks).

The SIGUSR1 of the events target's `usr1` mode is the event under test: its filter does
not break by default, so only the callbacks decide, and the exit status (the number of
handler runs) shows what the decision did to the program.
"""

from __future__ import annotations

import pytest

import pydbg
from pydbg.engine.session import InsideWaitError
from tests.api.helpers import read_lines, wait
from tests.api.recording import (
    ACTIVE,
    BREAK,
    BROKE_IN,
    CDS_ALL,
    END,
    EVENT_CREATE_PROCESS,
    EVENT_EXCEPTION,
    EVENT_EXIT_PROCESS,
    EVENT_SESSION_STATUS,
    GO,
    GO_HANDLED,
    GO_NOT_HANDLED,
    NO_CHANGE,
    OUTPUT_ERROR,
    SESSION_EVENTS,
    SIGUSR1_CODE,
    STATUS_BREAKPOINT,
    Recorder,
    create_process,
    current,
    debuggee,
    ended,
    exception,
    exit_process,
    session,
    status,
)


def _vote_on_usr1(vote: int | None):
    def exception_vote(record, first_chance):
        return vote if record.exception_code == SIGUSR1_CODE else None

    return exception_vote


def test_callback_that_raises_breaks_in_and_the_target_loses_nothing(
    client, recorder, output, launch, out_file
):
    def boom(record, first_chance):
        if record.exception_code == SIGUSR1_CODE:
            raise RuntimeError("boom from the exception callback")

    recorder.votes["exception"] = boom
    launch("usr1")
    assert wait(client) is True
    recorder.take()
    output.take()

    client.control.set_execution_status(GO)
    assert wait(client) is True  # the raise counts as BREAK
    assert recorder.take() == [status(GO), exception(SIGUSR1_CODE, True), *BROKE_IN]
    errors = output.text(OUTPUT_ERROR)
    assert "Traceback (most recent call last)" in errors
    assert "RuntimeError: boom from the exception callback" in errors
    assert read_lines(out_file) == []

    # Nothing was lost: the signal is still passed on (not handled, the filter's default)
    # and the handler runs exactly once.
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(1), *ended(END)]
    assert read_lines(out_file) == ["handler", "raised 1"]


def test_informational_callback_that_raises_is_reported_and_ignored(
    client, output, launch, out_file
):
    class Fragile(Recorder):
        def session_status(self, status: int) -> None:
            super().session_status(status)
            raise RuntimeError("boom from session_status")

    fragile = Fragile()
    client.set_event_callbacks(fragile)
    launch("exit", 2)
    assert wait(client) is True
    assert "RuntimeError: boom from session_status" in output.text(OUTPUT_ERROR)
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert fragile.take()[-3:] == [exit_process(2), *ended(END)]


@pytest.mark.parametrize(
    ("first", "second", "breaks", "handler_runs"),
    [
        (GO, BREAK, True, 1),  # BREAK outranks everything
        (BREAK, GO, True, 1),  # whoever votes first
        (GO, GO_HANDLED, False, 0),  # GO_HANDLED > GO: suppressed
        (GO_HANDLED, GO_NOT_HANDLED, False, 1),  # GO_NOT_HANDLED > GO_HANDLED: delivered
        (NO_CHANGE, None, False, 1),  # nobody asks: the filter's continue option
    ],
)
def test_votes_of_two_clients_are_combined_by_precedence(
    client, recorder, launch, out_file, first, second, breaks, handler_runs
):
    other = client.create_client()
    other_recorder = Recorder(votes={"exception": _vote_on_usr1(second)})
    other.set_event_callbacks(other_recorder)
    recorder.votes["exception"] = _vote_on_usr1(first)
    launch("usr1")
    assert wait(client) is True

    client.control.set_execution_status(GO)
    assert wait(client) is breaks
    # Both clients heard the signal.
    for r in (recorder, other_recorder):
        assert exception(SIGUSR1_CODE, True) in r.calls
    if breaks:
        assert recorder.calls[-2:] == BROKE_IN
        client.control.set_execution_status(GO)
        assert wait(client) is False
    assert recorder.take()[-3:] == [exit_process(handler_runs), *ended(END)]
    assert other_recorder.take()[-3:] == [exit_process(handler_runs), *ended(END)]
    assert read_lines(out_file) == ["handler"] * handler_runs + [f"raised {handler_runs}"]


def test_invalid_vote_counts_as_break(client, recorder, output, launch):
    recorder.votes["exception"] = _vote_on_usr1("go")  # not a DEBUG_STATUS_*
    launch("usr1")
    assert wait(client) is True
    output.take()
    client.control.set_execution_status(GO)
    assert wait(client) is True
    assert recorder.take()[-3:] == [exception(SIGUSR1_CODE, True), *BROKE_IN]
    assert "'go'" in output.text(OUTPUT_ERROR)


def test_interest_mask_without_exceptions(client, launch):
    # The initial breakpoint still breaks (its filter decides); exception() is not called.
    recorder = Recorder(mask=SESSION_EVENTS & ~EVENT_EXCEPTION)
    client.set_event_callbacks(recorder)
    pid = launch("exit", 9)
    assert recorder.take() == [status(GO)]
    assert wait(client) is True
    assert recorder.take() == [
        session(ACTIVE),
        debuggee(CDS_ALL, 0),
        current(0),
        create_process(pid, pid),
        *BROKE_IN,
    ]
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(9), *ended(END)]


def test_interest_mask_with_only_process_events(client, launch):
    recorder = Recorder(mask=EVENT_CREATE_PROCESS | EVENT_EXIT_PROCESS)
    client.set_event_callbacks(recorder)
    pid = launch("exit", 9)
    assert wait(client) is True
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert recorder.take() == [create_process(pid, pid), exit_process(9)]


def test_default_interest_mask_is_the_overridden_methods(client, launch):
    class Exits(pydbg.EventCallbacks):
        def __init__(self) -> None:
            self.calls: list[tuple] = []

        def exit_process(self, exit_code: int) -> None:
            self.calls.append(("exit_process", exit_code))

        def session_status(self, status: int) -> None:
            self.calls.append(("session_status", status))

    exits = Exits()
    assert exits.get_interest_mask() == EVENT_EXIT_PROCESS | EVENT_SESSION_STATUS
    client.set_event_callbacks(exits)
    launch("exit", 8)
    assert wait(client) is True
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert exits.calls == [session(ACTIVE), exit_process(8), session(END)]


def test_wait_inside_a_callback_raises_inside_wait_error(client, launch):
    caught: list[BaseException] = []

    def nested_wait(record, first_chance):
        try:
            client.control.wait_for_event(timeout=1.0)
        except InsideWaitError as exc:
            caught.append(exc)
        return None

    recorder = Recorder(votes={"exception": nested_wait})
    client.set_event_callbacks(recorder)
    launch("exit", 0)
    assert wait(client) is True  # the initial breakpoint, decided as usual
    assert len(caught) == 1
    assert exception(STATUS_BREAKPOINT, True) in recorder.calls


def test_execution_command_in_a_callback_is_its_vote(client, output, launch, out_file):
    # Inside a wait `gh` cannot wait: it becomes the callback's instruction and the rest
    # of the command line is dropped (§4.5).
    def handle_usr1(record, first_chance):
        if record.exception_code == SIGUSR1_CODE:
            client.control.execute("gh; .echo dropped")
        return None

    recorder = Recorder(votes={"exception": handle_usr1})
    client.set_event_callbacks(recorder)
    launch("usr1")
    assert wait(client) is True
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert recorder.take()[-5:] == [
        status(GO),
        exception(SIGUSR1_CODE, True),
        exit_process(0),  # handled: the handler never ran
        *ended(END),
    ]
    assert read_lines(out_file) == ["raised 0"]
    assert "dropped" not in output.text()
