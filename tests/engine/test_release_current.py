"""DetachCurrentProcess and TerminateCurrentProcess with two targets (spec §6.3): the
released process leaves with its queued events, the other target's stay and are reported
without a resume; the session ends with the last target.  Engine tier: no processes.
"""

from __future__ import annotations

import pytest

from pydbg.constants import (
    DEBUG_SESSION_END,
    DEBUG_SESSION_END_SESSION_ACTIVE_DETACH,
    DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE,
    DEBUG_STATUS_GO,
    DEBUG_STATUS_NO_DEBUGGEE,
)
from pydbg.engine.session import NoTargetError
from tests.engine.recording import (
    PID,
    PID2,
    Rig,
    attach,
    ces_status,
    ces_thread,
    int3,
    int3_break,
    launch,
    script_exit,
    session,
)


def two_targets_both_trapped() -> Rig:
    """PID (launched) and PID2 (attached) joined; then one wait collects an int3 of each:
    PID's breaks in, PID2's stays queued."""
    rig = Rig()
    launch(rig, PID)
    attach(rig, PID2, (PID2,))
    control = rig.client.control
    assert control.wait_for_event() is True
    control.set_execution_status(DEBUG_STATUS_GO)
    assert control.wait_for_event() is True  # PID2's initial break
    control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.regs[PID].rip = 0x401001
    rig.fake.regs[PID2].rip = 0x401101
    rig.fake.then(int3(PID, PID), int3(PID2, PID2))
    assert control.wait_for_event() is True
    assert rig.client.system_objects.get_current_process_system_id() == PID
    rig.take()
    return rig


def test_detaching_the_current_process_keeps_the_others_queued_event() -> None:
    rig = two_targets_both_trapped()
    resumes = len(rig.fake.actions("cont_all"))
    assert rig.client.detach_current_process() == PID
    assert rig.fake.actions("detach") == [("detach", PID)]
    objects = rig.client.system_objects
    assert objects.get_process_ids_by_index() == ([1], [PID2])
    assert objects.get_current_process_system_id() == PID2
    assert rig.take() == [ces_thread(1)]  # the next target's thread became current

    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert rig.client.control.wait_for_event() is True
    assert rig.take() == [ces_status(DEBUG_STATUS_GO), *int3_break(PID2, PID2, 0x401101)]
    assert len(rig.fake.actions("cont_all")) == resumes  # reported without a resume

    assert rig.client.detach_current_process() == PID2
    assert rig.take() == [
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END_SESSION_ACTIVE_DETACH),
    ]
    assert rig.fake.procs == {}
    with pytest.raises(NoTargetError):
        rig.client.detach_current_process()


def test_releasing_a_process_drops_its_queued_event() -> None:
    rig = two_targets_both_trapped()
    rig.client.system_objects.set_current_process_id(1)
    rig.take()
    resumes = len(rig.fake.actions("cont_all"))
    assert rig.client.terminate_current_process() == PID2
    assert rig.take() == [("exit_process", 137), ces_thread(0)]
    # PID2's queued int3 went with it: the next wait resumes PID, which exits.
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    script_exit(rig, PID, PID, 3)
    assert rig.client.control.wait_for_event() is False
    assert len(rig.fake.actions("cont_all")) > resumes
    log = rig.take()
    assert ("exception",) not in [entry[:1] for entry in log]
    assert log[-3:] == [
        ("exit_process", 3),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END),
    ]


def test_terminating_the_last_process_ends_the_session() -> None:
    rig = Rig()
    launch(rig, PID)
    assert rig.client.control.wait_for_event() is True
    rig.take()
    assert rig.client.terminate_current_process() == PID
    assert rig.take() == [
        ("exit_process", 137),
        ces_status(DEBUG_STATUS_NO_DEBUGGEE),
        session(DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE),
    ]
    assert rig.client.control.get_execution_status() == DEBUG_STATUS_NO_DEBUGGEE
    assert rig.fake.actions("kill", "close") == [("kill", PID), ("close",)]
