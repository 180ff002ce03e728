"""Where a function's return value is when it has just returned (System V AMD64 ABI,
§3.2.3), as gdb's `finish` finds it, for `gu` to print "Value returned is ...".

`return_location(t, registers)` gives a `Location` for a value of type `t` from the
registers at the return (`ReturnRegisters`):

    void                                   None (nothing is returned)
    integers, chars, bool, enums, pointers rax (low bytes)
    float, double                          xmm0 (low 4 or 8 bytes)
    long double                            st0 (x87, 10 bytes)
    struct/union/array up to 16 bytes      by eightbyte: an eightbyte holding only float
                                           or double fields is SSE (xmm0, then xmm1),
                                           any other is INTEGER (rax, then rdx)
    larger aggregates, or any holding a    memory: the caller's buffer, whose address
    long double or an unaligned field      the callee returns in rax

What gdb does not print either is refused with DwarfError (complex numbers, __int128,
vectors, C++ classes that are not trivially copyable: pydbg cannot tell those from C
structs here, and gcc returns them in memory, so they are out of scope).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydbg.dwarf.errors import DwarfError
from pydbg.dwarf.locations import Location, Piece
from pydbg.dwarf.types import (
    ArrayType,
    BaseType,
    Encoding,
    EnumType,
    PointerType,
    StructType,
    Type,
    VoidType,
    complete,
    strip_typedefs,
)

__all__ = ["ReturnRegisters", "return_location"]

_INTEGER, _SSE = "INTEGER", "SSE"


@dataclass(frozen=True)
class ReturnRegisters:
    """The registers a return value can be in: rax, rdx, the low 8 bytes of xmm0 and
    xmm1 (as ints of up to 128 bits), and st0's 10 bytes."""

    rax: int
    rdx: int
    xmm0: int
    xmm1: int
    st0: bytes


class _Memory(Exception):
    """The aggregate is returned in memory (MEMORY class)."""


def _is_float(t: Type) -> bool:
    return isinstance(t, BaseType) and t.encoding == Encoding.FLOAT


def _scalars(t: Type, offset: int, out: list[tuple[int, int, bool]]) -> None:
    """The scalar leaves of an aggregate: (offset, size, is float).  Raises _Memory for
    what the ABI puts in memory (long double, unaligned fields)."""
    t = complete(strip_typedefs(t))
    if isinstance(t, StructType):
        for member in t.members:
            if member.is_static:
                continue
            if member.bit_size:  # a bitfield: integer bits in its storage unit
                out.append((member.offset, 1, False))
                continue
            _scalars(member.type, offset + member.offset, out)
        return
    if isinstance(t, ArrayType):
        element = complete(strip_typedefs(t.element))
        for index in range(t.count or 0):
            _scalars(element, offset + index * element.size, out)
        return
    if _is_float(t) and t.size > 8:
        raise _Memory  # long double (X87 class) in an aggregate
    if isinstance(t, (BaseType, EnumType, PointerType)):
        if t.size and offset % t.size:
            raise _Memory  # an unaligned field
        out.append((offset, t.size, _is_float(t)))
        return
    raise DwarfError(f"no return convention for a member of type {t.display}")


def _aggregate(t: Type, regs: ReturnRegisters) -> Location:
    size = t.size
    if size > 16:
        return Location([Piece("memory", address=regs.rax)])
    leaves: list[tuple[int, int, bool]] = []
    try:
        _scalars(t, 0, leaves)
    except _Memory:
        return Location([Piece("memory", address=regs.rax)])
    classes = []
    for start in range(0, size, 8):
        inside = [is_float for offset, _, is_float in leaves if start <= offset < start + 8]
        classes.append(_SSE if inside and all(inside) else _INTEGER)
    integers = [regs.rax, regs.rdx]
    sses = [regs.xmm0, regs.xmm1]
    data = b""
    for eightbyte in classes:
        source = integers if eightbyte == _INTEGER else sses
        data += (source.pop(0) & (1 << 64) - 1).to_bytes(8, "little")
    return Location([Piece("implicit", data=data[:size])])


def return_location(t: Type, regs: ReturnRegisters) -> Location | None:
    """Where a value of type `t` is right after its function returned (module docstring);
    None for void."""
    s = complete(strip_typedefs(t))
    if isinstance(s, VoidType):
        return None
    if _is_float(s):
        if s.size == 4:
            data = (regs.xmm0 & 0xFFFFFFFF).to_bytes(4, "little")
        elif s.size == 8:
            data = (regs.xmm0 & (1 << 64) - 1).to_bytes(8, "little")
        else:  # long double: the x87 stack top, padded as it sits in memory
            data = regs.st0[:10].ljust(s.size, b"\0")
        return Location([Piece("implicit", data=data)])
    if isinstance(s, (BaseType, EnumType, PointerType)):
        if s.size > 8:  # __int128 (rax:rdx), complex floats: not here
            raise DwarfError(f"no return convention for {t.display} here")
        data = (regs.rax & (1 << 64) - 1).to_bytes(8, "little")[: s.size]
        return Location([Piece("implicit", data=data)])
    if isinstance(s, (StructType, ArrayType)):
        return _aggregate(s, regs)
    raise DwarfError(f"no return convention for {t.display} here")
