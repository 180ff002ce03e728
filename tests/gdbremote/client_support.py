"""Helpers of the RSP client's api-tier re-runs (tests/gdbremote/test_client_api*.py):
a session on a fresh `gdbserver --multi 127.0.0.1:0`, and a named placeholder for a
re-run test that cannot pass through a GDB-remote server."""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

import pydbg


@contextlib.contextmanager
def multi_server_client(tmp_path: Path) -> Iterator[pydbg.DebugClient]:
    """A client connected to a new `gdbserver --multi` (its programs start with vRun);
    the server, and every program it started, killed and reaped at the end."""
    err = tmp_path / "gdbserver-multi.err"
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
        with pydbg.connect(f"gdbserver:127.0.0.1:{found.group(1)}") as client:
            yield client
    finally:
        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(server.pid).children(recursive=True)
        server.kill()
        server.wait(30)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
                child.wait(30)


def skipped(name: str, reason: str) -> Callable[[], None]:
    """A test named `name` that is reported as skipped for `reason`."""

    @pytest.mark.skip(reason=f"through gdbserver: {reason}")
    def test() -> None:
        pass

    test.__name__ = name
    return test
