"""`pydbg run -p PID` / `-pn NAME`: run mode on a process that is already running
(tests/targets/late_crash.c, told what to do on its stdin once pydbg holds it): its crash
is reported and its status passed on, its exit code too; at --timeout the hang report is
shown and the process is detached, not killed: it runs on, untraced, and still obeys."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import tracer_pid, wait_until

TIMEOUT = 60


def _watch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pydbg", "run", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _start(procs, targets) -> subprocess.Popen[bytes]:
    return procs.start([targets["late_crash"].path], ready=b"ready")


def _order(target: subprocess.Popen[bytes], line: bytes, watcher: subprocess.Popen[str]) -> None:
    """Tell the target what to do once the watcher traces it."""
    assert wait_until(lambda: tracer_pid(target.pid) == watcher.pid, 30), "never attached"
    assert target.stdin is not None
    target.stdin.write(line)
    target.stdin.flush()


def test_a_crash_of_an_attached_process_is_reported(procs, targets):
    target = _start(procs, targets)
    watcher = _watch("-p", str(target.pid))
    _order(target, b"segv\n", watcher)
    _, err = watcher.communicate(timeout=TIMEOUT)
    assert watcher.returncode == 128 + 11, err
    assert "SIGSEGV (11)" in err and "Faulting address: 00000000`000dead0" in err
    name = os.path.basename(targets["late_crash"].path).replace("-", "_")
    for function in ("inner", "middle", "outer", "main"):
        assert f"{name}!{function}+0x" in err, err


def test_the_exit_code_of_an_attached_process_passes_through(procs, targets):
    target = _start(procs, targets)
    watcher = _watch("-pn", os.path.basename(targets["late_crash"].path))
    _order(target, b"exit 3\n", watcher)
    _, err = watcher.communicate(timeout=TIMEOUT)
    assert watcher.returncode == 3, err
    assert err == ""


def test_at_the_timeout_the_process_is_detached_and_runs_on(procs, targets, tmp_path):
    target = _start(procs, targets)
    log = tmp_path / "run.jsonl"
    watcher = _watch("--timeout", "1", "--json", str(log), "-p", str(target.pid))
    _, err = watcher.communicate(timeout=TIMEOUT)
    assert watcher.returncode == 124, err
    assert "pydbg: timeout after 1 s" in err
    name = os.path.basename(targets["late_crash"].path).replace("-", "_")
    assert f"{name}!wait_for_order+0x" in err, err
    # Detached, not killed: untraced, and it still does what it is told.
    assert tracer_pid(target.pid) == 0
    assert target.stdin is not None
    target.stdin.write(b"exit 5\n")
    target.stdin.flush()
    assert target.wait(timeout=TIMEOUT) == 5
    start = json.loads(log.read_text().splitlines()[0])
    assert start["argv"] == [targets["late_crash"].path] and start["pid"] == target.pid


def test_one_target_only(targets):
    result = subprocess.run(
        [sys.executable, "-m", "pydbg", "run", "-p", "1", "--", targets["late_crash"].path],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert "give one of -p PID, -pn NAME or -- program [args]" in result.stderr
