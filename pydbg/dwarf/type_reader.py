"""DIEs to types (`TypeReader`): the one place that knows how DWARF spells a type.

Types are cached by DIE offset, and an aggregate is cached before its members are read, so
self-referencing types (`struct node { struct node *next; }`) end.  A declaration-only
struct (DW_AT_declaration) is completed, when its members are first needed
(`types.complete`), from a definition of the same name elsewhere in the file, as gdb
does.  Bitfields: DWARF 4/5 give DW_AT_data_bit_offset
from the start of the aggregate; DWARF 2-3 give DW_AT_bit_offset counted from the most
significant bit of a storage unit of DW_AT_byte_size bytes at DW_AT_data_member_location,
converted here for little-endian x86_64.
"""

from __future__ import annotations

from typing import Any

from pydbg.dwarf.debug_info import DebugInfo, canonical_name, die_name, is_cplus
from pydbg.dwarf.types import (
    ArrayType,
    BaseType,
    EnumType,
    FunctionType,
    Member,
    PointerType,
    QualifiedType,
    StructType,
    Type,
    TypedefType,
    VoidType,
)

__all__ = ["TypeReader"]

_QUALIFIERS = {
    "DW_TAG_const_type": "const",
    "DW_TAG_volatile_type": "volatile",
    "DW_TAG_restrict_type": "restrict",
    "DW_TAG_atomic_type": "_Atomic",
}
_AGGREGATES = {
    "DW_TAG_structure_type": "struct",
    "DW_TAG_union_type": "union",
    "DW_TAG_class_type": "class",
}
_SCOPES = ("DW_TAG_namespace", "DW_TAG_structure_type", "DW_TAG_class_type", "DW_TAG_union_type")
_POINTERS = {
    "DW_TAG_pointer_type": "*",
    "DW_TAG_reference_type": "&",
    "DW_TAG_rvalue_reference_type": "&&",
    "DW_TAG_ptr_to_member_type": "*",
}


def _int(die: Any, name: str, default: int = 0) -> int:
    attr = die.attributes.get(name)
    if attr is None or not isinstance(attr.value, int):
        return default
    return int(attr.value)


def member_offset(die: Any) -> int:
    """DW_AT_data_member_location as a byte offset: a constant, or (DWARF 2) an expression
    that is DW_OP_plus_uconst N."""
    attr = die.attributes.get("DW_AT_data_member_location")
    if attr is None:
        return 0
    if isinstance(attr.value, int):
        return int(attr.value)
    from elftools.dwarf.dwarf_expr import DWARFExprParser

    ops = DWARFExprParser(die.cu.structs).parse_expr(attr.value)
    if len(ops) == 1 and ops[0].op_name == "DW_OP_plus_uconst":
        return int(ops[0].args[0])
    return 0


def vbase_slot(die: Any) -> int | None:
    """For a virtual base (DW_AT_data_member_location an expression reading the vtable,
    as g++ emits: dup, deref, constu N, minus, deref, plus): N, the distance below the
    vptr of the vtable slot holding the base's offset.  None for any other base."""
    attr = die.attributes.get("DW_AT_data_member_location")
    if attr is None or isinstance(attr.value, int):
        return None
    from elftools.dwarf.dwarf_expr import DWARFExprParser

    ops = DWARFExprParser(die.cu.structs).parse_expr(attr.value)
    names = [op.op_name for op in ops]
    if len(ops) != 6 or names[:2] != ["DW_OP_dup", "DW_OP_deref"]:
        return None
    if names[3:] != ["DW_OP_minus", "DW_OP_deref", "DW_OP_plus"]:
        return None
    if names[2] == "DW_OP_constu":
        return int(ops[2].args[0])
    if names[2].startswith("DW_OP_lit"):
        return int(names[2][len("DW_OP_lit") :])
    return None


class TypeReader:
    """Types of one file's DWARF, read on demand."""

    def __init__(self, info: DebugInfo) -> None:
        self.info = info
        self._cache: dict[int, Type] = {}

    def type_of(self, die: Any) -> Type:
        """The type a DIE's DW_AT_type names (void without one)."""
        if "DW_AT_type" not in die.attributes:
            return VoidType()
        return self.read(die.get_DIE_from_attribute("DW_AT_type"))

    def read(self, die: Any) -> Type:
        """The type a type DIE describes."""
        found = self._cache.get(die.offset)
        if found is not None:
            return found
        tag = die.tag
        name = die_name(die)
        t: Type
        if tag == "DW_TAG_base_type":
            t = BaseType(
                canonical_name(name),
                _int(die, "DW_AT_byte_size"),
                encoding=_int(die, "DW_AT_encoding", 5),
            )
        elif tag == "DW_TAG_unspecified_type":
            t = BaseType(name or "void", 8 if name == "decltype(nullptr)" else 0, encoding=0x1)
        elif tag in _POINTERS:
            t = PointerType(size=_int(die, "DW_AT_byte_size", 8), sigil=_POINTERS[tag])
            self._cache[die.offset] = t
            t.target = self.type_of(die)
            return t
        elif tag in _QUALIFIERS:
            t = QualifiedType(qualifier=_QUALIFIERS[tag])
            self._cache[die.offset] = t
            t.target = self.type_of(die)
            t.size = t.target.size
            return t
        elif tag == "DW_TAG_typedef":
            t = TypedefType(self._qualified(die, name))
            self._cache[die.offset] = t
            t.target = self.type_of(die)
            t.size = t.target.size
            return t
        elif tag in _AGGREGATES:
            return self._aggregate(die, _AGGREGATES[tag], name)
        elif tag == "DW_TAG_enumeration_type":
            t = self._enum(die, name)
        elif tag == "DW_TAG_array_type":
            return self._array(die)
        elif tag == "DW_TAG_subroutine_type":
            t = self._function(die)
        else:
            t = VoidType(name or "void")
        self._cache[die.offset] = t
        return t

    def _qualified(self, die: Any, name: str) -> str:
        """A C++ name with its namespaces and enclosing classes (`shapes::Point`)."""
        if not name or not is_cplus(die.cu):
            return name
        parts = [canonical_name(name)]
        parent = die.get_parent()
        while parent is not None and parent.tag in _SCOPES:
            parts.append(die_name(parent) or "(anonymous namespace)")
            parent = parent.get_parent()
        return "::".join(reversed(parts))

    def _aggregate(self, die: Any, keyword: str, name: str) -> Type:
        t = StructType(
            self._qualified(die, name),
            _int(die, "DW_AT_byte_size"),
            keyword=keyword,
            declaration="DW_AT_declaration" in die.attributes,
            cplus=is_cplus(die.cu),
        )
        self._cache[die.offset] = t
        if t.declaration and name:
            # Completed from a definition elsewhere only when its members are needed:
            # finding it may mean indexing every unit of a large file.
            t.resolve = lambda: self._definition(die, t.name)
        for child in die.iter_children():
            if child.tag == "DW_TAG_inheritance":
                base = self.type_of(child)
                t.members.append(
                    Member(
                        base.name,
                        base,
                        member_offset(child),
                        is_base=True,
                        vbase_slot=vbase_slot(child),
                    )
                )
            elif child.tag == "DW_TAG_member" or (child.tag == "DW_TAG_variable" and t.cplus):
                t.members.append(self._member(child))
        return t

    def _definition(self, die: Any, qualified: str) -> StructType | None:
        """The complete type a declaration stands for: in the same unit, else anywhere in
        the file."""
        for other in die.cu.get_top_DIE().iter_children():
            if (
                other.tag == die.tag
                and "DW_AT_declaration" not in other.attributes
                and die_name(other) == die_name(die)
            ):
                found = self.read(other)
                return found if isinstance(found, StructType) else None
        for other in self.info.find_named(qualified, frozenset({die.tag})):
            if "DW_AT_declaration" not in other.attributes:
                found = self.read(other)
                return found if isinstance(found, StructType) else None
        return None

    def _member(self, die: Any) -> Member:
        member_type = self.type_of(die)
        name = die_name(die)
        attrs = die.attributes
        is_static = die.tag == "DW_TAG_variable" or (
            "DW_AT_external" in attrs and "DW_AT_declaration" in attrs
        )
        bit_size = _int(die, "DW_AT_bit_size")
        if not bit_size:
            return Member(
                name,
                member_type,
                member_offset(die),
                is_static=is_static,
                die_offset=die.offset,
                artificial="DW_AT_artificial" in attrs,
            )
        if "DW_AT_data_bit_offset" in attrs:
            bit_position = _int(die, "DW_AT_data_bit_offset")
        else:
            storage = _int(die, "DW_AT_byte_size", member_type.size)
            from_msb = _int(die, "DW_AT_bit_offset")
            bit_position = member_offset(die) * 8 + storage * 8 - from_msb - bit_size
        return Member(name, member_type, bit_position // 8, bit_size, bit_position)

    def _enum(self, die: Any, name: str) -> EnumType:
        under = self.type_of(die) if "DW_AT_type" in die.attributes else None
        signed = isinstance(under, BaseType) and under.is_signed
        values = []
        for child in die.iter_children():
            if child.tag == "DW_TAG_enumerator":
                value = _int(child, "DW_AT_const_value")
                form = child.attributes["DW_AT_const_value"].form
                if form == "DW_FORM_sdata" and value < 0:
                    signed = True
                values.append((die_name(child), value))
        return EnumType(
            self._qualified(die, name),
            _int(die, "DW_AT_byte_size", 4),
            values,
            is_signed=signed,
            cplus=is_cplus(die.cu),
        )

    def _array(self, die: Any) -> Type:
        element = self.type_of(die)
        dims: list[tuple[int | None, object, bool]] = []
        for child in die.iter_children():
            if child.tag not in ("DW_TAG_subrange_type", "DW_TAG_enumeration_type"):
                continue
            attrs = child.attributes
            count: int | None = None
            dynamic: object = None
            is_count = False
            for attr_name, is_count_attr in (("DW_AT_count", True), ("DW_AT_upper_bound", False)):
                attr = attrs.get(attr_name)
                if attr is None:
                    continue
                if attr.form.startswith(
                    ("DW_FORM_data", "DW_FORM_udata", "DW_FORM_sdata", "DW_FORM_implicit_const")
                ):
                    value = int(attr.value)
                    count = value if is_count_attr else value - _int(child, "DW_AT_lower_bound") + 1
                    if (
                        not is_count_attr
                        and attr.form == "DW_FORM_data8"
                        and value == (1 << 64) - 1
                    ):
                        count = 0  # gcc's `[0]` arrays: upper bound -1 as unsigned
                else:
                    dynamic, is_count = (child, attr_name), is_count_attr
                break
            dims.append((count, dynamic, is_count))
        if not dims:
            dims.append((None, None, False))
        t: Type = element
        for count, dynamic, is_count in reversed(dims):
            t = ArrayType(
                "",
                (count * t.size) if count is not None else 0,
                element=t,
                count=count,
                dynamic=dynamic,
                dynamic_is_count=is_count,
            )
        self._cache[die.offset] = t
        return t

    def _function(self, die: Any) -> FunctionType:
        params = [
            self.type_of(c) for c in die.iter_children() if c.tag == "DW_TAG_formal_parameter"
        ]
        varargs = any(c.tag == "DW_TAG_unspecified_parameters" for c in die.iter_children())
        return FunctionType(
            "",
            0,
            return_type=self.type_of(die),
            parameters=params,
            varargs=varargs,
            prototyped="DW_AT_prototyped" in die.attributes or is_cplus(die.cu),
        )
