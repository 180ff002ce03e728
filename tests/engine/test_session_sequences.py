"""Whole sessions, driven by scripted native records: the exact sequence of callbacks,
output and extension notifications from acquiring targets to the end of the session
(spec §2 sessions, §3 callbacks, §4.7 notification order, §6.3-6.5 releasing targets,
§9.2 the Linux event mapping).  Engine tier: no processes.
"""

from __future__ import annotations

import pytest

from pydbg._native import EventKind, Regs, ThreadState
from pydbg.constants import (
    DEBUG_ATTACH_INVASIVE_NO_INITIAL_BREAK,
    DEBUG_CES_ENGINE_OPTIONS,
    DEBUG_CES_EVENT_FILTERS,
    DEBUG_END_ACTIVE_DETACH,
    DEBUG_END_ACTIVE_TERMINATE,
    DEBUG_END_DISCONNECT,
    DEBUG_END_PASSIVE,
    DEBUG_END_REENTRANT,
    DEBUG_ENGOPT_FINAL_BREAK,
    DEBUG_ENGOPT_INITIAL_BREAK,
    DEBUG_EVENT_EXCEPTION,
    DEBUG_EVENT_SESSION_STATUS,
    DEBUG_FILTER_INITIAL_BREAKPOINT,
    DEBUG_NOTIFY_SESSION_ACCESSIBLE,
    DEBUG_NOTIFY_SESSION_ACTIVE,
    DEBUG_NOTIFY_SESSION_INACCESSIBLE,
    DEBUG_NOTIFY_SESSION_INACTIVE,
    DEBUG_PROCESS,
    DEBUG_SESSION_ACTIVE,
    DEBUG_SESSION_END,
    DEBUG_SESSION_END_SESSION_ACTIVE_DETACH,
    DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE,
    DEBUG_SESSION_END_SESSION_PASSIVE,
    DEBUG_SESSION_FAILURE,
    DEBUG_STATUS_BREAK,
    DEBUG_STATUS_GO,
    DEBUG_STATUS_INSIDE_WAIT,
    DEBUG_STATUS_NO_DEBUGGEE,
    OutputMask,
)
from pydbg.engine.session import EngineError, NoTargetError, SessionFailedError
from pydbg.errors import NoSuchProcessError, ProgramNotFoundError
from tests.engine.fake_backend import TIMEOUT, FakeEvent
from tests.engine.recording import (
    ALL_EVENTS,
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
    create_process_args,
    extension,
    initial_break,
    int3,
    int3_break,
    launch,
    script_exit,
    session,
    set_regs,
)

# -- 1. launch, initial break, go, exit -----------------------------------------------------------


def test_launch_initial_break_go_exit() -> None:
    rig = Rig()
    launch(rig)
    # A pending acquisition counts as GO (§4.2), and every status change is broadcast (§4.3).
    assert rig.take() == [ces_status(DEBUG_STATUS_GO)]

    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        session(DEBUG_SESSION_ACTIVE),
        cds_all(),
        ces_thread(0),
        create_process_args(PID, "/opt/prog"),
        *initial_break(PID),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_BREAK

    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.take() == [ces_status(DEBUG_STATUS_GO)]
    assert rig.fake.actions("cont_all") == []  # setting the status runs nothing (§4.1)

    script_exit(rig, PID, PID, 3)
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ("exit_process", 3),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_NO_DEBUGGEE
    assert rig.client.get_exit_code() == 3
    assert rig.fake.actions("spawn", "cont_all", "close") == [
        ("spawn", ["/opt/prog"]),
        ("cont_all", {}),
        ("cont_all", {}),
        ("close",),
    ]
    with pytest.raises(NoTargetError):
        rig.client.control.wait_for_event()


def test_wait_while_broken_in_with_nothing_armed_returns_at_once() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.fake.calls.clear()
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == []
    assert rig.fake.actions() == []


def test_exit_thread_then_exit_process() -> None:
    rig = Rig()
    attach(rig, PID2, (PID2, TID2))
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    script_exit(rig, PID2, TID2, 0)
    rig.fake.then(int3(PID2, PID2))
    rig.fake.regs[PID2].rip = 0x401234
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ces_thread(1),
        ("exit_thread", 0),
        ces_thread(0),
        *int3_break(PID2, PID2, 0x401234),
    ]
    objects = rig.client.system_objects
    assert objects.get_thread_ids_by_index() == ([0], [PID2])

    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    script_exit(rig, PID2, PID2, 7)
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ("exit_process", 7),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]


def test_final_break_breaks_at_exit_process() -> None:
    rig = Rig()
    rig.client.control.add_engine_options(DEBUG_ENGOPT_FINAL_BREAK)
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    script_exit(rig, PID, PID, 0)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ("exit_process", 0),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]


# -- 2. attach, detach ----------------------------------------------------------------------------


def test_attach_then_detach() -> None:
    rig = Rig()
    attach(rig, PID2, (PID2, TID2, TID3))
    assert rig.take() == [ces_status(DEBUG_STATUS_GO)]
    assert rig.fake.actions("seize") == [("seize", PID2)]

    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        session(DEBUG_SESSION_ACTIVE),
        cds_all(),
        ces_thread(0),
        # /proc knows no name for the fake pid: the image name falls back to the pid.
        create_process_args(PID2, str(PID2)),
        ces_thread(1),
        ("create_thread", TID2, FS_BASE + 0x100, RIP + 0x100),
        ces_thread(2),
        ("create_thread", TID3, FS_BASE + 0x200, RIP + 0x200),
        ces_thread(0),
        *initial_break(PID2),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    assert rig.fake.actions("cont_all") == []  # everything happened with the targets stopped

    rig.client.detach_processes()
    assert rig.take() == [
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END_SESSION_ACTIVE_DETACH),
    ]
    assert rig.fake.actions("detach", "kill", "close") == [("detach", PID2), ("close",)]
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_NO_DEBUGGEE


def test_threads_stay_stopped_while_broken_in() -> None:
    rig = Rig()
    attach(rig, PID2, (PID2, TID2))
    assert rig.client.control.wait_for_event()
    assert set(rig.fake.state.values()) == {ThreadState.STOPPED}


# -- 3. end_session in each mode ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "before_end", "status", "backend_calls"),
    [
        (
            DEBUG_END_ACTIVE_TERMINATE,
            [("exit_process", 137)],  # 128 + SIGKILL
            DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE,
            [("kill", PID), ("close",)],
        ),
        (
            DEBUG_END_ACTIVE_DETACH,
            [],
            DEBUG_SESSION_END_SESSION_ACTIVE_DETACH,
            [("detach", PID), ("close",)],
        ),
        (DEBUG_END_PASSIVE, [], DEBUG_SESSION_END_SESSION_PASSIVE, [("close",)]),
    ],
    ids=["active-terminate", "active-detach", "passive"],
)
def test_end_session(
    flags: int, before_end: list[object], status: int, backend_calls: list[object]
) -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()

    rig.client.end_session(flags)
    assert rig.take() == [*before_end, ces_status(DEBUG_STATUS_NO_DEBUGGEE), session(status)]
    assert rig.fake.actions("kill", "detach", "close") == backend_calls
    assert rig.fake.closed
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_NO_DEBUGGEE
    with pytest.raises(NoTargetError):
        rig.client.control.wait_for_event()


def test_end_session_reentrant_on_the_engine_thread_abandons_and_disables() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.client.end_session(DEBUG_END_REENTRANT)
    # The teardown path: the backend closes (launched targets die with it), the session
    # ends passively, and the engine takes no further call (spec §6.5).
    assert rig.fake.closed
    assert rig.take()[-1] == session(DEBUG_SESSION_END_SESSION_PASSIVE)
    with pytest.raises(EngineError, match="DEBUG_END_REENTRANT"):
        rig.client.control.wait_for_event()
    with pytest.raises(EngineError, match="DEBUG_END_REENTRANT"):
        rig.client.end_session(DEBUG_END_ACTIVE_TERMINATE)


def test_end_session_reentrant_from_another_thread_during_a_wait() -> None:
    import threading

    rig = Rig()
    launch(rig)

    def end_from_elsewhere(*args: object) -> int:
        # Inside the wait (the engine thread is busy deciding the initial breakpoint),
        # another thread ends the session: no check, no lock, it only flags and wakes.
        other = threading.Thread(target=rig.client.end_session, args=(DEBUG_END_REENTRANT,))
        other.start()
        other.join()
        assert not rig.fake.closed  # the cleanup needs the engine thread
        return DEBUG_STATUS_GO

    rig.reply("exception", end_from_elsewhere)
    # The wait ends (here at the initial breakpoint, which its filter breaks on; a wait
    # that runs on stops as an exit interrupt stops it) and abandons the session.
    rig.client.control.wait_for_event()
    assert rig.fake.closed
    assert rig.take()[-1] == session(DEBUG_SESSION_END_SESSION_PASSIVE)
    with pytest.raises(EngineError, match="DEBUG_END_REENTRANT"):
        rig.client.control.wait_for_event()


def test_end_session_reentrant_from_another_thread_outside_a_wait() -> None:
    import threading

    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    other = threading.Thread(target=rig.client.end_session, args=(DEBUG_END_REENTRANT,))
    other.start()
    other.join()
    with pytest.raises(EngineError, match="DEBUG_END_REENTRANT"):
        rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert not rig.fake.closed  # left to the teardown hooks (pydbg.engine.teardown)
    from pydbg.engine import teardown

    teardown.end_all_sessions()
    assert rig.fake.closed


def test_end_session_disconnect_removes_one_client_and_the_session_goes_on() -> None:
    rig = Rig()
    second = rig.client.create_client()
    seen: list[tuple[int, str]] = []
    second.set_output_callbacks(lambda mask, text: seen.append((mask, text)))
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.fake.calls.clear()
    # The first client (whose interpreter runs breakpoint commands) leaves.
    rig.client.end_session(DEBUG_END_DISCONNECT)
    assert rig.fake.actions() == []  # no target touched
    assert rig.take() == []  # nothing told: a disconnect is silent
    assert second.control.get_execution_status() == DEBUG_STATUS_BREAK
    with pytest.raises(EngineError, match="DEBUG_END_DISCONNECT"):
        rig.client.control.execute("r rip")
    with pytest.raises(EngineError, match="DEBUG_END_DISCONNECT"):
        rig.client.end_session(DEBUG_END_DISCONNECT)
    # The other client goes on, and runs the command language for the session now.
    second.control.execute(".echo still here")
    assert seen[-1][1] == "still here\n"
    engine_output_before = len(rig.log)
    second.control.output(OutputMask.NORMAL, "to all\n")
    assert len(rig.log) == engine_output_before  # the disconnected client hears nothing
    second.end_session(DEBUG_END_ACTIVE_TERMINATE)
    assert rig.fake.closed


def test_output_control_routes_a_clients_output() -> None:
    from pydbg.constants import (
        DEBUG_OUTCTL_ALL_CLIENTS,
        DEBUG_OUTCTL_ALL_OTHER_CLIENTS,
        DEBUG_OUTCTL_IGNORE,
        DEBUG_OUTCTL_OVERRIDE_MASK,
        DEBUG_OUTCTL_THIS_CLIENT,
    )

    rig = Rig(output=False)
    first, second = rig.client, rig.client.create_client()
    heard: dict[str, list[str]] = {"first": [], "second": []}
    first.set_output_callbacks(lambda mask, text: heard["first"].append(text))
    second.set_output_callbacks(lambda mask, text: heard["second"].append(text))
    control = first.control
    control.execute(".echo mine")  # AMBIENT: this client
    control.execute(".echo all", DEBUG_OUTCTL_ALL_CLIENTS)
    control.execute(".echo others", DEBUG_OUTCTL_ALL_OTHER_CLIENTS)
    control.execute(".echo nobody", DEBUG_OUTCTL_IGNORE)
    control.controlled_output(DEBUG_OUTCTL_THIS_CLIENT, OutputMask.NORMAL, "direct\n")
    second.set_output_mask(0)
    control.controlled_output(DEBUG_OUTCTL_ALL_CLIENTS, OutputMask.NORMAL, "masked\n")
    control.controlled_output(
        DEBUG_OUTCTL_ALL_CLIENTS | DEBUG_OUTCTL_OVERRIDE_MASK, OutputMask.NORMAL, "forced\n"
    )
    assert heard["first"] == ["mine\n", "all\n", "direct\n", "masked\n", "forced\n"]
    assert heard["second"] == ["all\n", "others\n", "forced\n"]
    with pytest.raises(EngineError, match="DEBUG_OUTCTL"):
        control.execute(".echo x", 0x40)


def test_end_session_before_the_first_wait_reports_the_status_change() -> None:
    rig = Rig()
    launch(rig)
    assert rig.take() == [ces_status(DEBUG_STATUS_GO)]
    rig.client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    assert rig.fake.actions("kill") == [("kill", PID)]
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_NO_DEBUGGEE
    # No session was active, so no SessionStatus and no ExitProcess; but whoever was told
    # GO must hear that the status is NO_DEBUGGEE now (§4.3).
    assert rig.take() == [ces_status(DEBUG_STATUS_NO_DEBUGGEE)]


# -- 4. killed from outside -----------------------------------------------------------------------


def test_target_killed_from_outside() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    # SIGKILL skips the exit stop: the leader's KILLED status is all there is.
    rig.fake.then(FakeEvent(EventKind.KILLED, PID, PID, signal=9))
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ("exit_process", 137),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]


def test_multithreaded_target_killed_from_outside() -> None:
    rig = Rig()
    attach(rig, PID2, (PID2, TID2))
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    rig.fake.then(
        FakeEvent(EventKind.KILLED, TID2, PID2, signal=9),
        FakeEvent(EventKind.KILLED, PID2, PID2, signal=9),
    )
    assert rig.client.control.wait_for_event() is False
    # (The reaped thread cannot be made current: it is gone when its exit is decided.)
    assert rig.take() == [
        ("exit_thread", 137),
        ("exit_process", 137),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]


def test_target_killed_from_outside_ends_the_session() -> None:
    """What holds whatever exit code is reported: ExitProcess, then the end."""
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    rig.fake.then(FakeEvent(EventKind.KILLED, PID, PID, signal=9))
    assert rig.client.control.wait_for_event() is False
    log = rig.take()
    assert [entry[0] for entry in log] == ["exit_process", "change_engine_state", "session_status"]
    assert log[1:] == [ces_status(DEBUG_STATUS_NO_DEBUGGEE), session(DEBUG_SESSION_END)]
    assert rig.fake.procs == {}


# -- 5. two targets -------------------------------------------------------------------------------


def test_two_targets_one_exits_first() -> None:
    rig = Rig()
    launch(rig, PID)
    attach(rig, PID2, (PID2,))
    assert rig.take() == [ces_status(DEBUG_STATUS_GO)]  # the second acquisition changes nothing

    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        session(DEBUG_SESSION_ACTIVE),
        cds_all(),
        ces_thread(0),
        create_process_args(PID, "/opt/prog"),
        *initial_break(PID),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    objects = rig.client.system_objects
    assert objects.get_process_ids_by_index() == ([0], [PID])  # PID2 has not joined yet

    # The second target joins at the next wait, without anything being resumed (§6.2).
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ces_thread(1),
        create_process_args(PID2, str(PID2)),
        *initial_break(PID2),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    assert rig.fake.actions("cont_all") == []
    assert objects.get_number_processes() == 2
    assert objects.get_process_ids_by_index() == ([0, 1], [PID, PID2])

    # The launched one exits: the session goes on with the other.
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    script_exit(rig, PID, PID, 0)
    rig.fake.then(int3(PID2, PID2))
    rig.fake.regs[PID2].rip = 0x401001
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ces_thread(0),
        ("exit_process", 0),
        ces_thread(1),
        *int3_break(PID2, PID2, 0x401001),
    ]
    # g resumes every target together (§4.1).
    assert rig.fake.actions("cont_all") == [("cont_all", {}), ("cont_all", {})]
    assert objects.get_process_ids_by_index() == ([1], [PID2])
    assert objects.get_current_process_system_id() == PID2

    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    script_exit(rig, PID2, PID2, 5)
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ("exit_process", 5),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]


# -- 8. interest masks ----------------------------------------------------------------------------


def test_interest_mask_excludes_events() -> None:
    rig = Rig(mask=ALL_EVENTS & ~(DEBUG_EVENT_EXCEPTION | DEBUG_EVENT_SESSION_STATUS))
    launch(rig)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        cds_all(),
        ces_thread(0),
        create_process_args(PID, "/opt/prog"),
        initial_break(PID)[0],  # the filter's notice is output, not a callback
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    script_exit(rig, PID, PID, 0)
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ("exit_process", 0),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
    ]


def test_interest_mask_zero_hears_nothing() -> None:
    rig = Rig(mask=0)
    launch(rig)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [initial_break(PID)[0]]


# -- extensions -----------------------------------------------------------------------------------


def test_extension_notifications_in_session_order() -> None:
    rig = Rig()
    rig.client.load_extension(extension(rig.log))
    launch(rig)
    assert rig.take() == [ces_status(DEBUG_STATUS_GO)]

    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        session(DEBUG_SESSION_ACTIVE),
        ("ext", DEBUG_NOTIFY_SESSION_ACTIVE),  # after SessionStatus(ACTIVE), before CDS_ALL
        cds_all(),
        ces_thread(0),
        create_process_args(PID, "/opt/prog"),
        *initial_break(PID),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
        ("ext", DEBUG_NOTIFY_SESSION_ACCESSIBLE),
    ]

    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(int3(PID, PID))
    rig.fake.regs[PID].rip = RIP + 1
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ("ext", DEBUG_NOTIFY_SESSION_INACCESSIBLE),
        *int3_break(PID, PID, RIP + 1),
        ("ext", DEBUG_NOTIFY_SESSION_ACCESSIBLE),
    ]

    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    script_exit(rig, PID, PID, 0)
    assert rig.client.control.wait_for_event() is False
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        ("ext", DEBUG_NOTIFY_SESSION_INACCESSIBLE),
        ("exit_process", 0),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
        ("ext", DEBUG_NOTIFY_SESSION_INACTIVE),
    ]


def test_extension_loaded_into_a_suspended_session_hears_active_then_accessible() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    late: list[tuple[object, ...]] = []
    rig.client.load_extension(extension(late, "late"))
    assert late == [("ext", DEBUG_NOTIFY_SESSION_ACTIVE), ("ext", DEBUG_NOTIFY_SESSION_ACCESSIBLE)]
    assert rig.take() == []


def test_extension_hears_inactive_after_end_session() -> None:
    rig = Rig()
    rig.client.load_extension(extension(rig.log))
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.take()
    rig.client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    assert rig.take() == [
        ("exit_process", 137),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE),
        ("ext", DEBUG_NOTIFY_SESSION_INACTIVE),
    ]


# -- how targets join -----------------------------------------------------------------------------

CHILD = 5_000_300


def test_fork_child_of_a_debugged_process_joins_the_session() -> None:
    rig = Rig()
    rig.fake.spawn_pids.append(PID)
    rig.client.create_process(["/opt/prog"], flags=DEBUG_PROCESS)
    set_regs(rig, PID)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    rig.fake.regs[CHILD] = Regs()  # kept when the FORK adds the child to the fake's table
    set_regs(rig, CHILD)
    rig.fake.then(FakeEvent(EventKind.FORK, PID, PID, message=CHILD))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_thread(1),
        create_process_args(CHILD, "/opt/prog"),  # named after its parent's image
        *initial_break(CHILD),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    assert rig.client.system_objects.get_process_ids_by_index() == ([0, 1], [PID, CHILD])


def test_attach_without_initial_break() -> None:
    rig = Rig()
    rig.fake.seize_tids[PID2] = [PID2]
    rig.client.attach_process(PID2, DEBUG_ATTACH_INVASIVE_NO_INITIAL_BREAK)
    set_regs(rig, PID2)
    rig.fake.then(int3(PID2, PID2))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        session(DEBUG_SESSION_ACTIVE),
        cds_all(),
        ces_thread(0),
        create_process_args(PID2, str(PID2)),
        *int3_break(PID2, PID2, RIP),
    ]
    assert rig.fake.actions("cont_all") == [("cont_all", {})]


def test_initial_break_option_off_reports_the_initial_breakpoint_without_breaking() -> None:
    rig = Rig()
    rig.client.control.remove_engine_options(DEBUG_ENGOPT_INITIAL_BREAK)
    # The option and the `ibp` filter are one setting (§6.7, §5.2).
    assert rig.take() == [
        ("change_engine_state", DEBUG_CES_EVENT_FILTERS, DEBUG_FILTER_INITIAL_BREAKPOINT),
        ("change_engine_state", DEBUG_CES_ENGINE_OPTIONS, 0),
    ]
    launch(rig)
    rig.fake.then(int3(PID, PID))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        session(DEBUG_SESSION_ACTIVE),
        cds_all(),
        ces_thread(0),
        create_process_args(PID, "/opt/prog"),
        ("exception", break_record(RIP), True),  # ibp ignores it: no notice, no break
        *int3_break(PID, PID, RIP),
    ]


def test_queued_initial_break_is_reported_by_the_next_wait_without_resuming() -> None:
    rig = Rig()
    launch(rig)
    rig.reply("create_process", DEBUG_STATUS_BREAK)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        session(DEBUG_SESSION_ACTIVE),
        cds_all(),
        ces_thread(0),
        create_process_args(PID, "/opt/prog"),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_status(DEBUG_STATUS_GO),
        *initial_break(PID),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
    assert rig.fake.actions("cont_all") == []


def test_terminate_at_final_break_reports_exit_process_once() -> None:
    rig = Rig()
    rig.client.control.add_engine_options(DEBUG_ENGOPT_FINAL_BREAK)
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(FakeEvent(EventKind.EXIT, PID, PID, exit_code=0))  # no EXITED yet
    assert rig.client.control.wait_for_event() is True
    rig.take()
    rig.client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    assert rig.take() == [
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE),
    ]
    assert rig.fake.actions("kill") == [("kill", PID)]


def test_detach_while_running_after_a_timeout() -> None:
    rig = Rig()
    attach(rig, PID2, (PID2,))
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(TIMEOUT)
    assert rig.client.control.wait_for_event(timeout=0.01) is False
    rig.take()
    rig.client.detach_processes()
    assert rig.take() == [
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END_SESSION_ACTIVE_DETACH),
    ]
    assert rig.fake.actions("detach") == [("detach", PID2)]


def test_losing_control_ends_the_session_with_failure() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()
    rig.fake.fail["cont_all"] = NoSuchProcessError(3, "No such process", request="cont", pid=PID)
    with pytest.raises(SessionFailedError):
        rig.client.control.wait_for_event()
    assert rig.take() == [
        (
            "output",
            OutputMask.ERROR,
            f"pydbg: session failed: [Errno 3] No such process (cont, pid {PID})\n",
        ),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_FAILURE),
    ]
    assert rig.fake.closed
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_NO_DEBUGGEE


def test_exit_code_after_terminate_is_the_reported_one() -> None:
    rig = Rig()
    launch(rig)
    assert rig.client.control.wait_for_event()
    rig.client.terminate_processes()
    assert ("exit_process", 137) in rig.take()
    assert rig.client.get_exit_code() == 137


def test_failed_spawn_changes_nothing() -> None:
    rig = Rig()
    rig.fake.fail["spawn"] = ProgramNotFoundError(2, "No such file or directory", "/opt/none")
    with pytest.raises(ProgramNotFoundError):
        rig.client.create_process(["/opt/none"])
    assert rig.take() == []
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_NO_DEBUGGEE
    with pytest.raises(NoTargetError):
        rig.client.control.wait_for_event()


def test_wait_while_broken_with_queued_events_reports_going_on() -> None:
    rig = Rig()
    rig.fake.seize_tids[PID2] = [PID2, TID2]
    rig.client.attach_process(PID2, DEBUG_ATTACH_INVASIVE_NO_INITIAL_BREAK)
    set_regs(rig, PID2)
    rig.reply("create_process", DEBUG_STATUS_BREAK)
    assert rig.client.control.wait_for_event() is True
    rig.take()
    # Nothing armed, but CreateThread is still queued: it is reported; nobody breaks, so
    # the targets run on (§4.2), and the status change is broadcast (§4.3).
    rig.fake.then(int3(PID2, PID2))
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [
        ces_thread(1),
        ("create_thread", TID2, 0, 0),
        ces_status(DEBUG_STATUS_GO | DEBUG_STATUS_INSIDE_WAIT),
        ces_thread(0),
        *int3_break(PID2, PID2, RIP),
    ]
    assert rig.fake.actions("cont_all") == [("cont_all", {})]
