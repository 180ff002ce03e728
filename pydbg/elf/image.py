"""One ELF file on disk (`ElfImage`): its headers, sections, segments and identity, the
separate debug file that goes with it, and the per-process cache of opened images.

This layer never touches a process.  Every address it gives is a link-time address (what
the file says); a caller that knows where the file is mapped adds the load bias,
`image.load_bias(runtime_base)`, where the runtime base is the address of the mapping of
file offset 0 (the lowest mapping of the file in /proc/PID/maps).

The headers, the section table, notes and symbol tables are read with `struct` straight
from the file rather than through pyelftools: opening an image and symbolizing an address
then costs a few reads and no pyelftools import (about 70 ms on its own), which is what
lets a cold symbol lookup beat gdb's.  pyelftools is used, lazily, for DWARF
(`pydbg.elf.lines`).  An `ElfImage` keeps its file open (reads use pread on that
descriptor), so the file may be deleted or replaced on disk while the image is in use and
the image still reads the file it opened; `close()` (or garbage collection) releases it.

Opening is eager about the little it must check (the file exists, is ELF, has a readable
header) and lazy about everything else; errors are `pydbg.elf.errors.ImageError`s naming
the file.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import os
import struct
import threading
import weakref
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.elf.errors import (
    CorruptImageError,
    ImageError,
    ImageFileError,
    NotElfError,
)

if TYPE_CHECKING:
    from pydbg.elf.lines import LineTable
    from pydbg.elf.symtab import SymbolTable

__all__ = [
    "ImageStream",
    "DEBUG_FILE_DIRECTORIES",
    "DebugLink",
    "ElfImage",
    "Section",
    "Segment",
    "clear_cache",
    "open_image",
]

# Where separate debug files live (gdb's `debug-file-directory`, Debian's -dbg packages).
DEBUG_FILE_DIRECTORIES: tuple[str, ...] = ("/usr/lib/debug",)

# elf.h values used here.
ET_REL, ET_EXEC, ET_DYN, ET_CORE = 1, 2, 3, 4
EM_386, EM_X86_64 = 3, 62
PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA = 0, 1, 2, 3, 4
SHT_NOTE, SHT_NOBITS, SHT_REL, SHT_DYNSYM = 7, 8, 9, 11
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, SHF_TLS, SHF_COMPRESSED = 0x1, 0x2, 0x4, 0x400, 0x800
SHN_UNDEF, SHN_LORESERVE, SHN_XINDEX = 0, 0xFF00, 0xFFFF
NT_GNU_BUILD_ID = 3

_MAGIC = b"\x7fELF"
_IDENT_SIZE = 16
_TYPE_NAMES = {ET_REL: "relocatable", ET_EXEC: "executable", ET_DYN: "shared object"}


@dataclass(frozen=True, slots=True)
class Section:
    """One section header (Elf64_Shdr), with its name resolved."""

    index: int
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    info: int
    addralign: int
    entsize: int

    @property
    def end(self) -> int:
        """One past the last link-time address of the section."""
        return self.addr + self.size

    @property
    def is_alloc(self) -> bool:
        """Occupies memory at run time (SHF_ALLOC)."""
        return bool(self.flags & SHF_ALLOC)

    @property
    def is_exec(self) -> bool:
        """Holds code (SHF_EXECINSTR)."""
        return bool(self.flags & SHF_EXECINSTR)

    @property
    def has_file_data(self) -> bool:
        """Has bytes in the file (not SHT_NOBITS, as .bss and everything but the debug
        sections of a separate debug file are)."""
        return self.type not in (SHT_NOBITS, SHT_NULL)


@dataclass(frozen=True, slots=True)
class Segment:
    """One PT_LOAD program header: what the loader maps."""

    vaddr: int
    memsz: int
    offset: int
    filesz: int
    flags: int  # PF_R | PF_W | PF_X
    align: int

    @property
    def end(self) -> int:
        return self.vaddr + self.memsz


@dataclass(frozen=True, slots=True)
class DebugLink:
    """The .gnu_debuglink section: the separate debug file's name and its CRC-32."""

    name: str
    crc: int


class Layout:
    """struct formats for one ELF class and byte order."""

    def __init__(self, is64: bool, little: bool) -> None:
        order = "<" if little else ">"
        self.is64 = is64
        self.order = order
        if is64:
            self.ehdr = struct.Struct(order + "HHIQQQIHHHHHH")
            self.shdr = struct.Struct(order + "IIQQQQIIQQ")
            self.phdr = struct.Struct(order + "IIQQQQQQ")
            self.sym = struct.Struct(order + "IBBHQQ")
            self.rela = struct.Struct(order + "QQq")
            self.rel = struct.Struct(order + "QQ")
            self.ptr_size = 8
        else:
            self.ehdr = struct.Struct(order + "HHIIIIIHHHHHH")
            self.shdr = struct.Struct(order + "IIIIIIIIII")
            self.phdr = struct.Struct(order + "IIIIIIII")
            self.sym = struct.Struct(order + "IIIBBH")
            self.rela = struct.Struct(order + "IIi")
            self.rel = struct.Struct(order + "II")
            self.ptr_size = 4
        self.u32 = struct.Struct(order + "I")
        self.note = struct.Struct(order + "III")


class ElfImage:
    """An ELF file, opened for reading: `ElfImage("/usr/bin/ls")`.

    The file is opened and its ELF header checked at once (ImageNotFoundError,
    NotElfError, CorruptImageError); sections, segments, notes, symbols and lines are
    read when first asked for.  Prefer `open_image(path)`, which returns the one image of
    a file for the whole process.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(os.fsdecode(path))
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise ImageFileError.from_oserror(self.path, exc) from None
        self._fd: int | None = fd
        # Closing the descriptor when the image is collected, without a __del__ that
        # could run at interpreter shutdown after `os` is gone.
        self._finalizer = weakref.finalize(self, _close_fd, fd)
        try:
            st = os.fstat(fd)
            self.file_size = st.st_size
            self.mtime_ns = st.st_mtime_ns
            self.file_id = (st.st_dev, st.st_ino)
            self._parse_header()
        except OSError as exc:
            self.close()
            raise ImageFileError.from_oserror(self.path, exc) from None
        except ImageError:
            self.close()
            raise
        self._lock = threading.RLock()
        self.warnings: list[str] = []

    # -- reading ---------------------------------------------------------------------

    def read(self, offset: int, size: int) -> bytes:
        """`size` bytes of the file from `offset`; CorruptImageError past its end."""
        if size == 0:
            return b""
        if offset < 0 or size < 0 or offset + size > self.file_size:
            raise CorruptImageError(
                self.path,
                f"truncated: wants bytes {offset:#x}..{offset + size:#x} "
                f"of a {self.file_size:#x}-byte file",
            )
        fd = self._fd
        if fd is None:
            raise ImageFileError(self.path, "the image has been closed")
        chunks = []
        done = 0
        try:
            while done < size:
                chunk = os.pread(fd, size - done, offset + done)
                if not chunk:
                    break
                chunks.append(chunk)
                done += len(chunk)
        except OSError as exc:
            raise ImageFileError.from_oserror(self.path, exc) from None
        if done < size:
            # The file shrank under us (rewritten in place since it was opened).
            raise CorruptImageError(self.path, f"truncated at {offset + done:#x} while reading")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def read_section(self, section: Section) -> bytes:
        """The bytes of a section as stored in the file (b"" for SHT_NOBITS)."""
        if not section.has_file_data:
            return b""
        return self.read(section.offset, section.size)

    def close(self) -> None:
        """Release the file descriptor; later reads raise ImageFileError."""
        fd, self._fd = self._fd, None
        if fd is not None:
            self._finalizer.detach()
            _close_fd(fd)

    def __enter__(self) -> ElfImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ElfImage {self.path!r}>"

    # -- header ----------------------------------------------------------------------

    def _parse_header(self) -> None:
        if self.file_size < _IDENT_SIZE:
            raise NotElfError(self.path, f"not an ELF file ({self.file_size} bytes)")
        ident = self.read(0, _IDENT_SIZE)
        if ident[:4] != _MAGIC:
            raise NotElfError(self.path, "not an ELF file (bad magic)")
        ei_class, ei_data = ident[4], ident[5]
        if ei_class not in (1, 2) or ei_data not in (1, 2):
            raise NotElfError(self.path, f"unsupported ELF class {ei_class} / data {ei_data}")
        layout = Layout(is64=ei_class == 2, little=ei_data == 1)
        self._layout = layout
        if self.file_size < _IDENT_SIZE + layout.ehdr.size:
            raise CorruptImageError(self.path, "truncated ELF header")
        fields: tuple[int, ...] = layout.ehdr.unpack(self.read(_IDENT_SIZE, layout.ehdr.size))
        self.e_type: int = fields[0]
        self.machine: int = fields[1]
        self.entry: int = fields[3]
        self._phoff: int = fields[4]
        self._shoff: int = fields[5]
        self._phentsize, self._phnum, self._shentsize, self._shnum, self._shstrndx = fields[8:]
        if self._phnum and self._phentsize < layout.phdr.size:
            raise CorruptImageError(self.path, f"bad program header size {self._phentsize}")
        if self._shoff and self._shentsize < layout.shdr.size:
            raise CorruptImageError(self.path, f"bad section header size {self._shentsize}")

    @property
    def is64(self) -> bool:
        return self._layout.is64

    @property
    def byte_order(self) -> str:
        """The struct byte-order character of the file ("<" or ">")."""
        return self._layout.order

    @property
    def layout(self) -> Layout:
        """struct formats of this file's class and byte order (for the symbol readers)."""
        return self._layout

    @property
    def is_pie(self) -> bool:
        """Position independent (ET_DYN): a PIE executable or a shared library, mapped at
        an address chosen at run time."""
        return self.e_type == ET_DYN

    @property
    def kind(self) -> str:
        return _TYPE_NAMES.get(self.e_type, f"type {self.e_type}")

    # -- program headers -------------------------------------------------------------

    @functools.cached_property
    def _program_headers(self) -> tuple[tuple[int, int, int, int, int, int, int], ...]:
        """(type, flags, offset, vaddr, filesz, memsz, align) of every program header."""
        if not self._phoff or not self._phnum:
            return ()
        lay = self._layout
        raw = self.read(self._phoff, self._phnum * self._phentsize)
        out = []
        for i in range(self._phnum):
            fields = lay.phdr.unpack_from(raw, i * self._phentsize)
            if lay.is64:
                p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_align = fields
            else:
                p_type, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_flags, p_align = fields
            out.append((p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz, p_align))
        return tuple(out)

    @functools.cached_property
    def segments(self) -> tuple[Segment, ...]:
        """The PT_LOAD segments, in file order."""
        return tuple(
            Segment(vaddr, memsz, offset, filesz, flags, align)
            for p_type, flags, offset, vaddr, filesz, memsz, align in self._program_headers
            if p_type == PT_LOAD
        )

    @functools.cached_property
    def link_base(self) -> int:
        """The link-time address that file offset 0 is mapped at: the vaddr of the first
        PT_LOAD with offset 0 (0 for a usual PIE or library, 0x400000 for a usual
        non-PIE executable).  Without such a segment (unusual layouts), the first
        PT_LOAD's vaddr less its offset, which is where the loader puts offset 0."""
        for seg in self.segments:
            if seg.offset == 0:
                return seg.vaddr
        if self.segments:
            first = self.segments[0]
            return first.vaddr - first.offset
        return 0

    def load_bias(self, runtime_base: int) -> int:
        """What to add to this file's link-time addresses to get run-time ones, given the
        run-time address of file offset 0 (the start of its lowest mapping)."""
        return runtime_base - self.link_base

    # -- sections --------------------------------------------------------------------

    @functools.cached_property
    def sections(self) -> tuple[Section, ...]:
        """Every section header, index order (index 0, the null section, included)."""
        if not self._shoff:
            return ()
        lay = self._layout
        entsize = self._shentsize
        first = lay.shdr.unpack(self.read(self._shoff, lay.shdr.size))
        count = self._shnum
        strndx = self._shstrndx
        # Extended numbering (more than 0xff00 sections): the real values live in the
        # null section's header.
        if count == 0:
            count = first[5]
        if strndx == SHN_XINDEX:
            strndx = first[6]
        if count > (self.file_size - self._shoff) // entsize:
            raise CorruptImageError(self.path, f"truncated section header table ({count} headers)")
        raw = self.read(self._shoff, count * entsize)
        headers = [lay.shdr.unpack_from(raw, i * entsize) for i in range(count)]
        names = b""
        if 0 < strndx < count:
            sh = headers[strndx]
            if sh[1] != SHT_NOBITS:
                names = self.read(sh[4], sh[5])
        return tuple(Section(index, _cstr(names, h[0]), *h[1:]) for index, h in enumerate(headers))

    @functools.cached_property
    def _sections_by_name(self) -> dict[str, Section]:
        out: dict[str, Section] = {}
        for sec in self.sections:
            out.setdefault(sec.name, sec)
        return out

    def section(self, name: str) -> Section | None:
        """The first section with this name, or None."""
        return self._sections_by_name.get(name)

    def sections_of_type(self, sh_type: int) -> list[Section]:
        return [s for s in self.sections if s.type == sh_type]

    @functools.cached_property
    def alloc_sections(self) -> tuple[Section, ...]:
        """Sections that occupy memory at run time, by address.  Empty ones and TLS
        templates (.tbss overlaps the sections after it and is not where its symbols
        live at run time) are left out, so no two of these overlap."""
        keep = [
            s
            for s in self.sections
            if s.flags & SHF_ALLOC and s.size and not (s.flags & SHF_TLS and s.type == SHT_NOBITS)
        ]
        return tuple(sorted(keep, key=lambda s: (s.addr, s.index)))

    def section_at(self, address: int) -> Section | None:
        """The allocated section that contains a link-time address, or None."""
        secs = self.alloc_sections
        starts = self._alloc_starts
        i = bisect.bisect_right(starts, address) - 1
        while i >= 0:
            sec = secs[i]
            if address < sec.end:
                return sec
            # Only a section that starts at the same place can still contain it.
            if i == 0 or secs[i - 1].addr != sec.addr:
                break
            i -= 1
        return None

    @functools.cached_property
    def _alloc_starts(self) -> list[int]:
        return [s.addr for s in self.alloc_sections]

    @property
    def has_symtab(self) -> bool:
        """A .symtab with at least one symbol (beyond the null entry)."""
        for sec in self.sections_of_type(SHT_SYMTAB):
            entsize = sec.entsize or self._layout.sym.size
            if sec.has_file_data and sec.size // entsize > 1:
                return True
        return False

    @property
    def has_dynsym(self) -> bool:
        return any(s.has_file_data and s.size for s in self.sections_of_type(SHT_DYNSYM))

    @property
    def has_debug_info(self) -> bool:
        """Carries DWARF of its own (a non-empty .debug_info with file data)."""
        sec = self.section(".debug_info") or self.section(".zdebug_info")
        return sec is not None and sec.has_file_data and sec.size > 0

    @property
    def has_debug_line(self) -> bool:
        sec = self.section(".debug_line") or self.section(".zdebug_line")
        return sec is not None and sec.has_file_data and sec.size > 0

    # -- notes and identity ----------------------------------------------------------

    def _notes(self) -> Iterator[tuple[int, bytes, bytes]]:
        """(type, name, desc) of every note, from SHT_NOTE sections, or from PT_NOTE
        segments when the file has no section headers."""
        regions: list[tuple[int, int, int]] = [
            (s.offset, s.size, s.addralign) for s in self.sections_of_type(SHT_NOTE)
            if s.has_file_data
        ]  # fmt: skip
        if not regions:
            regions = [
                (offset, filesz, align)
                for p_type, _f, offset, _v, filesz, _m, align in self._program_headers
                if p_type == PT_NOTE
            ]
        for offset, size, align in regions:
            if offset + size > self.file_size:
                continue
            yield from _parse_notes(self.read(offset, size), self._layout, 8 if align == 8 else 4)

    @functools.cached_property
    def build_id(self) -> str | None:
        """NT_GNU_BUILD_ID as lowercase hex, or None."""
        for n_type, name, desc in self._notes():
            if n_type == NT_GNU_BUILD_ID and name == b"GNU" and desc:
                return desc.hex()
        return None

    @functools.cached_property
    def debuglink(self) -> DebugLink | None:
        """The .gnu_debuglink section (file name and CRC-32), or None."""
        sec = self.section(".gnu_debuglink")
        if sec is None or not sec.has_file_data:
            return None
        data = self.read_section(sec)
        end = data.find(b"\0")
        if end <= 0:
            return None
        crc_at = (end + 4) & ~3  # the name's NUL, then padding to 4
        if crc_at + 4 > len(data):
            return None
        (crc,) = self._layout.u32.unpack_from(data, crc_at)
        return DebugLink(os.fsdecode(data[:end]), crc)

    # -- the separate debug file -----------------------------------------------------

    def debug_file_candidates(
        self, directories: Iterable[str] = DEBUG_FILE_DIRECTORIES
    ) -> list[tuple[str, str]]:
        """Where the separate debug file may be, in gdb's order, each with how it must
        be checked: ("build-id", path) candidates must carry the same build id,
        ("debuglink", path) ones must match the debuglink's CRC."""
        dirs = list(directories)
        out: list[tuple[str, str]] = []
        bid = self.build_id
        if bid and len(bid) > 2:
            for d in dirs:
                out.append(("build-id", os.path.join(d, ".build-id", bid[:2], bid[2:] + ".debug")))
        link = self.debuglink
        if link is not None:
            seen: set[str] = set()
            for path in (os.path.realpath(self.path), self.path):
                here = os.path.dirname(path)
                for cand in (
                    os.path.join(here, link.name),
                    os.path.join(here, ".debug", link.name),
                    *(os.path.join(d + here, link.name) for d in dirs),
                ):
                    if cand not in seen:
                        seen.add(cand)
                        out.append(("debuglink", cand))
        return out

    def find_debug_file(self, directories: Iterable[str] = DEBUG_FILE_DIRECTORIES) -> str | None:
        """The path of the separate debug file that belongs to this image, or None.

        By build id first (/usr/lib/debug/.build-id/xx/rest.debug, whose own build id
        must match), then by .gnu_debuglink next to the file, in its .debug/ directory,
        and under /usr/lib/debug/<its directory>/ (whose CRC-32 must match).
        """
        for how, cand in self.debug_file_candidates(directories):
            try:
                st = os.stat(cand)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == self.file_id:
                continue  # the debuglink names the file itself
            if how == "build-id":
                try:
                    with ElfImage(cand) as other:
                        if other.build_id == self.build_id:
                            return cand
                except ImageError as exc:
                    self.warnings.append(f"ignoring debug file candidate: {exc}")
                continue
            link = self.debuglink
            assert link is not None
            crc = _file_crc32(cand)
            if crc is None:
                continue
            if crc == link.crc:
                return cand
            self.warnings.append(
                f"ignoring {cand}: CRC {crc:#010x} does not match the debuglink's {link.crc:#010x}"
            )
        return None

    @functools.cached_property
    def debug_image(self) -> ElfImage | None:
        """The separate debug file as an image (shared through the cache), or None."""
        path = self.find_debug_file()
        if path is None:
            return None
        try:
            return open_image(path)
        except ImageError as exc:
            self.warnings.append(f"ignoring debug file: {exc}")
            return None

    # -- symbols and lines -----------------------------------------------------------

    @functools.cached_property
    def symbols(self) -> SymbolTable:
        """The symbol table (`pydbg.elf.symtab.SymbolTable`), built on first use."""
        from pydbg.elf.symtab import SymbolTable

        with self._lock:
            return SymbolTable(self)

    @functools.cached_property
    def lines(self) -> LineTable:
        """The DWARF line table (`pydbg.elf.lines.LineTable`), read on first use."""
        from pydbg.elf.lines import LineTable

        with self._lock:
            return LineTable(self)


def _close_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _cstr(table: bytes, offset: int) -> str:
    """The NUL-terminated string at `offset` of a string table ("" when out of range)."""
    if offset >= len(table):
        return ""
    end = table.find(b"\0", offset)
    raw = table[offset:] if end < 0 else table[offset:end]
    return raw.decode("utf-8", "replace")


def _parse_notes(data: bytes, layout: Layout, align: int) -> Iterator[tuple[int, bytes, bytes]]:
    pos = 0
    mask = align - 1
    while pos + 12 <= len(data):
        namesz, descsz, n_type = layout.note.unpack_from(data, pos)
        pos += 12
        name_end = pos + namesz
        desc_at = (name_end + mask) & ~mask
        desc_end = desc_at + descsz
        if desc_end > len(data):
            return
        yield n_type, data[pos:name_end].rstrip(b"\0"), data[desc_at:desc_end]
        pos = (desc_end + mask) & ~mask


def _file_crc32(path: str) -> int | None:
    """gdb's gnu_debuglink_crc32 of a whole file (it is zlib's CRC-32), None if unreadable."""
    crc = 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                crc = zlib.crc32(chunk, crc)
    except OSError:
        return None
    return crc & 0xFFFFFFFF


# -- the per-process cache ---------------------------------------------------------------

_cache_lock = threading.Lock()
# By build id (and size: a stripped file and its unstripped twin share a build id but not
# their contents), or by path, mtime and size for files without one.
_by_identity: dict[tuple[object, ...], ElfImage] = {}
# The same file seen again through the same path: found without reading its notes.
_by_file: dict[tuple[str, int, int, int, int], ElfImage] = {}


def _identity(image: ElfImage) -> tuple[object, ...]:
    bid = image.build_id
    if bid:
        return ("build-id", bid, image.file_size)
    return ("file", os.path.realpath(image.path), image.mtime_ns, image.file_size)


def open_image(path: str | os.PathLike[str]) -> ElfImage:
    """The process-wide `ElfImage` of a file: each file is opened and parsed once.

    Images are keyed by build id (plus size), or by path, mtime and size when the file has
    no build id; a file changed on disk is therefore opened afresh.  `clear_cache()`
    forgets them all.
    """
    text = os.path.abspath(os.fsdecode(path))
    try:
        st = os.stat(text)
    except OSError as exc:
        raise ImageFileError.from_oserror(text, exc) from None
    file_key = (text, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    with _cache_lock:
        hit = _by_file.get(file_key)
        if hit is not None:
            return hit
    image = ElfImage(text)
    try:
        key = _identity(image)
    except ImageError:
        image.close()
        raise
    with _cache_lock:
        existing = _by_identity.get(key)
        if existing is not None:
            image.close()
            image = existing
        else:
            _by_identity[key] = image
        _by_file[file_key] = image
    return image


def clear_cache() -> None:
    """Forget every cached image.  Images still referenced elsewhere stay usable; the
    rest close their files when they are collected."""
    with _cache_lock:
        _by_identity.clear()
        _by_file.clear()


class ImageStream:
    """A file object over an ElfImage's descriptor (seek, tell, read), for readers that
    want one, such as pyelftools' ELFFile: it reads through `ElfImage.read`, so it shares
    the image's descriptor and its checks instead of opening the file again."""

    def __init__(self, image: ElfImage) -> None:
        self._image = image
        self._pos = 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._pos
        elif whence == os.SEEK_END:
            offset += self._image.file_size
        self._pos = max(0, offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = self._image.file_size if size is None or size < 0 else self._pos + size
        end = min(end, self._image.file_size)
        if end <= self._pos:
            return b""
        data = self._image.read(self._pos, end - self._pos)
        self._pos = end
        return data
