"""The loaded objects of a live process, read from the dynamic loader's rendezvous.

glibc's loader keeps a `struct r_debug` (<link.h>) whose `r_map` heads the `link_map` list of
every object it loaded, and calls the empty function at `r_brk` before and after each change,
with `r_state` saying which change (RT_ADD, RT_DELETE) or that the list is whole again
(RT_CONSISTENT).  A debugger finds `r_debug` through the DT_DEBUG entry of the main program's
dynamic array, which the loader fills in while it starts; before that (at the very first
instruction) DT_DEBUG is 0 and the loader's own `_r_debug` symbol is the fallback, but the
structure is still all zero then, so the list is made from what the kernel mapped: the main
program, the loader (AT_BASE) and the vDSO (AT_SYSINFO_EHDR).  A static program has no
loader and no rendezvous: the main program and the vDSO are all there is.

Every list entry is combined with /proc/PID/maps into a `LoadedObject`: the base and size of
the file's mappings, the path the kernel shows, the GNU build id (read from the file with
pyelftools, or from memory for the vDSO) and the WinDbg-style module name (spec §9.5).
`diff_objects` and `ModuleTracker` turn two lists into LoadModule / UnloadModule material:
the engine puts a breakpoint at `breakpoint_address`, and each time it is hit with every
namespace back in RT_CONSISTENT, whatever appeared was loaded and whatever went was unloaded.

This module never calls ptrace and never opens /proc/PID/mem: target memory comes only
through the `read_memory(address, size) -> bytes` callable it is given (the engine passes
`Tracer.read_memory` bound to the pid); /proc/PID/auxv, /proc/PID/maps and /proc/PID/exe are
read directly.  Target memory is not trusted: every structure is read with bounds, the list
walk detects cycles, and failures become a `RendezvousError` or a partial list that says why
(`ModuleList.problems`), never a struct.error or an IndexError.
"""

from __future__ import annotations

import functools
import io
import os
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection
from elftools.elf.segments import NoteSegment

from pydbg.engine.images import module_name
from pydbg.errors import PydbgError, TracerClosedError, WrongThreadError

__all__ = [
    "LinkMapEntry",
    "LoadedObject",
    "MainImage",
    "ModuleDiff",
    "ModuleList",
    "ModuleTracker",
    "ProcessView",
    "RDebug",
    "RState",
    "ReadMemory",
    "RendezvousError",
    "breakpoint_address",
    "diff_objects",
    "find_r_debug",
    "loaded_objects",
    "loader_symbol",
    "locate_r_debug",
    "main_image",
    "read_auxv",
    "read_r_debug",
    "walk_link_map",
]

ReadMemory = Callable[[int, int], bytes]
"""read_memory(address, size) -> exactly `size` bytes of target memory, or raises."""

# auxv keys (elf.h).
AT_NULL = 0
AT_PHDR = 3
AT_PHNUM = 5
AT_BASE = 7
AT_ENTRY = 9
AT_SYSINFO_EHDR = 33

# Program header types and dynamic tags (elf.h).
PT_LOAD = 1
PT_DYNAMIC = 2
PT_INTERP = 3
PT_PHDR = 6
DT_NULL = 0
DT_DEBUG = 21

# x86_64 layouts: Elf64_Phdr, Elf64_Dyn, struct r_debug (+ r_next of glibc's
# r_debug_extended, <link.h>) and the public head of struct link_map.
_PHDR = struct.Struct("<IIQQQQQQ")  # p_type p_flags p_offset p_vaddr p_paddr p_filesz ...
_DYN = struct.Struct("<qQ")  # d_tag d_val
_R_DEBUG = struct.Struct("<i4xQQi4xQ")  # r_version r_map r_brk r_state r_ldbase
_R_NEXT = struct.Struct("<Q")  # r_debug_extended.r_next, right after struct r_debug
_LINK_MAP = struct.Struct("<QQQQQ")  # l_addr l_name l_ld l_next l_prev
_MASK64 = (1 << 64) - 1  # addresses wrap as the CPU computes them

# Bounds on what target memory can make us read.  The kernel refuses to exec a program
# whose program headers exceed 64 KiB (fs/binfmt_elf.c, load_elf_phdrs), so AT_PHNUM
# above that is garbage.  glibc has DL_NNS = 16 namespaces; 4096 objects is far above any
# real process and keeps a corrupt list walk short.
_PAGE = os.sysconf("SC_PAGE_SIZE")
MAX_PHNUM = 65536 // _PHDR.size
MAX_DYNAMIC = 4096
MAX_NAMESPACES = 64
MAX_OBJECTS = 4096
MAX_NAME = 4096  # PATH_MAX
_NAME_CHUNK = 256
MAX_VDSO = 64 * 1024

# The soname the kernel gives the x86_64 vDSO (and the i386 one, for completeness).
VDSO_NAMES = frozenset({"linux-vdso.so.1", "linux-gate.so.1"})
VDSO_PATH = "[vdso]"  # how /proc/PID/maps (and pydbg.symbols) names it
VDSO_MODULE = "vdso"  # the module name pydbg.symbols already gives it

# Symbols of the loader's .dynsym that stand in for DT_DEBUG before the loader set it.
_LOADER_SYMBOLS = ("_r_debug", "_r_debug_extended", "_dl_debug_state")


class RendezvousError(PydbgError):
    """The rendezvous could not be read: process gone, memory unreadable, or nonsense.

    `pid` and `address` (None when no target address is involved) say where.
    """

    def __init__(self, message: str, *, pid: int = 0, address: int | None = None) -> None:
        self.pid = pid
        self.address = address
        where = []
        if pid:
            where.append(f"pid {pid}")
        if address is not None:
            where.append(f"address {address:#x}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class RState(IntEnum):
    """r_debug.r_state (<link.h>)."""

    CONSISTENT = 0  # RT_CONSISTENT: the list is whole
    ADD = 1  # RT_ADD: objects are being added
    DELETE = 2  # RT_DELETE: objects are being removed


@dataclass(frozen=True)
class RDebug:
    """One struct r_debug as read from the target (one per link-map namespace)."""

    address: int
    version: int  # 0 before the loader initialised it, 1, or 2 when r_next is valid
    map: int  # r_map: the first link_map of the namespace
    brk: int  # r_brk: the address the loader calls around every change
    state: int  # r_state: an RState value, unless memory holds nonsense
    ldbase: int  # r_ldbase: the loader's load address
    next: int = 0  # r_debug_extended.r_next (version >= 2): the next namespace's r_debug

    @property
    def initialized(self) -> bool:
        """False while the loader has not filled it in yet (the first instructions)."""
        return self.version != 0 and self.map != 0

    @property
    def consistent(self) -> bool:
        return self.state == RState.CONSISTENT


@dataclass(frozen=True)
class LinkMapEntry:
    """One node of a link_map list, as read: the public head of struct link_map."""

    address: int  # where the node is
    l_addr: int  # load bias: runtime address minus link-time address
    name: str | None  # *l_name; None when l_name is NULL or unreadable
    l_ld: int  # runtime address of the object's dynamic section
    l_next: int
    l_prev: int


@dataclass(frozen=True)
class LoadedObject:
    """One loaded object: a link_map entry combined with the mappings the kernel shows.

    `name` is l_name as the loader gives it, except that the main program (l_name "") gets
    the executable's path and the vDSO its soname; together with `bias` it identifies the
    object across lists (`key`).  `path` is the file the kernel mapped (its absolute path in
    /proc/PID/maps, "[vdso]" for the vDSO).  `base`/`size` cover the file's mappings (the
    lowest start to the highest end, 0 when nothing is mapped); `build_id` is the hex
    NT_GNU_BUILD_ID, or None.
    """

    name: str
    path: str
    module_name: str
    bias: int
    dynamic: int  # l_ld, 0 when unknown (static program)
    base: int
    size: int
    build_id: str | None = None
    is_main: bool = False
    is_vdso: bool = False
    namespace: int = 0  # link-map namespace (Lmid_t): 0 is the base one, others dlmopen's
    link_map: int = 0  # address of the link_map node, 0 when the entry was made from auxv

    @property
    def key(self) -> tuple[str, int]:
        """(name, load bias): what stays the same for one loaded object across lists."""
        return (self.name, self.bias)


@dataclass(frozen=True)
class ModuleList:
    """The objects of a process at one moment, and how they were found.

    `source` is "rendezvous" (the loader's lists), "auxv" (the loader has not published
    its lists yet: what the kernel mapped) or "static" (no loader at all).  `namespaces`
    holds the r_debug of every namespace read, the base one first.  `problems` says why
    a walk stopped early (a cycle, an unreadable node, too many entries); when it is empty
    the list is complete.
    """

    objects: tuple[LoadedObject, ...]
    source: str
    namespaces: tuple[RDebug, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def r_debug(self) -> RDebug | None:
        """The base namespace's r_debug, None when there is no rendezvous (yet)."""
        return self.namespaces[0] if self.namespaces else None

    @property
    def consistent(self) -> bool:
        """True unless some namespace is in the middle of an RT_ADD / RT_DELETE.

        Each namespace has its own r_state: a dlmopen changes the new namespace's r_debug
        and leaves the base one RT_CONSISTENT.
        """
        return all(rd.consistent for rd in self.namespaces)

    @property
    def complete(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ModuleDiff:
    """What changed between two lists: LoadModule and UnloadModule material."""

    loaded: tuple[LoadedObject, ...] = ()
    unloaded: tuple[LoadedObject, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.loaded or self.unloaded)


@dataclass(frozen=True)
class MainImage:
    """The main program as the kernel loaded it, from auxv and its program headers in memory."""

    phdr: int  # AT_PHDR
    bias: int  # load bias: AT_PHDR - PT_PHDR.p_vaddr
    dynamic: int  # runtime address of PT_DYNAMIC, 0 for a static program without one
    dynamic_size: int
    interpreter: str | None  # PT_INTERP (the loader's l_name), None for a static program
    interpreter_base: int  # AT_BASE, 0 without an interpreter
    vdso: int  # AT_SYSINFO_EHDR, 0 when the kernel maps no vDSO
    auxv: Mapping[int, int] = field(repr=False, default_factory=dict)


# -- reading target memory safely ----------------------------------------------------------


def _read(read_memory: ReadMemory, address: int, size: int, pid: int = 0) -> bytes:
    """Exactly `size` bytes at `address`, or RendezvousError, whatever read_memory does.

    The callable is the engine's, but what it is asked to read comes from target memory:
    any failure (an unmapped address, a process that is gone, a short or non-bytes answer)
    is the target's fault and is reported as such.  Misuse of the tracer is not.
    """
    if address <= 0 or address + size > _MASK64 + 1:
        raise RendezvousError(f"cannot read {size} bytes: bad address", pid=pid, address=address)
    try:
        data = read_memory(address, size)
    except (WrongThreadError, TracerClosedError):
        raise  # the caller's mistake, not a fact about the target
    except Exception as exc:  # any other reader failure is a fact about the target
        raise RendezvousError(f"cannot read {size} bytes: {exc}", pid=pid, address=address) from exc
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) != size:
        got = len(data) if isinstance(data, bytes | bytearray | memoryview) else type(data)
        raise RendezvousError(
            f"cannot read {size} bytes: the reader returned {got}", pid=pid, address=address
        )
    return bytes(data)


def _read_string(read_memory: ReadMemory, address: int, limit: int = MAX_NAME) -> str | None:
    """The NUL-terminated string at address, None if its first byte is unreadable.

    Read in chunks that never cross a page boundary, so a short string at the end of the
    last readable page does not fail because the bytes after it are unmapped; a string that
    runs into unreadable memory or past `limit` is cut there.
    """
    if address == 0:
        return None
    out = bytearray()
    while len(out) < limit:
        here = address + len(out)
        size = min(_NAME_CHUNK, _PAGE - here % _PAGE, limit - len(out))
        try:
            chunk = _read(read_memory, here, size)
        except RendezvousError:
            if not out:
                return None
            break
        nul = chunk.find(b"\0")
        if nul >= 0:
            out += chunk[:nul]
            break
        out += chunk
    return os.fsdecode(bytes(out))


# -- /proc facts ---------------------------------------------------------------------------


def read_auxv(pid: int) -> dict[int, int]:
    """The auxiliary vector the kernel gave the process at exec (AT_* -> value)."""
    try:
        with open(f"/proc/{pid}/auxv", "rb") as f:
            data = f.read()
    except OSError as exc:
        raise RendezvousError(f"cannot read /proc/{pid}/auxv: {exc}", pid=pid) from exc
    out: dict[int, int] = {}
    for key, value in struct.iter_unpack("<QQ", data[: len(data) // 16 * 16]):
        if key == AT_NULL:
            break
        out[key] = value
    return out


@dataclass(frozen=True)
class _Mapping:
    start: int
    end: int
    offset: int
    inode: tuple[str, int]  # (device, inode): which file, whatever its path says
    path: str


@dataclass(frozen=True)
class ProcessView:
    """The /proc facts of a process that has no /proc: a recorded one (a core file, for
    pydbg.engine.dump).  auxv: AT_* -> value; maps: (start, end, file offset, path) of each
    file mapping; exe: the main program's path as recorded; files: recorded path -> the
    path to read that file from instead (the program named on the command line).
    live: the process runs elsewhere (a GDB-remote server's, pydbg.gdbremote.remote_files)
    and its loader is watched as a local one's; False for a recorded process."""

    auxv: Mapping[int, int]
    maps: tuple[tuple[int, int, int, str], ...]
    exe: str
    files: Mapping[str, str] = field(default_factory=dict)
    live: bool = False

    def mappings(self) -> list[_Mapping]:
        # (No device/inode in a core's NT_FILE: the path alone tells the files apart.)
        return [
            _Mapping(start, end, offset, ("", 0), path) for start, end, offset, path in self.maps
        ]


def _read_maps(pid: int) -> list[_Mapping]:
    try:
        with open(f"/proc/{pid}/maps") as f:
            lines = f.readlines()
    except OSError as exc:
        raise RendezvousError(f"cannot read /proc/{pid}/maps: {exc}", pid=pid) from exc
    rows = []
    for line in lines:
        parts = line.rstrip("\n").split(maxsplit=5)
        if len(parts) < 5:
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        path = parts[5] if len(parts) > 5 else ""
        rows.append(_Mapping(start, end, int(parts[2], 16), (parts[3], int(parts[4])), path))
    return rows


def _mapping_at(maps: Iterable[_Mapping], address: int) -> _Mapping | None:
    for row in maps:
        if row.start <= address < row.end:
            return row
    return None


def _exe_path(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


# -- ELF files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _ElfFacts:
    load_span: tuple[int, int] | None  # [lowest PT_LOAD vaddr, highest end) at link time
    entry: int
    build_id: str | None
    symbols: Mapping[str, int]  # the _LOADER_SYMBOLS its .dynsym defines


def _elf_facts_of(elf: ELFFile, want_symbols: bool) -> _ElfFacts:
    low = high = None
    build_id = None
    for segment in elf.iter_segments():
        kind = segment.header.p_type
        if kind == "PT_LOAD":
            start = segment.header.p_vaddr
            end = start + segment.header.p_memsz
            low = start if low is None else min(low, start)
            high = end if high is None else max(high, end)
        elif isinstance(segment, NoteSegment) and build_id is None:
            for note in segment.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    build_id = str(note["n_desc"])
                    break
    symbols: dict[str, int] = {}
    if want_symbols:
        dynsym = elf.get_section_by_name(".dynsym")
        if isinstance(dynsym, SymbolTableSection):
            for name in _LOADER_SYMBOLS:
                found = dynsym.get_symbol_by_name(name)
                if found and found[0]["st_shndx"] != "SHN_UNDEF":
                    symbols[name] = int(found[0]["st_value"])
    span = None if low is None or high is None else (int(low), int(high))
    return _ElfFacts(span, int(elf.header.e_entry), build_id, symbols)


@functools.lru_cache(maxsize=512)
def _elf_facts_cached(
    path: str, _dev: int, _ino: int, _mtime: int, _size: int, want_symbols: bool
) -> _ElfFacts | None:
    # Keyed by the file's identity as well as its path: a rebuilt library gets re-read.
    try:
        with open(path, "rb") as f:
            return _elf_facts_of(ELFFile(f), want_symbols)
    except (OSError, ELFError, ValueError, KeyError, IndexError, struct.error):
        return None  # what pyelftools raises on a damaged file: no facts, not an error


def _elf_facts(
    pid: int, path: str, want_symbols: bool = False, view: ProcessView | None = None
) -> _ElfFacts | None:
    """What pydbg needs from the ELF file mapped at `path` in process pid, or None.

    The path is the target's: through /proc/PID/root it names the same file even when the
    target lives in another mount namespace (a container); our own view is the fallback.
    A recorded process (view) has no /proc: its file, or the one standing in for it.
    """
    if not path.startswith("/"):
        return None
    candidates = (view.files.get(path, path),) if view else (f"/proc/{pid}/root{path}", path)
    for candidate in candidates:
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        return _elf_facts_cached(
            candidate, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, want_symbols
        )
    return None


@dataclass(frozen=True)
class _Vdso:
    base: int
    size: int
    soname: str
    bias: int
    build_id: str | None


def _vdso(read_memory: ReadMemory, base: int, maps: list[_Mapping]) -> _Vdso | None:
    """The vDSO: an ELF image the kernel maps whole, so it is parsed straight from memory."""
    if not base:
        return None
    row = _mapping_at(maps, base)
    size = row.end - base if row is not None else 0
    soname, bias, build_id = "linux-vdso.so.1", base, None
    if 0 < size <= MAX_VDSO:
        try:
            elf = ELFFile(io.BytesIO(_read(read_memory, base, size)))
            facts = _elf_facts_of(elf, want_symbols=False)
            build_id = facts.build_id
            if facts.load_span is not None:
                bias = base - facts.load_span[0]
            dynamic = elf.get_section_by_name(".dynamic")
            if isinstance(dynamic, DynamicSection):
                for tag in dynamic.iter_tags():
                    if tag.entry.d_tag == "DT_SONAME":
                        soname = str(getattr(tag, "soname", soname))
        except Exception:  # pyelftools raises many kinds on a malformed image; best effort
            pass
    return _Vdso(base, size, soname, bias, build_id)


# -- locating r_debug ----------------------------------------------------------------------


def main_image(
    pid: int,
    read_memory: ReadMemory,
    auxv: Mapping[int, int] | None = None,
    *,
    exe: str | None = None,
    view: ProcessView | None = None,
) -> MainImage:
    """The main program's load bias, dynamic section and interpreter, from auxv + memory."""
    aux = read_auxv(pid) if auxv is None else auxv
    phdr, phnum = aux.get(AT_PHDR, 0), aux.get(AT_PHNUM, 0)
    if not phdr or not 0 < phnum <= MAX_PHNUM:
        raise RendezvousError(f"no usable AT_PHDR/AT_PHNUM in auxv ({phdr:#x}, {phnum})", pid=pid)
    table = _read(read_memory, phdr, phnum * _PHDR.size, pid)
    headers = [_PHDR.unpack_from(table, i * _PHDR.size) for i in range(phnum)]
    # (p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align)
    bias = None
    for p_type, _, _, p_vaddr, *_ in headers:
        if p_type == PT_PHDR:
            bias = (phdr - p_vaddr) & _MASK64
            break
    if bias is None:
        # Static non-PIE programs often have no PT_PHDR; glibc then assumes bias 0, and
        # the entry point says the same thing for any program.
        facts = _elf_facts(pid, _exe_path(pid) if exe is None else exe, view=view)
        entry = aux.get(AT_ENTRY, 0)
        bias = (entry - facts.entry) & _MASK64 if facts is not None and entry else 0
    dynamic = dynamic_size = 0
    interpreter = None
    for p_type, _, _, p_vaddr, _, p_filesz, p_memsz, _ in headers:
        if p_type == PT_DYNAMIC:
            dynamic, dynamic_size = (bias + p_vaddr) & _MASK64, p_memsz
        elif p_type == PT_INTERP and 0 < p_filesz <= MAX_NAME:
            interpreter = _read_string(read_memory, (bias + p_vaddr) & _MASK64, p_filesz)
            interpreter = interpreter if interpreter is not None else ""
    return MainImage(
        phdr,
        bias,
        dynamic,
        dynamic_size,
        interpreter,
        aux.get(AT_BASE, 0) if interpreter is not None else 0,
        aux.get(AT_SYSINFO_EHDR, 0),
        dict(aux),
    )


def find_r_debug(pid: int, read_memory: ReadMemory, image: MainImage | None = None) -> int | None:
    """&r_debug from the main program's DT_DEBUG, or None when it is 0 or absent.

    The static linker leaves DT_DEBUG 0; the loader stores &_r_debug in it while it starts,
    before it maps any library, so it is None at the first instruction and for programs
    without a dynamic section.
    """
    image = main_image(pid, read_memory) if image is None else image
    if not image.dynamic:
        return None
    count = min(image.dynamic_size // _DYN.size or MAX_DYNAMIC, MAX_DYNAMIC)
    data = _read(read_memory, image.dynamic, count * _DYN.size, pid)
    for tag, value in _DYN.iter_unpack(data):
        if tag == DT_NULL:
            break
        if tag == DT_DEBUG:
            return value or None
    return None


def _loader_path(pid: int, image: MainImage, maps: list[_Mapping]) -> str | None:
    row = _mapping_at(maps, image.interpreter_base) if image.interpreter_base else None
    return row.path if row is not None and row.path.startswith("/") else None


def loader_symbol(pid: int, name: str, image: MainImage) -> int | None:
    """Runtime address of one of the loader's `_r_debug`, `_r_debug_extended` or
    `_dl_debug_state`, from its .dynsym and AT_BASE; None without a loader or symbol."""
    return _loader_symbol(pid, name, image, _read_maps(pid))


def _loader_symbol(
    pid: int, name: str, image: MainImage, maps: list[_Mapping], view: ProcessView | None = None
) -> int | None:
    if name not in _LOADER_SYMBOLS or not image.interpreter_base:
        return None
    path = _loader_path(pid, image, maps)
    facts = _elf_facts(pid, path, want_symbols=True, view=view) if path else None
    if facts is None or name not in facts.symbols:
        return None
    # AT_BASE is where the loader's first PT_LOAD starts; ld.so is linked at 0, but say it.
    low = facts.load_span[0] if facts.load_span else 0
    return image.interpreter_base - (low & ~(_PAGE - 1)) + facts.symbols[name]


def locate_r_debug(
    pid: int,
    read_memory: ReadMemory,
    image: MainImage | None = None,
    *,
    maps: list[_Mapping] | None = None,
    view: ProcessView | None = None,
) -> int | None:
    """&r_debug: DT_DEBUG once the loader set it, else the loader's `_r_debug` symbol.

    In glibc 2.35+ the exported `_r_debug` is the start of the internal
    `_r_debug_extended` (which is tried too, for a loader that exports it).  None for a
    program without a loader whose DT_DEBUG is 0 (static).
    """
    image = main_image(pid, read_memory) if image is None else image
    found = find_r_debug(pid, read_memory, image)
    if found is None and image.interpreter is not None:
        maps = _read_maps(pid) if maps is None else maps
        found = _loader_symbol(pid, "_r_debug", image, maps, view) or _loader_symbol(
            pid, "_r_debug_extended", image, maps, view
        )
    return found


def read_r_debug(read_memory: ReadMemory, address: int, pid: int = 0) -> RDebug:
    """The struct r_debug at address (with r_next when r_version >= 2)."""
    version, r_map, brk, state, ldbase = _R_DEBUG.unpack(
        _read(read_memory, address, _R_DEBUG.size, pid)
    )
    # r_next exists only in glibc's r_debug_extended, which r_version 2 announces.
    r_next = 0
    if version >= 2:
        (r_next,) = _R_NEXT.unpack(_read(read_memory, address + _R_DEBUG.size, _R_NEXT.size, pid))
    return RDebug(address, version, r_map, brk, state, ldbase, r_next)


def breakpoint_address(
    pid: int, read_memory: ReadMemory, view: ProcessView | None = None
) -> int | None:
    """Where to break to see every change of the lists: r_brk, or before the loader set it,
    its `_dl_debug_state` (the function r_brk will point to).

    None without a loader, except that a static-pie program publishes a rendezvous of its
    own once its startup code ran (for dlopen): then it is that r_brk.
    """
    if view is not None:  # (a process whose /proc is not ours: the view stands for it)
        image = main_image(pid, read_memory, view.auxv, exe=view.exe, view=view)
        maps: list[_Mapping] | None = view.mappings()
    else:
        image = main_image(pid, read_memory)
        maps = None
    address = locate_r_debug(pid, read_memory, image, maps=maps, view=view)
    if address is not None:
        r_debug = read_r_debug(read_memory, address, pid)
        if r_debug.brk:
            return r_debug.brk
    if image.interpreter is None:
        return None
    if view is None or maps is None:
        return loader_symbol(pid, "_dl_debug_state", image)
    return _loader_symbol(pid, "_dl_debug_state", image, maps, view)


# -- walking the lists ---------------------------------------------------------------------


def walk_link_map(
    read_memory: ReadMemory, head: int, *, limit: int = MAX_OBJECTS
) -> tuple[list[LinkMapEntry], list[str]]:
    """The link_map list from `head` along l_next: (entries, problems).

    Stops at the end of the list, or early with a problem: after `limit` nodes, at a node
    seen before (a cycle), at an unreadable node, or at a node whose l_prev does not point
    back (memory that is not a list, or one being changed under us).  A name that cannot
    be read gives an entry with name None.
    """
    entries: list[LinkMapEntry] = []
    problems: list[str] = []
    seen: set[int] = set()
    node, prev = head, 0
    while node:
        if node in seen:
            problems.append(f"link_map cycle: {node:#x} comes back after {prev:#x}")
            break
        if len(entries) >= limit:
            problems.append(f"link_map list longer than {limit} entries; stopped at {node:#x}")
            break
        seen.add(node)
        try:
            l_addr, l_name, l_ld, l_next, l_prev = _LINK_MAP.unpack(
                _read(read_memory, node, _LINK_MAP.size)
            )
        except RendezvousError as exc:
            problems.append(f"unreadable link_map node at {node:#x}: {exc}")
            break
        if l_prev != prev:
            problems.append(f"link_map node {node:#x} has l_prev {l_prev:#x}, expected {prev:#x}")
            break
        name = _read_string(read_memory, l_name)
        entries.append(LinkMapEntry(node, l_addr, name, l_ld, l_next, l_prev))
        node, prev = l_next, node
    return entries, problems


def _namespaces(read_memory: ReadMemory, first: RDebug, pid: int) -> tuple[list[RDebug], list[str]]:
    """The base r_debug, then each dlmopen namespace's r_debug along r_next, bounded."""
    found, problems = [first], []
    seen = {first.address}
    address = first.next
    while address:
        if address in seen:
            problems.append(f"r_debug r_next chain loops back to {address:#x}")
            break
        if len(found) >= MAX_NAMESPACES:
            problems.append(f"more than {MAX_NAMESPACES} namespaces; stopped at {address:#x}")
            break
        seen.add(address)
        try:
            r_debug = read_r_debug(read_memory, address, pid)
        except RendezvousError as exc:
            problems.append(f"unreadable r_debug of a namespace: {exc}")
            break
        found.append(r_debug)
        address = r_debug.next
    return found, problems


# -- combining with the mappings -----------------------------------------------------------


def _file_object(
    pid: int,
    name: str,
    bias: int,
    dynamic: int,
    maps: list[_Mapping],
    *,
    anchor: int,
    is_main: bool = False,
    namespace: int = 0,
    link_map: int = 0,
    view: ProcessView | None = None,
) -> LoadedObject:
    """One file-backed object: find its file by the mapping at `anchor` (an address inside
    it: l_ld, or AT_PHDR / AT_BASE), then its extent among that file's mappings."""
    row = _mapping_at(maps, anchor) if anchor else None
    if row is None or not row.path.startswith("/"):
        # l_ld of a non-PIE main program is never 0, but garbage can be: try the name.
        wanted = {name, os.path.realpath(name)} if name.startswith("/") else set()
        row = next((r for r in maps if r.path in wanted), None)
    if row is None:
        return LoadedObject(
            name, name, module_name(name), bias, dynamic, base=0, size=0, is_main=is_main,
            namespace=namespace, link_map=link_map,
        )  # fmt: skip
    path = row.path
    facts = _elf_facts(pid, path, view=view)
    same_file = [r for r in maps if r.inode == row.inode and r.path == path]
    if view is not None:
        path = view.files.get(path, path)  # (symbols and CFI come from the stand-in)
    if facts is not None and facts.load_span is not None:
        # Only this instance of the file: one library can be mapped again at another
        # address (dlmopen), and the file's own segments say where this one ends.
        low = (bias + facts.load_span[0]) & ~(_PAGE - 1)
        high = bias + facts.load_span[1]
        mine = [r for r in same_file if r.start < high and r.end > low]
        same_file = mine or same_file
    base = min(r.start for r in same_file)
    size = max(r.end for r in same_file) - base
    build_id = facts.build_id if facts is not None else None
    return LoadedObject(
        name, path, module_name(path), bias, dynamic, base, size, build_id, is_main=is_main,
        namespace=namespace, link_map=link_map,
    )  # fmt: skip


def _vdso_object(vdso: _Vdso, namespace: int = 0, link_map: int = 0) -> LoadedObject:
    return LoadedObject(
        vdso.soname, VDSO_PATH, VDSO_MODULE, vdso.bias, 0, vdso.base, vdso.size, vdso.build_id,
        is_vdso=True, namespace=namespace, link_map=link_map,
    )  # fmt: skip


def _from_auxv(
    pid: int,
    image: MainImage,
    maps: list[_Mapping],
    vdso: _Vdso | None,
    exe: str,
    view: ProcessView | None = None,
) -> list[LoadedObject]:
    """What the kernel mapped, named as the loader will name it, so that the first real
    list differs from this one only by what the loader added."""
    out = [
        _file_object(
            pid, exe, image.bias, image.dynamic, maps, anchor=image.phdr, is_main=True, view=view
        )
    ]
    if image.interpreter is not None and image.interpreter_base:
        # The loader's link_map takes its l_name from PT_INTERP and its l_addr is AT_BASE
        # (ld.so is linked at 0); its l_ld is found in memory later, so 0 here.
        out.append(
            _file_object(
                pid, image.interpreter, image.interpreter_base, 0, maps,
                anchor=image.interpreter_base, view=view,
            )
        )  # fmt: skip
    if vdso is not None:
        out.append(_vdso_object(vdso))
    return out


def loaded_objects(
    pid: int,
    read_memory: ReadMemory,
    *,
    limit: int = MAX_OBJECTS,
    view: ProcessView | None = None,
) -> ModuleList:
    """Every object loaded in process pid now, in the loader's order (the main program
    first), each namespace after the previous one; an object mapped once but listed in
    several namespaces (the loader itself) appears once.

    Raises RendezvousError when the process is gone or its auxv, program headers or
    r_debug cannot be read; a list walk that stops early returns what it read, with
    `problems` saying why.

    `view` stands for /proc for a recorded process (a core file): its auxv, mappings and
    executable; its memory is what read_memory reads.
    """
    if view is not None:
        image = main_image(pid, read_memory, view.auxv, exe=view.exe, view=view)
        maps = view.mappings()
        exe = view.files.get(view.exe, view.exe)
    else:
        image = main_image(pid, read_memory)
        maps = _read_maps(pid)
        exe = _exe_path(pid)
    vdso = _vdso(read_memory, image.vdso, maps)
    address = locate_r_debug(pid, read_memory, image, maps=maps, view=view)
    if address is None:
        source = "static" if image.interpreter is None else "auxv"
        return ModuleList(tuple(_from_auxv(pid, image, maps, vdso, exe, view)), source)
    first = read_r_debug(read_memory, address, pid)
    if not first.initialized:
        return ModuleList(tuple(_from_auxv(pid, image, maps, vdso, exe, view)), "auxv", (first,))
    namespaces, problems = _namespaces(read_memory, first, pid)
    objects: list[LoadedObject] = []
    keys: set[tuple[str, int]] = set()
    budget = limit
    for index, r_debug in enumerate(namespaces):
        entries, walk_problems = walk_link_map(read_memory, r_debug.map, limit=budget)
        budget -= len(entries)
        problems.extend(f"namespace {index}: {p}" if index else p for p in walk_problems)
        for position, entry in enumerate(entries):
            obj = _entry_object(pid, entry, index, position, maps, vdso, exe, view)
            if obj.key not in keys:
                keys.add(obj.key)
                objects.append(obj)
        if budget <= 0 and index + 1 < len(namespaces):
            problems.append(f"stopped after {limit} objects; namespaces from {index + 1} unread")
            break
    return ModuleList(tuple(objects), "rendezvous", tuple(namespaces), tuple(problems))


def _entry_object(
    pid: int,
    entry: LinkMapEntry,
    namespace: int,
    position: int,
    maps: list[_Mapping],
    vdso: _Vdso | None,
    exe: str,
    view: ProcessView | None = None,
) -> LoadedObject:
    name = entry.name or ""
    if vdso is not None and (
        name in VDSO_NAMES or vdso.base <= entry.l_ld < vdso.base + max(vdso.size, 1)
    ):
        return _vdso_object(vdso, namespace, entry.address)
    # The main program is the first object of the base namespace; the loader gives it the
    # name "" (it never opened it by name).
    is_main = namespace == 0 and position == 0 and name == ""
    if is_main:
        name = exe or name
    return _file_object(
        pid, name, entry.l_addr, entry.l_ld, maps, anchor=entry.l_ld, is_main=is_main,
        namespace=namespace, link_map=entry.address, view=view,
    )  # fmt: skip


# -- changes -------------------------------------------------------------------------------


def diff_objects(previous: Iterable[LoadedObject], current: Iterable[LoadedObject]) -> ModuleDiff:
    """Objects in `current` but not `previous` (loaded, in current's order) and the other
    way round (unloaded, in previous's order), matched by `LoadedObject.key`."""
    before = list(previous)
    after = list(current)
    old_keys = {o.key for o in before}
    new_keys = {o.key for o in after}
    return ModuleDiff(
        tuple(o for o in after if o.key not in old_keys),
        tuple(o for o in before if o.key not in new_keys),
    )


class ModuleTracker:
    """The last consistent module list of one process, and what each update changed.

    Call `update` each time the thread stops at `breakpoint_address`: while a namespace is
    in RT_ADD / RT_DELETE the list is half-made and nothing is reported (None); once every
    namespace is RT_CONSISTENT again the difference from the previous consistent list is
    the LoadModule / UnloadModule material.  A list whose walk was cut short (`problems`)
    is not trusted either: what it misses would otherwise be reported as unloaded.
    """

    def __init__(self, initial: ModuleList | Iterable[LoadedObject] = ()) -> None:
        objects = initial.objects if isinstance(initial, ModuleList) else tuple(initial)
        self.objects: tuple[LoadedObject, ...] = tuple(objects)

    def update(self, current: ModuleList) -> ModuleDiff | None:
        if not (current.consistent and current.complete):
            return None
        change = diff_objects(self.objects, current.objects)
        self.objects = current.objects
        return change
