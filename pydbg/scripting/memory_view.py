"""`proc.memory`: the process's virtual memory as a byte sequence, over the data spaces facet.

    proc.memory[addr]                   # one byte, an int
    proc.memory[addr:addr + 16]         # bytes
    proc.memory[addr:addr + 3] = b"abc"  # write (the slice's length must match)
    proc.memory[addr] = 0x90

Reads show the program's own bytes (a software breakpoint reads as the byte it replaced);
writes go through to the process.  An address range that is not mapped raises
MemoryAccessError (its `transferred` says how much of the range could be reached).
Slices take no step and need both ends, except `memory[addr:] = data`, which writes all
of `data`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import overload

from pydbg.data_spaces import DataSpaces

__all__ = ["MemoryView"]

Access = Callable[[str], AbstractContextManager[object]]

_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}


class MemoryView:
    """The memory of one process, indexed by address."""

    __slots__ = ("_data", "_access")

    def __init__(self, data: DataSpaces, access: Access) -> None:
        self._data = data
        self._access = access

    def __repr__(self) -> str:
        return "<process memory>"

    @overload
    def __getitem__(self, where: int) -> int: ...
    @overload
    def __getitem__(self, where: slice) -> bytes: ...
    def __getitem__(self, where: int | slice) -> int | bytes:
        if isinstance(where, slice):
            start, stop = _bounds(where)
            if stop is None:
                raise ValueError("a read needs both ends: memory[start:stop]")
            return self.read(start, stop - start)
        return self.read(_address(where), 1)[0]

    @overload
    def __setitem__(self, where: int, value: int) -> None: ...
    @overload
    def __setitem__(self, where: slice, value: bytes | bytearray | memoryview) -> None: ...
    def __setitem__(self, where: int | slice, value: object) -> None:
        if isinstance(where, slice):
            start, stop = _bounds(where)
            if not isinstance(value, bytes | bytearray | memoryview):
                raise TypeError(f"memory[start:stop] takes bytes, not {type(value).__name__}")
            if stop is not None and stop - start != len(value):
                raise ValueError(
                    f"{len(value)} bytes do not fit memory[{start:#x}:{stop:#x}] "
                    f"({stop - start} bytes): memory cannot grow or shrink"
                )
            self.write(start, value)
            return
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 256:
            raise ValueError(f"memory[address] takes one byte (0..255), not {value!r}")
        self.write(_address(where), bytes([value]))

    def read(self, address: int, size: int) -> bytes:
        """`size` bytes at `address` (ReadVirtual)."""
        with self._access("read memory"):
            return self._data.read_virtual(_address(address), size)

    def write(self, address: int, data: bytes | bytearray | memoryview) -> None:
        """Write `data` at `address` (WriteVirtual)."""
        with self._access("write memory"):
            self._data.write_virtual(_address(address), data)

    def read_int(self, address: int, size: int = 8, *, signed: bool = False) -> int:
        """A little-endian integer of 1, 2, 4 or 8 bytes."""
        code = _format(size)
        return int(
            struct.unpack("<" + (code.lower() if signed else code), self.read(address, size))[0]
        )

    def write_int(self, address: int, value: int, size: int = 8) -> None:
        """Write a little-endian integer of 1, 2, 4 or 8 bytes; a negative value is
        written in two's complement."""
        _format(size)
        if not -(1 << (8 * size - 1)) <= value < 1 << (8 * size):
            raise ValueError(f"{value:#x} does not fit {size} bytes")
        self.write(address, (value % (1 << (8 * size))).to_bytes(size, "little"))


def _format(size: int) -> str:
    code = _FORMATS.get(size)
    if code is None:
        raise ValueError(f"an integer has 1, 2, 4 or 8 bytes, not {size!r}")
    return code


def _address(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise ValueError(f"{value!r} is not an address")
    return value


def _bounds(where: slice) -> tuple[int, int | None]:
    if where.step is not None:
        raise ValueError("memory slices take no step")
    start = _address(where.start)
    if where.stop is None:
        return start, None
    stop = _address(where.stop)
    if stop < start:
        raise ValueError(f"memory[{start:#x}:{stop:#x}] ends before it starts")
    return start, stop
