"""Step plans: what the engine does for each kind of step, and how it knows a step has
ended (spec §8, §9.3).

A plan belongs to one thread (the current thread when the step was asked for) and may take
a count (`t 100`): the engine breaks in only when the last step ends.

* STEP_INTO (`t`) single-steps that thread while every other thread stays stopped (like
  gdb's `scheduler-locking step`): one instruction must not let the rest of the program
  run.  A signal that arrives first is reported; passed on not handled, the step enters the
  handler (the kernel delivers it and the step stops at the handler's first instruction).
* STEP_OVER (`p`) steps like STEP_INTO, except over a `call` or a `rep`-prefixed string
  instruction: then every thread runs (the call may wait for them) until the thread comes
  back to the next instruction at the same or a shallower stack depth, so a recursive call
  that reaches the same address deeper down does not end the step.  `syscall` is one
  instruction either way: the kernel runs the call, the step ends after it (as cdb).
* STEP_BRANCH (`tb`) runs the thread to its next taken branch with the native branch step.
* The "to" modes step (into: `tc tt th ta`; over calls: `pc pt ph pa`) until the *next*
  instruction to execute is a call (`tc`/`pc`), a return (`tt`/`pt`), any control transfer
  (`th`/`ph`: jumps, conditional jumps, calls, returns, system calls), or is at an address
  (`ta`/`pa`).
  At least one instruction runs, so `tc` at a call enters it and stops at the next call.
* GO_UP (`gu`) runs every thread until the current function returns to its caller: a
  temporary breakpoint at the return address, and a stack check so that a recursive
  instance returning to the same address deeper down does not end it.

* LINE (source mode, DbgEng's DEBUG_LEVEL_SOURCE: `p` and `t` after `l+t`) steps by source
  line, as gdb's `next` (over) and `step` (into); `LineStepPlan` below has the rule.

Events of other kinds that arrive meanwhile are decided as usual; if nobody breaks or asks
for something else the plan goes on (IGNORE_EVENT semantics, §4.6).
"""

from __future__ import annotations

import contextlib
import os
import signal as _signal
from collections.abc import Callable, Set
from dataclasses import dataclass
from enum import Enum

from pydbg._native import EventKind
from pydbg.constants import DebugStatus
from pydbg.engine.backend import Backend, NativeEvent
from pydbg.engine.disassembler import MAX_INSN, Insn, classify
from pydbg.engine.source_lines import LineAt, LineLookup, hidden_at
from pydbg.engine.targets import Thread
from pydbg.errors import PydbgError


class StepError(PydbgError, RuntimeError):
    """A step cannot be planned (gu without a known caller, say)."""


class StepMode(Enum):
    """What a step runs to (beyond DbgEng's three statuses, which map to INTO/OVER/BRANCH)."""

    INTO = "t"
    BRANCH = "tb"
    TO_CALL = "tc"
    TO_RETURN = "tt"
    TO_BRANCHING = "th"
    TO_ADDRESS = "ta"
    GO_UP = "gu"
    LINE = "line"


_STOPS_AT: dict[StepMode, frozenset[Insn]] = {
    StepMode.TO_CALL: frozenset({Insn.CALL}),
    StepMode.TO_RETURN: frozenset({Insn.RETURN}),
    StepMode.TO_BRANCHING: frozenset({Insn.CALL, Insn.RETURN, Insn.JUMP, Insn.SYSTEM}),
}


_INTO, _BRANCH, _GO_UP = StepMode.INTO, StepMode.BRANCH, StepMode.GO_UP
_STEP_BRANCH, _STEP_OVER = DebugStatus.STEP_BRANCH, DebugStatus.STEP_OVER


class Outcome(Enum):
    COMPLETE = "complete"  # the plan is done: break in
    AGAIN = "again"  # one step of several ended: run the plan again
    RUNNING = "running"  # nothing to report; the plan's thread goes on (others may run)
    NOT_MINE = "not mine"  # the record is not about this plan


class StepPlan:
    """A step of `mode` by `thread`, `count` times; `status` is what the engine reports.

    (One is made per `t`, so what most plans keep as it starts is a class default: an
    instance sets only what differs.)"""

    # GO_UP: (return address, stack pointer after the return) of the current frame.
    frame: tuple[int, int] | None = None
    address: int | None = None
    # A temporary breakpoint (over a call, or gu's return) and the stack depth to return to.
    _return_address: int | None = None
    _stack: int = 0
    _inserted = False
    _decoded: dict[int, tuple[Insn, int]] | None = None
    # Every thread runs (True) or only the plan's thread steps (False).
    runs_all = False
    # The breakpoint table's removed int3 sites (set by the engine), where cancel() notes
    # the temporary breakpoint it removes.
    removed_sites: dict[tuple[int, int], None] | None = None

    def __init__(
        self,
        status: DebugStatus,
        thread: Thread,
        count: int = 1,
        mode: StepMode | None = None,
        address: int | None = None,
        frame: tuple[int, int] | None = None,
    ) -> None:
        self.status = status
        if mode is None:
            mode = _BRANCH if status is _STEP_BRANCH else _INTO
        self.mode = mode
        self.over = over = status is _STEP_OVER
        self.thread = thread
        self.remaining = count if count > 1 else 1
        if address is not None:
            self.address = address
        if frame is not None:
            self.frame = frame
        # The plan only ever single-steps its thread (the engine's tight loop can run it).
        self.single_thread = not over and mode is not _GO_UP

    def __repr__(self) -> str:
        over = " over" if self.over else ""
        return f"<StepPlan {self.mode.name}{over} {self.thread!r} remaining={self.remaining}>"

    def decode(self, backend: Backend, pc: int) -> tuple[Insn, int]:
        if self._decoded is None:
            self._decoded = {}
        known = self._decoded.get(pc)
        if known is None:
            try:
                code = backend.read_memory(self.thread.process.pid, pc, MAX_INSN, partial=True)
            except OSError:
                code = b""
            known = self._decoded[pc] = classify(code, pc)
        return known

    def arrived(self, backend: Backend, pc: int) -> bool:
        """After a step that ended at pc: has this plan reached what it runs to?"""
        mode = self.mode
        if mode in (StepMode.INTO, StepMode.BRANCH, StepMode.GO_UP):
            return True
        if mode == StepMode.TO_ADDRESS:
            return pc == self.address
        return self.decode(backend, pc)[0] in _STOPS_AT[mode]

    def run(
        self, backend: Backend, signals: dict[int, int], syscall: Set[int] = frozenset()
    ) -> NativeEvent | None:
        """Start (or go on with) the plan.  Returns the record of a synchronous step, or
        None when threads were set running and the record will come from a wait; those
        in `syscall` run under PTRACE_SYSCALL (pydbg.engine.syscalls)."""
        tid = self.thread.tid
        pid = self.thread.process.pid
        if self.mode == StepMode.BRANCH:
            self.runs_all = False
            if tid in signals:
                # A signal to deliver first: the branch step cannot carry one, so the
                # first instruction is stepped with it (into the handler).
                return backend.step(tid, signals.pop(tid))
            return backend.branch_step(tid)
        if not self._inserted:
            target = None
            if self.mode == StepMode.GO_UP:
                if self.frame is None:
                    raise StepError("gu: the caller of the current function is unknown")
                target, self._stack = self.frame
            elif self.over:
                pc = backend.get_pc(tid)
                kind, length = self.decode(backend, pc)
                if kind in (Insn.CALL, Insn.REP_STRING) and length:
                    target, self._stack = pc + length, backend.get_reg(tid, "rsp")
            if target is not None:
                backend.insert_breakpoint(pid, target)
                self._return_address = target
                self._inserted = True
        if self._inserted:
            self.runs_all = True
            backend.cont_all(signals=signals, syscall=syscall)
            signals.clear()
            return None
        self.runs_all = False
        return backend.step(tid, signals.pop(tid, 0))

    def on_record(self, record: NativeEvent, backend: Backend) -> Outcome:
        """Classify a native record while this plan is in progress."""
        if record.tid != self.thread.tid:
            if (
                self._inserted
                and record.kind == EventKind.BREAKPOINT
                and record.address == self._return_address
            ):
                return Outcome.RUNNING  # another thread passed our return address
            return Outcome.NOT_MINE
        if self._inserted:
            if record.kind != EventKind.BREAKPOINT or record.address != self._return_address:
                return Outcome.NOT_MINE
            if backend.get_reg(record.tid, "rsp") < self._stack:
                return Outcome.RUNNING  # a deeper (recursive) arrival
            self.cancel(backend)
        elif record.kind != EventKind.STEP:
            return Outcome.NOT_MINE
        if not self.arrived(backend, record.address):
            return Outcome.AGAIN
        self.remaining -= 1
        return Outcome.COMPLETE if self.remaining <= 0 else Outcome.AGAIN

    def cancel(self, backend: Backend) -> None:
        """Remove what the plan planted (its temporary breakpoint)."""
        if self._inserted and self._return_address is not None:
            self._inserted = False
            pid = self.thread.process.pid
            # OSError: the process is gone, and its breakpoint with it.
            with contextlib.suppress(OSError):
                backend.remove_breakpoint(pid, self._return_address)
            if self.removed_sites is not None:
                # Another thread may have trapped on it meanwhile: that late trap is
                # the plan's, not a foreign int3 (the breakpoint table's rule, §9.3).
                self.removed_sites[(pid, self._return_address)] = None


class LineStepPlan(StepPlan):
    """A source-line step (gdb's `next` when `over`, `step` otherwise), the one place the
    line-stepping rule lives:

    * The thread single-steps while its pc stays in the current line's code.  A call is
      stepped over (every thread runs until the thread returns to the next instruction at
      the same stack depth: recursion is safe) by `p`; `t` enters it.
    * Out of the current line's code: at the start of a statement (an is_stmt row) of
      another line, the step ends.  In the middle of a line (a jump back into a `for`
      line, say), or at the start of the same line again, stepping goes on with that
      line as the current one (gdb's set_step_info).
    * `t` into a function with line info: its opening line becomes the current line, so
      the step ends at the first statement after the prologue (as gdb's prologue skip on
      gcc code).  Into a PLT stub: single-steps on to the function it jumps to; through
      the loader's lazy-binding resolver as gdb does (to _dl_fixup's return, then on);
      without the loader's symbols the call runs to its return.
      Into a function without line info: runs until it returns (gdb's step over
      undebuggable functions).
    * A `ret` of the current function goes on in the caller by the same rule: the step
      ends there if a statement of another line starts at the return address (gcc marks
      the rest of a `x = f();` line so), else it goes on to the next one.
    * Started where there is no line info, the function runs to its return and the step
      goes on to the end of the caller's line (gdb); one instruction when the caller is
      unknown.

    Inlined calls (DW_TAG_inlined_subroutine) are frames, as gdb's infrun has them: a
    step's frame is the physical one plus the inlined calls visible at its start (those
    whose code starts exactly at a stop's pc are hidden: the stop is at their call site).

    * `t` with hidden inlined calls runs nothing: the outermost hidden one is entered
      (gdb's step_into_inline_frame: frame 0 becomes the inlined function, same pc).
    * Out of the line's code, at the start of inlined calls of the step's frame (their
      entry): `p` goes on through them when their call site is the line stepped from,
      else stops at the call site; `t` enters the outermost when its call site is the
      line stepped from, else stops at the call site (gdb's "calls to inlined functions,
      part one").
    * Inside an inlined call deeper than the step's frame (past its entry): `p` goes on
      (the body is stepped over as a call is), `t` stops (part two).
    * Out of an inlined call into its caller, the line rule above decides: a statement
      of another line ends the step, the middle of a line goes on with that line (and
      the caller's frame) as the current one; a non-statement row there makes the
      caller's frame the step's at no line, so that the next line (or inlined call) it
      reaches ends the step (gdb: "stepped to a different frame, but it's not the start
      of a statement").
    The count of hidden inlined calls at the end is left on the thread
    (`Thread.inline_stop`) for the next step and the displays (pydbg.engine
    .source_lines.hidden_frames).

    `lines` answers line questions about runtime addresses (pydbg.engine.source_lines).
    """

    runs_all = False

    def __init__(
        self,
        status: DebugStatus,
        thread: Thread,
        count: int,
        lines: LineLookup,
        caller: Callable[[], tuple[int, int] | None] | None = None,
        hidden: int = 0,
    ) -> None:
        super().__init__(status, thread, count, StepMode.LINE)
        self.single_thread = False
        self.lines = lines
        self.caller = caller  # (return address, sp after the return) of the function
        self._hidden = hidden  # inlined calls hidden at the pc as the step starts
        # The inlined blocks of the step's frame, innermost first (None: take those at
        # the pc, after the physical frame changed), and the hidden count to stop with.
        self._frame: tuple[int, ...] | None = None
        self._stop_hidden: int | None = None
        self._virtual = False  # the step entered a hidden inlined call without running
        self._line: LineAt | None = None
        self._started = False
        self._last: Insn | None = None
        self._call: tuple[int, int] | None = None  # (return address, rsp before the call)
        self._following_plt = False
        self._arriving = False  # running to the end of a prologue: the step ends there
        self._leaving = False  # running out of a function without line info
        # Through the loader's lazy-binding resolver: None, "fixup" (running to
        # _dl_fixup), "return" (running to its return); then _through_resolver.
        self._resolving: str | None = None
        self._through_resolver = False

    def __repr__(self) -> str:
        over = " over" if self.over else ""
        return f"<LineStepPlan{over} {self.thread!r} remaining={self.remaining}>"

    def arrived(self, backend: Backend, pc: int) -> bool:
        return True

    def _plant(self, backend: Backend, address: int, stack: int) -> None:
        backend.insert_breakpoint(self.thread.process.pid, address)
        self._return_address, self._stack = address, stack
        self._inserted = True

    def run(
        self, backend: Backend, signals: dict[int, int], syscall: Set[int] = frozenset()
    ) -> NativeEvent | None:
        tid = self.thread.tid
        if not self._started:
            self._started = True
            pc = backend.get_pc(tid)
            chain = self.lines.inline_chain(pc)
            hidden = min(self._hidden, len(chain))
            if hidden and not self.over:
                # gdb's step_into_inline_frame: frame 0 becomes the inlined function.
                self._stop_hidden = hidden - 1
                self._virtual = True
                return _Stepped(EventKind.STEP, tid, self.thread.process.pid, pc)
            self._frame = tuple(c.block for c in chain[hidden:])
            self._line = self.lines.at(pc)
            if hidden and self._line is not None:
                # Stepping from the call site of a hidden inlined call: that line is
                # the current one (the inlined body is deeper, stepped over).
                shown = self.lines.shown_line(pc, chain, hidden)
                if shown is not None:
                    self._line = LineAt(shown, pc, True, self._line.start, self._line.end)
            frame = None
            if self._line is None:
                if self.lines.at_function_entry(backend.get_pc(tid)):
                    # At the entry the return address is on top of the stack (the
                    # unwinder's frame-pointer fallback would be wrong there, in code
                    # without CFI).
                    rsp = backend.get_reg(tid, "rsp")
                    pid = self.thread.process.pid
                    data = backend.read_memory(pid, rsp, 8, partial=True)
                    if len(data) == 8:
                        frame = (int.from_bytes(data, "little"), rsp + 8)
                if frame is None and self.caller is not None:
                    frame = self.caller()
            if frame is not None:
                # No line info here: run to the return to the caller (gdb: "single
                # stepping until exit from function ..., which has no line number
                # information"), then on to the end of the caller's line.
                self._leaving = True
                self._plant(backend, *frame)
        if not self._inserted:
            pc = backend.get_pc(tid)
            kind, length = self.decode(backend, pc)
            self._last = kind
            if kind is Insn.CALL and length:
                rsp = backend.get_reg(tid, "rsp")
                self._call = (pc + length, rsp)
                if self.over and self._line is not None:
                    self._plant(backend, pc + length, rsp)
            elif kind is Insn.REP_STRING and length:
                self._plant(backend, pc + length, backend.get_reg(tid, "rsp"))
        if self._inserted:
            self.runs_all = True
            backend.cont_all(signals=signals, syscall=syscall)
            signals.clear()
            return None
        self.runs_all = False
        return backend.step(tid, signals.pop(tid, 0))

    def on_record(self, record: NativeEvent, backend: Backend) -> Outcome:
        if record.tid != self.thread.tid:
            if (
                self._inserted
                and record.kind == EventKind.BREAKPOINT
                and record.address == self._return_address
            ):
                return Outcome.RUNNING
            return Outcome.NOT_MINE
        stepped_in = False
        arrived = False
        if self._virtual:
            if record.kind != EventKind.STEP:
                return Outcome.NOT_MINE
            self._virtual = False
            return self._done(record.address)
        if self._inserted:
            if record.kind != EventKind.BREAKPOINT or record.address != self._return_address:
                return Outcome.NOT_MINE
            if backend.get_reg(record.tid, "rsp") < self._stack:
                return Outcome.RUNNING  # a deeper (recursive) arrival
            self.cancel(backend)
            self._last = None
            if self._resolving is not None:
                return self._resolved_on(backend, record.address)
            if self._leaving:
                self._leaving = False
                self._frame = None  # in the caller now
                self._line = self.lines.at(record.address)
                if self._line is not None:
                    return Outcome.AGAIN
            arrived, self._arriving = self._arriving, False
        elif record.kind != EventKind.STEP:
            return Outcome.NOT_MINE
        else:
            stepped_in = self._last is Insn.CALL
        if arrived or self._next(backend, record.address, stepped_in):
            return self._done(record.address)
        return Outcome.AGAIN

    def _done(self, pc: int) -> Outcome:
        """One line step ended at pc: note the inlined calls hidden there."""
        hidden = self._stop_hidden
        if hidden is None:
            hidden = hidden_at(pc, self.lines.inline_chain(pc))
        self._stop_hidden = None
        self.thread.inline_stop = (pc, hidden)
        self._hidden = hidden
        self._frame = None
        self.remaining -= 1
        if self.remaining <= 0:
            return Outcome.COMPLETE
        self._started = False
        self._following_plt = self._through_resolver = False
        return Outcome.AGAIN

    def _resolved_on(self, backend: Backend, pc: int) -> Outcome:
        """The lazy-binding resolver's way to the function called (gdb's
        glibc_skip_solib_resolver): run to _dl_fixup, then to its return, then single-step
        the rest of the trampoline to the function it jumps to."""
        if self._resolving == "fixup":
            rsp = backend.get_reg(self.thread.tid, "rsp")
            data = backend.read_memory(self.thread.process.pid, rsp, 8, partial=True)
            if len(data) == 8:
                self._resolving = "return"
                self._plant(backend, int.from_bytes(data, "little"), rsp + 8)
                return Outcome.AGAIN
        self._resolving = None
        self._through_resolver = True
        self._following_plt = True
        return Outcome.AGAIN

    def _step_out(self, backend: Backend) -> None:
        """Run until the call being stepped into returns to its caller."""
        assert self._call is not None
        self._plant(backend, *self._call)

    def _next(self, backend: Backend, pc: int, stepped_in: bool) -> bool:
        """After one instruction (or a call run to its return) left the thread at pc:
        has the line step ended?"""
        current = self._line
        if current is None:
            return True  # no line info where it started: one instruction
        last, self._last = self._last, None
        if stepped_in or self._following_plt:
            lines = self.lines
            if lines.in_resolver(pc):
                if self._through_resolver:
                    return False  # the rest of the trampoline, one instruction at a time
                fixup = lines.symbol_address("_dl_fixup")
                if fixup is None:  # the loader has no symbols: run the call to its end
                    self._following_plt = False
                    self._step_out(backend)
                    return False
                self._resolving = "fixup"
                self._plant(backend, fixup, 0)
                return False
            if lines.in_plt(pc):
                self._following_plt = True
                return False
            self._following_plt = self._through_resolver = False
            self._frame = None  # a new physical frame
            entered = lines.at(pc)
            if entered is None:
                self._step_out(backend)
                return False
            target = lines.after_prologue(pc, entered)
            if target == pc:
                return True
            self._arriving = True
            self._plant(backend, target, 0)
            return False
        if current.start <= pc < current.end and last is not Insn.RETURN:
            return False
        if last is Insn.RETURN:
            self._frame = None  # the physical frame changed: no inlined call to compare
        here = self.lines.at(pc)
        if here is None:
            return True
        chain = self.lines.inline_chain(pc)
        hidden = hidden_at(pc, chain)
        visible = tuple(c.block for c in chain[hidden:])
        frame = self._frame
        if frame is not None:
            if visible == frame and hidden:
                # At the entry of inlined calls made from the step's frame (part one).
                call = chain[hidden - 1]
                from_here = call.call_line == current.key[1] and os.path.basename(
                    call.call_file
                ) == os.path.basename(current.key[0])
                if self.over and from_here:
                    return False  # through them, as over a call
                self._stop_hidden = hidden - 1 if from_here else hidden
                return True
            if len(visible) > len(frame) and visible[len(visible) - len(frame) :] == frame:
                # Inside an inlined call deeper than the step's frame (part two).
                if self.over:
                    return False
                self._stop_hidden = hidden
                return True
        if here.row == pc and here.key != current.key:
            if here.statement:
                return True
            if frame is None or visible == frame:
                # A non-statement row of another line: its range, but the line stepped
                # from stays the current one (gdb's refresh_step_info = false).
                self._line = LineAt(current.key, here.row, False, here.start, here.end)
                return False
            # ... in another (inline) frame: that frame is the step's, at no line, so
            # that the next line it reaches ends the step (gdb: "stepped to a
            # different frame, but it's not the start of a statement").
            self._line = LineAt(("", 0), here.row, False, here.start, here.end)
            self._frame = visible
            return False
        self._line = here
        self._frame = visible  # gdb's set_step_info: this frame is the step's now
        return False


@dataclass(frozen=True, slots=True)
class _Stepped:
    """The record of a step that ran nothing (into a hidden inlined call): a STEP at the
    same pc, shaped as the native layer's records are."""

    kind: EventKind
    tid: int
    pid: int
    address: int
    signal: int = int(_signal.SIGTRAP)
    status: int = 0
    message: int = 0
    exit_code: int = -1
    core_dumped: bool = False
    si_code: int = 0
    siginfo: bytes | None = None
    sender_pid: int = 0
    dr6: int = 0
    syscall_op: int = 0
    syscall_nr: int = 0
    syscall_ret: int = 0
