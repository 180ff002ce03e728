"""Ending every live session when the debugger process goes away (hazards §14.3, §16 #45).

When a tracer dies, the kernel detaches its attached tracees and lets them run, with every
int3 byte and debug register pydbg planted still in place: the next hit kills the target
with SIGTRAP.  (Launched targets die with their tracer anyway: PTRACE_O_EXITKILL.)  This
module owns the last chance to prevent that:

* an `atexit` hook: interpreter exit, including an unhandled exception in user code and an
  unhandled KeyboardInterrupt;
* handlers for SIGTERM and SIGHUP, and for a second SIGINT (the first one keeps its usual
  meaning: a break-in inside a wait, KeyboardInterrupt elsewhere).  The CLI installs them
  all (`install_handlers(sigint=True)`).  A library user gets the SIGTERM / SIGHUP ones when
  the first client is created from the main thread, and only for a signal whose
  disposition is still the default (the program's own handlers are never replaced; such a
  program calls `end_all_sessions()` from them, or ends its sessions itself).

Each hook ends every live engine the safe way, `Engine.abandon`: what pydbg launched is
killed, what it attached to is detached through the same native path as
`detach_processes` (every int3 removed, debug registers cleared, pending traps taken, pc
rewound; lifecycle.pyx).  A signal handler then lets the signal take its default action,
so the exit status is the usual one (killed by SIGTERM: 128+15 to a shell).

What cannot be saved:
* SIGKILL (or any other uncatchable death) of the debugger process: the kernel detaches
  attached targets with their int3 bytes in place, and they die at the next hit.
* An engine owned by a thread other than the main one: ptrace requests are only accepted
  from the tracing thread (hazards §1), while Python runs signal handlers and atexit hooks
  on the main thread.  Such an engine is skipped here; its thread must end its session
  (a `with pydbg.create_client() as client:` block does).  When that thread itself exits,
  the kernel detaches its tracees as it would for a killed debugger.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import weakref
from types import FrameType
from typing import Any, Protocol


class Abandonable(Protocol):
    """What ending a session here needs of an engine: its owner thread, and `abandon`."""

    owner: int

    def abandon(self) -> None: ...


__all__ = ["Abandonable", "end_all_sessions", "install_handlers", "register"]

_engines: weakref.WeakSet[Abandonable] = weakref.WeakSet()
_lock = threading.Lock()
_atexit_installed = False
_sigint_seen = False
_previous: dict[int, Any] = {}


def register(engine: Abandonable, *, default_handlers: bool = True) -> None:
    """Track a new engine.  With default_handlers, also take SIGTERM / SIGHUP if their
    disposition is still the default (and this is the main thread)."""
    global _atexit_installed
    with _lock:
        _engines.add(engine)
        if not _atexit_installed:
            atexit.register(end_all_sessions)
            _atexit_installed = True
    if default_handlers:
        install_handlers(only_default=True)


def end_all_sessions() -> None:
    """End every live session this thread may end (see the module docstring)."""
    me = threading.get_ident()
    for engine in list(_engines):
        if engine.owner != me:
            continue
        with contextlib.suppress(Exception):
            engine.abandon()


def install_handlers(*, sigint: bool = False, only_default: bool = False) -> None:
    """Install the SIGTERM and SIGHUP handlers (and, with sigint, the second-Ctrl-C one).
    only_default: leave alone a signal whose disposition is not SIG_DFL.  Only the main
    thread can install signal handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return
    wanted = [signal.SIGTERM, signal.SIGHUP] + ([signal.SIGINT] if sigint else [])
    for signo in wanted:
        current = signal.getsignal(signo)
        if current is _on_signal:
            continue
        if only_default and current is not signal.SIG_DFL:
            continue
        _previous[signo] = current
        signal.signal(signo, _on_signal)


def _on_signal(signo: int, frame: FrameType | None) -> None:
    global _sigint_seen
    if signo == signal.SIGINT and not _sigint_seen:
        # The first Ctrl-C means what it always means (a break-in inside a wait).
        _sigint_seen = True
        previous = _previous.get(signo)
        if callable(previous):
            previous(signo, frame)
            return
        raise KeyboardInterrupt
    # The handler may run inside a native wait (PyErr_CheckSignals on EINTR) or in the
    # middle of engine code: Engine.abandon works from the native table alone.
    end_all_sessions()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # Die of the signal, as without a handler: the usual exit status.
    signal.signal(signo, signal.SIG_DFL)
    os.kill(os.getpid(), signo)
    os._exit(128 + signo)  # (not reached: the signal is delivered to this thread first)
