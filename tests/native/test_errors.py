"""Bad input: calls about exited, unknown or running processes raise the documented
exceptions naming the pid/tid/address, and leave nothing patched or stopped behind
(psutil-style contract test: only documented exceptions are acceptable)."""

from __future__ import annotations

import pytest

from pydbg._native import HW_EXECUTE, EventKind, Tracer
from pydbg.errors import (
    MemoryAccessError,
    NoSuchProcessError,
    NotStoppedError,
    ProcessExitedError,
    PtraceError,
    TracerClosedError,
)
from tests.support import unused_pid


def _calls_on(tracer, pid, address):
    return {
        "get_regs": lambda: tracer.get_regs(pid),
        "set_reg": lambda: tracer.set_reg(pid, "rax", 1),
        "get_pc": lambda: tracer.get_pc(pid),
        "get_fpregs": lambda: tracer.get_fpregs(pid),
        "get_debugreg": lambda: tracer.get_debugreg(pid, 7),
        "set_hw_breakpoint": lambda: tracer.set_hw_breakpoint(pid, 0, address, HW_EXECUTE, 1),
        "read_memory": lambda: tracer.read_memory(pid, address, 8),
        "write_memory": lambda: tracer.write_memory(pid, address, b"\x90"),
        "insert_breakpoint": lambda: tracer.insert_breakpoint(pid, address),
        "breakpoints": lambda: tracer.breakpoints(pid),
        "threads": lambda: tracer.threads(pid),
        "thread_state": lambda: tracer.thread_state(pid),
        "cont": lambda: tracer.cont(pid),
        "step": lambda: tracer.step(pid),
        "trace": lambda: tracer.trace(pid, 5),
        "interrupt": lambda: tracer.interrupt(pid),
        "stop_all": lambda: tracer.stop_all(pid),
        "detach": lambda: tracer.detach(pid),
        "kill": lambda: tracer.kill(pid),
    }


def _assert_names(exc, pid):
    assert isinstance(exc, PtraceError), exc
    assert pid in (exc.pid, exc.tid), (exc, exc.pid, exc.tid)
    assert str(pid) in str(exc)


def test_calls_on_an_exited_process(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "1"])
    tick = binary.addr(pid, "tick")
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    for name, call in _calls_on(tracer, pid, tick).items():
        with pytest.raises(ProcessLookupError) as info:
            call()
        assert isinstance(info.value, (ProcessExitedError, NoSuchProcessError)), name
        _assert_names(info.value, pid)


def test_calls_on_a_never_traced_pid(tracer):
    pid = unused_pid()
    for name, call in _calls_on(tracer, pid, 0x1000).items():
        with pytest.raises(NoSuchProcessError) as info:
            call()
        _assert_names(info.value, pid)
        assert name


def test_calls_on_an_untraced_live_process(tracer):
    # pid 1 exists but is not ours: "no such process" as far as this tracer goes.
    with pytest.raises(NoSuchProcessError) as info:
        tracer.get_regs(1)
    _assert_names(info.value, 1)


def test_running_thread_refuses_inspection(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "-1"])
    tick = binary.addr(pid, "tick")
    tracer.cont(pid)
    for name in ("get_regs", "set_reg", "get_pc", "get_fpregs", "get_debugreg",
                 "set_hw_breakpoint", "cont", "step", "trace"):  # fmt: skip
        with pytest.raises(NotStoppedError) as info:
            _calls_on(tracer, pid, tick)[name]()
        assert info.value.tid == pid, name
        assert str(pid) in str(info.value)
    # Memory and breakpoints work while the process runs; it then finishes normally.
    assert tracer.read_memory(pid, tick, 1) == binary.file_bytes(binary.sym("tick"), 1)
    tracer.insert_breakpoint(pid, tick)
    hit = driver.next()
    assert hit.kind == EventKind.BREAKPOINT and hit.address == tick
    tracer.remove_breakpoint(pid, tick)
    assert tracer.kill(pid) == 9


def test_bad_address_leaves_nothing_behind(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "20"])
    with pytest.raises(MemoryAccessError) as info:
        tracer.insert_breakpoint(pid, 0x10)
    assert info.value.address == 0x10
    assert tracer.breakpoints(pid) == {}
    with pytest.raises(MemoryAccessError):
        tracer.write_memory(pid, 0x10, b"\xcc")
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
    assert driver.count(EventKind.BREAKPOINT) == 0


def test_closed_tracer_refuses_everything(targets):
    t = Tracer()
    t.close()
    assert t.closed
    for call in (
        lambda: t.spawn([targets["loop"].path, "1"]),
        lambda: t.seize(1),
        lambda: t.wait(timeout=0),
        lambda: t.processes(),
    ):
        with pytest.raises(TracerClosedError):
            call()
