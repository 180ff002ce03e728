"""Reading an x86_64 Linux ELF core file: the recorded process as plain values.

What a core holds (fs/binfmt_elf.c, gdb's gcore, pydbg.coredump.writer):

- PT_NOTE: NT_PRSTATUS per thread (tid, pr_cursig, the general registers; the kernel
  writes the thread that took the signal first), NT_FPREGSET / NT_X86_XSTATE after each
  (the FXSAVE image, the whole XSAVE area), NT_SIGINFO (the signal that made the core),
  NT_AUXV, NT_FILE (every file-backed mapping: start, end, file offset, path) and
  NT_PRPSINFO (the process name and arguments).
- PT_LOAD: memory.  A segment's first p_filesz bytes are in the core; the rest of p_memsz
  was not dumped.  The kernel leaves out read-only file mappings (a library's text) but
  for their first page, so, as gdb does, bytes missing from the core are read from the
  file that NT_FILE says was mapped there, at its offset.  Memory that is in neither is
  unavailable.

pyelftools finds the segments and notes; descriptors are unpacked with the layouts of
pydbg.coredump.elf_layout (the same structs the writer packs).  Nothing here knows about
the engine: `CoreFile` is what pydbg.engine.dump serves the session from.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.segments import NoteSegment

from pydbg.coredump.elf_layout import (
    _PRPSINFO,
    _PRSTATUS,
    GREGSET_ORDER,
    NT_AUXV,
    NT_FILE,
    NT_FPREGSET,
    NT_PRPSINFO,
    NT_PRSTATUS,
    NT_SIGINFO,
    NT_X86_XSTATE,
)
from pydbg.errors import CoreFormatError

__all__ = ["CoreFile", "CoreMapping", "CoreSignal", "CoreThread", "read_core"]

_AT_NULL = 0
_SIGINFO_HEAD = struct.Struct("<iii4x")  # si_signo, si_errno, si_code, pad
_SIGINFO_ADDR = struct.Struct("<Q")  # si_addr (faults) / si_pid, si_uid (kill): offset 16
_SIGINFO_PID = struct.Struct("<i")
_SIGFAULTS = frozenset({4, 5, 7, 8, 11})  # SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV
_SI_USER, _SI_TKILL, _SI_QUEUE = 0, -6, -1
_MAX_FILES = 1 << 16  # NT_FILE count bound: the note is not trusted


@dataclass(frozen=True)
class CoreThread:
    """One NT_PRSTATUS (and the floating-point note after it)."""

    tid: int
    signal: int  # pr_cursig: the signal it was handling (0 for the others)
    registers: dict[str, int]  # user_regs_struct by name (GREGSET_ORDER)
    xsave: bytes | None  # NT_X86_XSTATE, else NT_FPREGSET (512 bytes), else None


@dataclass(frozen=True)
class CoreSignal:
    """NT_SIGINFO: the signal the core was made for."""

    signo: int
    errno: int
    code: int
    address: int  # si_addr for SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGTRAP, else 0
    sender_pid: int  # si_pid for SI_USER / SI_TKILL / SI_QUEUE, else 0


@dataclass(frozen=True)
class CoreMapping:
    """One NT_FILE entry: [start, end) maps `path` from byte `offset`."""

    start: int
    end: int
    offset: int
    path: str


@dataclass(frozen=True)
class _Load:
    vaddr: int
    memsz: int
    filesz: int
    offset: int
    flags: int  # PF_R / PF_W / PF_X


@dataclass
class CoreFile:
    """A core file, read: its threads, signal, auxv, mappings, name and memory."""

    path: str
    pid: int
    threads: list[CoreThread]
    signal: CoreSignal | None
    auxv: dict[int, int]
    files: list[CoreMapping]
    name: str  # pr_fname (the comm, at most 15 characters)
    args: str  # pr_psargs (the first 80 bytes of the command line)
    loads: list[_Load]
    # path -> path to read instead (the `prog` argument stands for the recorded image).
    substitutes: dict[str, str] = field(default_factory=dict)
    _handles: dict[str, BinaryIO | None] = field(default_factory=dict, repr=False)

    @property
    def executable(self) -> str:
        """The recorded main program's path: the NT_FILE mapping holding AT_PHDR."""
        phdr = self.auxv.get(3, 0)  # AT_PHDR
        for mapping in self.files:
            if mapping.start <= phdr < mapping.end:
                return mapping.path
        return self.files[0].path if self.files else ""

    def regions(self) -> list[tuple[int, int, int]]:
        """(start, end, PF_* flags) of every PT_LOAD, in address order."""
        return [(s.vaddr, s.vaddr + s.memsz, s.flags) for s in sorted(self.loads, key=_vaddr)]

    def missing_files(self) -> list[str]:
        """The mapped files (as they will be read: substitutes applied) that cannot be
        opened: what the core left out of them cannot be read, nor their symbols."""
        paths = dict.fromkeys(self.substitutes.get(m.path, m.path) for m in self.files)
        return [path for path in paths if not os.access(path, os.R_OK)]

    def mapping_at(self, address: int) -> CoreMapping | None:
        for mapping in self.files:
            if mapping.start <= address < mapping.end:
                return mapping
        return None

    def read(self, address: int, size: int) -> bytes:
        """The longest readable prefix of [address, address + size)."""
        out = bytearray()
        while len(out) < size:
            here = address + len(out)
            chunk = self._read_some(here, size - len(out))
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def _read_some(self, address: int, size: int) -> bytes:
        for load in self.loads:
            if not load.vaddr <= address < load.vaddr + load.memsz:
                continue
            into = address - load.vaddr
            if into < load.filesz:
                count = min(size, load.filesz - into)
                return self._core_bytes(load.offset + into, count)
            count = min(size, load.memsz - into)
            return self._file_bytes(address, count)
        return b""

    def _core_bytes(self, offset: int, size: int) -> bytes:
        handle = self._open(self.path)
        if handle is None:
            return b""
        handle.seek(offset)
        return handle.read(size)

    def _file_bytes(self, address: int, size: int) -> bytes:
        """Bytes the core left out, from the mapped file (as gdb does); b"" when no file
        was mapped there or it cannot be read."""
        mapping = self.mapping_at(address)
        if mapping is None:
            return b""
        size = min(size, mapping.end - address)
        handle = self._open(self.substitutes.get(mapping.path, mapping.path))
        if handle is None:
            return b""
        handle.seek(mapping.offset + address - mapping.start)
        data = handle.read(size)
        # Past the file's end a mapping reads as zeros up to the page end (mmap(2)).
        return data + bytes(size - len(data)) if data else b""

    def _open(self, path: str) -> BinaryIO | None:
        if path not in self._handles:
            try:
                self._handles[path] = open(path, "rb")  # noqa: SIM115 (kept open: many reads)
            except OSError:
                self._handles[path] = None
        return self._handles[path]

    def close(self) -> None:
        for handle in self._handles.values():
            if handle is not None:
                handle.close()
        self._handles.clear()


def _vaddr(load: _Load) -> int:
    return load.vaddr


def read_core(path: str) -> CoreFile:
    """Read the core file at `path`.  OSError if it cannot be opened; CoreFormatError if it
    is not an x86_64 ELF core or is cut short."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            elf = ELFFile(f)
        except ELFError as exc:
            raise CoreFormatError(path, f"not an ELF core file ({exc})") from exc
        try:
            if elf.header.e_type != "ET_CORE":
                raise CoreFormatError(path, f"not a core file (ELF type {elf.header.e_type})")
            if elf.header.e_machine != "EM_X86_64":
                raise CoreFormatError(path, f"not an x86_64 core ({elf.header.e_machine})")
            loads: list[_Load] = []
            notes: list[tuple[int, bytes]] = []
            for segment in elf.iter_segments():
                header = segment.header
                end = header.p_offset + header.p_filesz
                if end > size:
                    raise CoreFormatError(
                        path,
                        f"truncated: a segment ends at byte {end}, the file has {size} "
                        "(a partial copy, or the dump was cut short by RLIMIT_CORE)",
                    )
                if header.p_type == "PT_LOAD":
                    loads.append(
                        _Load(
                            header.p_vaddr,
                            header.p_memsz,
                            header.p_filesz,
                            header.p_offset,
                            header.p_flags,
                        )
                    )
                elif isinstance(segment, NoteSegment):
                    for note in segment.iter_notes():
                        notes.append((_note_type(note["n_type"]), _desc(note)))
        except CoreFormatError:
            raise
        except Exception as exc:  # pyelftools raises many kinds on damaged input
            raise CoreFormatError(
                path, f"malformed core file ({type(exc).__name__}: {exc})"
            ) from exc
    return _assemble(path, loads, notes)


def _note_type(n_type: object) -> int:
    """pyelftools names the types it knows ("NT_PRSTATUS"); the number is what counts."""
    if isinstance(n_type, int):
        return n_type
    return _NOTE_NUMBERS.get(str(n_type), -1)


_NOTE_NUMBERS = {
    "NT_PRSTATUS": NT_PRSTATUS,
    "NT_FPREGSET": NT_FPREGSET,
    "NT_PRPSINFO": NT_PRPSINFO,
    "NT_AUXV": NT_AUXV,
    "NT_X86_XSTATE": NT_X86_XSTATE,
    "NT_SIGINFO": NT_SIGINFO,
    "NT_FILE": NT_FILE,
}


def _desc(note: Mapping[str, object]) -> bytes:
    data = note["n_descdata"]
    return data if isinstance(data, bytes) else str(data).encode("latin-1")


def _assemble(path: str, loads: list[_Load], notes: list[tuple[int, bytes]]) -> CoreFile:
    threads: list[CoreThread] = []
    signal = None
    auxv: dict[int, int] = {}
    files: list[CoreMapping] = []
    name = args = ""
    pid = 0

    for kind, desc in notes:
        if kind == NT_PRSTATUS:
            if len(desc) < _PRSTATUS.size:
                raise CoreFormatError(path, f"NT_PRSTATUS of {len(desc)} bytes")
            fields = _PRSTATUS.unpack_from(desc)
            registers = dict(zip(GREGSET_ORDER, fields[18:45], strict=True))
            threads.append(CoreThread(fields[6], fields[3], registers, None))
        elif kind in (NT_FPREGSET, NT_X86_XSTATE) and threads:
            # (A thread's notes follow its NT_PRSTATUS.)  The XSAVE area supersedes the
            # FXSAVE image: its first 512 bytes are one.
            if kind == NT_X86_XSTATE or threads[-1].xsave is None:
                threads[-1] = replace(threads[-1], xsave=desc)
        elif kind == NT_SIGINFO and signal is None and len(desc) >= 24:
            signal = _signal(desc)
        elif kind == NT_AUXV:
            for key, value in struct.iter_unpack("<QQ", desc[: len(desc) // 16 * 16]):
                if key == _AT_NULL:
                    break
                auxv[key] = value
        elif kind == NT_FILE:
            files = _files(path, desc)
        elif kind == NT_PRPSINFO and len(desc) >= _PRPSINFO.size:
            fields = _PRPSINFO.unpack_from(desc)
            pid = fields[-6] if len(fields) >= 6 else 0
            name = _cstring(fields[-2])
            args = _cstring(fields[-1])
    if not threads:
        raise CoreFormatError(path, "no NT_PRSTATUS note: no thread to show")
    if not pid:
        pid = threads[0].tid
    return CoreFile(path, pid, threads, signal, auxv, files, name, args, loads)


def _signal(desc: bytes) -> CoreSignal:
    signo, errno, code = _SIGINFO_HEAD.unpack_from(desc)
    address = sender = 0
    if signo in _SIGFAULTS and code > 0:
        (address,) = _SIGINFO_ADDR.unpack_from(desc, 16)
    elif code in (_SI_USER, _SI_TKILL, _SI_QUEUE):
        (sender,) = _SIGINFO_PID.unpack_from(desc, 16)
    return CoreSignal(signo, errno, code, address, sender)


def _files(path: str, desc: bytes) -> list[CoreMapping]:
    """NT_FILE: count, page size, (start, end, page offset) per entry, then the paths."""
    count, page_size = struct.unpack_from("<QQ", desc)
    if count > _MAX_FILES or 16 + count * 24 > len(desc):
        raise CoreFormatError(path, f"NT_FILE claims {count} mappings in {len(desc)} bytes")
    entries = [struct.unpack_from("<QQQ", desc, 16 + i * 24) for i in range(count)]
    names = desc[16 + count * 24 :].split(b"\0")
    return [
        CoreMapping(start, end, page * page_size, os.fsdecode(names[i]) if i < len(names) else "")
        for i, (start, end, page) in enumerate(entries)
    ]


def _cstring(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
