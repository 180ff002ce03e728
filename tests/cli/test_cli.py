"""`pydbg [-c commands] [-p PID | -- program args]`, run as a user runs it: a subprocess
whose output and exit status are checked.  The debugged programs are the suite's own C
targets; every one is launched by the CLI (which kills it when done) or started here and
reaped here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

TIMEOUT = 30


def pydbg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pydbg", *args],
        stdin=subprocess.DEVNULL,  # not a terminal: batch mode, even under pytest -s
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_runs_a_program_to_its_end_and_returns_its_exit_code(targets):
    # (Without -c this is a quiet batch run, tests/cli/test_batch.py; -c g shows events.)
    result = pydbg("-c", "g", "--", targets["exit7"].path, "threads")
    assert result.returncode == 7, result.stderr
    assert "Initial breakpoint - code 80000003" in result.stdout


def test_commands_with_implicit_waits(targets):
    result = pydbg("-c", "r rip; t 2; r rip; ? 0n10+0x10; g", "--", "/bin/true")
    assert result.returncode == 0, result.stderr
    rips = [int(v, 16) for v in re.findall(r"^rip=([0-9a-f]{16})$", result.stdout, re.M)]
    assert len(rips) == 2 and rips[0] != rips[1]
    assert "Evaluate expression: 26 = 00000000`0000001a" in result.stdout


def test_register_dump_at_the_initial_breakpoint(targets):
    result = pydbg("-c", "r", "--", targets["loop"].path, "1")
    assert result.returncode == 0, result.stderr
    for name in ("rax", "rip", "rsp", " r8", "r15", "efl"):
        assert re.search(rf"{name}=[0-9a-f]+", result.stdout), name


def test_a_failing_command_exits_1_and_kills_the_program(targets):
    result = pydbg("-c", "? 1/0", "--", targets["loop"].path, "-1")
    assert result.returncode == 1
    assert "division by zero" in result.stderr


def test_unknown_command_is_reported(targets):
    result = pydbg("-c", "frobnicate", "--", "/bin/true")
    assert result.returncode == 1
    assert "unknown command 'frobnicate'" in result.stderr


def test_unknown_command_gets_the_closest_names(targets):
    result = pydbg("-c", "hlep", "--", "/bin/true")
    assert result.returncode == 1
    assert re.search(r"did you mean [^\n]*\.help", result.stderr)
    assert "Traceback" not in result.stderr


def test_without_a_terminal_and_without_c_the_program_runs_to_its_end(targets):
    result = pydbg("--", targets["exit7"].path)
    assert result.returncode == 7, result.stderr
    assert ">" not in result.stdout  # no prompt (and, a quiet run, no event notices)


def test_restart_in_batch_keeps_the_breakpoints(targets):
    module = os.path.basename(targets["exit7"].path).replace("-", "_")
    result = pydbg("-c", f"bp {module}!main; g; .restart; g", "--", targets["exit7"].path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Initial breakpoint") == 2
    assert result.stdout.count("Breakpoint 0 hit") == 2


def test_usage_errors_exit_2():
    assert pydbg().returncode == 2
    assert pydbg("-p", "1", "--", "/bin/true").returncode == 2
    assert pydbg("-p", "1", "-pn", "init").returncode == 2
    assert pydbg("-i", "-c", "r", "--", "/bin/true").returncode == 2  # -i needs a terminal


def test_a_missing_program_is_a_clear_error():
    result = pydbg("--", "/nonexistent/program")
    assert result.returncode == 1
    assert "/nonexistent/program" in result.stderr


def test_attach_runs_commands_and_leaves_the_process_running(targets):
    process = subprocess.Popen([targets["loop"].path, "-1"])  # loops forever
    try:
        time.sleep(0.05)
        result = pydbg("-c", "r rip", "-p", str(process.pid))
        assert result.returncode == 0, result.stderr
        assert re.search(r"^rip=[0-9a-f]{16}$", result.stdout, re.M)
        # Detached, not killed: it still runs, untraced.
        assert process.poll() is None
        with open(f"/proc/{process.pid}/status") as f:
            assert "TracerPid:\t0" in f.read()
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize("bad", ["0", str(2**22 + 12345)])
def test_attach_to_a_wrong_pid_is_a_clear_error(bad):
    result = pydbg("-p", bad)
    assert result.returncode == 1
    assert bad in result.stderr or "process" in result.stderr.lower()
    assert os.path.exists("/proc/self")


def test_version_is_the_package_version():
    import pydbg as package

    result = pydbg("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"pydbg {package.__version__}"
    # After --, --version is the program's.
    result = pydbg("--", "/bin/echo", "--version")
    assert result.returncode == 0 and result.stdout
    assert f"pydbg {package.__version__}" not in result.stdout
