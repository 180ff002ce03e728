"""A session's life (spec §4.1, §6): acquiring targets (CreateProcess, AttachProcess,
OpenDumpFile), the session becoming active, processes leaving it, and its end (EndSession,
TerminateProcesses, DetachProcesses, a failure, a teardown hook's abandon).

Ending is one place (`_end_session`) because every way out must leave the same clean
state: no plan, no queued record or event, no pending signal, no backend.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import signal as _signal
import threading
from collections.abc import Mapping, Sequence

from pydbg.constants import (
    DEBUG_CES_CURRENT_THREAD,
    DEBUG_CES_EXECUTION_STATUS,
    DEBUG_PROCESS,
    AttachFlags,
    DebugEnd,
    DebugSession,
    DebugStatus,
    OutputMask,
)
from pydbg.engine import events as ev
from pydbg.engine.backend import FdArg
from pydbg.engine.interrupts import Interrupts
from pydbg.engine.targets import Origin, Process
from pydbg.errors import (
    EngineError,
    NoTargetError,
    PydbgError,
)


class Lifecycle(Interrupts):
    """Acquiring targets and ending the session."""

    def create_process(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        flags: int = 0,
        stdin: FdArg = None,
        stdout: FdArg = None,
        stderr: FdArg = None,
        pass_fds: Sequence[int] = (),
        new_process_group: bool = False,
    ) -> Process:
        self.check_thread("create_process")
        self._no_wait("create_process")
        if isinstance(argv, (str, bytes)) or not argv:
            raise EngineError("create_process takes a non-empty list of arguments, argv[0] first")
        trace_fork = bool(flags & DEBUG_PROCESS)
        # Forks are always traced: a child nobody debugs must lose the int3 bytes it
        # inherited before it runs, or the first one it reaches kills it (hazards §7).
        pid = self.backend.spawn(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            pass_fds=pass_fds,
            trace_fork=True,
            new_process_group=new_process_group,
            kill_on_exit=True,
        )
        process = self.targets.add_process(pid, Origin.LAUNCHED, str(argv[0]), [pid], trace_fork)
        self._acquired(process, initial_break=True)
        return process

    def attach_process(self, pid: int, flags: int = 0) -> Process:
        self.check_thread("attach_process")
        self._no_wait("attach_process")
        unsupported = flags & ~(
            AttachFlags.INVASIVE_NO_INITIAL_BREAK | AttachFlags.INVASIVE_RESUME_PROCESS
        )
        if unsupported:
            raise EngineError(
                f"attach flags {AttachFlags(unsupported)!r} are not supported on Linux "
                "(noninvasive and existing attaches need a second tracer, which ptrace forbids)"
            )
        if pid in self.targets.processes:
            raise EngineError(f"process {pid} is already a target of this session")
        tids = self.backend.seize(pid, trace_fork=True)
        process = self.targets.add_process(pid, Origin.ATTACHED, _comm(pid), tids, False)
        if flags & AttachFlags.INVASIVE_RESUME_PROCESS:
            os.kill(pid, _signal.SIGCONT)
        self._acquired(process, initial_break=not flags & AttachFlags.INVASIVE_NO_INITIAL_BREAK)
        return process

    def open_dump_file(self, path: str, image_path: str | None = None) -> Process:
        """OpenDumpFile: the process recorded in the core file at `path` becomes the
        session's one target, served read-only by a DumpBackend (pydbg.engine.dump says
        why there).  `image_path` is the main program to read symbols and code from
        instead of the path the core recorded (cdb -z's image path, gdb's `prog core`).
        Its events (CreateProcess, CreateThread, LoadModule, then the recorded signal as
        the last event) are reported by the next wait_for_event, which breaks in at once.

        CoreFormatError: not an x86_64 ELF core, or truncated; ProgramNotFoundError:
        image_path does not exist; EngineError: the session has targets already."""
        self.check_thread("open_dump_file")
        self._no_wait("open_dump_file")
        if self.targets or self._pending_announce:
            raise EngineError("open_dump_file: the session has targets already; end it first")
        from pydbg.coredump.reader import read_core
        from pydbg.engine.dump import DumpBackend, dump_events
        from pydbg.errors import CoreFormatError, ProgramNotFoundError

        if image_path is not None and not os.path.isfile(image_path):
            raise ProgramNotFoundError(
                _errno.ENOENT, f"the program file {image_path} does not exist", image_path
            )
        try:
            core = read_core(path)
        except OSError as exc:
            raise CoreFormatError(path, f"cannot read it: {exc.strerror or exc}") from exc
        if image_path is not None:
            core.substitutes[core.executable] = os.path.abspath(image_path)
        for missing in core.missing_files():
            self.output_warning(
                f"{missing} cannot be read: its code and symbols are not available"
                + (" (name the program: pydbg -z CORE PROG)" if missing == core.executable else "")
            )
        if self._backend is not None:
            with contextlib.suppress(PydbgError):
                self._backend.close()
        backend = DumpBackend(core)
        self._backend = self.dump = backend
        tids = [t.tid for t in core.threads]
        process = self.targets.add_process(
            core.pid, Origin.DUMP, image_path or core.executable or core.name, tids, False
        )
        try:
            self._events.extend(dump_events(process, backend, self.module_watch))
        except BaseException:
            self._end_session(DebugSession.END_SESSION_PASSIVE)  # (nothing half-open)
            raise
        process.announced = True
        process.initial_break_pending = False
        self._report_status(DebugStatus.GO)  # (as for any acquisition: until the wait)
        return process

    def _acquired(self, process: Process, *, initial_break: bool) -> None:
        """A target was acquired; it joins the session at the next wait (§6.2)."""
        self._pending_announce.append((process, initial_break))
        if self._status in (DebugStatus.NO_DEBUGGEE, DebugStatus.BREAK):
            # A pending acquisition counts as GO for the next wait (§4.2).
            self._report_status(DebugStatus.GO)

    def _start_session(self) -> None:
        if not self.session_active:
            self.session_active = True
            self.notifier.session_status(DebugSession.ACTIVE)

    def _discard_process(self, process: Process) -> None:
        self.breakpoints.process_gone(process)
        self.module_watch.pop(process.pid, None)
        self.targets.discard_process(process)
        for tid in list(self._signals):
            if self.targets.thread(tid) is None:
                del self._signals[tid]
        if self.current is not None and self.current.process is process:
            self.current = None

    def _end_session(self, status: DebugSession) -> None:
        self._cancel_plan_quietly()
        self._events.clear()
        self._records.clear()
        self._pending_announce.clear()
        self._discard.clear()
        self._signals.clear()
        self._first_chance.clear()
        self._listen.clear()
        self.shadows.clear()
        self.traps.clear()
        self.breakpoints.clear()
        self.module_watch.clear()
        self._running = False
        self.current = self.event_thread = None
        self.dump = None
        for process in list(self.targets.processes.values()):
            self.targets.discard_process(process)
        backend, self._backend = self._backend, None
        # (abandon closes the backend before it ends the session: nothing left to ask then)
        if backend is not None and not backend.closed:
            with contextlib.suppress(PydbgError):
                # The core's syscall counts go with it: keep them (get_syscall_counts).
                for number, count in backend.syscall_counts(reset=True).items():
                    self.syscall_counted[number] = self.syscall_counted.get(number, 0) + count
                backend.close()
        was_active = self.session_active
        self.session_active = False
        old, self._status = self._status, DebugStatus.NO_DEBUGGEE
        if was_active:
            self.notifier.session_status(status)
        elif old != DebugStatus.NO_DEBUGGEE:
            # Acquired but never announced: only the status change to report.
            self.notifier.engine_state(DEBUG_CES_EXECUTION_STATUS, DebugStatus.NO_DEBUGGEE)

    def _fail(self, exc: BaseException) -> None:
        self.output(OutputMask.ERROR, f"pydbg: session failed: {exc}\n")
        self._end_session(DebugSession.FAILURE)

    def end_session(self, flags: int) -> None:
        """EndSession: ACTIVE_TERMINATE kills every target, ACTIVE_DETACH lets them run on,
        PASSIVE kills what pydbg launched and detaches what it attached; REENTRANT is
        end_reentrant.  DEBUG_END_DISCONNECT concerns one client (pydbg.client)."""
        if flags == DebugEnd.REENTRANT:
            self.end_reentrant()  # any thread, no check: see there
            return
        self.check_thread("end_session")
        self._no_wait("end_session")
        if flags == DebugEnd.ACTIVE_TERMINATE:
            self.terminate_processes(end=False)
            self._end_session(DebugSession.END_SESSION_ACTIVE_TERMINATE)
        elif flags == DebugEnd.ACTIVE_DETACH:
            self.detach_processes(end=False)
            self._end_session(DebugSession.END_SESSION_ACTIVE_DETACH)
        elif flags == DebugEnd.PASSIVE:
            self._end_session(DebugSession.END_SESSION_PASSIVE)
        elif flags == DebugEnd.DISCONNECT:
            raise EngineError(
                "DEBUG_END_DISCONNECT disconnects one client, not the engine: "
                "call DebugClient.end_session"
            )
        else:
            raise EngineError(f"{flags} is not a DEBUG_END_* value")

    def end_reentrant(self) -> None:
        """EndSession(DEBUG_END_REENTRANT) (spec §6.5): callable from any thread at any
        time, even while the engine thread is inside a wait; it takes no lock and leaves the
        engine unusable: every later call raises EngineError ("make no further calls").

        The cleanup itself needs the engine thread (ptrace belongs to it), so it is done
        there, by `abandon` (launched targets killed, attached ones detached with every
        breakpoint removed): at once when the engine thread calls this outside a wait;
        otherwise a running wait is woken like set_interrupt(DEBUG_INTERRUPT_EXIT) and
        abandons the session as it returns False.  A reentrant end from another thread
        while no wait runs is cleaned up by the teardown hooks (pydbg.engine.teardown)."""
        self.ended_reentrant = True
        if threading.get_ident() == self.owner and not self.inside_wait:
            self.abandon()
            return
        self._interrupt_exit = True
        backend = self._backend
        if backend is not None and not backend.closed:
            backend.wake()

    def terminate_processes(self, *, end: bool = True) -> None:
        """TerminateProcesses: kill every target, reporting ExitProcess for each."""
        self.check_thread("terminate_processes")
        self._no_wait("terminate_processes")
        self._cancel_plan_quietly()
        for process in list(self.targets.processes.values()):
            self._kill(process)
            self._discard_process(process)
        if end:
            self._end_session(DebugSession.END_SESSION_ACTIVE_TERMINATE)

    def _kill(self, process: Process) -> None:
        """Kill and reap one process, reporting its ExitProcess if it was announced."""
        if process.origin is Origin.DUMP:
            return  # (a core file is closed with the session: nothing lives, nothing exits)
        status = 0
        if self._backend is not None:
            with contextlib.suppress(PydbgError):  # it may be gone already
                self.breakpoints.freeze_counts(process)
                status = self.backend.kill(process.pid)
        if process.announced and not process.exit_reported:
            code = (128 + (status & 0x7F)) if status & 0x7F else (status >> 8) & 0xFF
            process.exit_reported = True
            event = ev.ExitProcess(
                process, None, exit_code=code, exit_signal=status & 0x7F, gone=True
            )
            self.last_event = event
            self.inside_wait = True
            try:
                self.dispatcher.decide(event)
            finally:
                self.inside_wait = False

    def detach_processes(self, *, end: bool = True) -> None:
        """DetachProcesses: let every target run on, untraced."""
        self.check_thread("detach_processes")
        self._no_wait("detach_processes")
        self._cancel_plan_quietly()
        self._stop_all()
        for process in list(self.targets.processes.values()):
            if self._backend is not None and process.origin is not Origin.DUMP:
                with contextlib.suppress(PydbgError):
                    self.breakpoints.freeze_counts(process)
                    self.backend.detach(process.pid)
            self._discard_process(process)
        if end:
            self._end_session(DebugSession.END_SESSION_ACTIVE_DETACH)

    def detach_current_process(self) -> int:
        """DetachCurrentProcess (cdb `.detach`): the current process runs on, untraced; the
        session goes on with the others and ends (ACTIVE_DETACH) with the last.  Its pid."""
        process = self._release_current("detach_current_process")
        with contextlib.suppress(PydbgError):  # it may be gone already: nothing to release
            self.breakpoints.freeze_counts(process)
            self.backend.detach(process.pid)
        self._forget(process, DebugSession.END_SESSION_ACTIVE_DETACH)
        return process.pid

    def terminate_current_process(self) -> int:
        """TerminateCurrentProcess (cdb `.kill`): kill and reap the current process,
        reporting ExitProcess as terminate_processes does; the session goes on with the
        others and ends (ACTIVE_TERMINATE) with the last.  Its pid."""
        process = self._release_current("terminate_current_process")
        self._kill(process)
        self._forget(process, DebugSession.END_SESSION_ACTIVE_TERMINATE)
        return process.pid

    def _release_current(self, what: str) -> Process:
        self.check_thread(what)
        self._no_wait(what)
        self.refuse_dump(what)
        thread = self.current
        if thread is None or self.targets.processes.get(thread.process.pid) is not thread.process:
            if not self.targets:
                raise NoTargetError(f"{what}: no target")
            raise NoTargetError(f"{what}: no current process; select one first (|Ns)")
        self._cancel_plan_quietly()
        self._stop_all()
        return thread.process

    def _forget(self, process: Process, end: DebugSession) -> None:
        """Drop what the wait state keeps about a released process (queued events, signals,
        trap bookkeeping); end the session with the last target, else make the next
        target's first live thread current."""
        tids = set(process.threads)
        kept = [event for event in self._events if event.process is not process]
        self._events.clear()
        self._events.extend(kept)
        for tid in tids & self._first_chance.keys():
            del self._first_chance[tid]
        for tid in tids:
            self.traps.left(tid)
        self._listen -= tids
        self._discard = [p for p in self._discard if p is not process]
        self._pending_announce = [e for e in self._pending_announce if e[0] is not process]
        self._discard_process(process)  # breakpoints, modules, table, signals, current
        if self.event_thread is not None and self.event_thread.process is process:
            self.event_thread = None
        if not self.targets:
            self._end_session(end)
            return
        live = [t for p in self.targets.processes.values() if p.announced for t in p.live_threads()]
        if self.current is None and live:
            self.current = live[0]
            self.notifier.engine_state(DEBUG_CES_CURRENT_THREAD, live[0].engine_id)

    def abandon(self) -> None:
        """End the session from a teardown hook (teardown.py): at interpreter exit, or from
        a signal handler that may have interrupted anything, a wait or a native call
        included.  What pydbg launched is killed, what it attached to is detached by the
        native core, which works from its own table (lifecycle.pyx: every int3 removed,
        debug registers cleared, pending traps taken, pc rewound); nothing here needs the
        engine's own state to be consistent."""
        self.check_thread("abandon")
        self._plan = None  # its temporary breakpoint is a native site: removed with them
        backend = self._backend
        if backend is not None and not backend.closed:
            with contextlib.suppress(PydbgError):
                backend.close()  # kill_on_exit (launched): kill; attached: detach
        if not self.inside_wait:
            # Interrupted inside a wait, the engine is left as it is: the process is about
            # to die.  Otherwise the session ends as a passive end would end it.
            self._end_session(DebugSession.END_SESSION_PASSIVE)


def _comm(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return str(pid)
