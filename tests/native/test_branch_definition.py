"""One definition of a control transfer for the native branch step (`tb`) and the engine's
disassembler (`u`, `th`): csrc/stepping.pyx's transfer_kind.

Checked two ways.  Over a large sample of real code (libc's text from its memcpy on, tens
of thousands of instructions) the disassembler's classification agrees with what cdb's
documentation of th and tb lists, by mnemonic.  And on a live process, each native
branch_step from every stop inside the `branches` target's work() (libc's strlen, memcpy,
memchr, strcmp, a `loop`, a system call) ends exactly where single steps classified by
the disassembler say the next taken transfer leads: the step is replayed from the same
registers, which the target's code allows (see tests/targets/branches.c).
"""

from __future__ import annotations

import os

import pytest
from elftools.elf.elffile import ELFFile

from pydbg import _native
from pydbg._native import EventKind
from pydbg.engine.disassembler import Insn, classify, decode

_TRANSFERS = {Insn.CALL, Insn.RETURN, Insn.JUMP, Insn.SYSTEM}


def _by_mnemonic(mnemonic: str) -> Insn | None:
    """cdb's list (th: branches, calls, returns, system calls; tb: also counted loops),
    read off the mnemonic alone; None for an instruction that is not a transfer."""
    word = mnemonic.split()[-1]  # past `notrack`, `bnd`, `rep` prefixes
    if word in ("call", "lcall"):
        return Insn.CALL
    if word.startswith(("ret", "iret", "sysret")):
        return Insn.RETURN
    if word.startswith(("j", "loop")) or word == "xbegin":
        return Insn.JUMP
    if word in ("syscall", "sysenter", "int", "int3", "int1", "into"):
        return Insn.SYSTEM
    return None


def _libc() -> str:
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "/libc.so" in path:
                return path
    pytest.skip("no libc.so mapped")


def test_the_classification_of_real_code_is_cdbs():
    path = _libc()
    with open(path, "rb") as f:
        elf = ELFFile(f)
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".dynsym").iter_symbols()}
        text = elf.get_section_by_name(".text")
        start = symbols["memcpy"]
        offset = start - text["sh_addr"]
        code = text.data()[offset : offset + 256 * 1024]
    insns = decode(code, start, len(code))
    seen: dict[Insn, int] = {}
    for insn in insns:
        if insn.mnemonic == "(bad)":
            continue
        expected = _by_mnemonic(insn.mnemonic)
        kind = insn.kind if insn.kind in _TRANSFERS else None
        assert kind == expected, (hex(insn.address), insn.mnemonic, insn.operands)
        # The native definition is the same function, seen through classify().
        assert classify(insn.code, insn.address) == (insn.kind, insn.size)
        seen[insn.kind] = seen.get(insn.kind, 0) + 1
    assert len(insns) > 50_000
    assert all(seen.get(kind, 0) > 0 for kind in (Insn.CALL, Insn.RETURN, Insn.JUMP, Insn.SYSTEM))


def test_prefixed_and_counted_jumps():
    # (bytes, kind, conditional): capstone 5 has `loop` only in BRANCH_RELATIVE, and a
    # `notrack jmp` is as unconditional as a plain one.
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    cases = [
        (b"\xe2\xfe", _native.TRANSFER_JUMP, True),  # loop
        (b"\xe3\xfe", _native.TRANSFER_JUMP, True),  # jrcxz
        (b"\x3e\xff\xe0", _native.TRANSFER_JUMP, False),  # notrack jmp rax
        (b"\xf2\xff\xe0", _native.TRANSFER_JUMP, False),  # bnd jmp rax
        (b"\x74\x00", _native.TRANSFER_JUMP, True),  # je
        (b"\x0f\x05", _native.TRANSFER_SYSTEM, False),  # syscall
        (b"\xcc", _native.TRANSFER_SYSTEM, False),  # int3
        (b"\xf2\xc3", _native.TRANSFER_RETURN, False),  # bnd ret
        (b"\x0f\x0b", _native.TRANSFER_NONE, False),  # ud2: a fault, not a branch
    ]
    for code, kind, conditional in cases:
        (insn,) = md.disasm(code, 0x1000)
        assert _native.transfer_kind(insn) == kind, insn.mnemonic
        assert _native.transfer_is_conditional(insn) == conditional, insn.mnemonic


def _expected_stop(tracer, pid: int) -> tuple[int, int]:
    """Single-step until a transfer ran that tb stops after (any, except a conditional
    jump that fell through); (pc after it, steps)."""
    for steps in range(1, 100_000):
        pc = tracer.get_pc(pid)
        kind, size = classify(tracer.read_memory(pid, pc, 15, partial=True), pc)
        event = tracer.step(pid)
        assert event.kind == EventKind.STEP, event
        if kind in _TRANSFERS:
            if kind != Insn.JUMP or event.address != pc + size:
                return event.address, steps
            insn = decode(tracer.read_memory(pid, pc, 15, partial=True), pc, 1)[0]
            if insn.mnemonic.split()[-1] in ("jmp", "ljmp"):
                return event.address, steps  # a jmp to the next instruction
    raise AssertionError("no transfer within 100000 instructions")


def test_the_branch_step_stops_where_the_disassembler_says(tracer, driver, targets):
    binary = targets["branches"]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = tracer.spawn([binary.path], stdout=null)
    finally:
        os.close(null)
    work = binary.addr(pid, "work")
    tracer.insert_breakpoint(pid, work)
    tracer.cont(pid)
    driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == work)
    tracer.remove_breakpoint(pid, work)
    rsp = tracer.get_reg(pid, "rsp")
    back = int.from_bytes(tracer.read_memory(pid, rsp, 8), "little")
    stops = 0
    while tracer.get_pc(pid) != back:
        regs = tracer.get_regs(pid)
        expected, _ = _expected_stop(tracer, pid)
        tracer.set_regs(pid, regs)  # replay the same stretch with the branch step
        event = tracer.branch_step(pid)
        assert event.kind == EventKind.STEP, event
        assert event.address == expected, (hex(regs.rip), hex(event.address), hex(expected))
        stops += 1
    assert stops > 20  # strlen, memcpy, memchr, strcmp, the loop, getppid, returns
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
