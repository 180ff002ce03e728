"""Process-level calls of DebugClient on the `events` target: process options (whether
fork children are debugged, DEBUG_PROCESS_ONLY_THIS_PROCESS), describe_processes, and
releasing the current process only (DetachCurrentProcess, TerminateCurrentProcess).

The `fork` mode of tests/targets/events.c forks a child that writes "child" and exits 5;
the parent waits for it, writes "parent" and exits 15.
"""

from __future__ import annotations

import os
import signal

import pytest

import pydbg
from pydbg.constants import DEBUG_PROCESS_DETACH_ON_EXIT, DEBUG_PROCESS_ONLY_THIS_PROCESS
from tests.api.helpers import read_lines, wait
from tests.api.recording import (
    DEBUG_PROCESS,
    END,
    END_ACTIVE_DETACH,
    END_ACTIVE_TERMINATE,
    GO,
    STATUS_BREAKPOINT,
    ended,
    engine,
    exception,
    exit_process,
    status,
)
from tests.support import tracer_pid

CES_PROCESS_OPTIONS = 0x200  # §3.4
LIFECYCLE = ("create_process", "exit_process", "session_status")


def lifecycle(calls):
    return [c for c in calls if c[0] in LIFECYCLE]


def test_options_follow_the_create_flags(client, start):
    start("fork")
    assert client.get_process_options() == DEBUG_PROCESS_ONLY_THIS_PROCESS
    (d,) = client.describe_processes()
    assert (d.origin, d.debug_children) == ("create", False)


def test_options_of_a_process_created_with_debug_process(client, start):
    start("fork", flags=DEBUG_PROCESS)
    assert client.get_process_options() == 0
    assert client.describe_processes()[0].debug_children is True


def test_clearing_only_this_process_debugs_the_fork_child(client, recorder, start, out_file):
    pid = start("fork")
    client.remove_process_options(DEBUG_PROCESS_ONLY_THIS_PROCESS)
    assert recorder.take() == [engine(CES_PROCESS_OPTIONS, 0)]
    client.remove_process_options(DEBUG_PROCESS_ONLY_THIS_PROCESS)
    assert recorder.take() == []  # no change, no report
    client.control.set_execution_status(GO)
    assert wait(client) is True
    calls = recorder.take()
    (child,) = [c[1] for c in calls if c[0] == "create_process"]
    assert exception(STATUS_BREAKPOINT) in calls
    assert [(d.pid, d.origin) for d in client.describe_processes()] == [
        (pid, "create"),
        (child, "child"),
    ]
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert lifecycle(recorder.take()) == [
        exit_process(5),
        exit_process(15),
        ("session_status", END),
    ]
    assert read_lines(out_file) == ["child", "parent"]


def test_setting_only_this_process_stops_following(client, recorder, start, out_file):
    start("fork", flags=DEBUG_PROCESS)
    client.add_process_options(DEBUG_PROCESS_ONLY_THIS_PROCESS)
    assert recorder.take() == [engine(CES_PROCESS_OPTIONS, DEBUG_PROCESS_ONLY_THIS_PROCESS)]
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert lifecycle(recorder.take()) == [exit_process(15), ("session_status", END)]
    assert read_lines(out_file) == ["child", "parent"]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (DEBUG_PROCESS_DETACH_ON_EXIT, pydbg.EngineError),
        (0x10, pydbg.EngineError),
        (True, TypeError),
    ],
)
def test_unsupported_options_are_refused(client, start, options, error):
    start("fork")
    with pytest.raises(error):
        client.set_process_options(options)
    assert client.get_process_options() == DEBUG_PROCESS_ONLY_THIS_PROCESS


def test_options_need_a_target(client):
    with pytest.raises(pydbg.NoTargetError):
        client.get_process_options()


def test_detach_current_process_of_the_last_target_ends_the_session(client, recorder, start):
    pid = start("spin")
    try:
        assert client.detach_current_process() == pid
        assert recorder.take()[-2:] == ended(END_ACTIVE_DETACH)
        assert tracer_pid(pid) == 0
        assert client.describe_processes() == []
    finally:
        os.kill(pid, signal.SIGKILL)  # it is a child of this process, untraced now
        os.waitpid(pid, 0)


def test_terminate_current_process_reports_its_exit(client, recorder, start):
    start("spin")
    client.terminate_current_process()
    assert recorder.take() == [
        exit_process(137),
        status(7),
        ("session_status", END_ACTIVE_TERMINATE),
    ]


def test_release_calls_need_a_target(client):
    with pytest.raises(pydbg.NoTargetError):
        client.detach_current_process()
    with pytest.raises(pydbg.NoTargetError):
        client.terminate_current_process()


def test_release_calls_are_refused_inside_a_wait(client, recorder, start):
    start("fork", flags=DEBUG_PROCESS)
    errors = []

    def create_process(*args):
        try:
            client.detach_current_process()
        except pydbg.InsideWaitError as exc:
            errors.append(exc)
        return None

    recorder.create_process = create_process  # type: ignore[method-assign]
    client.control.set_execution_status(GO)
    assert wait(client) is True
    assert len(errors) == 1
