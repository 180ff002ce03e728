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
from collections.abc import Sequence
from typing import TYPE_CHECKING

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
    from pydbg.engine.backend import NativeEvent
    from pydbg.engine.session import Engine
    from pydbg.engine.targets import Process, Thread

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


# -- signals decided in Python -----------------------------------------------------------------

# Tracer.cont_wait's mask of the signals whose stop it may answer with facts (bit signo-1).
_SIMPLE_MASK = sum(1 << (s - 1) for s in CANDIDATES)


def _loop_fits(engine: Engine) -> bool:
    """Whether nothing but the signal loop's own target needs the general loop.  (Read
    again after every decision: a callback may have changed any of it.)"""
    notifier, table = engine.notifier, engine.breakpoints
    return not (
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
    )


def _single_thread(engine: Engine) -> tuple[Process, Thread] | None:
    """The one process and thread the signal loop runs, when nothing else needs the
    general loop; None otherwise."""
    processes = engine.targets.processes
    if len(processes) != 1 or not _loop_fits(engine):
        return None
    process = next(iter(processes.values()))
    if len(process.threads) != 1:
        return None
    thread = next(iter(process.threads.values()))
    return process, thread


def signal_go(engine: Engine, deadline: float | None) -> bool:
    """Run GO while every record is a signal of the one thread that the engine decides and
    resumes.  True if it broke in; False hands over to the general loop (with the record
    that did not fit queued, or the thread stopped after a decision it does not resume).

    Each round trip is one native call, Tracer.cont_wait, which answers the next signal
    stop of the thread with its facts (siginfo and pc); the exception is built from them
    by translate's own function, as the general path builds it from the record."""
    start = _single_thread(engine)
    if start is None:
        return False
    process, thread = start
    backend = engine.backend
    cont_wait = backend.cont_wait  # (bound once: this loop is hot)
    tid, pid = thread.tid, process.pid
    make_event, make_exception = translate._signal_event, translate.signal_exception
    decide = engine._decide
    signals = engine._signals
    threads = process.threads
    engine._resume()
    got: Sequence[NativeEvent] | tuple[int, int, int, int, int]
    try:
        got = backend.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
    except KeyboardInterrupt:
        engine._interrupt_active = True
        return False
    while True:
        if isinstance(got, tuple):
            # A simple signal of the thread, its facts read in its stop (records come in
            # a list).  The general loop would decide it before looking at interrupts, so
            # this does too.
            event = make_exception(process, thread, *got)
        else:
            if len(got) != 1 or engine._interrupt_active or engine._interrupt_exit:
                engine._records.extend(got)
                return False
            record = got[0]
            if record.kind != _KIND_SIGNAL or record.tid != tid or record.signal in _NOT_SIMPLE:
                engine._records.append(record)
                return False
            event = make_event(engine, process, thread, record)
        engine._running = False  # the only thread sits in its signal-delivery-stop
        if decide(event):
            engine._finish_break()
            return True
        # A not-handled first chance that would kill the process: the second chance is
        # reported by the general loop (the same rule function queues it).
        if engine._first_chance and engine._second_chance_due():
            return False
        # Resumed here only when the decision left nothing else to do than the general
        # loop's plain resume would: the signal to deliver (or not) is in _signals.
        sig = signals.pop(tid, 0)
        processes = engine.targets.processes
        if (
            len(processes) != 1
            or processes.get(pid) is not process
            or len(threads) != 1
            or threads.get(tid) is not thread
            or not _loop_fits(engine)
        ):
            if sig:
                signals[tid] = sig
            return False
        engine._running = True  # (before the call: an interrupt may end it after cont)
        try:
            got = cont_wait(
                tid,
                sig,
                None if deadline is None else max(0.0, deadline - time.monotonic()),
                _SIMPLE_MASK,
            )
        except KeyboardInterrupt:
            engine._interrupt_active = True
            return False


# -- signals the native core passes on -----------------------------------------------------------


def native_pass_signals(engine: Engine) -> dict[int, bool]:
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
