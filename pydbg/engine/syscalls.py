"""Syscall events (a pydbg extension): which threads run under PTRACE_SYSCALL, how a
syscall stop becomes a `SyscallEvent`, and the line that describes one.

Who is traced is decided in one place, `decide`, at every resume (the general loop's and
a step plan's): when any client's interest mask has DEBUG_EVENT_SYSCALL, any syscall filter
row breaks, prints or runs a command, or syscall counting is on (Control.
set_syscall_counting), every thread of the session's processes runs under PTRACE_SYSCALL;
otherwise none does, and resuming is the plain PTRACE_CONT it always was (no syscall stop,
no cost).  The same function says which stops the native core must report: all of them
when a callback listens, else only those of the numbers a filter row wants; the core
resumes the others at once and counts their entries (Tracer.set_syscall_pass, as it passes
ignored signals), so `sxe sys:openat` costs a kernel round trip per other call, not a trip
through Python.  The fast loops (waiting._fast_go, fastpaths.signal_go) resume with
PTRACE_CONT only, so they step aside while tracing is on.

The native core starts every tracee with PTRACE_O_TRACESYSGOOD, so a syscall stop is
SIGTRAP|0x80 and decodes as a SYSCALL record, never as a SIGTRAP signal (hazards §3, §4).
Entry or exit is PTRACE_GET_SYSCALL_INFO's `op`, not parity kept here: parity breaks when
tracing starts while a thread sits in a blocking call (its first stop is an exit) and
across exec (the execve exit stop follows the EXEC event).  Should the kernel not say, the
thread's recorded entry decides.  An exit's record has no number or arguments: they are
the entry's (Thread.syscall_entry), or orig_rax and the argument registers (unchanged by
the kernel) when the entry was not seen: after an exec those are the new image's (a launch
whose initial break sits in the exec stop sees its own execve's exit first, with zeros).
A signal during a blocked call keeps the order entry, exit (-ERESTART*),
signal-delivery-stop, handler, restart: each one is an event.
"""

from __future__ import annotations

import errno
import operator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from pydbg.addresses import hex64
from pydbg.constants import DebugEvent
from pydbg.engine import events as ev
from pydbg.filters import syscall_name
from pydbg.syscall_table import SYSCALLS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydbg._native import Regs
    from pydbg.engine.backend import Backend, NativeEvent
    from pydbg.engine.notify import Notifier
    from pydbg.engine.targets import Process, TargetTable, Thread
    from pydbg.filters import EventFilters

__all__ = [
    "Tracing",
    "count_reported",
    "counts",
    "decide",
    "describe_syscall",
    "syscall_event",
    "tracing",
]

_SYSCALL_BIT = int(DebugEvent.SYSCALL)
_ENTRY, _EXIT = 1, 2  # PTRACE_SYSCALL_INFO_ENTRY / _EXIT
# The x86_64 syscall argument registers, in order (syscall(2)).
_ARGUMENT_REGISTERS = ("rdi", "rsi", "rdx", "r10", "r8", "r9")
_ARGUMENT_VALUES = operator.attrgetter(*_ARGUMENT_REGISTERS)
# Calls whose arguments at these positions are paths, shown as strings in the event's line.
_STRING_ARGS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(
        ("open", "stat", "lstat", "access", "execve", "truncate", "chdir", "mkdir", "rmdir",
         "creat", "unlink", "readlink", "chmod", "chown", "lchown", "statfs", "chroot",
         "acct", "swapon", "swapoff", "uselib", "utime", "utimes", "mknod"),
        (0,),
    ),
    **dict.fromkeys(
        ("openat", "newfstatat", "unlinkat", "readlinkat", "faccessat", "faccessat2",
         "mkdirat", "mknodat", "fchownat", "fchmodat", "fchmodat2", "futimesat",
         "utimensat", "execveat", "statx", "openat2", "open_tree", "inotify_add_watch"),
        (1,),
    ),
    **dict.fromkeys(("rename", "link", "symlink", "pivot_root"), (0, 1)),
    **dict.fromkeys(("renameat", "renameat2", "linkat"), (1, 3)),
    "symlinkat": (0, 2),
    "mount": (0, 1, 2),
    "umount2": (0,),
}  # fmt: skip
_STRING_MAX = 96  # longer strings are cut, with "..."
# The kernel's restart codes (-ERESTARTSYS ... -ERESTART_RESTARTBLOCK), shown by name.
_RESTARTS = {-512: "ERESTARTSYS", -513: "ERESTARTNOINTR", -514: "ERESTARTNOHAND",
             -516: "ERESTART_RESTARTBLOCK"}  # fmt: skip


class TraceSource(Protocol):
    """What the decision is made from."""

    syscall_counting: bool
    syscall_counted: dict[int, int]

    @property
    def notifier(self) -> Notifier: ...
    @property
    def filters(self) -> EventFilters: ...
    @property
    def targets(self) -> TargetTable: ...


@dataclass(frozen=True, slots=True)
class Tracing:
    """How the next resume traces system calls."""

    threads: frozenset[int]  # the tids resumed with PTRACE_SYSCALL (empty: plain PTRACE_CONT)
    report: frozenset[int] | None  # numbers the core must report; the rest it passes on
    #                                 and counts (Tracer.set_syscall_pass); None: all


_OFF = Tracing(frozenset(), None)


def decide(engine: TraceSource) -> Tracing:
    """The one rule (module docstring): who runs under PTRACE_SYSCALL, and which syscall
    stops the native core must report rather than pass on.  Everything is reported when a
    client listens (its callback hears every call) or the `sys` row wants every call;
    otherwise only the numbers of the rows that break, print or run a command (none when
    only counting)."""
    listening = bool(engine.notifier.interests & _SYSCALL_BIT)
    rows = engine.filters.syscalls_wanted()
    if not (listening or rows or engine.syscall_counting):
        return _OFF
    threads = frozenset(engine.targets.thread_ids())
    if listening:
        return Tracing(threads, None)
    wanted = engine.filters.syscall_rows_wanted() if rows else frozenset()
    return Tracing(threads, wanted)


def tracing(engine: TraceSource) -> bool:
    """Will the next resume trace syscalls (decide's first test, for the fast loops that
    only resume with PTRACE_CONT)?"""
    return (
        bool(engine.notifier.interests & _SYSCALL_BIT)
        or engine.syscall_counting
        or engine.filters.syscalls_wanted()
    )


def count_reported(engine: TraceSource, record: NativeEvent) -> None:
    """Syscall counting (Control.set_syscall_counting): count the entry of a syscall stop
    the core reported (it counts those it passes on itself)."""
    if engine.syscall_counting and record.syscall_op == _ENTRY:
        counted = engine.syscall_counted
        counted[record.syscall_nr] = counted.get(record.syscall_nr, 0) + 1


def syscall_event(
    backend: Backend, process: Process, thread: Thread, record: NativeEvent
) -> ev.SyscallEvent:
    """The event of a syscall stop (module docstring for entry / exit)."""
    op = record.syscall_op
    is_exit = op == _EXIT if op in (_ENTRY, _EXIT) else thread.syscall_entry is not None
    entry = thread.syscall_entry
    thread.syscall_entry = None
    result: int | None = None
    if is_exit:
        if op == _EXIT:
            result = record.syscall_ret
        if entry is None or result is None:
            regs = _registers(backend, thread.tid)
            if entry is None:
                number = _signed(regs.orig_rax) if regs is not None else -1
                entry = (number, _arguments(number, regs))
            if result is None:
                result = _signed(regs.rax) if regs is not None else 0
        number, arguments = entry
    else:
        if op == _ENTRY:
            number = record.syscall_nr
            # (No register read for a call without arguments: getpid costs none.)
            regs = _registers(backend, thread.tid) if _count(number) else None
        else:
            regs = _registers(backend, thread.tid)
            number = _signed(regs.orig_rax) if regs is not None else -1
        arguments = _arguments(number, regs)
        thread.syscall_entry = (number, arguments)
    name = syscall_name(number)
    return ev.SyscallEvent(
        process,
        thread,
        number=number,
        name=name,
        arguments=arguments,
        is_exit=is_exit,
        result=result,
        read_string=partial(_c_string, backend, process.pid) if name in _STRING_ARGS else None,
    )


def _c_string(backend: Backend, pid: int, address: int) -> str | None:
    if not address:
        return None
    try:
        data = backend.read_memory(pid, address, _STRING_MAX + 1, partial=True)
    except OSError:
        return None
    text, nul, _ = data.partition(b"\0")
    if not text and not nul:
        return None  # nothing readable there
    shown = text[:_STRING_MAX].decode("utf-8", "backslashreplace")
    return shown if nul else shown + "..."  # (no NUL within _STRING_MAX bytes: cut)


def _registers(backend: Backend, tid: int) -> Regs | None:
    try:
        return backend.get_regs(tid)
    except OSError:
        return None  # gone meanwhile (a group exit): its exit report follows


def _count(number: int) -> int:
    known = SYSCALLS.get(number)
    return known[1] if known is not None else len(_ARGUMENT_REGISTERS)


def _arguments(number: int, regs: Regs | None) -> tuple[int, ...]:
    count = _count(number)
    if not count:
        return ()
    if regs is None:
        return (0,) * count
    values: tuple[int, ...] = _ARGUMENT_VALUES(regs)
    return values[:count]


def _signed(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def describe_syscall(event: ev.SyscallEvent) -> str:
    """`Syscall openat(0xffffff9c, 0x5581c0a0 "/etc/hosts", 0x0, 0x0)` at an entry (path
    arguments shown as strings when readable); at an exit the same with ` = 3`,
    ` = 0x7f3a1c000000` (large values in hex) or ` = -2 (ENOENT)`."""
    strings = _STRING_ARGS.get(event.name, ()) if event.read_string is not None else ()
    shown_args = []
    for index, value in enumerate(event.arguments):
        text = event.read_string(value) if index in strings and event.read_string else None
        shown_args.append(f"{value:#x}" if text is None else f"{value:#x} {_quote(text)}")
    arguments = ", ".join(shown_args)
    text = f"Syscall {event.name}({arguments})"
    result = event.result
    if not event.is_exit or result is None:
        return text
    if -4096 < result < 0:
        shown = f"{result} ({_RESTARTS.get(result) or errno.errorcode.get(-result, '?')})"
    elif 0 <= result < 1 << 16:
        shown = str(result)
    else:
        shown = hex64(result)
    return f"{text} = {shown}"


def counts(native: Mapping[int, int], reported: Mapping[int, int]) -> dict[str, int]:
    """Syscall entries counted since counting began, by name: those the core passed on
    (`native`: Tracer.syscall_counts) plus those reported to the engine (`reported`)."""
    total: dict[str, int] = {}
    for number in set(native) | set(reported):
        name = syscall_name(number)
        total[name] = total.get(name, 0) + native.get(number, 0) + reported.get(number, 0)
    return total


def _quote(text: str) -> str:
    """A string argument as C would write it."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
