"""The type model: C and C++ types as DWARF describes them (base types, pointers and
references, const/volatile, typedefs, structs/unions/classes with bases and bitfields,
enums, arrays with constant, unknown or run-time bounds, function types).

Types are plain objects built by `pydbg.dwarf.type_reader` from DIEs; they know their size
and how gdb spells their name (`type_name`: `struct node *`, `short [2][3]`,
`int (*)(int, int)`, `const char *`), which is what `dv /t`, `dt` and the values' type
names print.  Sizes are bytes; member offsets are bytes from the start of the aggregate and
bitfields carry their bit position counted from the aggregate's start (DWARF 4/5
DW_AT_data_bit_offset; the DWARF 2-3 DW_AT_bit_offset form is converted by the reader).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "ArrayType",
    "BaseType",
    "Encoding",
    "EnumType",
    "FunctionType",
    "Member",
    "PointerType",
    "QualifiedType",
    "StructType",
    "Type",
    "TypedefType",
    "VoidType",
    "complete",
    "strip_typedefs",
    "type_name",
]


class Encoding:
    """DW_ATE_* values the printer distinguishes (DWARF 5 §7.8)."""

    ADDRESS = 0x1
    BOOLEAN = 0x2
    FLOAT = 0x4
    SIGNED = 0x5
    SIGNED_CHAR = 0x6
    UNSIGNED = 0x7
    UNSIGNED_CHAR = 0x8
    UTF = 0x10


@dataclass(eq=False)
class Type:
    """Any type: `name` as declared ("" when anonymous), `size` in bytes (0 when unknown:
    void, functions, incomplete types)."""

    name: str = ""
    size: int = 0

    @property
    def display(self) -> str:
        """The type's name as gdb prints it (`whatis`)."""
        return type_name(self)


@dataclass(eq=False)
class VoidType(Type):
    name: str = "void"


@dataclass(eq=False)
class BaseType(Type):
    """DW_TAG_base_type: int, char, double, _Bool..."""

    encoding: int = Encoding.SIGNED

    @property
    def is_signed(self) -> bool:
        return self.encoding in (Encoding.SIGNED, Encoding.SIGNED_CHAR)

    @property
    def is_char(self) -> bool:
        return self.size == 1 and self.encoding in (Encoding.SIGNED_CHAR, Encoding.UNSIGNED_CHAR)


@dataclass(eq=False)
class PointerType(Type):
    """DW_TAG_pointer_type, and references (`sigil` "&" or "&&")."""

    target: Type = field(default_factory=VoidType)
    size: int = 8
    sigil: str = "*"


@dataclass(eq=False)
class QualifiedType(Type):
    """const, volatile, restrict or _Atomic (`qualifier`) on `target`."""

    qualifier: str = "const"
    target: Type = field(default_factory=VoidType)


@dataclass(eq=False)
class TypedefType(Type):
    target: Type = field(default_factory=VoidType)


@dataclass(eq=False)
class Member:
    """One data member.  offset: bytes from the start of the aggregate (for a bitfield,
    the byte that holds its first bit, as `ptype /o` shows it); bit_size: 0 unless a
    bitfield; bit_offset: the bitfield's first bit counted from the aggregate's start
    (little-endian: bit 0 is the low bit of byte 0); is_base: a C++ base-class subobject;
    is_static: a C++ static member (no storage in the object)."""

    name: str
    type: Type
    offset: int = 0
    bit_size: int = 0
    bit_offset: int = 0
    is_base: bool = False
    is_static: bool = False
    artificial: bool = False  # compiler-made (C++ `_vptr.X`): gdb's ptype hides it
    die_offset: int = 0  # of the member's DIE (a static member's definition points to it)
    # A C++ virtual base: its offset is read at run time from the vtable, at
    # vptr - vbase_slot (g++'s DW_OP_dup; deref; constu N; minus; deref; plus).
    vbase_slot: int | None = None


@dataclass(eq=False)
class StructType(Type):
    """struct, union or class (`keyword`); `members` in declaration order, base classes
    first (is_base).  declaration: only declared here (an incomplete type)."""

    keyword: str = "struct"
    members: list[Member] = field(default_factory=list)
    declaration: bool = False
    cplus: bool = False  # a C++ type: named without its keyword, as gdb does
    resolve: Callable[[], StructType | None] | None = field(default=None, repr=False)


@dataclass(eq=False)
class EnumType(Type):
    enumerators: list[tuple[str, int]] = field(default_factory=list)
    is_signed: bool = False
    cplus: bool = False

    @property
    def is_flag_enum(self) -> bool:
        """gdb's flag enums (print `(F_A | F_C)`): every value non-negative and no two
        values sharing a bit."""
        seen = 0
        for _, value in self.enumerators:
            if value < 0 or value & seen:
                return False
            seen |= value
        return bool(self.enumerators)


@dataclass(eq=False)
class ArrayType(Type):
    """One dimension of an array of `element` (a multi-dimensional array nests ArrayTypes,
    as DWARF subranges do in gdb).  count: the number of elements, None when unknown
    (a flexible array member, `[]`) or known only at run time (`dynamic` is then the
    DW_AT_upper_bound/DW_AT_count the reader could not fold: a location to evaluate in
    the frame, with `dynamic_is_count` telling which)."""

    element: Type = field(default_factory=VoidType)
    count: int | None = None
    dynamic: object = None
    dynamic_is_count: bool = False


@dataclass(eq=False)
class FunctionType(Type):
    return_type: Type = field(default_factory=VoidType)
    parameters: list[Type] = field(default_factory=list)
    varargs: bool = False
    prototyped: bool = True


def strip_typedefs(t: Type, qualifiers: bool = True) -> Type:
    """The type under its typedefs (and, if `qualifiers`, its const/volatile).  A
    declared-only struct stays so: `complete` finds its definition when members are
    needed (printing a pointer to it must not search the file)."""
    while isinstance(t, TypedefType) or (qualifiers and isinstance(t, QualifiedType)):
        t = t.target
    return t


def complete(t: Type) -> Type:
    """A declaration-only struct's definition (found once, then remembered), else `t`."""
    if isinstance(t, StructType) and t.declaration and t.resolve is not None:
        found = t.resolve()
        t.resolve = None
        if found is not None and found is not t:
            t.members, t.size, t.declaration = found.members, found.size, False
    return t


def _plain_name(t: Type) -> str:
    if isinstance(t, StructType):
        name = t.name or "{...}"
        return name if t.cplus else f"{t.keyword} {name}"
    if isinstance(t, EnumType):
        name = t.name or "{...}"
        return name if t.cplus else f"enum {name}"
    return t.name or "void"


def type_name(t: Type, declarator: str = "") -> str:
    """gdb's spelling of a type, with `declarator` (what is declared of this type so far,
    as C's inside-out declarator syntax builds it)."""
    if isinstance(t, PointerType):
        return type_name(t.target, t.sigil + declarator)
    if isinstance(t, QualifiedType):
        inner = t.target
        if isinstance(inner, PointerType):
            sep = " " if declarator else ""
            return type_name(inner.target, f"{inner.sigil} {t.qualifier}{sep}{declarator}")
        return type_name_prefixed(f"{t.qualifier} ", inner, declarator)
    if isinstance(t, ArrayType):
        wrapped = f"({declarator})" if declarator.startswith(("*", "&")) else declarator
        if t.count is not None:
            count = str(t.count)
        else:  # flexible `[]`, or a VLA whose bound is known only in a frame
            count = "variable length" if t.dynamic is not None else ""
        return type_name(t.element, f"{wrapped}[{count}]")
    if isinstance(t, FunctionType):
        wrapped = f"({declarator})" if declarator.startswith(("*", "&")) else declarator
        params = [type_name(p) for p in t.parameters]
        if t.varargs:
            params.append("...")
        elif not params and t.prototyped:
            params.append("void")
        return type_name(t.return_type, f"{wrapped}({', '.join(params)})")
    base = _plain_name(t)
    return f"{base} {declarator}" if declarator else base


def type_name_prefixed(prefix: str, t: Type, declarator: str) -> str:
    """A qualifier put before a type's name (`const char`): qualifiers of qualifiers
    and of named types read left to right."""
    if isinstance(t, QualifiedType) and not isinstance(t.target, PointerType):
        return type_name_prefixed(f"{prefix}{t.qualifier} ", t.target, declarator)
    if isinstance(t, (ArrayType, FunctionType, PointerType, QualifiedType)):
        return type_name(t, declarator)  # qualifiers of arrays apply to their elements
    name = prefix + _plain_name(t)
    return f"{name} {declarator}" if declarator else name
