"""EndSession's two flags for shared sessions, on a local engine and a real target:
DEBUG_END_REENTRANT from another thread while the engine thread waits, and
DEBUG_END_DISCONNECT of one of two local clients (spec §6.5)."""

from __future__ import annotations

import threading
from typing import Any

import psutil
import pytest

import pydbg
from pydbg.constants import (
    DEBUG_END_DISCONNECT,
    DEBUG_END_REENTRANT,
    DEBUG_STATUS_GO,
)
from pydbg.engine.images import module_name
from pydbg.errors import EngineError


def test_reentrant_end_from_another_thread_ends_a_running_wait(targets: Any) -> None:
    with pydbg.create_client() as client:
        pid = client.create_process([targets["loop"].path, "-1"])
        assert client.control.wait_for_event()
        client.control.set_execution_status(DEBUG_STATUS_GO)
        ender = threading.Timer(0.2, client.end_session, args=(DEBUG_END_REENTRANT,))
        ender.start()
        # `loop -1` runs for ever: only the reentrant end stops this wait.
        assert client.control.wait_for_event() is False
        ender.join()
        # The wait abandoned the session on its way out: the launched target is gone.
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        with pytest.raises(EngineError, match="DEBUG_END_REENTRANT"):
            client.control.execute("r rip")


def test_disconnecting_one_local_client_leaves_the_other_the_session(targets: Any) -> None:
    loop = targets["loop"]
    with pydbg.create_client() as first:
        second = first.create_client()
        heard: list[str] = []
        second.set_output_callbacks(lambda mask, text: heard.append(text))
        pid = first.create_process([loop.path, "-1"])
        assert first.control.wait_for_event()
        first.control.execute(f"bp {module_name(loop.path)}!tick")
        first.end_session(DEBUG_END_DISCONNECT)
        assert psutil.Process(pid).is_running()
        # The breakpoint (and its banner, engine output) live on; the second client
        # now runs the session.
        second.control.execute("g")
        assert second.control.wait_for_event()
        assert "Breakpoint 0 hit" in "".join(heard)
        assert second.control.evaluate("@rip") == loop.addr(pid, "tick")
        with pytest.raises(EngineError, match="DEBUG_END_DISCONNECT"):
            first.control.execute("g")
        second.end_session(pydbg.constants.DEBUG_END_ACTIVE_TERMINATE)
