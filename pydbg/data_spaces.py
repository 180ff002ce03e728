"""The data spaces facet (IDebugDataSpaces): the current process's virtual memory.

Reads show the program's own bytes: software breakpoints pydbg keeps in memory read as the
bytes they replaced, and writes over one update the byte it saved (the int3 stays).  Every
write reports ChangeDebuggeeState(DEBUG_CDS_DATA, DEBUG_DATA_SPACE_VIRTUAL).

A read or write that cannot cover the whole range raises MemoryAccessError whose
`.transferred` says how many bytes from the start could be read or written, and nothing of
the target changes beyond those.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from pydbg.constants import DEBUG_CDS_DATA, DataSpace

if TYPE_CHECKING:
    from pydbg.engine.session import Engine

__all__ = ["DataSpaces"]


class DataSpaces:
    """client.data_spaces."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _pid(self, what: str) -> int:
        return self._engine.require_stopped(what).process.pid

    def read_virtual(self, address: int, size: int) -> bytes:
        """ReadVirtual: `size` bytes at `address`."""
        if size < 0:
            raise ValueError(f"size must be >= 0, not {size}")
        pid = self._pid("read_virtual")
        return self._engine.backend.read_memory(pid, address, size)

    def write_virtual(self, address: int, data: bytes | bytearray | memoryview) -> None:
        """WriteVirtual: write `data` at `address`."""
        pid = self._pid("write_virtual")
        self._engine.backend.write_memory(pid, address, data)
        self._engine.notifier.debuggee_state(DEBUG_CDS_DATA, DataSpace.VIRTUAL)

    def read_pointers_virtual(self, count: int, address: int) -> list[int]:
        """ReadPointersVirtual: `count` 64-bit pointers at `address`."""
        data = self.read_virtual(address, 8 * count)
        return list(struct.unpack(f"<{count}Q", data))
