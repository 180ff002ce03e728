"""The events a script sees: what `proc.cont()` returns and `proc.events()` yields.

Each is a frozen dataclass naming the thread it happened on (`tid`, 0 when the thread is
gone) and what a script wants to know about it, made from the DbgEng event the facets
report (pydbg.scripting.listener translates them):

    BreakpointHit   a breakpoint of `proc.breakpoint` (or any breakpoint of the client)
    WatchpointHit   a watchpoint of `proc.watch`, with the watched bytes before and after
    SignalEvent     a signal (DbgEng's Exception): its name, si_code, faulting address,
                    and whether this is the first chance (before the program sees it) or
                    the second (the program has no handler: delivering it kills)
    BreakIn         the engine's own stop: a break-in (`proc.interrupt()`), the initial
                    breakpoint
    ThreadCreated, ThreadExited, ModuleLoaded, ModuleUnloaded
    ProcessExited   the last event: exit_code as a shell reports it (128 + N for death by
                    signal N) and exit_signal (N, or None when it exited)
"""

from __future__ import annotations

import signal as _signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydbg.scripting.handles import BreakpointHandle
    from pydbg.scripting.process import Process

__all__ = [
    "BreakIn",
    "BreakpointHit",
    "Event",
    "ModuleLoaded",
    "ModuleUnloaded",
    "ProcessExited",
    "SignalEvent",
    "ThreadCreated",
    "ThreadExited",
    "WatchpointHit",
    "signal_name",
]


def signal_name(signo: int) -> str:
    """`SIGSEGV` for 11; `SIG42` for a number without a name (a real-time signal)."""
    try:
        return _signal.Signals(signo).name
    except ValueError:
        return f"SIG{signo}"


@dataclass(frozen=True)
class Event:
    """Base of the events: the thread it happened on (0 when no thread is left)."""

    tid: int


@dataclass(frozen=True)
class BreakpointHit(Event):
    """A breakpoint triggered at `pc`.  `breakpoint` is the handle `proc.breakpoint`
    returned (None for a breakpoint made through the client's facets); `process` is the
    process, for a callback that reads its registers and memory."""

    pc: int
    breakpoint: BreakpointHandle | None = field(default=None, compare=False)
    process: Process | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class WatchpointHit(BreakpointHit):
    """A watchpoint triggered: the access has happened and `pc` is the instruction after
    it.  `old` is the watched bytes at the previous hit (or when the watch was set), `new`
    what they are now (equal for a read)."""

    old: bytes = b""
    new: bytes = b""


@dataclass(frozen=True)
class SignalEvent(Event):
    """A signal reached the thread (DbgEng's Exception event).  `address` is the faulting
    address for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP (si_addr), None for other
    signals; `pc` where the thread is; `code` the si_code; `sender_pid` who sent it (0
    for faults); `first_chance` False when the program has no handler and delivering it
    will kill the process."""

    signal: int
    name: str
    code: int
    pc: int
    address: int | None
    first_chance: bool
    sender_pid: int = 0
    description: str = ""


@dataclass(frozen=True)
class BreakIn(Event):
    """The engine stopped the process on its own account: the initial breakpoint, a
    break-in asked for by `proc.interrupt()`."""

    pc: int
    description: str = ""


@dataclass(frozen=True)
class ThreadCreated(Event):
    """A new thread (`tid`) was created."""


@dataclass(frozen=True)
class ThreadExited(Event):
    """A thread (`tid`) is exiting (not reported for the last one: ProcessExited is)."""

    exit_code: int


@dataclass(frozen=True)
class ModuleLoaded(Event):
    """The dynamic loader mapped a module: its WinDbg-style name (`libc_so`), path, base
    and size."""

    name: str
    path: str
    base: int
    size: int


@dataclass(frozen=True)
class ModuleUnloaded(Event):
    """The dynamic loader unmapped a module (dlclose)."""

    name: str
    base: int


@dataclass(frozen=True)
class ProcessExited(Event):
    """The process has ended and is reaped.  exit_code as a shell reports it (128 + N
    when signal N killed it); exit_signal N, or None when it exited by itself."""

    pid: int
    exit_code: int
    exit_signal: int | None = None

    @property
    def signal_name(self) -> str | None:
        """`SIGSEGV` when a signal killed it, else None."""
        return None if self.exit_signal is None else signal_name(self.exit_signal)
