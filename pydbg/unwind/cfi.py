"""Call frame information: the DWARF CFI rules of one ELF file, found by pc.

`load_cfi(path, debug_path)` returns the `ElfCfi` of a file, cached per file identity (device,
inode, size, mtime) so that every process mapping the same libc shares one table.  Loading is
lazy at three levels: a file's sections are located on first use, a section's FDE index is
built on its first lookup, and an FDE is parsed and decoded into rows on the first lookup
that lands in it.  The index of .eh_frame comes from .eh_frame_hdr (the sorted table the
runtime unwinder itself searches), so the first lookup in libc costs one FDE parse instead of
parsing all ~3,700 FDEs (about 1 s with pyelftools).  Without a usable .eh_frame_hdr, and for
.debug_frame, the whole section is parsed once and its FDEs sorted.

pyelftools parses the CIE/FDE headers and instructions.  The rule table is decoded here, not
with `CFIEntry.get_decoded()`: pyelftools 0.33 fails on DW_CFA_GNU_args_size (present in
libc) and scales DW_CFA_def_cfa_sf by the code alignment factor instead of the data one.

Addresses here are link-time addresses; the unwinder subtracts the load bias.  Every failure
of the parser (pyelftools raises ELFError, DWARFError, AssertionError, construct and struct
errors, KeyError, ValueError) becomes an `UnwindError` naming the file and offset.
"""

from __future__ import annotations

import bisect
import enum
import io
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from pydbg.unwind.frames import UnwindError

# DWARF register numbers of x86_64 (System V psABI, "DWARF Register Number Mapping").
DWARF_REGISTERS = (
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "rip",
)  # fmt: skip
RSP = 7
RBP = 6
RETURN_ADDRESS = 16  # the return-address column of every x86_64 CIE
MASK64 = (1 << 64) - 1

# DW_EH_PE encodings of .eh_frame_hdr (LSB "Exception Frame Header").
DW_EH_PE_udata4 = 0x03
DW_EH_PE_datarel_sdata4 = 0x3B
EH_FRAME_HDR_VERSION = 1


class RuleKind(enum.Enum):
    """DWARF 5 §6.4.1 register rules."""

    UNDEFINED = "undefined"
    SAME_VALUE = "same value"
    OFFSET = "offset"  # saved at CFA + arg
    VAL_OFFSET = "val offset"  # the value is CFA + arg
    REGISTER = "register"  # the value is in register arg
    EXPRESSION = "expression"  # saved at the address the expression arg computes
    VAL_EXPRESSION = "val expression"  # the value is what the expression computes


@dataclass(frozen=True)
class RegisterRule:
    """How to recover one register of the caller: `kind`, with an offset, register number
    or DWARF expression as `arg`."""

    kind: RuleKind
    arg: int | bytes = 0


@dataclass(frozen=True)
class CfaRule:
    """The canonical frame address: `register` + `offset`, or the value of `expression`."""

    register: int | None = None
    offset: int = 0
    expression: bytes | None = None


@dataclass(frozen=True)
class CfiRow:
    """One row of a CFI table: the rules for every pc in [start, end) (link-time)."""

    start: int
    end: int
    cfa: CfaRule
    registers: Mapping[int, RegisterRule]
    return_column: int
    signal_frame: bool  # the CIE's 'S' augmentation: a signal trampoline
    section: str


# -- DWARF expressions ------------------------------------------------------------------------


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _sleb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte & 0x40:
                value -= 1 << shift
            return value, pos


def _signed(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


# Fixed-size constant operands: opcode -> struct format.
_CONSTS = {
    0x08: "<B", 0x09: "<b", 0x0A: "<H", 0x0B: "<h",
    0x0C: "<I", 0x0D: "<i", 0x0E: "<Q", 0x0F: "<q",
}  # fmt: skip
# Binary operators on (second, top) -> result, as unsigned 64-bit values; comparisons are
# signed (DWARF 5 §2.5.1.4).
_BINARY: dict[int, Callable[[int, int], int]] = {
    0x1A: lambda a, b: a & b,  # and
    0x1C: lambda a, b: a - b,  # minus
    0x1E: lambda a, b: a * b,  # mul
    0x21: lambda a, b: a | b,  # or
    0x22: lambda a, b: a + b,  # plus
    0x24: lambda a, b: a << b if b < 64 else 0,  # shl
    0x25: lambda a, b: a >> b if b < 64 else 0,  # shr
    0x26: lambda a, b: _signed(a) >> min(b, 63),  # shra
    0x27: lambda a, b: a ^ b,  # xor
    0x29: lambda a, b: int(_signed(a) == _signed(b)),  # eq
    0x2A: lambda a, b: int(_signed(a) >= _signed(b)),  # ge
    0x2B: lambda a, b: int(_signed(a) > _signed(b)),  # gt
    0x2C: lambda a, b: int(_signed(a) <= _signed(b)),  # le
    0x2D: lambda a, b: int(_signed(a) < _signed(b)),  # lt
    0x2E: lambda a, b: int(_signed(a) != _signed(b)),  # ne
}
_MAX_EXPRESSION_STEPS = 1000  # skip/bra can loop; CFI expressions are a dozen operations


def evaluate_expression(
    expression: bytes,
    register: Callable[[int], int],
    read_u64: Callable[[int], int],
    initial: Sequence[int] = (),
    read_sized: Callable[[int, int], int] | None = None,
) -> int:
    """Run a DWARF expression of a CFI rule and return the value left on top of the stack.

    `register(n)` gives DWARF register n of the frame being unwound (raising if unknown),
    `read_u64(address)` an 8-byte read of the target, `read_sized(address, size)` a smaller
    one (DW_OP_deref_size).  `initial` is pushed first: the CFA, for register rules.  The
    operations are those CFI uses: literals and constants, breg/bregx, stack
    manipulation, arithmetic and logic, comparisons, skip/bra, deref/deref_size.
    Raises UnwindError for anything else (DW_OP_addr would need the load bias; reg ops name
    locations, not values).
    """
    stack = [v & MASK64 for v in initial]
    pos = 0
    steps = 0
    try:
        while pos < len(expression):
            steps += 1
            if steps > _MAX_EXPRESSION_STEPS:
                raise UnwindError(f"DWARF expression {expression.hex()} does not terminate")
            op = expression[pos]
            pos += 1
            if 0x30 <= op <= 0x4F:  # lit0..lit31
                stack.append(op - 0x30)
            elif 0x70 <= op <= 0x8F:  # breg0..breg31
                offset, pos = _sleb(expression, pos)
                stack.append((register(op - 0x70) + offset) & MASK64)
            elif op == 0x92:  # bregx
                reg, pos = _uleb(expression, pos)
                offset, pos = _sleb(expression, pos)
                stack.append((register(reg) + offset) & MASK64)
            elif op in _CONSTS:
                fmt = _CONSTS[op]
                (value,) = struct.unpack_from(fmt, expression, pos)
                pos += struct.calcsize(fmt)
                stack.append(value & MASK64)
            elif op == 0x10:  # constu
                value, pos = _uleb(expression, pos)
                stack.append(value & MASK64)
            elif op == 0x11:  # consts
                value, pos = _sleb(expression, pos)
                stack.append(value & MASK64)
            elif op in _BINARY:
                top = stack.pop()
                second = stack.pop()
                stack.append(_BINARY[op](second, top) & MASK64)
            elif op == 0x23:  # plus_uconst
                value, pos = _uleb(expression, pos)
                stack.append((stack.pop() + value) & MASK64)
            elif op == 0x06:  # deref
                stack.append(read_u64(stack.pop()))
            elif op == 0x94:  # deref_size
                size = expression[pos]
                pos += 1
                address = stack.pop()
                if read_sized is None:
                    stack.append(read_u64(address) & ((1 << (8 * size)) - 1))
                else:
                    stack.append(read_sized(address, size))
            elif op == 0x12:  # dup
                stack.append(stack[-1])
            elif op == 0x13:  # drop
                stack.pop()
            elif op == 0x14:  # over
                stack.append(stack[-2])
            elif op == 0x15:  # pick
                index = expression[pos]
                pos += 1
                stack.append(stack[-1 - index])
            elif op == 0x16:  # swap
                stack[-1], stack[-2] = stack[-2], stack[-1]
            elif op == 0x17:  # rot
                stack[-1], stack[-2], stack[-3] = stack[-2], stack[-3], stack[-1]
            elif op == 0x19:  # abs
                stack.append(abs(_signed(stack.pop())) & MASK64)
            elif op == 0x1F:  # neg
                stack.append(-stack.pop() & MASK64)
            elif op == 0x20:  # not
                stack.append(~stack.pop() & MASK64)
            elif op == 0x2F:  # skip
                (delta,) = struct.unpack_from("<h", expression, pos)
                pos += 2 + delta
            elif op == 0x28:  # bra
                (delta,) = struct.unpack_from("<h", expression, pos)
                pos += 2
                if stack.pop():
                    pos += delta
            elif op == 0x96:  # nop
                pass
            else:
                raise UnwindError(
                    f"DWARF expression {expression.hex()}: operation {op:#04x} at byte "
                    f"{pos - 1} is not supported in CFI"
                )
            if pos < 0:
                raise UnwindError(f"DWARF expression {expression.hex()} branches before its start")
    except (IndexError, struct.error) as exc:
        # A truncated operand or an operation on an empty stack: malformed expression.
        raise UnwindError(f"malformed DWARF expression {expression.hex()}: {exc}") from exc
    if not stack:
        raise UnwindError(f"DWARF expression {expression.hex()} leaves an empty stack")
    return stack[-1]


# -- decoding CFI instructions into rows ------------------------------------------------------

_State = tuple[CfaRule, dict[int, RegisterRule]]
_T = TypeVar("_T")


def _execute(
    instructions: Sequence[Any],
    state: _State,
    initial: Mapping[int, RegisterRule] | None,
    code_align: int,
    data_align: int,
    loc: int,
    emit: Callable[[int, CfaRule, dict[int, RegisterRule]], None] | None,
) -> _State:
    """Run CFA instructions (DWARF 5 §6.4.2) from `state`; call emit(loc, cfa, rules) with
    each row that ends where the location advances.  `initial` is the CIE's rule set, for
    DW_CFA_restore; None while running the CIE itself."""
    cfa, rules = state[0], dict(state[1])
    remembered: list[_State] = []
    for instr in instructions:
        op = int(instr.opcode)
        args = instr.args
        if op in (0x40, 0x02, 0x03, 0x04, 0x01):  # advance_loc, advance_loc1/2/4, set_loc
            new_loc = args[0] if op == 0x01 else loc + args[0] * code_align
            if emit is not None and new_loc != loc:
                emit(loc, cfa, rules)
                rules = dict(rules)
            loc = new_loc
        elif op == 0x0C:  # def_cfa
            cfa = CfaRule(register=args[0], offset=args[1])
        elif op == 0x12:  # def_cfa_sf
            cfa = CfaRule(register=args[0], offset=args[1] * data_align)
        elif op == 0x0D:  # def_cfa_register
            cfa = CfaRule(register=args[0], offset=cfa.offset)
        elif op == 0x0E:  # def_cfa_offset
            cfa = CfaRule(register=cfa.register, offset=args[0])
        elif op == 0x13:  # def_cfa_offset_sf
            cfa = CfaRule(register=cfa.register, offset=args[0] * data_align)
        elif op == 0x0F:  # def_cfa_expression
            cfa = CfaRule(expression=bytes(args[0]))
        elif op == 0x07:  # undefined
            rules[args[0]] = RegisterRule(RuleKind.UNDEFINED)
        elif op == 0x08:  # same_value
            rules[args[0]] = RegisterRule(RuleKind.SAME_VALUE)
        elif op in (0x80, 0x05, 0x11):  # offset, offset_extended, offset_extended_sf
            rules[args[0]] = RegisterRule(RuleKind.OFFSET, args[1] * data_align)
        elif op in (0x14, 0x15):  # val_offset, val_offset_sf
            rules[args[0]] = RegisterRule(RuleKind.VAL_OFFSET, args[1] * data_align)
        elif op == 0x09:  # register
            rules[args[0]] = RegisterRule(RuleKind.REGISTER, args[1])
        elif op == 0x10:  # expression
            rules[args[0]] = RegisterRule(RuleKind.EXPRESSION, bytes(args[1]))
        elif op == 0x16:  # val_expression
            rules[args[0]] = RegisterRule(RuleKind.VAL_EXPRESSION, bytes(args[1]))
        elif op in (0xC0, 0x06):  # restore, restore_extended
            if initial is None:
                raise UnwindError("DW_CFA_restore in a CIE")
            if args[0] in initial:
                rules[args[0]] = initial[args[0]]
            else:
                rules.pop(args[0], None)
        elif op == 0x0A:  # remember_state
            remembered.append((cfa, dict(rules)))
        elif op == 0x0B:  # restore_state: the rules come back, the location stays
            if not remembered:
                raise UnwindError("DW_CFA_restore_state without remember_state")
            cfa, rules = remembered.pop()
        elif op in (0x00, 0x2E, 0x2D):
            # nop; GNU_args_size (only matters to landing pads); GNU_window_save (SPARC).
            pass
        else:
            raise UnwindError(f"unknown CFA instruction {op:#04x}")
    if emit is not None:
        emit(loc, cfa, rules)
    return cfa, rules


@dataclass
class _FdeTable:
    start: int
    end: int
    locs: list[int]
    rows: list[CfiRow]


# -- one CFI section --------------------------------------------------------------------------


class _Section:
    """One .eh_frame or .debug_frame: its FDE index and the decoded FDEs, built lazily."""

    def __init__(
        self, path: str, name: str, data: bytes, address: int, hdr: tuple[bytes, int] | None
    ) -> None:
        self.path = path
        self.name = name
        self.data = data
        self.address = address
        self._hdr = hdr  # (.eh_frame_hdr bytes, its address), for the index
        self._info: Any = None
        self._starts: list[int] | None = None
        self._offsets: list[int] = []
        self._entries: dict[int, Any] | None = None  # offset -> entry, after a full parse
        self._tables: dict[int, _FdeTable | None] = {}
        self._cie_states: dict[int, _State] = {}
        # pyelftools parses from one shared stream: two threads must not parse at once.
        self._lock = threading.Lock()

    def _cfi(self) -> Any:
        if self._info is None:
            from elftools.dwarf.callframe import CallFrameInfo
            from elftools.dwarf.structs import DWARFStructs

            structs = DWARFStructs(little_endian=True, dwarf_format=32, address_size=8)
            self._info = CallFrameInfo(
                stream=io.BytesIO(self.data),
                size=len(self.data),
                address=self.address,
                base_structs=structs,
                for_eh_frame=self.name == ".eh_frame",
            )
        return self._info

    def _build_index(self) -> None:
        if self._hdr is not None and self._index_from_hdr(*self._hdr):
            return
        from elftools.dwarf.callframe import FDE

        pairs = []
        self._entries = {}
        for entry in self._cfi().get_entries():
            if isinstance(entry, FDE):
                self._entries[entry.offset] = entry
                # Zero-length FDEs describe discarded (garbage-collected) functions.
                if entry["address_range"]:
                    pairs.append((entry["initial_location"], entry.offset))
        pairs.sort()
        self._starts = [start for start, _ in pairs]
        self._offsets = [offset for _, offset in pairs]

    def _index_from_hdr(self, hdr: bytes, hdr_address: int) -> bool:
        """Read the binary-search table of .eh_frame_hdr; False if it is not the layout every
        linker writes (version 1, count udata4, table datarel sdata4)."""
        if len(hdr) < 12 or hdr[0] != EH_FRAME_HDR_VERSION:
            return False
        if hdr[2] != DW_EH_PE_udata4 or hdr[3] != DW_EH_PE_datarel_sdata4:
            return False
        ptr_size = {0x1B: 4, 0x03: 4, 0x0B: 4, 0x1C: 8, 0x04: 8, 0x0C: 8}.get(hdr[1])
        if ptr_size is None:
            return False
        count_at = 4 + ptr_size
        (count,) = struct.unpack_from("<I", hdr, count_at)
        table_at = count_at + 4
        if table_at + 8 * count > len(hdr):
            return False
        starts = []
        offsets = []
        # datarel: relative to the start of .eh_frame_hdr.
        for start, fde in struct.iter_unpack("<ii", hdr[table_at : table_at + 8 * count]):
            starts.append(hdr_address + start)
            offsets.append(hdr_address + fde - self.address)
        self._starts = starts
        self._offsets = offsets
        return True

    def _entry(self, offset: int) -> Any:
        if self._entries is not None:
            return self._entries.get(offset)
        # One FDE (and its CIE) parsed where the index points.  _parse_entry_at is
        # pyelftools' per-entry parser, not public API: without it, parse everything once.
        parse_at = getattr(self._cfi(), "_parse_entry_at", None)
        if parse_at is None:
            self._build_index_fully()
            return self._entries.get(offset) if self._entries is not None else None
        return parse_at(offset)

    def _build_index_fully(self) -> None:
        self._hdr = None
        self._build_index()

    def _guarded(self, what: str, work: Callable[[], _T]) -> _T:
        """Run `work` under the lock with every parser failure as an UnwindError."""
        try:
            with self._lock:
                return work()
        except UnwindError as exc:
            raise UnwindError(f"{self.path} {self.name}: {exc}") from exc
        except Exception as exc:
            # pyelftools reports malformed CFI with many exception types (see the module
            # docstring); none of them may reach the caller raw.
            raise UnwindError(
                f"{self.path} {self.name}: cannot parse the CFI {what} "
                f"({type(exc).__name__}: {exc})"
            ) from exc

    def row_at(self, address: int) -> CfiRow | None:
        """The row covering link-time `address`, or None if no FDE covers it."""
        table = self._guarded(f"for {address:#x}", lambda: self._table_for(address))
        if table is None or not table.start <= address < table.end:
            return None
        return table.rows[bisect.bisect_right(table.locs, address) - 1]

    def _table_for(self, address: int) -> _FdeTable | None:
        if self._starts is None:
            self._build_index()
        assert self._starts is not None
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0:
            return None
        offset = self._offsets[i]
        if offset not in self._tables:
            self._tables[offset] = self._decode(offset)
        return self._tables[offset]

    def _decode(self, offset: int) -> _FdeTable | None:
        from elftools.dwarf.callframe import FDE

        fde = self._entry(offset)
        if not isinstance(fde, FDE) or fde.cie is None:
            return None
        cie = fde.cie
        header = cie.header
        code_align = header["code_alignment_factor"]
        data_align = header["data_alignment_factor"]
        return_column = header["return_address_register"]
        signal_frame = b"S" in (header.get("augmentation") or b"")
        initial = self._cie_states.get(cie.offset)
        if initial is None:
            initial = _execute(
                cie.instructions, (CfaRule(), {}), None, code_align, data_align, 0, None
            )
            self._cie_states[cie.offset] = initial
        start = fde["initial_location"]
        end = start + fde["address_range"]
        locs: list[int] = []
        raw: list[tuple[int, CfaRule, dict[int, RegisterRule]]] = []

        def emit(loc: int, cfa: CfaRule, rules: dict[int, RegisterRule]) -> None:
            if raw and raw[-1][0] == loc:
                raw[-1] = (loc, cfa, rules)  # several rows at one location: the last wins
            else:
                raw.append((loc, cfa, rules))

        _execute(fde.instructions, initial, initial[1], code_align, data_align, start, emit)
        rows = []
        for i, (loc, cfa, rules) in enumerate(raw):
            row_end = raw[i + 1][0] if i + 1 < len(raw) else end
            locs.append(loc)
            rows.append(
                CfiRow(
                    start=loc,
                    end=row_end,
                    cfa=cfa,
                    registers=MappingProxyType(rules),
                    return_column=return_column,
                    signal_frame=signal_frame,
                    section=self.name,
                )
            )
        return _FdeTable(start=start, end=end, locs=locs, rows=rows)

    def fde_count(self) -> int:
        def count() -> int:
            if self._starts is None:
                self._build_index()
            return len(self._starts or ())

        return self._guarded("index", count)

    @property
    def decoded_fdes(self) -> int:
        return len(self._tables)


# -- one ELF file -----------------------------------------------------------------------------


def _read_sections(path: str, names: Sequence[str]) -> dict[str, tuple[bytes, int]]:
    """The contents and addresses of the named sections that hold data in the file."""
    from elftools.elf.elffile import ELFFile

    found: dict[str, tuple[bytes, int]] = {}
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf.elfclass != 64 or elf["e_machine"] != "EM_X86_64":
                raise UnwindError(f"{path}: not an x86_64 ELF file")
            for name in names:
                section = elf.get_section_by_name(name)
                # A separate debug file keeps the headers of allocated sections with no
                # contents (SHT_NOBITS); its .eh_frame is not there.
                if section is None or section["sh_type"] == "SHT_NOBITS":
                    continue
                found[name] = (section.data(), section["sh_addr"])
    except UnwindError:
        raise
    except OSError as exc:
        raise UnwindError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except Exception as exc:
        raise UnwindError(
            f"{path} is not a readable ELF file ({type(exc).__name__}: {exc})"
        ) from exc
    return found


class ElfCfi:
    """The CFI of one ELF file: .eh_frame first (what the running code was linked with),
    then .debug_frame, then the .debug_frame of a separate debug file."""

    def __init__(
        self, path: str, debug_path: str | None = None, *, use_eh_frame_hdr: bool = True
    ) -> None:
        """use_eh_frame_hdr=False indexes .eh_frame by parsing all of it, ignoring the
        binary-search table of .eh_frame_hdr (to check one against the other, or to read
        a file whose table is wrong)."""
        self.path = path
        self.debug_path = debug_path
        self.use_eh_frame_hdr = use_eh_frame_hdr
        self._sections: list[_Section] | None = None

    def _load(self) -> list[_Section]:
        if self._sections is None:
            found = _read_sections(self.path, (".eh_frame", ".eh_frame_hdr", ".debug_frame"))
            sections = []
            if ".eh_frame" in found:
                data, address = found[".eh_frame"]
                hdr = found.get(".eh_frame_hdr") if self.use_eh_frame_hdr else None
                sections.append(_Section(self.path, ".eh_frame", data, address, hdr))
            if ".debug_frame" in found:
                data, address = found[".debug_frame"]
                sections.append(_Section(self.path, ".debug_frame", data, address, None))
            if self.debug_path is not None:
                debug = _read_sections(self.debug_path, (".debug_frame",))
                if ".debug_frame" in debug:
                    data, address = debug[".debug_frame"]
                    sections.append(_Section(self.debug_path, ".debug_frame", data, address, None))
            self._sections = sections
        return self._sections

    @property
    def sections(self) -> list[str]:
        """The CFI sections found, in search order, as 'path:name'."""
        return [f"{s.path}:{s.name}" for s in self._load()]

    def row_at(self, address: int) -> CfiRow | None:
        """The CFI row for link-time `address`, or None when no section covers it.

        Raises UnwindError when the file cannot be read or its CFI is malformed.
        """
        for section in self._load():
            row = section.row_at(address)
            if row is not None:
                return row
        return None

    def fde_count(self) -> int:
        """FDEs in all sections (builds every index)."""
        return sum(section.fde_count() for section in self._load())

    @property
    def decoded_fdes(self) -> int:
        """FDEs parsed and decoded so far: lookups decode only the FDEs they land in."""
        return sum(section.decoded_fdes for section in self._sections or ())


# -- the per-file cache -----------------------------------------------------------------------

CACHE_SIZE = 64  # files; an unwind touches a handful (program, libc, ld.so, a few libraries)
_cache: OrderedDict[tuple[Any, ...], ElfCfi] = OrderedDict()
_cache_lock = threading.Lock()


def _identity(path: str) -> tuple[int, int, int, int]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UnwindError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def load_cfi(path: str, debug_path: str | None = None) -> ElfCfi:
    """The `ElfCfi` of a file, shared by every caller that names the same file (by device,
    inode, size and mtime, so another path to it, such as /proc/PID/map_files/..., shares
    the cache, and a rebuilt file is read again).  Raises UnwindError if a file is missing."""
    key = (_identity(path), None if debug_path is None else _identity(debug_path))
    with _cache_lock:
        cfi = _cache.get(key)
        if cfi is not None:
            _cache.move_to_end(key)
            return cfi
        cfi = ElfCfi(path, debug_path)
        _cache[key] = cfi
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return cfi


def clear_cache() -> None:
    """Forget every loaded file (tests measure first loads with it)."""
    with _cache_lock:
        _cache.clear()
