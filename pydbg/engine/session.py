"""The session: one engine's targets, its execution status, and WaitForEvent (spec §2, §4).

State machine (spec §4.1)::

    no session --create/attach--> pending --wait: first event, SessionStatus(ACTIVE)--+
         ^                                                                             v
         |               set_execution_status(GO/STEP_*)          +----------> accessible
         |      accessible ---------------------------> armed ----+ wait         (BREAK)
         |                                                |                        ^
         |                                                v        vote = BREAK    |
         |                                             running ----> event --------+
         |                                                ^            | other vote
         |                                                +------------+ (resume)
         +-- last target discarded: SessionStatus(END / END_SESSION_* / FAILURE)

All-stop: before any event is decided every thread of every target is stopped; stops that
turn out to be events of their own are queued and reported by later waits without resuming
anything, one event per decision, as Windows reports debug events.

Only the engine thread (the one that created the client) may call in, except
`set_interrupt`, `get_interrupt` and `get_execution_status`, which any thread may call.

Debug log (pydbg.log; PYDBG_LOG=engine,native,commands or all): the `pydbg.native` channel
logs each record as it leaves the backend's wait, `pydbg.engine` what `_take` made of it,
each event `_decide` decides, the votes and the decision, each resume and each break; the
fast loops log the same when the channel is on.  Whether a channel is on is looked up once
per wait_for_event.
"""

from __future__ import annotations

import contextlib
import os
import signal as _signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType

from pydbg._native import EventKind, TraceResult
from pydbg.constants import (
    DEBUG_ANY_ID,
    DEBUG_BREAKPOINT_GO_ONLY,
    DEBUG_CDS_ALL,
    DEBUG_CES_CURRENT_THREAD,
    DEBUG_CES_ENGINE_OPTIONS,
    DEBUG_CES_EVENT_FILTERS,
    DEBUG_CES_EXECUTION_STATUS,
    DEBUG_CSS_ALL,
    DEBUG_PROCESS,
    DEBUG_STATUS_INSIDE_WAIT,
    DEBUG_STATUS_WAIT_TIMEOUT,
    AttachFlags,
    DebugEnd,
    DebugEvent,
    DebugInterrupt,
    DebugNotify,
    DebugSession,
    DebugStatus,
    EngineOptions,
    FilterHandling,
    FilterStatus,
    OutputMask,
    SpecificFilter,
)
from pydbg.engine import events as ev
from pydbg.engine import fastpaths, translate
from pydbg.engine.backend import Backend, FdArg, NativeEvent
from pydbg.engine.breakpoints import EFLAGS_RF, BreakpointTable
from pydbg.engine.dispatch import Dispatcher, describe
from pydbg.engine.modules import ModuleWatch
from pydbg.engine.notify import Notifier
from pydbg.engine.signals import breakpoint_record, earns_second_chance
from pydbg.engine.stepping import Outcome, StepMode, StepPlan
from pydbg.engine.symbolizer import Symbolizer
from pydbg.engine.targets import Origin, Process, TargetTable, Thread
from pydbg.errors import (
    EngineError,
    InsideWaitError,
    NoTargetError,
    PtraceError,
    PydbgError,
    SessionFailedError,
    TargetRunningError,
    WrongThreadError,
)
from pydbg.filters import EventFilters
from pydbg.log import COMMANDS as _COMMANDS_LOG
from pydbg.log import DEBUG as _DEBUG
from pydbg.log import ENGINE as _LOG
from pydbg.log import NATIVE as _NATIVE_LOG
from pydbg.status import SETTABLE

# The session's errors are defined in pydbg.errors (public there and in pydbg) and
# re-exported here for code that imports them from this module.
__all__ = [
    "Engine",
    "EngineError",
    "InsideWaitError",
    "NoTargetError",
    "SessionFailedError",
    "TargetRunningError",
]


_RUNNING = frozenset(
    {DebugStatus.GO, DebugStatus.STEP_INTO, DebugStatus.STEP_OVER, DebugStatus.STEP_BRANCH}
)
# What set_execution_status accepts, code -> member: one lookup for is_settable + DebugStatus().
_SETTABLE = {int(s): s for s in SETTABLE}
_KIND_STEP = EventKind.STEP
_KIND_BREAKPOINT = EventKind.BREAKPOINT
_KIND_HW_BREAKPOINT = EventKind.HW_BREAKPOINT
_BREAKPOINT_EVENT = int(DebugEvent.BREAKPOINT)
_GO = int(DebugStatus.GO)
_STEP_INTO = DebugStatus.STEP_INTO
_BREAK = int(DebugStatus.BREAK)
_CHANGE_ENGINE_STATE = int(DebugEvent.CHANGE_ENGINE_STATE)
_DISABLE_EXECUTION = int(EngineOptions.DISABLE_EXECUTION_COMMANDS)
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
_NOT_HANDLED_OPTION = FilterHandling.GO_NOT_HANDLED
_STEPS = frozenset({DebugStatus.STEP_INTO, DebugStatus.STEP_OVER, DebugStatus.STEP_BRANCH})
_MODE_BRANCH, _MODE_INTO = StepMode.BRANCH, StepMode.INTO


def _native_backend() -> Backend:
    from pydbg._native import Tracer

    return Tracer()


class Engine:
    """One debugger engine: a session over any number of targets."""

    def __init__(self, backend_factory: Callable[[], Backend] = _native_backend) -> None:
        self._backend_factory = backend_factory
        self._backend: Backend | None = None
        self.owner = threading.get_ident()
        self.targets = TargetTable()
        self.notifier = Notifier()
        self.filters = EventFilters(self._filters_changed)
        self.dispatcher = Dispatcher(self.filters, self.notifier, self._run_event_command)
        # Callbacks run with every target thread stopped (pydbg.engine.notify).
        self.notifier.halt = self._stop_all
        # The debug log channels (pydbg.log), looked up once per wait: zero cost when off.
        self._log = self._log_native = False
        self._status = DebugStatus.NO_DEBUGGEE
        self._options = int(EngineOptions.INITIAL_BREAK)
        self.session_active = False
        self.inside_wait = False
        self._running = False  # target threads were resumed and not yet all stopped again
        self._plan: StepPlan | None = None
        self._events: deque[ev.Event] = deque()
        self._records: deque[NativeEvent] = deque()
        self._signals: dict[int, int] = {}  # tid -> signal delivered at the next resume
        # tid -> the first-chance exception whose signal _signals delivers (second chance).
        self._first_chance: dict[int, ev.ExceptionEvent] = {}
        self._listen: set[int] = set()  # tids to restart with PTRACE_LISTEN
        self._discard: list[Process] = []
        self._pending_announce: list[tuple[Process, bool]] = []  # acquired, not yet announced
        self._step_count = 1  # the count of a step asked for inside a wait (`t 3` in a command)
        self._step_mode: tuple[StepMode, int | None] | None = None  # ... and its mode (`tc`)
        self.current: Thread | None = None
        self.event_thread: Thread | None = None
        self.last_event: ev.Event | None = None
        self._votes: list[int] = []  # execution commands run inside the wait
        # Set from any thread: a break-in or an exit interrupt is wanted; a user interrupt.
        self._interrupt_active = False
        self._interrupt_exit = False
        self._user_interrupt = False
        self.command_runner: Callable[[str], int | None] | None = None
        self.breakpoints = BreakpointTable(self)
        self.module_watch: dict[int, ModuleWatch] = {}  # pid -> its modules
        self.symbols = Symbolizer(self)
        # Forked children nobody debugs, traced only until they stop sharing memory with
        # their parent (vfork) so that the parent's int3 bytes cannot kill them.
        self.shadows: set[int] = set()
        # tid -> the pc it was resumed from, when an int3 sits there that it did not stop at:
        # its trap at once is the resume itself, not a hit (Windows steps over it too).
        self.resumed_on_site: dict[int, int] = {}
        # tid -> the int3 it trapped at last: the native core steps it over at the resume.
        self._trapped: dict[int, int] = {}
        # What the native pass set (fastpaths.native_pass_signals) was computed from.
        self._filters_version = 0
        self._pass_key: object = None
        self._pass_checked: ev.Event | None = None

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        if self._backend is None or self._backend.closed:
            self._backend = self._backend_factory()
        return self._backend

    def check_thread(self, what: str) -> None:
        caller = threading.get_ident()
        if caller != self.owner:
            raise WrongThreadError(self.owner, caller, what)

    def output(self, mask: int, text: str) -> None:
        self.notifier.output(mask, text)

    def _filters_changed(self, index: int) -> None:
        self._filters_version += 1
        self.notifier.engine_state(DEBUG_CES_EVENT_FILTERS, index)
        if index in (SpecificFilter.INITIAL_BREAKPOINT, DEBUG_ANY_ID):
            self.sync_initial_break_option()

    def _run_event_command(self, command: str) -> int | None:
        """Run a filter or breakpoint command inside the wait; return its vote: that of
        its execution command, BREAK if it failed, None if it had none."""
        if self.command_runner is None:
            return None
        before = len(self._votes)
        failed = self.command_runner(command)
        vote = failed
        if vote is None and len(self._votes) > before:
            vote = self._votes[-1]
        if _COMMANDS_LOG.isEnabledFor(_DEBUG):  # (asked here: commands inside a wait are rare)
            _COMMANDS_LOG.debug("command %r -> vote %s", command, vote)
        return vote

    def vote_continue(self) -> None:
        """`gc` inside a wait: go on as before the event (a step in progress goes on)."""
        self._votes.append(
            int(DebugStatus.IGNORE_EVENT) if self._plan is not None else int(DebugStatus.GO)
        )

    def stop_for_change(self) -> None:
        """Targets must be stopped to change breakpoints: stop them if they run (the next
        wait resumes them)."""
        self._stop_all()

    def stepping(self) -> bool:
        return self._plan is not None

    def output_warning(self, text: str) -> None:
        self.output(OutputMask.WARNING, f"pydbg: {text}\n")

    def modules_changed(self, process: Process) -> None:
        """Modules were loaded or unloaded: deferred breakpoints may resolve now."""
        self.breakpoints.reevaluate()

    def pass_signal(self, tid: int, signo: int) -> None:
        """Deliver a signal at the thread's next resume (a thread nobody decides for)."""
        self._signals[tid] = signo

    def unfollowed_child(self, pid: int, vfork: bool) -> None:
        """A fork child that is not debugged.  A fork child's memory is its own: detach
        it now, which removes the int3 bytes it inherited.  A vfork child shares its
        parent's memory, so removing them would disarm the parent: it stays traced, out of
        the session, until it execs (translate._shadow)."""
        if vfork:
            self.shadows.add(pid)
            return
        with contextlib.suppress(PydbgError):
            self.backend.detach(pid)

    def release_shadow(self, pid: int) -> None:
        self.shadows.discard(pid)
        with contextlib.suppress(PydbgError):
            self.backend.detach(pid)

    def _note_site(self, tid: int, pid: int, pc: int) -> None:
        """The thread is about to run from pc: if a breakpoint of ours is there that will
        trap at once, that trap is the resume itself (translate._breakpoint)."""
        table = self.breakpoints
        if (pid, pc) in table.hw_sites:
            # An execute debug register traps unless EFLAGS.RF is set, which the kernel
            # sets when it reports that trap and clears once the instruction ran (hazards
            # §10).  RF, not _trapped, tells: a thread resumed from its hit and stopped
            # again (a stop-all) before it ran is still on the site, RF still set.
            if not self.backend.get_reg(tid, "eflags") & EFLAGS_RF:
                self.resumed_on_site[tid] = pc
        elif (pid, pc) in table.sites and self._trapped.get(tid) != pc:
            self.resumed_on_site[tid] = pc
        self._trapped.pop(tid, None)

    def note_trap(self, tid: int, address: int) -> None:
        """The thread stopped at a trap of ours at address (an int3, or a debug register
        serving a breakpoint): resuming it does not trap there again."""
        self._trapped[tid] = address

    def threads_trapped_at(self, pid: int, address: int) -> list[int]:
        return [
            tid
            for tid, where in self._trapped.items()
            if where == address
            and (thread := self.targets.thread(tid)) is not None
            and thread.process.pid == pid
        ]

    def listen_later(self, tid: int) -> None:
        self._listen.add(tid)

    def discard_later(self, process: Process) -> None:
        self._discard.append(process)

    def queued_records(self) -> Sequence[NativeEvent]:
        """Native records collected and not yet translated (translate looks ahead)."""
        return self._records

    def image_replaced(self, process: Process) -> None:
        """An exec replaced a process's image: every symbol it had is stale, and its
        breakpoints went with the old image."""
        self.breakpoints.image_replaced(process)
        self.notifier.symbol_state(DEBUG_CSS_ALL, 0)

    # -- status -----------------------------------------------------------------------------

    def get_execution_status(self) -> DebugStatus:
        """GetExecutionStatus; callable from any thread."""
        return self._status

    def _report_status(self, status: DebugStatus, flags: int = 0) -> None:
        self._status = status
        if not self.notifier.interests & _CHANGE_ENGINE_STATE:
            return
        if self.inside_wait and status != DebugStatus.BREAK:
            flags |= DEBUG_STATUS_INSIDE_WAIT
        self.notifier.engine_state(DEBUG_CES_EXECUTION_STATUS, int(status) | flags)

    def set_execution_status(self, status: int, count: int = 1) -> None:
        """SetExecutionStatus: what the next wait does.  Inside a wait it is the vote of
        whoever calls it (a callback or a command).  `count` repeats a step."""
        if threading.get_ident() != self.owner:
            self.check_thread("set_execution_status")
        kind = status.__class__
        member = (
            _SETTABLE.get(status)
            if kind is int
            or kind is DebugStatus
            or (isinstance(status, int) and not isinstance(status, bool))
            else None
        )
        if member is None:
            from pydbg.status import combine

            combine([status])  # raises a precise InvalidStatusError for non-statuses
            raise EngineError(
                f"{DebugStatus(status & 0x1F).name} cannot be set: set_execution_status takes "
                "GO, GO_HANDLED, GO_NOT_HANDLED, STEP_OVER, STEP_BRANCH or STEP_INTO"
            )
        status = member
        if not self.targets.processes and not self._events:
            raise NoTargetError("no target: create or attach a process first")
        if self._options & _DISABLE_EXECUTION:
            raise EngineError("execution is disabled (DEBUG_ENGOPT_DISABLE_EXECUTION_COMMANDS)")
        if self.inside_wait:
            self._votes.append(int(status))
            self._step_count = count
            self._step_mode = None
            return
        if self._running:
            raise TargetRunningError("the targets are already running; wait_for_event first")
        self._arm(status, count)
        self._report_status(DebugStatus.GO if status in _GO_FAMILY else status)

    def step(
        self, mode: StepMode, *, over: bool = False, count: int = 1, address: int | None = None
    ) -> None:
        """Arm a step plan beyond the three statuses (tc pc tt pt th ph ta pa gu; see
        pydbg.engine.stepping).  Reported as STEP_OVER when it steps over calls (and for
        gu), else STEP_INTO.  Inside a wait it is the caller's vote."""
        if mode == StepMode.TO_ADDRESS and address is None:
            raise EngineError("a step to an address needs the address")
        status = DebugStatus.STEP_OVER if over or mode == StepMode.GO_UP else _STEP_INTO
        self.set_execution_status(status, count)
        if self.inside_wait:
            self._step_mode = (mode, address)
        elif self._plan is not None:
            self._plan = self._make_plan(status, self._plan.thread, count, mode, address)

    def _arm(self, status: DebugStatus, count: int = 1) -> None:
        """Make `status` the execution mode the next resume uses."""
        if self._plan is not None:
            self._cancel_plan()
        if status in _STEPS:
            thread = self.current
            if thread is None or thread.tid not in thread.process.threads:
                raise NoTargetError("no current thread to step")
            if self._step_mode is None:
                self._plan = StepPlan(status, thread, count)
            else:
                mode, address = self._step_mode
                self._step_mode = None
                self._plan = self._make_plan(status, thread, count, mode, address)
        elif status in (_S_GO_HANDLED, _S_GO_NOT_HANDLED):
            self._handle_last_exception(status == _S_GO_NOT_HANDLED)

    def trace(
        self,
        max_steps: int,
        *,
        until: int | None = None,
        until_return: bool = False,
        register: str | None = None,
    ) -> TraceResult:
        """control.trace: the native trace loop on the current thread."""
        thread = self.require_stopped("trace")
        self._no_wait("trace")
        if not isinstance(max_steps, int) or max_steps < 1:
            raise EngineError(f"max_steps must be a positive int, not {max_steps!r}")
        returning: bool | tuple[int, int] = False
        if until_return:
            frame = self.caller_frame(thread)
            if frame is None:
                raise EngineError("trace: cannot find the caller of the current function")
            return_address, cfa = frame
            returning = (return_address, cfa - 8)  # the slot the return address is in
        # The code breakpoints on the way stop the trace, int3 and debug register alike
        # (as gdb's stepi N): the int3 sites of this process's breakpoints, but not the
        # engine's own (the loader's r_brk) nor GO_ONLY ones (they ignore steps).  Debug
        # register traps stop it in the core.
        pid = thread.process.pid
        stops = [
            address
            for (owner, address), site in self.breakpoints.sites.items()
            if owner == pid and any(not bp.flags & DEBUG_BREAKPOINT_GO_ONLY for bp in site)
        ]
        # The thread leaves the trap it sat in: what _resume knew of it is stale.
        self._trapped.pop(thread.tid, None)
        self.resumed_on_site.pop(thread.tid, None)
        try:
            result = self.backend.trace(
                thread.tid,
                max_steps,
                until=until,
                record=True,
                stop_at_breakpoints=stops,
                register=register,
                until_return=returning,
            )
        except PtraceError as exc:
            self._fail(exc)
            raise SessionFailedError(f"the engine lost control of its targets: {exc}") from exc
        if result.event is not None:
            self._records.append(result.event)  # decided by the next wait
        self.notifier.debuggee_state(DEBUG_CDS_ALL, 0)
        return result

    def _make_plan(
        self,
        status: DebugStatus,
        thread: Thread,
        count: int,
        mode: StepMode | None,
        address: int | None,
    ) -> StepPlan:
        frame = None
        if mode == StepMode.GO_UP:
            frame = self.caller_frame(thread)
            if frame is None:
                raise EngineError(
                    "gu: cannot find the caller of the current function (no unwind "
                    "information and no frame pointer)"
                )
        return StepPlan(status, thread, count, mode, address, frame)

    def caller_frame(self, thread: Thread) -> tuple[int, int] | None:
        """(return address, stack pointer after the return) of the thread's current
        function, from the unwinder (CFI, then the frame-pointer chain)."""
        from pydbg.engine.frames import caller_frame

        return caller_frame(self, thread)

    def debug_file(self, path: str) -> str | None:
        """The separate debug file of an image (by build id or debuglink), if any."""
        return self.symbols.debug_file(path)

    def _cancel_plan(self) -> None:
        if self._plan is not None:
            self._plan.cancel(self.backend)
            self._plan = None

    # -- engine options ---------------------------------------------------------------------

    def get_engine_options(self) -> int:
        return self._options

    def set_engine_options(self, options: int) -> None:
        if options < 0 or options & ~0xFFFFFFFF:
            raise EngineError(f"engine options {options:#x} are not a DEBUG_ENGOPT_* word")
        old = self._options
        self._options = options
        # DEBUG_ENGOPT_INITIAL_BREAK and the `ibp` filter are one setting seen two ways.
        if (old ^ options) & EngineOptions.INITIAL_BREAK:
            wanted = (
                FilterStatus.BREAK if options & EngineOptions.INITIAL_BREAK else FilterStatus.IGNORE
            )
            self._set_ibp(wanted)
        if old != options:
            self.notifier.engine_state(DEBUG_CES_ENGINE_OPTIONS, options)

    def _set_ibp(self, execution: FilterStatus) -> None:
        index = SpecificFilter.INITIAL_BREAKPOINT
        current = self.filters.get_specific_filter_parameters(index, 1)[0]
        if current.execution_option != execution:
            from dataclasses import replace

            self.filters.set_specific_filter_parameters(
                index, [replace(current, execution_option=execution)]
            )

    def sync_initial_break_option(self) -> None:
        """The `ibp` filter changed (every change of it, or a reset of every filter, calls
        this): keep DEBUG_ENGOPT_INITIAL_BREAK in step."""
        ibp = self.filters.specific(SpecificFilter.INITIAL_BREAKPOINT)
        assert ibp is not None
        breaks = ibp.execution_option in (FilterStatus.BREAK, FilterStatus.SECOND_CHANCE_BREAK)
        if bool(self._options & EngineOptions.INITIAL_BREAK) != breaks:
            self._options ^= EngineOptions.INITIAL_BREAK
            self.notifier.engine_state(DEBUG_CES_ENGINE_OPTIONS, self._options)

    # -- acquiring targets ------------------------------------------------------------------

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

    def _acquired(self, process: Process, *, initial_break: bool) -> None:
        """A target was acquired; it joins the session at the next wait (§6.2)."""
        self._pending_announce.append((process, initial_break))
        if self._status in (DebugStatus.NO_DEBUGGEE, DebugStatus.BREAK):
            # A pending acquisition counts as GO for the next wait (§4.2).
            self._report_status(DebugStatus.GO)

    def _no_wait(self, what: str) -> None:
        if self.inside_wait:
            raise InsideWaitError(f"{what} cannot be called inside a wait (from a callback)")

    # -- WaitForEvent -------------------------------------------------------------------------

    def wait_for_event(self, timeout: float | None = None) -> bool:
        """WaitForEvent.  True: an event broke in, the session is accessible.  False: the
        timeout passed (targets still running), an exit interrupt was issued, or the
        session ended during the wait (get_execution_status() is then NO_DEBUGGEE)."""
        if threading.get_ident() != self.owner:
            self.check_thread("wait_for_event")
        if self.inside_wait:
            raise InsideWaitError(
                "wait_for_event called inside a wait: callbacks and the commands they run "
                "cannot wait; return a DEBUG_STATUS_* instead"
            )
        if timeout is not None and timeout < 0:
            raise EngineError(f"timeout must be >= 0 seconds or None, not {timeout}")
        if not self.targets.processes and not self._pending_announce:
            raise NoTargetError("wait_for_event: no target; create or attach a process first")
        if self._status == _S_BREAK and not self._queued():
            return True  # nothing armed: the session simply stays broken in (§4.2)
        deadline = None if timeout is None else time.monotonic() + timeout
        self._log = _LOG.isEnabledFor(_DEBUG)
        self._log_native = _NATIVE_LOG.isEnabledFor(_DEBUG)
        self.dispatcher.log = self._log
        self.inside_wait = True
        try:
            return self._wait(deadline)
        except PtraceError as exc:
            self._fail(exc)
            raise SessionFailedError(f"the engine lost control of its targets: {exc}") from exc
        finally:
            self.inside_wait = False

    def _queued(self) -> bool:
        return bool(
            self._events
            or self._records
            or self._pending_announce
            or (
                self._backend is not None
                and not self._backend.closed
                and self._backend.has_pending()
            )
        )

    def _wait(self, deadline: float | None) -> bool:
        if self._running:
            self._sync_native_pass()  # a filter may have changed since the targets ran
        if not self._queued() and not self._running:
            if self.notifier.extensions:
                self.notifier.extensions_notify(DebugNotify.SESSION_INACCESSIBLE)
            if self._plan is not None:
                if self._fast_step(self._plan):
                    return True
            elif self.breakpoints.sites and self._fast_go(deadline):
                return True
        while True:
            if self._events:
                event = self._events.popleft()
                if self._decide(event):
                    self._finish_break()
                    return True
                continue
            if self._pending_announce:
                process, initial_break = self._pending_announce.pop(0)
                if process.pid in self.targets.processes:
                    self._start_session()
                    self._events.extend(
                        translate.announce(self, process, initial_break=initial_break)
                    )
                continue
            if self._discard:
                for process in self._discard:
                    self._discard_process(process)
                self._discard.clear()
                continue
            if not self.targets:
                self._end_session(DebugSession.END)
                return False
            if self._records or self.backend.has_pending():
                if not self._records:
                    self._records.extend(self._collected(self.backend.wait(0)))
                self._take(self._records.popleft())
                continue
            if not self._running:
                if self._second_chance_due():
                    continue
                if self._plan is None and self.breakpoints.sites:
                    # (Back to the tight loop after, say, a module load was decided.)
                    if self._fast_go(deadline):
                        return True
                elif self._plan is None and fastpaths.signal_go(self, deadline):
                    return True
                if self._running or self._events:
                    continue  # a fast path resumed the targets and handed a record over
                direct = self._resume()
                if direct is not None:
                    self._take(direct)
                    continue
            records = self._wait_native(deadline)
            if records is None:
                return False
            self._records.extend(records)

    def _fast_step(self, plan: StepPlan) -> bool:
        """STEP_INTO / STEP_BRANCH with nothing else pending: step in a tight loop and
        break in when the plan is done.  True if it broke in; False hands over to the
        general loop (any other record, a signal to deliver, an interrupt).  It calls no
        event callback (a finished step is the engine's own break), and the engine never
        thinks a thread runs: only the stepping thread moves, inside step()."""
        thread = plan.thread
        if (
            not plan.single_thread
            or self._signals
            or self._listen
            or self._interrupt_active
            or self._interrupt_exit
            or self.targets.thread(thread.tid) is not thread
        ):
            return False
        backend = self._backend  # (a plan has a live thread: the backend is open)
        assert backend is not None
        tid = thread.tid
        pid = thread.process.pid
        sites = self.breakpoints.sites
        hw_sites = self.breakpoints.hw_sites
        if sites or hw_sites:
            self._note_site(tid, pid, backend.get_pc(tid))
        branch = plan.mode is _MODE_BRANCH
        step = backend.branch_step if branch else backend.step
        # tc / tt / th / ta: only the steps that reach what the plan runs to count.
        counts_all = branch or plan.mode is _MODE_INTO
        log_native = self._log_native  # (looked up once per wait: the loop tests a local)
        if self._log:
            _LOG.debug("resume: %r (fast step loop)", plan)
        while True:
            record = step(tid)
            if log_native:
                self._collected([record])
            if record.kind != _KIND_STEP or record.tid != tid:
                self._records.append(record)
                return False
            if (sites or hw_sites) and (
                (pid, record.address) in sites or (pid, record.address) in hw_sites
            ):
                self.resumed_on_site[tid] = record.address
            if not counts_all and not plan.arrived(backend, record.address):
                if self._interrupt_active or self._interrupt_exit:
                    return False
                continue
            plan.remaining -= 1
            if plan.remaining <= 0:
                # An engine-internal break: no event callback, and the last event stays
                # the last real one (what DbgEng reports here is undocumented, §10).
                self._plan = None
                self._finish_break()
                return True
            if self._interrupt_active or self._interrupt_exit:
                return False

    def _fast_go(self, deadline: float | None) -> bool:
        """GO in one single-threaded process whose breakpoints only its callbacks decide: a
        tight loop of resume, one int3 hit, callbacks, resume.  True if it broke in; False
        hands over to the general loop (any other record, any vote but GO, an interrupt,
        a breakpoint with a command, condition or flags, anyone listening to state changes).
        What it skips is work the general path would do for nothing here: stopping other
        threads (there are none), filters (breakpoints have none) and notifications
        (nobody listens).  It skips no rule: each hit is decided by the dispatcher's own
        `breakpoint`, and any decision but a plain GO goes through `_conclude` as in a
        general wait.  While the callbacks run the one thread sits at its int3, and the
        engine knows it: every facet works inside them."""
        if (
            self._status != DebugStatus.GO
            or self._signals
            or self._listen
            or self._first_chance
            or self._interrupt_active
            or self._interrupt_exit
            or self.notifier.interests & _STATE_CHANGES
            or len(self.targets.processes) != 1
        ):
            return False
        process = next(iter(self.targets.processes.values()))
        if len(process.threads) != 1 or not self.notifier.interests & _BREAKPOINT_EVENT:
            return False  # (with nobody to vote every hit breaks)
        backend = self.backend
        collect, cont = backend.wait, backend.cont  # (bound once: this loop is hot)
        decide = self.dispatcher.breakpoint
        sites = self.breakpoints.sites
        threads = process.threads
        log = self._log  # (looked up once per wait: the loop tests a local)
        log_native = self._log_native
        # What callbacks ask for by other means than their vote (set_execution_status, a
        # command run from a callback): _conclude combines it with the vote.
        asked = self._votes = []
        self._step_mode = None
        self._resume()
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                records = collect(remaining)
            except KeyboardInterrupt:
                self._interrupt_active = True
                return False
            if log_native:
                self._collected(records)
            if len(records) != 1 or self._interrupt_active or self._interrupt_exit:
                self._records.extend(records)
                return False
            record = records[0]
            site = sites.get((record.pid, record.address))
            thread = threads.get(record.tid)
            if (
                site is None
                or record.kind != _KIND_BREAKPOINT
                or len(site) != 1
                or thread is None
                or self.resumed_on_site
                or not site[0].simple
            ):
                self._records.append(record)
                return False
            # The one thread of the one process sits at its int3: everything is stopped.
            self._running = False
            bp = site[0]
            bp.hits += 1
            bp.passes += 1
            event = ev.BreakpointHit(process, thread, bp)
            self.current = self.event_thread = thread
            self.last_event = event
            if log:
                _LOG.debug("take %r -> BreakpointHit (fast GO loop)", record)
                _LOG.debug("event %s [tid %d]", describe(event), record.tid)
            try:
                decision = decide(event)
            except BaseException:
                # (Ctrl-C in a callback: the wait ends with the thread trapped here.)
                self._trapped[record.tid] = record.address
                raise
            if decision == _GO and not asked:
                if log:
                    _LOG.debug("resume: cont thread %d (fast GO loop)", record.tid)
                self._running = True
                cont(record.tid)  # steps over the int3 first
                continue
            # Someone wants something else: the general rules from here on.
            self._trapped[record.tid] = record.address
            if self._conclude(event, decision):
                self._finish_break()
                return True
            return False

    def _wait_native(self, deadline: float | None) -> Sequence[NativeEvent] | None:
        """Block for native records.  None: the wait is over without an event."""
        while True:
            if self._interrupt_exit:
                self._interrupt_exit = False
                return None
            if self._interrupt_active:
                self._interrupt_active = False
                self._break_in()
                return []
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                records = self.backend.wait(remaining)
            except KeyboardInterrupt:
                # Ctrl-C in a blocked wait breaks into the targets (cdb's Ctrl+C).
                self._interrupt_active = True
                continue
            if records:
                return self._collected(records)
            if self._interrupt_exit or self._interrupt_active:
                continue
            if deadline is not None and time.monotonic() >= deadline:
                # Not INSIDE_WAIT: this change ends the wait (§1.2, §4.2).  The targets
                # keep running: the one notification that does not stop them (notify).
                if self._log:
                    _LOG.debug("timeout: the targets run on")
                self.notifier.engine_state(
                    DEBUG_CES_EXECUTION_STATUS,
                    int(self._status) | DEBUG_STATUS_WAIT_TIMEOUT,
                    running=True,
                )
                return None
            if not self._any_running():
                raise EngineError("internal error: waiting while no target thread can run")

    def _collected(self, records: Sequence[NativeEvent]) -> Sequence[NativeEvent]:
        """Native records as they leave backend.wait: the pydbg.native channel logs them."""
        if self._log_native:
            for record in records:
                _NATIVE_LOG.debug("record %r", record)
        return records

    def _any_running(self) -> bool:
        from pydbg._native import ThreadState

        backend = self.backend
        return any(
            backend.thread_state(t.tid) != ThreadState.STOPPED
            for t in self.targets.threads()
            if t.tid in set(backend.threads(t.process.pid))
        )

    def _break_in(self) -> None:
        """SetInterrupt(ACTIVE) or Ctrl-C: stop everything and report a break-in."""
        self._stop_all()
        thread = self.current if self.current is not None and self._alive(self.current) else None
        if thread is None:
            for candidate in self.targets.threads():
                if self._alive(candidate):
                    thread = candidate
                    break
        if thread is None:
            return
        try:
            pc = self.backend.get_pc(thread.tid)
        except OSError:
            pc = 0
        self._events.append(ev.ExceptionEvent(thread.process, thread, record=breakpoint_record(pc)))

    def _alive(self, thread: Thread) -> bool:
        return self.targets.thread(thread.tid) is thread

    def _stop_all(self) -> None:
        if self._running:
            self.backend.stop_all()
            self._running = False

    def _take(self, record: NativeEvent) -> None:
        """Turn one native record into queued events, or resume past it."""
        kind = record.kind
        if kind == _KIND_BREAKPOINT:
            self._trapped[record.tid] = record.address
        elif kind != _KIND_HW_BREAKPOINT and (self.resumed_on_site or self._trapped):
            self.resumed_on_site.pop(record.tid, None)
            self._trapped.pop(record.tid, None)
        plan = self._plan
        if plan is not None:
            outcome = plan.on_record(record, self.backend)
            if self._log:
                _LOG.debug("take %r -> step plan: %s", record, outcome.name)
            if outcome == Outcome.COMPLETE:
                self._plan = None
                self._stop_all()
                thread = self.targets.thread(record.tid)
                if thread is not None:
                    self._events.append(ev.StepComplete(thread.process, thread))
                return
            if outcome in (Outcome.AGAIN, Outcome.RUNNING):
                if self._running:
                    # Let the thread go on past our return address with the others.
                    self._stop_all()
                return
        events = translate.translate(self, record)
        if self._log:
            _LOG.debug("take %r -> %s", record, [type(e).__name__ for e in events] or "nothing")
        if events:
            self._stop_all()
            self._events.extend(events)
        elif self._running and record.kind.name not in ("EXITED", "KILLED"):
            # Nothing to decide: let that thread go on with the others (cont_all steps it
            # off any breakpoint with the rest stopped).
            self._stop_all()

    # -- deciding -----------------------------------------------------------------------------

    def _decide(self, event: ev.Event) -> bool:
        """Decide one event; True when the engine breaks in."""
        if self._running:
            self._stop_all()
        self._set_current(event)
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
        (set_execution_status, commands) and the engine's own rules; True when it breaks.
        (Every decision goes through here, the fast GO loop's too.)"""
        if self._votes:  # set_execution_status / commands called from the callbacks
            from pydbg.status import combine

            decision = combine([decision, *self._votes])
            if self._log:
                _LOG.debug("vote with set_execution_status/commands -> %s", decision.name)
        if isinstance(event, ev.ExitProcess):
            if event.gone:
                self._discard.append(event.process)
            elif self._options & EngineOptions.FINAL_BREAK:
                decision = DebugStatus.BREAK
        return self._apply(event, decision)

    def _set_current(self, event: ev.Event) -> None:
        thread = event.thread
        if thread is None or self.targets.thread(thread.tid) is not thread:  # (_alive)
            live = [t for t in event.process.threads.values() if self._alive(t)]
            thread = live[0] if live else thread
        self.event_thread = thread
        if thread is not None and thread is not self.current:
            self.current = thread
            self.notifier.engine_state(DEBUG_CES_CURRENT_THREAD, thread.engine_id)

    def _apply(self, event: ev.Event, decision: DebugStatus) -> bool:
        if isinstance(event, ev.ExceptionEvent) and event.signo and event.thread is not None:
            # Decided now even when breaking: a later plain `g` applies the filter's
            # continue option, `gh` / `gn` override it (_handle_last_exception).
            not_handled = self._not_handled(event, decision)
            if not_handled or self._signals or self._first_chance:  # (else: nothing to undo)
                self._set_delivery(event, not_handled)
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

    def _not_handled(self, event: ev.ExceptionEvent, decision: DebugStatus) -> bool:
        if decision == _S_GO_HANDLED:
            return False
        if decision == _S_GO_NOT_HANDLED:
            return True
        if event.initial:
            return False
        assert event.record is not None
        _, params = self.filters.exception(event.record.exception_code)
        return params.continue_option == _NOT_HANDLED_OPTION

    def _handle_last_exception(self, not_handled: bool) -> None:
        """gh / gn after an exception broke in: decide its signal."""
        event = self.last_event
        if isinstance(event, ev.ExceptionEvent) and event.thread is not None and event.signo:
            self._set_delivery(event, not_handled)

    def _set_delivery(self, event: ev.ExceptionEvent, not_handled: bool) -> None:
        """Whether the signal behind an exception is delivered at the next resume."""
        assert event.thread is not None
        tid = event.thread.tid
        self._first_chance.pop(tid, None)
        if not not_handled:
            self._signals.pop(tid, None)
            return
        self._signals[tid] = event.signo
        if event.first_chance:
            self._first_chance[tid] = event

    def _second_chance_due(self) -> bool:
        """Before resuming: a first-chance signal passed on not handled that would kill its
        process unhandled is reported again, as a second chance, instead (§9.2)."""
        due = False
        for tid, event in list(self._first_chance.items()):
            del self._first_chance[tid]
            if self._signals.get(tid) != event.signo or not self._alive_tid(tid):
                continue
            if earns_second_chance(event.process.pid, event.signo):
                del self._signals[tid]
                self._events.append(
                    ev.ExceptionEvent(
                        event.process,
                        event.thread,
                        record=event.record,
                        first_chance=False,
                        signo=event.signo,
                    )
                )
                due = True
        return due

    def _alive_tid(self, tid: int) -> bool:
        return self.targets.thread(tid) is not None

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

    # -- resuming -----------------------------------------------------------------------------

    def _sync_native_pass(self) -> None:
        """Give the native core the signals it may pass on unreported, recomputed when
        anything they depend on changed: filters, callbacks and interest masks, a step
        plan, the targets; and once after each signal the engine decided, whose target may
        have caught it meanwhile (so it no longer earns a second chance)."""
        backend = self._backend
        if backend is None or backend.closed:
            return
        notifier = self.notifier
        key = (
            self._filters_version,
            notifier.interests,
            len(notifier.extensions),
            self._plan is None,
            tuple(self.targets.processes),
            len(self.shadows),
        )
        event = self.last_event
        recheck = (
            isinstance(event, ev.ExceptionEvent)
            and event.signo != 0
            and event is not self._pass_checked
        )
        if key == self._pass_key and not recheck:
            return
        self._pass_key = key
        self._pass_checked = event
        backend.set_pass_signals(fastpaths.native_pass_signals(self))

    def _resume(self) -> NativeEvent | None:
        """Run the targets in the current mode; return a synchronous step's record."""
        self._sync_native_pass()
        backend = self.backend
        if self._listen:
            for tid in sorted(self._listen):
                # PydbgError: it left the group stop (or the world) meanwhile.
                with contextlib.suppress(PydbgError):
                    backend.listen(tid)
            self._listen.clear()
        signals: dict[int, int] = {}
        if self._signals:
            signals = {tid: sig for tid, sig in self._signals.items() if self._alive_tid(tid)}
            self._signals.clear()
        plan = self._plan
        if self.breakpoints.sites or self.breakpoints.hw_sites:
            thread = plan.thread if plan is not None else self.current
            # (A thread that trapped at an int3 is stepped over it by the core.)
            if (
                thread is not None
                and self._trapped.pop(thread.tid, None) is None
                and self._alive(thread)
            ):
                with contextlib.suppress(PydbgError):
                    self._note_site(thread.tid, thread.process.pid, backend.get_pc(thread.tid))
        if plan is not None and self._alive(plan.thread):
            if self._log:
                _LOG.debug("resume: %r, signals %s", plan, signals)
            try:
                record = plan.run(backend, signals)
            except ProcessLookupError:
                # The stepping thread was killed while stopped (a group exit): there is
                # nothing left to step; let the rest run to report the exit.
                self._cancel_plan_quietly()
            else:
                self._signals.update(signals)  # those of threads the step left stopped
                self._running = plan.runs_all
                return record if record is None else self._collected([record])[0]
        self._plan = None
        if self._log:
            _LOG.debug("resume: cont_all, signals %s", signals)
        backend.cont_all(signals=signals)
        self._running = True
        return None

    # -- interrupts ---------------------------------------------------------------------------

    def set_interrupt(self, flags: int = DebugInterrupt.ACTIVE) -> None:
        """SetInterrupt; callable from any thread, returns at once."""
        if flags not in (DebugInterrupt.ACTIVE, DebugInterrupt.PASSIVE, DebugInterrupt.EXIT):
            raise EngineError(f"{flags} is not a DEBUG_INTERRUPT_* value")
        self._user_interrupt = True
        if flags == DebugInterrupt.PASSIVE:
            return
        if flags == DebugInterrupt.EXIT and not self.inside_wait:
            return  # behaves like PASSIVE without a wait (§4.4)
        if flags == DebugInterrupt.ACTIVE and self._status == DebugStatus.BREAK:
            return  # already suspended: only the user interrupt is registered
        if flags == DebugInterrupt.EXIT:
            self._interrupt_exit = True
        else:
            self._interrupt_active = True
        backend = self._backend
        if backend is not None and not backend.closed:
            backend.wake()

    def get_interrupt(self) -> bool:
        """GetInterrupt: whether a user interrupt is pending (and clear it)."""
        pending, self._user_interrupt = self._user_interrupt, False
        return pending

    # -- ending -------------------------------------------------------------------------------

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
        self.resumed_on_site.clear()
        self._trapped.clear()
        self.breakpoints.clear()
        self.module_watch.clear()
        self._running = False
        self.current = self.event_thread = None
        for process in list(self.targets.processes.values()):
            self.targets.discard_process(process)
        if self._backend is not None:
            backend, self._backend = self._backend, None
            with contextlib.suppress(PydbgError):
                backend.close()
        was_active = self.session_active
        self.session_active = False
        old, self._status = self._status, DebugStatus.NO_DEBUGGEE
        if was_active:
            self.notifier.session_status(status)
        elif old != DebugStatus.NO_DEBUGGEE:
            # Acquired but never announced: only the status change to report.
            self.notifier.engine_state(DEBUG_CES_EXECUTION_STATUS, DebugStatus.NO_DEBUGGEE)

    def _cancel_plan_quietly(self) -> None:
        try:
            self._cancel_plan()
        except PydbgError:
            self._plan = None

    def _fail(self, exc: BaseException) -> None:
        self.output(OutputMask.ERROR, f"pydbg: session failed: {exc}\n")
        self._end_session(DebugSession.FAILURE)

    def end_session(self, flags: int) -> None:
        """EndSession: ACTIVE_TERMINATE kills every target, ACTIVE_DETACH lets them run on,
        PASSIVE kills what pydbg launched and detaches what it attached."""
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
        elif flags in (DebugEnd.REENTRANT, DebugEnd.DISCONNECT):
            raise EngineError(
                f"DEBUG_END_{DebugEnd(flags).name} is for remote clients and cross-thread "
                "shutdown, which pydbg does not have yet; use PASSIVE, ACTIVE_TERMINATE or "
                "ACTIVE_DETACH"
            )
        else:
            raise EngineError(f"{flags} is not a DEBUG_END_* value")

    def terminate_processes(self, *, end: bool = True) -> None:
        """TerminateProcesses: kill every target, reporting ExitProcess for each."""
        self.check_thread("terminate_processes")
        self._no_wait("terminate_processes")
        self._cancel_plan_quietly()
        for process in list(self.targets.processes.values()):
            status = 0
            if self._backend is not None:
                with contextlib.suppress(PydbgError):
                    self.breakpoints.freeze_counts(process)
                    status = self.backend.kill(process.pid)
            if process.announced and not process.exit_reported:
                code = (128 + (status & 0x7F)) if status & 0x7F else (status >> 8) & 0xFF
                process.exit_reported = True
                event = ev.ExitProcess(process, None, exit_code=code, gone=True)
                self.last_event = event
                self.inside_wait = True
                try:
                    self.dispatcher.decide(event)
                finally:
                    self.inside_wait = False
            self._discard_process(process)
        if end:
            self._end_session(DebugSession.END_SESSION_ACTIVE_TERMINATE)

    def detach_processes(self, *, end: bool = True) -> None:
        """DetachProcesses: let every target run on, untraced."""
        self.check_thread("detach_processes")
        self._no_wait("detach_processes")
        self._cancel_plan_quietly()
        self._stop_all()
        for process in list(self.targets.processes.values()):
            if self._backend is not None:
                with contextlib.suppress(PydbgError):
                    self.breakpoints.freeze_counts(process)
                    self.backend.detach(process.pid)
            self._discard_process(process)
        if end:
            self._end_session(DebugSession.END_SESSION_ACTIVE_DETACH)

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

    # -- extensions ---------------------------------------------------------------------------

    def load_extension(self, module: ModuleType) -> None:
        if module in self.notifier.extensions:
            return
        self.notifier.extensions.append(module)
        if self.session_active:
            self.notifier.extensions_notify(DebugNotify.SESSION_ACTIVE, only=module)
            if self._status == DebugStatus.BREAK:
                self.notifier.extensions_notify(DebugNotify.SESSION_ACCESSIBLE, only=module)

    # -- accessibility ------------------------------------------------------------------------

    def require_stopped(self, what: str) -> Thread:
        """The current thread, for calls that need the session accessible."""
        self.check_thread(what)
        if self._running:
            raise TargetRunningError(f"{what}: the targets are running; break in first")
        thread = self.current
        if thread is None or not self._alive(thread):
            if not self.targets:
                raise NoTargetError(f"{what}: no target")
            raise NoTargetError(f"{what}: no current thread (wait_for_event first)")
        return thread

    def current_process(self, what: str) -> Process:
        """The current thread's process, or the first target if it has none (for calls
        about one process, such as add_breakpoint)."""
        thread = self.current
        if thread is not None and self.targets.processes.get(thread.process.pid) is not None:
            return thread.process
        for process in self.targets.processes.values():
            return process
        raise NoTargetError(f"{what}: no target; create or attach a process first")


def _comm(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return str(pid)
