"""Threads and stack frames of a scripted process: `proc.threads`, `thread.regs`,
`proc.backtrace()`.

A `ThreadView` names one thread of the process (tid, engine id).  Its `pc`, `regs` and
`backtrace()` select the thread in the system objects facet for the time of the call and
select the previous current thread again after it, so that reading another thread never
changes what `proc.regs` means.  A `Frame` is one StackFrame of the control facet, split
into the parts a script compares: module, function, offset, file, line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.control import StackFrame
from pydbg.scripting.registers_view import RegistersView

if TYPE_CHECKING:
    from pydbg.client import DebugClient

__all__ = ["Frame", "ThreadView", "frames"]

Access = Callable[[str], AbstractContextManager[object]]


@dataclass(frozen=True)
class Frame:
    """One frame of a call stack, innermost first.  `pc` is where the frame is (for the
    callers, the return address); `module`/`function`/`offset` split `module!name+0x1f`
    (function None where the module has no symbol there, module None outside every
    module); `file` and `line` are known with DWARF line information."""

    number: int
    pc: int
    module: str | None
    function: str | None
    offset: int
    file: str | None = None
    line: int | None = None
    cfa: int = 0

    @property
    def symbol(self) -> str:
        """`module!function+0x1f` (what cdb's `k` shows), or the pc in hex."""
        if self.module is None:
            return f"{self.pc:#x}"
        name = f"{self.module}!{self.function}" if self.function else self.module
        return f"{name}+{self.offset:#x}" if self.offset else name

    def __str__(self) -> str:
        where = f" [{self.file}:{self.line}]" if self.file else ""
        return f"#{self.number} {self.pc:#x} {self.symbol}{where}"


def _frame(frame: StackFrame) -> Frame:
    module: str | None = None
    function: str | None = None
    offset = 0
    if frame.symbol:
        name, plus, displacement = frame.symbol.rpartition("+")
        if plus and displacement.startswith("0x"):
            offset = int(displacement, 16)
        else:  # no displacement (a `+` of the name itself, as in C++'s operator+)
            name = frame.symbol
        module, bang, function_name = name.partition("!")
        function = function_name if bang else None
    file: str | None = None
    line: int | None = None
    if frame.source:
        path, _, number = frame.source.rpartition(":")
        file, line = path, int(number)
    return Frame(
        frame.frame_number, frame.instruction_offset, module, function, offset, file, line,
        frame.frame_offset,
    )  # fmt: skip


def frames(client: DebugClient, max_frames: int) -> list[Frame]:
    """The current thread's call stack (GetStackTrace)."""
    return [_frame(f) for f in client.control.get_stack_trace(max_frames)]


class ThreadView:
    """One thread of the process: `tid`, `engine_id`, `pc`, `regs`, `backtrace()`."""

    def __init__(self, client: DebugClient, access: Access, tid: int, engine_id: int) -> None:
        self._client = client
        self._outer = access
        self.tid = tid
        self.engine_id = engine_id
        self.regs = RegistersView(client.registers, self._access)

    def __repr__(self) -> str:
        return f"<ThreadView tid={self.tid}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ThreadView) and (other.tid, other._client) == (
            self.tid,
            self._client,
        )

    def __hash__(self) -> int:
        return hash(self.tid)

    @contextmanager
    def _access(self, what: str) -> Iterator[None]:
        """The process's own check, then this thread made current for the call."""
        with self._outer(what):
            objects = self._client.system_objects
            previous = objects.get_current_thread_id()
            if previous != self.engine_id:
                objects.set_current_thread_id(self.engine_id)
            try:
                yield
            finally:
                if previous != self.engine_id:
                    objects.set_current_thread_id(previous)

    @property
    def pc(self) -> int:
        return self.regs.rip

    def backtrace(self, max_frames: int = 64) -> list[Frame]:
        """This thread's call stack, innermost first."""
        with self._access("unwind a stack"):
            return frames(self._client, max_frames)
