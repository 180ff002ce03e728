"""GetRunningProcessSystemIds and GetRunningProcessSystemIdByExecutableName
(pydbg/running_processes.py) against real processes.

Each test runs copies of the `loop` target under a name no other process has (a fresh
random one), so that the only candidates are the test's own; `pidof` is the independent
oracle for what "a process named X" means.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess

import pytest

import pydbg
from pydbg.constants import (
    DEBUG_GET_PROC_DEFAULT,
    DEBUG_GET_PROC_FULL_MATCH,
    DEBUG_GET_PROC_ONLY_MATCH,
    DEBUG_GET_PROC_SERVICE_NAME,
    DEBUG_PROC_DESC_NO_COMMAND_LINE,
    DEBUG_PROC_DESC_NO_PATHS,
    DEBUG_PROC_DESC_NO_SESSION_ID,
    DEBUG_PROC_DESC_NO_USER_NAME,
)
from tests.support import unused_pid, wait_until


def pidof(name: str) -> list[int]:
    result = subprocess.run(["pidof", name], capture_output=True, text=True)
    return sorted(int(pid) for pid in result.stdout.split())


@pytest.fixture(params=["short", "long"])
def program(request, targets, tmp_path) -> str:
    """A copy of `loop` under a unique name: "short" fits the 15 characters the kernel
    keeps as a process's comm, "long" does not."""
    stem = "pl" if request.param == "short" else "pydbg-lookup-program-"
    path = tmp_path / f"{stem}{secrets.token_hex(4)}"
    shutil.copy(targets["loop"].path, path)
    return str(path)


def run_copies(procs, path: str, count: int = 1) -> list[int]:
    pids = [procs.start([path, "-1"]).pid for _ in range(count)]
    name = os.path.basename(path)
    # A child is first a copy of pytest: wait until each runs the program.
    assert wait_until(lambda: set(pids) <= set(pidof(name)))
    return sorted(pids)


def test_the_one_process_with_the_name(client, procs, program):
    (pid,) = run_copies(procs, program)
    name = os.path.basename(program)
    assert client.get_running_process_system_id_by_executable_name(name) == pid
    assert pidof(name) == [pid]
    # Path names are not used without FULL_MATCH: any directory names the same program.
    assert client.get_running_process_system_id_by_executable_name(f"/elsewhere/{name}") == pid
    assert (
        client.get_running_process_system_id_by_executable_name(name, DEBUG_GET_PROC_ONLY_MATCH)
        == pid
    )


def test_full_match_wants_the_full_path(client, procs, program):
    (pid,) = run_copies(procs, program)
    lookup = client.get_running_process_system_id_by_executable_name
    assert lookup(program, DEBUG_GET_PROC_FULL_MATCH) == pid
    with pytest.raises(pydbg.ProcessNameNotFoundError):
        lookup(os.path.basename(program), DEBUG_GET_PROC_FULL_MATCH)
    # A symlink to it resolves to the executable.
    link = program + "-link"
    os.symlink(program, link)
    assert lookup(link, DEBUG_GET_PROC_FULL_MATCH) == pid


def test_several_matches(client, procs, program):
    pids = run_copies(procs, program, 2)
    name = os.path.basename(program)
    assert pidof(name) == pids
    lookup = client.get_running_process_system_id_by_executable_name
    assert lookup(name) == lookup(name, DEBUG_GET_PROC_DEFAULT) == pids[0]  # the first
    with pytest.raises(pydbg.AmbiguousProcessNameError) as info:
        lookup(name, DEBUG_GET_PROC_ONLY_MATCH)
    error = info.value
    assert [pid for pid, _ in error.candidates] == pids
    assert all(cmdline == f"{program} -1" for _, cmdline in error.candidates)
    for pid in pids:
        assert f"{pid}: {program} -1" in str(error)


def test_no_match_names_the_name(client, program):
    name = os.path.basename(program)  # nothing runs it
    with pytest.raises(pydbg.ProcessNameNotFoundError, match=f"no process named '{name}'"):
        client.get_running_process_system_id_by_executable_name(name)
    assert pidof(name) == []


def test_a_zombie_is_no_candidate(client, program):
    zombie = subprocess.Popen([program, "0"])  # loop 0 exits at once
    try:
        name = os.path.basename(program)
        assert wait_until(lambda: _state(zombie.pid) == "Z")
        with pytest.raises(pydbg.ProcessNameNotFoundError):
            client.get_running_process_system_id_by_executable_name(name)
    finally:
        zombie.wait()


def test_the_debugger_itself_is_no_candidate(client):
    exe = os.path.realpath(f"/proc/{os.getpid()}/exe")
    try:
        pid = client.get_running_process_system_id_by_executable_name(exe, 1)
    except pydbg.ProcessNameNotFoundError:
        return
    assert pid != os.getpid()


def test_service_names_and_unknown_flags_are_refused(client):
    with pytest.raises(pydbg.EngineError, match="Windows services"):
        client.get_running_process_system_id_by_executable_name("sshd", DEBUG_GET_PROC_SERVICE_NAME)
    with pytest.raises(pydbg.EngineError, match="no DEBUG_GET_PROC_"):
        client.get_running_process_system_id_by_executable_name("sshd", 0x100)
    with pytest.raises(pydbg.EngineError):
        client.get_running_process_system_id_by_executable_name("")


def test_running_process_ids(client, procs, program):
    pids = run_copies(procs, program, 2)
    ids = client.get_running_process_system_ids()
    assert ids == sorted(ids)
    assert set(pids) | {os.getpid(), 1} <= set(ids)


def test_the_lookup_feeds_attach(client, procs, program):
    (pid,) = run_copies(procs, program)
    found = client.get_running_process_system_id_by_executable_name(
        os.path.basename(program), DEBUG_GET_PROC_ONLY_MATCH
    )
    client.attach_process(found)
    assert client.control.wait_for_event(timeout=20) is True
    assert client.system_objects.get_current_process_system_id() == pid


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except FileNotFoundError:
        return ""
    return data[data.rindex(")") + 2]


def test_running_process_description(client, procs, program):
    (pid,) = run_copies(procs, program)
    describe = client.get_running_process_description
    user = pwd.getpwuid(os.getuid()).pw_name
    exe, description = describe(pid)
    assert exe == program
    assert description == f"Session: {os.getsid(pid)}  User: {user}  Command Line: {program} -1"
    exe, description = describe(
        pid, DEBUG_PROC_DESC_NO_PATHS | DEBUG_PROC_DESC_NO_SESSION_ID | DEBUG_PROC_DESC_NO_USER_NAME
    )
    assert (exe, description) == (os.path.basename(program), f"Command Line: {program} -1")
    assert describe(pid, DEBUG_PROC_DESC_NO_COMMAND_LINE)[1].endswith(f"User: {user}")


def test_description_of_a_missing_process(client):
    with pytest.raises(pydbg.NoSuchProcessError, match="no process has id"):
        client.get_running_process_description(unused_pid())
    with pytest.raises(pydbg.EngineError):
        client.get_running_process_description(os.getpid(), 0x400)
