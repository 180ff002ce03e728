"""Fast paths of WaitForEvent that skip work, never rules: signals decided in Python,
syscall stops decided in Python (`syscall_go`, on the same pattern as `signal_go`), and the
set of signals the native core passes on without reporting them.

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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from pydbg._native import EventKind
from pydbg.constants import (
    DebugEvent,
    DebugStatus,
    FilterHandling,
    FilterStatus,
)
from pydbg.engine import syscalls, translate
from pydbg.engine.signals import earns_second_chance, exception_code

if TYPE_CHECKING:
    from collections import deque
    from collections.abc import Set

    from pydbg.engine import events as ev
    from pydbg.engine.backend import Backend, NativeEvent
    from pydbg.engine.breakpoints import BreakpointTable
    from pydbg.engine.notify import Notifier
    from pydbg.engine.stepping import StepPlan
    from pydbg.engine.targets import Process, TargetTable
    from pydbg.filters import EventFilters

__all__ = ["native_pass_signals", "signal_go", "syscall_go"]

_KIND_SIGNAL = EventKind.SIGNAL
_KIND_SYSCALL = EventKind.SYSCALL
_GO = DebugStatus.GO
_EXCEPTION = int(DebugEvent.EXCEPTION)
_SYSCALL = int(DebugEvent.SYSCALL)
_STATE_CHANGES = int(DebugEvent.CHANGE_ENGINE_STATE) | int(DebugEvent.CHANGE_DEBUGGEE_STATE)
# The interests signal_go reads: exceptions wanted, state changes and syscalls not.
_SIGNAL_GO_BITS = _STATE_CHANGES | _EXCEPTION | _SYSCALL

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
    syscall_counting: bool
    syscall_counted: dict[int, int]
    _filters_version: int

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

# Tracer.cont_wait's mask of the signals whose stop it may answer with facts (bit signo-1).
_SIMPLE_MASK = sum(1 << (s - 1) for s in CANDIDATES)


def signal_go(engine: Wait, deadline: float | None) -> bool:
    """Run GO while every record is a signal of the one thread that the engine decides and
    resumes.  True if it broke in; False hands over to the general loop (with the record
    that did not fit queued, or the thread stopped after a decision it does not resume).

    Each round trip is one native call, Tracer.cont_wait, which answers the next signal
    stop of the thread with its facts (siginfo and pc); the exception is built from them
    by translate's own function, as the general path builds it from the record."""
    processes = engine.targets.processes
    if len(processes) != 1:
        return False
    process = next(iter(processes.values()))
    threads = process.threads
    if len(threads) != 1:
        return False
    thread = next(iter(threads.values()))
    pid, tid = process.pid, thread.tid
    notifier, table = engine.notifier, engine.breakpoints
    # Containers the engine mutates and never replaces (as its own fast loops rely on):
    # bound once, tested every round.
    signals, listen, first_chance = engine._signals, engine._listen, engine._first_chance
    events, records, discard = engine._events, engine._records, engine._discard
    pending, resumed = engine._pending_announce, engine.resumed_on_site
    sites, hw_sites, extensions = table.sites, table.hw_sites, notifier.extensions
    backend = engine.backend
    cont_wait = backend.cont_wait  # (bound once: this loop is hot)
    make_event, decide = translate.signal_exception, engine._decide
    sig = 0
    started = False
    got: Sequence[NativeEvent] | tuple[int, int, int, int, int] = []
    # cont_wait resumes with PTRACE_CONT only: not while syscalls are traced.  Asked once;
    # each round then only tests that what syscalls.tracing reads has not changed.
    if syscalls.tracing(engine):
        return False
    filters_version = engine._filters_version
    while True:
        # The loop's one condition, before the first resume and after every decision (a
        # callback may have changed any of it): nothing but this thread's signals needs
        # the general loop.
        if (
            notifier.interests & _SIGNAL_GO_BITS != _EXCEPTION
            or engine._status != _GO
            or engine._plan is not None
            or signals
            or listen
            or first_chance
            or events
            or records
            or discard
            or pending
            or engine._interrupt_active
            or engine._interrupt_exit
            or resumed
            or sites
            or hw_sites
            or extensions
            or len(processes) != 1
            or processes.get(pid) is not process
            or len(threads) != 1
            or threads.get(tid) is not thread
            or engine.syscall_counting
            or engine._filters_version != filters_version
        ):
            if sig:
                signals[tid] = sig
            return False
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            if started:
                engine._running = True  # (before the call: an interrupt may end it later)
                got = cont_wait(tid, sig, remaining, _SIMPLE_MASK)
            else:
                engine._resume()
                started = True
                got = backend.wait(remaining)
        except KeyboardInterrupt:
            engine._interrupt_active = True
            return False
        if isinstance(got, tuple):
            # A simple signal of the thread, its facts read in its stop (records come in
            # a list).  The general loop would decide it before looking at interrupts, so
            # this does too.
            event = make_event(process, thread, got)
        else:
            if len(got) != 1 or engine._interrupt_active or engine._interrupt_exit:
                records.extend(got)
                return False
            record = got[0]
            if record.kind != _KIND_SIGNAL or record.tid != tid or record.signal in _NOT_SIMPLE:
                records.append(record)
                return False
            event = translate._signal_event(backend, process, thread, record)
        engine._running = False  # the only thread sits in its signal-delivery-stop
        if decide(event):
            engine._finish_break()
            return True
        # A not-handled first chance that would kill the process: the second chance is
        # reported by the general loop (the same rule function queues it).
        if first_chance and engine._second_chance_due():
            return False
        # Resumed here only when the decision left nothing else to do than the general
        # loop's plain resume would: the signal to deliver (or not) is in _signals.
        sig = signals.pop(tid, 0)


# -- syscall stops decided in Python -----------------------------------------------------------


def syscall_go(engine: Wait, deadline: float | None) -> bool:
    """Run GO while every record is a syscall stop of the one thread, each decided by the
    engine (callbacks, the `sys` filter rows) and resumed with PTRACE_SYSCALL.  True if it
    broke in; False hands over to the general loop, as signal_go does.

    What it skips is what the general loop does for nothing there: the event queue, the
    stop-all (there is no other thread), the resume's bookkeeping of breakpoint sites
    (there are none, so the trap ledger has nothing to note) and of signals.  What it keeps
    is every rule: the event is built by syscalls.syscall_event, counted by
    syscalls.count_reported, decided by `Engine._decide`, and the loop runs only while
    everything syscalls.decide (the one rule of who is traced and what is reported) reads
    is what it was when the loop began; anything else returns to the general loop."""
    processes = engine.targets.processes
    if len(processes) != 1 or engine._running:
        return False
    process = next(iter(processes.values()))
    threads = process.threads
    if len(threads) != 1:
        return False
    thread = next(iter(threads.values()))
    pid, tid = process.pid, thread.tid
    tracing = syscalls.decide(engine)
    if tid not in tracing.threads:
        return False
    # What syscalls.decide reads besides the one thread (checked below): while these stay
    # the same, so does its decision, and the loop need not ask it again each round.
    inputs = (engine.notifier.interests, engine._filters_version, engine.syscall_counting)
    notifier, table = engine.notifier, engine.breakpoints
    signals, listen, first_chance = engine._signals, engine._listen, engine._first_chance
    events, records, discard = engine._events, engine._records, engine._discard
    pending, resumed = engine._pending_announce, engine.resumed_on_site
    sites, hw_sites, extensions = table.sites, table.hw_sites, notifier.extensions
    backend = engine.backend
    collect, resume = backend.wait, backend.syscall  # (bound once: this loop is hot)
    make_event, count, decide = syscalls.syscall_event, syscalls.count_reported, engine._decide
    started = False
    while True:
        # The loop's one condition, before the first resume and after every decision.
        if (
            engine._status != _GO
            or engine._plan is not None
            or signals
            or listen
            or first_chance
            or events
            or records
            or discard
            or pending
            or engine._interrupt_active
            or engine._interrupt_exit
            or resumed
            or sites
            or hw_sites
            or extensions
            or notifier.interests & _STATE_CHANGES
            or len(processes) != 1
            or processes.get(pid) is not process
            or len(threads) != 1
            or threads.get(tid) is not thread
            or (notifier.interests, engine._filters_version, engine.syscall_counting) != inputs
        ):
            return False
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            engine._running = True  # (before the calls: an interrupt may end it later)
            if started:
                resume(tid)
            else:
                engine._resume()  # (sets the core's syscall pass as the rule says)
                started = True
            got = collect(remaining)
        except KeyboardInterrupt:
            engine._interrupt_active = True
            return False
        if len(got) != 1 or engine._interrupt_active or engine._interrupt_exit:
            records.extend(got)
            return False
        record = got[0]
        if record.kind != _KIND_SYSCALL or record.tid != tid:
            records.append(record)
            return False
        engine._running = False  # the only thread sits in its syscall stop
        count(engine, record)
        if decide(make_event(backend, process, thread, record)):
            engine._finish_break()
            return True


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
