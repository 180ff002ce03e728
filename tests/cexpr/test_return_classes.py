"""pydbg.dwarf.return_values without a target: the SysV eightbyte classes of small
structs that mix INTEGER and SSE fields, unions, arrays, and the cases sent to memory."""

from __future__ import annotations

import struct

from pydbg.dwarf.locations import Location
from pydbg.dwarf.return_values import ReturnRegisters, return_location
from pydbg.dwarf.types import ArrayType, BaseType, Encoding, Member, StructType, Type, VoidType

INT = BaseType("int", 4, Encoding.SIGNED)
LONG = BaseType("long", 8, Encoding.SIGNED)
FLOAT = BaseType("float", 4, Encoding.FLOAT)
DOUBLE = BaseType("double", 8, Encoding.FLOAT)
LDOUBLE = BaseType("long double", 16, Encoding.FLOAT)
CHAR = BaseType("char", 1, Encoding.SIGNED_CHAR)


def _struct(*members: tuple[str, Type, int], size: int) -> StructType:
    return StructType("s", size, members=[Member(n, t, offset=o) for n, t, o in members])


def _regs() -> ReturnRegisters:
    d0 = struct.unpack("<Q", struct.pack("<d", 1.5))[0]
    d1 = struct.unpack("<Q", struct.pack("<d", -2.25))[0]
    return ReturnRegisters(
        rax=0x1111111111111111,
        rdx=0x2222222222222222,
        xmm0=(0xAAAA << 64) | d0,
        xmm1=(0xBBBB << 64) | d1,
        st0=bytes(range(10)),
    )


def _data(location: Location | None) -> bytes:
    assert location is not None and len(location.pieces) == 1
    assert location.pieces[0].kind == "implicit"
    return location.pieces[0].data


def test_mixed_eightbytes() -> None:
    regs = _regs()
    d0 = struct.pack("<d", 1.5)
    # {long; double}: INTEGER then SSE -> rax, xmm0
    t = _struct(("a", LONG, 0), ("d", DOUBLE, 8), size=16)
    assert _data(return_location(t, regs)) == bytes.fromhex("11" * 8) + d0
    # {double; int}: SSE then INTEGER -> xmm0, rax (truncated to the size)
    t = _struct(("d", DOUBLE, 0), ("i", INT, 8), size=16)
    assert _data(return_location(t, regs)) == d0 + bytes.fromhex("11" * 8)
    # {float; int} share one eightbyte: INTEGER wins -> rax
    t = _struct(("f", FLOAT, 0), ("i", INT, 4), size=8)
    assert _data(return_location(t, regs)) == bytes.fromhex("11" * 8)
    # {float; float; float}: SSE, SSE -> xmm0 low 8, xmm1 low 4
    t = _struct(("x", FLOAT, 0), ("y", FLOAT, 4), ("z", FLOAT, 8), size=12)
    assert _data(return_location(t, regs)) == d0 + struct.pack("<d", -2.25)[:4]
    # char[3]: an array in one INTEGER eightbyte
    t = _struct(("c", ArrayType("", 3, element=CHAR, count=3), 0), size=3)
    assert _data(return_location(t, regs)) == bytes.fromhex("111111")


def test_memory_and_scalars() -> None:
    regs = _regs()
    # Larger than 16 bytes, or holding a long double: the address in rax.
    big = _struct(("a", LONG, 0), ("b", LONG, 8), ("c", LONG, 16), size=24)
    with_ld = _struct(("x", LDOUBLE, 0), size=16)
    for t in (big, with_ld):
        location = return_location(t, regs)
        assert location is not None and location.address == regs.rax
    assert return_location(VoidType(), regs) is None
    assert _data(return_location(LDOUBLE, regs)) == bytes(range(10)) + bytes(6)
    assert _data(return_location(FLOAT, regs)) == struct.pack("<d", 1.5)[:4]
    assert _data(return_location(CHAR, regs)) == b"\x11"
