"""Fixtures for the GDB-remote server tests: `pydbg gdbserver 127.0.0.1:0` started as a
subprocess (it prints the port it got, as gdbserver does), and gdb in batch mode, both
against the program and locally as the oracle.

Every server is killed and reaped at the end of its test, and with it the program it
launched (the server's session kills a launched program when it dies: EXITKILL).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.support import ROOT

SERVER_START_TIMEOUT = 30.0
GDB_TIMEOUT = 120.0
# Addresses differ between runs (ASLR): compare gdb's output with them masked.
ADDRESS = re.compile(r"0x[0-9a-f]+")


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout)


def _start(args: Sequence[str], tmp_path: Path, tag: str) -> Server:
    out = tmp_path / f"server{tag}.out"
    err = tmp_path / f"server{tag}.err"
    env = dict(os.environ, PYTHONPATH=ROOT)
    with open(out, "wb") as fout, open(err, "wb") as ferr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pydbg", "gdbserver", *args],
            stdin=subprocess.DEVNULL,
            stdout=fout,
            stderr=ferr,
            env=env,
        )
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        found = re.search(r"Listening on port (\d+)", err.read_text(errors="replace"))
        if found:
            return Server(proc, int(found.group(1)), out, err)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise AssertionError(f"the server did not start:\n{err.read_text(errors='replace')}")


@pytest.fixture
def gdbserver(tmp_path: Path) -> Iterator[object]:
    """start(args...) -> Server: `pydbg gdbserver 127.0.0.1:0 <args>`."""
    servers: list[Server] = []

    def start(*args: str, multi: bool = False) -> Server:
        words = (["--multi"] if multi else []) + ["127.0.0.1:0", *args]
        server = _start(words, tmp_path, str(len(servers)))
        servers.append(server)
        return server

    yield start
    for server in servers:
        try:
            server.proc.wait(10)  # (it ends by itself once its connection is closed)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
        _reap_program(server)


def _reap_program(server: Server) -> None:
    """The program a server launched dies with it (EXITKILL), or runs on after a detach;
    either way it is then reparented to the test session (a subreaper), which reaps it."""
    found = re.search(r"pid = (\d+)", server.stderr())
    if not found:
        return
    pid = int(found.group(1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            # Not (yet) ours: still the server's child, or already reaped.
            if not psutil.pid_exists(pid):
                return
            done = 0
        if done:
            return
        time.sleep(0.02)


def run_gdb(
    commands: Sequence[str], program: str | None = None, *, args: Sequence[str] = ()
) -> str:
    """gdb -batch with these commands (and the program's symbols when given); its
    stdout and stderr together."""
    cmd = ["gdb", "-nx", "-batch", "-ex", "set pagination off", "-ex", "set width 0"]
    for command in commands:
        cmd += ["-ex", command]
    if program is not None:
        cmd += ["--args", program, *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=GDB_TIMEOUT)
    return result.stdout + result.stderr


def remote(server: Server, extended: bool = False) -> list[str]:
    """Commands that connect gdb to the server, with libraries read from the local
    file system (the server's vFile is tested on its own)."""
    kind = "extended-remote" if extended else "remote"
    return ["set sysroot /", f"target {kind} 127.0.0.1:{server.port}"]
