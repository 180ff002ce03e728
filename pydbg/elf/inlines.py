"""Inlined calls of one ELF file (`InlineIndex`): for an address, the chain of functions the
compiler inlined there, innermost first, each with the source line it was called from --
what gdb's `bt` shows as frames without an address of their own.

They come from DWARF: each DW_TAG_inlined_subroutine has address ranges (DW_AT_low_pc /
DW_AT_high_pc or DW_AT_ranges), the function it is a copy of (DW_AT_abstract_origin, whose
DW_AT_linkage_name, demangled, or DW_AT_name names it), and its call site (DW_AT_call_file,
DW_AT_call_line).  An inlined call nested in another is one DIE level deeper.

Read lazily with pyelftools, through the image's one DWARF reader (pydbg.dwarf
.debug_info, shared with variables and types): a lookup reads only the unit
.debug_aranges says covers the address (every unit's ranges when there are no aranges),
of that unit only the top-level DIEs, and of those only the subtree of the function
holding the address (its lexical blocks and inlined subroutines).  Opening the DWARF is
the one large cost (about 0.1 s for libc's debug file), once per file and process.  The
DWARF is the file's own or its separate debug file's.  A file without DWARF, or DWARF pyelftools
cannot read, has no inlined calls (`error` says why).  Addresses are link-time.
"""

from __future__ import annotations

import bisect
import os
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydbg.elf.demangle import demangle
from pydbg.elf.errors import ImageError, ImageFileError
from pydbg.elf.image import ElfImage

if TYPE_CHECKING:
    from pydbg.dwarf.debug_info import DebugInfo

__all__ = ["InlinedCall", "InlineIndex", "inline_index"]

# DIEs whose children may hold inlined calls (anything else is types, variables, ...).
_SCOPES = frozenset(("DW_TAG_subprogram", "DW_TAG_lexical_block", "DW_TAG_inlined_subroutine"))


@dataclass(frozen=True, slots=True)
class InlinedCall:
    """One inlined call around an address: `function` (demangled; with its parameter list
    for C++, as pydbg shows names), and the `call_file` / `call_line` of the call in the
    function it was inlined into (0 when the DWARF does not say); `block` identifies the
    inlined copy (its DIE offset: two calls of one function are two blocks) and `entry`
    is where its code starts (gdb's BLOCK_ENTRY_PC: the low pc, or the first of its
    DW_AT_ranges in DWARF order), link-time.  A stop exactly at `entry` (or at `starts`)
    is, for gdb, at the call site, not yet in the inlined function."""

    function: str
    call_file: str
    call_line: int
    block: int = 0
    entry: int = 0
    # The starts of its address ranges that follow no other of its ranges: a stop there
    # enters it too (gdb's block_starting_point_at), link-time like `entry`.
    starts: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Entry:
    low: int
    high: int
    depth: int
    call: InlinedCall


class InlineIndex:
    """The inlined calls of an `ElfImage` (`inline_index(image)`)."""

    def __init__(self, image: ElfImage) -> None:
        self.image = image
        self.error: str | None = None
        self._lock = threading.Lock()
        self._opened = False
        self._dwarf: Any = None
        self._info: DebugInfo | None = None
        # cu offset -> the start addresses of its functions, and the functions
        self._units: dict[int, tuple[list[int], list[tuple[int, int, Any, list[str]]]]] = {}
        self._functions: dict[int, list[_Entry]] = {}  # DIE offset -> its inlined calls

    def calls_at(self, address: int) -> list[InlinedCall]:
        """The inlined calls whose code contains `address`, innermost first."""
        with self._lock:
            if not self._open():
                return []
            assert self._info is not None
            try:
                with self._info.lock():  # one reader of the shared DWARF at a time
                    entries = self._entries_at(address)
            except ImageFileError:
                raise
            except Exception as exc:  # pyelftools raises anything on garbage
                self.error = f"{self.image.path}: inlined calls unreadable: {exc!r}"
                return []
        entries.sort(key=lambda e: -e.depth)
        return [e.call for e in entries]

    # -- opening -----------------------------------------------------------------------

    def _open(self) -> bool:
        """The image's DWARF, as pydbg.dwarf.debug_info has it open (one reader per
        image for variables, types and inlined calls)."""
        if self._opened:
            return self._dwarf is not None
        self._opened = True
        from pydbg.dwarf.debug_info import debug_info_for

        try:
            self._info = info = debug_info_for(self.image)
            self._dwarf = info.dwarf
        except (ImageError, OSError) as exc:
            self.error = f"no inlined calls: {exc}"
            self._dwarf = None
        except Exception as exc:  # pyelftools raises anything on garbage
            self.error = f"{self.image.path}: no inlined calls: {exc!r}"
            self._dwarf = None
        if self._dwarf is None and self.error is None and self._info is not None:
            self.error = self._info.error
        return self._dwarf is not None

    # -- units -------------------------------------------------------------------------

    def _unit_offsets(self, address: int) -> list[int]:
        assert self._info is not None
        cu = self._info.unit_at(address)
        return [] if cu is None else [cu.cu_offset]

    def _entries_at(self, address: int) -> list[_Entry]:
        found: list[_Entry] = []
        for offset in self._unit_offsets(address):
            unit = self._units.get(offset)
            if unit is None:
                unit = self._units[offset] = self._read_unit(offset)
            starts, functions = unit
            # Functions are sorted by start; only those starting at or below can hold it.
            for low, high, die, files in functions[: bisect.bisect_right(starts, address)]:
                if low <= address < high:
                    found += [e for e in self._function(die, files) if e.low <= address < e.high]
        return found

    def _read_unit(self, offset: int) -> tuple[list[int], list[tuple[int, int, Any, list[str]]]]:
        """The functions of a unit with code, by start: (low, high, DIE, file names).
        Only the top-level DIEs (and namespaces') are read here; a function's own
        subtree is read when an address falls in it."""
        cu = self._dwarf.get_CU_at(offset)
        files = self._file_names(cu)
        functions: list[tuple[int, int, Any, list[str]]] = []
        stack = list(cu.get_top_DIE().iter_children())
        while stack:
            die = stack.pop()
            if die.tag == "DW_TAG_namespace":
                stack.extend(die.iter_children())
            elif die.tag == "DW_TAG_subprogram" and die.has_children:
                functions += [(low, high, die, files) for low, high in self._ranges(die)]
        functions.sort(key=lambda f: f[0])
        return [f[0] for f in functions], functions

    def _function(self, die: Any, files: list[str]) -> list[_Entry]:
        """The inlined calls in one function's DIE subtree, read once."""
        entries = self._functions.get(die.offset)
        if entries is not None:
            return entries
        entries = []
        stack = [(child, 0) for child in die.iter_children()]
        while stack:
            child, depth = stack.pop()
            if child.tag not in _SCOPES:
                continue
            inner = depth
            if child.tag == "DW_TAG_inlined_subroutine":
                inner = depth + 1
                ranges = self._ranges(child)
                call = self._call(child, files, ranges)
                for low, high in ranges:
                    entries.append(_Entry(low, high, inner, call))
            stack.extend((grandchild, inner) for grandchild in child.iter_children())
        self._functions[die.offset] = entries
        return entries

    def _call(self, die: Any, files: list[str], ranges: list[tuple[int, int]]) -> InlinedCall:
        attrs = die.attributes
        index = attrs["DW_AT_call_file"].value if "DW_AT_call_file" in attrs else -1
        line = attrs["DW_AT_call_line"].value if "DW_AT_call_line" in attrs else 0
        entry = ranges[0][0] if ranges else 0
        starts = tuple(low for low, _ in ranges if not any(lo <= low - 1 < hi for lo, hi in ranges))
        file = files[index] if 0 <= index < len(files) else ""
        return InlinedCall(_function_name(die), file, int(line), die.offset, entry, starts)

    def _ranges(self, die: Any) -> list[tuple[int, int]]:
        attrs = die.attributes
        if "DW_AT_low_pc" in attrs and "DW_AT_high_pc" in attrs:
            low = attrs["DW_AT_low_pc"].value
            high = attrs["DW_AT_high_pc"]
            # DWARF 4+: a high_pc of a constant class is a length.
            end = high.value if high.form == "DW_FORM_addr" else low + high.value
            return [(low, end)]
        if "DW_AT_ranges" in attrs:
            lists = self._dwarf.range_lists()
            attr = attrs["DW_AT_ranges"]
            if lists is None or attr.form == "DW_FORM_rnglistx":
                return []  # rnglistx: split DWARF only, which this reader does not follow
            base = _unit_base(die)
            out: list[tuple[int, int]] = []
            for entry in lists.get_range_list_at_offset(attr.value, cu=die.cu):
                if type(entry).__name__ == "BaseAddressEntry":
                    base = entry.base_address
                elif getattr(entry, "is_absolute", False):
                    out.append((entry.begin_offset, entry.end_offset))
                else:
                    out.append((base + entry.begin_offset, base + entry.end_offset))
            return [(low, high) for low, high in out if low < high]
        return []

    def _file_names(self, cu: Any) -> list[str]:
        """The unit's line-program file names, indexed as DW_AT_call_file counts them
        (from 0 in DWARF 5, from 1 before: index 0 is then left empty)."""
        program = self._dwarf.line_program_for_CU(cu)
        if program is None:
            return []
        version = program.header["version"]
        top = cu.get_top_DIE().attributes
        comp_dir = _text(top["DW_AT_comp_dir"].value) if "DW_AT_comp_dir" in top else ""
        dirs = [_text(d) for d in program.header["include_directory"]]
        if version < 5:
            dirs = [comp_dir, *dirs]
        names: list[str] = [] if version >= 5 else [""]
        for entry in program.header["file_entry"]:
            name = _text(entry.name)
            index = entry.dir_index
            directory = dirs[index] if 0 <= index < len(dirs) else ""
            if not os.path.isabs(name) and directory:
                if not os.path.isabs(directory) and comp_dir:
                    directory = os.path.join(comp_dir, directory)
                name = os.path.join(directory, name)
            names.append(os.path.normpath(name))
        return names


def _unit_base(die: Any) -> int:
    top = die.cu.get_top_DIE().attributes
    return int(top["DW_AT_low_pc"].value) if "DW_AT_low_pc" in top else 0


def _function_name(die: Any) -> str:
    """The name of the function an inlined call is a copy of: its linkage name demangled
    (C++: `ns::K::f(int)`), else its DW_AT_name, following abstract origins and
    specifications."""
    seen = 0
    name = ""
    while die is not None and seen < 8:
        seen += 1
        attrs = die.attributes
        for key in ("DW_AT_linkage_name", "DW_AT_MIPS_linkage_name"):
            if key in attrs:
                return demangle(_text(attrs[key].value))
        if not name and "DW_AT_name" in attrs:
            name = _text(attrs["DW_AT_name"].value)
        for key in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if key in attrs:
                die = die.get_DIE_from_attribute(key)
                break
        else:
            break
    return name or "??"


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


_INDEXES: weakref.WeakKeyDictionary[ElfImage, InlineIndex] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def inline_index(image: ElfImage) -> InlineIndex:
    """The image's InlineIndex, made on first use and kept as long as the image."""
    with _INDEXES_LOCK:
        index = _INDEXES.get(image)
        if index is None:
            index = _INDEXES[image] = InlineIndex(image)
        return index
