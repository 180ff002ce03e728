"""Syscall events (a pydbg extension): which threads run under PTRACE_SYSCALL, how a
syscall stop becomes a `SyscallEvent`, and the line that describes one.

Who is traced is decided in one place, `traced_threads`, at every resume (the general
loop's and a step plan's): when any client's interest mask has DEBUG_EVENT_SYSCALL, or any
syscall filter row breaks, prints or runs a command, every thread of the session's
processes runs under PTRACE_SYSCALL; otherwise none does, and resuming is the plain
PTRACE_CONT it always was (no syscall stop, no cost).  The fast loops (waiting._fast_go,
fastpaths.signal_go) resume with PTRACE_CONT only, so they step aside while it is non-empty.

The native core starts every tracee with PTRACE_O_TRACESYSGOOD, so a syscall stop is
SIGTRAP|0x80 and decodes as a SYSCALL record, never as a SIGTRAP signal (hazards §3, §4).
Entry or exit is PTRACE_GET_SYSCALL_INFO's `op`, not parity kept here: parity breaks when
tracing starts while a thread sits in a blocking call (its first stop is an exit) and
across exec (the execve exit stop follows the EXEC event).  Should the kernel not say, the
thread's recorded entry decides.  An exit's record has no number or arguments: they are
the entry's (Thread.syscall_entry), or orig_rax and the argument registers (unchanged by
the kernel) when the entry was not seen.  A signal during a blocked call keeps the order
entry, exit (-ERESTART*), signal-delivery-stop, handler, restart: each one is an event.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Protocol

from pydbg.addresses import hex64
from pydbg.constants import DebugEvent
from pydbg.engine import events as ev
from pydbg.filters import syscall_name
from pydbg.syscall_table import SYSCALLS

if TYPE_CHECKING:
    from pydbg.engine.backend import Backend, NativeEvent
    from pydbg.engine.notify import Notifier
    from pydbg.engine.targets import Process, TargetTable, Thread
    from pydbg.filters import EventFilters

__all__ = ["describe_syscall", "syscall_event", "traced_threads", "tracing"]

_SYSCALL_BIT = int(DebugEvent.SYSCALL)
_NONE: frozenset[int] = frozenset()
_ENTRY, _EXIT = 1, 2  # PTRACE_SYSCALL_INFO_ENTRY / _EXIT
# The x86_64 syscall argument registers, in order (syscall(2)).
_ARGUMENT_REGISTERS = ("rdi", "rsi", "rdx", "r10", "r8", "r9")
# The kernel's restart codes (-ERESTARTSYS ... -ERESTART_RESTARTBLOCK), shown by name.
_RESTARTS = {-512: "ERESTARTSYS", -513: "ERESTARTNOINTR", -514: "ERESTARTNOHAND",
             -516: "ERESTART_RESTARTBLOCK"}  # fmt: skip


class TraceSource(Protocol):
    """What the decision is made from."""

    @property
    def notifier(self) -> Notifier: ...
    @property
    def filters(self) -> EventFilters: ...
    @property
    def targets(self) -> TargetTable: ...


def traced_threads(engine: TraceSource) -> frozenset[int]:
    """The tids to resume with PTRACE_SYSCALL (module docstring): every thread of the
    session when anyone listens to syscalls, else none."""
    if not tracing(engine):
        return _NONE
    return frozenset(engine.targets.thread_ids())


def tracing(engine: TraceSource) -> bool:
    """Does anyone listen to syscalls: a client's interest mask, or a syscall filter row?
    (traced_threads' rule, for the fast loops that only resume with PTRACE_CONT.)"""
    return bool(engine.notifier.interests & _SYSCALL_BIT) or engine.filters.syscalls_wanted()


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
                number = _signed(regs.get("orig_rax", -1))
                entry = (number, _arguments(number, regs))
            if result is None:
                result = _signed(regs.get("rax", 0))
        number, arguments = entry
    else:
        regs = _registers(backend, thread.tid)
        number = record.syscall_nr if op == _ENTRY else _signed(regs.get("orig_rax", -1))
        arguments = _arguments(number, regs)
        thread.syscall_entry = (number, arguments)
    return ev.SyscallEvent(
        process,
        thread,
        number=number,
        name=syscall_name(number),
        arguments=arguments,
        is_exit=is_exit,
        result=result,
    )


def _registers(backend: Backend, tid: int) -> dict[str, int]:
    try:
        return backend.get_regs(tid).as_dict()
    except OSError:
        return {}  # gone meanwhile (a group exit): its exit report follows


def _arguments(number: int, regs: dict[str, int]) -> tuple[int, ...]:
    known = SYSCALLS.get(number)
    count = known[1] if known is not None else len(_ARGUMENT_REGISTERS)
    return tuple(regs.get(name, 0) for name in _ARGUMENT_REGISTERS[:count])


def _signed(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def describe_syscall(event: ev.SyscallEvent) -> str:
    """`Syscall openat(0xffffff9c, 0x5581c0a0, 0x0, 0x0)` at an entry; at an exit the same
    with ` = 3`, ` = 0x7f3a1c000000` (large values in hex) or ` = -2 (ENOENT)`."""
    arguments = ", ".join(f"{a:#x}" for a in event.arguments)
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
