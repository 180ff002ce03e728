"""The RSP client with files="remote" (pydbg.gdbremote.remote_files), tested on the
loopback by forcing it: the program gdbserver runs is a temporary copy deleted before
pydbg connects, so only the server can give its bytes.  Modules, `k`, `lm` and `bp NAME`
must work from the fetched files; the cache holds them by build id, and a second session
on the same program fetches nothing."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pydbg

pytestmark = pytest.mark.skipif(shutil.which("gdbserver") is None, reason="needs gdbserver")

WAIT = 30_000  # ms: a bound on one wait, never a timing assertion


@contextlib.contextmanager
def _deleted_program_server(program: str, tmp: Path) -> Iterator[int]:
    """gdbserver on a copy of `program` that is deleted once the server started it;
    yields the port.  The server and its program are killed and reaped at the end."""
    tmp.mkdir()
    copy = tmp / "remote_prog"
    shutil.copy(program, copy)
    err = tmp / "gdbserver.err"
    with open(err, "wb") as ferr:
        server = subprocess.Popen(
            ["gdbserver", "--once", "127.0.0.1:0", str(copy)],
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
        copy.unlink()
        yield int(found.group(1))
    finally:
        pid = re.search(r"pid = (\d+)", err.read_text(errors="replace"))
        server.kill()
        server.wait(30)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid.group(1)), signal.SIGKILL)


def _text(client: Any, command: str) -> str:
    parts: list[str] = []
    old = client.get_output_callbacks()
    client.set_output_callbacks(lambda mask, text: parts.append(text))
    try:
        client.control.execute(command)
    finally:
        client.set_output_callbacks(old)
    return "".join(parts)


def _session(port: int) -> tuple[str, str]:
    """`k` at work's breakpoint and `lm`, through a files="remote" session."""
    with pydbg.connect(f"gdbserver:127.0.0.1:{port}", files="remote") as client:
        assert client.control.wait_for_event(timeout=WAIT)
        client.control.execute("bp work")
        client.control.execute("g")
        assert client.control.wait_for_event(timeout=WAIT)
        stack = _text(client, "k")
        modules = _text(client, "lm")
        client.terminate_processes()
    return stack, modules


def test_remote_files_modules_stack_and_cache(
    targets: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    program = targets["rsp"].path
    build_id = re.search(
        r"Build ID: ([0-9a-f]+)",
        subprocess.run(["readelf", "-n", program], capture_output=True, text=True).stdout,
    )
    assert build_id
    caplog.set_level(logging.INFO, logger="pydbg.gdbremote")
    with _deleted_program_server(program, tmp_path / "one") as port:
        stack, modules = _session(port)
    names = re.findall(r"!(\w+)", stack)
    assert names[:3] == ["work", "outer", "main"], stack
    assert "remote_prog" in modules and "libc" in modules, modules
    cached = tmp_path / "cache" / "pydbg" / "remote" / build_id.group(1) / "remote_prog"
    assert cached.read_bytes() == Path(program).read_bytes()
    fetched = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fetched")]
    assert any("remote_prog" in line for line in fetched), fetched

    caplog.clear()
    with _deleted_program_server(program, tmp_path / "two") as port:
        stack_again, _ = _session(port)
    assert re.findall(r"!(\w+)", stack_again)[:3] == ["work", "outer", "main"]
    fetched = [r.getMessage() for r in caplog.records if r.getMessage().startswith("fetched")]
    assert fetched == []


def test_remote_files_bad_value() -> None:
    with pytest.raises(ValueError, match="files="):
        pydbg.connect("gdbserver:127.0.0.1:1", files="elsewhere")


@pytest.mark.parametrize(
    ("reply", "words"),
    [(b"", "does not offer vFile"), (b"F-1,d", "EACCES"), (b"F-1,2", "ENOENT")],
)
def test_remote_files_server_refusal_is_one_remote_error(
    reply: bytes, words: str, tmp_path: Path
) -> None:
    from pydbg.errors import RemoteError
    from pydbg.gdbremote.file_cache import FileCache
    from pydbg.gdbremote.remote_files import RemoteFiles

    sent: list[bytes] = []

    def request(payload: bytes) -> bytes:
        sent.append(payload)
        return b"F0" if payload.startswith(b"vFile:setfs") else reply

    files = RemoteFiles(request, 0x1000, FileCache(tmp_path))
    with pytest.raises(RemoteError, match=f"cannot read /bin/prog from the server: .*{words}"):
        files.read_file(42, "/bin/prog")
    assert sent[0] == b"vFile:setfs:2a"
    assert not list(tmp_path.iterdir())
