"""Breakpoint and watchpoint handles: what `proc.breakpoint` and `proc.watch` return.

A handle is a thin view of one IDebugBreakpoint of the client (pydbg.breakpoints) plus the
script's callback.  `hits` is the breakpoint's own hit count (hits whose condition held,
whether or not the callback let the process go on), readable after the process ended;
`enabled` is the DEBUG_BREAKPOINT_ENABLED flag; `remove()` takes the breakpoint out of the
process, after which the handle keeps its last count and refuses to change.

Callbacks receive the hit (a BreakpointHit or WatchpointHit, with `.process`) while every
thread is stopped, so `proc.regs` and `proc.memory` work inside them.  What the callback
returns decides:

    None or False        the process goes on (the hit is counted, nothing stops)
    True                 the process stops: `proc.cont()` returns the hit
    a DebugStatus        used as the callback's DbgEng vote (GO_HANDLED, STEP_INTO, ...)

A handle without a callback stops the process at every hit.  An exception raised by a
callback stops the process too, and `proc.cont()` (or the step or wait that was running)
raises it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydbg.breakpoints import Breakpoint, RemovedBreakpointError
from pydbg.constants import DEBUG_BREAKPOINT_ENABLED, DEBUG_INVALID_OFFSET, DebugStatus

if TYPE_CHECKING:
    from pydbg.scripting.events import BreakpointHit

__all__ = ["BreakpointHandle", "Callback", "WatchpointHandle"]

# What a callback may return (see the module docstring).
Callback = Callable[["BreakpointHit"], "bool | DebugStatus | None"]


class BreakpointHandle:
    """One breakpoint of a script: `id`, `address`, `hits`, `enabled`, `remove()`."""

    def __init__(
        self,
        bp: Breakpoint,
        callback: Callback | None,
        hardware: bool,
        remover: Callable[[BreakpointHandle], None],
    ) -> None:
        self._bp = bp
        self.callback = callback
        self.hardware = hardware
        self._remover = remover  # the process's: it unplants the breakpoint if it can
        self._removed_hits: int | None = None

    def __repr__(self) -> str:
        where = f"{self.address:#x}" if self.address is not None else self._bp.expression
        state = "removed" if self.removed else "enabled" if self.enabled else "disabled"
        return f"<{type(self).__name__} {self.id} at {where} hits={self.hits} {state}>"

    @property
    def breakpoint(self) -> Breakpoint:
        """The IDebugBreakpoint behind the handle (pydbg.breakpoints), for what the
        handle does not offer: pass counts, match threads, commands."""
        return self._bp

    @property
    def id(self) -> int:
        return self._bp.get_id()

    @property
    def address(self) -> int | None:
        """Where it is planted; None while it waits for its module to load (a deferred
        `module!name`)."""
        offset = self._bp.get_offset()
        return None if offset == DEBUG_INVALID_OFFSET else offset

    @property
    def hits(self) -> int:
        """How many times a thread reached it with its condition true."""
        if self._removed_hits is not None:
            return self._removed_hits
        return self._bp.hit_count

    @property
    def removed(self) -> bool:
        return self._removed_hits is not None

    @property
    def enabled(self) -> bool:
        return not self.removed and bool(self._bp.get_flags() & DEBUG_BREAKPOINT_ENABLED)

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._check()
        if value:
            self._bp.add_flags(DEBUG_BREAKPOINT_ENABLED)
        else:
            self._bp.remove_flags(DEBUG_BREAKPOINT_ENABLED)

    def _check(self) -> None:
        if self.removed:
            raise RemovedBreakpointError(f"breakpoint {self.id} was removed")

    def remove(self) -> None:
        """Take it out of the process; `hits` keeps its last count.  Removing twice, or
        after the process ended, is allowed (nothing more happens)."""
        if self.removed:
            return
        hits = self._bp.hit_count
        self._remover(self)
        self._removed_hits = hits


class WatchpointHandle(BreakpointHandle):
    """A hardware data breakpoint: `size` bytes at `address`, `access` "w", "rw" or "x".
    `value` is what the watched bytes held at the last hit (or when it was set)."""

    def __init__(
        self,
        bp: Breakpoint,
        callback: Callback | None,
        remover: Callable[[BreakpointHandle], None],
        access: str,
        size: int,
        value: bytes,
    ) -> None:
        super().__init__(bp, callback, True, remover)
        self.access = access
        self.size = size
        self.value = value
