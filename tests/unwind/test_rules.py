"""The walk's rules on a made-up stack: the built targets' real CFI (or lack of it) at a fixed
load bias, over a fake memory that holds only what each test writes.  Each test sets up the
one situation a rule is for: the frame-pointer chain and what it rejects, a CFA that goes
inward, a call through a bad pointer, the limits.
"""

from __future__ import annotations

import struct

import pytest

from pydbg.unwind import FrameMethod, ModuleInfo, UnwindError, UnwindStop, load_cfi, unwind
from pydbg.unwind.cfi import RBP
from tests.unwind.helpers import elf_segments, elf_symbols

BIAS = 0x5555_5555_4000
STACK = 0x7FFF_F000_0000
STACK_SIZE = 0x1000


class Target:
    """One module at BIAS and a page of stack at STACK."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.module = ModuleInfo(path=path, bias=BIAS)
        self.end = BIAS + max(vaddr + size for vaddr, _, size in elf_segments(path))
        self.stack = bytearray(STACK_SIZE)
        self.reads: list[tuple[int, int]] = []

    def sym(self, name: str, offset: int = 0) -> int:
        return BIAS + elf_symbols(self.path)[name] + offset

    def put(self, address: int, *words: int) -> None:
        for i, word in enumerate(words):
            struct.pack_into("<Q", self.stack, address - STACK + 8 * i, word)

    def read_memory(self, address: int, size: int) -> bytes:
        self.reads.append((address, size))
        if address >= STACK and address + size <= STACK + STACK_SIZE:
            return bytes(self.stack[address - STACK : address - STACK + size])
        raise OSError(f"unmapped: {address:#x}")

    def module_at(self, address: int) -> ModuleInfo | None:
        return self.module if BIAS <= address < self.end else None

    def unwind(self, **regs: int) -> list:
        return unwind(regs, self.read_memory, self.module_at)


@pytest.fixture
def no_cfi(unwind_builds) -> Target:
    return Target(unwind_builds["O0-no-cfi"])


@pytest.fixture
def with_cfi(unwind_builds) -> Target:
    return Target(unwind_builds["O0"])


def test_frame_pointer_chain(no_cfi):
    t = no_cfi
    sp = STACK + 0x100
    t.put(sp + 0x20, sp + 0x60, t.sym("recurse", 20))  # leaf's saved rbp, return address
    t.put(sp + 0x60, 0, t.sym("main", 20))  # recurse's: main is the outermost (rbp 0)
    frames = t.unwind(rip=t.sym("leaf", 8), rsp=sp, rbp=sp + 0x20)
    assert [f.pc for f in frames] == [t.sym("leaf", 8), t.sym("recurse", 20), t.sym("main", 20)]
    assert [f.method for f in frames] == [
        FrameMethod.CONTEXT,
        FrameMethod.FRAME_POINTER,
        FrameMethod.FRAME_POINTER,
    ]
    assert [f.stack_offset for f in frames] == [sp, sp + 0x30, sp + 0x70]
    assert frames[-1].stop is UnwindStop.OUTERMOST and not frames[-1].best_effort


@pytest.mark.parametrize(
    "rbp_delta, saved_return, why",
    [
        (0x21, True, "misaligned"),
        (-0x10, True, "below rsp"),
        (0x2000, True, "unreadable"),
        (0x20, False, "return address outside every module"),
    ],
)
def test_frame_pointer_rejects(no_cfi, rbp_delta, saved_return, why):
    t = no_cfi
    sp = STACK + 0x100
    rbp = sp + rbp_delta
    if STACK <= rbp < STACK + STACK_SIZE - 16:
        t.put(rbp, sp + 0x60, t.sym("recurse", 20) if saved_return else 0x1234)
    frames = t.unwind(rip=t.sym("leaf", 8), rsp=sp, rbp=rbp)
    assert len(frames) == 1, why
    assert frames[0].stop is UnwindStop.NO_UNWIND_INFO and frames[0].best_effort


def test_cfa_going_inward_ends_the_walk(with_cfi):
    """CFI says CFA = rbp + 16; an rbp below rsp makes the caller's rsp lower than ours."""
    t = with_cfi
    pc = t.sym("leaf", 8)
    row = load_cfi(t.path).row_at(pc - BIAS)
    assert row is not None and row.cfa.register == RBP
    sp = STACK + 0x800
    rbp = STACK + 0x700
    t.put(rbp, STACK + 0x900, t.sym("main", 20))
    frames = t.unwind(rip=pc, rsp=sp, rbp=rbp)
    assert len(frames) == 1
    assert frames[0].stop is UnwindStop.NOT_OUTER and frames[0].best_effort
    assert frames[0].return_address == t.sym("main", 20)
    assert frames[0].frame_offset == rbp + 16


def test_return_address_in_no_code_ends_the_walk(with_cfi):
    t = with_cfi
    sp = STACK + 0x100
    t.put(sp, 0xDEAD_0000)  # at leaf's entry the return address is at rsp
    frames = t.unwind(rip=t.sym("leaf"), rsp=sp)
    assert len(frames) == 1
    assert frames[0].stop is UnwindStop.NO_CODE and frames[0].return_address == 0xDEAD_0000


def test_zero_return_address_is_a_normal_end(with_cfi):
    t = with_cfi
    sp = STACK + 0x100
    frames = t.unwind(rip=t.sym("leaf"), rsp=sp)  # the fake stack is all zeros
    assert len(frames) == 1
    assert frames[0].stop is UnwindStop.ZERO_PC and not frames[0].best_effort


@pytest.mark.parametrize("rip", [0, 0x10, 0xDEAD_BEEF_0000])
def test_call_through_a_bad_pointer(no_cfi, rip):
    """pc in no code: the return address the call pushed is at rsp."""
    t = no_cfi
    sp = STACK + 0x100
    t.put(sp, t.sym("leaf", 30))
    frames = t.unwind(rip=rip, rsp=sp, rbp=0)
    assert [f.pc for f in frames] == [rip, t.sym("leaf", 30)]
    assert frames[1].method is FrameMethod.STACK_TOP and frames[1].stack_offset == sp + 8
    assert frames[1].lookup_pc == t.sym("leaf", 29)
    assert frames[-1].stop is UnwindStop.OUTERMOST  # leaf has no CFI and rbp is 0


def test_bad_pointer_with_an_unreadable_stack(no_cfi):
    frames = no_cfi.unwind(rip=0, rsp=0x10, rbp=0)
    assert len(frames) == 1 and frames[0].pc == 0
    assert frames[0].stop is UnwindStop.NO_CODE and frames[0].best_effort


@pytest.mark.parametrize("limit", [2, 3])
def test_max_frames(no_cfi, limit):
    """The walk stops at max_frames; a stack that ends there by itself ends naturally."""
    t = no_cfi
    sp = STACK + 0x100
    t.put(sp + 0x20, sp + 0x60, t.sym("recurse", 20))
    t.put(sp + 0x60, 0, t.sym("main", 20))
    regs = {"rip": t.sym("leaf", 8), "rsp": sp, "rbp": sp + 0x20}
    frames = unwind(regs, t.read_memory, t.module_at, max_frames=limit)
    assert len(frames) == limit
    if limit == 2:
        assert frames[-1].stop is UnwindStop.MAX_FRAMES and not frames[-1].best_effort
        assert frames[-1].return_address == t.sym("main", 20)  # found, not walked to
    else:
        assert frames[-1].stop is UnwindStop.OUTERMOST


def test_arguments_that_are_errors(no_cfi):
    with pytest.raises(UnwindError, match="rip and rsp"):
        unwind({"rip": 0x1000}, no_cfi.read_memory, no_cfi.module_at)
    with pytest.raises(UnwindError, match="max_frames"):
        unwind({"rip": 0, "rsp": 0}, no_cfi.read_memory, no_cfi.module_at, max_frames=0)


def test_register_values_are_taken_as_64_bit_patterns(no_cfi):
    frames = no_cfi.unwind(rip=0, rsp=-8, rbp=-1)
    assert frames[0].stack_offset == 2**64 - 8
    assert frames[0].registers["rbp"] == 2**64 - 1
