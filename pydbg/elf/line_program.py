"""Raw DWARF for line lookups, read without building pyelftools objects: debug section
bytes (SHF_COMPRESSED zlib/zstd and GNU .zdebug_ sections inflated), .debug_line program
headers and their file tables (DWARF 2-5), a line-program decoder, .debug_aranges, and
the first DIE of each compilation unit (its DW_AT_stmt_list and DW_AT_comp_dir only).

Why not pyelftools here: it parses a unit's whole abbreviation table to read its first
DIE and builds an object per line-table row, which made libc's first `file:line` lookup
take seconds; these readers do only what a line lookup needs, in a few tens of ms.
Every function raises `DwarfFormatError` (or IndexError/struct.error from truncated data,
which callers treat alike) on input it cannot read; callers skip the unit and warn.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "DwarfFormatError",
    "LineHeader",
    "RawSequence",
    "UnitRoot",
    "decode_program",
    "inflate",
    "parse_aranges",
    "parse_line_header",
    "parse_ranges",
    "unit_roots",
]

SHF_COMPRESSED = 0x800


class DwarfFormatError(ValueError):
    """DWARF this reader does not understand (an unknown form, a bad header)."""


def inflate(data: bytes, flags: int, name: str) -> bytes:
    """A debug section's bytes, uncompressed (ELF64 Chdr or the GNU "ZLIB" header)."""
    if flags & SHF_COMPRESSED:
        ch_type, _reserved, size, _align = struct.unpack_from("<IIQQ", data, 0)
        body = data[24:]
        if ch_type == 1:
            out = zlib.decompress(body)
        elif ch_type == 2:
            try:
                import zstandard  # type: ignore[import-not-found, unused-ignore]
            except ImportError as exc:
                raise DwarfFormatError(f"{name}: zstd-compressed, zstandard missing") from exc
            out = zstandard.ZstdDecompressor().decompress(body, max_output_size=size)
        else:
            raise DwarfFormatError(f"{name}: unknown compression type {ch_type}")
        if len(out) != size:
            raise DwarfFormatError(f"{name}: inflated to {len(out)} bytes, not {size}")
        return out
    if name.startswith(".zdebug") and data[:4] == b"ZLIB":
        return zlib.decompress(data[12:])
    return data


class _Reader:
    """Little-endian cursor over bytes."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def u8(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self) -> int:
        (value,) = struct.unpack_from("<H", self.data, self.pos)
        self.pos += 2
        return int(value)

    def u32(self) -> int:
        (value,) = struct.unpack_from("<I", self.data, self.pos)
        self.pos += 4
        return int(value)

    def u64(self) -> int:
        (value,) = struct.unpack_from("<Q", self.data, self.pos)
        self.pos += 8
        return int(value)

    def uint(self, size: int) -> int:
        value = int.from_bytes(self.data[self.pos : self.pos + size], "little")
        if self.pos + size > len(self.data):
            raise DwarfFormatError("truncated")
        self.pos += size
        return value

    def uleb(self) -> int:
        data, pos = self.data, self.pos
        result = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                self.pos = pos
                return result
            shift += 7

    def sleb(self) -> int:
        data, pos = self.data, self.pos
        result = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                self.pos = pos
                if byte & 0x40:
                    result -= 1 << shift
                return result

    def cstr(self) -> bytes:
        end = self.data.index(b"\0", self.pos)
        text = self.data[self.pos : end]
        self.pos = end + 1
        return text

    def initial_length(self) -> tuple[int, int]:
        """(unit length, offset size)."""
        length = self.u32()
        if length == 0xFFFFFFFF:
            return self.u64(), 8
        if length >= 0xFFFFFFF0:
            raise DwarfFormatError(f"reserved unit length {length:#x}")
        return length, 4


def _cstr_at(table: bytes, offset: int) -> bytes:
    end = table.find(b"\0", offset)
    if offset >= len(table) or end < 0:
        raise DwarfFormatError(f"string offset {offset:#x} outside its section")
    return table[offset:end]


# -- line program headers -------------------------------------------------------------------


@dataclass
class LineHeader:
    """One line program's header: `dirs` and `files` as stored (files are (name, dir
    index) with DWARF's own numbering: from 0 in DWARF 5, from 1 before)."""

    offset: int
    end: int  # one past the unit
    version: int
    address_size: int
    min_inst: int
    default_is_stmt: bool
    line_base: int
    line_range: int
    opcode_base: int
    std_lengths: list[int]
    dirs: list[bytes]
    files: list[tuple[bytes, int]]
    program: int  # offset of the first opcode


_DW_LNCT_PATH, _DW_LNCT_DIR = 1, 2


def _form_value(r: _Reader, form: int, offset_size: int, strs: tuple[bytes, bytes]) -> object:
    """A line-header entry value (DWARF 5 entry formats)."""
    if form == 0x08:  # string
        return r.cstr()
    if form == 0x1F:  # line_strp
        return _cstr_at(strs[0], r.uint(offset_size))
    if form == 0x0E:  # strp
        return _cstr_at(strs[1], r.uint(offset_size))
    if form in (0x0F,):  # udata
        return r.uleb()
    sizes = {0x0B: 1, 0x05: 2, 0x06: 4, 0x07: 8, 0x1E: 16}
    if form in sizes:
        return r.uint(sizes[form])
    if form == 0x09:  # block
        r.pos += r.uleb()
        return None
    raise DwarfFormatError(f"line header form {form:#x} not supported")


def parse_line_header(data: bytes, offset: int, strs: tuple[bytes, bytes]) -> LineHeader:
    """The header of the line program at `offset` of .debug_line; `strs` are the
    .debug_line_str and .debug_str bytes."""
    r = _Reader(data, offset)
    length, offset_size = r.initial_length()
    end = r.pos + length
    if end > len(data):
        raise DwarfFormatError(f"line program at {offset:#x} runs past .debug_line")
    version = r.u16()
    if not 2 <= version <= 5:
        raise DwarfFormatError(f"line program at {offset:#x}: version {version}")
    address_size = 8
    if version >= 5:
        address_size = r.u8()
        r.u8()  # segment selector size
    header_length = r.uint(offset_size)
    program = r.pos + header_length
    min_inst = r.u8()
    if version >= 4:
        r.u8()  # maximum_operations_per_instruction (VLIW only)
    default_is_stmt = bool(r.u8())
    line_base = struct.unpack("b", bytes([r.u8()]))[0]
    line_range = r.u8()
    opcode_base = r.u8()
    if line_range == 0:
        raise DwarfFormatError(f"line program at {offset:#x}: line_range 0")
    std_lengths = [r.u8() for _ in range(max(0, opcode_base - 1))]
    dirs: list[bytes] = []
    files: list[tuple[bytes, int]] = []
    if version >= 5:
        for table in (dirs, files):
            count = r.u8()
            formats = [(r.uleb(), r.uleb()) for _ in range(count)]
            for _ in range(r.uleb()):
                name: bytes = b""
                index = 0
                for kind, form in formats:
                    value = _form_value(r, form, offset_size, strs)
                    if kind == _DW_LNCT_PATH and isinstance(value, bytes):
                        name = value
                    elif kind == _DW_LNCT_DIR and isinstance(value, int):
                        index = value
                if table is dirs:
                    dirs.append(name)
                else:
                    files.append((name, index))
    else:
        while True:
            name = r.cstr()
            if not name:
                break
            dirs.append(name)
        while True:
            name = r.cstr()
            if not name:
                break
            index = r.uleb()
            r.uleb()
            r.uleb()
            files.append((name, index))
    return LineHeader(
        offset,
        end,
        version,
        address_size,
        min_inst,
        default_is_stmt,
        line_base,
        line_range,
        opcode_base,
        std_lengths,
        dirs,
        files,
        program,
    )


@dataclass
class RawSequence:
    """One DW_LNE_end_sequence-terminated run: row addresses, rows
    (file number, line, column, is_stmt), and the end address (exclusive)."""

    addrs: list[int]
    rows: list[tuple[int, int, int, bool]]
    end: int


@dataclass
class DecodedProgram:
    sequences: list[RawSequence] = field(default_factory=list)
    defined_files: list[tuple[bytes, int]] = field(default_factory=list)  # DW_LNE_define_file


def decode_program(data: bytes, h: LineHeader) -> DecodedProgram:
    """Run the line-number state machine of one program (DWARF 2-5)."""
    out = DecodedProgram()
    r = _Reader(data, h.program)
    end = h.end
    opcode_base, line_base, line_range, min_inst = (
        h.opcode_base,
        h.line_base,
        h.line_range,
        h.min_inst,
    )
    std_lengths = h.std_lengths
    const_add = ((255 - opcode_base) // line_range) * min_inst
    first_file = 1
    address, file, line, column, is_stmt = 0, first_file, 1, 0, h.default_is_stmt
    addrs: list[int] = []
    rows: list[tuple[int, int, int, bool]] = []
    buf = data
    while r.pos < end:
        op = buf[r.pos]
        r.pos += 1
        if op >= opcode_base:
            adj = op - opcode_base
            address += (adj // line_range) * min_inst
            line += line_base + adj % line_range
            addrs.append(address)
            rows.append((file, line, column, is_stmt))
        elif op == 0:
            length = r.uleb()
            nxt = r.pos + length
            if length == 0:
                continue
            sub = buf[r.pos]
            r.pos += 1
            if sub == 1:  # end_sequence
                if addrs:
                    out.sequences.append(RawSequence(addrs, rows, address))
                addrs, rows = [], []
                address, file, line, column, is_stmt = 0, first_file, 1, 0, h.default_is_stmt
            elif sub == 2:  # set_address
                address = r.uint(length - 1)
            elif sub == 3:  # define_file (DWARF <= 4)
                name = r.cstr()
                out.defined_files.append((name, r.uleb()))
            r.pos = nxt
        elif op == 1:  # copy
            addrs.append(address)
            rows.append((file, line, column, is_stmt))
        elif op == 2:
            address += r.uleb() * min_inst
        elif op == 3:
            line += r.sleb()
        elif op == 4:
            file = r.uleb()
        elif op == 5:
            column = r.uleb()
        elif op == 6:
            is_stmt = not is_stmt
        elif op == 8:
            address += const_add
        elif op == 9:
            address += r.u16()
        elif op in (7, 10, 11):
            pass
        else:  # set_isa (12) and opcodes this reader does not know: skip their operands
            for _ in range(std_lengths[op - 1] if op - 1 < len(std_lengths) else 0):
                r.uleb()
    return out


# -- .debug_aranges -------------------------------------------------------------------------


def parse_aranges(data: bytes) -> list[tuple[int, int, int]]:
    """(start, end, unit offset in .debug_info) of every range, sorted by start."""
    out: list[tuple[int, int, int]] = []
    r = _Reader(data)
    while r.pos < len(data):
        unit = r.pos
        length, offset_size = r.initial_length()
        end = r.pos + length
        r.u16()  # version
        cu = r.uint(offset_size)
        address_size = r.u8()
        r.u8()  # segment size
        tuple_size = 2 * address_size
        if tuple_size == 0:
            raise DwarfFormatError(f"aranges at {unit:#x}: address size 0")
        r.pos += (-(r.pos - unit)) % tuple_size  # tuples are aligned from the set's start
        while r.pos + tuple_size <= end:
            lo = r.uint(address_size)
            size = r.uint(address_size)
            if lo == 0 and size == 0:
                break
            out.append((lo, lo + size, cu))
        r.pos = end
    out.sort()
    return out


# -- first DIE of each compilation unit -----------------------------------------------------


@dataclass(frozen=True)
class UnitRoot:
    """What a line lookup needs from a compilation unit's first DIE."""

    offset: int  # of the unit in .debug_info
    stmt_list: int | None
    comp_dir: bytes
    name: bytes
    version: int = 4
    address_size: int = 8
    low_pc: int = 0  # the base of its range lists
    spans: tuple[tuple[int, int], ...] = ()  # [low_pc, high_pc)
    ranges: int = -1  # DW_AT_ranges (a section offset), -1 when absent or indexed
    has_code_attributes: bool = False  # DW_AT_low_pc, high_pc or ranges, in any form


_FIXED = {
    0x05: 2,
    0x06: 4,
    0x07: 8,
    0x0B: 1,
    0x0C: 1,
    0x11: 1,
    0x12: 2,
    0x13: 4,
    0x14: 8,
    0x1C: 4,
    0x1E: 16,
    0x20: 8,
    0x24: 8,
    0x25: 1,
    0x26: 2,
    0x27: 3,
    0x28: 4,
    0x29: 1,
    0x2A: 2,
    0x2B: 3,
    0x2C: 4,
}
_ULEB = {0x0F, 0x15, 0x1A, 0x1B, 0x22, 0x23, 0x1F01, 0x1F02}
_OFFSET = {0x0E, 0x17, 0x1D, 0x1F, 0x1F20, 0x1F21}
_STRX = {0x1A: 0, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4}
_DW_AT_NAME, _DW_AT_STMT_LIST, _DW_AT_COMP_DIR, _DW_AT_STR_OFFSETS_BASE = 0x03, 0x10, 0x1B, 0x72
_DW_AT_LOW_PC, _DW_AT_HIGH_PC, _DW_AT_RANGES = 0x11, 0x12, 0x55


def _abbrev(abbrev: bytes, offset: int, code: int) -> tuple[list[tuple[int, int, int]], int]:
    """The (attribute, form, implicit const) list of abbreviation `code` of the table at
    `offset` (scanning stops at the code; gcc does not put the unit's first).  The
    scan reads one-byte LEB128s inline: it runs over thousands of entries in libc."""
    data = abbrev
    pos = offset
    r = _Reader(abbrev)
    while True:
        this = data[pos]
        if this < 0x80:
            pos += 1
        else:
            r.pos = pos
            this = r.uleb()
            pos = r.pos
        if this == 0:
            raise DwarfFormatError(f"abbreviation {code} missing at {offset:#x}")
        while data[pos] >= 0x80:  # tag
            pos += 1
        pos += 2  # the tag's last byte, children
        wanted = this == code
        specs: list[tuple[int, int, int]] = []
        while True:
            attr = data[pos]
            form = data[pos + 1]
            if attr < 0x80 and form < 0x80:
                pos += 2
            else:
                r.pos = pos
                attr, form = r.uleb(), r.uleb()
                pos = r.pos
            if attr == 0 and form == 0:
                break
            const = 0
            if form == 0x21:
                r.pos = pos
                const = r.sleb()
                pos = r.pos
            if wanted:
                specs.append((attr, form, const))
        if wanted:
            return specs, pos


def unit_roots(
    info: bytes, abbrev: bytes, strs: dict[str, bytes], start: int = 0
) -> Iterator[UnitRoot]:
    """The first DIE of every compilation unit of .debug_info from offset `start` (type
    units skipped); `strs` holds ".debug_str", ".debug_line_str", ".debug_str_offsets"."""
    r = _Reader(info, start)
    while r.pos < len(info):
        unit = r.pos
        length, offset_size = r.initial_length()
        end = r.pos + length
        version = r.u16()
        unit_type = 1
        if version >= 5:
            unit_type = r.u8()
            address_size = r.u8()
            abbrev_offset = r.uint(offset_size)
            if unit_type in (4, 5):  # skeleton / split_compile: dwo id
                r.pos += 8
            elif unit_type in (2, 6):  # type units
                r.pos = end
                continue
        elif 2 <= version <= 4:
            abbrev_offset = r.uint(offset_size)
            address_size = r.u8()
        else:
            raise DwarfFormatError(f"unit at {unit:#x}: version {version}")
        code = r.uleb()
        if code == 0:
            r.pos = end
            continue
        specs, _ = _abbrev(abbrev, abbrev_offset, code)
        stmt: int | None = None
        low = high = ranges = -1
        high_is_offset = False
        code_attributes = False
        comp: object = b""
        name: object = b""
        strx_base = 8 if offset_size == 4 else 16
        for attr, form, _const in specs:
            while form == 0x16:  # indirect
                form = r.uleb()
            start = r.pos
            if form in _FIXED:
                r.pos += _FIXED[form]
            elif form in _ULEB:
                r.uleb()
            elif form in _OFFSET:
                r.pos += offset_size
            elif form == 0x01:
                r.pos += address_size
            elif form == 0x10:
                r.pos += address_size if version == 2 else offset_size
            elif form == 0x08:
                r.cstr()
            elif form == 0x0D:
                r.sleb()
            elif form in (0x09, 0x18):
                r.pos += r.uleb()
            elif form == 0x0A:
                r.pos += r.u8()
            elif form == 0x03:
                r.pos += r.u16()
            elif form == 0x04:
                r.pos += r.u32()
            elif form in (0x19, 0x21):
                pass
            else:
                raise DwarfFormatError(f"unit at {unit:#x}: form {form:#x} not supported")
            if attr in (_DW_AT_LOW_PC, _DW_AT_HIGH_PC, _DW_AT_RANGES):
                code_attributes = True
                if form in (0x01, 0x05, 0x06, 0x07, 0x0B, 0x17):
                    value_int = _Reader(info, start).uint(r.pos - start)
                elif form == 0x0F:
                    value_int = _Reader(info, start).uleb()
                elif form == 0x21:
                    value_int = _const
                else:  # addrx, rnglistx ...: needs .debug_addr; left to the fallback
                    value_int = -1
                if attr == _DW_AT_LOW_PC:
                    low = value_int
                elif attr == _DW_AT_RANGES:
                    ranges = value_int
                else:
                    high, high_is_offset = value_int, form != 0x01
            if attr == _DW_AT_STMT_LIST:
                stmt = _Reader(info, start).uint(r.pos - start)
            elif attr == _DW_AT_STR_OFFSETS_BASE:
                strx_base = _Reader(info, start).uint(r.pos - start)
            elif attr in (_DW_AT_COMP_DIR, _DW_AT_NAME):
                value: object
                if form == 0x08:
                    value = info[start : r.pos - 1]
                elif form == 0x0E:
                    value = _cstr_at(strs[".debug_str"], _Reader(info, start).uint(offset_size))
                elif form == 0x1F:
                    value = _cstr_at(
                        strs[".debug_line_str"], _Reader(info, start).uint(offset_size)
                    )
                elif form in _STRX:
                    sub = _Reader(info, start)
                    value = ("strx", sub.uleb() if form == 0x1A else sub.uint(_STRX[form]))
                else:
                    value = b""
                if attr == _DW_AT_COMP_DIR:
                    comp = value
                else:
                    name = value
        resolved = []
        for value in (comp, name):
            if isinstance(value, tuple):
                table = strs[".debug_str_offsets"]
                at = _Reader(table, strx_base + value[1] * offset_size).uint(offset_size)
                value = _cstr_at(strs[".debug_str"], at)
            resolved.append(value if isinstance(value, bytes) else b"")
        spans: tuple[tuple[int, int], ...] = ()
        if low >= 0 and high >= 0:
            spans = ((low, low + high if high_is_offset else high),)
        yield UnitRoot(
            unit,
            stmt,
            resolved[0],
            resolved[1],
            version,
            address_size,
            max(low, 0),
            spans,
            ranges,
            code_attributes,
        )
        r.pos = end


def parse_ranges(
    data: bytes, offset: int, version: int, base: int, address_size: int = 8
) -> list[tuple[int, int]]:
    """The [start, end) ranges of a DW_AT_ranges list: .debug_ranges (DWARF 2-4) or
    .debug_rnglists (5) at `offset`; `base` is the unit's DW_AT_low_pc.  Entries that
    need .debug_addr (DW_RLE_*x) raise DwarfFormatError: the caller falls back."""
    r = _Reader(data, offset)
    out: list[tuple[int, int]] = []
    top = (1 << (8 * address_size)) - 1
    if version < 5:
        while True:
            lo, hi = r.uint(address_size), r.uint(address_size)
            if lo == 0 and hi == 0:
                return out
            if lo == top:
                base = hi
            elif lo < hi:
                out.append((base + lo, base + hi))
    while True:
        kind = r.u8()
        if kind == 0:  # end_of_list
            return out
        if kind == 4:  # offset_pair
            lo, hi = r.uleb(), r.uleb()
            out.append((base + lo, base + hi))
        elif kind == 5:  # base_address
            base = r.uint(address_size)
        elif kind == 6:  # start_end
            lo, hi = r.uint(address_size), r.uint(address_size)
            out.append((lo, hi))
        elif kind == 7:  # start_length
            lo = r.uint(address_size)
            out.append((lo, lo + r.uleb()))
        else:
            raise DwarfFormatError(f"range list entry {kind} needs .debug_addr")
