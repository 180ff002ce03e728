"""Fixtures of the api tier: the `events` target (tests/targets/events.c) launched under
the `client` of tests/conftest.py (a client whose session always ends; `recorder` and
`output` record what it reports)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from tests.api.helpers import WAIT_LIMIT


@pytest.fixture
def events(targets):
    return targets["events"]


@pytest.fixture
def out_file(tmp_path) -> str:
    """Where the events target writes its lines."""
    return str(tmp_path / "events.out")


@pytest.fixture
def launch(client, events, out_file) -> Callable[..., int]:
    """launch(mode, *args, flags=0) -> pid: create_process of the events target."""

    def run(mode: str, *args: object, flags: int = 0) -> int:
        argv = [events.path, mode, out_file, *(str(a) for a in args)]
        return client.create_process(argv, flags=flags)

    return run


@pytest.fixture
def start(client, launch, recorder, output) -> Callable[..., int]:
    """start(mode, *args) -> pid: launch, wait for the initial breakpoint, and clear what
    the recorder and the output callbacks got so far."""

    def run(mode: str, *args: object, flags: int = 0) -> int:
        pid = launch(mode, *args, flags=flags)
        assert client.control.wait_for_event(timeout=WAIT_LIMIT)
        recorder.take()
        output.take()
        return pid

    return run


@pytest.fixture
def threads_target(procs, targets) -> Callable[[int], subprocess.Popen[bytes]]:
    """threads_target(n): the `threads` target with n workers, started (untraced) and
    ready; it exits 0 when its stdin is closed.  Killed and reaped by `procs`."""

    def run(workers: int) -> subprocess.Popen[bytes]:
        return procs.start([targets["threads"].path, str(workers)], ready=b"ready")

    return run
