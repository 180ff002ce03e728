"""execve from a non-leader thread under the engine (hazards §6.2, §16 #21; spec §9.2).

The `exec_thread` target starts a sleeper thread and then an exec'ing thread, which calls
execv(PROGRAM) while main and the sleeper are alive.  The kernel kills the two others, the
exec'ing thread takes the leader's tid, and PTRACE_EVENT_EXEC is reported there.  The
session must not hang on the way (a wait for the exec'ing thread alone never ends while the
others sit in their exit stops), must report ExitThread for the two destroyed threads and
the swap of images as UnloadModule / LoadModule, and must go on with the new program.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

import pydbg
from tests.api.helpers import WAIT_LIMIT
from tests.api.recording import (
    ALL_EVENTS,
    BREAK,
    GO,
    NO_DEBUGGEE,
    STEP_INTO,
    STEP_OVER,
    Recorder,
)

DEBUG_BREAKPOINT_CODE = 0
DEBUG_BREAKPOINT_DEFERRED = 0x2
DEBUG_BREAKPOINT_ENABLED = 0x4
TRUE = "/bin/true"
# What the session reports of the exec and what follows it (the rest is bookkeeping).
KEPT = {
    "create_thread",
    "exit_thread",
    "exit_process",
    "unload_module",
    "load_module",
    "breakpoint",
}


class ExecRecorder(Recorder):
    """Records every event, and the system thread id the engine names for each thread
    event (the event thread is the current thread inside the callback)."""

    def __init__(self, client: Any) -> None:
        super().__init__(mask=ALL_EVENTS)
        self.client = client
        self.exited_tids: list[int] = []
        self.exit_process_tid: int | None = None

    def exit_thread(self, exit_code: int) -> int | None:
        self.exited_tids.append(self.client.system_objects.get_current_thread_system_id())
        return super().exit_thread(exit_code)

    def exit_process(self, exit_code: int) -> int | None:
        self.exit_process_tid = self.client.system_objects.get_current_thread_system_id()
        return super().exit_process(exit_code)

    def kept(self) -> list[tuple[Any, ...]]:
        return [call for call in self.calls if call[0] in KEPT]


def _launch(client: pydbg.DebugClient, binary: str, *program: str) -> tuple[int, ExecRecorder]:
    recorder = ExecRecorder(client)
    client.set_event_callbacks(recorder)
    pid = client.create_process([binary, *program])
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)  # the initial breakpoint
    assert client.control.get_execution_status() == BREAK
    return pid, recorder


def _run(client: pydbg.DebugClient, status: int = GO, limit: int = 10_000) -> None:
    """Set `status` and wait, again and again, until the session ends."""
    for _ in range(limit):
        if client.control.get_execution_status() == NO_DEBUGGEE:
            return
        client.control.set_execution_status(status)
        if not client.control.wait_for_event(timeout=WAIT_LIMIT):
            assert client.control.get_execution_status() == NO_DEBUGGEE, "wait timed out"
            return
    raise AssertionError("the session did not end")


def _clone_tids(recorder: ExecRecorder) -> list[int]:
    """System ids of the created threads (the sleeper first, then the exec'ing thread)."""
    return [handle for name, (handle, *_rest) in recorder.raw if name == "create_thread"]


def _check_exec(recorder: ExecRecorder, pid: int, old_image: str) -> None:
    """The exec's events: the leader and the sleeper exit, the old image unloads, the new
    one (/bin/true) loads, the process lives on under its pid and exits 0."""
    kept = recorder.kept()
    names = [call[0] for call in kept]
    assert names.count("create_thread") == 2, kept
    sleeper, execer = _clone_tids(recorder)
    assert sorted(recorder.exited_tids) == sorted([pid, sleeper]), (
        recorder.exited_tids,
        recorder.calls,
    )
    assert [c for c in kept if c[0] == "exit_thread"] == [("exit_thread", 0)] * 2
    first_unload = names.index("unload_module")
    assert max(i for i, n in enumerate(names) if n == "exit_thread") < first_unload
    unloads = [c[1] for c in kept if c[0] == "unload_module"]
    assert unloads[0] == old_image  # the main image goes first
    assert os.path.basename(TRUE) in [c[1] for c in kept[first_unload:] if c[0] == "load_module"], (
        kept
    )
    # No process exit and no new process for the exec: one ExitProcess, the last event,
    # with /bin/true's exit code, reported on the thread that exec'd (now the leader).
    assert names.count("exit_process") == 1 and kept[-1] == ("exit_process", 0), kept
    assert recorder.exit_process_tid == pid
    assert execer != pid


@pytest.mark.timeout(60)
def test_exec_from_a_thread_reports_exits_and_the_image_swap(client, targets):
    binary = targets["exec_thread"].path
    pid, recorder = _launch(client, binary, TRUE)
    _run(client)
    _check_exec(recorder, pid, binary)
    assert client.get_exit_code() == 0


@pytest.mark.timeout(300)
def test_exec_from_a_thread_stress(targets):
    """The same 50 times over, each in a fresh session: the exec races the stop of the
    other threads differently every time."""
    binary = targets["exec_thread"].path
    for _ in range(50):
        with pydbg.create_client() as client:
            pid, recorder = _launch(client, binary, TRUE)
            _run(client)
            _check_exec(recorder, pid, binary)
            assert client.get_exit_code() == 0


@pytest.mark.timeout(60)
def test_breakpoints_of_the_old_image_become_deferred(client, targets):
    """A breakpoint hit in the old image; after the exec it is deferred, not lost, and
    the new program runs to its end without a stray trap."""
    target = targets["exec_thread"]
    pid, recorder = _launch(client, target.path, TRUE)
    bp = client.control.add_breakpoint(DEBUG_BREAKPOINT_CODE)
    bp.set_offset(target.addr(pid, "old_image_only"))
    bp.add_flags(DEBUG_BREAKPOINT_ENABLED)
    client.control.set_execution_status(GO)
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)
    assert recorder.names()[-3:].count("breakpoint") == 1
    assert client.system_objects.get_current_thread_system_id() == pid
    _run(client)
    _check_exec(recorder, pid, target.path)
    assert [c for c in recorder.kept() if c[0] == "breakpoint"] == [("breakpoint",)]
    assert bp.get_flags() & DEBUG_BREAKPOINT_DEFERRED
    assert client.get_exit_code() == 0


@pytest.mark.timeout(120)
def test_step_into_the_exec_from_the_exec_ing_thread(client, targets):
    """Single-step the exec'ing thread through execve while the others stay stopped:
    the step must not wait for that thread alone (the exec waits for the others)."""
    target = targets["exec_thread"]
    pid, recorder = _launch(client, target.path, TRUE)
    bp = client.control.add_breakpoint(DEBUG_BREAKPOINT_CODE)
    bp.set_offset_expression("libc_so!execve")  # deferred until libc loads
    bp.add_flags(DEBUG_BREAKPOINT_ENABLED)
    client.control.set_execution_status(GO)
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)
    assert recorder.calls and recorder.names().count("breakpoint") == 1
    execer = client.system_objects.get_current_thread_system_id()
    assert execer == _clone_tids(recorder)[1]
    for _ in range(1000):  # execve's wrapper is a few instructions long
        client.control.set_execution_status(STEP_INTO)
        assert client.control.wait_for_event(timeout=WAIT_LIMIT)
        if "unload_module" in recorder.names():
            break
    else:
        raise AssertionError("the exec never came")
    _run(client)
    _check_exec(recorder, pid, target.path)
    assert client.get_exit_code() == 0


@pytest.mark.timeout(120)
def test_step_over_in_another_thread_while_the_exec_happens(client, targets):
    """The leader steps over `call pause` (every thread runs); meanwhile the exec kills
    it.  The step ends with the leader, the session reports the exec and goes on."""
    target = targets["exec_thread"]
    pid, recorder = _launch(client, target.path, TRUE)
    bp = client.control.add_breakpoint(DEBUG_BREAKPOINT_CODE)
    bp.set_offset(target.addr(pid, "old_image_only"))
    bp.add_flags(DEBUG_BREAKPOINT_ENABLED)
    client.control.set_execution_status(GO)
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)
    assert client.system_objects.get_current_thread_system_id() == pid
    _run(client, STEP_OVER)
    _check_exec(recorder, pid, target.path)
    assert client.get_exit_code() == 0


@pytest.mark.timeout(120)
def test_wait_timeouts_are_honoured_around_an_exec(client, targets):
    """wait_for_event(timeout) returns at its timeout (S_FALSE) while the new program
    sleeps after the exec, and the session then ends normally."""
    target = targets["exec_thread"]
    pid, recorder = _launch(client, target.path, "/bin/sleep", "1")
    client.control.set_execution_status(GO)
    timeouts = 0
    for _ in range(10_000):
        if client.control.get_execution_status() == NO_DEBUGGEE:
            break
        if client.control.wait_for_event(timeout=0.05):
            if client.control.get_execution_status() == BREAK:
                client.control.set_execution_status(GO)
            continue
        if client.control.get_execution_status() != NO_DEBUGGEE:
            timeouts += 1
    else:
        raise AssertionError("the session did not end")
    assert timeouts > 0
    names = [c[0] for c in recorder.kept()]
    assert names.count("exit_thread") == 2 and "unload_module" in names
    assert names[-1] == "exit_process"
    assert recorder.exit_process_tid == pid
    assert client.get_exit_code() == 0
