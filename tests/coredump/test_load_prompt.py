"""`pydbg -z CORE PROG` at the prompt (a pty): it opens broken in at the recorded crash,
shows the state, runs commands, refuses `g` with one line and stays at the prompt, and
quits with status 0."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.test_repl import Repl
from tests.coredump.loading import k_names, kernel_core


@pytest.fixture
def prompt(tmp_path: Any) -> Iterator[Any]:
    started: list[Repl] = []

    def start(*args: str) -> Repl:
        session = Repl(list(args), str(tmp_path / "state"))
        started.append(session)
        return session

    yield start
    for session in started:
        session.close()


def test_the_prompt_on_a_core(prompt, targets, tmp_path):
    binary = targets["crash"]
    directory = tmp_path / "cwd"
    directory.mkdir()
    core = kernel_core(binary, directory, "thread")
    session = prompt("-z", core, binary.path)
    opening = session.prompt()
    assert "Access violation - code c0000005 (!!! second chance !!!)" in opening
    assert "!thread_inner+0x9" in opening and "rip=" in opening  # the state, as cdb shows it
    assert k_names(session.run("k"))[:3] == ["thread_inner", "thread_outer", "crashing_thread"]
    refused = session.run("g")
    assert "pydbg: go: the target is a core file (read-only); it cannot run or change" in refused
    assert k_names(session.run("k 1")) == ["thread_inner"]
    assert session.quit() == 0
