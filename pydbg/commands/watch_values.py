"""Old and new values at data breakpoints set on a variable (`ba w4 counter`,
`ba w counter`, `ba w4 p->field`), as gdb's `watch` reports them.

`ba` reads its address as a C lvalue first (Symbols.evaluate_c_expression) when the access
is r or w and the text has no MASM-only syntax (`@rsp`, `poi(...)`, a leading digit: see
breakpoint_commands): a variable, member, element or `*p` in memory is watched at its
address now (a local stays watched at that address after its frame returns), with the
variable's size when `ba w` gives none.  Anything else is a MASM address, as before.

At each hit of a write breakpoint on a variable the value is read again; as with gdb's
`watch`, a write that leaves it unchanged does not trigger, and one that changes it prints

    Old value = 1
    New value = 2

before `Breakpoint N hit` (gdb's text, without its "Hardware watchpoint N: expr" line,
which pydbg's hit line replaces).  A read breakpoint (`ba r4 counter`: read or write)
triggers at every access and prints `Value = 2`, or the old and new value when the access
changed it.  The old value is kept here, in the command layer, by the breakpoint's
condition (a WatchedValue, a Python callable condition); a `/w` condition given with it is
checked after the change, and the old value follows every change whether or not the
condition then holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydbg.breakpoints import Breakpoint
from pydbg.constants import DEBUG_BREAK_WRITE
from pydbg.dwarf.types import Type
from pydbg.dwarf.values import format_value

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter

__all__ = ["WatchedValue"]


class WatchedValue:
    """The condition of a data breakpoint on a variable (module docstring)."""

    def __init__(
        self,
        interp: Interpreter,
        expression: str,
        type_: Type,
        address: int,
        access: int,
        inner: Callable[[Breakpoint], object] | str | None = None,
    ) -> None:
        self.interp = interp
        self.expression = expression
        self.type = type_
        self.address = address
        self.access = access
        self.inner = inner
        self.old = self._read()

    def _read(self) -> tuple[bytes, str]:
        value = self.interp.client.symbols.get_typed_value(self.type, self.address)
        return value.raw(), format_value(value)

    def __call__(self, bp: Breakpoint) -> bool:
        (old_raw, old_text), self.old = self.old, self._read()
        new_raw, new_text = self.old
        changed = new_raw != old_raw
        if self.access == DEBUG_BREAK_WRITE and not changed:
            return False  # gdb's watch: only a change stops
        if not self._inner_holds(bp):
            return False
        if changed:
            self.interp.out(f"\nOld value = {old_text}\nNew value = {new_text}\n")
        else:
            self.interp.out(f"\nValue = {new_text}\n")
        return True

    def _inner_holds(self, bp: Breakpoint) -> bool:
        if self.inner is None:
            return True
        if isinstance(self.inner, str):  # MASM
            return self.interp.evaluate(self.inner) != 0
        return bool(self.inner(bp))
