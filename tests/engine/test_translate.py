"""Translation is a value: a native record and the engine's collaborators in, the events to
decide and the actions for the session out (pydbg/engine/translate.py).  No session here:
these tests build the collaborators alone (a target table, a trap ledger, a module
registry, a breakpoint table) and look at what translate returns and at their books.
The session's side of each action is covered end to end by the wait tests.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from pydbg._native import EventKind
from pydbg.constants import STATUS_BREAKPOINT
from pydbg.engine import events as ev
from pydbg.engine.breakpoints import BreakpointTable
from pydbg.engine.modules import ModuleRegistry
from pydbg.engine.targets import Origin, TargetTable
from pydbg.engine.translate import (
    Context,
    Deliver,
    Discard,
    LetGo,
    Listen,
    Shadow,
    Translation,
    Unshadow,
    translate,
)
from pydbg.engine.traps import TrapLedger
from tests.engine.fake_backend import FakeEvent

PID, TID2, CHILD, SHADOW = 4100, 4101, 4200, 4300
SITE = 0x401000


class NoRegisters:
    """A backend whose threads have no readable registers (translate then uses zeros)."""

    def get_regs(self, tid: int) -> Any:
        raise OSError(f"no registers for {tid}")

    def get_pc(self, tid: int) -> int:
        raise OSError(f"no pc for {tid}")


class Books:
    """The collaborators translation works with, and one traced process of two threads."""

    def __init__(self, *, trace_fork: bool = False) -> None:
        self.targets = TargetTable()
        self.traps = TrapLedger(self.targets)
        self.modules = ModuleRegistry(None)  # type: ignore[arg-type]  # (never asked here)
        self.breakpoints = BreakpointTable(None, self.traps)  # type: ignore[arg-type]
        self.shadows: set[int] = set()
        self.queued: deque[Any] = deque()
        self.context = Context(
            self.targets, self.traps, self.modules, self.breakpoints, self.shadows, self.queued
        )
        self.process = self.targets.add_process(
            PID, Origin.LAUNCHED, "/opt/prog", [PID, TID2], trace_fork
        )

    def translate(self, record: FakeEvent, stepping: bool = False) -> Translation:
        return translate(record, NoRegisters(), self.context, stepping)  # type: ignore[arg-type]


def test_a_group_stop_is_no_event_and_a_listen():
    books = Books()
    assert books.translate(FakeEvent(EventKind.GROUP_STOP, TID2, PID, signal=19)) == Translation(
        [], (Listen(TID2),)
    )


def test_an_unfollowed_fork_child_is_let_go_and_a_vfork_child_shadowed():
    books = Books(trace_fork=False)
    fork = books.translate(FakeEvent(EventKind.FORK, PID, PID, message=CHILD))
    vfork = books.translate(FakeEvent(EventKind.VFORK, PID, PID, message=CHILD + 1))
    assert fork == Translation([], (LetGo(CHILD),))
    assert vfork == Translation([], (Shadow(CHILD + 1),))
    assert list(books.targets.processes) == [PID]  # neither joined the session
    assert books.shadows == set()  # the session keeps the books of shadows, not translate


def test_a_shadows_stops_are_actions_only():
    books = Books()
    books.shadows.add(SHADOW)
    signal = books.translate(FakeEvent(EventKind.SIGNAL, SHADOW, SHADOW, signal=10))
    execed = books.translate(FakeEvent(EventKind.EXEC, SHADOW, SHADOW, message=SHADOW))
    reaped = books.translate(FakeEvent(EventKind.KILLED, SHADOW, SHADOW, signal=9))
    assert signal == Translation([], (Deliver(SHADOW, 10),))
    assert execed == Translation([], (LetGo(SHADOW),))
    assert reaped == Translation([], (Unshadow(SHADOW),))


def test_the_leader_reaped_after_its_exit_was_reported_discards_the_process():
    books = Books()
    books.process.exit_reported = True
    for thread in books.process.threads.values():
        thread.exit_reported = True
    meaning = books.translate(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert meaning == Translation([], (Discard(books.process),))
    assert books.targets.thread(PID) is None


def test_a_thread_exit_is_an_event_with_no_action():
    books = Books()
    meaning = books.translate(FakeEvent(EventKind.EXITED, TID2, PID, exit_code=3))
    assert meaning.actions == ()
    assert [type(e) for e in meaning.events] == [ev.ExitThread]
    assert books.targets.thread(TID2) is None


def test_a_trap_at_the_site_a_thread_was_resumed_from_is_no_hit_and_the_next_one_is():
    books = Books()
    books.traps.resumed_on_site[PID] = SITE  # the session resumed it from there
    trap = FakeEvent(EventKind.BREAKPOINT, PID, PID, address=SITE)
    assert books.translate(trap) == Translation([])
    assert PID not in books.traps.resumed_on_site
    # No breakpoint of the table is there: a second trap is a foreign int3's exception.
    (event,) = books.translate(trap).events
    assert isinstance(event, ev.ExceptionEvent)
    assert event.record is not None and event.record.exception_code == STATUS_BREAKPOINT


def test_a_clone_adds_the_thread_to_the_table():
    books = Books()
    meaning = books.translate(FakeEvent(EventKind.CLONE, PID, PID, message=TID2 + 1))
    (created,) = meaning.events
    assert isinstance(created, ev.CreateThread)
    assert created.thread is books.targets.thread(TID2 + 1)
    assert meaning.actions == ()


def test_the_ledger_notes_traps_and_forgets_them_on_any_other_stop():
    books = Books()
    books.traps.took(FakeEvent(EventKind.BREAKPOINT, PID, PID, address=SITE))
    assert books.traps.threads_trapped_at(PID, SITE) == [PID]
    books.traps.took(FakeEvent(EventKind.HW_BREAKPOINT, PID, PID))  # keeps the account
    assert books.traps.trapped == {PID: SITE}
    books.traps.took(FakeEvent(EventKind.SIGNAL, PID, PID, signal=10))
    assert books.traps.trapped == {}


def test_a_thread_about_to_run_from_a_site_it_did_not_stop_at_is_noted():
    books = Books()
    sites = {(PID, SITE)}
    books.traps.about_to_run(PID, PID, SITE, sites, set(), lambda tid: 0)
    assert books.traps.resumed_on_site == {PID: SITE}
    # One that trapped there is stepped over it by the core: nothing to note.
    books.traps.clear()
    books.traps.note_trap(TID2, SITE)
    books.traps.about_to_run(TID2, PID, SITE, sites, set(), lambda tid: 0)
    assert books.traps.resumed_on_site == {} and books.traps.trapped == {}
