"""Writing an ELF core file of the current process at a stop (cdb's `.dump /f`).

    write_core(client, "prog.core")                   # what the kernel would dump
    write_core(client, "prog.core", all_memory=True)  # every readable mapping (`.dump /ma`)

Everything comes through the client's public facets: the threads from system_objects, the
general registers and the XSAVE area from registers (each thread made current in turn,
then the current thread and scope frame put back), the last event from control, the
address map and the bytes from data_spaces (so software breakpoints read as the program's
own bytes and the core shows no int3).  Process facts the facets do not carry (ids, signal
masks, CPU times, the auxiliary vector) are read from /proc (pydbg.coredump.process_facts).

The notes are the kernel's, in its order (fs/binfmt_elf.c, write_note_info): for the first
thread NT_PRSTATUS, then the process's NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE, then the
thread's NT_FPREGSET and NT_X86_XSTATE; for every other thread NT_PRSTATUS, NT_FPREGSET,
NT_X86_XSTATE.  The first thread is the last event's (else the current one).  Recent
kernels add NT_X86_XSAVE_LAYOUT (the XSAVE components' offsets, from CPUID); it is left
out, as gdb and eu-stack do without it.

The signal: a signal event's, as pr_cursig in every thread's NT_PRSTATUS (as the kernel
writes it) and as NT_SIGINFO with its si_code and address, or its sender's pid (the
sender's uid is not known: 0); a breakpoint hit is the SIGTRAP Linux raised for it
(si_code SI_KERNEL, as gdb's gcore reports such a stop); any other stop has none (0, no
NT_SIGINFO), and gdb then names no signal.

Memory, one PT_LOAD per mapping, by address (the kernel's default coredump_filter, 0x33):
whole for anonymous memory that was touched, shared anonymous memory, writable private
file mappings, private file mappings with copy-on-write pages (relocated data, RELRO), and the
[vdso]; the first page of a file mapped from offset 0 that starts with an ELF header
(build ids are found there, coredump_filter bit 4); nothing (p_filesz 0) for the rest:
file contents, PROT_NONE and guard pages, [vvar] and what the kernel marks not to dump
(VmFlags dd, io), and whatever cannot be read.  `all_memory` dumps every readable mapping
whole.  Pages that cannot be read inside a dumped mapping (past the end of a file) are
zeros; pages of zeros are left as holes of a sparse file.
"""

from __future__ import annotations

import errno as _errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from pydbg.constants import STATUS_ACCESS_VIOLATION, DebugEvent
from pydbg.control import LastEventException
from pydbg.coredump import elf_layout as elf
from pydbg.coredump import process_facts
from pydbg.data_spaces import MemoryRegion, PageProtection
from pydbg.errors import CoreFileError, MemoryAccessError, PydbgError
from pydbg.registers import DEBUG_REGSRC_DEBUGGEE

if TYPE_CHECKING:
    from pydbg.client import DebugClient

__all__ = ["write_core"]

_PAGE = os.sysconf("SC_PAGE_SIZE")
_CHUNK = 1 << 20  # bytes read from the target per call
_ZEROS = bytes(_CHUNK)
_SIGTRAP = 5
_SI_KERNEL = 0x80
# GREGSET_ORDER's names as the registers facet knows them (efl is 32 bits; rflags 64).
_FACET_NAMES = ["rflags" if name == "eflags" else name for name in elf.GREGSET_ORDER]


@dataclass(frozen=True)
class _Thread:
    tid: int
    registers: list[int]
    xsave: bytes


@dataclass(frozen=True)
class _Signal:
    signo: int
    si_code: int
    address: int
    sender_pid: int


def write_core(
    client: DebugClient, path: str | os.PathLike[str], *, all_memory: bool = False
) -> None:
    """Write an ELF core file of the client's current process, stopped, to `path` (the
    module docstring says what it holds).  The target is not changed: its registers and
    memory are only read, and the current thread and scope are as before.

    No target, or targets running: the facets' NoTargetError / TargetRunningError, before
    any file is made.  A file that cannot be written: CoreFileError (an OSError), and no
    partial file is left behind (a device or a FIFO as `path` is written in order, without
    holes, and never removed)."""
    objects = client.system_objects
    pid = objects.get_current_process_system_id()
    if any(p.pid == pid and p.origin == "dump" for p in client.describe_processes()):
        # (Its /proc facts are gone with the process; the core it came from has them.)
        raise CoreFileError(
            _errno.EINVAL, "the target is a core file already; copy that file", os.fspath(path)
        )
    threads = _threads(client)
    signal = _last_signal(client)
    regions = client.data_spaces.regions()
    info = process_facts.process_info(pid)

    thread_notes: list[list[bytes]] = []
    for thread in threads:
        facts = process_facts.thread_facts(pid, thread.tid)
        status = elf.ThreadStatus(
            tid=thread.tid,
            registers=thread.registers,
            signal=signal.signo if signal else 0,
            sigpend=facts.sigpend,
            sighold=facts.sighold,
            utime_us=facts.utime_us,
            stime_us=facts.stime_us,
            cutime_us=facts.cutime_us,
            cstime_us=facts.cstime_us,
        )
        thread_notes.append(
            [
                elf.note(b"CORE", elf.NT_PRSTATUS, elf.prstatus(info, status)),
                elf.note(b"CORE", elf.NT_FPREGSET, thread.xsave[:512].ljust(512, b"\0")),
                elf.note(b"LINUX", elf.NT_X86_XSTATE, thread.xsave),
            ]
        )
    process_notes = [elf.note(b"CORE", elf.NT_PRPSINFO, elf.prpsinfo(info))]
    if signal is not None:
        desc = elf.siginfo(signal.signo, signal.si_code, signal.address, signal.sender_pid)
        process_notes.append(elf.note(b"CORE", elf.NT_SIGINFO, desc))
    process_notes.append(elf.note(b"CORE", elf.NT_AUXV, process_facts.auxv(pid)))
    files = [
        elf.FileMapping(r.base, r.end, r.offset, r.path) for r in regions if r.path.startswith("/")
    ]
    process_notes.append(elf.note(b"CORE", elf.NT_FILE, elf.file_note(files, _PAGE)))
    first, *others = thread_notes
    notes = b"".join([first[0], *process_notes, *first[1:], *(b"".join(n) for n in others)])

    lengths = [_dump_length(client, region, all_memory) for region in regions]
    notes_offset = elf.headers_size(len(regions))
    offset = _round_page(notes_offset + len(notes))
    segments = []
    for region, length in zip(regions, lengths, strict=True):
        segments.append(elf.Segment(region.base, region.size, length, _flags(region.perms), offset))
        offset += length
    head = elf.headers(notes_offset, len(notes), segments, _PAGE)
    _write_file(client, os.fspath(path), head + notes, segments, offset)


def _threads(client: DebugClient) -> list[_Thread]:
    """Every thread's registers and XSAVE area, the last event's thread (else the current
    one) first.  Each is made current to be read; the current thread and the scope frame
    are restored after."""
    objects = client.system_objects
    registers = client.registers
    engine_ids, tids = objects.get_thread_ids_by_index()
    original = objects.get_current_thread_id()
    scope = client.symbols.get_current_scope_frame_index()
    event = objects.get_event_thread()
    first = event if event in engine_ids else original
    order = sorted(range(len(engine_ids)), key=lambda i: engine_ids[i] != first)
    out = []
    try:
        for index in order:
            if objects.get_current_thread_id() != engine_ids[index]:
                objects.set_current_thread_id(engine_ids[index])
            values = registers.get_values2(DEBUG_REGSRC_DEBUGGEE, list(_FACET_NAMES))
            out.append(_Thread(tids[index], values, registers.get_xsave_area()))
    finally:
        if objects.get_current_thread_id() != original:
            objects.set_current_thread_id(original)
            if scope:
                client.symbols.set_scope_frame_by_index(scope)
    return out


def _last_signal(client: DebugClient) -> _Signal | None:
    """The signal of the last event, when it is one of the current process."""
    info = client.control.get_last_event_information()
    if info is None or info.process_id != client.system_objects.get_current_process_id():
        return None
    extra = info.extra
    if isinstance(extra, LastEventException) and extra.exception_record.signo:
        record = extra.exception_record
        parameters = record.exception_information
        if record.exception_code == STATUS_ACCESS_VIOLATION:
            address = parameters[1]  # (access kind, si_addr, signo, si_code)
        else:
            address = parameters[2] if len(parameters) > 2 else 0  # (signo, si_code, si_addr)
        return _Signal(record.signo, record.si_code, address, record.sender_pid)
    if info.type == DebugEvent.BREAKPOINT:
        return _Signal(_SIGTRAP, _SI_KERNEL, 0, 0)
    return None


def _dump_length(client: DebugClient, region: MemoryRegion, all_memory: bool) -> int:
    """How many bytes of the mapping go into the core (the module docstring's rules)."""
    if region.protect == PageProtection.NOACCESS or region.vm_flags & {"dd", "io"}:
        return 0
    try:
        magic = client.data_spaces.read_virtual(region.base, min(4, region.size))
    except MemoryAccessError:
        return 0  # [vsyscall], or a file mapping whose first page lies past the file's end
    if all_memory:
        return region.size
    is_file = region.path.startswith("/")
    deleted = region.path.endswith(" (deleted)") or region.path.startswith(("/dev/zero", "/SYSV"))
    shared = region.perms[3:4] == "s"
    if region.path == "[vdso]":
        return region.size
    if shared:
        if not is_file or deleted:
            return region.size  # shared anonymous memory (shmem)
    elif region.anonymous or (region.perms[1:2] == "w" and is_file):
        return region.size  # touched anonymous memory, written or writable file pages
    if is_file and region.offset == 0 and magic == b"\x7fELF":
        return min(_PAGE, region.size)
    return 0


def _flags(perms: str) -> int:
    return (
        (elf.PF_R if perms[0:1] == "r" else 0)
        | (elf.PF_W if perms[1:2] == "w" else 0)
        | (elf.PF_X if perms[2:3] == "x" else 0)
    )


def _round_page(n: int) -> int:
    return (n + _PAGE - 1) // _PAGE * _PAGE


def _write_file(
    client: DebugClient, path: str, head: bytes, segments: Sequence[elf.Segment], size: int
) -> None:
    """Write the core; on failure remove what was written, if it is a regular file (a
    device such as /dev/null or /dev/full is written to, never removed or truncated)."""
    try:
        f = open(path, "wb")  # noqa: SIM115 - closed below, and removed on failure
    except OSError as exc:
        raise CoreFileError(exc.errno or _errno.EIO, exc.strerror or str(exc), path) from exc
    regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    try:
        with f:
            f.write(head)
            written = len(head)
            for segment in segments:
                if segment.filesz:
                    if regular:  # what lies between is a hole
                        f.seek(segment.offset)
                    else:  # a pipe or a device: every byte in order
                        f.write(bytes(segment.offset - written))
                    _copy(client, segment.vaddr, segment.filesz, f, regular)
                    written = segment.offset + segment.filesz
            if regular:
                f.truncate(size)  # the last pages may be holes
    except BaseException as exc:
        if regular:
            os.unlink(path)
        if isinstance(exc, OSError) and not isinstance(exc, PydbgError):  # the file's
            raise CoreFileError(exc.errno or _errno.EIO, exc.strerror or str(exc), path) from exc
        raise


def _copy(client: DebugClient, address: int, size: int, f: BinaryIO, sparse: bool) -> None:
    """The target's bytes [address, address+size) to f at its position; pages that cannot
    be read are zeros; with `sparse`, chunks of zeros are skipped over (a hole)."""
    read = client.data_spaces.read_virtual
    position, end = address, address + size
    while position < end:
        length = min(_CHUNK, end - position)
        try:
            data = read(position, length)
        except MemoryAccessError as exc:
            # Keep what was read, zeros up to the next page, and go on from there.
            data = exc.data
            stop = min(end, (position + len(data)) // _PAGE * _PAGE + _PAGE)
            data += bytes(stop - position - len(data))
        if sparse and data == _ZEROS[: len(data)]:
            f.seek(len(data), os.SEEK_CUR)
        else:
            f.write(data)
        position += len(data)
