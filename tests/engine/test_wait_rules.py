"""The rules around WaitForEvent and SetExecutionStatus (spec §4.2-4.5): timeouts, exit and
active interrupts from another thread, what may not be called inside a wait, stepping,
implicit waits in Execute, and events the native core stashed while stopping everything.
Engine tier: scripted native records, no processes.
"""

from __future__ import annotations

import threading

import pytest

from pydbg._native import EventKind, Regs, ThreadState
from pydbg.constants import (
    DEBUG_END_ACTIVE_TERMINATE,
    DEBUG_INTERRUPT_ACTIVE,
    DEBUG_INTERRUPT_EXIT,
    DEBUG_STATUS_BREAK,
    DEBUG_STATUS_GO,
    DEBUG_STATUS_INSIDE_WAIT,
    DEBUG_STATUS_NO_CHANGE,
    DEBUG_STATUS_NO_DEBUGGEE,
    DEBUG_STATUS_REVERSE_GO,
    DEBUG_STATUS_STEP_INTO,
    DEBUG_STATUS_WAIT_TIMEOUT,
    OutputMask,
)
from pydbg.engine.session import (
    EngineError,
    InsideWaitError,
    NoTargetError,
    TargetRunningError,
)
from pydbg.errors import InvalidStatusError, WrongThreadError
from tests.engine.fake_backend import TIMEOUT, FakeEvent, Hook
from tests.engine.recording import (
    FS_BASE,
    PID,
    PID2,
    RIP,
    TID2,
    TID3,
    Rig,
    attach,
    break_record,
    cds_all,
    ces_status,
    ces_thread,
    int3,
    int3_break,
    launch,
    notice,
    set_regs,
)


def broken_in(rig: Rig) -> None:
    """Launch, take the initial break, arm GO; the log is emptied."""
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()


def from_another_thread(action: object, *args: object) -> Hook:
    """A script entry: while wait() blocks, another thread calls action(*args)."""

    def run() -> None:
        assert callable(action)
        thread = threading.Thread(target=action, args=args)
        thread.start()
        thread.join()

    return Hook(run)


# -- timeouts -------------------------------------------------------------------------------------


def test_timeout_returns_false_with_the_targets_still_running() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.then(TIMEOUT)
    assert rig.client.control.wait_for_event(timeout=0.01) is False
    log = rig.take()
    assert len(log) == 1 and log[0][:2] == ("change_engine_state", 0x10)
    status_word = log[0][2]
    assert status_word & 0x1F == DEBUG_STATUS_GO
    assert status_word & DEBUG_STATUS_WAIT_TIMEOUT
    assert rig.fake.state == {PID: ThreadState.RUNNING}
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_GO
    with pytest.raises(TargetRunningError):
        rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    with pytest.raises(TargetRunningError):
        rig.client.registers.get_value("rip")

    # Waiting again picks up where the first wait left off: nothing is resumed twice.
    rig.fake.then(int3(PID, PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == int3_break(PID, PID, RIP)
    assert rig.fake.actions("cont_all") == [("cont_all", {})]


def test_timeout_notification_is_go_with_wait_timeout() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.then(TIMEOUT)
    assert rig.client.control.wait_for_event(timeout=0.01) is False
    assert rig.take() == [ces_status(DEBUG_STATUS_GO | DEBUG_STATUS_WAIT_TIMEOUT)]


def test_negative_timeout_is_refused() -> None:
    rig = Rig()
    broken_in(rig)
    with pytest.raises(EngineError):
        rig.client.control.wait_for_event(timeout=-1)
    assert rig.fake.actions("cont_all") == []


# -- interrupts -----------------------------------------------------------------------------------


def test_exit_interrupt_from_another_thread_ends_the_wait_without_stopping() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.then(from_another_thread(rig.client.control.set_interrupt, DEBUG_INTERRUPT_EXIT))
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == []
    assert rig.fake.actions("wake", "stop_all") == [("wake",)]
    assert rig.fake.state == {PID: ThreadState.RUNNING}
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_GO

    rig.fake.then(int3(PID, PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == int3_break(PID, PID, RIP)


def test_active_interrupt_from_another_thread_breaks_in() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.regs[PID].rip = RIP + 0x40
    rig.fake.then(from_another_thread(rig.client.control.set_interrupt, DEBUG_INTERRUPT_ACTIVE))
    assert rig.client.control.wait_for_event() is True
    # A break-in is a first-chance STATUS_BREAKPOINT at the current pc (§9.2).
    assert rig.take() == [
        notice(f"({PID:x}.{PID:x}): Break instruction exception - code 80000003 (first chance)"),
        ("exception", break_record(RIP + 0x40), True),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    assert rig.fake.actions("wake", "stop_all") == [("wake",), ("stop_all",)]
    assert rig.fake.state == {PID: ThreadState.STOPPED}


def test_exit_interrupt_outside_a_wait_is_only_a_user_interrupt() -> None:
    rig = Rig()
    broken_in(rig)
    rig.client.control.set_interrupt(DEBUG_INTERRUPT_EXIT)
    assert rig.fake.actions("wake") == []
    rig.fake.then(int3(PID, PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == int3_break(PID, PID, RIP)
    assert rig.client.control.get_interrupt() is True
    assert rig.client.control.get_interrupt() is False


# -- calls that are not allowed -------------------------------------------------------------------


def test_calls_inside_a_wait_raise_inside_wait_error() -> None:
    rig = Rig()
    launch(rig)
    raised: list[type[BaseException]] = []

    def reenter(*args: object) -> None:
        for call in (
            rig.client.control.wait_for_event,
            lambda: rig.client.create_process(["/opt/other"]),
            lambda: rig.client.end_session(DEBUG_END_ACTIVE_TERMINATE),
            rig.client.detach_processes,
        ):
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - recorded and checked below
                raised.append(type(exc))

    rig.reply("create_process", reenter)
    assert rig.client.control.wait_for_event() is True
    assert raised == [InsideWaitError] * 4
    assert rig.fake.actions("spawn", "kill", "detach") == [("spawn", ["/opt/prog"])]


def test_wait_without_a_target_raises_no_target_error() -> None:
    rig = Rig()
    with pytest.raises(NoTargetError):
        rig.client.control.wait_for_event()
    with pytest.raises(NoTargetError):
        rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.fake.calls == []
    assert rig.take() == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (DEBUG_STATUS_NO_DEBUGGEE, InvalidStatusError),  # reporting only
        (18, InvalidStatusError),  # no such code
        (DEBUG_STATUS_REVERSE_GO, InvalidStatusError),  # time travel
        (DEBUG_STATUS_BREAK, EngineError),  # instructing, but not settable (§1.3)
        (DEBUG_STATUS_NO_CHANGE, EngineError),
        (DEBUG_STATUS_GO | DEBUG_STATUS_INSIDE_WAIT, EngineError),  # flag bits: notifications only
    ],
)
def test_set_execution_status_refuses_what_cannot_be_set(status: int, error: type) -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    with pytest.raises(error):
        rig.client.control.set_execution_status(status)
    assert rig.take() == []
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_BREAK


# -- stepping -------------------------------------------------------------------------------------


def step_record(tid: int, pid: int, address: int) -> FakeEvent:
    return FakeEvent(EventKind.STEP, tid, pid, address=address)


def test_step_into_steps_the_current_thread_alone_and_breaks() -> None:
    rig = Rig()
    attach(rig, PID2, (PID2, TID2))
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.client.control.set_execution_status(DEBUG_STATUS_STEP_INTO, 3)
    assert rig.take() == [ces_status(DEBUG_STATUS_STEP_INTO)]
    rig.fake.step_records.extend(step_record(PID2, PID2, RIP + n) for n in (1, 2, 3))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [ces_status(DEBUG_STATUS_BREAK), cds_all()]
    assert rig.fake.actions("cont_all", "step") == [("step", PID2, 0)] * 3
    assert rig.fake.state == {PID2: ThreadState.STOPPED, TID2: ThreadState.STOPPED}


def test_event_during_a_step_lets_the_step_go_on() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_STEP_INTO)
    rig.take()
    # The stepped instruction was a clone(): CreateThread is decided, then the step ends.
    rig.fake.regs[TID2] = Regs()
    set_regs(rig, TID2, rip=RIP + 0x10, fs_base=FS_BASE + 0x10)
    rig.fake.step_records.append(FakeEvent(EventKind.CLONE, PID, PID, message=TID2))
    rig.fake.step_records.append(step_record(PID, PID, RIP + 2))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_thread(1),
        ("create_thread", TID2, FS_BASE + 0x10, RIP + 0x10),
        ces_thread(0),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    assert rig.fake.actions("cont_all", "step") == [("step", PID, 0), ("step", PID, 0)]


def test_signal_during_a_step_is_decided_and_its_break_ends_the_step() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_STEP_INTO)
    rig.take()
    rig.fake.step_records.append(int3(PID, PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == int3_break(PID, PID, RIP)
    # The step was cancelled by the break: a plain g now resumes everything.
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(int3(PID, PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.fake.actions("cont_all", "step") == [("step", PID, 0), ("cont_all", {})]


# -- Execute and implicit waits -------------------------------------------------------------------


def test_execute_waits_between_commands() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.fake.regs[PID].rip = 0x401001
    rig.fake.then(int3(PID, PID))
    rig.client.control.execute("g ; r rip")
    taken = rig.take()
    # The state cdb shows at the break (its text is the state tests' business).
    assert [e[1] for e in taken if e[0] == "output"].count(OutputMask.PROMPT_REGISTERS) == 1
    assert [e for e in taken if e[:2] != ("output", OutputMask.PROMPT_REGISTERS)] == [
        ces_status(DEBUG_STATUS_GO),
        *int3_break(PID, PID, 0x401001),
        ("output", OutputMask.NORMAL, "rip=0000000000401001\n"),
    ]
    assert rig.fake.actions("cont_all") == [("cont_all", {})]


def test_execute_does_not_wait_for_its_last_execution_command() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.client.control.execute("r rip; g")
    assert rig.take() == [
        ("output", OutputMask.NORMAL, f"rip={RIP:016x}\n"),
        ces_status(DEBUG_STATUS_GO),
    ]
    assert rig.fake.actions("cont_all") == []
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_GO


# -- events stashed by the native core ------------------------------------------------------------


def test_events_stashed_while_stopping_are_each_reported_without_resuming() -> None:
    rig = Rig()
    attach(rig, PID2, (PID2, TID2, TID3))
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    # Two more threads hit int3s while the engine stopped everything for the first one.
    rig.fake.then(int3(PID2, PID2))
    rig.fake.on_stop_all.append([int3(PID2, TID2), int3(PID2, TID3)])
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == int3_break(PID2, PID2, RIP)
    for engine_id, tid in ((1, TID2), (2, TID3)):
        rig.client.control.set_execution_status(DEBUG_STATUS_GO)
        assert rig.client.control.wait_for_event() is True
        assert rig.take() == [
            ces_status(DEBUG_STATUS_GO),
            ces_thread(engine_id),
            *int3_break(PID2, tid, RIP + 0x100 * engine_id),
        ]
    assert rig.fake.actions("cont_all") == [("cont_all", {})]


def test_one_stashed_event_is_reported_without_resuming() -> None:
    rig = Rig()
    attach(rig, PID2, (PID2, TID2))
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    rig.fake.then(int3(PID2, PID2))
    rig.fake.on_stop_all.append([int3(PID2, TID2)])
    assert rig.client.control.wait_for_event() is True
    rig.take()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ces_thread(1),
        *int3_break(PID2, TID2, RIP + 0x100),
    ]
    assert rig.fake.actions("cont_all") == [("cont_all", {})]


def test_only_get_execution_status_and_interrupts_work_from_other_threads() -> None:
    rig = Rig()
    broken_in(rig)
    results: list[object] = []

    def elsewhere() -> None:
        results.append(rig.client.control.get_execution_status())
        try:
            rig.client.control.wait_for_event()
        except WrongThreadError as exc:
            results.append(type(exc))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert results == [DEBUG_STATUS_GO, WrongThreadError]
    assert rig.fake.actions("cont_all") == []


def test_active_interrupt_after_a_timeout_breaks_in_at_the_next_wait() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.then(TIMEOUT)
    assert rig.client.control.wait_for_event(timeout=0.01) is False
    rig.take()
    rig.client.control.set_interrupt(DEBUG_INTERRUPT_ACTIVE)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        notice(f"({PID:x}.{PID:x}): Break instruction exception - code 80000003 (first chance)"),
        ("exception", break_record(RIP), True),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    assert rig.fake.state == {PID: ThreadState.STOPPED}

    # The wake that delivered the interrupt must not confuse the next wait.
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(int3(PID, PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [ces_status(DEBUG_STATUS_GO), *int3_break(PID, PID, RIP)]
