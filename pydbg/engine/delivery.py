"""Signal delivery (spec §5.3, §9.2): whether the signal behind a decided exception is
delivered at the next resume (not handled) or suppressed (handled), and the second chance
a not-handled first chance earns when it would kill its process.
"""

from __future__ import annotations

from pydbg.constants import (
    DebugStatus,
    FilterHandling,
)
from pydbg.engine import events as ev
from pydbg.engine.lifecycle import Lifecycle
from pydbg.engine.signals import earns_second_chance

# Members read on every decided event, as module constants: reading an attribute of an
# enum class goes through EnumType's __getattr__ hook (about 150 ns each on CPython 3.11).
_S_GO, _S_GO_HANDLED, _S_GO_NOT_HANDLED = (
    DebugStatus.GO,
    DebugStatus.GO_HANDLED,
    DebugStatus.GO_NOT_HANDLED,
)

_NOT_HANDLED_OPTION = FilterHandling.GO_NOT_HANDLED


class Delivery(Lifecycle):
    """Which signals the next resume delivers, and second chances."""

    def _not_handled(self, event: ev.ExceptionEvent, decision: DebugStatus) -> bool:
        if decision == _S_GO_HANDLED:
            return False
        if decision == _S_GO_NOT_HANDLED:
            return True
        if event.initial:
            return False
        assert event.record is not None
        _, params = self.filters.exception(event.record.exception_code)
        return params.continue_option == _NOT_HANDLED_OPTION

    def _handle_last_exception(self, not_handled: bool) -> None:
        """gh / gn after an exception broke in: decide its signal."""
        event = self.last_event
        if isinstance(event, ev.ExceptionEvent) and event.thread is not None and event.signo:
            self._set_delivery(event, not_handled)

    def _set_delivery(self, event: ev.ExceptionEvent, not_handled: bool) -> None:
        """Whether the signal behind an exception is delivered at the next resume."""
        assert event.thread is not None
        tid = event.thread.tid
        self._first_chance.pop(tid, None)
        if not not_handled:
            self._signals.pop(tid, None)
            return
        self._signals[tid] = event.signo
        if event.first_chance:
            self._first_chance[tid] = event

    def _second_chance_due(self) -> bool:
        """Before resuming: a first-chance signal passed on not handled that would kill its
        process unhandled is reported again, as a second chance, instead (§9.2)."""
        due = False
        for tid, event in list(self._first_chance.items()):
            del self._first_chance[tid]
            if self._signals.get(tid) != event.signo or not self._alive_tid(tid):
                continue
            if earns_second_chance(event.process.pid, event.signo):
                del self._signals[tid]
                self._events.append(
                    ev.ExceptionEvent(
                        event.process,
                        event.thread,
                        record=event.record,
                        first_chance=False,
                        signo=event.signo,
                    )
                )
                due = True
        return due
