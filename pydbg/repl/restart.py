"""`.restart`: run the launched program again, with the same arguments and breakpoints.

The breakpoints of a process end with it, so the front end keeps a description of them
(`Launch.remember`, before every run of the program): type, id, where (the expression
when there is one; else the address as `module!symbol+offset`, since the new process may
load its modules elsewhere), flags, passes, condition and command.  `.restart` ends the
session (the program is killed if it still runs), launches argv again, waits for its
initial breakpoint and puts the breakpoints back, deferred where their module is not
loaded yet (as `bu`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.breakpoints import Breakpoint, CCondition
from pydbg.commands.errors import CommandError
from pydbg.commands.interpreter import Interpreter, command
from pydbg.commands.watch_values import WatchedValue
from pydbg.constants import (
    DEBUG_BREAKPOINT_DATA,
    DEBUG_BREAKPOINT_DEFERRED,
    DEBUG_INVALID_OFFSET,
    DEBUG_STATUS_INSIDE_WAIT,
    DebugEnd,
    DebugStatus,
    OutputMask,
)
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.client import DebugClient

__all__ = ["Launch", "SavedBreakpoint"]


@dataclass(frozen=True)
class SavedBreakpoint:
    """What it takes to set a breakpoint again in a new process."""

    id: int
    break_type: int
    expression: str
    address: int | None  # when no symbol describes it
    flags: int
    pass_count: int
    condition: str | CCondition | None  # MASM text, or C (looked up at each hit)
    command: str
    data: tuple[int, int] | None  # (size, access) of a processor breakpoint
    watched: WatchedValue | None = None  # `ba w4 counter`: its value is read again


class Launch:
    """A program the front end launched: its argv and, across runs, its breakpoints."""

    _by_client: dict[int, Launch] = {}

    def __init__(
        self,
        client: DebugClient,
        argv: Sequence[str],
        *,
        new_process_group: bool,
        on_restart: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.argv = list(argv)
        self.new_process_group = new_process_group
        self.on_restart = on_restart
        self.pid = 0
        self.saved: list[SavedBreakpoint] = []
        Launch._by_client[id(client)] = self

    def start(self) -> int:
        """Launch argv (it joins the session at the next wait)."""
        self.pid = self.client.create_process(self.argv, new_process_group=self.new_process_group)
        return self.pid

    def remember(self) -> None:
        """Describe the current breakpoints (while the process lives)."""
        if self.client.control.get_execution_status() == DebugStatus.NO_DEBUGGEE:
            return
        with contextlib.suppress(PydbgError):
            self.saved = [self._describe(bp) for bp in self.client.control.breakpoints()]

    def _describe(self, bp: Breakpoint) -> SavedBreakpoint:
        expression, address = bp.get_offset_expression(), None
        offset = bp.get_offset()
        if not expression and offset != DEBUG_INVALID_OFFSET:
            expression, address = self._symbolic(offset), offset
        break_type, _ = bp.get_type()
        return SavedBreakpoint(
            id=bp.get_id(),
            break_type=break_type,
            expression=expression,
            address=address,
            flags=bp.get_flags() & ~DEBUG_BREAKPOINT_DEFERRED,
            pass_count=bp.get_pass_count(),
            condition=_kept_condition(bp.condition),
            command=bp.get_command(),
            data=bp.get_data_parameters() if break_type == DEBUG_BREAKPOINT_DATA else None,
            watched=bp.condition if isinstance(bp.condition, WatchedValue) else None,
        )

    def _symbolic(self, address: int) -> str:
        try:
            name, displacement = self.client.symbols.get_name_by_offset(address)
        except PydbgError:
            return ""
        if "!" not in name:
            return ""  # a module without a symbol there: keep the address
        return f"{name}+{displacement:#x}" if displacement else name

    def restart(self) -> None:
        """End the session, launch argv again, wait for the initial breakpoint and set the
        breakpoints again."""
        self.remember()
        control = self.client.control
        if control.get_execution_status() != DebugStatus.NO_DEBUGGEE:
            self.client.end_session(DebugEnd.ACTIVE_TERMINATE)
        self.start()
        self.on_restart()
        control.wait_for_event()
        for saved in self.saved:
            try:
                self._recreate(saved)
            except PydbgError as exc:
                self.client.output(
                    OutputMask.ERROR, f"pydbg: breakpoint {saved.id} was not set again: {exc}\n"
                )

    def _recreate(self, saved: SavedBreakpoint) -> None:
        bp = self.client.control.add_breakpoint(saved.break_type, saved.id)
        try:
            if saved.data is not None:
                bp.set_data_parameters(*saved.data)
            if saved.expression:
                bp.set_offset_expression(saved.expression)
            elif saved.address is not None:
                bp.set_offset(saved.address)
            if saved.pass_count != 1:
                bp.set_pass_count(saved.pass_count)
            if saved.condition is not None:
                bp.condition = saved.condition
            if saved.watched is not None:
                old = saved.watched
                inner = old.inner if isinstance(old.inner, (str, CCondition)) else None
                # The variable may have moved (a PIE loads elsewhere): its new address is
                # where the breakpoint was set again, from the symbolic expression.
                bp.condition = WatchedValue(
                    old.interp, old.expression, old.type, bp.get_offset(), old.access, inner
                )
            if saved.command:
                bp.set_command(saved.command)
            bp.add_flags(saved.flags)
        except BaseException:
            self.client.control.remove_breakpoint(bp)
            raise

    @classmethod
    def of(cls, client: DebugClient) -> Launch | None:
        return cls._by_client.get(id(client))


def _kept_condition(condition: object) -> str | CCondition | None:
    """A condition that holds in a new process as it is: MASM text, or C."""
    if isinstance(condition, WatchedValue):
        condition = condition.inner
    return condition if isinstance(condition, (str, CCondition)) else None


@command(
    ".restart",
    summary="Run the program again, with the same arguments and breakpoints",
    syntax=".restart",
    example=".restart",
)
def _restart(interp: Interpreter, rest: str) -> None:
    if rest.strip():
        raise CommandError(".restart takes no arguments")
    launch = Launch.of(interp.client)
    if launch is None:
        raise CommandError(".restart: no program was launched here (an attached process)")
    if interp.client.control.get_execution_status_ex() & DEBUG_STATUS_INSIDE_WAIT:
        raise CommandError(".restart cannot run inside a wait (a breakpoint or filter command)")
    launch.restart()
    interp.output_current_state()
