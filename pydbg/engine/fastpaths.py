"""Fast paths of WaitForEvent that skip work, never rules: signals decided in Python, and
the set of signals the native core passes on without reporting them.

`signal_go` is GO in one single-threaded process without breakpoints, while its signals
are exceptions that clients' exception callbacks decide: a tight loop of wait, one
signal-delivery-stop, decide, resume.  What it skips is what the general loop does for
nothing there: the event queue, stopping other threads (there are none), the resume's
bookkeeping of breakpoint sites (there are none) and of other threads' signals.  What it
keeps is every rule: the exception is built by the same function as on the general path
(translate), decided by the engine's one decision (`Engine._decide`: filter, filter
command, callbacks, votes of set_execution_status, delivery handled / not handled), and any
outcome the loop does not resume by itself (a break, a step, a second chance due, a
change of state made by a callback) hands over to the general loop with the thread
stopped, as if the general loop had decided the event.

`native_pass_signals` computes the signals the native wait loop delivers straight back
(or suppresses) without reporting them, like gdb's `handle SIG nostop noprint pass`: a
signal whose filter neither breaks nor prints nor runs a command, when no client callback
is interested in exceptions, no step plan is active and nobody listens to state changes,
so that deciding it in Python could only ever end in the same resume.  The delivery is the
filter's continue option (handled: suppressed; not handled: delivered, §5.3 / §9.2), and a
signal whose not-handled delivery would earn a second chance (signals.earns_second_chance)
is never passed natively: the engine must see it to report the second chance.
"""

from __future__ import annotations

import signal as _signal
import time
from typing import TYPE_CHECKING, Protocol

from pydbg._native import EventKind
from pydbg.constants import (
    DebugEvent,
    DebugStatus,
    FilterHandling,
    FilterStatus,
)
from pydbg.engine import translate
from pydbg.engine.signals import earns_second_chance, exception_code

if TYPE_CHECKING:
    from collections import deque
    from collections.abc import Set

    from pydbg.engine import events as ev
    from pydbg.engine.backend import Backend, NativeEvent
    from pydbg.engine.breakpoints import BreakpointTable
    from pydbg.engine.notify import Notifier
    from pydbg.engine.stepping import StepPlan
    from pydbg.engine.targets import Process, TargetTable, Thread
    from pydbg.filters import EventFilters

__all__ = ["native_pass_signals", "signal_go"]

_KIND_SIGNAL = EventKind.SIGNAL
_GO = DebugStatus.GO
_EXCEPTION = int(DebugEvent.EXCEPTION)
_STATE_CHANGES = int(DebugEvent.CHANGE_ENGINE_STATE) | int(DebugEvent.CHANGE_DEBUGGEE_STATE)

# Signals neither path may take: a SIGTRAP is a breakpoint, step or foreign int3 (its
# meaning depends on the siginfo); stop signals are group-stop business (PTRACE_LISTEN);
# faults map to codes that depend on si_code and re-fault at once when suppressed.
_NOT_SIMPLE = frozenset(
    {
        _signal.SIGTRAP,
        _signal.SIGSTOP,
        _signal.SIGTSTP,
        _signal.SIGTTIN,
        _signal.SIGTTOU,
        _signal.SIGKILL,
        _signal.SIGSEGV,
        _signal.SIGBUS,
        _signal.SIGILL,
        _signal.SIGFPE,
    }
)
# Every signal the native pass may be given (1..SIGRTMAX less the above).
CANDIDATES = tuple(s for s in range(1, _signal.SIGRTMAX + 1) if s not in _NOT_SIMPLE)


class PassSource(Protocol):
    """What the native pass set is computed from."""

    @property
    def _plan(self) -> StepPlan | None: ...
    @property
    def notifier(self) -> Notifier: ...
    @property
    def filters(self) -> EventFilters: ...
    @property
    def targets(self) -> TargetTable: ...
    @property
    def shadows(self) -> Set[int]: ...


class Wait(PassSource, Protocol):
    """The wait the signal loop runs inside (pydbg.engine.waiting): its queues, its
    interrupt flags and its decide / resume / break steps.  The loop is the wait's own
    shortcut, so it sees the wait's state; it does not see the rest of the session."""

    _running: bool
    _interrupt_active: bool

    @property
    def _status(self) -> DebugStatus: ...
    @property
    def _signals(self) -> dict[int, int]: ...
    @property
    def _listen(self) -> Set[int]: ...
    @property
    def _first_chance(self) -> dict[int, ev.ExceptionEvent]: ...
    @property
    def _events(self) -> deque[ev.Event]: ...
    @property
    def _records(self) -> deque[NativeEvent]: ...
    @property
    def _discard(self) -> list[Process]: ...
    @property
    def _pending_announce(self) -> list[tuple[Process, bool]]: ...
    @property
    def _interrupt_exit(self) -> bool: ...
    @property
    def resumed_on_site(self) -> dict[int, int]: ...
    @property
    def breakpoints(self) -> BreakpointTable: ...
    @property
    def backend(self) -> Backend: ...

    def _resume(self) -> NativeEvent | None: ...
    def _decide(self, event: ev.Event) -> bool: ...
    def _finish_break(self) -> None: ...
    def _second_chance_due(self) -> bool: ...


# -- signals decided in Python -----------------------------------------------------------------


def _single_thread(engine: Wait) -> tuple[Process, Thread] | None:
    """The one process and thread the signal loop runs, when nothing else needs the
    general loop; None otherwise.  (Read again after every decision: a callback may have
    changed any of it.)"""
    notifier, table = engine.notifier, engine.breakpoints
    if (
        engine._status != _GO
        or engine._plan is not None
        or engine._signals
        or engine._listen
        or engine._first_chance
        or engine._events
        or engine._records
        or engine._discard
        or engine._pending_announce
        or engine._interrupt_active
        or engine._interrupt_exit
        or engine.resumed_on_site
        or table.sites
        or table.hw_sites
        or notifier.extensions
        or notifier.interests & _STATE_CHANGES
        or not notifier.interests & _EXCEPTION
        or len(engine.targets.processes) != 1
    ):
        return None
    process = next(iter(engine.targets.processes.values()))
    if len(process.threads) != 1:
        return None
    thread = next(iter(process.threads.values()))
    return process, thread


def signal_go(engine: Wait, deadline: float | None) -> bool:
    """Run GO while every record is a signal of the one thread that the engine decides and
    resumes.  True if it broke in; False hands over to the general loop (with the record
    that did not fit queued, or the thread stopped after a decision it does not resume)."""
    start = _single_thread(engine)
    if start is None:
        return False
    process, thread = start
    backend = engine.backend
    collect, cont = backend.wait, backend.cont  # (bound once: this loop is hot)
    tid = thread.tid
    make_event, decide = translate._signal_event, engine._decide
    signals = engine._signals
    engine._resume()
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            records = collect(remaining)
        except KeyboardInterrupt:
            engine._interrupt_active = True
            return False
        if len(records) != 1 or engine._interrupt_active or engine._interrupt_exit:
            engine._records.extend(records)
            return False
        record = records[0]
        if record.kind != _KIND_SIGNAL or record.tid != tid or record.signal in _NOT_SIMPLE:
            engine._records.append(record)
            return False
        engine._running = False  # the only thread sits in its signal-delivery-stop
        if decide(make_event(backend, process, thread, record)):
            engine._finish_break()
            return True
        # A not-handled first chance that would kill the process: the second chance is
        # reported by the general loop (the same rule function queues it).
        if engine._first_chance and engine._second_chance_due():
            return False
        # Resumed here only when the decision left nothing else to do than the general
        # loop's plain resume would: the signal to deliver (or not) is in _signals.
        sig = signals.pop(tid, 0)
        if _single_thread(engine) is None:
            if sig:
                signals[tid] = sig
            return False
        cont(tid, sig)
        engine._running = True


# -- signals the native core passes on -----------------------------------------------------------


def native_pass_signals(engine: PassSource) -> dict[int, bool]:
    """signal -> deliver it (True: not handled) for every signal the native wait loop may
    pass on without reporting it (module docstring).  Empty whenever anything could make
    a difference to deciding it in Python."""
    notifier = engine.notifier
    if (
        engine._plan is not None
        or notifier.interests & (_EXCEPTION | _STATE_CHANGES)
        or notifier.extensions
    ):
        return {}
    filters = engine.filters
    pids = list(engine.targets.processes)
    out: dict[int, bool] = {}
    for signo in CANDIDATES:
        _, params = filters.exception(exception_code(signo))
        if params.execution_option != FilterStatus.IGNORE or params.command:
            continue
        deliver = params.continue_option == FilterHandling.GO_NOT_HANDLED
        # A vfork child nobody debugs shares the core's set, but the engine always
        # delivers its signals (translate._shadow): no suppressing while one exists.
        if not deliver and engine.shadows:
            continue
        # A delivery that could earn a second chance must be seen by the engine.
        if deliver and any(earns_second_chance(pid, signo) for pid in pids):
            continue
        out[signo] = deliver
    return out
