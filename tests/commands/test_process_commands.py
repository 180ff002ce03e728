"""Process-level commands against real processes: `.attach`, `.create`, `.detach`, `.kill`,
`|` and `.childdbg` (pydbg/commands/process_commands.py).

Oracles from outside the debugger: /proc/PID/status (TracerPid, State), psutil, and the
targets' own printout (tests/targets/forker.c writes its pid, its child's pid, and how the
child ended).  The forker target's fork child is reaped by its parent when the test runs it
to the end; a child a failing test leaves behind is killed and reaped by the `dbg` fixture,
after the session ended (it is then an orphan of this process, a subreaper).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

import pydbg
from pydbg.commands.errors import CommandSyntaxError, ExpressionError
from tests.api.helpers import read_lines, wait
from tests.api.recording import OutputRecorder
from tests.support import tracer_pid, unused_pid, wait_until


class Dbg:
    """A client, what it printed, and the pids of fork children to reap at the end."""

    def __init__(self, client: pydbg.DebugClient) -> None:
        self.client = client
        self.output = OutputRecorder()
        client.set_output_callbacks(self.output)
        self.children: list[int] = []

    def run(self, text: str) -> str:
        """Execute a command line; return what it printed."""
        self.output.take()
        self.client.control.execute(text)
        return self.output.take()

    def processes(self) -> list[str]:
        return self.run("|").splitlines()


@pytest.fixture
def dbg(procs: Any) -> Iterator[Dbg]:
    with pydbg.create_client() as client:
        d = Dbg(client)
        yield d
    for pid in d.children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def me() -> int:
    """The tracer's thread id, as TracerPid names it (the engine runs on this thread)."""
    return threading.get_native_id()


def lines_starting(path: str, word: str) -> list[int]:
    return [int(line.split()[1]) for line in read_lines(path) if line.startswith(word + " ")]


def one_line(path: str, word: str) -> int:
    assert wait_until(lambda: lines_starting(path, word)), (word, read_lines(path))
    (value,) = lines_starting(path, word)
    return value


def state(pid: int) -> str:
    with open(f"/proc/{pid}/status") as f:
        return next(line.split()[1] for line in f if line.startswith("State:"))


NOT_DEBUGGED = "Processes created by the current process will not be debugged\n"
DEBUGGED = "Processes created by the current process will be debugged\n"


def listing(engine_id: int, pid: int, origin: str, name: str, mark: str = " ") -> str:
    return f"{mark}{engine_id:3}\tid: {pid:x}\t{origin}\tname: {name}"


# -- .create, and the listing -------------------------------------------------------------------


def test_create_joins_at_the_next_wait_and_splits_like_a_shell(dbg, targets, tmp_path):
    forker = targets["forker"].path
    out = str(tmp_path / "out file; with a space")
    said = dbg.run(f".create {forker} '{out}'")
    assert said == "Create will proceed with next execution\n"
    assert dbg.processes() == []  # it joins at the next wait (spec §6.2)
    assert wait(dbg.client) is True
    (pid,) = dbg.client.system_objects.get_process_ids_by_index()[1]
    assert dbg.processes() == [listing(0, pid, "create", forker, ".")]
    assert tracer_pid(pid) == me()
    # The whole quoted argument, `;` included, reached the program: it writes there.
    dbg.run("g")
    assert wait(dbg.client) is False
    assert lines_starting(out, "parent") == [pid]


@pytest.mark.parametrize(
    "line",
    [".create", ".create   ", ".create /bin/true 'unclosed", ".create -f /bin/true"],
)
def test_create_rejects_a_bad_command_line(dbg, line):
    with pytest.raises(CommandSyntaxError):
        dbg.run(line)
    assert dbg.client.control.get_execution_status() == pydbg.constants.DebugStatus.NO_DEBUGGEE


def test_create_of_a_missing_program_leaves_nothing_behind(dbg, targets, tmp_path):
    dbg.run(f".create {targets['loop'].path} -1")
    assert wait(dbg.client) is True
    (pid,) = dbg.client.system_objects.get_process_ids_by_index()[1]
    children = {c.pid for c in psutil.Process().children()}

    with pytest.raises(pydbg.ProgramNotFoundError, match="/nonexistent/program"):
        dbg.run(".create /nonexistent/program arg")
    with pytest.raises(pydbg.ProgramNotExecutableError):
        dbg.run(f".create {tmp_path}")

    assert {c.pid for c in psutil.Process().children()} == children
    assert dbg.processes() == [listing(0, pid, "create", targets["loop"].path, ".")]
    assert tracer_pid(pid) == me()
    assert re.fullmatch(r"rip=[0-9a-f]{16}\n", dbg.run("r rip"))


# -- .attach --------------------------------------------------------------------------------------


@pytest.fixture
def loopers(procs, targets) -> list[subprocess.Popen[bytes]]:
    """Two `loop -1` processes (they run until killed), not traced."""
    return [procs.start([targets["loop"].path, "-1"]) for _ in range(2)]


def test_attach_and_detach_one_process_at_a_time(dbg, loopers, targets):
    a, b = (p.pid for p in loopers)
    name = targets["loop"].path
    assert dbg.run(f".attach 0n{a}") == "Attach will occur on next execution\n"
    dbg.run(f".attach {b:x}")  # the default radix is 16, as in cdb
    assert wait(dbg.client) is True  # a's initial break
    dbg.run("g")
    assert wait(dbg.client) is True  # b's: it joined in the next wait
    assert dbg.processes() == [listing(0, a, "attach", name), listing(1, b, "attach", name, ".")]
    assert tracer_pid(a) == tracer_pid(b) == me()

    # `|0s` makes a current; b stays the event process (`#`).
    dbg.run("|0s")
    assert dbg.processes() == [
        listing(0, a, "attach", name, "."),
        listing(1, b, "attach", name, "#"),
    ]
    assert dbg.run("|#") == listing(1, b, "attach", name, "#") + "\n"
    assert dbg.run("|.") == listing(0, a, "attach", name, ".") + "\n"
    assert dbg.run("|1") == listing(1, b, "attach", name, "#") + "\n"

    # .detach releases the current process only: a runs on untraced, b stays stopped.
    assert dbg.run(".detach") == f"Detached from process {a}\n"
    assert tracer_pid(a) == 0
    assert wait_until(lambda: state(a) == "R")  # `loop -1` spins: it runs
    assert tracer_pid(b) == me() and state(b) == "t"
    assert dbg.processes() == [listing(1, b, "attach", name, ".")]
    assert re.fullmatch(r"rip=[0-9a-f]{16}\n", dbg.run("r rip"))

    # The last one: the session ends, both run free, and the client takes commands.
    said = dbg.run(".detach")
    assert said.startswith(f"Detached from process {b}\nNo process is left")
    assert tracer_pid(b) == 0 and wait_until(lambda: state(b) == "R")
    status = dbg.client.control.get_execution_status()
    assert status == pydbg.constants.DebugStatus.NO_DEBUGGEE
    assert dbg.processes() == []
    with pytest.raises(pydbg.NoTargetError, match="no process is being debugged"):
        dbg.run(".detach")
    dbg.run(f".attach 0n{a}")
    assert wait(dbg.client) is True
    assert tracer_pid(a) == me()
    assert dbg.processes() == [listing(2, a, "attach", name, ".")]


def test_attach_with_b_has_no_initial_break(dbg, loopers):
    a = loopers[0].pid
    dbg.run(f".attach -b 0n{a}")
    assert wait(dbg.client, timeout=0.2) is False  # it runs on: nothing to break for
    assert tracer_pid(a) == me()
    dbg.client.control.set_interrupt()
    assert wait(dbg.client) is True
    assert [line.split("\t")[1] for line in dbg.processes()] == [f"id: {a:x}"]


def bad_attach(dbg: Dbg, text: str, error: type[BaseException], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        dbg.run(text)
    assert "\n" not in str(info.value)  # one line


def test_bad_attaches_are_clear_and_leave_the_session_intact(dbg, loopers, tmp_path):
    a = loopers[0].pid
    dbg.run(f".attach 0n{a}")
    assert wait(dbg.client) is True
    before = dbg.processes()
    rip = dbg.run("r rip")

    bad_attach(dbg, ".attach 999999999", pydbg.NoSuchProcessError, "no process has id")
    bad_attach(dbg, f".attach 0n{unused_pid()}", pydbg.NoSuchProcessError, "No such process")
    bad_attach(dbg, ".attach 0", pydbg.NoSuchProcessError, "no process has id 0")
    bad_attach(dbg, f".attach 0n{a}", pydbg.EngineError, "already a target")
    bad_attach(dbg, f".attach 0n{os.getpid()}", pydbg.SelfAttachError, "cannot trace itself")
    bad_attach(dbg, ".attach", CommandSyntaxError, "needs a process id")
    bad_attach(dbg, ".attach -k 0n1", CommandSyntaxError, "kernel")
    bad_attach(dbg, ".attach -v 0n1", pydbg.EngineError, "not supported on Linux")
    bad_attach(dbg, ".attach -x 0n1", CommandSyntaxError, "unknown .attach option -x")

    zombie = subprocess.Popen(["/bin/true"])
    try:
        assert wait_until(lambda: state(zombie.pid) == "Z")
        bad_attach(dbg, f".attach 0n{zombie.pid}", pydbg.ZombieProcessError, "zombie")
    finally:
        zombie.wait()

    assert dbg.processes() == before
    assert dbg.run("r rip") == rip
    assert tracer_pid(a) == me()
    dbg.run("g")  # nothing was left pending: the wait only runs a
    assert wait(dbg.client, timeout=0.1) is False
    assert [line.split("\t")[1] for line in dbg.processes()] == [f"id: {a:x}"]


# -- .kill ----------------------------------------------------------------------------------------


def test_kill_ends_the_current_process_only(dbg, targets):
    loop = targets["loop"].path
    dbg.run(f".create {loop} -1")
    assert wait(dbg.client) is True
    dbg.run(f".create {loop} -1")
    assert wait(dbg.client) is True
    first, second = dbg.client.system_objects.get_process_ids_by_index()[1]
    assert dbg.processes()[1].startswith(".  1\t")

    assert dbg.run(".kill") == f"Terminated process {second}\n"
    assert not psutil.pid_exists(second)  # killed and reaped: not even a zombie
    assert tracer_pid(first) == me() and state(first) == "t"
    assert dbg.processes() == [listing(0, first, "create", loop, ".")]

    said = dbg.run(".kill")
    assert said.startswith(f"Terminated process {first}\nNo process is left")
    assert not psutil.pid_exists(first)
    assert dbg.processes() == []
    with pytest.raises(pydbg.NoTargetError, match=r"\.kill: no process is being debugged"):
        dbg.run(".kill")
    # The client is still usable: a new session starts.
    dbg.run(".create /bin/true")
    assert wait(dbg.client) is True
    assert dbg.processes()[0].startswith(".  2\t")


def test_kill_reports_the_exit_to_callbacks(dbg, targets):
    from tests.api.recording import Recorder

    recorder = Recorder()
    dbg.client.set_event_callbacks(recorder)
    dbg.run(f".create {targets['loop'].path} -1")
    assert wait(dbg.client) is True
    recorder.take()
    dbg.run(".kill")
    assert [c for c in recorder.take() if c[0] == "exit_process"] == [("exit_process", 137)]


# -- .childdbg ------------------------------------------------------------------------------


def test_childdbg_0_lets_fork_children_run_free(dbg, targets, tmp_path):
    out = str(tmp_path / "out")
    dbg.run(f".create {targets['forker'].path} {out}")
    assert wait(dbg.client) is True
    parent = dbg.client.system_objects.get_current_process_system_id()
    assert dbg.run(".childdbg") == NOT_DEBUGGED
    assert dbg.run(".childdbg 0") == NOT_DEBUGGED
    dbg.run("bp forked; g")
    assert wait(dbg.client) is True  # the parent stops after the fork; the child lives
    child = one_line(out, "forked")
    dbg.children.append(child)
    assert one_line(out, "child") == child  # it ran: it wrote its line
    assert psutil.Process(child).ppid() == parent
    assert tracer_pid(child) == 0
    assert state(child) == "S"  # in pause(), not in a tracing stop
    assert len(dbg.processes()) == 1
    dbg.run("g")
    assert wait(dbg.client) is False  # the parent killed and reaped it, then exited
    assert lines_starting(out, "reaped") == [signal.SIGKILL]
    assert not psutil.pid_exists(child)


def test_childdbg_1_makes_fork_children_join_the_session(dbg, targets, tmp_path):
    out = str(tmp_path / "out")
    forker = targets["forker"].path
    dbg.run(f".create {forker} {out}")
    assert wait(dbg.client) is True
    parent = dbg.client.system_objects.get_current_process_system_id()
    assert dbg.run(".childdbg 1") == DEBUGGED
    dbg.run("g")
    assert wait(dbg.client) is True  # the child's initial breakpoint
    child = dbg.client.system_objects.get_current_process_system_id()
    dbg.children.append(child)
    assert child != parent and psutil.Process(child).ppid() == parent
    assert tracer_pid(child) == me() and state(child) == "t"
    assert dbg.processes() == [
        listing(0, parent, "create", forker),
        listing(1, child, "child", forker, "."),
    ]
    # A debugged child follows its own children too (DEBUG_PROCESS covers descendants).
    assert dbg.run(".childdbg") == DEBUGGED
    dbg.run("g")
    assert wait(dbg.client) is False
    # (The parent may kill the child before it writes its line: not checked.)
    assert lines_starting(out, "reaped") == [signal.SIGKILL]


def test_childdbg_on_an_attached_process_and_detach_of_the_child(dbg, procs, targets, tmp_path):
    out = str(tmp_path / "out")
    forker = targets["forker"].path
    proc = procs.start([forker, out, "wait"])
    parent = one_line(out, "parent")
    dbg.run(f".attach 0n{parent}")
    assert wait(dbg.client) is True
    assert dbg.run(".childdbg") == NOT_DEBUGGED
    dbg.run(".childdbg 1")
    assert proc.stdin is not None
    proc.stdin.write(b"x")
    proc.stdin.flush()
    dbg.run("g")
    assert wait(dbg.client) is True  # the child's initial breakpoint
    child = dbg.client.system_objects.get_current_process_system_id()
    dbg.children.append(child)
    assert dbg.processes() == [
        listing(0, parent, "attach", forker),
        listing(1, child, "child", forker, "."),
    ]
    # Detach the child: it runs on (writes its line, then pauses); the parent stays.
    dbg.run(".detach")
    assert one_line(out, "child") == child
    assert tracer_pid(child) == 0
    assert tracer_pid(parent) == me()
    assert dbg.processes() == [listing(0, parent, "attach", forker, ".")]
    dbg.run("g")
    assert wait(dbg.client) is False
    assert lines_starting(out, "reaped") == [signal.SIGKILL]


def test_childdbg_errors(dbg, targets):
    with pytest.raises(pydbg.NoTargetError):
        dbg.run(".childdbg")
    dbg.run(f".create {targets['loop'].path} -1")
    assert wait(dbg.client) is True
    with pytest.raises(ExpressionError, match="0 or 1"):
        dbg.run(".childdbg 2")
    assert dbg.run(".childdbg") == NOT_DEBUGGED


# -- | syntax -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["|s", "|*s", "|x", "|1 2"])
def test_bad_process_selectors(dbg, targets, text):
    dbg.run(f".create {targets['loop'].path} -1")
    assert wait(dbg.client) is True
    with pytest.raises(CommandSyntaxError):
        dbg.run(text)


def test_a_missing_process_number_is_an_error(dbg, targets):
    dbg.run(f".create {targets['loop'].path} -1")
    assert wait(dbg.client) is True
    with pytest.raises(ExpressionError, match="no process of the session"):
        dbg.run("|5s")
    with pytest.raises(ExpressionError):
        dbg.run("|3")
    assert dbg.processes()[0].startswith(".  0\t")


def test_kill_of_a_debugged_fork_child_leaves_it_to_its_parent(dbg, targets, tmp_path):
    out = str(tmp_path / "out")
    forker = targets["forker"].path
    dbg.run(f".create {forker} {out}")
    assert wait(dbg.client) is True
    dbg.run(".childdbg 1; g")
    assert wait(dbg.client) is True  # the child's initial breakpoint
    child = dbg.client.system_objects.get_current_process_system_id()
    dbg.children.append(child)
    assert dbg.run(".kill") == f"Terminated process {child}\n"
    parent = dbg.client.system_objects.get_current_process_system_id()
    assert dbg.processes() == [listing(0, parent, "create", forker, ".")]
    dbg.run("g")
    assert wait(dbg.client) is False
    # The parent's waitpid saw the SIGKILL: the tracer did not take its child's status.
    assert lines_starting(out, "reaped") == [signal.SIGKILL]


@pytest.mark.parametrize("name", [".attach", ".create", ".childdbg"])
def test_commands_say_what_they_do(name):
    from pydbg.commands.interpreter import Interpreter

    entry = Interpreter.help[name]
    assert entry.summary and entry.syntax.startswith(name) and entry.example.startswith(name)


def test_tlist_lists_running_processes_by_name(dbg, procs, targets, tmp_path):
    program = str(tmp_path / "tlist-target")
    shutil.copy(targets["loop"].path, program)
    proc = procs.start([program, "-1"])
    assert wait_until(lambda: "tlist-target" in dbg.run(".tlist tlist-t*"))
    assert dbg.run(".tlist tlist-t*") == f" 0n{proc.pid} tlist-target\n"
    said = dbg.run(".tlist -v tlist-target").splitlines()
    assert said[0] == f" 0n{proc.pid} tlist-target"
    assert said[1].strip().endswith(f"Command Line: {program} -1")
    assert dbg.run(".tlist no-such-name-here") == ""

    dbg.run(f".attach 0n{proc.pid}")
    assert wait(dbg.client) is True
    assert dbg.run(".tlist -c") == f" 0n{proc.pid} tlist-target\n"
    with pytest.raises(CommandSyntaxError):
        dbg.run(".tlist -x")
