"""cdb's evaluator switch: `@@c++(expr)` (and `@@(expr)`) inside a MASM expression, and
`@@masm(expr)` inside a C one (`??`).

`? @@c++(sizeof(struct node))`, `? poi(@@c++(&g_list))`: the C expression is evaluated by
the symbols facet (Symbols.evaluate_c_expression, in the scope frame) and its value becomes
a MASM number, an unsigned 64-bit integer (`masm_number`):

    integers, chars, enums      their value, negative ones in two's complement (-1 ->
                                0xffffffffffffffff)
    bool                        0 or 1
    pointers, functions         the address
    arrays                      the address of the first element (C's decay)
    float, double               truncated toward zero (C's conversion to an integer; cdb's
                                MASM has no floating values)
    structs, unions             an error: they have no number

`?? (struct node *)@@masm(poi(g_list))`: each `@@masm(...)` is evaluated by MASM first and
stands in the C text as an `unsigned long` constant.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from pydbg.commands.errors import ExpressionError
from pydbg.commands.expression import closing_parenthesis
from pydbg.dwarf.errors import DwarfError
from pydbg.dwarf.types import (
    ArrayType,
    BaseType,
    Encoding,
    FunctionType,
    strip_typedefs,
)
from pydbg.dwarf.values import Value

__all__ = ["masm_number", "substitute_masm"]

_MASK = (1 << 64) - 1
_MASM_SWITCH = re.compile(r"@@masm\(", re.IGNORECASE)


def masm_number(value: Value) -> int:
    """A C value as MASM sees it (module docstring)."""
    t = strip_typedefs(value.type)
    if isinstance(t, (ArrayType, FunctionType)):
        if value.address is None:
            raise ExpressionError(f"a {value.type_name} that is not in memory has no address")
        return value.address & _MASK
    if isinstance(t, BaseType) and t.encoding == Encoding.FLOAT:
        number = float(value)
        if not math.isfinite(number):
            raise ExpressionError(f"{number} has no integer value")
        return math.trunc(number) & _MASK
    try:
        return int(value) & _MASK
    except DwarfError as exc:  # a struct or union; an optimized-out value
        raise ExpressionError(f"@@c++: {exc}") from None


def substitute_masm(text: str, evaluate_masm: Callable[[str], int]) -> str:
    """`text` with each `@@masm(expr)` replaced by its MASM value as a C constant."""
    out = []
    pos = 0
    while (match := _MASM_SWITCH.search(text, pos)) is not None:
        close = closing_parenthesis(text, match.end() - 1)
        if close is None:
            raise ExpressionError(f"@@masm( at column {match.start()} is not closed")
        value = evaluate_masm(text[match.end() : close])
        out.append(text[pos : match.start()])
        out.append(f"({value:#x}UL)")
        pos = close + 1
    out.append(text[pos:])
    return "".join(out)
