"""`gu` prints the value the function returned, as gdb's `finish` does (cdb prints
nothing; pydbg follows gdb here):

    Value returned is -79
    Value returned is (struct node *) 0x5555555580a0 <nodes+32>
    Value returned is {a = 4, b = -4}

gdb's text without its value-history number (`$1 = `); pointers carry their type in
parentheses as gdb's `print` shows them.  `gu` reads the function's DWARF return type
(Symbols.get_return_type) before it runs; the stop that ends the `gu` (shown by
Interpreter.output_current_state) reads the value where the ABI leaves it
(Symbols.get_return_value).  Nothing is printed for void functions, functions without
DWARF, or when something else (a breakpoint, a signal) stopped the target first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.dwarf.types import PointerType, Type, VoidType, strip_typedefs, type_name
from pydbg.dwarf.values import format_value
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter

__all__ = ["PendingReturn", "expect_return", "report_return"]


@dataclass(frozen=True)
class PendingReturn:
    """A `gu` under way: the thread that runs it, its function's return type, and where
    the return lands (the return address, and rsp after the return: the frame's CFA)."""

    thread_id: int
    type: Type
    return_address: int
    stack: int


def expect_return(interp: Interpreter) -> None:
    """At `gu`: remember the current function's return type (none: nothing to print)."""
    interp.pending_return = None
    client = interp.client
    try:
        frame = client.control.get_stack_trace(1)[0]
        found = client.symbols.get_return_type(frame.instruction_offset)
        thread_id = client.system_objects.get_current_thread_id()
    except (PydbgError, IndexError):
        return  # no DWARF, no thread: `gu` still runs, silently
    if found is None or isinstance(strip_typedefs(found), VoidType):
        return
    interp.pending_return = PendingReturn(thread_id, found, frame.return_offset, frame.frame_offset)


def report_return(interp: Interpreter) -> None:
    """At a stop: if it ends a `gu`, print the value returned (module docstring)."""
    pending, interp.pending_return = interp.pending_return, None
    if pending is None:
        return
    client = interp.client
    try:
        if not client.control.last_wait_ended_a_step():
            return
        if client.system_objects.get_current_thread_id() != pending.thread_id:
            return
        registers = client.registers
        landed = (registers.get_value("rip"), registers.get_value("rsp"))
        if landed != (pending.return_address, pending.stack):
            return  # another stop (the `gu` never waited for, a later step)
        value = client.symbols.get_return_value(pending.type)
        if value is None:
            return
        text = format_value(value)
    except PydbgError as exc:
        interp.out(f"Value returned: unavailable ({exc})\n")
        return
    if isinstance(strip_typedefs(pending.type), PointerType):
        text = f"({type_name(pending.type)}) {text}"
    interp.out(f"Value returned is {text}\n")
