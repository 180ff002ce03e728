"""Errors of the command language: a command line that cannot be read, or an expression that
cannot be evaluated.

`CommandSyntaxError` is about the text (it carries the text and the 0-based column where
reading failed, so a front end can point at it); `ExpressionError` is about meaning (division
by zero, an unknown symbol). Both are ValueErrors, because the user gave a bad value.

Errors that belong to other layers pass through unchanged: an unknown register is the
`pydbg.errors.InvalidRegisterError` the register context raises, and unreadable memory is the
`pydbg.errors.MemoryAccessError` the memory reader raises.  A symbol that an expression names
and no module defines, or several define, is both an `ExpressionError` and the public
`pydbg.errors.UnknownSymbolError` / `AmbiguousSymbolError`, so that callers can tell it from
other bad expressions by its type (a breakpoint on an unknown symbol is deferred).
"""

from __future__ import annotations

from pydbg.errors import AmbiguousSymbolError, PydbgError, UnknownSymbolError

__all__ = [
    "AmbiguousSymbolExpressionError",
    "CommandError",
    "CommandSyntaxError",
    "ExpressionError",
    "UnknownPseudoRegisterError",
    "UnknownSymbolExpressionError",
]


class CommandError(PydbgError):
    """A command could not be carried out as written."""


class CommandSyntaxError(CommandError, ValueError):
    """The command text cannot be read; `column` (0-based) in `text` says where, `reason` why."""

    def __init__(self, text: str, column: int, reason: str) -> None:
        super().__init__(f"syntax error at column {column} in {_excerpt(text, column)}: {reason}")
        self.text = text
        self.column = column
        self.reason = reason


def _excerpt(text: str, column: int, width: int = 60) -> str:
    """`text` quoted for a message; of a long text, the `width` characters around `column`."""
    if len(text) <= width:
        return repr(text)
    start = max(0, min(column - width // 2, len(text) - width))
    before = "..." if start else ""
    after = "..." if start + width < len(text) else ""
    return f"{before}{text[start : start + width]!r}{after} ({len(text)} characters)"


class ExpressionError(CommandError, ValueError):
    """The expression reads well but has no value (division by zero, unknown symbol)."""


class UnknownPseudoRegisterError(ExpressionError):
    """No pseudo-register has this name; `name` is given without the leading '$'."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown pseudo-register ${name}")
        self.name = name


class UnknownSymbolExpressionError(ExpressionError, UnknownSymbolError):
    """An expression names a symbol no loaded module defines (nor a register has the name)."""


class AmbiguousSymbolExpressionError(ExpressionError, AmbiguousSymbolError):
    """An expression names a bare symbol that several modules define at different addresses."""
