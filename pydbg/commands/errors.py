"""Errors of the command language: a command line that cannot be read, or an expression that
cannot be evaluated.

`CommandSyntaxError` is about the text (it carries the text and the 0-based column where
reading failed, so a front end can point at it); `ExpressionError` is about meaning (division
by zero, an unknown symbol). Both are ValueErrors, because the user gave a bad value.

Errors that belong to other layers pass through unchanged: an unknown register is the
`pydbg.errors.InvalidRegisterError` the register context raises, and unreadable memory is the
`pydbg.errors.MemoryAccessError` the memory reader raises.
"""

from __future__ import annotations

from pydbg.errors import PydbgError, SymbolError

__all__ = [
    "CommandError",
    "CommandSyntaxError",
    "ExpressionError",
    "UnknownPseudoRegisterError",
    "UnknownSymbolError",
]


class CommandError(PydbgError):
    """A command could not be carried out as written."""


class CommandSyntaxError(CommandError, ValueError):
    """The command text cannot be read; `column` (0-based) in `text` says where, `reason` why."""

    def __init__(self, text: str, column: int, reason: str) -> None:
        super().__init__(f"syntax error at column {column} in {text!r}: {reason}")
        self.text = text
        self.column = column
        self.reason = reason


class ExpressionError(CommandError, ValueError):
    """The expression reads well but has no value (division by zero, unknown symbol)."""


class UnknownPseudoRegisterError(ExpressionError):
    """No pseudo-register has this name; `name` is given without the leading '$'."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown pseudo-register ${name}")
        self.name = name


class UnknownSymbolError(ExpressionError, SymbolError):
    """A word of an expression is neither a symbol of a loaded module nor a register (it
    may name a symbol of a module not loaded yet: a `bu` breakpoint waits for it)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown symbol '{name}'")
        self.name = name
