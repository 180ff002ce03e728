"""A host-engine server (`python -m pydbg -server ...`) in a subprocess, on the loopback with
an ephemeral port, serving one of the suite's C targets; and remote clients of it, each
closed after the test.  The server's output goes to a file (nobody drains a pipe while a
test runs); the port is read from its `pydbg: serving on ADDR:PORT` line.  At the end the
server gets SIGTERM (its teardown kills the target) and is reaped."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil
import pytest

import pydbg
from pydbg.engine.images import module_name
from pydbg.hostengine import RemoteClient

PASSWORD = "s3cret-Token"
START_TIMEOUT = 30.0


@dataclass
class Host:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: str
    module: str  # the served program's module name, as in `loop_pie!tick`
    clients: list[RemoteClient] = field(default_factory=list)

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def target_pid(self) -> int:
        children = psutil.Process(self.proc.pid).children()
        assert len(children) == 1, children
        return children[0].pid

    def options(self, password: str | None = PASSWORD, extra: str = "") -> str:
        text = f"tcp:server=127.0.0.1,port={self.port}"
        if password is not None:
            text += f",password={password}"
        return text + extra

    def connect(self, extra: str = "") -> RemoteClient:
        client = pydbg.connect(self.options(extra=extra))
        self.clients.append(client)
        return client


def start_host(
    argv: list[str], log_path: str, *server_args: str, module: str | None = None
) -> Host:
    """Start `pydbg -server SERVER_ARGS -- ARGV` (no `--` part if argv is empty: attach)."""
    log = open(log_path, "wb")  # noqa: SIM115 - the server writes it for the whole test
    proc = subprocess.Popen(
        [sys.executable, "-m", "pydbg", "-server", *server_args, *(["--", *argv] if argv else [])],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        with open(log_path, errors="replace") as f:
            found = re.search(r"pydbg: serving on [\d.]+:(\d+)", f.read())
        if found:
            name = module if module is not None else module_name(argv[0])
            return Host(proc, int(found.group(1)), log_path, name)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_host(proc)
    with open(log_path, errors="replace") as f:
        raise RuntimeError(f"the server did not start:\n{f.read()}")


def stop_host(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture
def host_factory(tmp_path: Any) -> Iterator[Any]:
    """start(argv, *server_args, module=None) -> Host; every host and its clients end with
    the test."""
    hosts: list[Host] = []

    def start(argv: list[str], *server_args: str, module: str | None = None) -> Host:
        if not server_args:
            server_args = (f"tcp:port=0,password={PASSWORD}",)
        log = str(tmp_path / f"server{len(hosts)}.log")
        host = start_host(argv, log, *server_args, module=module)
        hosts.append(host)
        return host

    yield start
    for host in hosts:
        for client in host.clients:
            with contextlib.suppress(Exception):
                client.close()
        stop_host(host.proc)


@pytest.fixture
def host(host_factory: Any, targets: Any) -> Host:
    """A server of `loop -1` (tick() called for ever), stopped at its initial breakpoint."""
    return host_factory([targets["loop"].path, "-1"])  # type: ignore[no-any-return]
