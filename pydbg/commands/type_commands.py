"""`dt` and `??`: the layout of a DWARF type, and objects of it in memory (cdb's dt).

    dt TYPE             the members with their offsets:  `   +0x008 label : Ptr64 Char`
    dt TYPE ADDR        the same with the values of the object at ADDR
    dt VAR              a variable of the scope frame (or a global): its address and type,
                        then its members with values
    dt VAR.member.sub   a member of a variable
    -r[N]               expand member structs recursively (N levels; -r alone: all)
    -b                  expand arrays element by element and structs in full
    ?? EXPR             a C expression (pydbg.dwarf.c_expressions): `?? first.where.x * 2`,
                        `?? p->next->label`, `?? (long)&first`, `?? sizeof(struct node)`;
                        prints the type and the value (`int 6`)

TYPE is a name as the DWARF spells it (`node`, `struct node`, `uint_t`, `mod!node`).
The layout is cdb's: offsets `+0x000`, names padded to 16, bitfields as
`Pos 1, 40 Bits` (the offset is the byte holding the first bit, as gdb's `ptype /o`
shows it), type names in cdb's words (Int4B, Uint8B, Char, Float, Double, Ptr64 X,
[N] X); values are printed as gdb prints them.
"""

from __future__ import annotations

import re

from pydbg.addresses import hex64
from pydbg.commands.errors import CommandError
from pydbg.commands.evaluator_switch import substitute_masm
from pydbg.commands.interpreter import Interpreter, command
from pydbg.dwarf.errors import DwarfError
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
    complete,
    strip_typedefs,
    type_name,
)
from pydbg.dwarf.values import Value, format_value
from pydbg.errors import PydbgError

__all__ = ["cdb_type_name"]

NAME_WIDTH = 16
MAX_ELEMENTS = 200  # array elements `dt -b` lists, as gdb's `print elements`
ALL_LEVELS = 64

_INTEGER_NAMES = {1: "Char", 2: "Int2B", 4: "Int4B", 8: "Int8B", 16: "Int16B"}


def cdb_type_name(t: Type) -> str:
    """cdb's name of a type in dt output: Int4B, Uint8B, Char, UChar, Float, Double,
    Bool, Ptr64 X, [N] X, struct/enum names without their keyword."""
    s = strip_typedefs(t)
    if isinstance(s, BaseType):
        if s.encoding == Encoding.FLOAT:
            return {4: "Float", 8: "Double"}.get(s.size, s.name)
        if s.encoding == Encoding.BOOLEAN:
            return "Bool"
        if s.size == 1:
            return "UChar" if s.encoding in (Encoding.UNSIGNED, Encoding.UNSIGNED_CHAR) else "Char"
        name = _INTEGER_NAMES.get(s.size, s.name)
        return "U" + name[0].lower() + name[1:] if not s.is_signed else name
    if isinstance(s, PointerType):
        target = strip_typedefs(s.target)
        if isinstance(target, FunctionType):
            return f"Ptr64 {type_name(target)}"
        if target.name == "void" and not isinstance(target, (StructType, EnumType)):
            return "Ptr64 Void"
        return f"Ptr64 {cdb_type_name(target)}"
    if isinstance(s, ArrayType):
        return f"[{s.count if s.count is not None else 0}] {cdb_type_name(s.element)}"
    if isinstance(s, (StructType, EnumType)):
        return s.name or "<anonymous-tag>"
    return type_name(s)


def _parse(rest: str) -> tuple[int, bool, list[str]]:
    depth, blocks = 0, False
    words = []
    for word in rest.split():
        match = re.fullmatch(r"-r(\d*)", word)
        if match:
            depth = int(match.group(1)) if match.group(1) else ALL_LEVELS
        elif word == "-b":
            blocks = True
        elif word.startswith("-") and not re.fullmatch(r"-[0-9a-fA-Fx`]+", word):
            raise CommandError(f"dt: unknown option {word} (options: -r[N] -b)")
        else:
            words.append(word)
    if blocks and not depth:
        depth = ALL_LEVELS
    return depth, blocks, words


def _layout(
    interp: Interpreter, t: Type, value: Value | None, depth: int, blocks: bool, indent: str = "   "
) -> None:
    s = complete(strip_typedefs(t))
    if isinstance(s, ArrayType) and value is not None and s.count and (blocks or depth > 0):
        # An array variable with -b or -r: its elements, structs expanded under `[NN]`.
        for i, element in enumerate(value):
            if i == MAX_ELEMENTS:
                interp.out(f"{indent}...\n")
                break
            if isinstance(complete(strip_typedefs(element.type)), StructType):
                interp.out(f"{indent}[{i:02d}]\n")
                _layout(interp, element.type, element, depth - 1, blocks, indent + "   ")
            else:
                interp.out(f"{indent}[{i:02d}] {format_value(element)}\n")
        return
    if not isinstance(s, StructType):
        if value is not None:
            interp.out(f"{indent}{format_value(value)}\n")
        return
    for member in s.members:
        if member.is_static:
            continue
        _member_line(interp, member, value, depth, blocks, indent)


def _member_line(
    interp: Interpreter, member: Member, parent: Value | None, depth: int, blocks: bool, indent: str
) -> None:
    name = "__BaseClass" if member.is_base else (member.name or "<anonymous>")
    head = f"{indent}+{member.offset:#05x} {name:<{NAME_WIDTH}} : "
    sub = parent.field_value(member) if parent is not None else None
    inner = strip_typedefs(member.type)
    if member.bit_size:
        plural = "s" if member.bit_size > 1 else ""
        text = f"Pos {member.bit_offset % 8}, {member.bit_size} Bit{plural}"
        if sub is not None:
            text = f"{format_value(sub)} ({text})"
        interp.out(head + text + "\n")
        return
    if isinstance(inner, StructType):
        interp.out(head + cdb_type_name(member.type) + "\n")
        if depth > 0:
            _layout(interp, member.type, sub, depth - 1, blocks, indent + "   ")
        return
    if isinstance(inner, ArrayType) and blocks and sub is not None:
        interp.out(head + cdb_type_name(member.type) + "\n")
        for i, element in enumerate(sub):
            interp.out(f"{indent}   [{i:02d}] {format_value(element)}\n")
        return
    if sub is None:
        interp.out(head + cdb_type_name(member.type) + "\n")
    else:
        interp.out(head + format_value(sub) + "\n")


def _is_local(interp: Interpreter, name: str) -> bool:
    """Whether a name is a parameter or local of the scope frame (cdb's `Local var`)."""
    if "!" in name:
        return False
    try:
        return interp.client.symbols.get_scope_variables().named(name) is not None
    except DwarfError:
        return False


def _lookup_variable(interp: Interpreter, text: str) -> Value | None:
    path = text.split(".")
    try:
        value = interp.client.symbols.get_variable_value(path[0])
    except DwarfError:
        return None
    try:
        t = strip_typedefs(value.type)
        if isinstance(t, PointerType) and t.sigil != "*":
            value = value.deref()  # a C++ reference: the object it refers to
        for part in path[1:]:
            if isinstance(strip_typedefs(value.type), PointerType):
                value = value.deref()  # `dt p.member` through a pointer, as cdb allows
            value = value.member(part)
    except DwarfError as exc:
        raise CommandError(f"dt {text}: {exc}") from None
    return value


def _check_readable(interp: Interpreter, value: Value) -> None:
    """cdb's `Memory read error` for an object whose first byte cannot be read."""
    address = value.address
    if address is None or value.size == 0:
        return
    try:
        interp.client.data_spaces.read_virtual(address, 1)
    except PydbgError:
        raise CommandError(f"dt: memory read error at {hex64(address)}") from None


@command(
    "dt",
    summary="Display a type's layout, or an object of a type in memory",
    syntax="dt [-r[N]] [-b] TYPE [ADDR] | dt [-r[N]] [-b] VAR[.member...]",
    example="dt -r node",
)
def _display_type(interp: Interpreter, rest: str) -> None:
    depth, blocks, words = _parse(rest)
    if not words:
        raise CommandError("dt: name a type or a variable: dt TYPE [ADDR], dt VAR")
    symbols = interp.client.symbols
    # `struct node` and `enum color` are one name in two words.
    if len(words) >= 2 and words[0] in ("struct", "union", "enum", "class"):
        words = [f"{words[0]} {words[1]}", *words[2:]]
    name, address_text = words[0], " ".join(words[1:])
    if not address_text:
        value = _lookup_variable(interp, name)
        if value is not None:
            where = f"@ {hex64(value.address)}" if value.address is not None else "@ <register>"
            kind = "Local" if _is_local(interp, name.split(".")[0]) else "Global"
            interp.out(f"{kind} var {where} Type {cdb_type_name(value.type)}\n")
            _layout(interp, value.type, value, max(depth, 0), blocks)
            return
    try:
        t = symbols.get_type_by_name(name)
    except DwarfError as exc:
        raise CommandError(f"dt: {exc}") from None
    value = None
    if address_text:
        value = symbols.get_typed_value(t, interp.evaluate(address_text))
        _check_readable(interp, value)
    module = name.rpartition("!")[0]
    interp.out(f"{module + '!' if module else ''}{cdb_type_name(t)}\n")
    _layout(interp, t, value, depth, blocks)


@command(
    "??",
    summary="Evaluate a C expression over the scope's variables and DWARF types",
    syntax="?? expression",
    example="?? first.where.x + 1",
)
def _evaluate_c(interp: Interpreter, rest: str) -> None:
    """cdb's `??` (the C++ evaluator): prints the type, then the value as gdb prints it
    (`int 42`, `struct point {x = 3, y = -4}`)."""
    if not rest.strip():
        raise CommandError("??: needs a C expression: ?? first.where.x")
    try:
        value = interp.client.symbols.evaluate_c_expression(substitute_masm(rest, interp.evaluate))
        text = format_value(value)
    except DwarfError as exc:
        raise CommandError(f"?? {rest.strip()}: {exc}") from None
    interp.out(f"{type_name(value.type)} {text}\n")
