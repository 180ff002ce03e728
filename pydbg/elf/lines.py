"""Source lines of one ELF file (`LineTable`): address -> (file, line) and (file, line) ->
addresses, from the DWARF line programs in .debug_line (the file's own, or its separate
debug file's).

Read lazily with pyelftools, one compilation unit at a time: a lookup by address decodes
only the unit that .debug_aranges says covers it (all units when the file has no aranges);
a lookup by line decodes only the units whose file tables name the file.  DWARF 5 (gcc 12's
default) numbers files from 0 and lists the compilation directory as directory 0; DWARF 2-4
number files from 1 and leave directory 0 implicit: `_unit_files` hides the difference.

An address maps to the last row at or before it in its sequence (several rows at one
address: the last, as addr2line does); a line maps to the addresses of its `is_stmt`
rows.  Line info that pyelftools cannot parse (garbage .debug_line, an unsupported form
or compression) is never an error here: the affected units, or the whole table, give no
answers, and `error` / `warnings` say why.  Addresses are link-time.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from pydbg.elf.errors import ImageError, ImageFileError
from pydbg.elf.image import ElfImage

__all__ = ["LineTable", "SourceLine"]


@dataclass(frozen=True, slots=True)
class SourceLine:
    """Where an address comes from: `path` (as the DWARF names it, normalized), `line`
    (1-based; 0 means "no line"), `column` (0 when unknown), and `address`, the start of
    the line-table row that covers the address asked about."""

    path: str
    line: int
    column: int
    address: int


class _Stream:
    """A file object over an ElfImage's descriptor, for pyelftools (it needs seek, tell
    and read, and reads the DWARF sections whole into memory)."""

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


@dataclass
class _Unit:
    """One compilation unit's line program, decoded on demand."""

    offset: int  # of the unit in .debug_info
    program: Any  # pyelftools LineProgram
    comp_dir: str
    files: list[str] | None = None  # resolved paths, indexed like the rows' file numbers
    sequences: list[_Sequence] | None = None
    broken: bool = False


@dataclass
class _Sequence:
    """Rows of one DW_LNE_end_sequence-terminated run, in address order."""

    start: int
    end: int  # the end_sequence address (exclusive)
    addrs: list[int]
    rows: list[tuple[int, int, int, bool]]  # (file index, line, column, is_stmt)
    unit: _Unit


class LineTable:
    """The line table of an `ElfImage`: `image.lines`, or `LineTable(image)`.

    `available` says whether there is line info at all; `error` is set when the DWARF
    could not be read (the table then answers nothing), `warnings` lists units skipped
    because they were damaged.
    """

    def __init__(self, image: ElfImage) -> None:
        self.image = image
        self.error: str | None = None
        self.warnings: list[str] = []
        self.source: ElfImage | None = None  # the file the DWARF comes from
        self._dwarf: Any = None
        self._units: list[_Unit] | None = None
        self._by_offset: dict[int, _Unit] = {}
        self._aranges: Any = None
        self._all_decoded = False
        self._seq_starts: list[int] = []
        self._sequences: list[_Sequence] = []
        self._opened = False

    # -- opening -----------------------------------------------------------------------

    def _open(self) -> bool:
        if self._opened:
            return self._dwarf is not None
        self._opened = True
        try:
            source = self.image if self.image.has_debug_line else None
            if source is None:
                debug = self.image.debug_image
                if debug is not None and debug.has_debug_line:
                    source = debug
        except ImageFileError:
            raise
        except ImageError as exc:  # damaged section headers: no line info, not a crash
            self.error = f"no line info: {exc}"
            self._units = []
            return False
        if source is None:
            return False
        self.source = source
        try:
            from elftools.elf.elffile import ELFFile

            elf = ELFFile(cast(BinaryIO, _Stream(source)))
            if not elf.has_dwarf_info():
                return False
            self._dwarf = elf.get_dwarf_info(relocate_dwarf_sections=True)
            try:
                self._aranges = self._dwarf.get_aranges()
            except Exception as exc:  # pyelftools raises anything on garbage
                self.warnings.append(f"{source.path}: .debug_aranges ignored: {_why(exc)}")
                self._aranges = None
        except ImageFileError:
            raise
        except Exception as exc:  # pyelftools raises anything on garbage
            self._fail(source, exc)
            return False
        return True

    def _fail(self, source: ElfImage, exc: BaseException) -> None:
        self.error = f"{source.path}: no line info: {_why(exc)}"
        self._dwarf = None
        self._units = []

    @property
    def available(self) -> bool:
        """Whether the file (or its debug file) has line info that could be opened."""
        return self._open() and bool(self._all_units())

    # -- units -------------------------------------------------------------------------

    def _make_unit(self, cu: Any) -> _Unit | None:
        """The unit of a parsed CU (None when it has no line program); damage is a
        warning and None."""
        unit = self._by_offset.get(cu.cu_offset)
        if unit is not None:
            return unit
        try:
            top = cu.get_top_DIE()
            if "DW_AT_stmt_list" not in top.attributes:
                return None
            program = self._dwarf.line_program_for_CU(cu)
            if program is None:
                return None
            comp_dir = top.attributes.get("DW_AT_comp_dir")
            text = _text(comp_dir.value) if comp_dir is not None else ""
        except ImageFileError:
            raise
        except Exception as exc:  # pyelftools raises anything on garbage
            self.warnings.append(f"unit at {cu.cu_offset:#x} skipped: {_why(exc)}")
            return None
        unit = _Unit(cu.cu_offset, program, text)
        self._by_offset[unit.offset] = unit
        return unit

    def _all_units(self) -> list[_Unit]:
        """Every unit with a line program.  Parsing each unit's first DIE is most of
        the cost of opening a big library's line info, so address lookups avoid this
        and go through .debug_aranges to the one unit they need."""
        if self._units is not None:
            return self._units
        units: list[_Unit] = []
        if not self._open():
            self._units = units
            return units
        try:
            for cu in self._dwarf.iter_CUs():
                unit = self._make_unit(cu)
                if unit is not None:
                    units.append(unit)
        except ImageFileError:
            raise
        except Exception as exc:  # a unit header so damaged the rest cannot be found
            assert self.source is not None
            if units:
                self.warnings.append(
                    f"{self.source.path}: units after the damage skipped: {_why(exc)}"
                )
            else:
                self._fail(self.source, exc)
        self._units = units
        return units

    def _unit_files(self, unit: _Unit) -> list[str]:
        """The unit's file table as normalized paths, indexed by the rows' file numbers."""
        if unit.files is not None:
            return unit.files
        header = unit.program.header
        version = header["version"]
        dirs = [_text(d) for d in header["include_directory"]]
        files: list[str] = []
        if version < 5:
            files.append("")  # file numbers start at 1
        for entry in header["file_entry"]:
            name = _text(entry.name)
            index = entry.dir_index
            if version >= 5:
                directory = dirs[index] if index < len(dirs) else ""
            else:
                directory = unit.comp_dir if index == 0 else (
                    dirs[index - 1] if index - 1 < len(dirs) else ""
                )  # fmt: skip
            if not os.path.isabs(directory):
                directory = os.path.join(unit.comp_dir, directory)
            files.append(os.path.normpath(os.path.join(directory, name)))
        unit.files = files
        return files

    def _decode(self, unit: _Unit) -> list[_Sequence]:
        if unit.sequences is not None:
            return unit.sequences
        sequences: list[_Sequence] = []
        try:
            entries = unit.program.get_entries()
            addrs: list[int] = []
            rows: list[tuple[int, int, int, bool]] = []
            for entry in entries:
                state = entry.state
                if state is None:
                    continue
                if state.end_sequence:
                    if addrs:
                        sequences.append(_Sequence(addrs[0], state.address, addrs, rows, unit))
                    addrs, rows = [], []
                    continue
                addrs.append(state.address)
                rows.append((state.file, state.line, state.column, bool(state.is_stmt)))
            # DW_LNE_define_file can add files while the program runs: resolve after.
            self._unit_files(unit)
        except ImageFileError:
            raise
        except Exception as exc:  # pyelftools raises anything on garbage
            assert self.source is not None
            self.warnings.append(
                f"{self.source.path}: line program of unit {unit.offset:#x} skipped: {_why(exc)}"
            )
            unit.broken = True
            sequences = []
        unit.sequences = sequences
        for seq in sequences:
            i = bisect.bisect_right(self._seq_starts, seq.start)
            self._seq_starts.insert(i, seq.start)
            self._sequences.insert(i, seq)
        return sequences

    def _decode_all(self) -> None:
        if not self._all_decoded:
            for unit in self._all_units():
                self._decode(unit)
            self._all_decoded = True

    # -- address -> line ---------------------------------------------------------------

    def find_address(self, address: int) -> SourceLine | None:
        """The source line of a link-time address, or None (no line info covers it)."""
        if not self._open():
            return None
        if not self._all_decoded:
            unit = self._unit_at(address)
            if unit is not None:
                self._decode(unit)
                hit = self._search(address)
                if hit is not None:
                    return hit
            self._decode_all()  # no aranges, or aranges that miss this address
        return self._search(address)

    def line_for_address(self, address: int) -> tuple[str, int] | None:
        """(file path, line) of a link-time address, or None."""
        hit = self.find_address(address)
        return None if hit is None else (hit.path, hit.line)

    def _unit_at(self, address: int) -> _Unit | None:
        """The unit .debug_aranges says covers an address, or None."""
        if self._aranges is None:
            return None
        try:
            offset = self._aranges.cu_offset_at_addr(address)
            if offset is None:
                return None
            unit = self._by_offset.get(offset)
            if unit is None:
                unit = self._make_unit(self._dwarf.get_CU_at(offset))
        except ImageFileError:
            raise
        except Exception:  # pyelftools raises anything on garbage; fall back to a scan
            return None
        return unit

    def _search(self, address: int) -> SourceLine | None:
        i = bisect.bisect_right(self._seq_starts, address) - 1
        # Sequences can nest or overlap in odd files: look back a little.
        for seq in reversed(self._sequences[max(0, i - 8) : i + 1]):
            if seq.start <= address < seq.end:
                k = bisect.bisect_right(seq.addrs, address) - 1
                file_index, line, column, _stmt = seq.rows[k]
                files = self._unit_files(seq.unit)
                path = files[file_index] if 0 <= file_index < len(files) else ""
                return SourceLine(path, line, column, seq.addrs[k])
        return None

    # -- line -> addresses -------------------------------------------------------------

    def addresses_for_line(self, file: str, line: int) -> list[int]:
        """Link-time addresses of the `is_stmt` rows for `file:line`, sorted.  `file` is
        a full path, a path tail ("src/main.c") or a base name ("main.c")."""
        out: set[int] = set()
        for unit in self._all_units():
            try:
                files = self._unit_files(unit)
            except Exception as exc:  # pyelftools raises anything on garbage
                self.warnings.append(f"file table of unit {unit.offset:#x} skipped: {_why(exc)}")
                continue
            wanted = {i for i, path in enumerate(files) if path and _same_file(path, file)}
            if not wanted:
                continue
            for seq in self._decode(unit):
                for addr, (file_index, row_line, _col, stmt) in zip(
                    seq.addrs, seq.rows, strict=True
                ):
                    if stmt and row_line == line and file_index in wanted:
                        out.add(addr)
        return sorted(out)

    def files(self) -> list[str]:
        """Every source file named by the line programs, sorted."""
        names: set[str] = set()
        for unit in self._all_units():
            try:
                names.update(p for p in self._unit_files(unit) if p)
            except Exception as exc:  # pyelftools raises anything on garbage
                self.warnings.append(f"file table of unit {unit.offset:#x} skipped: {_why(exc)}")
        return sorted(names)


def _same_file(path: str, query: str) -> bool:
    query = os.path.normpath(query) if query else query
    if os.path.isabs(query):
        return path == query
    if "/" in query:
        return path == query or path.endswith("/" + query)
    return os.path.basename(path) == query


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return os.fsdecode(value)
    return str(value) if value is not None else ""


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text
