"""Bad input to the scripting layer raises the specific PydbgError subclass, and a process
that ended, or whose `with` block ended, refuses further use the same way."""

from __future__ import annotations

import os

import psutil
import pytest

import pydbg
from pydbg.breakpoints import BreakpointError, RemovedBreakpointError
from tests.api.scripting_support import launched, sym
from tests.support import unused_pid


@pytest.fixture
def script(targets):
    return targets["script"]


@pytest.fixture
def stopped(script, tmp_path):
    """The script target stopped in script_ready (poke mode)."""
    with launched(script, tmp_path / "out", "poke") as proc:
        proc.breakpoint(sym(script, "script_ready"))
        assert isinstance(proc.cont(), pydbg.BreakpointHit)
        yield proc


def test_unknown_symbols(stopped, script):
    with pytest.raises(pydbg.UnknownSymbolError):
        stopped.symbol(sym(script, "no_such_function"))
    with pytest.raises(pydbg.UnknownSymbolError):
        stopped.symbol("no_such_function_anywhere")
    with pytest.raises(pydbg.UnknownSymbolError):
        stopped.breakpoint(sym(script, "no_such_function"))
    with pytest.raises(pydbg.UnknownSymbolError):
        stopped.watch("no_such_variable", 8)
    with pytest.raises(pydbg.SymbolError):
        stopped.symbolize(0x10)  # in no module


def test_unmapped_memory(stopped):
    with pytest.raises(pydbg.MemoryAccessError) as caught:
        stopped.read(0x10, 16)
    assert caught.value.address == 0x10
    with pytest.raises(pydbg.MemoryAccessError):
        _ = stopped.memory[0x10:0x20]
    with pytest.raises(pydbg.MemoryAccessError):
        _ = stopped.memory[0x10]
    with pytest.raises(pydbg.MemoryAccessError):
        stopped.memory[0x10:0x12] = b"xx"
    with pytest.raises(ValueError, match="do not fit"):
        stopped.memory[0x10:0x20] = b"short"
    with pytest.raises(ValueError):
        _ = stopped.memory[0x20:0x10]


def test_bad_register_names_and_values(stopped):
    with pytest.raises(pydbg.RegisterAttributeError) as caught:
        _ = stopped.regs.nosuch
    assert isinstance(caught.value, pydbg.InvalidRegisterError)
    assert not hasattr(stopped.regs, "nosuch")
    assert getattr(stopped.regs, "nosuch", 5) == 5
    with pytest.raises(pydbg.InvalidRegisterError):
        _ = stopped.regs["nosuch"]
    with pytest.raises(pydbg.RegisterAttributeError):
        stopped.regs.nosuch = 1
    with pytest.raises(pydbg.RegisterValueError):
        stopped.regs.eax = 1 << 40
    with pytest.raises(TypeError):
        stopped.regs.rax = "1"  # type: ignore[assignment]


def test_bad_watchpoints_and_breakpoints(stopped, script):
    address = stopped.symbol(sym(script, "watched"))
    with pytest.raises(BreakpointError):
        stopped.watch(address, 3)
    with pytest.raises(BreakpointError):
        stopped.watch(address + 1, 8)  # a debug register needs an aligned address
    with pytest.raises(ValueError):
        stopped.watch(address, 8, "q")
    with pytest.raises(ValueError):
        stopped.breakpoint(-1)
    # Nothing of the failed ones is left behind.
    assert stopped.client.control.get_number_breakpoints() == 1
    bp = stopped.breakpoint(sym(script, "work"))
    bp.remove()
    bp.remove()  # twice: nothing more happens
    with pytest.raises(RemovedBreakpointError):
        bp.enabled = True


def test_a_callback_that_raises_stops_and_cont_raises_it(script, tmp_path):
    def broken(hit: pydbg.BreakpointHit) -> None:
        raise LookupError("from the callback")

    with launched(script, tmp_path / "out", "calls", 3) as proc:
        bp = proc.breakpoint(sym(script, "work"), broken)
        with pytest.raises(LookupError, match="from the callback"):
            proc.cont()
        assert proc.state == "stopped"
        assert proc.regs.rip == bp.address and proc.regs.rdi == 3


def test_running_the_process_from_a_callback_is_refused(script, tmp_path):
    with launched(script, tmp_path / "out", "calls", 3) as proc:
        bp = proc.breakpoint(sym(script, "work"), lambda hit: proc.cont())
        with pytest.raises(pydbg.InsideWaitError, match="return True"):
            proc.cont()
        assert proc.state == "stopped" and proc.regs.rdi == 3
        assert isinstance(proc.last_event, pydbg.BreakpointHit)
        bp.callback = lambda hit: proc.close()
        with pytest.raises(pydbg.InsideWaitError, match="close"):
            proc.cont()
        assert proc.state == "stopped" and proc.regs.rdi == 10


def test_use_after_the_process_ended(script, tmp_path):
    with launched(script, tmp_path / "out", "exit", 3) as proc:
        assert isinstance(proc.cont(), pydbg.ProcessExited)
        for use in (
            lambda: proc.regs.rip,
            lambda: proc.memory[0x1000],
            lambda: proc.read(0x1000, 1),
            lambda: proc.symbol(sym(script, "main")),
            lambda: proc.breakpoint(0x1000),
            proc.cont,
            proc.step,
            proc.finish,
            proc.backtrace,
            lambda: proc.threads,
        ):
            with pytest.raises(pydbg.ProcessExitedError, match="exit code 3"):
                use()
        assert list(proc.events()) == []
        assert isinstance(proc.wait(), pydbg.ProcessExited)
    with pytest.raises(pydbg.ProcessExitedError):
        _ = proc.regs.rip


def test_use_after_the_block(script, tmp_path):
    with launched(script, tmp_path / "out", "calls", 1) as proc:
        regs = proc.regs
    with pytest.raises(pydbg.NoTargetError):
        _ = regs.rip
    with pytest.raises(pydbg.NoTargetError):
        proc.cont()
    proc.close()  # closing again does nothing


def test_use_while_it_runs(procs, targets):
    helper = procs.start([targets["threads"].path, "1"], ready=b"ready")
    with pydbg.attach(helper.pid) as proc:
        assert proc.cont(timeout=0.1) is None
        with pytest.raises(pydbg.TargetRunningError):
            _ = proc.regs.rip
        with pytest.raises(pydbg.TargetRunningError):
            proc.step()
        proc.interrupt()
        assert isinstance(proc.wait(20.0), pydbg.BreakIn)
        assert proc.regs.rip


def test_launch_and_attach_failures_leave_nothing(tmp_path):
    before = {child.pid for child in psutil.Process().children()}
    with pytest.raises(pydbg.ProgramNotFoundError):
        pydbg.launch([str(tmp_path / "no-such-program")])
    with pytest.raises(pydbg.NoSuchProcessError):
        pydbg.attach(unused_pid())
    with pytest.raises(pydbg.SelfAttachError):
        pydbg.attach(os.getpid())
    assert {child.pid for child in psutil.Process().children()} == before
