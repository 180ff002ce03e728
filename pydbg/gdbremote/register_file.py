"""The current thread's registers as target_xml.REGISTERS lays them out, read and written
through the registers facet.

General, segment and base registers and xmm0-15 come from `registers.get_value`; the x87
registers, mxcsr and the AVX upper halves from the XSAVE area (`get_xsave_area`): the
FXSAVE region (control words at 0..31, st0-7 at 32 + 16 * i, mxcsr at 24) and the AVX
component in the standard format at byte 576, whose state is all zero when XSTATE_BV's
bit 2 (byte 512) says the component is in its initial state.

Writes go through `set_value` (general registers, xmm0-15) and `set_xsave_value` (the
rest); a register whose value does not change is not written (gdb's `G` sends them all).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from pydbg.gdbremote.target_xml import REGISTERS, RegisterDef

if TYPE_CHECKING:
    from pydbg.registers import Registers

__all__ = ["read_all", "read_one", "write_one"]

_FACET_NAMES = {"eflags": "efl"}
_XSAVE_AVX = 576
_XSTATE_BV = 512


_X87_CONTROL = ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")
# Registers that live in the XSAVE area rather than behind registers.get_value.
_XSAVE_NAMES = frozenset(
    (*_X87_CONTROL, "mxcsr", *(f"st{n}" for n in range(8)), *(f"ymm{n}h" for n in range(16)))
)


# x87 control registers and mxcsr in the FXSAVE region: (offset, size) as gdbserver's
# i387_fxsave_to_cache reads them (64-bit FIP/FDP split into offset and selector).
_FXSAVE_FIELDS = {
    "fctrl": (0, 2),
    "fstat": (2, 2),
    "fop": (6, 2),
    "fioff": (8, 4),
    "fiseg": (12, 2),
    "fooff": (16, 4),
    "foseg": (20, 2),
    "mxcsr": (24, 4),
}


def _from_facet(reg: RegisterDef) -> bool:
    return reg.name not in _XSAVE_NAMES


def _ftag(fx: bytes) -> int:
    """The full x87 tag word from FXSAVE's abridged one (one bit per physical register:
    empty or not) and the registers' contents, as FSTENV would give it."""
    fsw = struct.unpack_from("<H", fx, 2)[0]
    abridged = fx[4]
    top = (fsw >> 11) & 7
    tag = 0
    for physical in range(8):
        if not abridged & (1 << physical):
            kind = 3  # empty
        else:
            st = (physical - top) & 7
            raw = fx[32 + 16 * st : 42 + 16 * st]
            mantissa = int.from_bytes(raw[:8], "little")
            exponent = int.from_bytes(raw[8:10], "little") & 0x7FFF
            if exponent == 0x7FFF:
                kind = 2  # special: infinity or NaN
            elif exponent == 0:
                kind = 1 if mantissa == 0 else 2  # zero, or denormal (special)
            else:
                kind = 0 if mantissa >> 63 else 2  # valid, or unnormal (special)
        tag |= kind << (2 * physical)
    return tag


def _from_xsave(xsave: bytes, name: str) -> bytes:
    """The raw little-endian bytes of an x87, mxcsr or ymm-high register."""
    if name.startswith("st"):
        n = int(name[2:])
        return xsave[32 + 16 * n : 42 + 16 * n]
    if name.startswith("ymm"):
        n = int(name[3:-1])
        bv = int.from_bytes(xsave[_XSTATE_BV : _XSTATE_BV + 8], "little")
        at = _XSAVE_AVX + 16 * n
        if not bv & 4 or len(xsave) < at + 16:
            return bytes(16)
        return xsave[at : at + 16]
    if name == "ftag":
        value = _ftag(xsave)
    else:
        at, size = _FXSAVE_FIELDS[name]
        value = int.from_bytes(xsave[at : at + size], "little")
        if name == "fop":
            value &= 0x7FF  # the 11-bit opcode
    return value.to_bytes(4, "little")


def read_one(registers: Registers, number: int, xsave: bytes | None = None) -> bytes:
    """Register `number`'s bytes, little-endian, its size."""
    reg = REGISTERS[number]
    if _from_facet(reg):
        value = registers.get_value(_FACET_NAMES.get(reg.name, reg.name))
        return value.to_bytes(reg.size, "little")
    if xsave is None:
        xsave = registers.get_xsave_area()
    return _from_xsave(xsave, reg.name)


def read_all(registers: Registers) -> bytes:
    """Every register, in order: the `g` packet's data."""
    xsave = registers.get_xsave_area()
    return b"".join(read_one(registers, n, xsave) for n in range(len(REGISTERS)))


def write_one(registers: Registers, number: int, data: bytes) -> None:
    """Set register `number` from its little-endian bytes."""
    reg = REGISTERS[number]
    if len(data) != reg.size:
        raise ValueError(f"{reg.name} takes {reg.size} bytes, not {len(data)}")
    if _from_facet(reg):
        name = _FACET_NAMES.get(reg.name, reg.name)
        value = int.from_bytes(data, "little")
        if registers.get_value(name) != value:
            registers.set_value(name, value)
        return
    if read_one(registers, number) != data:
        registers.set_xsave_value(reg.name, int.from_bytes(data, "little"))
