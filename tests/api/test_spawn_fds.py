"""create_process and file descriptors: what a launched program inherits, and its stdio.

The `fdlist` target (tests/targets/fdlist.c) prints the fds it was started with (read from
/proc/self/fd), whether 0-2 are terminals, and one line of its stdin.  The debugger opens
inheritable fds of its own; the program must see only 0, 1, 2 and what pass_fds names.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

import psutil
import pytest

from pydbg import _native
from pydbg.constants import DebugStatus
from pydbg.errors import BadFileDescriptorError
from tests.api.helpers import wait
from tests.support import read_all


def _run_to_end(client) -> int | None:
    """Wait for the initial breakpoint, then go until the session ends; the exit code."""
    assert wait(client)
    for _ in range(100):
        client.control.set_execution_status(DebugStatus.GO)
        if not wait(client):
            assert client.control.get_execution_status() == DebugStatus.NO_DEBUGGEE
            return client.get_exit_code()
    raise AssertionError("the target did not end")


def _report(text: bytes) -> tuple[set[int], dict[str, str]]:
    """(the fds the target listed, its other key=value lines)."""
    fds: set[int] = set()
    rest: dict[str, str] = {}
    for line in text.decode().splitlines():
        key, _, value = line.partition("=")
        if key == "fd":
            fds.add(int(value))
        else:
            rest[key] = value
    return fds, rest


@contextlib.contextmanager
def _inheritable_fd() -> Iterator[int]:
    """An fd of the debugger (above 2) marked inheritable, as a shell's fd would be."""
    fd = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(fd, True)
    try:
        yield fd
    finally:
        os.close(fd)


def _launch(client, fdlist, **kw) -> tuple[set[int], dict[str, str]]:
    """Run fdlist with stdout on a pipe (unless given) and stdin from /dev/null (unless
    given); its report."""
    out_r, out_w = os.pipe()
    try:
        with open(os.devnull, "rb") as null:
            kw.setdefault("stdin", null)
            kw.setdefault("stdout", out_w)
            client.create_process([fdlist.path], **kw)
    finally:
        os.close(out_w)
    assert _run_to_end(client) == 0
    return _report(read_all(out_r))


@pytest.fixture
def fdlist(targets):
    return targets["fdlist"]


@pytest.fixture(params=[0, 1, 2], ids=["close_range", "proc", "rlimit"])
def fd_method(request) -> Iterator[int]:
    """Each way the child can close its fds (the fallbacks forced on this kernel)."""
    _native._set_spawn_fd_method(request.param)
    try:
        yield request.param
    finally:
        _native._set_spawn_fd_method(0)


def test_an_inheritable_fd_of_the_debugger_is_not_inherited(client, fdlist, fd_method):
    with _inheritable_fd() as leaked:
        fds, _ = _launch(client, fdlist)
    assert leaked not in fds
    assert fds == {0, 1, 2}


def test_pass_fds_keeps_an_fd_at_its_number(client, fdlist, fd_method):
    with _inheritable_fd() as leaked, _inheritable_fd() as passed:
        os.set_inheritable(passed, False)  # close-on-exec: pass_fds must clear it
        fds, _ = _launch(client, fdlist, pass_fds=[passed])
    assert fds == {0, 1, 2, passed}
    assert leaked not in fds


def test_stdout_to_a_file_and_stdin_from_a_pipe(client, fdlist, tmp_path):
    in_r, in_w = os.pipe()
    os.write(in_w, b"hello from the debugger\n")
    os.close(in_w)
    path = tmp_path / "out.txt"
    try:
        with open(path, "wb") as out:
            client.create_process([fdlist.path], stdin=in_r, stdout=out)
    finally:
        os.close(in_r)
    assert _run_to_end(client) == 0
    fds, rest = _report(path.read_bytes())
    assert fds == {0, 1, 2}  # the pipe's read end went onto 0 and was not kept as well
    assert rest["stdin"] == "hello from the debugger"
    assert rest["tty1"] == "0"


def test_stderr_onto_stdout_and_swapped_stdio(client, fdlist):
    # stdout=2, stderr=1: each source is one of the targets of the other.
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        with open(os.devnull, "rb") as null:
            client.create_process([fdlist.path], stdin=null, stdout=err_w, stderr=out_w)
    finally:
        os.close(out_w)
        os.close(err_w)
    assert _run_to_end(client) == 0
    assert b"stdin=EOF" in read_all(err_r)  # what it printed on 1 reached our "err" pipe
    assert read_all(out_r) == b""


def test_subprocess_devnull_and_stdout(client, targets):
    # spawninfo prints on stdout, then "stderr-line" on stderr: both reach the pipe.
    out_r, out_w = os.pipe()
    try:
        client.create_process(
            [targets["spawninfo"].path],
            stdin=subprocess.DEVNULL,
            stdout=out_w,
            stderr=subprocess.STDOUT,
        )
    finally:
        os.close(out_w)
    assert _run_to_end(client) == 0
    lines = read_all(out_r).decode().splitlines()
    assert lines[0].startswith("argv=") and lines[-1] == "stderr-line"


def test_a_pty_as_stdio(client, fdlist):
    master, slave = os.openpty()
    try:
        os.write(master, b"typed\n")
        client.create_process([fdlist.path], stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        slave = -1
        assert _run_to_end(client) == 0
        text = b""
        with contextlib.suppress(OSError):  # EIO once the slave side is closed
            while chunk := os.read(master, 4096):
                text += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    fds, rest = _report(text.replace(b"\r\n", b"\n"))
    assert fds == {0, 1, 2}
    assert rest["tty0"] == rest["tty1"] == rest["tty2"] == "1"
    assert rest["stdin"] == "typed"


def _children() -> set[int]:
    return {c.pid for c in psutil.Process().children()}


@pytest.mark.parametrize(
    "kw",
    [
        {"stdout": "closed"},
        {"stdin": "closed"},
        {"stderr": -1},
        {"pass_fds": ["closed"]},
        {"stdout": "closed-file"},
    ],
    ids=["closed stdout", "closed stdin", "negative stderr", "closed pass_fd", "closed file"],
)
def test_a_bad_fd_is_refused_before_anything_is_spawned(client, fdlist, kw, tmp_path):
    r, w = os.pipe()
    os.close(r)
    os.close(w)  # both numbers are now closed (and not reused before the call)
    closed_file = open(tmp_path / "f", "wb")  # noqa: SIM115 - closed on purpose
    closed_file.close()
    values = {"closed": w, "closed-file": closed_file}
    kw = {
        key: ([values[v] for v in value] if isinstance(value, list) else values.get(value, value))
        for key, value in kw.items()
    }
    before = _children()
    with pytest.raises(BadFileDescriptorError, match="stdin|stdout|stderr|pass_fds"):
        client.create_process([fdlist.path], **kw)
    assert _children() == before
    assert not client._engine.targets.processes


@pytest.mark.parametrize(
    "kw",
    [{"stdin": "pty"}, {"stdout": 1.5}, {"stderr": True}, {"pass_fds": 3}, {"pass_fds": ["3"]}],
)
def test_what_is_not_an_fd_is_a_type_error(client, fdlist, kw):
    before = _children()
    with pytest.raises(TypeError):
        client.create_process([fdlist.path], **kw)
    assert _children() == before


def test_the_tracer_closes_what_the_child_does_not_need(tracer, driver, targets):
    # The native layer directly: the spawn pipes never reach the program either.
    binary = targets["fdlist"]
    out_r, out_w = os.pipe()
    try:
        with open(os.devnull, "rb") as null:
            pid = tracer.spawn([binary.path], stdin=null, stdout=out_w)
    finally:
        os.close(out_w)
    assert sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd")) == [0, 1, 2]
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    fds, _ = _report(read_all(out_r))
    assert fds == {0, 1, 2}
