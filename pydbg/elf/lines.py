"""Source lines of one ELF file (`LineTable`): address -> (file, line) and (file, line) ->
addresses, from the DWARF line programs in .debug_line (the file's own, or its separate
debug file's).

Read lazily with the raw readers of `pydbg.elf.line_program`, one compilation unit at a
time: a lookup by address decodes only the unit that .debug_aranges says covers it, or
(no aranges, as clang's default) the unit whose first DIE's DW_AT_low_pc/high_pc or
DW_AT_ranges (.debug_ranges, .debug_rnglists) do; all units only when none does.  A
lookup by line decodes only the units whose file
tables (read from the program headers, a few ms for libc) name the file's base name.
DWARF 5 (gcc 12's default) numbers files from 0 and lists the compilation directory as
directory 0; DWARF 2-4 number files from 1 and leave directory 0 implicit: `_unit_files`
hides the difference.  Paths are the directory joined with the name and normalized
(glibc's "./elf" + "rtld.c" is "elf/rtld.c", as gdb's "./elf/rtld.c").

An address maps to the last row at or before it in its sequence (several rows at one
address: the last, as addr2line does); a line maps to the addresses of its `is_stmt`
rows.  Line info that cannot be parsed (garbage .debug_line, an unsupported form or
compression) is never an error here: the affected units, or the whole table, give no
answers, and `error` / `warnings` say why.  Addresses are link-time.
"""

from __future__ import annotations

import bisect
import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO, cast

from pydbg.elf.errors import ImageError, ImageFileError
from pydbg.elf.image import ElfImage, ImageStream
from pydbg.elf.line_program import (
    DwarfFormatError,
    LineHeader,
    UnitRoot,
    decode_program,
    inflate,
    parse_aranges,
    parse_line_header,
    parse_ranges,
    unit_roots,
)

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


@dataclass
class _Unit:
    """One line program (and the compilation unit that points at it, when known): its
    header read on demand (the file index needs only headers), its rows decoded on
    demand."""

    offset: int | None  # of the unit in .debug_info (None: not known yet, or none)
    stmt_list: int  # of its line program in .debug_line: what identifies it here
    comp_dir: str | None  # DW_AT_comp_dir (None: not read yet)
    root: UnitRoot | None = None  # its first DIE (address ranges)
    header: LineHeader | None = None
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


_BAD = (DwarfFormatError, IndexError, ValueError, struct.error, zlib.error, KeyError)


class LineTable:
    """The line table of an `ElfImage`: `image.lines`, or `LineTable(image)`.

    `available` says whether there is line info at all; `error` is set when the DWARF
    could not be read (the table then answers nothing), `warnings` lists units skipped
    because they were damaged.

    Indexes, all built lazily: the units (one cheap pass over the first DIE of each
    unit), .debug_aranges (address -> unit), and a base-name index of the line-program
    file tables (file name -> units), built from the program headers alone.  Only the
    units a query needs are decoded.
    """

    def __init__(self, image: ElfImage) -> None:
        self.image = image
        self.error: str | None = None
        self.warnings: list[str] = []
        self.source: ElfImage | None = None  # the file the DWARF comes from
        self._sections: dict[str, bytes] = {}
        self._units: list[_Unit] | None = None
        self._by_offset: dict[int, _Unit] = {}  # compilation units by .debug_info offset
        self._by_stmt: dict[int, _Unit] = {}  # line programs by .debug_line offset
        self._programs: list[_Unit] | None = None
        self._aranges: list[tuple[int, int, int]] | None = None
        self._arange_starts: list[int] = []
        self._by_name: dict[str, list[_Unit]] | None = None
        self._by_file: dict[str, dict[int, list[int]]] = {}  # query -> line -> addresses
        self._spans: list[tuple[int, int, _Unit]] | None = None  # from the units' DIEs
        self._span_starts: list[int] = []
        self._complete: bool | None = None  # every unit says what it covers
        self._all_decoded = False
        self._seq_starts: list[int] = []
        self._sequences: list[_Sequence] = []
        self._opened = False
        self._ok = False

    # -- opening -----------------------------------------------------------------------

    def _open(self) -> bool:
        if self._opened:
            return self._ok
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
        if source.kind.startswith("rel"):
            try:
                self._load_relocated(source)
            except ImageFileError:
                raise
            except Exception as exc:  # pyelftools raises anything on garbage
                self._fail(source, exc)
                return False
        self._ok = True
        return True

    def _load_relocated(self, source: ElfImage) -> None:
        """Object files: the DWARF needs relocating first, which pyelftools does."""
        from elftools.elf.elffile import ELFFile

        dwarf = ELFFile(cast(BinaryIO, ImageStream(source))).get_dwarf_info(
            relocate_dwarf_sections=True
        )
        for name in _SECTIONS:
            sec = getattr(dwarf, name[1:] + "_sec", None)
            self._sections[name] = sec.stream.getvalue() if sec is not None else b""

    def _data(self, name: str) -> bytes:
        """A debug section's bytes, inflated, read on first use (b"" when absent or
        unreadable: a warning, or the table's error for .debug_line)."""
        data = self._sections.get(name)
        if data is not None:
            return data
        data = b""
        source = self.source
        if source is not None:
            try:
                sec = source.section(name) or source.section(".z" + name[1:])
                if sec is not None and sec.has_file_data:
                    data = inflate(source.read_section(sec), sec.flags, sec.name)
            except ImageFileError:
                raise
            except (ImageError, *_BAD) as exc:
                if name == ".debug_line":
                    self._fail(source, exc)
                else:
                    self.warnings.append(f"{source.path}: {name} ignored: {_why(exc)}")
        self._sections[name] = data
        return data

    def _fail(self, source: ElfImage, exc: BaseException) -> None:
        self.error = f"{source.path}: no line info: {_why(exc)}"
        self._ok = False
        self._units = []
        self._programs = []

    @property
    def available(self) -> bool:
        """Whether the file (or its debug file) has line info that could be opened."""
        return self._open() and bool(self._all_programs())

    # -- units -------------------------------------------------------------------------

    def _strs(self) -> dict[str, bytes]:
        return {name: self._data(name) for name in _STR_SECTIONS}

    def _unit_for(self, stmt_list: int) -> _Unit:
        unit = self._by_stmt.get(stmt_list)
        if unit is None:
            unit = self._by_stmt[stmt_list] = _Unit(None, stmt_list, None)
        return unit

    def _adopt(self, root: UnitRoot) -> _Unit | None:
        """The unit of a compilation unit's first DIE (None: it has no line program)."""
        if root.stmt_list is None:
            return None
        unit = self._unit_for(root.stmt_list)
        unit.offset, unit.root, unit.comp_dir = root.offset, root, _text(root.comp_dir)
        self._by_offset[root.offset] = unit
        return unit

    def _all_units(self) -> list[_Unit]:
        """Every compilation unit with a line program, from a pass over the first DIE of
        each (needed for address ranges without .debug_aranges, and DWARF 4's
        DW_AT_comp_dir; a lookup by line in DWARF 5 does without)."""
        if self._units is not None:
            return self._units
        units: list[_Unit] = []
        if not self._open():
            self._units = units
            return units
        try:
            roots = unit_roots(self._data(".debug_info"), self._data(".debug_abbrev"), self._strs())
            for root in roots:
                unit = self._adopt(root)
                if unit is not None:
                    units.append(unit)
        except ImageFileError:
            raise
        except _BAD as exc:  # a unit so damaged the rest cannot be found
            assert self.source is not None
            self.warnings.append(f"{self.source.path}: units after the damage skipped: {_why(exc)}")
        if self._units is None:  # (a failure meanwhile leaves [])
            self._units = units
        return self._units

    def _all_programs(self) -> list[_Unit]:
        """Every line program of .debug_line, in order, headers read (the programs follow
        each other: each header says where the next starts)."""
        if self._programs is not None:
            return self._programs
        programs: list[_Unit] = []
        if self._open():
            data = self._data(".debug_line")
            strs = (self._data(".debug_line_str"), self._data(".debug_str"))
            offset = 0
            while offset < len(data):
                unit = self._unit_for(offset)
                try:
                    if unit.header is None:
                        unit.header = parse_line_header(data, offset, strs)
                except _BAD as exc:
                    if programs:  # the rest cannot be found
                        assert self.source is not None
                        self.warnings.append(
                            f"{self.source.path}: line programs from {offset:#x} skipped: "
                            f"{_why(exc)}"
                        )
                    else:
                        self._broken(unit, exc)
                    break
                programs.append(unit)
                offset = unit.header.end
        if self._programs is None:
            self._programs = programs
        return self._programs

    def _unit_at_offset(self, offset: int) -> _Unit | None:
        """The unit of the compilation unit at `offset` of .debug_info (its first DIE
        alone is read, unless every unit's already was)."""
        unit = self._by_offset.get(offset)
        if unit is not None or self._units is not None:
            return unit
        try:
            root = next(
                unit_roots(
                    self._data(".debug_info"), self._data(".debug_abbrev"), self._strs(), offset
                ),
                None,
            )
        except _BAD:
            return None
        return None if root is None or root.offset != offset else self._adopt(root)

    def _header(self, unit: _Unit) -> LineHeader | None:
        if unit.header is None and not unit.broken:
            try:
                strs = (self._data(".debug_line_str"), self._data(".debug_str"))
                unit.header = parse_line_header(self._data(".debug_line"), unit.stmt_list, strs)
            except _BAD as exc:
                self._broken(unit, exc)
        return unit.header

    def _comp_dir(self, unit: _Unit, header: LineHeader) -> str:
        """The unit's compilation directory: DWARF 5's directory 0, else its DIE's."""
        if header.version >= 5 and header.dirs:
            return _text(header.dirs[0])
        if unit.comp_dir is None:
            self._all_units()
        return unit.comp_dir or ""

    def _broken(self, unit: _Unit, exc: BaseException) -> None:
        assert self.source is not None
        self.warnings.append(
            f"{self.source.path}: line program at {unit.stmt_list:#x} skipped: {_why(exc)}"
        )
        unit.broken = True
        unit.files = []
        unit.sequences = []

    def _unit_files(self, unit: _Unit) -> list[str]:
        """The unit's file table as normalized paths, indexed by the rows' file numbers.

        DWARF 5 lists the compilation directory itself as directory 0 (glibc's is
        relative, "./elf"): that entry is not joined with DW_AT_comp_dir again, which
        would make "elf/elf/rtld.c".  Other relative directories are relative to it."""
        if unit.files is not None:
            return unit.files
        header = self._header(unit)
        if header is None:
            return []
        dirs = [_text(d) for d in header.dirs]
        files: list[str] = []
        base = self._comp_dir(unit, header)
        if header.version < 5:
            files.append("")  # file numbers start at 1
        for raw, index in header.files:
            name = _text(raw)
            if index == 0:
                directory = base
            else:
                position = index if header.version >= 5 else index - 1
                directory = dirs[position] if position < len(dirs) else ""
                if not os.path.isabs(directory):
                    directory = os.path.join(base, directory)
            files.append(os.path.normpath(os.path.join(directory, name)))
        unit.files = files
        return files

    def _decode(self, unit: _Unit) -> list[_Sequence]:
        if unit.sequences is not None:
            return unit.sequences
        header = self._header(unit)
        if header is None:
            return []
        try:
            program = decode_program(self._data(".debug_line"), header)
            files = self._unit_files(unit)
            for raw, index in program.defined_files:  # DW_LNE_define_file (DWARF <= 4)
                directory = header.dirs[index - 1] if 0 < index <= len(header.dirs) else b""
                files.append(
                    os.path.normpath(
                        os.path.join(self._comp_dir(unit, header), _text(directory), _text(raw))
                    )
                )
        except _BAD as exc:
            self._broken(unit, exc)
            return []
        sequences = [
            _Sequence(seq.addrs[0], seq.end, seq.addrs, seq.rows, unit) for seq in program.sequences
        ]
        unit.sequences = sequences
        for seq in sequences:
            i = bisect.bisect_right(self._seq_starts, seq.start)
            self._seq_starts.insert(i, seq.start)
            self._sequences.insert(i, seq)
        return sequences

    def _decode_all(self) -> None:
        if not self._all_decoded:
            for unit in self._all_programs():
                self._decode(unit)
            self._all_decoded = True

    # -- address -> line ---------------------------------------------------------------

    def find_address(self, address: int, statement: bool = False) -> SourceLine | None:
        """The source line of a link-time address, or None (no line info covers it).
        Of several rows at one address this is the last (addr2line's choice); with
        `statement`, the last is_stmt one when the last is not a statement (gdb's)."""
        hit = self._row_at(address)
        if hit is None:
            return None
        seq, k = hit
        if statement and not seq.rows[k][3]:
            i = k
            while i > 0 and seq.addrs[i - 1] == seq.addrs[k]:
                i -= 1
                if seq.rows[i][3]:
                    k = i
                    break
        file_index, line, column, _stmt = seq.rows[k]
        files = self._unit_files(seq.unit)
        path = files[file_index] if 0 <= file_index < len(files) else ""
        return SourceLine(path, line, column, seq.addrs[k])

    def _row_at(self, address: int) -> tuple[_Sequence, int] | None:
        if not self._open():
            return None
        if not self._all_decoded:
            for find in (self._unit_at, self._unit_spanning):  # (the second only if need be)
                unit = find(address)
                if unit is not None:
                    self._decode(unit)
                    hit = self._search(address)
                    if hit is not None:
                        return hit
            if self._indexed_all():
                return None  # every unit said what it covers, and none covers this
            self._decode_all()  # some unit did not say: look at every row
        return self._search(address)

    def line_for_address(self, address: int) -> tuple[str, int] | None:
        """(file path, line) of a link-time address, or None."""
        hit = self.find_address(address)
        return None if hit is None else (hit.path, hit.line)

    def line_range(self, address: int) -> tuple[int, int] | None:
        """[start, end) of the run of rows around `address` that have its file and line
        (a line's code in one place; a line can have several such runs), or None."""
        hit = self._row_at(address)
        if hit is None:
            return None
        seq, k = hit
        file_index, line = seq.rows[k][0], seq.rows[k][1]
        lo = k
        while lo > 0 and seq.rows[lo - 1][0] == file_index and seq.rows[lo - 1][1] == line:
            lo -= 1
        hi = k + 1
        while hi < len(seq.rows) and (
            (seq.rows[hi][0] == file_index and seq.rows[hi][1] == line)
            or seq.addrs[hi] == seq.addrs[k]
        ):
            hi += 1
        end = seq.addrs[hi] if hi < len(seq.addrs) else seq.end
        return seq.addrs[lo], end

    def is_statement(self, address: int) -> bool:
        """Whether the row `find_address(address, statement=True)` picks is_stmt."""
        hit = self._row_at(address)
        if hit is None:
            return False
        seq, k = hit
        while k >= 0 and seq.addrs[k] == seq.addrs[hit[1]]:
            if seq.rows[k][3]:
                return True
            k -= 1
        return False

    def _unit_at(self, address: int) -> _Unit | None:
        """The unit .debug_aranges says covers an address, or None."""
        if self._aranges is None:
            self._aranges = []
            try:
                self._aranges = parse_aranges(self._data(".debug_aranges"))
            except _BAD as exc:
                assert self.source is not None
                self.warnings.append(f"{self.source.path}: .debug_aranges ignored: {_why(exc)}")
            self._arange_starts = [a[0] for a in self._aranges]
        if not self._aranges:
            return None
        i = bisect.bisect_right(self._arange_starts, address) - 1
        for lo, hi, offset in reversed(self._aranges[max(0, i - 8) : i + 1]):
            if lo <= address < hi:
                return self._unit_at_offset(offset)
        return None

    def _unit_spanning(self, address: int) -> _Unit | None:
        """The unit whose first DIE's DW_AT_low_pc/high_pc or DW_AT_ranges cover an
        address (for files without .debug_aranges, as clang's by default), or None."""
        if self._spans is None:
            spans: list[tuple[int, int, _Unit]] = []
            units = self._all_units()
            data = {4: self._data(".debug_ranges"), 5: self._data(".debug_rnglists")}
            for unit in units:
                root = unit.root
                if root is None:
                    continue
                found = list(root.spans)
                if root.ranges >= 0:
                    try:
                        found += parse_ranges(
                            data[5 if root.version >= 5 else 4],
                            root.ranges,
                            root.version,
                            root.low_pc,
                            root.address_size,
                        )
                    except _BAD:
                        continue  # left to the full decode
                spans.extend((lo, hi, unit) for lo, hi in found if lo < hi)
            spans.sort(key=lambda span: span[0])
            self._spans = spans
            self._span_starts = [span[0] for span in spans]
        i = bisect.bisect_right(self._span_starts, address) - 1
        for lo, hi, unit in reversed(self._spans[max(0, i - 8) : i + 1]):
            if lo <= address < hi:
                return unit
        return None

    def _indexed_all(self) -> bool:
        """Whether every unit with a line program is in .debug_aranges or has address
        ranges on its first DIE (then an address no unit claims has no line info)."""
        if self._complete is None:
            self._unit_at(0)  # reads the aranges
            self._unit_spanning(0)  # builds the spans
            claimed: set[int | None] = {offset for _lo, _hi, offset in self._aranges or ()}
            claimed.update(unit.offset for _lo, _hi, unit in self._spans or ())
            # A unit with neither low_pc nor ranges has no code (abi-note.c).
            claimed.update(
                unit.offset
                for unit in self._all_units()
                if unit.root is not None
                and not unit.root.spans
                and unit.root.ranges == -1
                and not unit.root.has_code_attributes
            )
            self._complete = all(unit.offset in claimed for unit in self._all_units())
        return self._complete

    @property
    def decoded_units(self) -> int:
        """How many units' line programs have been decoded so far (the indexes' point is
        to keep this small; for tests and benchmarks)."""
        return sum(1 for unit in self._by_stmt.values() if unit.sequences is not None)

    def _search(self, address: int) -> tuple[_Sequence, int] | None:
        i = bisect.bisect_right(self._seq_starts, address) - 1
        # Sequences can nest or overlap in odd files: look back a little.
        for seq in reversed(self._sequences[max(0, i - 8) : i + 1]):
            if seq.start <= address < seq.end:
                return seq, bisect.bisect_right(seq.addrs, address) - 1
        return None

    # -- line -> addresses -------------------------------------------------------------

    def _name_index(self) -> dict[str, list[_Unit]]:
        """Base name -> units whose file tables name it (headers only, no rows)."""
        if self._by_name is None:
            index: dict[str, list[_Unit]] = {}
            for unit in self._all_programs():
                header = self._header(unit)
                if header is None:
                    continue
                for name in {os.path.basename(_text(raw)) for raw, _ in header.files}:
                    index.setdefault(name, []).append(unit)
            self._by_name = index
        return self._by_name

    def units_naming(self, file: str) -> list[_Unit]:
        return self._name_index().get(os.path.basename(os.path.normpath(file)), [])

    def line_rows(self, file: str) -> list[tuple[str, int, int, bool]]:
        """(path, line, address, is_stmt) of every row of `file` (by path, path tail or
        base name), in no particular order."""
        out: list[tuple[str, int, int, bool]] = []
        for unit in self.units_naming(file):
            files = self._unit_files(unit)
            wanted = {i for i, path in enumerate(files) if path and _same_file(path, file)}
            if not wanted:
                continue
            for seq in self._decode(unit):
                for addr, (file_index, row_line, _col, stmt) in zip(
                    seq.addrs, seq.rows, strict=True
                ):
                    if file_index in wanted:
                        out.append((files[file_index], row_line, addr, stmt))
        return out

    def addresses_for_line(self, file: str, line: int) -> list[int]:
        """Link-time addresses of the `is_stmt` rows for `file:line`, sorted.  `file` is
        a full path, a path tail ("src/main.c") or a base name ("main.c")."""
        by_line = self._by_file.get(file)
        if by_line is None:
            sets: dict[int, set[int]] = {}
            for _path, number, addr, stmt in self.line_rows(file):
                if stmt:
                    sets.setdefault(number, set()).add(addr)
            by_line = self._by_file[file] = {n: sorted(a) for n, a in sets.items()}
        return list(by_line.get(line, ()))

    def files(self) -> list[str]:
        """Every source file named by the line programs, sorted."""
        names: set[str] = set()
        for unit in self._all_programs():
            names.update(p for p in self._unit_files(unit) if p)
        return sorted(names)


_STR_SECTIONS = (".debug_str", ".debug_line_str", ".debug_str_offsets")
_SECTIONS = (
    ".debug_info",
    ".debug_abbrev",
    ".debug_line",
    ".debug_aranges",
    ".debug_ranges",
    ".debug_rnglists",
    *_STR_SECTIONS,
)


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
