"""Fixtures of the breakpoint tier: the bp_threads and bp_steps targets launched under the
`client` of tests/conftest.py, and a `Debuggee` helper that knows where the launched
target's symbols are.  `counting_client` is such a client over a native tracer whose
resumes and stops are counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import pydbg
from tests.breakpoints.helpers import CountingTracer, Debuggee


@pytest.fixture
def stops() -> dict[str, int]:
    """What the counting tracer of `counting_client` counted, by native call."""
    return {}


@pytest.fixture
def counting_client(procs, stops) -> Iterator[pydbg.DebugClient]:
    with pydbg.create_client(backend_factory=lambda: CountingTracer(stops)) as c:
        yield c


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
