"""Sessions end to end (issue 3 scenarios 1-5): launch, attach, the initial breakpoint,
exits, detaching, ending a session in each mode, targets that die from outside, several
targets, fork children (spec §2, §4.1, §4.2, §6.2-6.5, §9.2).

Every sequence is the exact list of callback calls a recorder with interest mask 0x1FFF got.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time

import pytest
from elftools.elf.elffile import ELFFile

import pydbg
from tests.api.helpers import WAIT_LIMIT, read_lines, wait
from tests.api.recording import (
    ACTIVE,
    BREAK,
    BROKE_IN,
    CDS_ALL,
    DEBUG_PROCESS,
    END,
    END_ACTIVE_DETACH,
    END_ACTIVE_DETACH_FLAG,
    END_ACTIVE_TERMINATE,
    END_ACTIVE_TERMINATE_FLAG,
    END_PASSIVE,
    END_PASSIVE_FLAG,
    GO,
    NO_DEBUGGEE,
    STATUS_BREAKPOINT,
    WAIT_TIMEOUT,
    Recorder,
    create_process,
    create_thread,
    current,
    debuggee,
    ended,
    exception,
    exit_process,
    exit_thread,
    session,
    status,
)
from tests.support import all_tasks_in_state, load_bias, task_state, task_tids, tracer_pid
from tests.support import wait_until as eventually

PAGE = 4096


def _image_span(path: str) -> tuple[int, int]:
    """(lowest, highest) link-time address the PT_LOAD segments of `path` cover, pages
    rounded outwards."""
    with open(path, "rb") as f:
        loads = [s.header for s in ELFFile(f).iter_segments() if s.header.p_type == "PT_LOAD"]
    low = min(h.p_vaddr for h in loads) & ~(PAGE - 1)
    high = max(h.p_vaddr + h.p_memsz for h in loads)
    return low, (high + PAGE - 1) & ~(PAGE - 1)


def _engine_thread_id(client: pydbg.DebugClient, tid: int) -> int:
    return client.system_objects.get_thread_id_by_system_id(tid)


# -- launch, initial breakpoint, exit -------------------------------------------------------------


def test_launch_initial_break_go_exit(client, recorder, launch, out_file):
    pid = launch("exit", 7)
    # Nothing joins the session before the wait (§6.2); a pending launch counts as GO
    # (§4.2), and the change to GO is broadcast (§4.3).
    assert recorder.take() == [status(GO)]
    assert client.control.get_execution_status() == GO

    assert wait(client) is True
    assert recorder.take() == [
        session(ACTIVE),
        debuggee(CDS_ALL, 0),  # after SessionStatus(ACTIVE) reached everyone (§2.2 rule 4)
        current(0),
        create_process(pid, pid),
        exception(STATUS_BREAKPOINT, True),
        *BROKE_IN,
    ]
    assert client.control.get_execution_status() == BREAK

    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(7), *ended(END)]
    assert client.control.get_execution_status() == NO_DEBUGGEE
    assert read_lines(out_file) == ["exit 7"]


def test_create_process_and_initial_break_describe_the_process(client, recorder, launch, events):
    pid = launch("exit", 0)
    assert wait(client)
    (args,) = recorder.args_of("create_process")
    (image_file, handle, base, size, module, image, check_sum, stamp, thread, _, start) = args
    low, high = _image_span(events.path)
    bias = events.bias(pid)
    assert (image_file, handle, thread, check_sum, stamp) == (0, pid, pid, 0, 0)
    assert image == events.path
    # WinDbg-style module name (§9.5): the basename with non-identifier characters as "_".
    assert module == re.sub(r"\W", "_", os.path.basename(events.path))
    assert base == load_bias(pid, events.path) == bias + low
    assert size == high - low
    assert start == bias + events.entry

    ((record, first_chance),) = recorder.args_of("exception")
    assert first_chance is True
    assert record.exception_code == STATUS_BREAKPOINT
    assert record.exception_address == client.registers.get_value("rip")


def test_thread_creation_and_exit_are_reported(client, recorder, start, out_file):
    pid = start("thread")
    client.control.set_execution_status(GO)
    assert wait(client) is False
    calls = recorder.take()
    (worker,) = [call[1] for call in calls if call[0] == "create_thread"]
    assert worker != pid
    # The thread ids are the engine's (§0.1): the initial thread is 0, the worker 1.
    assert calls == [
        status(GO),
        current(1),
        create_thread(worker),
        exit_thread(0),
        current(0),
        exit_process(7),  # stands for the initial thread too: no ExitThread for it
        *ended(END),
    ]
    assert read_lines(out_file) == ["worker", "joined"]


def test_exit_group_with_threads_alive_ends_the_session(targets):
    # exit7 group: four workers sleep in pause() while main calls exit(7).  The outcome
    # depends on where the workers are when the group exit kills them, so run it a few
    # times: each run must end the same way.
    for _ in range(10):
        with pydbg.create_client() as client:
            recorder = Recorder()
            client.set_event_callbacks(recorder)
            client.create_process([targets["exit7"].path, "group"])
            assert wait(client)
            client.control.set_execution_status(GO)
            assert wait(client) is False
            calls = [c for c in recorder.take() if c[0] != "change_engine_state"]
            # Every thread but the initial one is created and exits once; ExitProcess
            # stands for the initial thread (§3.2).
            assert [c[0] for c in calls].count("create_thread") == 4
            assert [c[0] for c in calls].count("exit_thread") == 4
            assert calls[-2:] == [exit_process(7), session(END)]


# -- attach and detach ------------------------------------------------------------------------


def test_attach_reports_every_thread_then_detach_lets_it_run(client, recorder, threads_target):
    proc = threads_target(2)
    pid = proc.pid
    tids = task_tids(pid)
    assert len(tids) == 3

    client.attach_process(pid)
    assert recorder.take() == [status(GO)]
    assert wait(client) is True
    calls = recorder.take()
    reported = [call[1] for call in calls if call[0] == "create_thread"]
    assert sorted(reported) == [t for t in tids if t != pid]
    expected = [
        session(ACTIVE),
        debuggee(CDS_ALL, 0),
        current(_engine_thread_id(client, pid)),
        create_process(pid, pid),
    ]
    for tid in reported:
        expected += [current(_engine_thread_id(client, tid)), create_thread(tid)]
    expected += [current(_engine_thread_id(client, pid)), exception(STATUS_BREAKPOINT), *BROKE_IN]
    assert calls == expected
    # CreateThread carries the thread's TLS block and pc (pydbg.callbacks).
    for handle, data_offset, start_offset in recorder.args_of("create_thread"):
        assert data_offset != 0 and start_offset != 0, handle

    client.detach_processes()
    assert recorder.take() == ended(END_ACTIVE_DETACH)
    assert client.control.get_execution_status() == NO_DEBUGGEE
    assert all(tracer_pid(pid, tid) == 0 for tid in tids)
    assert eventually(lambda: all_tasks_in_state(pid, "RS"))
    # It runs on undisturbed: its read() was not broken by the attach (exit 3 if it was).
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0


# -- EndSession -----------------------------------------------------------------------------------


@pytest.fixture
def two_targets(client, recorder, launch, threads_target):
    """A launched `events spin` and an attached `threads 1`, both at their initial
    breakpoint: (launched pid, attached Popen)."""
    proc = threads_target(1)
    pid = launch("spin")
    client.attach_process(proc.pid)
    assert wait(client) and wait(client)
    calls = [c for c in recorder.take() if c[0] in ("create_process", "exception")]
    assert calls == [
        create_process(pid, pid),
        exception(STATUS_BREAKPOINT),
        create_process(proc.pid, proc.pid),
        exception(STATUS_BREAKPOINT),
    ]
    return pid, proc


def test_end_session_active_terminate_kills_every_target(client, recorder, two_targets):
    pid, proc = two_targets
    client.end_session(END_ACTIVE_TERMINATE_FLAG)
    # Each is killed, reaped, and reported (§9.5): 128 + SIGKILL.
    assert recorder.take() == [exit_process(137), exit_process(137), *ended(END_ACTIVE_TERMINATE)]
    assert client.control.get_execution_status() == NO_DEBUGGEE
    assert not os.path.exists(f"/proc/{pid}")  # launched: killed and reaped
    # Attached: killed (reaping it may be left to its parent, here this process).
    assert task_state(proc.pid) in ("Z", "")


def test_end_session_active_detach_leaves_every_target_running(
    client, recorder, two_targets, out_file
):
    pid, proc = two_targets
    try:
        client.end_session(END_ACTIVE_DETACH_FLAG)
        assert recorder.take() == ended(END_ACTIVE_DETACH)
        for target in (pid, proc.pid):
            assert all(tracer_pid(target, tid) == 0 for tid in task_tids(target)), target
            assert eventually(lambda t=target: all_tasks_in_state(t, "RS")), target
        assert eventually(lambda: read_lines(out_file) == ["spin"])
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        # The launched target is a child of this process and nobody traces it any more.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def test_end_session_passive_kills_launched_and_detaches_attached(client, recorder, two_targets):
    pid, proc = two_targets
    client.end_session(END_PASSIVE_FLAG)
    assert recorder.take() == ended(END_PASSIVE)
    assert eventually(lambda: not os.path.exists(f"/proc/{pid}"))
    assert all(tracer_pid(proc.pid, tid) == 0 for tid in task_tids(proc.pid))
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0


# -- targets that go away -------------------------------------------------------------------------


def _dying_in_a_stop(pid: int) -> bool:
    """SIGKILL was taken and the process sits in a ptrace stop on its way out: state `t`
    and the exit code (the last field of /proc/PID/stat) set."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0] == "t" and int(fields[-1]) == signal.SIGKILL


def test_target_killed_from_outside_while_running(client, recorder, start):
    pid = start("spin")
    client.control.set_execution_status(GO)
    assert wait(client, timeout=0.2) is False
    assert recorder.take() == [status(GO), status(GO | WAIT_TIMEOUT)]
    assert task_state(pid) in "RS"

    os.kill(pid, signal.SIGKILL)
    assert wait(client) is False
    assert recorder.take() == [exit_process(137), *ended(END)]
    assert client.control.get_execution_status() == NO_DEBUGGEE


def test_target_killed_from_outside_while_broken_in(client, recorder, start):
    pid = start("spin")
    os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: _dying_in_a_stop(pid))
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(137), *ended(END)]


def test_session_lasts_until_the_last_target_exits(
    client, recorder, launch, threads_target, out_file
):
    proc = threads_target(1)
    client.attach_process(proc.pid)
    pid = launch("exit", 3)
    assert wait(client) and wait(client)
    recorder.take()

    client.control.set_execution_status(GO)
    # The launched target exits at once; the session goes on with the attached one.
    deadline = time.monotonic() + WAIT_LIMIT
    while exit_process(3) not in recorder.calls and time.monotonic() < deadline:
        assert wait(client, timeout=0.05) is False
    calls = recorder.take()
    assert [c for c in calls if c[0] in ("exit_process", "session_status")] == [exit_process(3)]
    assert client.control.get_execution_status() == GO
    assert client.system_objects.get_process_ids_by_index()[1] == [proc.pid]
    assert read_lines(out_file) == ["exit 3"]

    proc.stdin.close()
    assert wait(client) is False
    calls = recorder.take()
    assert [c for c in calls if c[0] != "change_engine_state"] == [
        exit_thread(0),
        exit_process(0),
        session(END),
    ]
    assert calls[-2:] == ended(END)
    assert client.control.get_execution_status() == NO_DEBUGGEE
    assert pid not in client.system_objects.get_process_ids_by_index()[1]


# -- fork children --------------------------------------------------------------------------------


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("PPid:"):
                return int(line.split()[1])
    raise AssertionError(f"no PPid for {pid}")


def test_fork_child_is_debugged_with_debug_process(client, recorder, start, out_file):
    pid = start("fork", flags=DEBUG_PROCESS)
    client.control.set_execution_status(GO)
    assert wait(client) is True  # the child's initial breakpoint
    calls = recorder.take()
    (child,) = [call[1] for call in calls if call[0] == "create_process"]
    assert child != pid and _ppid(child) == pid
    assert calls == [
        status(GO),
        current(_engine_thread_id(client, child)),
        create_process(child, child),
        exception(STATUS_BREAKPOINT),
        *BROKE_IN,
    ]
    assert client.system_objects.get_process_ids_by_index()[1] == [pid, child]

    client.control.set_execution_status(GO)
    assert wait(client) is False
    calls = recorder.take()
    lifecycle = ("create_process", "exit_process", "session_status")
    assert [c for c in calls if c[0] in lifecycle] == [
        exit_process(5),
        exit_process(15),
        session(END),
    ]
    assert read_lines(out_file) == ["child", "parent"]


def test_fork_child_is_not_debugged_without_debug_process(client, recorder, start, out_file):
    start("fork")
    client.control.set_execution_status(GO)
    assert wait(client) is False
    calls = recorder.take()
    lifecycle = ("create_process", "exit_process", "session_status")
    assert [c for c in calls if c[0] in lifecycle] == [exit_process(15), session(END)]
    assert read_lines(out_file) == ["child", "parent"]
