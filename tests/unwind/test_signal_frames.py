"""Signal frames: the ucontext layout the unwinder reads, the registers it recovers from it,
and walks that start inside the rt_sigreturn trampoline.

The `unwind signal` target executes a ud2 (label unwind_ud2) in raise_sigill; its SIGILL
handler calls in_handler -> leaf -> write, then moves the saved rip past the ud2 and returns
through __restore_rt.
"""

from __future__ import annotations

import shutil
import signal
import subprocess

import pytest

from pydbg._native import EventKind
from pydbg.unwind import FrameMethod, UnwindStop
from pydbg.unwind.cfi import DWARF_REGISTERS
from pydbg.unwind.unwinder import GREGS_DWARF, UCONTEXT_GREGS
from tests.unwind.helpers import (
    capture,
    elf_symbols,
    file_offset,
    gdb_stop,
    module_path,
    run_to,
    runtime_address,
    spawn_to_entry,
)

UD2_LENGTH = 2


def test_ucontext_layout_matches_sys_ucontext_h(unwind_builds):
    """The offsets <sys/ucontext.h> gives, printed by the target, are the ones we read."""
    out = subprocess.run(
        [unwind_builds["O0"], "layout"], capture_output=True, text=True, check=True
    ).stdout
    offsets = {name: int(value) for name, value in (line.split() for line in out.splitlines())}
    assert offsets.pop("mcontext") == UCONTEXT_GREGS
    assert len(offsets) == 8
    for name, offset in offsets.items():
        index = GREGS_DWARF.index(DWARF_REGISTERS.index(name))
        assert offset == UCONTEXT_GREGS + 8 * index, name


def _stop_in_handler(tracer, driver, path):
    """Run `path signal` to the handler's write; return the registers at the SIGILL stop,
    the Stop at write, and the runtime address of the ud2."""
    argv = [path, "signal"]
    pid = spawn_to_entry(tracer, driver, argv)
    libc = module_path(pid, "libc.so.6")
    write = file_offset(libc, elf_symbols(libc)["write"])
    tracer.insert_breakpoint(pid, runtime_address(pid, libc, write))
    tracer.cont(pid)
    fault = driver.until(lambda e: e.tid == pid and e.kind == EventKind.SIGNAL)
    assert fault.signal == signal.SIGILL
    at_fault = tracer.get_regs(pid).as_dict()
    tracer.cont(pid, fault.signal)
    driver.until(lambda e: e.tid == pid and e.kind == EventKind.BREAKPOINT)
    program = module_path(pid, path.rsplit("/", 1)[-1])
    label = elf_symbols(program, ("STT_NOTYPE",))["unwind_ud2"]
    ud2 = runtime_address(pid, program, file_offset(program, label))
    return at_fault, capture(tracer, pid, argv, libc, write), ud2


@pytest.mark.parametrize("build", ["O0", "O2"])
def test_registers_recovered_from_the_signal_frame(tracer, driver, unwind_builds, build):
    at_fault, stop, ud2 = _stop_in_handler(tracer, driver, unwind_builds[build])
    assert at_fault["rip"] == ud2
    frames = stop.unwind(tracer)
    trampoline = next(f for f in frames if f.signal_trampoline)
    interrupted = frames[trampoline.number + 1]
    assert trampoline.number == 4  # write, leaf, in_handler, on_sigill, <signal handler called>
    assert trampoline.return_address == interrupted.pc == ud2
    assert interrupted.method is FrameMethod.SIGNAL and interrupted.after_signal
    assert interrupted.lookup_pc == ud2  # exact: the ud2 itself, not the byte before
    # Every general register, caller-saved ones included, is what the thread had when the
    # ud2 faulted.
    assert dict(interrupted.registers) == {name: at_fault[name] for name in DWARF_REGISTERS}
    assert frames[-1].stop is UnwindStop.OUTERMOST


@pytest.mark.parametrize("where", ["entry", "syscall"])
def test_walk_starting_in_the_trampoline(tracer, driver, unwind_builds, where):
    """Stopped on __restore_rt after the handler returned: frame 0 is the trampoline and
    frame 1 the interrupted code, whose saved rip the handler moved past the ud2."""
    at_fault, stop, ud2 = _stop_in_handler(tracer, driver, unwind_builds["O2"])
    before = stop.unwind(tracer)
    trampoline = next(f for f in before if f.signal_trampoline)
    path, offset = stop.modules.key(trampoline.pc)
    if where == "syscall":
        offset += 7  # mov $0xf,%rax is 7 bytes
    stop = run_to(tracer, driver, stop.pid, stop.argv, path, offset)
    frames = stop.unwind(tracer)
    assert frames[0].signal_trampoline and frames[0].method is FrameMethod.CONTEXT
    assert frames[1].pc == ud2 + UD2_LENGTH
    assert frames[1].method is FrameMethod.SIGNAL
    assert frames[1].registers["rsp"] == at_fault["rsp"]
    # From there on, the same callers as seen from inside the handler.
    after = [f.pc for f in before[trampoline.number + 2 :]]
    assert [f.pc for f in frames[2:]] == after
    if shutil.which("gdb") is not None:
        theirs = gdb_stop(stop.argv, path, offset, pass_signals=["SIGILL"]).keys()
        assert stop.keys(frames) == theirs
