"""Errors of pydbg.dwarf: all PydbgErrors, specific enough to tell what went wrong."""

from __future__ import annotations

from pydbg.errors import PydbgError

__all__ = ["DwarfError", "LocationError", "UnknownTypeError", "UnknownVariableError"]


class DwarfError(PydbgError):
    """Debugging information that is missing or cannot be used."""


class UnknownTypeError(DwarfError, LookupError):
    """No type of this name in the debugging information (`dt no_such_type`)."""


class UnknownVariableError(DwarfError, LookupError):
    """No variable of this name in scope (`dv nosuch`, `dt nosuch`)."""


class LocationError(DwarfError):
    """A location expression that cannot be evaluated (an unsupported operation, a
    stack underflow): the message names the operation."""
