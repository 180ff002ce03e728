"""Two live cases beyond a function's own CFI: a thread stopped inside a PLT stub (the CFA is
a DWARF expression of rip) and single-stepped through lazy binding; and walks once the CFI is
loaded: lazily decoded, and whole on a deep stack.  What those walks cost is measured by
bench/unwind_speed.py (tests assert no wall-clock times).
"""

from __future__ import annotations

import struct
import sys

from capstone import CS_ARCH_X86, CS_MODE_64, Cs
from elftools.elf.elffile import ELFFile

from pydbg._native import EventKind
from pydbg.unwind import UnwindStop, load_cfi
from pydbg.unwind.cfi import clear_cache
from tests.unwind.helpers import run_to, spawn_to_entry, stop_in


def _plt_range(path: str) -> tuple[int, int]:
    with open(path, "rb") as f:
        section = ELFFile(f).get_section_by_name(".plt")
        assert section is not None
        return section["sh_addr"], section["sh_addr"] + section["sh_size"]


def test_stepping_through_a_plt_stub(tracer, driver, unwind_builds):
    """From leaf's `call write@plt` to libc's write, every instruction on the way (the stub,
    PLT0 and, with lazy binding, the dynamic linker's resolver) unwinds to leaf."""
    path = unwind_builds["O0"]
    stop = stop_in(tracer, driver, [path, "nest", "1"], "libc.so.6", "write")
    leaf_return = stop.unwind(tracer)[1].pc
    # The call before the return address is `call rel32` into the stub.
    code = tracer.read_memory(stop.pid, leaf_return - 5, 5)
    assert code[0] == 0xE8
    stub = leaf_return + struct.unpack("<i", code[1:])[0]
    module = stop.modules.module_at(stub)
    assert module is not None
    start, end = _plt_range(path)
    assert start <= stub - module.bias < end
    # A new run of the program, stopped on the stub before its first use.
    pid = spawn_to_entry(tracer, driver, stop.argv)
    program_path, stub_offset = stop.modules.key(stub)
    here = run_to(tracer, driver, pid, stop.argv, program_path, stub_offset)
    visited = []
    disassembler = Cs(CS_ARCH_X86, CS_MODE_64)
    for _ in range(40):
        regs = tracer.get_regs(pid).as_dict()
        here.regs = regs
        frames = here.unwind(tracer)
        insn = next(disassembler.disasm(tracer.read_memory(pid, regs["rip"], 16), regs["rip"]))
        visited.append(f"{insn.address:#x} {insn.mnemonic} {insn.op_str}")
        assert frames[1].pc == leaf_return, visited
        assert frames[-1].stop is UnwindStop.OUTERMOST, visited
        if insn.mnemonic == "call" or regs["rip"] == stop.address:
            break  # the resolver calls _dl_fixup, or binding was not lazy: in write
        assert tracer.step(pid).kind == EventKind.STEP
    assert any(f"{stub:#x} " in line for line in visited)
    assert len(visited) >= 2


def test_walk_once_cfi_is_loaded(tracer, driver, unwind_builds):
    stop = stop_in(tracer, driver, [unwind_builds["O2"], "nest", "4"], "libc.so.6", "write")
    clear_cache()
    first = stop.unwind(tracer, max_frames=10)
    # Lazy: the first walk decoded only the FDEs of the functions it passed through.
    libc = load_cfi(stop.path)
    assert 0 < libc.decoded_fdes <= 3
    frames = stop.unwind(tracer, max_frames=10)
    assert len(frames) == 10 and frames[-1].stop is UnwindStop.MAX_FRAMES
    assert [f.pc for f in frames] == [f.pc for f in first]
    assert load_cfi(stop.path).decoded_fdes == libc.decoded_fdes  # nothing decoded again


def test_deep_python_stack(tracer, driver):
    """Through libpython's eval loop, to the outermost frame.  Each level goes through map(),
    a C call, so that the C stack grows with it (3.11 runs Python-to-Python calls in one C
    frame)."""
    code = "import os; f = lambda n: os.write(1, b'x') if n == 0 else [*map(f, [n - 1])][0]; f(30)"
    stop = stop_in(tracer, driver, [sys.executable, "-c", code], "libc.so.6", "write")
    frames = stop.unwind(tracer)
    assert frames[-1].stop is UnwindStop.OUTERMOST and len(frames) > 40
    assert [f.pc for f in stop.unwind(tracer)] == [f.pc for f in frames]
