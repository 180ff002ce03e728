"""pydbg's own api-tier scenarios re-run with the session's targets served by a real
`gdbserver --multi` through the RSP client (pydbg.connect): the `client` fixture of this
module replaces tests/conftest.py's, so the tests imported below (unchanged, from
tests/api) launch their programs with vRun and drive them over the protocol.

Tests that cannot pass through a GDB-remote server are listed in UNSUPPORTED with the
reason, and reported as skipped under their own names.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

import pydbg
from tests.api.conftest import events, launch, out_file, start, threads_target  # noqa: F401
from tests.api.test_session import *  # noqa: F403
from tests.api.test_stepping import *  # noqa: F403

pytestmark = pytest.mark.skipif(shutil.which("gdbserver") is None, reason="needs gdbserver")

_ONE = "one connection serves one process (a second target needs a second connection)"
UNSUPPORTED: dict[str, str] = {
    "test_target_killed_from_outside_while_broken_in": (
        "an all-stop server reports a death only when the target is resumed"
    ),
    "test_fork_child_is_debugged_with_debug_process": "fork events are not followed yet",
    "test_end_session_active_terminate_kills_every_target": _ONE,
    "test_end_session_active_detach_leaves_every_target_running": _ONE,
    "test_end_session_passive_kills_launched_and_detaches_attached": _ONE,
    "test_session_lasts_until_the_last_target_exits": _ONE,
    "test_thread_creation_and_exit_are_reported": (
        "threads are seen at the next stop (qfThreadInfo): gdbserver 13 drops the "
        "connection with QThreadEvents in all-stop"
    ),
    "test_step_branch_ends_at_the_branch_target": "branch stepping is not offered (no BTF)",
}


def _skipped(name: str, reason: str) -> Callable[[], None]:
    @pytest.mark.skip(reason=f"through gdbserver: {reason}")
    def test() -> None:
        pass

    test.__name__ = name
    return test


for _name, _reason in UNSUPPORTED.items():
    globals()[_name] = _skipped(_name, _reason)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    """A session on a fresh `gdbserver --multi 127.0.0.1:0` (killed and reaped after it,
    with every program it started)."""
    err = tmp_path / "gdbserver.err"
    with open(err, "wb") as ferr:
        server = subprocess.Popen(
            ["gdbserver", "--multi", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=ferr,
        )
    try:
        deadline = time.monotonic() + 30
        found = None
        while found is None and time.monotonic() < deadline and server.poll() is None:
            found = re.search(r"Listening on port (\d+)", err.read_text(errors="replace"))
            time.sleep(0.02)
        assert found, err.read_text(errors="replace")
        with pydbg.connect(f"gdbserver:127.0.0.1:{found.group(1)}") as c:
            yield c
    finally:
        children = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(server.pid).children(recursive=True)
        server.kill()
        server.wait(30)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
                child.wait(30)
