"""Two live cases beyond a function's own CFI: a thread stopped inside a PLT stub (the CFA is
a DWARF expression of rip) and single-stepped through lazy binding; and the cost of a walk
once the CFI is loaded, which must stay far below what a debugger's prompt can afford.
"""

from __future__ import annotations

import statistics
import struct
import sys
import time

from capstone import CS_ARCH_X86, CS_MODE_64, Cs
from elftools.elf.elffile import ELFFile

from pydbg._native import EventKind
from pydbg.unwind import UnwindStop, load_cfi
from pydbg.unwind.cfi import clear_cache
from tests.unwind.helpers import run_to, spawn_to_entry, stop_in

WALK_BUDGET = 0.005  # seconds for 10 frames through libc, CFI loaded


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


def _timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def test_walk_cost_once_cfi_is_loaded(tracer, driver, unwind_builds, capsys):
    stop = stop_in(tracer, driver, [unwind_builds["O2"], "nest", "4"], "libc.so.6", "write")
    clear_cache()
    first = _timed(lambda: stop.unwind(tracer, max_frames=10), 1)[0]
    frames = stop.unwind(tracer, max_frames=10)
    assert len(frames) == 10 and frames[-1].stop is UnwindStop.MAX_FRAMES
    # Lazy: the first walk decoded only the FDEs of the functions it passed through.
    libc = load_cfi(stop.path)
    assert 0 < libc.decoded_fdes <= 3
    again = _timed(lambda: stop.unwind(tracer, max_frames=10), 50)
    median = statistics.median(again)
    with capsys.disabled():
        print(
            f"\n10 frames: first walk {first * 1e3:.1f} ms (loads CFI), then median "
            f"{median * 1e3:.2f} ms, best {min(again) * 1e3:.2f} ms",
            file=sys.stderr,
        )
    assert median < WALK_BUDGET


def test_deep_python_stack_cost(tracer, driver, capsys):
    """Through libpython's eval loop: the per-frame cost stays the same on a deep stack.
    Each level goes through map(), a C call, so that the C stack grows with it (3.11 runs
    Python-to-Python calls in one C frame)."""
    code = "import os; f = lambda n: os.write(1, b'x') if n == 0 else [*map(f, [n - 1])][0]; f(30)"
    stop = stop_in(tracer, driver, [sys.executable, "-c", code], "libc.so.6", "write")
    frames = stop.unwind(tracer)
    assert frames[-1].stop is UnwindStop.OUTERMOST and len(frames) > 40
    per_frame = statistics.median(_timed(lambda: stop.unwind(tracer), 10)) / len(frames)
    with capsys.disabled():
        print(f"\n{len(frames)} frames through libpython: {per_frame * 1e6:.0f} us a frame")
    assert per_frame < WALK_BUDGET / 10
