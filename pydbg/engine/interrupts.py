"""Interrupts (SetInterrupt / GetInterrupt, spec §4.4): the only calls any thread may
make, which set a flag and wake the wait; and the break-in the wait makes of an active
interrupt or a Ctrl-C (every thread stopped, a breakpoint exception reported).
"""

from __future__ import annotations

from pydbg.constants import (
    DebugInterrupt,
    DebugStatus,
)
from pydbg.engine import events as ev
from pydbg.engine.core import EngineCore
from pydbg.engine.signals import breakpoint_record
from pydbg.errors import (
    EngineError,
)


class Interrupts(EngineCore):
    """SetInterrupt, GetInterrupt and the break-in."""

    def set_interrupt(self, flags: int = DebugInterrupt.ACTIVE) -> None:
        """SetInterrupt; callable from any thread, returns at once."""
        if flags not in (DebugInterrupt.ACTIVE, DebugInterrupt.PASSIVE, DebugInterrupt.EXIT):
            raise EngineError(f"{flags} is not a DEBUG_INTERRUPT_* value")
        self._user_interrupt = True
        if flags == DebugInterrupt.PASSIVE:
            return
        if flags == DebugInterrupt.EXIT and not self.inside_wait:
            return  # behaves like PASSIVE without a wait (§4.4)
        if flags == DebugInterrupt.ACTIVE and self._status == DebugStatus.BREAK:
            return  # already suspended: only the user interrupt is registered
        if flags == DebugInterrupt.EXIT:
            self._interrupt_exit = True
        else:
            self._interrupt_active = True
        backend = self._backend
        if backend is not None and not backend.closed:
            backend.wake()

    def get_interrupt(self) -> bool:
        """GetInterrupt: whether a user interrupt is pending (and clear it)."""
        pending, self._user_interrupt = self._user_interrupt, False
        return pending

    def _break_in(self) -> None:
        """SetInterrupt(ACTIVE) or Ctrl-C: stop everything and report a break-in."""
        self._stop_all()
        thread = self.current if self.current is not None and self._alive(self.current) else None
        if thread is None:
            for candidate in self.targets.threads():
                if self._alive(candidate):
                    thread = candidate
                    break
        if thread is None:
            return
        try:
            pc = self.backend.get_pc(thread.tid)
        except OSError:
            pc = 0
        self._events.append(ev.ExceptionEvent(thread.process, thread, record=breakpoint_record(pc)))
