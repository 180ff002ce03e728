"""How one native wait record becomes DbgEng events (spec §9.2).

    CLONE                       -> CreateThread on the new thread
    FORK / VFORK (child debug)  -> CreateProcess (+ initial breakpoint) for the child
    EXEC                        -> ExitThread for the threads the exec destroyed, then
                                   UnloadModule for every module of the old image (the
                                   main image too) and LoadModule for the new one's
    EXIT stop, other threads    -> ExitThread(code)
    EXIT stop, last thread      -> ExitProcess(code)
    reaped without an EXIT stop -> ExitThread / ExitProcess (SIGKILL skips the stop)
    leader reaped               -> the process is discarded (no event)
    SIGNAL                      -> Exception(code of the signal, first chance)
    SYSCALL (PTRACE_SYSCALL)    -> SyscallEvent, entry or exit (pydbg extension, syscalls.py)
    SIGTRAP of a foreign int3   -> Exception(STATUS_BREAKPOINT); trace trap: STATUS_SINGLE_STEP
    STEP / BREAKPOINT of a step -> the step plan's business (StepComplete when it ends)
    GROUP_STOP, CONTINUED, VFORK_DONE, stray INTERRUPT, SECCOMP -> nothing (the thread just goes on)

Translation is one way: it gets the record and narrow collaborators (a `Context`: the
target table, the trap ledger, the module registry, the breakpoint table, the unfollowed
vfork children and the records still queued; and the backend for registers), never the
session, and returns a `Translation`: the events to decide, in order, and the actions the
session carries out for the record (restart a group stop with PTRACE_LISTEN, pass a
signal on, let an unfollowed child go, discard a process).  What it updates is the
collaborators' own books: threads born, renamed and gone in the target table, traps in
the ledger, hit counts in the breakpoint table, module lists.

No event and no action means "nothing to decide": the session resumes the thread as the
current execution mode says.
"""

from __future__ import annotations

import os
import signal as _signal
from collections.abc import Sequence, Set
from dataclasses import dataclass

from pydbg._native import EventKind, exec_in_progress
from pydbg.constants import STATUS_SINGLE_STEP
from pydbg.engine import events as ev
from pydbg.engine.backend import Backend, NativeEvent
from pydbg.engine.breakpoints import BreakpointTable
from pydbg.engine.images import image_facts
from pydbg.engine.modules import ModuleRegistry
from pydbg.engine.signals import ExceptionRecord, breakpoint_record, signal_record
from pydbg.engine.syscalls import syscall_event
from pydbg.engine.targets import Origin, Process, TargetTable, Thread
from pydbg.engine.traps import TrapLedger

__all__ = [
    "Action",
    "Context",
    "Deliver",
    "Discard",
    "LetGo",
    "Listen",
    "Shadow",
    "Translation",
    "Unshadow",
    "announce",
    "translate",
]

_SI_KERNEL = 0x80
_SIGTRAP = int(_signal.SIGTRAP)  # (a plain int: compared on every signal)


@dataclass(frozen=True, slots=True)
class Context:
    """What translation reads and keeps the books of, besides the record (one per
    engine: each member is the engine's own object, updated in place)."""

    targets: TargetTable
    traps: TrapLedger
    modules: ModuleRegistry
    breakpoints: BreakpointTable
    shadows: Set[int]  # vfork children nobody debugs, traced until they exec
    queued: Sequence[NativeEvent]  # records collected and not yet translated


# -- what the session does for a record besides deciding its events -------------------------


@dataclass(frozen=True, slots=True)
class Listen:
    """A group stop: restart the thread with PTRACE_LISTEN at the next resume."""

    tid: int


@dataclass(frozen=True, slots=True)
class Deliver:
    """Deliver this signal at the thread's next resume, undecided (a shadow's)."""

    tid: int
    signo: int


@dataclass(frozen=True, slots=True)
class Shadow:
    """A vfork child nobody debugs: keep it traced, out of the session, until it execs
    (it shares its parent's memory, int3 bytes included)."""

    pid: int


@dataclass(frozen=True, slots=True)
class LetGo:
    """Detach a process nobody debugs: a fork child (its memory is its own, so detaching
    removes the int3 bytes it inherited), or a shadow that exec'd."""

    pid: int


@dataclass(frozen=True, slots=True)
class Unshadow:
    """A shadow is gone (reaped)."""

    pid: int


@dataclass(frozen=True, slots=True)
class Discard:
    """A process whose exit was reported is gone: discard it before the next record."""

    process: Process


Action = Listen | Deliver | Shadow | LetGo | Unshadow | Discard
_NO_ACTIONS: tuple[Action, ...] = ()


@dataclass(slots=True)
class Translation:
    """What a record means: events to decide, in order, and actions to carry out."""

    events: list[ev.Event]
    actions: tuple[Action, ...] = _NO_ACTIONS


def announce(
    process: Process, backend: Backend, context: Context, *, initial_break: bool
) -> list[ev.Event]:
    """The events of a process joining the session: CreateProcess, CreateThread for each
    thread but the first, then the initial breakpoint (§9.2)."""
    threads = list(process.threads.values())
    first = threads[0] if threads else None
    facts = image_facts(process.pid)
    if facts.image_name:
        process.image_name = facts.image_name
    fs_base = pc = 0
    if first is not None:
        try:
            regs = backend.get_regs(first.tid)
            fs_base, pc = regs.fs_base, regs.rip
        except OSError:
            pass
    out: list[ev.Event] = [
        ev.CreateProcess(
            process,
            first,
            base_offset=facts.base,
            module_size=facts.size,
            module_name=facts.module_name,
            image_name=process.image_name,
            thread_data_offset=fs_base,
            start_offset=facts.entry or pc,
        )
    ]
    for thread in threads[1:]:
        out.append(_create_thread(backend, thread))
    out.extend(context.modules.start(process, first))
    process.announced = True
    if initial_break and first is not None:
        out.append(ev.ExceptionEvent(process, first, record=breakpoint_record(pc), initial=True))
    process.initial_break_pending = False
    return out


def _create_thread(backend: Backend, thread: Thread) -> ev.CreateThread:
    try:
        regs = backend.get_regs(thread.tid)
        return ev.CreateThread(
            thread.process, thread, data_offset=regs.fs_base, start_offset=regs.rip
        )
    except OSError:
        return ev.CreateThread(thread.process, thread)


def translate(
    record: NativeEvent, backend: Backend, context: Context, stepping: bool
) -> Translation:
    """What the record means (module docstring); `stepping`: a step plan is active."""
    table = context.targets
    kind = record.kind
    thread = table.thread(record.tid)
    process = table.processes.get(record.pid)
    if process is None:
        if record.pid in context.shadows:
            return Translation([], _shadow(record))
        return Translation([])  # a process that was detached or discarded meanwhile
    if kind in (EventKind.EXITED, EventKind.KILLED):
        return _reaped(context, process, thread, record)
    if thread is None:
        # A task the table does not know yet (its CLONE is still queued): adopt it.
        thread = table.add_thread(process, record.tid)
    if kind == EventKind.EXIT:
        # The EXIT stop's message is the wait status the process will have (ptrace(2),
        # PTRACE_EVENT_EXIT), so a death by signal is known before the reap.
        status = record.message
        killed_by = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        return Translation(_exiting(context, process, thread, record.exit_code, killed_by))
    if kind == EventKind.CLONE:
        new = table.thread(record.message) or table.add_thread(process, record.message)
        return Translation([_create_thread(backend, new)])
    if kind in (EventKind.FORK, EventKind.VFORK):
        return _forked(backend, context, process, record.message, kind == EventKind.VFORK)
    if kind == EventKind.EXEC:
        return Translation(_exec(context, process, record))
    if kind == EventKind.SIGNAL:
        return Translation([_signal_event(backend, process, thread, record)])
    if kind == EventKind.SYSCALL:
        return Translation([syscall_event(backend, process, thread, record)])
    if kind == EventKind.BREAKPOINT:
        return Translation(_breakpoint(context, process, thread, record, stepping))
    breakpoints = context.breakpoints
    if kind == EventKind.HW_BREAKPOINT and breakpoints.owns_data_hit(process.pid, record.dr6):
        served = breakpoints.served_at(process.pid, record.dr6)
        if served is not None and served.offset is not None:
            # A code breakpoint a debug register serves: like an int3 hit.
            if context.traps.resumed_from(thread.tid, served.offset):
                return Translation([])
            context.traps.note_trap(thread.tid, served.offset)
        hit = breakpoints.data_hit(process, thread, record.dr6, stepping)
        return Translation([hit] if hit is not None else [])
    if kind in (EventKind.STEP, EventKind.HW_BREAKPOINT):
        record_ = ExceptionRecord(STATUS_SINGLE_STEP, 0, 0, record.address, (0,))
        return Translation([ev.ExceptionEvent(process, thread, record=record_)])
    if kind == EventKind.GROUP_STOP:
        return Translation([], (Listen(record.tid),))
    # CONTINUED, VFORK_DONE, INTERRUPT, SECCOMP: nothing to decide.
    return Translation([])


def _breakpoint(
    context: Context, process: Process, thread: Thread, record: NativeEvent, stepping: bool
) -> list[ev.Event]:
    """A thread trapped at an inserted int3 (the pc is rewound to it)."""
    address = record.address
    if context.traps.resumed_from(thread.tid, address):
        return []  # resumed from that very address: executing its int3 is not a hit
    out: list[ev.Event] = []
    table = context.breakpoints
    watch = context.modules.get(process.pid)
    if watch is not None and address == watch.brk:
        out = watch.on_brk(thread)  # the loader's r_brk: modules may have changed
        if (process.pid, address) not in table.sites:
            return out
    if (process.pid, address) in table.sites:
        hit = table.hit(process, thread, address, stepping)
        return out + [hit] if hit is not None else out
    if (process.pid, address) in table.removed_sites:
        # Trapped before its breakpoint was removed: the core rewound the pc to the
        # original instruction; the thread just goes on.
        return out
    # A site nobody claimed (a step plan's temporary breakpoint is claimed before this).
    return [ev.ExceptionEvent(process, thread, record=breakpoint_record(address))]


def _shadow(record: NativeEvent) -> tuple[Action, ...]:
    """A stop of a vfork child nobody debugs: it shares its parent's memory, int3 bytes
    included, so it stays traced (its int3 traps are stepped over by the resume) until it
    execs, when it is let go; its signals are passed on."""
    kind = record.kind
    if kind == EventKind.SIGNAL:
        return (Deliver(record.tid, record.signal),)
    if kind == EventKind.EXEC:
        return (LetGo(record.pid),)
    if kind in (EventKind.EXITED, EventKind.KILLED) and record.tid == record.pid:
        return (Unshadow(record.pid),)
    return _NO_ACTIONS


def _signal_event(
    backend: Backend, process: Process, thread: Thread, record: NativeEvent
) -> ev.Event:
    signo = record.signal
    si_code = record.si_code  # read now: only valid while the thread sits in this stop
    address = record.address
    sender = record.sender_pid
    try:
        pc = backend.get_pc(thread.tid)
    except OSError:
        pc = 0
    return signal_exception(process, thread, (signo, si_code, address, pc, sender))


def signal_exception(
    process: Process, thread: Thread, facts: tuple[int, int, int, int, int]
) -> ev.Event:
    """The exception of a signal-delivery-stop, from its facts: (signo, si_code, address,
    pc, sender), its siginfo and pc, as Tracer.cont_wait returns them to the signal fast
    loop (the general path builds the same tuple from the record)."""
    signo = facts[0]
    if signo == _SIGTRAP and facts[1] == _SI_KERNEL:
        # A foreign int3 (not one of pydbg's): the pc is past it, as on Windows x64 once
        # the exception is handled, so a handled resume simply goes on.
        return ev.ExceptionEvent(
            process, thread, record=breakpoint_record(facts[3] - 1), signo=signo
        )
    exc = signal_record(facts)
    # (Positional: process, thread, record, first_chance, initial, signo.  Keywords cost a
    # third of the construction, and this is the signal loop's path.)
    return ev.ExceptionEvent(process, thread, exc, True, False, signo)


def _dying(pid: int, tid: int) -> bool:
    """Is this thread gone or on its way out, by the kernel's account?

    A group exit (exit_group, a fatal signal) kills the other threads with a SIGKILL that
    needs no stop, so their exit stops may never come; what is left of them is a pending
    SIGKILL or a zombie task.  pydbg's own bookkeeping lags behind that, so ask /proc.
    """
    try:
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except (OSError, ValueError):
        # The task is gone if its process is still there; if the whole process is gone
        # (or /proc cannot tell), keep pydbg's own account: the leader's reaping says it.
        return os.path.isdir(f"/proc/{pid}")
    state = fields.get("State", "").split()
    if state and state[0] in ("Z", "X"):
        return True
    try:
        pending = int(fields.get("SigPnd", "0"), 16) | int(fields.get("ShdPnd", "0"), 16)
    except ValueError:
        return False
    return bool(pending & (1 << (_signal.SIGKILL - 1)))


def _exiting(
    context: Context, process: Process, thread: Thread, exit_code: int, exit_signal: int = 0
) -> list[ev.Event]:
    """An exit stop: the thread, or with the last one the process, is about to go.

    The process ends here when every other thread has exited or is dying: then each of
    those not reported yet gets its ExitThread, and ExitProcess follows (as Windows
    reports a process exit: the other threads first).  After ExitProcess nothing more is
    reported for the process's threads.
    """
    thread.exit_reported = True
    if process.exit_reported:
        return []
    others = [t for t in process.live_threads() if t is not thread]
    if any(not _dying(process.pid, t.tid) for t in others) or _exec_coming(context, process):
        return [ev.ExitThread(process, thread, exit_code=exit_code)]
    context.breakpoints.freeze_counts(process)  # the core forgets them with the process
    out: list[ev.Event] = []
    for other in others:
        other.exit_reported = True
        out.append(ev.ExitThread(process, other, exit_code=exit_code))
    process.exit_reported = True
    process.exit_code = exit_code
    out.append(ev.ExitProcess(process, thread, exit_code=exit_code, exit_signal=exit_signal))
    return out


def _reaped(
    context: Context, process: Process, thread: Thread | None, record: NativeEvent
) -> Translation:
    out: list[ev.Event] = []
    # Death by a signal reads as 128+N, as the shell and the EXIT stop report it.
    killed_by = record.signal if record.kind == EventKind.KILLED else 0
    code = 128 + killed_by if killed_by else record.exit_code
    gone = record.tid == process.pid  # the leader's status is the process's: it comes last
    if thread is not None and not thread.exit_reported and not gone and not process.exit_reported:
        thread.exit_reported = True
        out.append(ev.ExitThread(process, thread, exit_code=code))
    if thread is not None:
        context.targets.forget_thread(thread)
    if gone:
        if not process.exit_reported:
            process.exit_reported = True
            process.exit_code = code
            out.append(
                ev.ExitProcess(process, None, exit_code=code, exit_signal=killed_by, gone=True)
            )
        else:
            return Translation(out, (Discard(process),))
    return Translation(out)


def _forked(
    backend: Backend, context: Context, parent: Process, child_pid: int, vfork: bool
) -> Translation:
    if not parent.trace_fork:
        # A fork child's memory is its own: let it go now, which removes the int3 bytes
        # it inherited.  A vfork child shares its parent's: removing them would disarm the
        # parent, so it stays traced, out of the session, until it execs (_shadow).
        return Translation([], (Shadow(child_pid) if vfork else LetGo(child_pid),))
    child = context.targets.add_process(
        child_pid, Origin.CHILD, parent.image_name, [child_pid], trace_fork=True
    )
    context.breakpoints.process_forked(parent, child)
    return Translation(announce(child, backend, context, initial_break=True))


def _exec_coming(context: Context, process: Process) -> bool:
    """Is the process in an execve, or its EXEC record queued?  Then the threads dying now
    are the exec's casualties (ptrace(2), "execve(2) under ptrace": every other thread is
    killed and reports an exit with code 0), and the process lives on."""
    if any(r.kind == EventKind.EXEC and r.pid == process.pid for r in context.queued):
        return True
    return exec_in_progress(process.pid)


def _exec(context: Context, process: Process, record: NativeEvent) -> list[ev.Event]:
    """The exec replaced the image (spec §9.2): ExitThread for every thread the kernel
    destroyed, the exec'ing thread goes on under the leader's tid with its engine id,
    then UnloadModule for each module of the old image and LoadModule for the new."""
    table = context.targets
    pid = process.pid
    # GETEVENTMSG: the exec'ing thread's former tid (ptrace(2), execve under ptrace).
    survivor = process.threads.get(record.message) or process.threads.get(pid)
    out: list[ev.Event] = []
    for other in list(process.threads.values()):
        if other is survivor:
            continue
        if not other.exit_reported:
            other.exit_reported = True
            out.append(ev.ExitThread(process, other, exit_code=0))
        table.forget_thread(other)
    if survivor is None:
        survivor = table.add_thread(process, pid)
    elif survivor.tid != pid:
        table.rename_thread(survivor, pid)  # the exec'ing thread took the leader's tid
    survivor.exit_reported = False
    watch = context.modules.get(pid)
    old_main = next((o for o in watch.objects if o.is_main), None) if watch else None
    old_image = process.image_name
    facts = image_facts(pid)
    if facts.image_name:
        process.image_name = facts.image_name
    context.modules.image_replaced(process)
    # The main image is CreateProcess's at launch; an exec swaps it without one.
    out.append(
        ev.UnloadModule(
            process,
            survivor,
            old_main.path if old_main is not None else old_image,
            old_main.base if old_main is not None else 0,
        )
    )
    modules = watch.exec_replaced(survivor) if watch is not None else []
    out.extend(m for m in modules if isinstance(m, ev.UnloadModule))
    out.append(
        ev.LoadModule(
            process,
            survivor,
            base_offset=facts.base,
            module_size=facts.size,
            module_name=facts.module_name,
            image_name=process.image_name,
        )
    )
    out.extend(m for m in modules if not isinstance(m, ev.UnloadModule))
    return out
