"""How one event is decided (spec §4.6, §5): the votes of the event filter, its command and
every client's callbacks, combined by precedence; exceptions from signals, their continue
option and the emulated second chance (§9.2); callbacks that raise or return nonsense.
Engine tier: scripted native records, no processes.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from pydbg._native import EventKind, Regs
from pydbg.constants import (
    DEBUG_CES_EVENT_FILTERS,
    DEBUG_SESSION_END,
    DEBUG_STATUS_BREAK,
    DEBUG_STATUS_GO,
    DEBUG_STATUS_GO_HANDLED,
    DEBUG_STATUS_GO_NOT_HANDLED,
    DEBUG_STATUS_INSIDE_WAIT,
    DEBUG_STATUS_NO_DEBUGGEE,
    DEBUG_STATUS_STEP_INTO,
    STATUS_ACCESS_VIOLATION,
    OutputMask,
)
from pydbg.engine.signals import ExceptionRecord, earns_second_chance
from tests.engine.fake_backend import FakeEvent
from tests.engine.recording import (
    FS_BASE,
    PID,
    RIP,
    TID2,
    Entry,
    Recorder,
    Rig,
    Text,
    cds_all,
    ces_status,
    ces_thread,
    int3,
    int3_break,
    launch,
    notice,
    session,
    set_regs,
)

SIGSEGV, SIGUSR1, SIGTRAP = 11, 10, 5
SEGV_MAPERR, SI_USER, SI_KERNEL = 1, 0, 0x80
FAULT = 0xDEAD0
SENDER = 4242
# Index of the `av` filter: 10 specific event filters, then `*` (the default), then `av`.
AV_FILTER = 11


def broken_in(rig: Rig, pid: int = PID) -> None:
    """Launch, take the initial break, arm GO; the log is emptied."""
    launch(rig, pid)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()


def segv(pid: int = PID) -> FakeEvent:
    return FakeEvent(EventKind.SIGNAL, pid, pid, signal=SIGSEGV, si_code=SEGV_MAPERR, address=FAULT)


def av_record(pc: int = RIP) -> ExceptionRecord:
    # §9.2: (access kind, si_addr, signo, si_code) for access violations.
    return ExceptionRecord(
        STATUS_ACCESS_VIOLATION, 0, 0, pc, (0, FAULT, SIGSEGV, SEGV_MAPERR), SIGSEGV, SEGV_MAPERR
    )


def av(pid: int, first_chance: bool) -> list[Entry]:
    chance = "first chance" if first_chance else "!!! second chance !!!"
    return [
        notice(f"({pid:x}.{pid:x}): Access violation - code c0000005 ({chance})"),
        ("exception", av_record(), first_chance),
    ]


def usr1(pid: int = PID) -> FakeEvent:
    return FakeEvent(EventKind.SIGNAL, pid, pid, signal=SIGUSR1, si_code=SI_USER, sender_pid=SENDER)


def usr1_record() -> ExceptionRecord:
    # SIGUSR1 has no Windows code: PYDBG_SIGNAL_FACILITY | 10.
    return ExceptionRecord(0xE000000A, 0, 0, RIP, (SIGUSR1, SI_USER, 0), SIGUSR1, SI_USER, SENDER)


def usr1_seen(pid: int, first_chance: bool) -> list[Entry]:
    chance = "first chance" if first_chance else "!!! second chance !!!"
    return [
        notice(f"({pid:x}.{pid:x}): SIGUSR1 signal - code e000000a ({chance})"),
        ("exception", usr1_record(), first_chance),
    ]


def int3_seen(pid: int, pc_after: int) -> list[Entry]:
    """A foreign int3's notice and Exception callback (the break follows)."""
    return int3_break(pid, pid, pc_after)[:2]


def broke() -> list[Entry]:
    return [ces_status(DEBUG_STATUS_BREAK), cds_all()]


def clone(pid: int = PID, new: int = TID2) -> FakeEvent:
    return FakeEvent(EventKind.CLONE, pid, pid, message=new)


def create_thread(tid: int = TID2) -> Entry:
    return ("create_thread", tid, FS_BASE + 0x10, RIP + 0x10)


def script_clone(rig: Rig, pid: int = PID, new: int = TID2) -> None:
    rig.fake.regs[new] = Regs()  # the fake keeps them when the CLONE adds the thread
    set_regs(rig, new, rip=RIP + 0x10, fs_base=FS_BASE + 0x10)
    rig.fake.then(clone(pid, new))


def died_of_segv(pid: int = PID) -> tuple[FakeEvent, FakeEvent]:
    return (
        FakeEvent(EventKind.EXIT, pid, pid, exit_code=128 + SIGSEGV),
        FakeEvent(EventKind.KILLED, pid, pid, signal=SIGSEGV),
    )


@pytest.fixture
def sigusr1_caught() -> Iterator[int]:
    """A pid whose /proc status says SIGUSR1 is caught: this test process's own, with a
    handler installed.  Only /proc is read; the fake never touches the real process."""
    previous = signal.signal(signal.SIGUSR1, lambda signo, frame: None)
    try:
        assert not earns_second_chance(os.getpid(), SIGUSR1)
        yield os.getpid()
    finally:
        signal.signal(signal.SIGUSR1, previous)


# -- filter and callback votes --------------------------------------------------------------------


def test_access_violation_breaks_at_first_chance_whatever_the_callback_votes() -> None:
    rig = Rig()
    broken_in(rig)
    rig.client.control.execute("sxe av")
    assert rig.take() == [("change_engine_state", DEBUG_CES_EVENT_FILTERS, AV_FILTER)]
    rig.reply("exception", DEBUG_STATUS_GO)
    rig.fake.then(segv())
    assert rig.client.control.wait_for_event() is True
    # The filter's notice comes before the callbacks (§4.7); BREAK outranks GO (§4.6).
    assert rig.take() == [*av(PID, True), *broke()]


def test_breaking_specific_filter_beats_callback_go() -> None:
    rig = Rig()
    broken_in(rig)
    rig.client.control.execute("sxe ct")
    rig.take()
    rig.reply("create_thread", DEBUG_STATUS_GO)
    script_clone(rig)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_thread(1),
        notice(f"({PID:x}.{TID2:x}): CreateThread"),
        create_thread(),
        *broke(),
    ]


def test_filter_command_runs_for_an_ignored_event_and_its_g_is_a_vote() -> None:
    rig = Rig()
    broken_in(rig)
    rig.client.control.execute('sxi -c ".echo created; g; .echo never" ct')
    rig.take()
    script_clone(rig)
    rig.fake.then(int3(PID))
    rig.fake.regs[PID].rip = RIP + 1
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_thread(1),
        ("output", OutputMask.NORMAL, "created\n"),
        create_thread(),
        ces_thread(0),
        *int3_seen(PID, RIP + 1),
        *broke(),
    ]
    assert rig.fake.actions("cont_all") == [("cont_all", {}), ("cont_all", {})]


# 18: no DEBUG_STATUS_* code (99 would not do: masked with 0x1F it is GO_NOT_HANDLED).
@pytest.mark.parametrize("vote", ["yes", True, DEBUG_STATUS_NO_DEBUGGEE, 18, 1.0])
def test_callback_returning_a_non_status_reports_and_breaks(vote: object) -> None:
    rig = Rig()
    broken_in(rig)
    rig.reply("create_thread", lambda *args: vote)
    script_clone(rig)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_thread(1),
        create_thread(),
        (
            "output",
            OutputMask.ERROR,
            Text(
                f"pydbg: the create_thread callback returned {vote!r}, which is not an "
                "execution status",
                end="counted as DEBUG_STATUS_BREAK\n",
            ),
        ),
        *broke(),
    ]


# -- 6. a callback that raises --------------------------------------------------------------------


def test_callback_that_raises_breaks_and_the_session_stays_usable() -> None:
    rig = Rig()
    broken_in(rig)

    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    rig.reply("create_thread", boom)
    script_clone(rig)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_thread(1),
        create_thread(),
        (
            "output",
            OutputMask.ERROR,
            Text(
                "pydbg: the create_thread callback raised; counted as DEBUG_STATUS_BREAK\n",
                "Traceback",
                "RuntimeError: boom",
            ),
        ),
        *broke(),
    ]

    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(int3(PID))
    rig.fake.regs[PID].rip = RIP + 1
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ces_thread(0),
        *int3_seen(PID, RIP + 1),
        *broke(),
    ]


def test_notification_callback_that_raises_is_reported_and_ignored() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()

    def boom(*args: object) -> None:
        raise ValueError("nope")

    rig.reply("change_engine_state", boom)
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        (
            "output",
            OutputMask.ERROR,
            Text("pydbg: change_engine_state callback raised (ignored)\n", "ValueError: nope"),
        ),
    ]
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_GO


# -- 7. several clients ---------------------------------------------------------------------------


def two_clients(rig: Rig) -> tuple[Recorder, Recorder]:
    first = Recorder(rig.log, tag="A")
    rig.client.set_event_callbacks(first)
    second = Recorder(rig.log, tag="B")
    rig.client.create_client().set_event_callbacks(second)
    return first, second


def both(*entries: Entry) -> list[Entry]:
    """Each entry heard by client A, then by client B (creation order)."""
    return [(tag, *entry) for entry in entries for tag in ("A", "B")]


def test_two_clients_go_and_break_vote_break() -> None:
    rig = Rig()
    first, second = two_clients(rig)
    broken_in(rig)
    first.replies["create_thread"] = DEBUG_STATUS_GO
    second.replies["create_thread"] = DEBUG_STATUS_BREAK
    script_clone(rig)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        *both(ces_thread(1)),
        *both(create_thread()),
        *both(ces_status(DEBUG_STATUS_BREAK)),
        *both(cds_all()),
    ]


def test_two_clients_go_and_step_into_vote_a_step() -> None:
    rig = Rig()
    first, second = two_clients(rig)
    broken_in(rig)
    first.replies["create_thread"] = DEBUG_STATUS_GO
    second.replies["create_thread"] = DEBUG_STATUS_STEP_INTO
    script_clone(rig)
    rig.fake.step_records.append(FakeEvent(EventKind.STEP, TID2, PID, address=RIP + 0x12))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        *both(ces_thread(1)),
        *both(create_thread()),
        # decided inside the wait (§1.2 DEBUG_STATUS_INSIDE_WAIT)
        *both(ces_status(DEBUG_STATUS_STEP_INTO | DEBUG_STATUS_INSIDE_WAIT)),
        # the step's end is the engine's own break: no Exception callback (§4.6)
        *both(ces_status(DEBUG_STATUS_BREAK)),
        *both(cds_all()),
    ]
    # STEP_INTO steps the event thread alone; nothing else was resumed.
    assert rig.fake.actions("cont_all", "step") == [("cont_all", {}), ("step", TID2, 0)]


def test_both_clients_hear_the_session_in_creation_order() -> None:
    rig = Rig(output=False)
    two_clients(rig)
    launch(rig)
    assert rig.client.control.wait_for_event()
    assert [entry[:2] for entry in rig.take()] == [
        (tag, method)
        for method in (
            "change_engine_state",
            "session_status",
            "change_debuggee_state",
            "change_engine_state",
            "create_process",
            "exception",
            "change_engine_state",
            "change_debuggee_state",
        )
        for tag in ("A", "B")
    ]


def test_execute_from_a_callback_votes_with_its_first_execution_command() -> None:
    rig = Rig()
    broken_in(rig)

    def run_commands(*args: object) -> None:
        rig.client.control.execute(".echo one; t; .echo two; g")

    rig.reply("create_thread", run_commands)
    script_clone(rig)
    rig.fake.step_records.append(FakeEvent(EventKind.STEP, TID2, PID, address=RIP + 0x12))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_thread(1),
        create_thread(),
        ("output", OutputMask.NORMAL, "one\n"),  # `.echo two` and `g` are dropped
        ces_status(DEBUG_STATUS_STEP_INTO | DEBUG_STATUS_INSIDE_WAIT),
        *broke(),
    ]
    assert rig.fake.actions("cont_all", "step") == [("cont_all", {}), ("step", TID2, 0)]


# -- exceptions from signals: continue option and second chance -----------------------------------


def test_go_after_an_access_violation_reports_the_second_chance_before_delivering() -> None:
    rig = Rig()  # PID: /proc knows no handler, so SIGSEGV would kill it
    broken_in(rig)
    rig.fake.then(segv())
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [*av(PID, True), *broke()]

    # A plain g: av's continue option is "not handled" -> second chance, nothing resumed.
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [ces_status(DEBUG_STATUS_GO), *av(PID, False), *broke()]
    assert rig.fake.actions("cont_all") == [("cont_all", {})]

    # A second not-handled resume delivers it (§5.6).
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(died_of_segv()[0]).then(died_of_segv()[1])
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ("exit_process", 128 + SIGSEGV),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]
    assert rig.fake.actions("cont_all") == [
        ("cont_all", {}),
        ("cont_all", {PID: SIGSEGV}),
        ("cont_all", {}),
    ]


def test_gh_after_an_access_violation_suppresses_the_signal() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.then(segv())
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.client.control.execute("gh")
    assert rig.take() == [ces_status(DEBUG_STATUS_GO)]
    rig.fake.then(int3(PID))
    rig.fake.regs[PID].rip = RIP + 1
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [*int3_seen(PID, RIP + 1), *broke()]
    assert rig.fake.actions("cont_all") == [("cont_all", {}), ("cont_all", {})]


def test_ignored_access_violation_gets_both_chances_then_kills() -> None:
    rig = Rig()
    broken_in(rig)
    rig.client.control.execute("sxi av")
    assert rig.take() == [("change_engine_state", DEBUG_CES_EVENT_FILTERS, AV_FILTER)]
    rig.fake.then(segv()).then(died_of_segv()[0]).then(died_of_segv()[1])
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ("exception", av_record(), True),
        ("exception", av_record(), False),
        ("exit_process", 128 + SIGSEGV),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]
    assert rig.fake.actions("cont_all") == [
        ("cont_all", {}),
        ("cont_all", {PID: SIGSEGV}),
        ("cont_all", {}),
    ]


def test_uncaught_sigusr1_breaks_at_its_second_chance() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.then(usr1())
    assert rig.client.control.wait_for_event() is True
    # Default filter: second-chance break, not handled (§5.4).
    assert rig.take() == [*usr1_seen(PID, True), *usr1_seen(PID, False), *broke()]
    assert rig.fake.actions("cont_all") == [("cont_all", {})]

    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(FakeEvent(EventKind.EXIT, PID, PID, exit_code=128 + SIGUSR1))
    rig.fake.then(FakeEvent(EventKind.KILLED, PID, PID, signal=SIGUSR1))
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ("exit_process", 128 + SIGUSR1),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]
    assert rig.fake.actions("cont_all")[1] == ("cont_all", {PID: SIGUSR1})


def test_caught_sigusr1_does_not_break_and_is_delivered_at_the_next_resume(
    sigusr1_caught: int,
) -> None:
    pid = sigusr1_caught
    rig = Rig()
    broken_in(rig, pid)
    rig.fake.then(usr1(pid)).then(int3(pid))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [*usr1_seen(pid, True), *int3_seen(pid, RIP), *broke()]
    assert rig.fake.actions("cont_all") == [("cont_all", {}), ("cont_all", {pid: SIGUSR1})]


def test_go_handled_vote_suppresses_the_signal() -> None:
    rig = Rig()
    broken_in(rig)
    rig.reply("exception", lambda record, first: DEBUG_STATUS_GO_HANDLED if record.signo else None)
    rig.fake.then(usr1()).then(int3(PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [*usr1_seen(PID, True), *int3_seen(PID, RIP), *broke()]
    assert rig.fake.actions("cont_all") == [("cont_all", {}), ("cont_all", {})]


def test_go_not_handled_vote_delivers_the_signal(sigusr1_caught: int) -> None:
    pid = sigusr1_caught
    rig = Rig()
    broken_in(rig, pid)
    rig.reply("exception", lambda record, first: DEBUG_STATUS_GO_NOT_HANDLED)
    rig.fake.then(usr1(pid)).then(int3(pid))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [*usr1_seen(pid, True), *int3_seen(pid, RIP), *broke()]
    assert rig.fake.actions("cont_all") == [("cont_all", {}), ("cont_all", {pid: SIGUSR1})]


def test_set_execution_status_from_a_callback_is_its_vote() -> None:
    rig = Rig()  # SIGUSR1 would get a second chance if it were passed on not handled
    broken_in(rig)

    def handle(record: ExceptionRecord, first_chance: bool) -> None:
        if record.signo:
            rig.client.control.set_execution_status(DEBUG_STATUS_GO_HANDLED)

    rig.reply("exception", handle)
    rig.fake.then(usr1()).then(int3(PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [*usr1_seen(PID, True), *int3_seen(PID, RIP), *broke()]
    assert rig.fake.actions("cont_all") == [("cont_all", {}), ("cont_all", {})]


def test_sigint_is_a_handled_control_c_break() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.then(
        FakeEvent(EventKind.SIGNAL, PID, PID, signal=2, si_code=SI_USER, sender_pid=SENDER)
    )
    assert rig.client.control.wait_for_event() is True
    record = ExceptionRecord(0x40010005, 0, 0, RIP, (2, SI_USER, 0), 2, SI_USER, SENDER)
    assert rig.take() == [
        notice(f"({PID:x}.{PID:x}): Control-C exception - code 40010005 (first chance)"),
        ("exception", record, True),
        *broke(),
    ]
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(int3(PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.fake.actions("cont_all") == [("cont_all", {}), ("cont_all", {})]


def test_group_stop_is_let_happen_with_listen_and_nothing_to_decide() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    script_clone(rig)
    rig.reply("create_thread", DEBUG_STATUS_BREAK)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    rig.fake.calls.clear()
    rig.fake.then(FakeEvent(EventKind.GROUP_STOP, TID2, PID, signal=signal.SIGSTOP)).then(int3(PID))
    assert rig.client.control.wait_for_event() is True
    # No callback for the job-control stop: nothing to decide (translate.py).
    assert rig.take() == [ces_thread(0), *int3_seen(PID, RIP), *broke()]
    assert rig.fake.actions("cont_all", "stop_all", "listen") == [
        ("cont_all", {}),
        ("stop_all",),
        ("listen", TID2),
        ("cont_all", {}),
        ("stop_all",),
    ]
