"""DbgEng events as values: what one event callback is called with.

`pydbg.engine.translate` makes these from native wait records; `pydbg.engine.dispatch`
decides each one.  Every event names its thread and process; `method` and `mask` say which
IDebugEventCallbacks method hears it and under which interest bit, `args()` what it is
called with, and `specific_filter` which specific event filter governs it (exceptions are
governed by their code instead).

`StepComplete` is not a DbgEng event: it is the engine's own break when a step it began
ends (spec §4.6: "engine-internal, not an Exception callback").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from pydbg.constants import DebugEvent, SpecificFilter
from pydbg.engine.signals import ExceptionRecord
from pydbg.engine.targets import Process, Thread


@dataclass(eq=False)
class Event:
    """Base of the events.  `thread` is None only for a process that is already gone."""

    process: Process
    thread: Thread | None

    mask: ClassVar[int] = 0  # the DEBUG_EVENT_* bit (a plain int: it is tested per callback)
    method: ClassVar[str] = ""
    specific_filter: ClassVar[SpecificFilter | None] = None

    def args(self) -> tuple[object, ...]:
        return ()

    def filter_name(self) -> str | None:
        """The name a specific filter's argument is matched against (process image)."""
        return None


@dataclass(eq=False)
class CreateProcess(Event):
    base_offset: int = 0
    module_size: int = 0
    module_name: str = ""
    image_name: str = ""
    thread_data_offset: int = 0
    start_offset: int = 0

    mask = int(DebugEvent.CREATE_PROCESS)
    method = "create_process"
    specific_filter = SpecificFilter.CREATE_PROCESS

    def args(self) -> tuple[object, ...]:
        tid = self.thread.tid if self.thread else 0
        return (
            0,  # image_file_handle
            self.process.pid,  # handle
            self.base_offset,
            self.module_size,
            self.module_name,
            self.image_name,
            0,  # check_sum
            0,  # time_date_stamp
            tid,  # initial_thread_handle
            self.thread_data_offset,
            self.start_offset,
        )

    def filter_name(self) -> str:
        return self.image_name


@dataclass(eq=False)
class ExitProcess(Event):
    exit_code: int = 0
    # The signal that killed it (0: it exited): exit_code alone cannot tell a death by
    # signal N from an exit(128 + N).
    exit_signal: int = 0
    # The process was already reaped when pydbg learnt of its end (killed by SIGKILL, which
    # skips the exit stop): it cannot be inspected, and it is discarded right after.
    gone: bool = False

    mask = int(DebugEvent.EXIT_PROCESS)
    method = "exit_process"
    specific_filter = SpecificFilter.EXIT_PROCESS

    def args(self) -> tuple[object, ...]:
        return (self.exit_code,)

    def filter_name(self) -> str:
        return self.process.image_name


@dataclass(eq=False)
class CreateThread(Event):
    data_offset: int = 0
    start_offset: int = 0

    mask = int(DebugEvent.CREATE_THREAD)
    method = "create_thread"
    specific_filter = SpecificFilter.CREATE_THREAD

    def args(self) -> tuple[object, ...]:
        return (self.thread.tid if self.thread else 0, self.data_offset, self.start_offset)


@dataclass(eq=False)
class ExitThread(Event):
    exit_code: int = 0

    mask = int(DebugEvent.EXIT_THREAD)
    method = "exit_thread"
    specific_filter = SpecificFilter.EXIT_THREAD

    def args(self) -> tuple[object, ...]:
        return (self.exit_code,)


@dataclass(eq=False)
class ExceptionEvent(Event):
    """Exception: a signal, a foreign int3 or trace trap, the initial breakpoint, a break-in."""

    record: ExceptionRecord | None = None
    first_chance: bool = True
    # The initial breakpoint: governed by the `ibp` specific filter, not by `bpe` (§5.2).
    initial: bool = False
    # The signal a not-handled resume delivers (0: nothing to deliver).
    signo: int = 0

    mask = int(DebugEvent.EXCEPTION)
    method = "exception"

    def args(self) -> tuple[object, ...]:
        return (self.record, self.first_chance)

    def specific_filter_index(self) -> SpecificFilter:
        """The initial breakpoint's filter (only meaningful when `initial`)."""
        return SpecificFilter.INITIAL_BREAKPOINT


@dataclass(eq=False)
class StepComplete(Event):
    """A step the engine began has ended: the engine breaks in."""


@dataclass(eq=False)
class BreakpointHit(Event):
    """Breakpoint: a breakpoint the engine knows triggered (its command runs first)."""

    breakpoint: object = None  # pydbg.breakpoints.Breakpoint (kept loose: no import cycle)

    mask = int(DebugEvent.BREAKPOINT)
    method = "breakpoint"

    def args(self) -> tuple[object, ...]:
        return (self.breakpoint,)


@dataclass(eq=False)
class LoadModule(Event):
    """LoadModule: a shared object was mapped by the dynamic loader (or found at attach)."""

    base_offset: int = 0
    module_size: int = 0
    module_name: str = ""
    image_name: str = ""

    mask = int(DebugEvent.LOAD_MODULE)
    method = "load_module"
    specific_filter = SpecificFilter.LOAD_MODULE

    def args(self) -> tuple[object, ...]:
        return (0, self.base_offset, self.module_size, self.module_name, self.image_name, 0, 0)

    def filter_name(self) -> str:
        return self.image_name


@dataclass(eq=False)
class UnloadModule(Event):
    """UnloadModule: the dynamic loader unmapped a shared object (dlclose)."""

    image_base_name: str = ""
    base_offset: int = 0

    mask = int(DebugEvent.UNLOAD_MODULE)
    method = "unload_module"
    specific_filter = SpecificFilter.UNLOAD_MODULE

    def args(self) -> tuple[object, ...]:
        return (self.image_base_name, self.base_offset)

    def filter_name(self) -> str:
        return self.image_base_name


@dataclass(eq=False)
class SyscallEvent(Event):
    """pydbg extension: a system call entry or exit (PTRACE_SYSCALL with TRACESYSGOOD),
    governed by the syscall filter rows (pydbg.filters) and heard by `syscall` callbacks
    under DEBUG_EVENT_SYSCALL."""

    number: int = -1
    name: str = ""
    arguments: tuple[int, ...] = ()
    is_exit: bool = False
    result: int | None = None  # the exit's return value (-errno on failure)
    # Reads the NUL-terminated string at an address of the process while the thread sits
    # in this stop (None when unreadable); set for calls with path arguments, used only
    # when the event is described (pydbg.engine.syscalls.describe_syscall).
    read_string: Callable[[int], str | None] | None = field(default=None, repr=False)

    mask = int(DebugEvent.SYSCALL)
    method = "syscall"

    def args(self) -> tuple[object, ...]:
        tid = self.thread.tid if self.thread else 0
        return (tid, self.number, self.name, self.arguments, self.is_exit, self.result)
