"""IDebugBreakpoint: one code or data breakpoint, as a client sees and configures it.

A breakpoint is made by `control.add_breakpoint(type)`, empty and disabled; configure it,
then `add_flags(DEBUG_BREAKPOINT_ENABLED)`.  Every setter takes effect at once: the engine
(pydbg.engine.breakpoints) plants or removes the int3 byte or programs the debug registers
before the setter returns, so a bad address fails right there with a clear error and
nothing patched.  `remove_breakpoint` ends the object's life; its methods then raise.

Semantics (spec §6.8), with pydbg's choices:

* Pass count N (default 1): the breakpoint triggers at the Nth hit and every hit after,
  until `set_pass_count` starts counting again.  Hits while stepping do not count.
* Match thread: other threads pass silently (not counted as hits).
* Command: `;`-separated commands run at each trigger, before the callbacks; an execution
  command (`g`, `gc`, `t`...) is the command's vote, otherwise the command votes BREAK.
* Condition (pydbg): a Python callable `condition(bp) -> bool`, a MASM expression string
  that must be non-zero, or a `CCondition` (set by `set_condition_c`, cdb's `bp /w`): a C
  expression evaluated with the C evaluator (Symbols.evaluate_c_expression) in frame 0 of
  the thread that hit, true when its value is non-zero (a pointer: not NULL).  A plain
  `str` is always MASM; the language of a condition is its Python type.
  A MASM string of the form `OPERAND OP NUMBER`, with OPERAND one of `@reg`, `by(ADDR)`,
  `wo(ADDR)`, `dwo(ADDR)`, `qwo(ADDR)`, `poi(ADDR)` and OP one of == != < <= > >=
  (unsigned), is decided by the native core without entering Python.
  A condition that raises counts as true: the user sees the breakpoint and the error.  So
  does a C condition that cannot be evaluated at a hit (an unknown variable, a value
  optimized out, a NULL pointer dereferenced): the error is printed, the breakpoint
  triggers (gdb stops too, with "Error in testing condition").
* `hit_count`: how many times a thread reached the breakpoint with its match thread and
  condition satisfied (whether or not it then triggered).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from pydbg.constants import (
    DEBUG_ANY_ID,
    DEBUG_BREAK_EXECUTE,
    DEBUG_BREAK_READ,
    DEBUG_BREAK_WRITE,
    DEBUG_BREAKPOINT_ADDER_ONLY,
    DEBUG_BREAKPOINT_CODE,
    DEBUG_BREAKPOINT_DATA,
    DEBUG_BREAKPOINT_DEFERRED,
    DEBUG_BREAKPOINT_ENABLED,
    DEBUG_BREAKPOINT_GO_ONLY,
    DEBUG_BREAKPOINT_ONE_SHOT,
    DEBUG_INVALID_OFFSET,
)
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.dwarf.values import Value
    from pydbg.engine.breakpoints import BreakpointTable
    from pydbg.engine.notify import ClientSlot
    from pydbg.engine.session import Engine
    from pydbg.engine.targets import Process

__all__ = [
    "Breakpoint",
    "BreakpointError",
    "BreakpointParameters",
    "CCondition",
    "Condition",
    "RemovedBreakpointError",
]

CLIENT_FLAGS = (
    DEBUG_BREAKPOINT_GO_ONLY
    | DEBUG_BREAKPOINT_ENABLED
    | DEBUG_BREAKPOINT_ADDER_ONLY
    | DEBUG_BREAKPOINT_ONE_SHOT
)
DATA_SIZES = (1, 2, 4, 8)
ACCESS_TYPES = (DEBUG_BREAK_READ, DEBUG_BREAK_WRITE, DEBUG_BREAK_EXECUTE)


@dataclass(frozen=True)
class CCondition:
    """A breakpoint condition written in C (cdb's `/w` takes a C++ expression): `text`
    is evaluated at each hit in frame 0 of the thread that hit.  Callable as every Python
    condition is; raises what the evaluator raises (counted as true, see the module)."""

    text: str

    def __call__(self, bp: Breakpoint) -> bool:
        from pydbg.symbols import Symbols

        engine = cast("Engine", bp._alive().engine)
        value = Symbols(engine).evaluate_c_expression(self.text, frame_index=0)
        return truth(value)


def truth(value: Value) -> bool:
    """C's truth of a scalar value: non-zero (a float: not 0.0; a pointer: not NULL)."""
    from pydbg.dwarf.types import BaseType, Encoding, strip_typedefs

    s = strip_typedefs(value.type)
    if isinstance(s, BaseType) and s.encoding == Encoding.FLOAT:
        return float(value) != 0.0
    return int(value) != 0  # DwarfError for a struct: not a truth value


Condition = str | CCondition | Callable[["Breakpoint"], object]


class BreakpointError(PydbgError, ValueError):
    """A breakpoint cannot be configured or planted as asked."""


class RemovedBreakpointError(BreakpointError):
    """The breakpoint was removed; its object is dead."""


@dataclass(frozen=True)
class BreakpointParameters:
    """DEBUG_BREAKPOINT_PARAMETERS."""

    offset: int
    id: int
    break_type: int
    proc_type: int
    flags: int
    data_size: int
    data_access_type: int
    pass_count: int
    current_pass_count: int
    match_thread: int
    command: str
    offset_expression: str


class Breakpoint:
    """One breakpoint (IDebugBreakpoint2), owned by the engine's breakpoint table."""

    def __init__(
        self,
        table: BreakpointTable,
        bp_id: int,
        break_type: int,
        adder: ClientSlot | None,
        process: Process,
    ) -> None:
        self._table = table
        self._id = bp_id
        self._type = break_type
        self.adder = adder
        self.process = process
        self.removed = False
        self.offset: int | None = None
        self.expression = ""
        self.flags = 0
        self.pass_count = 1
        self.passes = 0  # counted hits toward the pass count (under g)
        self.match_thread = DEBUG_ANY_ID
        self.command = ""
        self.data_size = 1 if break_type == DEBUG_BREAKPOINT_DATA else 0
        self.access = DEBUG_BREAK_WRITE if break_type == DEBUG_BREAKPOINT_DATA else 0
        self._condition: Condition | None = None
        self.hits = 0  # Python-seen hits; the native core counts the hits it decides itself
        # pydbg: a hit where inlined calls start stops inside them (gdb: a breakpoint on a
        # source line of the inlined function), not at their call site (one on a
        # function's name); `bp file:line` sets it (pydbg.engine.source_lines).
        self.stops_in_inlined = False

    def __repr__(self) -> str:
        where = f"{self.offset:#x}" if self.offset is not None else self.expression or "unset"
        kind = "code" if self._type == DEBUG_BREAKPOINT_CODE else "data"
        return f"<Breakpoint {self._id} {kind} {where} flags={self.flags:#x}>"

    def _alive(self) -> BreakpointTable:
        if self.removed:
            raise RemovedBreakpointError(f"breakpoint {self._id} was removed")
        return self._table

    def _changed(self) -> None:
        self._table.changed(self)

    @property
    def simple(self) -> bool:
        """Every hit triggers and nothing but the callbacks decide: enabled, no condition,
        command, match thread or special flag, pass count reached.  (The engine's fast
        path serves only these.)"""
        return (
            self.flags == DEBUG_BREAKPOINT_ENABLED
            and self._condition is None
            and self.passes >= self.pass_count - 1
            and self.match_thread == DEBUG_ANY_ID
            and not self.command
            and self._type == DEBUG_BREAKPOINT_CODE
        )

    # -- identity -------------------------------------------------------------------------------

    def get_id(self) -> int:
        return self._id

    def get_type(self) -> tuple[int, int]:
        """(break type, processor type: IMAGE_FILE_MACHINE_AMD64)."""
        return self._type, 0x8664

    @property
    def is_code(self) -> bool:
        return self._type == DEBUG_BREAKPOINT_CODE

    # -- flags ----------------------------------------------------------------------------------

    def get_flags(self) -> int:
        return self.flags

    def set_flags(self, flags: int) -> None:
        self._check_flags(flags)
        table = self._alive()
        old = self.flags
        self.flags = (flags & CLIENT_FLAGS) | (old & DEBUG_BREAKPOINT_DEFERRED)
        table.apply(self, old_flags=old)

    def add_flags(self, flags: int) -> None:
        self._check_flags(flags)
        self.set_flags((self.flags & CLIENT_FLAGS) | flags)

    def remove_flags(self, flags: int) -> None:
        self._check_flags(flags)
        self.set_flags(self.flags & CLIENT_FLAGS & ~flags)

    @staticmethod
    def _check_flags(flags: int) -> None:
        if flags & DEBUG_BREAKPOINT_DEFERRED:
            raise BreakpointError("DEBUG_BREAKPOINT_DEFERRED belongs to the engine")
        if flags & ~CLIENT_FLAGS:
            raise BreakpointError(f"unknown DEBUG_BREAKPOINT_* flags {flags & ~CLIENT_FLAGS:#x}")

    # -- where ----------------------------------------------------------------------------------

    def get_offset(self) -> int:
        """The address; DEBUG_INVALID_OFFSET while unset or deferred."""
        if self.offset is None or self.flags & DEBUG_BREAKPOINT_DEFERRED:
            return DEBUG_INVALID_OFFSET
        return self.offset

    def set_offset(self, offset: int) -> None:
        """Place the breakpoint at an address (checked: mapped, and executable for code)."""
        table = self._alive()
        if not isinstance(offset, int) or not 0 <= offset < 1 << 64:
            raise BreakpointError(f"{offset!r} is not an address")
        table.move(self, offset, "")

    def get_offset_expression(self) -> str:
        return self.expression

    def set_offset_expression(self, expression: str) -> None:
        """Place the breakpoint where an expression points.  An expression that cannot be
        evaluated now (a symbol of a module not loaded yet) makes the breakpoint DEFERRED;
        it is evaluated again at every module load."""
        self._alive().move_to_expression(self, expression)

    # -- when -----------------------------------------------------------------------------------

    def get_pass_count(self) -> int:
        return self.pass_count

    def set_pass_count(self, count: int) -> None:
        table = self._alive()
        if not isinstance(count, int) or count < 1:
            raise BreakpointError(f"pass count must be >= 1, not {count!r}")
        self.pass_count = count
        self.passes = 0
        table.reset_counts(self)
        self._changed()

    def get_current_pass_count(self) -> int:
        """Hits still needed before the breakpoint triggers (0 once it does)."""
        passes = self.passes if self.removed else self._table.passes(self)
        return max(0, self.pass_count - passes)

    def get_match_thread_id(self) -> int:
        return self.match_thread

    def set_match_thread_id(self, engine_tid: int) -> None:
        """Only this engine thread triggers the breakpoint; DEBUG_ANY_ID: every thread."""
        table = self._alive()
        if engine_tid != DEBUG_ANY_ID:
            table.check_thread_id(engine_tid)
        self.match_thread = engine_tid
        self._changed()

    @property
    def condition(self) -> Condition | None:
        return self._condition

    @condition.setter
    def condition(self, condition: Condition | None) -> None:
        table = self._alive()
        if condition is not None and not (isinstance(condition, str) or callable(condition)):
            raise BreakpointError(
                f"a condition is a callable(bp) or an expression string, not {condition!r}"
            )
        table.check_condition(self, condition)
        self._condition = condition
        self._changed()

    def set_condition_c(self, text: str) -> None:
        """A condition in C (`count > 3 && p->next == 0`), evaluated at each hit in frame 0
        of the thread that hit (see the module docstring).  Raises ExpressionSyntaxError
        for text that is not a C expression; names are looked up at the hits."""
        from pydbg.dwarf.c_expressions import check_c_syntax

        self._alive()
        check_c_syntax(text)
        self.condition = CCondition(text)

    @property
    def hit_count(self) -> int:
        """Readable after removal and after its process ended (the last count)."""
        return self.hits if self.removed else self._table.hit_count(self)

    # -- what -----------------------------------------------------------------------------------

    def get_command(self) -> str:
        return self.command

    def set_command(self, command: str) -> None:
        self._alive().check_command(command)
        self.command = command
        self._changed()

    def get_data_parameters(self) -> tuple[int, int]:
        if self._type != DEBUG_BREAKPOINT_DATA:
            raise BreakpointError(f"breakpoint {self._id} is a code breakpoint: no data parameters")
        return self.data_size, self.access

    def set_data_parameters(self, size: int, access_type: int) -> None:
        """Size 1/2/4/8 and DEBUG_BREAK_READ (read or write), WRITE or EXECUTE (size 1)."""
        table = self._alive()
        if self._type != DEBUG_BREAKPOINT_DATA:
            raise BreakpointError(
                f"breakpoint {self._id} is a code breakpoint: set_data_parameters is for "
                "DEBUG_BREAKPOINT_DATA"
            )
        if size not in DATA_SIZES:
            raise BreakpointError(f"data breakpoint size must be 1, 2, 4 or 8, not {size!r}")
        if access_type not in ACCESS_TYPES:
            raise BreakpointError(
                f"access type {access_type!r} is not DEBUG_BREAK_READ, WRITE or EXECUTE "
                "(x86 has no I/O breakpoints in user mode)"
            )
        if access_type == DEBUG_BREAK_EXECUTE and size != 1:
            raise BreakpointError("an execute breakpoint has size 1")
        if self.offset is not None and self.offset % size:
            raise BreakpointError(
                f"address {self.offset:#x} is not aligned to {size} bytes, which a debug "
                "register needs"
            )
        table.set_data(self, size, access_type)

    def get_parameters(self) -> BreakpointParameters:
        return BreakpointParameters(
            offset=self.get_offset(),
            id=self._id,
            break_type=self._type,
            proc_type=0x8664,
            flags=self.flags,
            data_size=self.data_size,
            data_access_type=self.access,
            pass_count=self.pass_count,
            current_pass_count=self.get_current_pass_count(),
            match_thread=self.match_thread,
            command=self.command,
            offset_expression=self.expression,
        )
