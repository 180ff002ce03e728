"""Deciding one event (spec §5): the current thread moves to it, the dispatcher asks the
filter, its command and the callbacks (pydbg.engine.dispatch), the votes cast by other
means (set_execution_status, commands) are combined in, the engine's own rules apply
(final break, an ended process discarded), and the result becomes the execution mode of
the next resume, or a break.
"""

from __future__ import annotations

from pydbg.constants import (
    DEBUG_CDS_ALL,
    DEBUG_CES_CURRENT_THREAD,
    DEBUG_CES_EXECUTION_STATUS,
    DebugEvent,
    DebugNotify,
    DebugStatus,
    EngineOptions,
    OutputMask,
)
from pydbg.engine import events as ev
from pydbg.engine.dispatch import describe
from pydbg.engine.resuming import Resuming
from pydbg.log import ENGINE as _LOG

_RUNNING = frozenset(
    {DebugStatus.GO, DebugStatus.STEP_INTO, DebugStatus.STEP_OVER, DebugStatus.STEP_BRANCH}
)

_BREAK = int(DebugStatus.BREAK)

_CHANGE_ENGINE_STATE = int(DebugEvent.CHANGE_ENGINE_STATE)

_STATE_CHANGES = _CHANGE_ENGINE_STATE | int(DebugEvent.CHANGE_DEBUGGEE_STATE)

_GO_FAMILY = frozenset({DebugStatus.GO, DebugStatus.GO_HANDLED, DebugStatus.GO_NOT_HANDLED})

# Members read on every decided event, as module constants: reading an attribute of an
# enum class goes through EnumType's __getattr__ hook (about 150 ns each on CPython 3.11).
_S_GO, _S_GO_HANDLED, _S_GO_NOT_HANDLED = (
    DebugStatus.GO,
    DebugStatus.GO_HANDLED,
    DebugStatus.GO_NOT_HANDLED,
)

_S_BREAK, _S_RESTART = DebugStatus.BREAK, DebugStatus.RESTART_REQUESTED

_S_QUIET = (DebugStatus.NO_CHANGE, DebugStatus.IGNORE_EVENT)

_EXCEPTION_EVENT, _EXIT_PROCESS = ev.ExceptionEvent, ev.ExitProcess


class Deciding(Resuming):
    """The decision step of the event path."""

    def _decide(self, event: ev.Event) -> bool:
        """Decide one event; True when the engine breaks in."""
        if self._running:
            self._stop_all()
        # The event's thread becomes current (or, if it is gone, a live one of its process).
        thread = event.thread
        if thread is None or self.targets.thread(thread.tid) is not thread:  # (_alive)
            live = [t for t in event.process.threads.values() if self._alive(t)]
            thread = live[0] if live else thread
        self.event_thread = thread
        if thread is not None and thread is not self.current:
            self.current = thread
            self.notifier.engine_state(DEBUG_CES_CURRENT_THREAD, thread.engine_id)
        self.last_event = event
        if self._votes:
            self._votes = []
        self._step_mode = None
        if self._log:
            _LOG.debug(
                "event %s [tid %d]", describe(event), event.thread.tid if event.thread else 0
            )
        return self._conclude(event, self.dispatcher.decide(event))

    def _conclude(self, event: ev.Event, decision: DebugStatus) -> bool:
        """What the dispatcher decided, with what the callbacks asked for by other means
        (set_execution_status, commands) and the engine's own rules, applied: the signal's
        delivery, then the execution mode of the next resume; True when it breaks.
        (Every decision goes through here, the fast GO loop's too.  One step, not two
        calls: this is every signal's path.)"""
        if self._votes:  # set_execution_status / commands called from the callbacks
            from pydbg.status import combine

            decision = combine([decision, *self._votes])
            if self._log:
                _LOG.debug("vote with set_execution_status/commands -> %s", decision.name)
        if isinstance(event, _EXCEPTION_EVENT):
            if event.signo and event.thread is not None:
                # Decided now even when breaking: a later plain `g` applies the filter's
                # continue option, `gh` / `gn` override it (_handle_last_exception).
                not_handled = self._not_handled(event, decision)
                if not_handled or self._signals or self._first_chance:  # (else: nothing to undo)
                    self._set_delivery(event, not_handled)
        elif isinstance(event, _EXIT_PROCESS):
            if event.gone:
                self._discard.append(event.process)
            elif self._options & EngineOptions.FINAL_BREAK:
                decision = DebugStatus.BREAK
        if decision in _GO_FAMILY:  # (the common decision, tested first)
            # What _arm(GO) does: no step plan any more.
            if self._plan is not None:
                self._cancel_plan()
            self._step_count = 1
            if self._status != _S_GO:
                self._report_status(_S_GO)
            return False
        if decision == _S_BREAK:
            self._cancel_plan()
            return True
        elif decision == _S_RESTART:
            self.output(OutputMask.WARNING, "pydbg: restart is not supported; breaking in\n")
            self._cancel_plan()
            return True
        elif decision in _S_QUIET:
            if self._status not in _RUNNING:
                # Nobody asked for anything and nothing was in progress: go (§4.6).
                self._report_status(_S_GO)
            return False
        else:
            new = decision
        self._arm(new, self._step_count)
        self._step_count = 1
        if new != self._status:
            self._report_status(new)
        return False

    def _finish_break(self) -> None:
        if self._log:
            _LOG.debug("break: the wait returns, every target thread stopped")
        self._status = _S_BREAK
        notifier = self.notifier
        if notifier.interests & _STATE_CHANGES:
            notifier.engine_state(DEBUG_CES_EXECUTION_STATUS, _BREAK)
            notifier.debuggee_state(DEBUG_CDS_ALL, 0)
        if notifier.extensions:
            notifier.extensions_notify(DebugNotify.SESSION_ACCESSIBLE)
