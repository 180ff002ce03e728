"""Tracer.spawn: launching a traced program (argv, env, cwd, stdio, ASLR, PATH, errors).

spawn forks and execs in C and returns with the child in its exec stop, before its first
instruction; these tests check where that stop is, that the child sees exactly what it was
given, and that failures are reported as the documented exceptions with nothing left behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sys

import psutil
import pytest

from pydbg._native import EventKind, ThreadState, Tracer
from pydbg.errors import (
    ExecError,
    ProgramNotExecutableError,
    ProgramNotFoundError,
    TracerClosedError,
)
from tests.support import (
    ADDR_NO_RANDOMIZE,
    AT_BASE,
    AT_ENTRY,
    ROOT,
    Binary,
    auxv,
    load_bias,
    maps,
    personality,
    read_all,
    task_state,
    tracer_pid,
    wait_until,
)


def _interpreter(pid: int) -> str:
    """Path of the dynamic loader mapped into pid (the mapping that contains AT_BASE)."""
    base = auxv(pid)[AT_BASE]
    for start, _, _, _, path in maps(pid):
        if start == base:
            return path
    raise AssertionError(f"no mapping at AT_BASE {base:#x}")


def _run_capturing(tracer, driver, argv, **kw) -> tuple[int, bytes, bytes]:
    """Spawn with stdout/stderr on pipes, run to exit, return (exit code, out, err)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = tracer.spawn(argv, stdout=out_w, stderr=err_w, **kw)
    finally:
        os.close(out_w)
        os.close(err_w)
    tracer.cont(pid)
    end = driver.until_exit(pid)
    return end.exit_code, read_all(out_r), read_all(err_r)


def test_spawn_stops_at_exec_before_first_instruction(tracer, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "10"])
    assert tracer.processes() == [pid]
    assert tracer.threads(pid) == [pid]
    assert tracer.pid_of(pid) == pid
    assert tracer.thread_state(pid) == ThreadState.STOPPED
    assert task_state(pid) == "t"
    assert tracer_pid(pid) == tracer.owner_tid
    assert os.path.realpath(f"/proc/{pid}/exe") == binary.path
    # A dynamic executable starts in the loader: pc = AT_BASE + the loader's e_entry.
    interp = Binary("ld.so", "system", _interpreter(pid))
    assert tracer.get_pc(pid) == auxv(pid)[AT_BASE] + interp.entry
    # The executable is already mapped, so symbols resolve at the exec stop.
    assert auxv(pid)[AT_ENTRY] == binary.addr(pid, "_start")
    # The exec stop belongs to spawn itself: nothing is reported for it afterwards.
    assert not tracer.has_pending()
    assert tracer.wait(timeout=0) == []


def test_spawn_static_starts_at_elf_entry(tracer, targets):
    binary = targets.get("loop", "static")
    if binary is None:
        pytest.skip("gcc -static does not work here")
    pid = tracer.spawn([binary.path, "3"])
    assert tracer.get_pc(pid) == binary.entry == auxv(pid)[AT_ENTRY]


@pytest.mark.parametrize("variant", ["pie", "nopie", "pie-O2", "static"])
def test_spawn_runs_to_exit_with_exactly_exit_events(tracer, driver, targets, variant):
    binary = targets.get("loop", variant)
    if binary is None:
        pytest.skip("gcc -static does not work here")
    pid = tracer.spawn([binary.path, "100"])
    tracer.cont(pid)
    end = driver.until_exit(pid)
    assert end.kind == EventKind.EXITED
    assert end.exit_code == 0
    assert end.pid == pid
    assert os.WIFEXITED(end.status) and os.WEXITSTATUS(end.status) == 0
    # A single-threaded run reports its PTRACE_EVENT_EXIT stop and its exit, nothing else.
    assert [e.kind for e in driver.log] == [EventKind.EXIT, EventKind.EXITED]
    assert driver.log[0].exit_code == 0
    assert tracer.processes() == []
    assert not os.path.exists(f"/proc/{pid}")


def test_spawn_argv_bytes_and_str(tracer, driver, targets):
    binary = targets["spawninfo"]
    args = ["plain", "with space", "", "ünïcode", b"raw\xffbytes"]
    code, out, err = _run_capturing(tracer, driver, [binary.path, *args])
    assert code == 0
    argv_lines = [line[5:] for line in out.split(b"\n") if line.startswith(b"argv=")]
    expected = [os.fsencode(binary.path)] + [
        a if isinstance(a, bytes) else a.encode() for a in args
    ]
    assert argv_lines == expected
    assert err == b"stderr-line\n"


def test_spawn_env_is_exactly_the_mapping(tracer, driver, targets):
    env = {"PYDBG_A": "1", "PYDBG_B": "x=y"}
    code, out, _ = _run_capturing(tracer, driver, [targets["spawninfo"].path], env=env)
    assert code == 0
    env_lines = sorted(line[4:] for line in out.split(b"\n") if line.startswith(b"env="))
    assert env_lines == [b"PYDBG_A=1", b"PYDBG_B=x=y"]


def test_spawn_env_none_inherits(tracer, driver, targets, monkeypatch):
    monkeypatch.setenv("PYDBG_INHERITED", "from-the-test")
    code, out, _ = _run_capturing(tracer, driver, [targets["spawninfo"].path])
    assert code == 0
    assert b"env=PYDBG_INHERITED=from-the-test\n" in out


def test_spawn_cwd(tracer, driver, targets, tmp_path):
    code, out, _ = _run_capturing(tracer, driver, [targets["spawninfo"].path], cwd=str(tmp_path))
    assert code == 0
    assert f"cwd={os.path.realpath(tmp_path)}\n".encode() in out


def test_spawn_stdin_from_pipe(tracer, driver, targets):
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        pid = tracer.spawn([targets["blockread"].path], stdin=in_r, stdout=out_w)
    finally:
        os.close(in_r)
        os.close(out_w)
    os.write(in_w, b"hello\n")
    os.close(in_w)
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert read_all(out_r) == b"ready\ngot:hello\n"


def test_spawn_new_process_group(tracer, targets):
    default = tracer.spawn([targets["loop"].path, "1"])
    grouped = tracer.spawn([targets["loop"].path, "1"], new_process_group=True)
    assert os.getpgid(default) == os.getpgrp()
    assert os.getpgid(grouped) == grouped


def test_spawn_disable_aslr_gives_the_same_layout_twice(tracer, targets):
    binary = targets["loop"]
    env = {"PYDBG": "aslr"}  # identical environment: identical stack contents
    first = tracer.spawn([binary.path, "1"], env=env, disable_aslr=True)
    second = tracer.spawn([binary.path, "1"], env=env, disable_aslr=True)
    for pid in (first, second):
        assert personality(pid) & ADDR_NO_RANDOMIZE
    assert load_bias(first, binary.path) == load_bias(second, binary.path)
    assert auxv(first)[AT_BASE] == auxv(second)[AT_BASE]
    assert tracer.get_reg(first, "rsp") == tracer.get_reg(second, "rsp")
    randomized = tracer.spawn([binary.path, "1"], env=env)
    assert not personality(randomized) & ADDR_NO_RANDOMIZE


@pytest.mark.parametrize("program", ["/nonexistent/pydbg-prog", "pydbg-no-such-program-xyz"])
def test_spawn_missing_program(tracer, program):
    before = {c.pid for c in psutil.Process().children()}
    with pytest.raises(ProgramNotFoundError) as info:
        tracer.spawn([program])
    assert isinstance(info.value, FileNotFoundError)
    assert tracer.processes() == []
    # The forked child that failed to exec is reaped, not left as a zombie.
    assert {c.pid for c in psutil.Process().children()} == before


def test_spawn_not_executable(tracer, tmp_path):
    path = tmp_path / "not-executable"
    path.write_bytes(b"#!/bin/sh\nexit 0\n")
    path.chmod(0o644)  # no x bit: EACCES even for root
    before = {c.pid for c in psutil.Process().children()}
    with pytest.raises(ProgramNotExecutableError) as info:
        tracer.spawn([str(path)])
    assert isinstance(info.value, PermissionError)
    assert tracer.processes() == []
    assert {c.pid for c in psutil.Process().children()} == before


def test_spawn_directory_is_not_executable(tracer, tmp_path):
    # A directory exists, so it is "not executable" (execve says EACCES), not "not found".
    with pytest.raises(ProgramNotExecutableError):
        tracer.spawn([str(tmp_path)])
    assert tracer.processes() == []


def test_spawn_exec_format_error(tracer, tmp_path):
    path = tmp_path / "garbage"
    path.write_bytes(b"\x01\x02\x03 not an executable format\n")
    path.chmod(0o755)
    with pytest.raises((ExecError, ProgramNotExecutableError)) as info:
        tracer.spawn([str(path)])
    if isinstance(info.value, ExecError):
        assert info.value.errno == errno.ENOEXEC
    assert tracer.processes() == []


def test_spawn_searches_path(tracer, driver, targets, tmp_path, monkeypatch):
    copy = tmp_path / "pydbg-path-prog"
    shutil.copy(targets["loop"].path, copy)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    pid = tracer.spawn(["pydbg-path-prog", "5"])
    assert os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(copy)
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    true_pid = tracer.spawn(["true"])
    tracer.cont(true_pid)
    assert driver.until_exit(true_pid).exit_code == 0


def test_close_kills_spawned_processes(targets):
    t = Tracer()
    try:
        pids = [t.spawn([targets["loop"].path, "-1"]) for _ in range(2)]
        t.cont(pids[0])  # one running, one still in its exec stop
    finally:
        t.close()
    assert t.closed
    for pid in pids:
        # Killed and reaped by close: no zombie left for the test to collect.
        assert not os.path.exists(f"/proc/{pid}")
    t.close()  # closing twice is harmless
    with pytest.raises(TracerClosedError):
        t.spawn([targets["loop"].path, "1"])


def test_context_manager_closes(targets):
    with Tracer() as t:
        pid = t.spawn([targets["loop"].path, "-1"])
    assert t.closed
    assert not os.path.exists(f"/proc/{pid}")


def test_close_detaches_spawned_without_kill_on_exit(targets):
    t = Tracer()
    try:
        pid = t.spawn([targets["loop"].path, "-1"], kill_on_exit=False)
        t.cont(pid)
    finally:
        t.close()
    try:
        assert tracer_pid(pid) == 0
        assert wait_until(lambda: task_state(pid) == "R"), task_state(pid)
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.timeout(60)
def test_exitkill_when_the_debugger_dies(procs, targets):
    """Hazards scenario 1: SIGKILL the debugger process; the launched target dies too."""
    script = (
        "import sys, time\n"
        "from pydbg._native import Tracer\n"
        "t = Tracer()\n"
        f"pid = t.spawn([{targets['loop'].path!r}, '-1'])\n"
        "t.cont(pid)\n"
        "print(pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT}
    debugger = procs.start([sys.executable, "-c", script], env=env)
    line = debugger.stdout.readline()
    assert line.strip().isdigit(), line
    target = int(line)
    debugger.kill()
    debugger.wait()
    # Orphaned, the target is re-parented to this process (a child subreaper): it must be
    # dead (a zombie to reap), not running on.
    try:
        died = wait_until(
            lambda: psutil.Process(target).status() == psutil.STATUS_ZOMBIE, timeout=10
        )
    except psutil.NoSuchProcess:
        died = True
    if not died:
        os.kill(target, signal.SIGKILL)
    try:
        _, status = os.waitpid(target, 0)
    except ChildProcessError:
        status = None  # re-parented elsewhere and reaped there
    assert died, "target kept running after its debugger was SIGKILLed"
    if status is not None:
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_spawned_child_is_our_child(tracer, targets):
    pid = tracer.spawn([targets["loop"].path, "1"])
    assert psutil.Process(pid).ppid() == os.getpid()
