"""The data spaces facet (IDebugDataSpaces): the current process's virtual memory.

Reads show the program's own bytes: software breakpoints pydbg keeps in memory read as the
bytes they replaced, and writes over one update the byte it saved (the int3 stays).  Every
write reports ChangeDebuggeeState(DEBUG_CDS_DATA, DEBUG_DATA_SPACE_VIRTUAL).

A read or write that cannot cover the whole range raises MemoryAccessError whose
`.transferred` says how many bytes from the start could be read or written, and nothing of
the target changes beyond those.  `fill_virtual` checks its whole range first and writes
nothing when any of it is out of reach.

The address map (`query_virtual`, `regions`) is /proc/PID/smaps (the maps lines, with the
facts a core file needs besides: file offset, copy-on-write pages, VmFlags), told in
DbgEng's terms (MEMORY_BASIC_INFORMATION64): every mapping is one committed region whose
protection follows its r/w/x bits; the gaps between mappings are free regions.  What the
memory interface can reach is what a region `accessible` says: a mapping that grants some
access (a PROT_NONE page is as unreachable to the debugger as to the program).
For a dump target (a core file) the map is the core's: its PT_LOAD segments, with the
paths and offsets of NT_FILE (pydbg.engine.dump.DumpBackend.mappings).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from pydbg.constants import DEBUG_CDS_DATA, DataSpace
from pydbg.errors import EngineError, MemoryAccessError

if TYPE_CHECKING:
    from pydbg.engine.session import Engine

__all__ = ["DataSpaces", "MemoryRegion", "MemoryState", "MemoryType", "PageProtection"]

# x86_64 user space ends below 2**47; [vsyscall] is the one mapping above it.
USER_SPACE_END = 1 << 47
# Searches read the target in pieces of this size (one syscall each).
_SEARCH_CHUNK = 1 << 20


class MemoryState(IntEnum):
    """MEM_COMMIT / MEM_RESERVE / MEM_FREE (winnt.h): a mapping is committed, a gap free."""

    COMMIT = 0x1000
    RESERVE = 0x2000
    FREE = 0x10000


class MemoryType(IntEnum):
    """MEM_PRIVATE / MEM_MAPPED / MEM_IMAGE (winnt.h); 0 for a free region."""

    NONE = 0
    PRIVATE = 0x20000  # anonymous memory: heap, stacks, bss beyond the file
    MAPPED = 0x40000  # a file that is no loaded module, or shared anonymous memory
    IMAGE = 0x1000000  # a file of a loaded module (the executable, a library, the vDSO)


class PageProtection(IntEnum):
    """PAGE_* (winnt.h), from a mapping's r/w/x bits (Linux has no write-only page: -w-
    reads as PAGE_READWRITE, as the MMU grants read with write)."""

    NOACCESS = 0x01
    READONLY = 0x02
    READWRITE = 0x04
    EXECUTE = 0x10
    EXECUTE_READ = 0x20
    EXECUTE_READWRITE = 0x40


_PROTECTION = {
    "---": PageProtection.NOACCESS,
    "r--": PageProtection.READONLY,
    "rw-": PageProtection.READWRITE,
    "-w-": PageProtection.READWRITE,
    "--x": PageProtection.EXECUTE,
    "r-x": PageProtection.EXECUTE_READ,
    "rwx": PageProtection.EXECUTE_READWRITE,
    "-wx": PageProtection.EXECUTE_READWRITE,
}


@dataclass(frozen=True)
class MemoryRegion:
    """MEMORY_BASIC_INFORMATION64, as Linux has it: one line of /proc/PID/maps, or a gap.

    `perms` is the maps line's "r-xp" ("" for a gap) and `path` its last column: a file
    path, "[heap]", "[stack]", "[vdso]"..., or "" for anonymous memory and gaps.  pydbg
    adds what a core file writer needs: `offset`, the file offset the mapping starts at;
    `anonymous`, its bytes of private anonymous memory (smaps' Anonymous: for a file
    mapping, the pages written since, copy-on-write); `vm_flags`, smaps' two-letter
    VmFlags ("dd": not to be dumped, "io": device memory...).
    """

    base: int
    size: int
    state: MemoryState
    protect: PageProtection
    type: MemoryType
    perms: str = ""
    path: str = ""
    offset: int = 0
    anonymous: int = 0
    vm_flags: frozenset[str] = frozenset()

    @property
    def end(self) -> int:
        """The first address after the region."""
        return self.base + self.size

    @property
    def accessible(self) -> bool:
        """Whether the debugger can read and write it (a mapping granting some access)."""
        return self.state == MemoryState.COMMIT and self.protect != PageProtection.NOACCESS


def _free(base: int, end: int) -> MemoryRegion:
    return MemoryRegion(base, end - base, MemoryState.FREE, PageProtection.NOACCESS,
                        MemoryType.NONE)  # fmt: skip


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

    def fill_virtual(self, start: int, size: int, pattern: bytes) -> int:
        """FillVirtual: write `pattern` repeatedly over `size` bytes at `start` (the last
        copy cut short); return the number of bytes written.  The whole range is checked
        first: if any of it cannot be read, MemoryAccessError is raised (its `transferred`
        counts the reachable bytes from `start`) and nothing is written, so a fill never
        stops half-way at the end of a mapping.  Both passes go a piece at a time."""
        if not pattern:
            raise ValueError("the fill pattern is empty")
        if size < 0:
            raise ValueError(f"size must be >= 0, not {size}")
        piece = _SEARCH_CHUNK - _SEARCH_CHUNK % len(pattern)  # keeps the pattern in phase
        for offset in range(0, size, piece):
            try:
                self.read_virtual(start + offset, min(piece, size - offset))
            except MemoryAccessError as exc:
                exc.transferred += offset
                raise
        block = pattern * (piece // len(pattern))
        pid = self._pid("fill_virtual")
        for offset in range(0, size, piece):
            self._engine.backend.write_memory(
                pid, start + offset, block[: min(piece, size - offset)]
            )
        if size:  # one ChangeDebuggeeState for the whole fill
            self._engine.notifier.debuggee_state(DEBUG_CDS_DATA, DataSpace.VIRTUAL)
        return size

    def search_virtual(
        self, offset: int, length: int, pattern: bytes, granularity: int = 1
    ) -> int | None:
        """SearchVirtual: the first address in [offset, offset+length) where `pattern`
        lies wholly inside the range, at an address that is a multiple of `granularity`;
        None when there is none (DbgEng returns E_NOINTERFACE).  Memory out of reach is
        skipped; a match never spans it."""
        return next(self.search_virtual_all(offset, length, pattern, granularity), None)

    def search_virtual_all(
        self, offset: int, length: int, pattern: bytes, granularity: int = 1
    ) -> Iterator[int]:
        """Every match search_virtual would find one after the other, overlapping ones
        included ("QQQ" three times in "QQQQQ"), in address order (pydbg: the `s`
        command; the address map is read once, not once a match).  The target must stay
        stopped while the iterator is used."""
        if not pattern:
            raise ValueError("the search pattern is empty")
        if granularity <= 0:
            raise ValueError(f"granularity must be positive, not {granularity}")
        end = offset + length
        spans = [
            (max(offset, region.base), min(end, region.end))
            for region in self.regions()
            if region.accessible and region.end > offset and region.base < end
        ]
        for start, stop in spans:
            yield from self._search_span(start, stop, pattern, granularity)

    def _search_span(
        self, start: int, stop: int, pattern: bytes, granularity: int
    ) -> Iterator[int]:
        """The matches within one accessible span, read a chunk at a time; chunks overlap
        by len(pattern)-1 bytes so that no match is lost at a seam, nor found twice."""
        position = start
        while position + len(pattern) <= stop:
            size = min(_SEARCH_CHUNK, stop - position)
            try:
                data = self.read_virtual(position, size)
            except MemoryAccessError as exc:  # e.g. a file mapping past the file's end
                data = exc.data
            index = data.find(pattern)
            while index >= 0:
                if (position + index) % granularity == 0:
                    yield position + index
                index = data.find(pattern, index + 1)
            if len(data) < size or position + size >= stop:
                return  # the rest of the span cannot be read, or it is done
            position += size - len(pattern) + 1

    def regions(self, include_free: bool = False) -> list[MemoryRegion]:
        """Every mapping of the current process by address (pydbg; DbgEng callers loop
        over QueryVirtual), with the free gaps between them when `include_free`."""
        pid = self._pid("regions")
        dump = self._engine.dump
        try:
            maps = dump.mappings() if dump is not None else _read_smaps(pid)
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot read the address map of process {pid}: {exc}") from exc
        images = {obj.path for obj in self._engine.symbols.modules(pid)}
        rows: list[MemoryRegion] = []
        for base, end, perms, offset, path, anonymous, flags in maps:
            rows.append(
                MemoryRegion(
                    base, end - base, MemoryState.COMMIT,
                    _PROTECTION.get(perms[:3], PageProtection.NOACCESS),
                    _type_of(path, perms, images), perms, path, offset, anonymous, flags,
                )
            )  # fmt: skip
        rows.sort(key=lambda region: region.base)
        if not include_free:
            return rows
        out: list[MemoryRegion] = []
        previous = 0
        for region in rows:
            gap_end = min(region.base, USER_SPACE_END)  # no gap is told above user space
            if gap_end > previous:
                out.append(_free(previous, gap_end))
            out.append(region)
            previous = max(previous, region.end)
        if previous < USER_SPACE_END:
            out.append(_free(previous, USER_SPACE_END))
        return out

    def query_virtual(self, offset: int) -> MemoryRegion:
        """QueryVirtual: the region holding `offset`: its mapping, or the free gap around it
        (state MemoryState.FREE) when nothing is mapped there."""
        regions = self.regions(include_free=True)
        for region in regions:
            if region.base <= offset < region.end:
                return region
        # Above user space, past [vsyscall]: free up to the next mapping or the top.
        below = max((r.end for r in regions if r.end <= offset), default=0)
        above = min((r.base for r in regions if r.base > offset), default=1 << 64)
        return _free(below, above)


def _type_of(path: str, perms: str, images: set[str]) -> MemoryType:
    if path in images or path == "[vdso]":
        return MemoryType.IMAGE
    if path.startswith("/") or perms[3:4] == "s":
        return MemoryType.MAPPED
    return MemoryType.PRIVATE


_SmapsRow = tuple[int, int, str, int, str, int, frozenset[str]]


def _read_smaps(pid: int) -> list[_SmapsRow]:
    """(start, end, perms, offset, path, anonymous bytes, VmFlags) of every mapping, from
    /proc/PID/smaps.  Paths are decoded as os.fsdecode does; a " (deleted)" suffix is kept
    only while a file of that name exists (as psutil's memory_maps, which this replaces:
    psutil leaves out the offset and the flags)."""
    with open(f"/proc/{pid}/smaps", "rb") as f:
        data = f.read()
    rows: list[_SmapsRow] = []
    header: list[bytes] | None = None
    anonymous = 0
    flags: frozenset[str] = frozenset()

    def flush() -> None:
        if header is None:
            return
        start, end = (int(x, 16) for x in header[0].split(b"-"))
        path = os.fsdecode(header[5]).strip() if len(header) > 5 else ""
        if path.endswith(" (deleted)") and not os.path.lexists(path):
            path = path[: -len(" (deleted)")]
        perms = header[1].decode()
        rows.append((start, end, perms, int(header[2], 16), path, anonymous, flags))

    for line in data.split(b"\n"):
        if not line:
            continue
        fields = line.split(None, 5)
        if not fields[0].endswith(b":"):  # a maps line: the next mapping begins
            flush()
            header, anonymous, flags = fields, 0, frozenset()
        elif fields[0] == b"Anonymous:":
            anonymous = int(fields[1]) * 1024
        elif fields[0] == b"VmFlags:":
            flags = frozenset(word.decode() for word in line.split()[1:])
    flush()
    return rows
