"""Execution commands (SetExecutionStatus, the step family, the native trace loop): what
the next resume runs.  Outside a wait a command arms the mode (a step plan for the steps,
pydbg.engine.stepping); inside a wait it is the caller's vote, which the decision
(pydbg.engine.deciding) combines with the callbacks'.
"""

from __future__ import annotations

import threading

from pydbg._native import TraceResult
from pydbg.constants import (
    DEBUG_BREAKPOINT_GO_ONLY,
    DEBUG_CDS_ALL,
    DEBUG_CES_CODE_LEVEL,
    DEBUG_LEVEL_ASSEMBLY,
    DEBUG_LEVEL_SOURCE,
    DebugStatus,
    EngineOptions,
)
from pydbg.engine.delivery import Delivery
from pydbg.engine.source_lines import LineLookup, hidden_frames
from pydbg.engine.stepping import LineStepPlan, StepMode, StepPlan
from pydbg.engine.targets import Thread
from pydbg.errors import (
    EngineError,
    NoTargetError,
    PtraceError,
    SessionFailedError,
    TargetRunningError,
)
from pydbg.status import SETTABLE

# What set_execution_status accepts, code -> member: one lookup for is_settable + DebugStatus().
_SETTABLE = {int(s): s for s in SETTABLE}

_STEP_INTO = DebugStatus.STEP_INTO

_DISABLE_EXECUTION = int(EngineOptions.DISABLE_EXECUTION_COMMANDS)

_GO_FAMILY = frozenset({DebugStatus.GO, DebugStatus.GO_HANDLED, DebugStatus.GO_NOT_HANDLED})

# Members read on every decided event, as module constants: reading an attribute of an
# enum class goes through EnumType's __getattr__ hook (about 150 ns each on CPython 3.11).
_S_GO, _S_GO_HANDLED, _S_GO_NOT_HANDLED = (
    DebugStatus.GO,
    DebugStatus.GO_HANDLED,
    DebugStatus.GO_NOT_HANDLED,
)

_STEPS = frozenset({DebugStatus.STEP_INTO, DebugStatus.STEP_OVER, DebugStatus.STEP_BRANCH})


# What a dump target (a core file) says when asked to run, by the status asked for.
_DUMP_REFUSALS = {
    DebugStatus.STEP_INTO: "step (t)",
    DebugStatus.STEP_OVER: "step over (p)",
    DebugStatus.STEP_BRANCH: "branch step (tb)",
}


class Arming(Delivery):
    """SetExecutionStatus, steps and trace: arming what the next resume runs."""

    # GetCodeLevel / SetCodeLevel: in source mode STEP_INTO / STEP_OVER step by line.
    code_level: int = DEBUG_LEVEL_ASSEMBLY

    def set_code_level(self, level: int) -> None:
        if level not in (DEBUG_LEVEL_SOURCE, DEBUG_LEVEL_ASSEMBLY):
            raise EngineError(
                f"code level is DEBUG_LEVEL_SOURCE (0) or DEBUG_LEVEL_ASSEMBLY (1), not {level!r}"
            )
        if level != self.code_level:
            self.code_level = level
            self.notifier.engine_state(DEBUG_CES_CODE_LEVEL, level)

    def set_execution_status(self, status: int, count: int = 1) -> None:
        """SetExecutionStatus: what the next wait does.  Inside a wait it is the vote of
        whoever calls it (a callback or a command).  `count` repeats a step."""
        if threading.get_ident() != self.owner or self.ended_reentrant:
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
        if self.dump is not None:  # (tested here: this is every step's path)
            self.refuse_dump(_DUMP_REFUSALS.get(status, "go"))
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
            self._plan.removed_sites = self.breakpoints.removed_sites

    def _arm(self, status: DebugStatus, count: int = 1) -> None:
        """Make `status` the execution mode the next resume uses."""
        if self._plan is not None:
            self._cancel_plan()
        if status in _STEPS:
            thread = self.current
            if thread is None or thread.tid not in thread.process.threads:
                raise NoTargetError("no current thread to step")
            if self._step_mode is None:
                if self.code_level == DEBUG_LEVEL_SOURCE and status != DebugStatus.STEP_BRANCH:
                    self._plan = self._make_plan(status, thread, count, StepMode.LINE, None)
                else:
                    self._plan = StepPlan(status, thread, count)
            else:
                mode, address = self._step_mode
                self._step_mode = None
                self._plan = self._make_plan(status, thread, count, mode, address)
            self._plan.removed_sites = self.breakpoints.removed_sites
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
        self.refuse_dump("trace")
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
        self.traps.left(thread.tid)
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
        if mode == StepMode.LINE:
            lines = LineLookup(self.symbols, thread.process.pid)
            _, hidden = hidden_frames(lines, thread, self.backend.get_pc(thread.tid))
            caller = lambda: self.caller_frame(thread)  # noqa: E731
            return LineStepPlan(status, thread, count, lines, caller, hidden)
        frame = None
        if mode == StepMode.GO_UP:
            frame = self.caller_frame(thread)
            if frame is None:
                raise EngineError(
                    "gu: cannot find the caller of the current function (no unwind "
                    "information and no frame pointer)"
                )
        return StepPlan(status, thread, count, mode, address, frame)
