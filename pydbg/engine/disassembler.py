"""x86-64 disassembly with capstone: instructions of a live process, branch targets named.

One decoder serves the `u` command, `control.disassemble` and the stepping code's
classification of instructions (calls, returns, jumps, system calls, rep-string), so what
`u` shows as a call is what `p` steps over.  What transfers control is decided by the
native core's `transfer_kind` (csrc/stepping.pyx), the one definition its branch step
(`tb`) uses too: `th` stops before exactly the instructions after which `tb` may stop.
Inserted int3 bytes never show: the native core returns the original bytes from memory
reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import capstone
from capstone import x86

from pydbg import _native
from pydbg.addresses import hex64

__all__ = ["Insn", "Instruction", "classify", "decode"]

_CS = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
_CS.detail = True
MAX_INSN = 15  # the longest x86 instruction
_REP_PREFIXES = {0xF2, 0xF3}
_STRING_MNEMONICS = ("movs", "stos", "lods", "cmps", "scas", "ins", "outs")


class Insn(Enum):
    """How an instruction transfers control, as far as stepping cares."""

    PLAIN = 0
    CALL = 1
    RETURN = 2  # ret, iret
    JUMP = 3  # jmp, jcc, loop, jrcxz, xbegin
    REP_STRING = 4  # rep-prefixed string instruction: STEP_OVER runs over it
    SYSTEM = 5  # syscall, sysenter, int n, int3, int1: a transfer to the kernel


_TRANSFERS = {
    _native.TRANSFER_CALL: Insn.CALL,
    _native.TRANSFER_RETURN: Insn.RETURN,
    _native.TRANSFER_JUMP: Insn.JUMP,
    _native.TRANSFER_SYSTEM: Insn.SYSTEM,
}


@dataclass(frozen=True)
class Instruction:
    address: int
    size: int
    code: bytes
    mnemonic: str
    operands: str
    kind: Insn
    target: int | None  # the direct branch or call target, if the operand is immediate


def _kind(insn: capstone.CsInsn) -> Insn:
    transfer = _TRANSFERS.get(_native.transfer_kind(insn))
    if transfer is not None:
        return transfer
    prefixes = set(insn.bytes[: max(0, insn.size - 1)]) & _REP_PREFIXES
    if prefixes and insn.mnemonic.split()[-1].startswith(_STRING_MNEMONICS):
        return Insn.REP_STRING
    return Insn.PLAIN


def classify(code: bytes, pc: int) -> tuple[Insn, int]:
    """(class, length) of the instruction at the start of `code`; (PLAIN, 0) if it does
    not decode."""
    for insn in _CS.disasm(code, pc, 1):
        return _kind(insn), insn.size
    return Insn.PLAIN, 0


def decode(code: bytes, address: int, count: int) -> list[Instruction]:
    """Up to `count` instructions from `code` (at `address`); an undecodable byte becomes
    a one-byte `(bad)` so that a listing goes on past garbage, as cdb's does."""
    out: list[Instruction] = []
    offset = 0
    while len(out) < count and offset < len(code):
        chunk = code[offset : offset + MAX_INSN]
        decoded = next(_CS.disasm(chunk, address + offset, 1), None)
        if decoded is None:
            out.append(Instruction(address + offset, 1, chunk[:1], "(bad)", "", Insn.PLAIN, None))
            offset += 1
            continue
        kind = _kind(decoded)
        target = None
        if kind in (Insn.CALL, Insn.JUMP) and decoded.operands:
            operand = decoded.operands[0]
            if operand.type == x86.X86_OP_IMM:
                target = int(operand.imm)
        out.append(
            Instruction(
                int(decoded.address),
                int(decoded.size),
                bytes(decoded.bytes),
                decoded.mnemonic,
                decoded.op_str,
                kind,
                target,
            )
        )
        offset += decoded.size
    return out


def render(insn: Instruction, name_of: Callable[[int], str | None]) -> str:
    """cdb's `u` line: address, bytes, mnemonic, operands with a named target."""
    operands = insn.operands
    if insn.target is not None:
        name = name_of(insn.target)
        if name:
            operands = f"{name} ({hex64(insn.target)})"
    return f"{hex64(insn.address)} {insn.code.hex():<15} {insn.mnemonic:<7} {operands}".rstrip()
