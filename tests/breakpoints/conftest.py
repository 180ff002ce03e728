"""Fixtures of the breakpoint tier: a client whose session always ends, recording callbacks,
the bp_threads and bp_steps targets launched under it, and a `Debuggee` helper that knows
where the launched target's symbols are.

`client` depends on `procs` (tests/conftest.py), so attach targets outlive the session:
the client's `with` block ends it (killing what it launched, detaching what it attached)
before `procs` kills and reaps the helpers.  `counting_client` is the same client over a
native tracer whose resumes and stops are counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import pydbg
from tests.api.recording import OutputRecorder, Recorder
from tests.breakpoints.helpers import CountingTracer, Debuggee


@pytest.fixture
def client(procs) -> Iterator[pydbg.DebugClient]:
    with pydbg.create_client() as c:
        yield c


@pytest.fixture
def stops() -> dict[str, int]:
    """What the counting tracer of `counting_client` counted, by native call."""
    return {}


@pytest.fixture
def counting_client(procs, stops) -> Iterator[pydbg.DebugClient]:
    with pydbg.create_client(backend_factory=lambda: CountingTracer(stops)) as c:
        yield c


@pytest.fixture
def recorder(client) -> Recorder:
    r = Recorder()
    client.set_event_callbacks(r)
    return r


@pytest.fixture
def output(client) -> OutputRecorder:
    o = OutputRecorder()
    client.set_output_callbacks(o)
    return o


@pytest.fixture
def out_file(tmp_path) -> str:
    """Where the target writes its result line."""
    return str(tmp_path / "result.out")


@pytest.fixture
def launch(client, targets, out_file) -> Callable[..., Debuggee]:
    """launch(target, mode, *args, variant="pie") -> Debuggee, stopped at its initial
    breakpoint (the first wait_for_event has returned)."""
    return _launcher(client, targets, out_file)


@pytest.fixture
def launch_counted(counting_client, targets, out_file) -> Callable[..., Debuggee]:
    return _launcher(counting_client, targets, out_file)


def _launcher(client: pydbg.DebugClient, targets: Any, out_file: str) -> Callable[..., Debuggee]:
    def run(target: str, mode: str, *args: object, variant: str = "pie") -> Debuggee:
        binary = targets.get(target, variant)
        argv = [binary.path, out_file, mode, *(str(a) for a in args)]
        pid = client.create_process(argv)
        assert client.control.wait_for_event(timeout=20.0) is True
        return Debuggee(client, binary, pid, out_file)

    return run
