"""The debugger dies while attached (hazards §14.3, §16 #45): SIGTERM, SIGHUP or two Ctrl-C to
the CLI, an unhandled exception or SIGTERM in a library script.  Every breakpoint must be
removed and the target detached before the debugger goes: the target (detach_busy, five
threads hitting the breakpoint functions all the time) stays alive, untraced, with its
original code, keeps running, and exits 0 when told.  A launched target is killed.

No timing assertion: the debugger must exit within a generous bound (TIMEOUT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import psutil
import pytest

from tests.busy import Busy
from tests.support import ROOT, tracer_pid, wait_until

TIMEOUT = 30


def _armed(busy: Busy, debugger: subprocess.Popen[bytes]) -> bool:
    """Traced by the debugger, with the int3 in place: hits are being taken."""
    with open(f"/proc/{busy.pid}/mem", "rb", buffering=0) as f:
        f.seek(busy.addr["busy_a"])
        planted = f.read(1) == b"\xcc"
    return planted and tracer_pid(busy.pid) == debugger.pid


def _cli(args: list[str], tmp_path: Any) -> subprocess.Popen[bytes]:
    out = open(tmp_path / "cli.out", "wb")  # noqa: SIM115 - closed with the process
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "pydbg", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    finally:
        out.close()


def _commands(busy: Busy) -> str:
    a = busy.addr
    return f'bp {a["busy_a"]:#x} "gc"; bp {a["busy_b"]:#x} "gc"; ba e1 {a["busy_hw"]:#x} "gc"; g'


def _ended(debugger: subprocess.Popen[bytes]) -> int:
    try:
        return debugger.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        debugger.kill()
        debugger.wait()
        raise


def _check_released(busy: Busy) -> None:
    assert tracer_pid(busy.pid) == 0
    assert busy.code_is_original()
    assert busy.alive()
    assert busy.finish() == 0


@pytest.fixture
def busy(targets: Any) -> Any:
    b = Busy(targets["detach_busy"])
    try:
        yield b
    finally:
        b.close()


@pytest.mark.parametrize(
    "signals",
    [[signal.SIGTERM], [signal.SIGHUP], [signal.SIGINT, signal.SIGINT]],
    ids=["SIGTERM", "SIGHUP", "SIGINT-twice"],
)
def test_a_signalled_cli_detaches_its_target(busy, tmp_path, signals):
    debugger = _cli(["-p", str(busy.pid), "-c", _commands(busy)], tmp_path)
    try:
        assert wait_until(lambda: _armed(busy, debugger), timeout=TIMEOUT)
        for signo in signals:
            debugger.send_signal(signo)
        status = _ended(debugger)
    finally:
        if debugger.poll() is None:
            debugger.kill()
            debugger.wait()
    output = (tmp_path / "cli.out").read_text()
    if signals[0] == signal.SIGINT:
        # The first Ctrl-C breaks in and the CLI detaches and exits 0; the second one,
        # if it comes before that, ends the session at once and the CLI dies of it.
        assert status in (0, -signal.SIGINT), output
    else:
        assert status == -signals[0], output
    _check_released(busy)


def test_a_signalled_cli_kills_the_program_it_launched(targets, tmp_path):
    binary = targets["detach_busy"]
    debugger = _cli(["-c", 'bp busy_a "gc"; g', "--", binary.path], tmp_path)
    child = None
    try:

        def launched() -> bool:
            nonlocal child
            kids = psutil.Process(debugger.pid).children()
            child = kids[0].pid if kids else None
            return child is not None and tracer_pid(child) == debugger.pid

        assert wait_until(launched, timeout=TIMEOUT)
        debugger.send_signal(signal.SIGTERM)
        assert _ended(debugger) == -signal.SIGTERM
    finally:
        if debugger.poll() is None:
            debugger.kill()
            debugger.wait()
    assert child is not None
    # Killed: gone, or a zombie handed to the suite's subreaper (reaped here).
    assert wait_until(lambda: _gone_or_reaped(child), timeout=TIMEOUT)


def _gone_or_reaped(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:
        return not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


LIBRARY_SCRIPT = textwrap.dedent(
    """
    import sys
    import pydbg

    class Go(pydbg.EventCallbacks):
        def breakpoint(self, bp):
            return 1  # DEBUG_STATUS_GO

    pid, bp, hw, how = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    client = pydbg.create_client()
    client.set_event_callbacks(Go())
    client.attach_process(pid)
    client.control.wait_for_event()
    client.control.execute(f"bp {bp:#x}; ba e1 {hw:#x}; g")
    client.control.wait_for_event(timeout=0.05)
    if how == "raise":
        raise RuntimeError("user code failed while attached")
    print("armed", flush=True)
    client.control.wait_for_event()  # until SIGTERM
    """
)


@pytest.mark.parametrize("how", ["raise", "sigterm"])
def test_a_library_script_that_dies_detaches_its_target(busy, tmp_path, how):
    script = tmp_path / "script.py"
    script.write_text(LIBRARY_SCRIPT)
    args = [str(busy.pid), str(busy.addr["busy_a"]), str(busy.addr["busy_hw"]), how]
    debugger = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        if how == "raise":
            _, err = debugger.communicate(timeout=TIMEOUT)
            assert debugger.returncode == 1
            assert b"user code failed while attached" in err
        else:
            assert debugger.stdout is not None
            assert debugger.stdout.readline() == b"armed\n"
            debugger.send_signal(signal.SIGTERM)
            _, err = debugger.communicate(timeout=TIMEOUT)
            assert debugger.returncode == -signal.SIGTERM, err
    finally:
        if debugger.poll() is None:
            debugger.kill()
        debugger.communicate()
    _check_released(busy)
