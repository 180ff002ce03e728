"""Step plans: what the engine does for STEP_INTO, STEP_OVER and STEP_BRANCH, and how it
knows a step has ended (spec §9.3).

A plan belongs to one thread (the current thread when the step was asked for) and may take
a count (`t 100`): the engine breaks in only when the last step ends.

* STEP_INTO single-steps that thread while every other thread stays stopped (like gdb's
  `scheduler-locking step`): one instruction must not let the rest of the program run, and
  it keeps a step at three system calls.  A signal that arrives first is reported; passed on
  not handled, the step enters the handler (the kernel delivers it and the step stops at
  the handler's first instruction).
* STEP_OVER steps like STEP_INTO, except over a `call` or a `rep`-prefixed string
  instruction: then every thread runs (the call may wait for them) until the thread comes
  back to the next instruction at the same or a shallower stack depth, so a recursive call
  that reaches the same address deeper down does not end the step.
* STEP_BRANCH runs the thread to its next taken branch with the native branch step.

Events of other kinds that arrive meanwhile are decided as usual; if nobody breaks or asks
for something else the plan goes on (IGNORE_EVENT semantics, §4.6).
"""

from __future__ import annotations

import contextlib
from enum import Enum

import capstone

from pydbg._native import EventKind
from pydbg.constants import DebugStatus
from pydbg.engine.backend import Backend, NativeEvent
from pydbg.engine.targets import Thread

_CS = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
# The longest x86 instruction.
_MAX_INSN = 15
_REP_PREFIXES = {0xF2, 0xF3}
_STRING_MNEMONICS = ("movs", "stos", "lods", "cmps", "scas", "ins", "outs")


class Outcome(Enum):
    COMPLETE = "complete"  # the plan is done: break in
    AGAIN = "again"  # one step of several ended: run the plan again
    RUNNING = "running"  # nothing to report; the plan's thread goes on (others may run)
    NOT_MINE = "not mine"  # the record is not about this plan


def _runs_to_next(backend: Backend, pid: int, pc: int) -> int | None:
    """If the instruction at pc is one STEP_OVER runs over, the address after it."""
    try:
        code = backend.read_memory(pid, pc, _MAX_INSN, partial=True)
    except OSError:
        return None
    for insn in _CS.disasm(code, pc, 1):
        if insn.mnemonic.startswith("call"):
            return int(insn.address + insn.size)
        prefixes = set(insn.bytes[: max(0, insn.size - 1)]) & _REP_PREFIXES
        if prefixes and insn.mnemonic.split()[-1].startswith(_STRING_MNEMONICS):
            return int(insn.address + insn.size)
    return None


class StepPlan:
    """A step of `status` by `thread`, `count` times."""

    __slots__ = (
        "status",
        "thread",
        "remaining",
        "_return_address",
        "_stack",
        "_inserted",
        "runs_all",
    )

    def __init__(self, status: DebugStatus, thread: Thread, count: int = 1) -> None:
        self.status = status
        self.thread = thread
        self.remaining = count if count > 1 else 1
        # STEP_OVER over a call: the temporary breakpoint and the stack depth to return to.
        self._return_address: int | None = None
        self._stack: int = 0
        self._inserted = False
        # Every thread runs (True) or only the plan's thread steps (False).
        self.runs_all = False

    def __repr__(self) -> str:
        return f"<StepPlan {self.status.name} {self.thread!r} remaining={self.remaining}>"

    def run(self, backend: Backend, signals: dict[int, int]) -> NativeEvent | None:
        """Start (or go on with) the plan.  Returns the record of a synchronous step, or
        None when threads were set running and the record will come from a wait."""
        tid = self.thread.tid
        pid = self.thread.process.pid
        if self.status == DebugStatus.STEP_BRANCH:
            self.runs_all = False
            if tid in signals:
                # A signal to deliver first: the branch step cannot carry one, so the
                # first instruction is stepped with it (into the handler).
                return backend.step(tid, signals.pop(tid))
            return backend.branch_step(tid)
        if self.status == DebugStatus.STEP_OVER and not self._inserted:
            self._return_address = _runs_to_next(backend, pid, backend.get_pc(tid))
            if self._return_address is not None:
                self._stack = backend.get_reg(tid, "rsp")
                backend.insert_breakpoint(pid, self._return_address)
                self._inserted = True
        if self._inserted:
            self.runs_all = True
            backend.cont_all(signals=signals)
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
        self.remaining -= 1
        return Outcome.COMPLETE if self.remaining <= 0 else Outcome.AGAIN

    def cancel(self, backend: Backend) -> None:
        """Remove what the plan planted (its temporary breakpoint)."""
        if self._inserted and self._return_address is not None:
            self._inserted = False
            # OSError: the process is gone, and its breakpoint with it.
            with contextlib.suppress(OSError):
                backend.remove_breakpoint(self.thread.process.pid, self._return_address)
