"""The session's state and the plumbing every part of the engine uses: the backend, the
owner thread, output, the execution status as reported, which threads are alive, the
all-stop primitive, and the small services the engine's helpers call (breakpoints, module
watches, the symbolizer).

Everything the other parts (pydbg.engine.session lists them) share lives here, set up in
one __init__, so that each part reads as what it does with that state.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from types import ModuleType

from pydbg.constants import (
    DEBUG_CES_EXECUTION_STATUS,
    DEBUG_CSS_ALL,
    DEBUG_STATUS_INSIDE_WAIT,
    DebugEvent,
    DebugNotify,
    DebugStatus,
    EngineOptions,
    OutputMask,
)
from pydbg.engine import events as ev
from pydbg.engine.backend import Backend, NativeEvent
from pydbg.engine.breakpoints import EFLAGS_RF, BreakpointTable
from pydbg.engine.dispatch import Dispatcher
from pydbg.engine.modules import ModuleWatch
from pydbg.engine.notify import Notifier
from pydbg.engine.options import Options
from pydbg.engine.stepping import StepMode, StepPlan
from pydbg.engine.symbolizer import Symbolizer
from pydbg.engine.targets import Process, TargetTable, Thread
from pydbg.errors import (
    InsideWaitError,
    NoTargetError,
    PydbgError,
    TargetRunningError,
    WrongThreadError,
)
from pydbg.filters import EventFilters
from pydbg.log import COMMANDS as _COMMANDS_LOG
from pydbg.log import NATIVE as _NATIVE_LOG

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
        self._log = self._log_native = self._log_commands = False
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
        if self._log_commands:
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
