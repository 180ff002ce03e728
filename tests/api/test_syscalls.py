"""Syscall events end to end (pydbg extension): `sxe sys:openat` breaks at the entry with
the path readable in memory and at the exit with the program's own fd; a `syscall` callback
counts exactly the calls the program makes (its own printout and its arguments are the
oracle), in one thread or several; breakpoints and steps keep working while syscalls are
traced; a signal sent during a blocked nanosleep still reaches its handler; turning the
filters off resumes with plain PTRACE_CONT again.  Real targets: tests/targets/syscalls.c.
"""

from __future__ import annotations

import collections
import os
import signal
from typing import Any

import pytest

import pydbg
from pydbg._native import REQ_CONT, REQ_SYSCALL
from pydbg.constants import (
    DEBUG_EVENT_SYSCALL,
    DEBUG_STATUS_GO,
    BreakpointFlags,
    BreakpointType,
)
from pydbg.control import LastEventSyscall
from pydbg.errors import MemoryAccessError
from tests.api.helpers import later, read_lines, wait

OPENAT, GETPID, CLOCK_NANOSLEEP = 257, 39, 230
ERESTART = (-4, -512, -513, -514, -516)  # EINTR and the kernel's restart codes


class Counter(pydbg.EventCallbacks):
    """Counts every syscall entry and exit, by name and thread; votes GO."""

    def __init__(self) -> None:
        self.entries: collections.Counter[str] = collections.Counter()
        self.exits: collections.Counter[str] = collections.Counter()
        self.threads: collections.Counter[int] = collections.Counter()
        self.results: dict[str, list[int | None]] = collections.defaultdict(list)

    def get_interest_mask(self) -> int:
        return DEBUG_EVENT_SYSCALL

    def syscall(
        self,
        thread: int,
        number: int,
        name: str,
        args: tuple[int, ...],
        is_exit: bool,
        result: int | None,
    ) -> int:
        if is_exit:
            self.exits[name] += 1
            self.results[name].append(result)
        else:
            self.entries[name] += 1
            self.threads[thread] += 1
        return DEBUG_STATUS_GO


def launched(client: Any, targets: Any, *args: object) -> int:
    """The syscalls target under the client, at its initial break."""
    pid = client.create_process([targets["syscalls"].path, *(str(a) for a in args)])
    assert wait(client)
    return pid


def run_to_end(client: Any) -> None:
    control = client.control
    control.set_execution_status(DEBUG_STATUS_GO)
    while wait(client):
        control.set_execution_status(DEBUG_STATUS_GO)


def c_string(memory: Any, address: int) -> str:
    """The NUL-terminated string at address (up to what is readable)."""
    try:
        data = memory.read_virtual(address, 4096)
    except MemoryAccessError as exc:
        data = exc.data
    return data.split(b"\0")[0].decode()


def requests(client: Any, pid: int) -> set[int]:
    """The resume request the native core last used for each thread of pid."""
    backend = client._engine.backend  # (observing the core: no facet says how it resumes)
    return {backend.last_request(tid) for tid in backend.threads(pid)}


def test_sxe_openat_breaks_at_entry_with_the_path_and_at_exit_with_the_fd(
    client, targets, tmp_path, output
) -> None:
    out, path = str(tmp_path / "out"), str(tmp_path / "opened")
    with open(path, "w") as f:
        f.write("x")
    launched(client, targets, "open", out, path)
    control, memory = client.control, client.data_spaces
    control.execute("sxe sys:openat")
    seen: list[str] = []
    while True:  # the loader and fopen open files first
        control.set_execution_status(DEBUG_STATUS_GO)
        assert wait(client)
        info = control.get_last_event_information()
        assert isinstance(info.extra, LastEventSyscall) and info.extra.number == OPENAT
        assert not info.extra.is_exit
        name = c_string(memory, info.extra.args[1])
        seen.append(name)
        if name == path:
            break
        control.set_execution_status(DEBUG_STATUS_GO)
        assert wait(client)  # its exit
    assert seen[-1] == path and out in seen  # fopen(OUT) came first, as the program says
    tid = client.system_objects.get_current_thread_system_id()
    output.take()
    control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    info = control.get_last_event_information()
    assert isinstance(info.extra, LastEventSyscall) and info.extra.is_exit
    fd = info.extra.result
    line = output.text().rstrip()
    assert f'Syscall openat(0xffffff9c, {info.extra.args[1]:#x} "{path}", 0x0' in line
    assert line.endswith(f"= {fd}")
    assert f".{tid:x}): Syscall openat" in output.text()
    output.take()
    control.execute(".lastevent")
    pid = client.system_objects.get_current_process_system_id()
    assert output.take().startswith(f"Last event: {pid:x}.{tid:x}: Syscall openat(")
    control.execute("sx")
    listing = output.take()
    assert " sys - System call - ignore" in listing
    assert "sys:openat - System call openat - break" in listing
    control.execute("sxi sys:openat")
    run_to_end(client)
    assert read_lines(out) == [f"fd {fd}"]


@pytest.mark.parametrize("calls", [1, 250])
def test_a_callback_counts_exactly_the_calls_the_program_makes(client, targets, tmp_path, calls):
    out = str(tmp_path / "out")
    counter = Counter()
    client.set_event_callbacks(counter)
    pid = launched(client, targets, "getpid", out, calls)
    run_to_end(client)
    assert read_lines(out) == [f"pid {pid}"]
    assert counter.entries["getpid"] == calls
    assert counter.exits["getpid"] == calls
    assert set(counter.results["getpid"]) == {pid}  # each exit's result is the pid
    assert counter.entries["exit_group"] == 1 and counter.exits["exit_group"] == 0


def test_every_thread_is_traced(client, targets, tmp_path):
    out = str(tmp_path / "out")
    counter = Counter()
    client.set_event_callbacks(counter)
    launched(client, targets, "threads", out, 40, 4)
    run_to_end(client)
    assert read_lines(out) == ["calls 160"]
    assert counter.entries["getpid"] == 160 and counter.exits["getpid"] == 160
    # Four clones succeeded (returned a tid); one may have been restarted (ERESTARTNOINTR
    # when a stop-all's interrupt met it), which is one more entry and exit.
    created = [r for r in counter.results["clone3"] + counter.results["clone"] if r and r > 0]
    assert len(created) == 4
    assert len(counter.threads) == 5  # main and four workers made calls


def test_breakpoints_and_steps_work_while_syscalls_are_traced(client, targets, tmp_path):
    out = str(tmp_path / "out")
    counter = Counter()
    client.set_event_callbacks(counter)
    pid = launched(client, targets, "getpid", out, 30)
    control = client.control
    bp = control.add_breakpoint(BreakpointType.CODE)
    bp.set_offset(client.symbols.get_offset_by_name("main"))
    bp.add_flags(BreakpointFlags.ENABLED)
    control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    assert client.registers.get_value("rip") == bp.get_offset()
    assert requests(client, pid) == {REQ_SYSCALL}  # they ran under PTRACE_SYSCALL
    control.execute("p")
    assert wait(client)
    control.execute("t")
    assert wait(client)
    assert client.registers.get_value("rip") != bp.get_offset()  # two steps were taken
    run_to_end(client)
    assert read_lines(out) == [f"pid {pid}"]
    assert counter.entries["getpid"] == 30 and counter.exits["getpid"] == 30


def test_a_signal_during_a_blocked_nanosleep_reaches_its_handler(client, targets, tmp_path):
    out = str(tmp_path / "out")
    pid = launched(client, targets, "sleep", out)
    control = client.control
    control.execute("sxe sys:clock_nanosleep")
    control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    info = control.get_last_event_information()
    assert isinstance(info.extra, LastEventSyscall) and info.extra.number == CLOCK_NANOSLEEP
    assert not info.extra.is_exit
    control.set_execution_status(DEBUG_STATUS_GO)
    with later(0.3, os.kill, pid, signal.SIGUSR1):  # while it sleeps (or about to)
        assert wait(client)
    info = control.get_last_event_information()
    assert isinstance(info.extra, LastEventSyscall) and info.extra.is_exit
    assert info.extra.result in ERESTART
    control.execute("sxi sys:clock_nanosleep")
    run_to_end(client)
    assert read_lines(out) == ["handled 1 ret -1 errno 4"]  # EINTR, the handler ran once


def test_turning_the_filters_off_returns_to_plain_cont(client, targets, tmp_path):
    out = str(tmp_path / "out")
    pid = launched(client, targets, "getpid", out, 5)
    control = client.control
    control.execute("sxn sys")  # print every call: traced, but nothing breaks
    control.execute("sxe sys:getpid")
    control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    assert requests(client, pid) == {REQ_SYSCALL}
    control.execute("sxi sys; sxi sys:getpid")
    control.execute("bp fclose")  # a stop after the calls, under plain cont
    control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    assert requests(client, pid) == {REQ_CONT}
    run_to_end(client)
    assert read_lines(out) == [f"pid {pid}"]


def test_counting_alone_counts_every_call_of_every_thread(client, targets, tmp_path):
    out = str(tmp_path / "out")
    launched(client, targets, "threads", out, 25, 3)
    client.control.set_syscall_counting(True)
    run_to_end(client)
    assert read_lines(out) == ["calls 75"]
    counts = client.control.get_syscall_counts()
    assert counts["getpid"] == 75
    assert counts.get("clone3", 0) + counts.get("clone", 0) >= 3  # (restarts count again)
    assert counts["exit_group"] == 1


def test_sxe_on_one_call_passes_the_others_natively_and_counts_both(client, targets, tmp_path):
    out = str(tmp_path / "out")
    pid = launched(client, targets, "getpid", out, 100)
    control = client.control
    control.set_syscall_counting(True)
    control.execute("sxe sys:write")  # the fprintf at the end: one break per write stop
    stops = 0
    control.set_execution_status(DEBUG_STATUS_GO)
    while wait(client):
        info = control.get_last_event_information()
        assert isinstance(info.extra, LastEventSyscall) and info.extra.name == "write"
        stops += 1
        control.set_execution_status(DEBUG_STATUS_GO)
    assert read_lines(out) == [f"pid {pid}"]
    counts = control.get_syscall_counts()
    assert counts["getpid"] == 100  # passed on by the core, counted there
    assert stops == 2 * counts["write"] >= 2  # reported (entry and exit), counted here


def test_the_execve_exit_stop_after_the_exec_is_its_exit(client, targets, tmp_path):
    # Hazards: the execve exit stop comes after the EXEC event, in the new image.
    out, program = str(tmp_path / "out"), targets["exit7"].path
    pid = launched(client, targets, "exec", out, program)
    control = client.control
    control.execute("sxe sys:execve")
    control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    info = control.get_last_event_information()
    assert isinstance(info.extra, LastEventSyscall) and info.extra.number == 59
    if info.extra.is_exit:
        # The initial break sat in the launch's own execve (its exec stop): its exit stop
        # comes first, with the new image's registers (its entry was never seen).
        assert info.extra.result == 0
        control.set_execution_status(DEBUG_STATUS_GO)
        assert wait(client)
        info = control.get_last_event_information()
    assert isinstance(info.extra, LastEventSyscall) and not info.extra.is_exit
    assert c_string(client.data_spaces, info.extra.args[0]) == program
    control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    info = control.get_last_event_information()
    assert info.extra == LastEventSyscall(59, "execve", info.extra.args, True, 0)
    assert os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(program)
    control.execute("sxi sys:execve")
    run_to_end(client)
    assert client.get_exit_code() == 7


def test_a_breakpoint_callback_that_turns_counting_on_is_obeyed(client, targets, tmp_path):
    # The breakpoint loop (waiting._fast_go) resumes with PTRACE_CONT: it must hand over.
    out = str(tmp_path / "out")

    class TurnOn(pydbg.EventCallbacks):
        def breakpoint(self, bp: object) -> int:
            client.control.set_syscall_counting(True)
            return DEBUG_STATUS_GO

    client.set_event_callbacks(TurnOn())
    pid = launched(client, targets, "getpid", out, 40)
    client.control.execute("bp main")
    run_to_end(client)
    assert read_lines(out) == [f"pid {pid}"]
    assert client.control.get_syscall_counts()["getpid"] == 40
