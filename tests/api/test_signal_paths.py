"""The fast signal paths decide exactly as the general path does.

Two shortcuts exist for signals (pydbg/engine/fastpaths.py): a tight GO loop when exception
callbacks decide each signal of a single-threaded target, and signals the native core
passes on unreported when their filter ignores them and nobody is interested.  Each test
runs one scenario twice on the `sigcount` target (tests/targets/sigcount.c): once as is,
and once with a ChangeEngineState listener, which closes both shortcuts (it has to be told
of every state change), and compares what is observable: the exception and exit callbacks
with their arguments, and how many signals reached the program's own handler.  A spy on
the engine's decisions checks that the shortcut was really taken in the first run and not
in the second.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

import pytest

import pydbg
from pydbg.engine import fastpaths
from tests.api.helpers import read_lines, wait
from tests.api.recording import (
    EVENT_CHANGE_ENGINE_STATE,
    EVENT_EXCEPTION,
    EVENT_EXIT_PROCESS,
    GO,
    GO_HANDLED,
    GO_NOT_HANDLED,
    SIGUSR1_CODE,
    Recorder,
    Vote,
)

BREAK = 6


@dataclass
class Run:
    """What one scenario showed: callbacks (state changes left out), the program's own
    account, and how the engine decided (first_chance, decided inside the fast loop)."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    decisions: list[tuple[bool, bool]] = field(default_factory=list)

    @property
    def fast(self) -> int:
        return sum(1 for _, inside in self.decisions if inside)


class Spy:
    """Records every signal exception the engine decides, and whether the fast GO loop
    decided it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inside = False
        self.decisions: list[tuple[bool, bool]] = []
        real = fastpaths.signal_go

        def signal_go(engine: Any, deadline: float | None) -> bool:
            self.inside = True
            try:
                return real(engine, deadline)
            finally:
                self.inside = False

        monkeypatch.setattr(fastpaths, "signal_go", signal_go)

    def watch(self, engine: Any) -> None:
        decide = engine._decide

        def spying(event: Any) -> bool:
            if getattr(event, "signo", 0) == signal.SIGUSR1:
                self.decisions.append((event.first_chance, self.inside))
            return decide(event)

        engine._decide = spying


def scenario(
    monkeypatch: pytest.MonkeyPatch,
    target: Any,
    out: str,
    mode: str,
    count: int,
    *,
    listener: bool,
    mask: int = EVENT_EXCEPTION | EVENT_EXIT_PROCESS,
    vote: Vote = None,
    commands: tuple[str, ...] = (),
    breaks: int = 0,
) -> Run:
    """Run `sigcount MODE OUT COUNT` to its end with GO; `breaks` times the wait is
    expected to break in (a callback's BREAK), and GO goes on."""
    spy = Spy(monkeypatch)
    recorder = Recorder(mask | (EVENT_CHANGE_ENGINE_STATE if listener else 0))
    if vote is not None:
        recorder.votes["exception"] = vote
    run = Run()
    with pydbg.create_client() as client:
        client.create_process([target.path, mode, out, str(count)])
        assert wait(client) is True  # the initial breakpoint
        for command in commands:
            client.control.execute(command)
        client.set_event_callbacks(recorder)
        spy.watch(client._engine)
        for _ in range(breaks):
            client.control.set_execution_status(GO)
            assert wait(client) is True
            assert client.control.get_execution_status() == BREAK
        client.control.set_execution_status(GO)
        assert wait(client) is False
    run.calls = [c for c in recorder.calls if c[0] in ("exception", "exit_process")]
    run.lines = read_lines(out)
    run.decisions = spy.decisions
    return run


@pytest.fixture
def sigcount(targets):
    return targets["sigcount"]


def both(monkeypatch, sigcount, tmp_path, *args: Any, **kwargs: Any) -> tuple[Run, Run]:
    fast = scenario(monkeypatch, sigcount, str(tmp_path / "fast"), *args, listener=False, **kwargs)
    slow = scenario(monkeypatch, sigcount, str(tmp_path / "slow"), *args, listener=True, **kwargs)
    return fast, slow


# -- exception callbacks deciding: the fast GO loop ---------------------------------------------


@pytest.mark.parametrize(
    ("vote", "delivered"),
    [(GO_HANDLED, 0), (GO_NOT_HANDLED, 30), (GO, 30), (None, 30)],
    ids=["go-handled", "go-not-handled", "go", "no-vote"],
)
def test_callback_votes_decide_the_same_in_the_fast_loop(
    monkeypatch, sigcount, tmp_path, vote, delivered
):
    # A plain GO or no vote applies the filter's continue option: not handled (§5.4).
    fast, slow = both(
        monkeypatch, sigcount, tmp_path, "caught", 30, vote=lambda record, first: vote
    )
    assert fast.calls == slow.calls
    assert fast.calls == [("exception", SIGUSR1_CODE, True)] * 30 + [("exit_process", 0)]
    assert fast.lines == slow.lines == [f"handled {delivered}"]
    assert fast.decisions[1:] == [(True, True)] * 29  # (the first may precede the loop)
    assert fast.fast >= 29
    assert slow.fast == 0 and len(slow.decisions) == 30


def test_second_chance_is_reported_the_same_from_the_fast_loop(monkeypatch, sigcount, tmp_path):
    # No handler: a first chance passed on not handled earns a second chance (§9.2), which
    # this callback then handles, so the program survives every one of its signals.  (sxi:
    # the default filter would break on every second chance.)
    def vote(record, first_chance):
        return GO_NOT_HANDLED if first_chance else GO_HANDLED

    fast, slow = both(
        monkeypatch, sigcount, tmp_path, "uncaught", 3, vote=vote, commands=("sxi e000000a",)
    )
    assert fast.calls == slow.calls
    assert fast.calls == [
        *[("exception", SIGUSR1_CODE, True), ("exception", SIGUSR1_CODE, False)] * 3,
        ("exit_process", 0),
    ]
    assert fast.lines == slow.lines == ["survived"]
    assert fast.fast >= 2  # first chances in the loop, second chances handed over


def test_not_handled_second_chance_kills_the_same(monkeypatch, sigcount, tmp_path):
    fast, slow = both(
        monkeypatch,
        sigcount,
        tmp_path,
        "uncaught",
        3,
        vote=lambda record, first: GO_NOT_HANDLED,
        commands=("sxi e000000a",),
    )
    assert fast.calls == slow.calls
    assert fast.calls == [
        ("exception", SIGUSR1_CODE, True),
        ("exception", SIGUSR1_CODE, False),
        ("exit_process", 128 + signal.SIGUSR1),
    ]
    assert fast.lines == slow.lines == []


def test_a_break_vote_stops_the_fast_loop_like_the_general_path(monkeypatch, sigcount, tmp_path):
    seen = {"n": 0}

    def vote(record, first_chance):
        seen["n"] += 1
        return BREAK if seen["n"] % 7 == 0 else GO_HANDLED

    runs = []
    for name, listener in (("fast", False), ("slow", True)):
        seen["n"] = 0
        out = str(tmp_path / name)
        runs.append(
            scenario(
                monkeypatch, sigcount, out, "caught", 20, listener=listener, vote=vote, breaks=2
            )
        )
    fast, slow = runs
    assert fast.calls == slow.calls
    # The 7th and 14th signals broke in; a plain GO then applied the continue option (not
    # handled), so those two reached the handler.
    assert fast.lines == slow.lines == ["handled 2"]
    assert fast.fast >= 17 and slow.fast == 0


# -- filters that ignore: the native pass ---------------------------------------------------------


def test_ignored_signal_is_delivered_natively_to_the_handler(monkeypatch, sigcount, tmp_path):
    # sxi: ignore, and (without -h) not handled: the program's handler gets every one.
    fast, slow = both(
        monkeypatch,
        sigcount,
        tmp_path,
        "caught",
        200,
        mask=EVENT_EXIT_PROCESS,
        commands=("sxi e000000a",),
    )
    assert fast.calls == slow.calls == [("exit_process", 0)]
    assert fast.lines == slow.lines == ["handled 200"]
    # The very first may reach the engine: at the initial break the program has no handler
    # yet, so a delivery then would have earned a second chance.
    assert len(fast.decisions) <= 1
    assert len(slow.decisions) == 200


def test_ignored_handled_signal_is_suppressed_natively(monkeypatch, sigcount, tmp_path):
    fast, slow = both(
        monkeypatch,
        sigcount,
        tmp_path,
        "caught",
        200,
        mask=EVENT_EXIT_PROCESS,
        commands=("sxe -h e000000a", "sxi e000000a"),
    )
    assert fast.calls == slow.calls == [("exit_process", 0)]
    assert fast.lines == slow.lines == ["handled 0"]
    assert fast.decisions == []
    assert len(slow.decisions) == 200


def test_ignored_signal_that_would_kill_still_gets_its_second_chance(
    monkeypatch, sigcount, tmp_path
):
    # Not caught and not handled: the engine must see it to report the second chance,
    # which `sxi` neither prints nor breaks on; then it is delivered and kills.
    fast, slow = both(
        monkeypatch,
        sigcount,
        tmp_path,
        "uncaught",
        5,
        mask=EVENT_EXIT_PROCESS,
        commands=("sxi e000000a",),
    )
    assert fast.calls == slow.calls == [("exit_process", 128 + signal.SIGUSR1)]
    assert fast.decisions == slow.decisions == [(True, False), (False, False)]
    assert fast.lines == slow.lines == []


def test_filter_change_while_running_takes_effect(sigcount, tmp_path):
    out = str(tmp_path / "out")
    recorder = Recorder(EVENT_EXIT_PROCESS)
    with pydbg.create_client() as client:
        pid = client.create_process([sigcount.path, "caught", out, "0"])  # raises forever
        assert wait(client) is True
        client.set_event_callbacks(recorder)
        client.control.execute("sxi e000000a")
        client.control.set_execution_status(GO)
        # Passed on natively: the wait only ends by its timeout, the targets running.
        assert client.control.wait_for_event(timeout=0.3) is False
        client.control.execute("sxe e000000a")
        assert wait(client) is True
        info = client.control.get_last_event_information()
        assert info.type == EVENT_EXCEPTION and "SIGUSR1" in info.description
        address = sigcount.addr(pid, "handled")
        before = int.from_bytes(client.data_spaces.read_virtual(address, 4), "little")
        assert before > 0
        # Back to ignoring: the next wait runs natively again until its timeout, and the
        # handler goes on counting (including the signal that broke in, not handled).
        client.control.execute("sxi e000000a")
        client.control.set_execution_status(GO)
        assert client.control.wait_for_event(timeout=0.2) is False
        client.control.set_interrupt()
        assert wait(client) is True
        after = int.from_bytes(client.data_spaces.read_virtual(address, 4), "little")
        assert after > before
    assert recorder.calls == []
