"""Typed values: an object of a DWARF type at a location in a frame, readable from Python
and printed the way gdb prints it.

A `Value` reads its bytes when first asked (from memory, registers, an implicit value, or
pieces of those) and keeps which bytes are unavailable (optimized out).  From Python:
`int(v)`, `float(v)`, `v.to_python()`, `v["member"]` / `v.member("name")` and `v.fields()`
for structs and unions, `v[i]` and `len(v)` for arrays, `v.deref()` for pointers.
`format_value(v)` is gdb's `print` text for it, without the `$1 = ` (and with what
`info locals` prints for top-level pointers: the bare address):

    ints in decimal; chars `100 'd'`; _Bool `true`; floats %.9g / %.17g / %.21Lg;
    pointers `0x7ffe...`, `0x5555... "text"` for char pointers, `0x5555... <add>` where
    a symbol holds the address; enums by name, flag enums `(F_A | F_C)`;
    structs `{x = 3, y = -4}`, base classes `<Base> = {...}`;
    arrays `{1, 2, 3}` with `<repeats N times>` for runs of more than 10, char arrays as
    strings; 200 elements at most, then `...`; unavailable parts `<optimized out>`.
"""

from __future__ import annotations

import decimal
import math
import struct
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from pydbg.dwarf.errors import DwarfError
from pydbg.dwarf.locations import Location, Piece
from pydbg.dwarf.types import (
    ArrayType,
    BaseType,
    Encoding,
    EnumType,
    FunctionType,
    Member,
    PointerType,
    StructType,
    Type,
    VoidType,
    complete,
    strip_typedefs,
    type_name,
)

__all__ = ["OptimizedOutError", "Value", "ValueReader", "format_value"]

REPEAT_THRESHOLD = 10  # gdb's `set print repeats`
PRINT_ELEMENTS = 200  # gdb's `set print elements`


class OptimizedOutError(DwarfError):
    """The value (or the part asked for) is not available at this pc."""


@dataclass
class ValueReader:
    """What values need of the target: memory, a register of the frame by DWARF number
    (ints; 16-byte ints for xmm), a symbol holding an address (`add`, `global_nodes+80`,
    or None), the count of a run-time array bound (VLAs) from its DIE, and where a C++
    static member is defined."""

    read_memory: Callable[[int, int], bytes]
    register: Callable[[int], int | None] = lambda n: None
    symbolize: Callable[[int], str | None] = lambda a: None
    bound: Callable[[Any, bool], int | None] = lambda dynamic, is_count: None
    static_member: Callable[[Member], Location | None] = lambda member: None


@dataclass
class _Data:
    data: bytes
    missing: list[tuple[int, int]] = field(default_factory=list)  # unavailable byte ranges
    unreadable: int | None = None  # the first memory address that could not be read

    def available(self, start: int, size: int) -> bool:
        return all(end <= start or begin >= start + size for begin, end in self.missing)


class Value:
    """An object of `type` at `location` (see the module docstring)."""

    def __init__(
        self,
        type_: Type,
        location: Location,
        reader: ValueReader,
        *,
        _data: _Data | None = None,
        _offset: int = 0,
        bit_size: int = 0,
        bit_offset: int = 0,
    ) -> None:
        self.type = _concrete(type_, reader)
        self.location = location
        self.reader = reader
        self._data = _data
        self._offset = _offset  # within _data
        self.bit_size = bit_size
        self.bit_offset = bit_offset  # bits from the start of _data (bitfields)

    # -- bytes ------------------------------------------------------------------------

    @property
    def size(self) -> int:
        t = strip_typedefs(self.type)
        if isinstance(t, StructType) and t.declaration:
            return complete(t).size
        return self.type.size

    def _whole(self) -> _Data:
        if self._data is None:
            self._data = _read_location(self.location, self.size, self.reader)
        return self._data

    @property
    def optimized_out(self) -> bool:
        data = self._whole()
        if self.bit_size:
            return not data.available(self.bit_offset // 8, (self.bit_size + 7) // 8)
        return self.size > 0 and not data.available(self._offset, self.size)

    @property
    def nothing_available(self) -> bool:
        """No byte of the value is available (some may be: a struct in pieces)."""
        data = self._whole()
        start, end = self._offset, self._offset + self.size
        covered = sum(max(0, min(end, hi) - max(start, lo)) for lo, hi in data.missing)
        return covered >= self.size

    def raw(self) -> bytes:
        """The value's bytes; OptimizedOutError if any is unavailable."""
        if self.optimized_out:
            raise OptimizedOutError("value has been optimized out")
        return self._whole().data[self._offset : self._offset + self.size]

    @property
    def address(self) -> int | None:
        """Where the value is in memory, or None (in a register, computed)."""
        base = self.location.address
        return None if base is None else base + self._offset

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    # -- scalars ----------------------------------------------------------------------

    def _scalar_type(self) -> Type:
        return complete(strip_typedefs(self.type))

    def __int__(self) -> int:
        t = self._scalar_type()
        if self.bit_size:
            data = self._whole()
            if self.optimized_out:
                raise OptimizedOutError("value has been optimized out")
            whole = int.from_bytes(data.data, "little")
            value = (whole >> self.bit_offset) & ((1 << self.bit_size) - 1)
            if _is_signed(t) and value >> (self.bit_size - 1):
                value -= 1 << self.bit_size
            return value
        if isinstance(t, (BaseType, EnumType, PointerType)):
            raw = self.raw()
            if isinstance(t, BaseType) and t.encoding == Encoding.FLOAT:
                return int(float(self))
            return int.from_bytes(raw, "little", signed=_is_signed(t))
        raise DwarfError(f"a value of type {self.type_name} is not an integer")

    def __index__(self) -> int:
        return int(self)

    def __float__(self) -> float:
        t = self._scalar_type()
        if isinstance(t, BaseType) and t.encoding == Encoding.FLOAT:
            return _float(self.raw())
        return float(int(self))

    def __bool__(self) -> bool:
        return True

    def to_python(self) -> Any:
        """ints, floats, bools, enum values as ints, structs as dicts, arrays as lists,
        pointers as ints; None where optimized out."""
        if self.optimized_out:
            return None
        t = self._scalar_type()
        if isinstance(t, StructType):
            return {m.name: self.member(m.name).to_python() for m in _data_members(t) if m.name}
        if isinstance(t, ArrayType):
            return [e.to_python() for e in self]
        if isinstance(t, BaseType):
            if t.encoding == Encoding.FLOAT:
                return float(self)
            if t.encoding == Encoding.BOOLEAN:
                return bool(int(self))
        if isinstance(t, (BaseType, EnumType, PointerType)):
            return int(self)
        return self.raw()

    # -- aggregates -------------------------------------------------------------------

    def fields(self) -> list[tuple[str, Value]]:
        """(name, value) of each data member of a struct or union, base classes first
        (named `<Base>`)."""
        t = self._scalar_type()
        if not isinstance(t, StructType):
            raise DwarfError(f"a value of type {self.type_name} has no members")
        return [(_member_label(m), self.field_value(m)) for m in _data_members(t)]

    def member(self, name: str) -> Value:
        """A member by name, searching anonymous members and base classes."""
        t = self._scalar_type()
        if not isinstance(t, StructType):
            raise DwarfError(f"a value of type {self.type_name} has no members")
        for m in _data_members(t):
            if m.name == name:
                return self.field_value(m)
        for m in _data_members(t):
            if not m.name or m.is_base:
                sub = self.field_value(m)
                try:
                    return sub.member(name)
                except DwarfError:
                    continue
        raise DwarfError(f"{self.type_name} has no member named {name!r}")

    def field_value(self, m: Member) -> Value:
        """The value of a member of this struct's type (from `self.type`'s members)."""
        data = self._whole()
        if m.bit_size:
            return Value(
                m.type,
                self.location,
                self.reader,
                _data=data,
                _offset=self._offset,
                bit_size=m.bit_size,
                bit_offset=self._offset * 8 + m.bit_offset,
            )
        offset = m.offset
        if m.vbase_slot is not None:
            offset = self._vbase_offset(data, m.vbase_slot)
        return Value(m.type, self.location, self.reader, _data=data, _offset=self._offset + offset)

    def _vbase_offset(self, data: _Data, slot: int) -> int:
        """A virtual base's offset from this object, read from its vtable (the slot `slot`
        bytes below the vptr at offset 0)."""
        raw = data.data[self._offset : self._offset + 8]
        if len(raw) < 8 or not data.available(self._offset, 8):
            raise OptimizedOutError(f"{self.type_name}: no vtable pointer to find a virtual base")
        vptr = int.from_bytes(raw, "little")
        return int.from_bytes(self.reader.read_memory(vptr - slot, 8), "little", signed=True)

    def __len__(self) -> int:
        t = self._scalar_type()
        if not isinstance(t, ArrayType):
            raise DwarfError(f"a value of type {self.type_name} is not an array")
        return t.count or 0

    def __iter__(self) -> Iterator[Value]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key: int | str) -> Value:
        if isinstance(key, str):
            return self.member(key)
        t = self._scalar_type()
        if isinstance(t, PointerType):
            return self.deref(key)
        if not isinstance(t, ArrayType):
            raise DwarfError(f"a value of type {self.type_name} cannot be indexed")
        if not 0 <= key < (t.count or 0):
            raise IndexError(f"index {key} out of range for {self.type_name}")
        size = t.element.size
        return Value(
            t.element,
            self.location,
            self.reader,
            _data=self._whole(),
            _offset=self._offset + key * size,
        )

    def deref(self, index: int = 0) -> Value:
        """What a pointer points to (`*p`, or `p[index]`)."""
        t = self._scalar_type()
        if not isinstance(t, PointerType):
            raise DwarfError(f"a value of type {self.type_name} is not a pointer")
        target = t.target
        address = int(self) + index * strip_typedefs(target).size
        return Value(target, Location([Piece("memory", address=address)]), self.reader)

    def format(self) -> str:
        """The value as gdb prints it (`format_value`)."""
        return format_value(self)

    def __repr__(self) -> str:
        return f"<Value {self.type_name} {format_value(self)}>"


def _is_signed(t: Type) -> bool:
    if isinstance(t, BaseType):
        return t.is_signed
    if isinstance(t, EnumType):
        return t.is_signed
    return False


def _data_members(t: StructType) -> list[Member]:
    return [m for m in t.members if not m.is_static]


def _member_label(m: Member) -> str:
    return f"<{m.name}>" if m.is_base else m.name


def _concrete(t: Type, reader: ValueReader) -> Type:
    """A VLA's type with its run-time count filled in."""
    s = strip_typedefs(t)
    if isinstance(s, ArrayType) and s.count is None and s.dynamic is not None:
        count = reader.bound(s.dynamic, s.dynamic_is_count)
        if count is not None:
            element = _concrete(s.element, reader)
            return ArrayType("", count * element.size, element=element, count=count)
    return t


def _float(raw: bytes) -> float:
    if len(raw) == 4:
        return float(struct.unpack("<f", raw)[0])
    if len(raw) == 8:
        return float(struct.unpack("<d", raw)[0])
    if len(raw) in (10, 12, 16):  # x87 extended precision in the low 10 bytes
        mantissa = int.from_bytes(raw[:8], "little")
        exp_sign = int.from_bytes(raw[8:10], "little")
        sign = -1.0 if exp_sign & 0x8000 else 1.0
        exp = exp_sign & 0x7FFF
        if exp == 0x7FFF:
            return sign * math.inf if mantissa << 1 == 0 else math.nan
        return sign * math.ldexp(mantissa, exp - 16383 - 63) if exp or mantissa else 0.0 * sign
    raise DwarfError(f"no float format for {len(raw)} bytes")


def _read_location(location: Location, size: int, reader: ValueReader) -> _Data:
    """The bytes of an object of `size` bytes at a location, with the unavailable ranges."""
    out = bytearray()
    missing: list[tuple[int, int]] = []
    unreadable: int | None = None
    pieces = location.pieces or [Piece("optimized")]
    for piece in pieces:
        length = size - len(out) if piece.size is None else piece.size
        if length <= 0:
            continue
        start = len(out)
        chunk: bytes | None = None
        if piece.kind == "memory":
            try:
                chunk = reader.read_memory(piece.address, length)
            except Exception:  # the target's own error for unreadable memory
                chunk = None
            if chunk is not None and len(chunk) < length:
                chunk = None
            if chunk is None and unreadable is None:
                unreadable = piece.address
        elif piece.kind == "register":
            value = reader.register(piece.register)
            if value is not None:
                width = max(8, (value.bit_length() + 7) // 8, length)
                chunk = value.to_bytes(width, "little")[:length]
        elif piece.kind == "value":
            chunk = (piece.value & ((1 << (8 * max(length, 8))) - 1)).to_bytes(
                max(length, 8), "little"
            )[:length]
        elif piece.kind == "implicit":
            chunk = piece.data[:length].ljust(length, b"\0")
        if chunk is None:
            chunk = bytes(length)
            missing.append((start, start + length))
        out += chunk
    if len(out) < size:
        missing.append((len(out), size))
        out += bytes(size - len(out))
    return _Data(bytes(out), missing, unreadable)


# -- printing ------------------------------------------------------------------------------

OPTIMIZED_OUT = "<optimized out>"


def format_value(value: Value, top: bool = True) -> str:
    """gdb's text for a value (see the module docstring)."""
    if value.location.optimized_out:
        if any(p.reason == "TLS unavailable" for p in value.location.pieces):
            return "<TLS unavailable>"  # a shared library's thread-local: not located yet
        return OPTIMIZED_OUT
    t = complete(strip_typedefs(value.type))
    if value.size and value.nothing_available and value._whole().unreadable is not None:
        # gdb's words for memory that cannot be read (a bad pointer's target).
        address = value.address if value.address is not None else value._whole().unreadable
        return f"<error: Cannot access memory at address {address:#x}>"
    if isinstance(t, (StructType, ArrayType)) and value.size and value.nothing_available:
        return OPTIMIZED_OUT  # gdb: a wholly unavailable aggregate is one <optimized out>
    if isinstance(t, StructType):
        return _format_struct(value, t)
    if isinstance(t, ArrayType):
        return _format_array(value, t)
    if value.optimized_out:
        return OPTIMIZED_OUT
    if isinstance(t, PointerType):
        return _format_pointer(value, t, top)
    if isinstance(t, EnumType):
        return _format_enum(int(value), t)
    if isinstance(t, BaseType):
        return _format_base(value, t)
    if isinstance(t, FunctionType):
        address = value.address or 0
        name = value.reader.symbolize(address)
        return f"{{{type_name(value.type)}}} {address:#x}" + (f" <{name}>" if name else "")
    if isinstance(t, VoidType):
        return "void"
    return "?"


def _format_base(value: Value, t: BaseType) -> str:
    if t.encoding == Encoding.FLOAT:
        return format_float(value.raw())
    number = int(value)
    if t.encoding == Encoding.BOOLEAN:
        return {0: "false", 1: "true"}.get(number, str(number))
    if t.is_char:
        return f"{number} {char_literal(number & 0xFF)}"
    return str(number)


def format_float(raw: bytes) -> str:
    """%.9g for float, %.17g for double, as gdb; nan with its mantissa."""
    f = _float(raw)
    if math.isnan(f):
        bits = int.from_bytes(raw, "little")
        mant_bits = {4: 23, 8: 52}.get(len(raw), 63)
        sign = "-" if bits >> (len(raw) * 8 - 1) & 1 and len(raw) in (4, 8) else ""
        return f"{sign}nan({bits & ((1 << mant_bits) - 1):#x})"
    if math.isinf(f):
        return "-inf" if f < 0 else "inf"
    if len(raw) in (4, 8):
        return f"{f:.{9 if len(raw) == 4 else 17}g}"
    return _format_x87(raw)


def _format_x87(raw: bytes) -> str:
    """An x87 extended value (long double) as gdb prints it: %.21Lg, from the exact value
    (a Python float would keep 17 digits of its 64-bit mantissa)."""
    mantissa = int.from_bytes(raw[:8], "little")
    exp_sign = int.from_bytes(raw[8:10], "little")
    negative = "-" if exp_sign & 0x8000 else ""
    if not mantissa:
        return f"{negative}0"
    with decimal.localcontext() as context:
        context.prec = 60
        exponent = max(exp_sign & 0x7FFF, 1) - 16383 - 63
        exact = decimal.Decimal(mantissa) * decimal.Decimal(2) ** exponent
        digits, _, power = f"{exact:.20e}".partition("e")  # 21 significant digits
    x = int(power)
    if -4 <= x < 21:  # C's %g: fixed notation, trailing zeros dropped
        with decimal.localcontext() as context:
            context.prec = 60
            fixed = f"{decimal.Decimal(digits).scaleb(x):f}"
        text = fixed.rstrip("0").rstrip(".") if "." in fixed else fixed
    else:
        text = digits.rstrip("0").rstrip(".") + f"e{'-' if x < 0 else '+'}{abs(x):02d}"
    return negative + text


_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\033"}


def _char_text(code: int, quote: str) -> str:
    if code in _ESCAPES:
        return _ESCAPES[code]
    if code == ord("\\") or chr(code) == quote:
        return "\\" + chr(code)
    if 0x20 <= code < 0x7F:
        return chr(code)
    return f"\\{code:03o}"


def char_literal(code: int) -> str:
    return f"'{_char_text(code, chr(39))}'"


def string_literal(data: bytes, limit_hit: bool = False) -> str:
    """gdb's text of a run of chars: quoted segments, and runs of more than 10 of one
    char as `'c' <repeats N times>`."""
    parts: list[str] = []
    segment = ""
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i]:
            j += 1
        run = j - i
        if run > REPEAT_THRESHOLD:
            if segment:
                parts.append(f'"{segment}"')
                segment = ""
            parts.append(f"{char_literal(data[i])} <repeats {run} times>")
        else:
            segment += _char_text(data[i], '"') * run
        i = j
    if segment or not parts:
        parts.append(f'"{segment}"')
    text = ", ".join(parts)
    return text + "..." if limit_hit else text


def _format_pointer(value: Value, t: PointerType, top: bool = True) -> str:
    address = int(value)
    target = strip_typedefs(t.target)
    if t.sigil != "*":
        if not top:
            return f"@{address:#x}"  # gdb shows a reference member's referent only on top
        try:
            inner = format_value(value.deref(), top=False)
        except DwarfError:
            inner = "<error>"
        return f"@{address:#x}: {inner}"
    text = f"{address:#x}"
    if address == 0:
        return text
    if isinstance(target, BaseType) and target.is_char:
        return f"{text} {_c_string(value.reader, address)}"
    name = value.reader.symbolize(address)
    if name:
        text += f" <{name}>"
    return text


def _c_string(reader: ValueReader, address: int) -> str:
    data = bytearray()
    chunk_address = address
    while len(data) < PRINT_ELEMENTS:
        try:
            chunk = reader.read_memory(chunk_address, 64 - (chunk_address % 64))
        except Exception:  # the target's error for unreadable memory
            chunk = b""
        if not chunk:
            if not data:
                return f"<error: Cannot access memory at address {address:#x}>"
            break
        end = chunk.find(b"\0")
        if end >= 0:
            data += chunk[:end]
            return string_literal(bytes(data[:PRINT_ELEMENTS]), len(data) > PRINT_ELEMENTS)
        data += chunk
        chunk_address += len(chunk)
    return string_literal(bytes(data[:PRINT_ELEMENTS]), True)


def _format_enum(number: int, t: EnumType) -> str:
    for name, value in t.enumerators:
        if value == number:
            return name
    if t.is_flag_enum and number > 0:
        names = []
        rest = number
        for name, value in t.enumerators:
            if value and rest & value == value:
                names.append(name)
                rest &= ~value
        if rest:
            names.append(f"unknown: {rest:#x}")
        return f"({' | '.join(names)})"
    return str(number)


# Virtual base subobjects already printed in the object being formatted: gdb shows a
# shared (virtual) base once, under the first class that reaches it.
_printed_vbases: ContextVar[set[tuple[int, int, str]] | None] = ContextVar(
    "_printed_vbases", default=None
)


def _format_struct(value: Value, t: StructType) -> str:
    if _printed_vbases.get() is None:
        token = _printed_vbases.set(set())
        try:
            return _format_struct(value, t)
        finally:
            _printed_vbases.reset(token)
    members = _data_members(t)
    if not members:
        return "{<No data fields>}" if t.size == 0 or not t.declaration else "<incomplete type>"
    parts = []
    for m in members:
        sub = value.field_value(m)
        if m.vbase_slot is not None:
            seen = _printed_vbases.get()
            key = (id(sub._data), sub._offset, type_name(m.type))
            if seen is not None:
                if key in seen:
                    continue
                seen.add(key)
        parts.append(f"{_member_label(m)} = {format_value(sub, top=False)}")
    for m in t.members:
        if m.is_static:  # gdb: `static count = 2`, where the class declares it
            location = value.reader.static_member(m)
            text = OPTIMIZED_OUT
            if location is not None:
                text = format_value(Value(m.type, location, value.reader), top=False)
            parts.insert(_static_position(t, m), f"static {m.name} = {text}")
    return "{" + ", ".join(parts) + "}"


def _static_position(t: StructType, static: Member) -> int:
    """Where a static member goes among the printed members: after the data members
    declared before it."""
    position = 0
    for m in t.members:
        if m is static:
            break
        position += 1
    return position


def _format_array(value: Value, t: ArrayType) -> str:
    count = t.count
    if count is None:
        # A flexible array member (or an unknown bound): gdb prints it as a pointer to
        # its first element, with the string for chars.
        address = value.address or 0
        element = strip_typedefs(t.element)
        if isinstance(element, BaseType) and element.is_char:
            return f"{address:#x} {_c_string(value.reader, address)}"
        return f"{address:#x}"
    element = strip_typedefs(t.element)
    if isinstance(element, BaseType) and element.is_char:
        if value.optimized_out:
            return OPTIMIZED_OUT
        data = value.raw()
        limit_hit = len(data) > PRINT_ELEMENTS
        data = data[:PRINT_ELEMENTS]
        if not limit_hit and data and data[-1] == 0:
            data = data[:-1]  # a trailing NUL is the terminator, not shown
        return string_literal(data, limit_hit)
    texts: list[str] = []
    shown = 0
    i = 0
    while i < count and shown < PRINT_ELEMENTS:
        text = format_value(value[i], top=False)
        j = i + 1
        while j < count and format_value(value[j], top=False) == text:
            j += 1
        run = j - i
        if run > REPEAT_THRESHOLD:
            texts.append(f"{text} <repeats {run} times>")
            shown += REPEAT_THRESHOLD
        else:
            texts.extend([text] * run)
            shown += run
        i = j
    tail = "..." if i < count else ""
    return "{" + ", ".join(texts) + tail + "}"
