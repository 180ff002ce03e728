"""pydbg as a GDB-remote client: `pydbg.connect("gdbserver:127.0.0.1:PORT")` against a
real gdbserver running tests/targets/rsp.c, checked against the program's printout,
nm, gdb driving the same kind of session, and local pydbg on the same program.

Each test starts its own `gdbserver --once 127.0.0.1:0 PROG` (it prints the port it
got), and kills and reaps it, and the program it launched, at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

import pydbg
from pydbg.errors import RemoteError, RemoteUnsupportedError
from tests.support import ROOT

pytestmark = pytest.mark.skipif(shutil.which("gdbserver") is None, reason="needs gdbserver")

WAIT = 30_000  # ms: a generous bound on any single wait, never a timing assertion
START_TIMEOUT = 30.0


@dataclass
class GdbServer:
    proc: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path

    @property
    def address(self) -> str:
        return f"gdbserver:127.0.0.1:{self.port}"

    def program_output(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def program_pid(self) -> int:
        found = re.search(r"pid = (\d+)", self.stderr_path.read_text(errors="replace"))
        assert found, self.stderr_path.read_text(errors="replace")
        return int(found.group(1))


@pytest.fixture
def gdbserver_proc(tmp_path: Path) -> Iterator[Any]:
    """start(prog, *args) -> GdbServer: `gdbserver --once 127.0.0.1:0 prog args`."""
    started: list[GdbServer] = []

    def start(*argv: str) -> GdbServer:
        out = tmp_path / f"gdbserver{len(started)}.out"
        err = tmp_path / f"gdbserver{len(started)}.err"
        with open(out, "wb") as fout, open(err, "wb") as ferr:
            proc = subprocess.Popen(
                ["gdbserver", "--once", "127.0.0.1:0", *argv],
                stdin=subprocess.DEVNULL,
                stdout=fout,
                stderr=ferr,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = re.search(r"Listening on port (\d+)", err.read_text(errors="replace"))
            if found:
                server = GdbServer(proc, int(found.group(1)), out, err)
                started.append(server)
                return server
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        raise AssertionError(f"gdbserver did not start: {err.read_text(errors='replace')}")

    yield start
    for server in started:
        program = None
        with contextlib.suppress(psutil.NoSuchProcess, AssertionError):
            program = psutil.Process(server.program_pid())
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(30)
        if program is not None:
            with contextlib.suppress(psutil.NoSuchProcess):
                program.kill()
                program.wait(30)


@pytest.fixture
def remote(gdbserver_proc: Any, targets: Any) -> Iterator[tuple[Any, GdbServer]]:
    """(client, server): a session connected to gdbserver running rsp-pie, broken in at
    its initial stop."""
    server = gdbserver_proc(targets["rsp"].path)
    client = pydbg.connect(server.address)
    try:
        assert client.control.wait_for_event(timeout=WAIT)
        yield client, server
    finally:
        client.end_session(0)


def _printout(server: GdbServer) -> dict[str, str]:
    """The program's `name value` lines, once it has printed "done"."""
    deadline = time.monotonic() + START_TIMEOUT
    while "done" not in server.program_output() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = server.program_output().splitlines()
    assert "done" in lines, server.program_output()
    out: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(" ")
        out.setdefault(name, value)
    return out


def _go(client: Any, command: str = "g") -> None:
    client.control.execute(command)
    assert client.control.wait_for_event(timeout=WAIT)


def _text(client: Any, command: str) -> str:
    parts: list[str] = []
    old = client.get_output_callbacks()
    client.set_output_callbacks(lambda mask, text: parts.append(text))
    try:
        client.control.execute(command)
    finally:
        client.set_output_callbacks(old)
    return "".join(parts)


def _finish(client: Any, server: GdbServer) -> dict[str, str]:
    client.control.execute("bc *")
    client.control.execute("g")
    client.control.wait_for_event(timeout=WAIT)
    assert client.get_exit_code() == 0
    return _printout(server)


def test_initial_stop_is_the_servers(remote: tuple[Any, GdbServer]) -> None:
    client, server = remote
    # gdbserver stops the program at its exec: the loader's entry, which auxv names.
    pid = server.program_pid()
    assert client.system_objects.get_current_process_system_id() == pid
    with open(f"/proc/{pid}/auxv", "rb") as f:
        auxv = f.read()
    words = [int.from_bytes(auxv[i : i + 8], "little") for i in range(0, len(auxv), 8)]
    at_base = dict(zip(words[::2], words[1::2], strict=False))[7]  # AT_BASE: the loader
    rip = client.registers.get_instruction_offset()
    loader = client.symbols.get_module_by_offset(rip)[1]
    assert loader == at_base
    assert _text(client, "ln @rip").count("_start") >= 1


def test_registers_and_memory_against_the_printout(remote: tuple[Any, GdbServer]) -> None:
    client, server = remote
    label = client.symbols.get_offset_by_name("regs_loaded")
    client.control.execute(f"bp {label:#x}")
    _go(client)
    rip = client.registers.get_instruction_offset()
    rsp = client.registers.get_value("rsp")
    quad = client.symbols.get_offset_by_name("quad")
    memory = client.data_spaces.read_virtual(quad, 32)
    xmm0 = client.registers.get_value("xmm0")
    printed = _finish(client, server)
    assert rip == int(printed["regs_loaded"], 16) == label
    assert rsp == int(printed["saved_rsp"], 16)
    values = [int.from_bytes(memory[i : i + 8], "little") for i in range(0, 32, 8)]
    quads = [
        line.split()[1] for line in server.program_output().splitlines() if line.startswith("quad ")
    ]
    assert values == [int(v, 16) for v in quads]
    assert xmm0.to_bytes(16, "little").hex(" ") == printed["xmm_in"]


def test_breakpoint_by_name_hits_at_the_function(
    remote: tuple[Any, GdbServer], targets: Any
) -> None:
    client, server = remote
    client.control.execute("bp work")
    _go(client)
    pc = client.registers.get_instruction_offset()
    # nm's value of work plus the module's load base.
    nm = subprocess.run(
        ["nm", targets["rsp"].path], capture_output=True, text=True, check=True
    ).stdout
    work = int(next(line.split()[0] for line in nm.splitlines() if line.endswith(" work")), 16)
    base = client.symbols.get_module_by_offset(pc)[1]
    assert pc == base + work
    assert "Hit breakpoint 0" in _text(client, ".lastevent")
    # The breakpoint is the server's: memory reads show the original byte, not int3.
    with open(targets["rsp"].path, "rb") as f:
        elf = f.read()
    # (ld lays a PIE's text out at file offset == virtual address)
    assert client.data_spaces.read_virtual(pc, 4) == elf[work : work + 4]
    printed = _finish(client, server)
    assert printed["counter"] == "8"


def _local_trace(targets: Any, steps: int) -> tuple[list[tuple[str, int]], str]:
    """Module-relative pcs of `steps` t's from work's entry, and `k` there, on local pydbg."""
    with pydbg.create_client() as client:
        client.create_process([targets["rsp"].path], stdout=subprocess.DEVNULL)
        assert client.control.wait_for_event(timeout=WAIT)
        client.control.execute("bp work")
        _go(client)
        stack = _text(client, "k")
        pcs = _trace(client, steps)
        client.terminate_processes()
    return pcs, stack


def _trace(client: Any, steps: int) -> list[tuple[str, int]]:
    names = {m.base: m.module_name for m in client.symbols.modules()}
    out = []
    for _ in range(steps):
        _go(client, "t")
        pc = client.registers.get_instruction_offset()
        base = client.symbols.get_module_by_offset(pc)[1]
        out.append((names[base], pc - base))
    return out


def _call_sites(stack: str) -> list[str]:
    return [
        line.split()[-1] if "[" not in line else line.split()[2] for line in stack.splitlines()[1:]
    ]


def test_stepping_and_stack_match_local_pydbg(remote: tuple[Any, GdbServer], targets: Any) -> None:
    client, server = remote
    client.control.execute("bp work")
    _go(client)
    stack = _text(client, "k")
    remote_pcs = _trace(client, 100)
    local_pcs, local_stack = _local_trace(targets, 100)
    assert remote_pcs == local_pcs
    assert _call_sites(stack) == _call_sites(local_stack)
    assert "outer" in stack and "main" in stack
    _finish(client, server)


def test_exit_code_reaches_the_session(remote: tuple[Any, GdbServer]) -> None:
    client, server = remote
    printed = _finish(client, server)
    assert printed["counter"] == "8"
    server.proc.wait(30)  # --once: the server ends with its program


def test_detach_lets_the_program_finish(remote: tuple[Any, GdbServer]) -> None:
    client, server = remote
    client.control.execute("bp work")
    _go(client)
    client.detach_processes()
    printed = _printout(server)
    assert printed["counter"] == "8"  # the breakpoint was lifted: work ran once, unhindered


def test_kill_ends_the_program(remote: tuple[Any, GdbServer]) -> None:
    client, server = remote
    pid = server.program_pid()
    client.terminate_processes()
    server.proc.wait(30)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert "done" not in server.program_output()


def test_write_watchpoint_through_z2(remote: tuple[Any, GdbServer]) -> None:
    client, server = remote
    client.control.execute("ba w8 counter")
    _go(client)
    assert "work" in _text(client, "ln @rip")
    assert (
        client.data_spaces.read_virtual(client.symbols.get_offset_by_name("counter"), 1) == b"\x08"
    )
    _finish(client, server)


def test_bad_addresses_are_refused() -> None:
    with pytest.raises(ValueError):
        pydbg.connect("gdbserver:nohostport")
    with pytest.raises(RemoteUnsupportedError):
        pydbg.connect("gdbserver:192.0.2.1:1234")
    with pytest.raises(RemoteError):
        # A closed port on the loopback (bound, never listened on).
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            pydbg.connect(f"gdbserver:127.0.0.1:{s.getsockname()[1]}", timeout=5)


def test_pc_at_a_breakpoint_equals_gdbs(gdbserver_proc: Any, targets: Any) -> None:
    """gdb on one gdbserver session and pydbg on another of the same program (gdbserver
    disables ASLR, so both load it at the same address): `break *work` and `bp work` stop
    at the same pc, with the same rsp."""
    program = targets["rsp"].path
    server = gdbserver_proc(program)
    gdb = subprocess.run(
        ["gdb", "-nx", "-batch", "-ex", f"target remote 127.0.0.1:{server.port}",
         "-ex", "break *work", "-ex", "continue", "-ex", "printf \"pc=%#lx sp=%#lx\\n\", $pc, $sp",
         "-ex", "kill", program],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    found = re.search(r"pc=(0x[0-9a-f]+) sp=(0x[0-9a-f]+)", gdb.stdout)
    assert found, gdb.stdout + gdb.stderr
    server.proc.wait(30)
    second = gdbserver_proc(program)
    client = pydbg.connect(second.address)
    try:
        assert client.control.wait_for_event(timeout=WAIT)
        client.control.execute("bp work")
        _go(client)
        assert client.registers.get_instruction_offset() == int(found.group(1), 16)
        assert client.registers.get_value("rsp") == int(found.group(2), 16)
    finally:
        client.end_session(0)


def test_cli_remote_gdb(gdbserver_proc: Any, targets: Any) -> None:
    """`pydbg -remote gdb:HOST:PORT -c ...` runs the commands on the served process; a
    run to the end exits with the program's status."""
    server = gdbserver_proc(targets["rsp"].path)
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = subprocess.run(
        [sys.executable, "-m", "pydbg", "-remote", f"gdb:127.0.0.1:{server.port}",
         "-c", "bp work; g; k"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=120,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Breakpoint 0 hit" in run.stdout
    assert "!outer" in run.stdout and "!main" in run.stdout
    server.proc.wait(30)  # the session killed the program; --once ends the server
    assert "done" not in server.program_output()
    to_end = gdbserver_proc(targets["rsp"].path)
    run = subprocess.run(
        [sys.executable, "-m", "pydbg", "-remote", f"gdb:127.0.0.1:{to_end.port}", "-c", "g"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=120,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert _printout(to_end)["counter"] == "8"


def test_threads_the_server_lists_join_the_session(gdbserver_proc: Any, targets: Any) -> None:
    """Threads created while running are reported (CreateThread, from qfThreadInfo) and
    their stacks walk; the set equals /proc/PID/task."""
    server = gdbserver_proc(targets["rsp"].path, "threads", "3")
    client = pydbg.connect(server.address)
    try:
        assert client.control.wait_for_event(timeout=WAIT)
        client.control.execute("bp all_ready")
        _go(client)
        while "Hit breakpoint" not in _text(client, ".lastevent"):
            _go(client)  # (CreateThread events break in first only if asked to; go on)
        pid = server.program_pid()
        _, tids = client.system_objects.get_thread_ids_by_index()
        assert sorted(tids) == sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        assert len(tids) == 4
        stacks = _text(client, "~*k")
        assert stacks.count("!worker_park") == 3
        printed = _finish(client, server)
        assert printed["counter"] == "8"
    finally:
        client.end_session(0)


def test_hardware_breakpoint_through_z1(remote: tuple[Any, GdbServer]) -> None:
    client, server = remote
    work = client.symbols.get_offset_by_name("work")
    client.control.execute("ba e1 work")
    _go(client)
    assert client.registers.get_instruction_offset() == work
    assert "Hit breakpoint 0" in _text(client, ".lastevent")
    assert _finish(client, server)["counter"] == "8"


def test_break_in_and_memory_write_release_a_spinning_program(
    gdbserver_proc: Any, targets: Any
) -> None:
    """`spin` waits in worker_park until `release` is set: the running program is
    interrupted (0x03), `release` written (M), and it runs to its end."""
    server = gdbserver_proc(targets["rsp"].path, "spin")
    client = pydbg.connect(server.address)
    try:
        assert client.control.wait_for_event(timeout=WAIT)
        client.control.execute("g")
        timer = threading.Timer(0.5, client.control.set_interrupt)
        timer.start()
        try:
            assert client.control.wait_for_event(timeout=WAIT)
        finally:
            timer.join()
        assert "worker_park" in _text(client, "k")
        release = client.symbols.get_offset_by_name("release")
        client.data_spaces.write_virtual(release, (1).to_bytes(4, "little"))
        assert client.data_spaces.read_virtual(release, 4) == (1).to_bytes(4, "little")
        printed = _finish(client, server)
        assert printed["counter"] == "8"
    finally:
        client.end_session(0)


def test_control_trace_until_return_matches_local_pydbg(
    remote: tuple[Any, GdbServer], targets: Any
) -> None:
    """Control.trace (emulated with single steps over the protocol) records the same
    module-relative pcs and register values as the native loop, and stops on return."""
    client, server = remote
    client.control.execute("bp work")
    _go(client)
    remote_result = client.control.trace(1000, until_return=True, register="rsp")
    base = client.symbols.get_module_by_offset(client.registers.get_instruction_offset())[1]
    remote_pcs = [pc - base for pc in remote_result.pcs]
    remote_rsp = list(remote_result.values)
    remote_reason = remote_result.reason
    _finish(client, server)
    with pydbg.create_client() as local:
        local.create_process([targets["rsp"].path], stdout=subprocess.DEVNULL)
        assert local.control.wait_for_event(timeout=WAIT)
        local.control.execute("bp work")
        _go(local)
        result = local.control.trace(1000, until_return=True, register="rsp")
        local_base = local.symbols.get_module_by_offset(local.registers.get_instruction_offset())[1]
        local_pcs = [pc - local_base for pc in result.pcs]
        local_rsp = list(result.values)
        local_reason = result.reason
        local.terminate_processes()
    assert remote_pcs == local_pcs and len(remote_pcs) > 3
    assert remote_reason == local_reason
    # Stacks differ by ASLR; their motion within the function does not.
    assert [v - remote_rsp[0] for v in remote_rsp] == [v - local_rsp[0] for v in local_rsp]


@pytest.mark.skipif(shutil.which("lldb-server") is None, reason="needs lldb-server")
def test_lldb_server_serves_the_session(
    tmp_path: Path, targets: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    """The same client on lldb-server (its own register layout, with offsets, and no
    multiprocess ids): a breakpoint by name, the stack, and the run to the end."""
    import socket

    with socket.socket() as s:  # a free port (lldb-server does not report a port 0)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "lldb-server.out"
    with open(out, "wb") as fout:
        server = subprocess.Popen(
            ["lldb-server", "gdbserver", f"127.0.0.1:{port}", "--", targets["rsp"].path],
            stdin=subprocess.DEVNULL,
            stdout=fout,
            stderr=subprocess.STDOUT,
        )
    try:
        client = None
        deadline = time.monotonic() + START_TIMEOUT
        while client is None:
            try:
                client = pydbg.connect(f"gdbserver:127.0.0.1:{port}", timeout=10)
            except RemoteError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        try:
            assert client.control.wait_for_event(timeout=WAIT)
            client.control.execute("bp work")
            _go(client)
            work = client.symbols.get_offset_by_name("work")
            assert client.registers.get_instruction_offset() == work
            stack = _text(client, "k")
            assert "!outer" in stack and "!main" in stack
            quad = client.data_spaces.read_virtual(client.symbols.get_offset_by_name("quad"), 8)
            assert quad == (0x1111222233334444).to_bytes(8, "little")
            client.control.execute("bc *")
            client.control.execute("g")
            client.control.wait_for_event(timeout=WAIT)
            assert client.get_exit_code() == 0
        finally:
            client.end_session(0)
        # lldb-server forwards the program's output in O packets, which the client prints.
        assert "counter 8" in capfd.readouterr().out
    finally:
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(server.pid).children(recursive=True):
                child.kill()
        server.kill()
        server.wait(30)
