"""Placing a script's breakpoints and watchpoints through the control facet: where an
address or a name resolves, and the IDebugBreakpoint configured and enabled.

A name of a module that is not loaded yet (`libc_so!malloc` at the initial breakpoint)
resolves to nothing: a code breakpoint on it is deferred (its offset expression is
evaluated again at every module load, as cdb's `bu`), while a hardware breakpoint or a
watchpoint, which needs an address now, raises UnknownSymbolError.  Any other name no
loaded module defines raises UnknownSymbolError.  When configuring fails, the half-made
breakpoint is removed again: nothing is left in the process.
"""

from __future__ import annotations

from collections.abc import Callable

from pydbg.breakpoints import Breakpoint
from pydbg.client import DebugClient
from pydbg.constants import (
    DEBUG_BREAK_EXECUTE,
    DEBUG_BREAK_READ,
    DEBUG_BREAK_WRITE,
    DEBUG_BREAKPOINT_CODE,
    DEBUG_BREAKPOINT_DATA,
    DEBUG_BREAKPOINT_ENABLED,
)
from pydbg.errors import UnknownSymbolError
from pydbg.symbols import UnknownModuleSymbolError

__all__ = ["ACCESS", "code_breakpoint", "data_breakpoint", "resolve"]

ACCESS = {
    "w": DEBUG_BREAK_WRITE,
    "r": DEBUG_BREAK_READ,  # x86 has no read-only watch: reads and writes trigger it
    "rw": DEBUG_BREAK_READ,
    "x": DEBUG_BREAK_EXECUTE,
}


def resolve(client: DebugClient, where: int | str) -> int | None:
    """An address, or a symbol's address; None for `module!name` of a module that is not
    loaded yet."""
    if isinstance(where, str):
        try:
            return client.symbols.get_offset_by_name(where)
        except UnknownModuleSymbolError:
            return None
    if isinstance(where, bool) or not isinstance(where, int) or not 0 <= where < 1 << 64:
        raise ValueError(f"a breakpoint is set at an address or a symbol, not {where!r}")
    return where


def _not_loaded(where: int | str, why: str) -> UnknownSymbolError:
    return UnknownSymbolError(str(where), f"{where}: its module is not loaded yet, {why}")


def code_breakpoint(
    client: DebugClient,
    where: int | str,
    *,
    hardware: bool,
    condition: str | Callable[[Breakpoint], object] | None,
) -> Breakpoint:
    """An enabled code breakpoint: an int3, or with `hardware` a debug register
    (DEBUG_BREAKPOINT_DATA with DEBUG_BREAK_EXECUTE, cdb's `ba e1`)."""
    address = resolve(client, where)
    if hardware and address is None:
        raise _not_loaded(where, "and a hardware breakpoint cannot wait for it")
    control = client.control
    bp = control.add_breakpoint(DEBUG_BREAKPOINT_DATA if hardware else DEBUG_BREAKPOINT_CODE)
    try:
        if hardware:
            bp.set_data_parameters(1, DEBUG_BREAK_EXECUTE)
        if address is None:
            bp.set_offset_expression(str(where))
        else:
            bp.set_offset(address)
        if condition is not None:
            bp.condition = condition
        bp.add_flags(DEBUG_BREAKPOINT_ENABLED)
    except BaseException:
        control.remove_breakpoint(bp)
        raise
    return bp


def data_breakpoint(
    client: DebugClient, where: int | str, size: int, access: str
) -> tuple[Breakpoint, bytes]:
    """An enabled data breakpoint, and the bytes it watches as they are now."""
    if access not in ACCESS:
        raise ValueError(f"access is 'w', 'r', 'rw' or 'x', not {access!r}")
    address = resolve(client, where)
    if address is None:
        raise _not_loaded(where, "and a watchpoint needs an address")
    control = client.control
    bp = control.add_breakpoint(DEBUG_BREAKPOINT_DATA)
    try:
        bp.set_offset(address)
        bp.set_data_parameters(size, ACCESS[access])
        value = client.data_spaces.read_virtual(address, size)
        bp.add_flags(DEBUG_BREAKPOINT_ENABLED)
    except BaseException:
        control.remove_breakpoint(bp)
        raise
    return bp, value
