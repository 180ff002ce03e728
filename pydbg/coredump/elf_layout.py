"""The bytes of an x86_64 Linux core file: the ELF header, program headers and notes.

Layouts are the kernel's (include/uapi/linux/elfcore.h, fs/binfmt_elf.c) as gdb, eu-stack
and readelf read them; struct formats spell out every padding byte so that each size can be
checked against the C one (elf_prstatus 336 bytes, elf_prpsinfo 136, siginfo_t 128).
Nothing here reads a process: callers hand in plain values.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "GREGSET_ORDER",
    "NT_AUXV",
    "NT_FILE",
    "NT_FPREGSET",
    "NT_PRPSINFO",
    "NT_PRSTATUS",
    "NT_SIGINFO",
    "NT_X86_XSTATE",
    "PF_R",
    "PF_W",
    "PF_X",
    "FileMapping",
    "ProcessInfo",
    "Segment",
    "ThreadStatus",
    "file_note",
    "headers",
    "headers_size",
    "note",
    "prpsinfo",
    "prstatus",
    "siginfo",
]

# Note types (elf.h).
NT_PRSTATUS = 1
NT_FPREGSET = 2
NT_PRPSINFO = 3
NT_AUXV = 6
NT_X86_XSTATE = 0x202
NT_SIGINFO = 0x53494749
NT_FILE = 0x46494C45

PF_X, PF_W, PF_R = 1, 2, 4
_PT_LOAD, _PT_NOTE = 1, 4
_ET_CORE, _EM_X86_64 = 4, 62
_PN_XNUM = 0xFFFF  # e_phnum escape: the real count is in section header 0's sh_info

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")  # Elf64_Ehdr, 64 bytes
_PHDR = struct.Struct("<IIQQQQQQ")  # Elf64_Phdr, 56 bytes
_SHDR = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr, 64 bytes
# struct elf_prstatus: pr_info {signo, code, errno}, pr_cursig, 2 pad, pr_sigpend,
# pr_sighold, pid/ppid/pgrp/sid, four timevals, 27 general registers, pr_fpvalid, 4 pad.
_PRSTATUS = struct.Struct("<iiih2xQQiiii8q27Qi4x")
# struct elf_prpsinfo: state, sname, zomb, nice, 4 pad, flag, uid, gid, pid/ppid/pgrp/sid,
# fname[16], psargs[80].
_PRPSINFO = struct.Struct("<bcbb4xQIIiiii16s80s")
_SIGINFO_SIZE = 128

# The general registers in struct user_regs_struct order (elf_gregset_t).
GREGSET_ORDER = (
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
    "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
    "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
)  # fmt: skip

assert _PRSTATUS.size == 336 and _PRPSINFO.size == 136 and _EHDR.size == 64


def note(name: bytes, note_type: int, desc: bytes) -> bytes:
    """One ELF note: namesz, descsz, type, the NUL-terminated name and the descriptor, each
    padded to 4 bytes (what the kernel writes; gABI's 8-byte alignment is not used for
    core notes)."""
    name_z = name + b"\0"
    return (
        struct.pack("<III", len(name_z), len(desc), note_type)
        + name_z.ljust(_round4(len(name_z)), b"\0")
        + desc.ljust(_round4(len(desc)), b"\0")
    )


def _round4(n: int) -> int:
    return (n + 3) & ~3


@dataclass(frozen=True)
class ProcessInfo:
    """What elf_prpsinfo and every elf_prstatus say of the process."""

    pid: int
    ppid: int
    pgrp: int
    sid: int
    uid: int
    gid: int
    state: str  # /proc's one-letter state (R, S, T, t...)
    nice: int
    flags: int  # the task's PF_* flags
    fname: bytes  # comm, at most 15 bytes
    psargs: bytes  # the command line, arguments separated by spaces


@dataclass(frozen=True)
class ThreadStatus:
    """The per-thread part of elf_prstatus."""

    tid: int
    registers: Sequence[int]  # in GREGSET_ORDER
    signal: int = 0  # the signal the thread stopped for (pr_cursig and pr_info.si_signo)
    sigpend: int = 0
    sighold: int = 0
    utime_us: int = 0
    stime_us: int = 0
    cutime_us: int = 0
    cstime_us: int = 0


def _timeval(microseconds: int) -> tuple[int, int]:
    return divmod(microseconds, 1_000_000)


def prstatus(process: ProcessInfo, thread: ThreadStatus) -> bytes:
    """The NT_PRSTATUS descriptor of one thread: pr_pid is its tid; of pr_info only
    si_signo is filled, as the kernel does (the whole siginfo is NT_SIGINFO's)."""
    if len(thread.registers) != len(GREGSET_ORDER):
        raise ValueError(f"{len(GREGSET_ORDER)} registers are needed, not {len(thread.registers)}")
    return _PRSTATUS.pack(
        thread.signal, 0, 0, thread.signal,
        thread.sigpend, thread.sighold,
        thread.tid, process.ppid, process.pgrp, process.sid,
        *_timeval(thread.utime_us), *_timeval(thread.stime_us),
        *_timeval(thread.cutime_us), *_timeval(thread.cstime_us),
        *thread.registers,
        1,  # pr_fpvalid: NT_FPREGSET follows
    )  # fmt: skip


def prpsinfo(process: ProcessInfo) -> bytes:
    """The NT_PRPSINFO descriptor (fill_psinfo in fs/binfmt_elf.c): pr_state is the bit
    number of the task state plus one, pr_sname its letter from "RSDTZW"."""
    sname = process.state.upper()[:1] or "."
    index = "RSDTZW".find(sname)
    if index < 0:
        sname = "."
    return _PRPSINFO.pack(
        max(index, 0), sname.encode(), 1 if sname == "Z" else 0, process.nice,
        process.flags, process.uid, process.gid,
        process.pid, process.ppid, process.pgrp, process.sid,
        process.fname[:15], process.psargs[:79],
    )  # fmt: skip


def siginfo(signo: int, si_code: int, address: int = 0, sender_pid: int = 0,
            sender_uid: int = 0) -> bytes:  # fmt: skip
    """A 128-byte siginfo_t for NT_SIGINFO: si_signo, si_errno, si_code, then the union:
    si_addr for a fault the kernel raised (si_code > 0 on SIGSEGV, SIGBUS, SIGILL, SIGFPE,
    SIGTRAP), si_pid/si_uid for a signal a process sent (si_code <= 0)."""
    head = struct.pack("<iii4x", signo, 0, si_code)
    if si_code > 0 and signo in (4, 5, 7, 8, 11):  # SIGILL SIGTRAP SIGBUS SIGFPE SIGSEGV
        body = struct.pack("<Q", address)
    else:
        body = struct.pack("<iI", sender_pid, sender_uid)
    return (head + body).ljust(_SIGINFO_SIZE, b"\0")


@dataclass(frozen=True)
class FileMapping:
    """One entry of NT_FILE: a file mapped at [start, end) from `offset` (bytes)."""

    start: int
    end: int
    offset: int
    path: str


def file_note(mappings: Sequence[FileMapping], page_size: int) -> bytes:
    """The NT_FILE descriptor: count, page size, (start, end, offset in pages) per
    mapping, then the NUL-terminated file names in the same order."""
    out = [struct.pack("<QQ", len(mappings), page_size)]
    out += [struct.pack("<QQQ", m.start, m.end, m.offset // page_size) for m in mappings]
    out += [m.path.encode("utf-8", "surrogateescape") + b"\0" for m in mappings]
    return b"".join(out)


@dataclass(frozen=True)
class Segment:
    """A PT_LOAD: [vaddr, vaddr+memsz) with its first `filesz` bytes in the file at
    `offset` (filesz 0: the mapping's contents are not in the core)."""

    vaddr: int
    memsz: int
    filesz: int
    flags: int
    offset: int = 0


def headers(notes_offset: int, notes_size: int, segments: Sequence[Segment],
            page_size: int) -> bytes:  # fmt: skip
    """The ELF header and program headers (PT_NOTE, then one PT_LOAD per segment); with
    0xffff or more of them, the count goes to section header 0 (PN_XNUM), which follows."""
    phnum = 1 + len(segments)
    extended = phnum >= _PN_XNUM
    shoff = 64 + _PHDR.size * phnum if extended else 0
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little endian, SysV ABI
    out = [
        _EHDR.pack(
            ident, _ET_CORE, _EM_X86_64, 1, 0, 64, shoff, 0, 64, _PHDR.size,
            _PN_XNUM if extended else phnum, _SHDR.size if extended else 0,
            1 if extended else 0, 0,
        ),
        _PHDR.pack(_PT_NOTE, 0, notes_offset, 0, 0, notes_size, 0, 4),
    ]  # fmt: skip
    for seg in segments:
        out.append(
            _PHDR.pack(
                _PT_LOAD, seg.flags, seg.offset, seg.vaddr, 0, seg.filesz, seg.memsz, page_size
            )
        )
    if extended:
        out.append(_SHDR.pack(0, 0, 0, 0, 0, 0, 0, phnum, 0, 0))
    return b"".join(out)


def headers_size(segment_count: int) -> int:
    """How many bytes `headers` returns for this many PT_LOAD segments."""
    phnum = 1 + segment_count
    return 64 + _PHDR.size * phnum + (_SHDR.size if phnum >= _PN_XNUM else 0)
