"""The session's state and the plumbing every part of the engine uses: the backend, the
owner thread, output, the execution status as reported, which threads are alive, the
all-stop primitive, and the small services the engine's helpers call (breakpoints, module
watches, the symbolizer).

Everything the other parts (pydbg.engine.session lists them) share lives here, set up in
one __init__, so that each part reads as what it does with that state.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from pydbg.constants import (
    DEBUG_CES_EXECUTION_STATUS,
    DEBUG_STATUS_INSIDE_WAIT,
    DebugEvent,
    DebugNotify,
    DebugStatus,
    EngineOptions,
    OutputMask,
)
from pydbg.engine import events as ev
from pydbg.engine.backend import Backend, NativeEvent
from pydbg.engine.breakpoints import BreakpointTable
from pydbg.engine.dispatch import Dispatcher
from pydbg.engine.modules import ModuleRegistry
from pydbg.engine.notify import Notifier
from pydbg.engine.options import Options
from pydbg.engine.stepping import StepMode, StepPlan
from pydbg.engine.symbolizer import Symbolizer
from pydbg.engine.targets import Process, TargetTable, Thread
from pydbg.engine.translate import Context
from pydbg.engine.traps import TrapLedger
from pydbg.errors import (
    EngineError,
    InsideWaitError,
    NoTargetError,
    PydbgError,
    TargetRunningError,
    WrongThreadError,
)
from pydbg.filters import EventFilters
from pydbg.log import COMMANDS as _COMMANDS_LOG
from pydbg.log import DEBUG as _DEBUG
from pydbg.log import NATIVE as _NATIVE_LOG

if TYPE_CHECKING:
    from pydbg.engine.dump import DumpBackend
    from pydbg.engine.rendezvous import ProcessView

_CHANGE_ENGINE_STATE = int(DebugEvent.CHANGE_ENGINE_STATE)


def _native_backend() -> Backend:
    from pydbg._native import Tracer

    return Tracer()


class EngineCore(Options):
    """An engine's state and shared plumbing (the parts build on it)."""

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
        # EndSession(DEBUG_END_REENTRANT) was called (lifecycle.end_reentrant): no call but
        # the teardown's abandon is taken any more.
        self.ended_reentrant = False
        self.command_runner: Callable[[str], int | None] | None = None
        self.traps = TrapLedger(self.targets)
        # The ledger's own dicts, by the names the fast loops use (never rebound: the
        # ledger clears them in place).
        self.resumed_on_site = self.traps.resumed_on_site
        self._trapped = self.traps.trapped
        self.breakpoints = BreakpointTable(self, self.traps)
        self.module_watch = ModuleRegistry(self)  # pid -> its modules
        self.symbols = Symbolizer(self.module_watch)
        # Forked children nobody debugs, traced only until they stop sharing memory with
        # their parent (vfork) so that the parent's int3 bytes cannot kill them.
        self.shadows: set[int] = set()
        # What translation works with besides the record (translate.Context).
        self._context = Context(
            self.targets,
            self.traps,
            self.module_watch,
            self.breakpoints,
            self.shadows,
            self._records,
        )
        # What the native pass set (fastpaths.native_pass_signals) was computed from.
        self._filters_version = 0
        self._pass_key: object = None
        self._pass_checked: ev.Event | None = None
        # Syscall events (syscalls.py): counting on (Control.set_syscall_counting), the
        # entries counted in Python (the stops reported to the engine; the core counts
        # those it passed on), and what the core was last told to pass, for which backend.
        self.syscall_counting = False
        self.syscall_counted: dict[int, int] = {}
        self._syscall_pass: tuple[object, frozenset[int] | None] = (None, None)
        self._syscalls_traced = False  # the last resume traced syscalls
        # The session's target is a core file (open_dump_file): then it is the backend too.
        self.dump: DumpBackend | None = None

    @property
    def backend(self) -> Backend:
        if self._backend is None or self._backend.closed:
            self._backend = self._backend_factory()
        return self._backend

    def process_view(self, pid: int) -> ProcessView | None:
        """The /proc facts of a recorded process (the dump target's) or of one whose /proc
        is not ours (a backend that offers `process_view`, the RSP client's remote-files
        mode); None for a local live one."""
        dump = self.dump
        if dump is not None:
            return dump.process_view() if dump.pid == pid else None
        remote = getattr(self.backend, "process_view", None)
        return remote(pid) if remote is not None else None

    def refuse_dump(self, what: str) -> None:
        """Raise DumpTargetReadOnlyError when the target is a core file: `what` would
        change it."""
        if self.dump is not None:
            from pydbg.errors import DumpTargetReadOnlyError

            raise DumpTargetReadOnlyError(what)

    def check_thread(self, what: str) -> None:
        caller = threading.get_ident()
        if caller != self.owner:
            raise WrongThreadError(self.owner, caller, what)
        if self.ended_reentrant and what != "abandon":
            raise EngineError(
                f"{what}: the engine was ended with DEBUG_END_REENTRANT; make no further calls"
            )

    def output(self, mask: int, text: str) -> None:
        self.notifier.output(mask, text)

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

    def output_warning(self, text: str) -> None:
        self.output(OutputMask.WARNING, f"pydbg: {text}\n")

    def _note_site(self, tid: int, pid: int, pc: int) -> None:
        """The thread is about to run from pc (the trap ledger's `about_to_run`)."""
        table = self.breakpoints
        self.traps.about_to_run(tid, pid, pc, table.sites, table.hw_sites, self._eflags)

    def _eflags(self, tid: int) -> int:
        return self.backend.get_reg(tid, "eflags")

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

    def _cancel_plan_quietly(self) -> None:
        try:
            self._cancel_plan()
        except PydbgError:
            self._plan = None

    def _no_wait(self, what: str) -> None:
        if self.inside_wait:
            raise InsideWaitError(f"{what} cannot be called inside a wait (from a callback)")

    def _alive(self, thread: Thread) -> bool:
        return self.targets.thread(thread.tid) is thread

    def _alive_tid(self, tid: int) -> bool:
        return self.targets.thread(tid) is not None

    def _stop_all(self) -> None:
        if self._running:
            self.backend.stop_all()
            self._running = False

    def _collected(self, records: Sequence[NativeEvent]) -> Sequence[NativeEvent]:
        """Native records as they leave backend.wait: the pydbg.native channel logs them."""
        if self._log_native:
            for record in records:
                _NATIVE_LOG.debug("record %r", record)
        return records

    def load_extension(self, module: ModuleType) -> None:
        if module in self.notifier.extensions:
            return
        self.notifier.extensions.append(module)
        if self.session_active:
            self.notifier.extensions_notify(DebugNotify.SESSION_ACTIVE, only=module)
            if self._status == DebugStatus.BREAK:
                self.notifier.extensions_notify(DebugNotify.SESSION_ACCESSIBLE, only=module)

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
