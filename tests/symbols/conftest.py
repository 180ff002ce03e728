"""Fixtures of the symbols tier: a client whose session always ends, and output capture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import pydbg
from tests.api.recording import OutputRecorder


@pytest.fixture
def client(procs) -> Iterator[pydbg.DebugClient]:
    with pydbg.create_client() as c:
        yield c


@pytest.fixture
def output(client) -> OutputRecorder:
    o = OutputRecorder()
    client.set_output_callbacks(o)
    return o
