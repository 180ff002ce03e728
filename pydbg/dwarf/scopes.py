"""Scopes of a pc: the function (DW_TAG_subprogram) whose code holds it, the lexical blocks
inside it that hold it too, and the variables each declares, as gdb's `info args` and
`info locals` list them.

An out-of-line copy of an inlined or cloned function (gcc -O2) is a concrete DIE whose
names and types live in its DW_AT_abstract_origin: attributes are looked up through it,
and variables the abstract function declares but the concrete one does not (optimized
away) are listed too, with no location, as gdb does.  Inlined subroutines
(DW_TAG_inlined_subroutine) holding the pc are functions of their own, as gdb's inline
frames: `inline_depth` 0 picks the innermost inlined function as the scope's function
(its parameters and locals, with their own locations, names and types through
DW_AT_abstract_origin), 1 the one it was inlined into, and so on out to the
subprogram.  The subprogram is kept as `subprogram` (its DW_AT_frame_base serves the
inlined functions too).  Addresses are link-time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydbg.dwarf.debug_info import DebugInfo, die_ranges, unit_base

__all__ = ["Scope", "ScopeVariable", "attribute", "find_scope"]

_BLOCKS = ("DW_TAG_lexical_block", "DW_TAG_inlined_subroutine")
_CONTAINERS = (
    "DW_TAG_namespace",
    "DW_TAG_structure_type",
    "DW_TAG_class_type",
    "DW_TAG_union_type",
    "DW_TAG_module",
)


def _origin(die: Any) -> Any:
    for name in ("DW_AT_abstract_origin", "DW_AT_specification"):
        if name in die.attributes:
            return die.get_DIE_from_attribute(name)
    return None


def attribute(die: Any, name: str) -> Any:
    """A DIE's attribute, or its abstract origin's / specification's (None if none)."""
    seen = 0
    while die is not None and seen < 8:
        attr = die.attributes.get(name)
        if attr is not None:
            return attr
        die = _origin(die)
        seen += 1
    return None


def attribute_die(die: Any, name: str) -> Any:
    """The DIE that carries an attribute, through abstract origins."""
    seen = 0
    while die is not None and seen < 8:
        if name in die.attributes:
            return die
        die = _origin(die)
        seen += 1
    return None


def full_name(die: Any) -> str:
    attr = attribute(die, "DW_AT_name")
    return attr.value.decode("utf-8", "replace") if attr is not None else ""


@dataclass
class ScopeVariable:
    """A parameter or local variable: its DIE (concrete, with a location or not), name,
    whether it is a parameter, and the block depth (0: the function)."""

    die: Any
    name: str
    is_parameter: bool
    depth: int


@dataclass
class Scope:
    """The function holding a pc and the blocks within it that hold it, outermost first."""

    info: DebugInfo
    cu: Any
    function: Any
    blocks: list[Any]
    pc: int
    subprogram: Any = None

    @property
    def function_name(self) -> str:
        return full_name(self.function)

    @property
    def cu_base(self) -> int:
        return unit_base(self.cu.get_top_DIE())

    def variables(self) -> list[ScopeVariable]:
        """Parameters of the function in order, then locals: the innermost block's first,
        each block's in declaration order (gdb's `info args` then `info locals`)."""
        params: list[ScopeVariable] = []
        locals_by_depth: list[list[ScopeVariable]] = []
        for depth, block in enumerate(self.blocks):
            found: list[ScopeVariable] = []
            for die in _children_with_origin(block):
                if die.tag == "DW_TAG_formal_parameter" and depth == 0:
                    params.append(ScopeVariable(die, full_name(die), True, 0))
                elif die.tag == "DW_TAG_label" and "DW_AT_low_pc" not in die.attributes:
                    # gdb lists a label whose code was optimized away as a local that
                    # is `<optimized out>` (LOC_OPTIMIZED_OUT); labels with code it omits.
                    if full_name(die):
                        found.append(ScopeVariable(die, full_name(die), False, depth))
                elif die.tag == "DW_TAG_variable" and "DW_AT_declaration" not in die.attributes:
                    name = full_name(die)
                    if name:
                        found.append(ScopeVariable(die, name, False, depth))
            locals_by_depth.append(found)
        out = params
        for found in reversed(locals_by_depth):
            out.extend(found)
        return out


def _children_with_origin(block: Any) -> list[Any]:
    """A block's variables and parameters, with those its abstract origin declares that
    it does not (they were optimized away in this copy)."""
    children = [c for c in block.iter_children() if c.tag in _VARIABLE_TAGS]
    origin = _origin(block)
    if origin is None:
        return children
    covered = set()
    for child in children:
        o = _origin(child)
        if o is not None:
            covered.add(o.offset)
    extra = [
        c for c in origin.iter_children() if c.tag in _VARIABLE_TAGS and c.offset not in covered
    ]
    if not extra:
        return children
    # Keep the abstract order (declaration order): concrete DIEs where they exist.
    by_origin = {o.offset: c for c in children if (o := _origin(c)) is not None}
    ordered = [
        by_origin.get(c.offset, c) for c in origin.iter_children() if c.tag in _VARIABLE_TAGS
    ]
    ordered += [c for c in children if _origin(c) is None]
    return ordered


_VARIABLE_TAGS = ("DW_TAG_formal_parameter", "DW_TAG_variable", "DW_TAG_label")


def _holds(die: Any, pc: int, base: int) -> bool:
    try:
        ranges = die_ranges(die, base)
    except Exception:  # a damaged range list: not this DIE
        return False
    return any(start <= pc < end for start, end in ranges)


def find_scope(info: DebugInfo, pc: int, inline_depth: int = 0) -> Scope | None:
    """The scope of a link-time pc, or None where no function's DWARF covers it;
    `inline_depth` inlined functions out from the innermost one holding the pc (beyond
    them all: the subprogram)."""
    key = pc if not inline_depth else (pc, inline_depth)
    with info.lock():
        if key in info.scopes:
            cached: Scope | None = info.scopes[key]
            return cached
        found = _find_scope(info, pc, inline_depth)
        info.scopes[key] = found
        return found


def _find_scope(info: DebugInfo, pc: int, inline_depth: int) -> Scope | None:
    with info.lock():
        cu = info.unit_at(pc)
        if cu is None:
            return None
        top = cu.get_top_DIE()
        base = unit_base(top)
        function = _find_function(top, pc, base)
        if function is None:
            return None
        # The blocks holding the pc, cut into functions at each inlined subroutine.
        functions = [[function]]
        current = function
        while True:
            inner = next(
                (c for c in current.iter_children() if c.tag in _BLOCKS and _holds(c, pc, base)),
                None,
            )
            if inner is None:
                break
            if inner.tag == "DW_TAG_inlined_subroutine":
                functions.append([inner])  # an inlined function: a scope's function
            else:
                functions[-1].append(inner)
            current = inner
        blocks = functions[max(0, len(functions) - 1 - inline_depth)]
        return Scope(info, cu, blocks[0], blocks, pc, function)


def _find_function(parent: Any, pc: int, base: int) -> Any:
    for child in parent.iter_children():
        if child.tag == "DW_TAG_subprogram":
            if _holds(child, pc, base):
                return child
        elif child.tag in _CONTAINERS and child.has_children:
            found = _find_function(child, pc, base)
            if found is not None:
                return found
    return None


def find_call_site(scope: Scope, return_pc: int) -> Any:
    """The call-site DIE (DW_TAG_call_site, or GNU's) of a call returning to a link-time
    return address, in the scope's function and blocks; None without one."""
    key = (scope.function.offset, return_pc)
    with scope.info.lock():
        if key in scope.info.call_sites:
            return scope.info.call_sites[key]
        found = _find_call_site(scope, return_pc)
        scope.info.call_sites[key] = found
        return found


def _find_call_site(scope: Scope, return_pc: int) -> Any:
    with scope.info.lock():
        stack = [scope.function]
        while stack:
            die = stack.pop()
            for child in die.iter_children():
                if child.tag in ("DW_TAG_call_site", "DW_TAG_GNU_call_site"):
                    attr = child.attributes.get("DW_AT_call_return_pc") or child.attributes.get(
                        "DW_AT_low_pc"
                    )
                    if attr is not None and attr.value == return_pc:
                        return child
                elif child.tag in _BLOCKS:
                    stack.append(child)
    return None
