"""The event callbacks of a scripted process: DbgEng events in, typed events and votes out.

One `Listener` is registered on the process's client (EventCallbacks, interest in every
target event).  For each event it builds the typed event (pydbg.scripting.events), keeps
it in `seen` (the events of the wait in progress; the last one is the one a stop was for),
and votes:

* a breakpoint or watchpoint hit: its handle's callback decides (pydbg.scripting.handles);
  without a callback, BREAK.  Going on is GO, or IGNORE_EVENT while a step or `finish`
  runs, so that the step goes on instead of being cancelled.
* any other event: no opinion (None), so the event filters decide as in cdb (a first-chance
  access violation breaks, a caught SIGUSR1 or a new thread does not), except while
  `every_event` is set (`proc.events()`), when every event but ExitProcess breaks.

ExitProcess never breaks: the session ends with it and the wait returns False; `exited`
holds the ProcessExited event then.  An exception raised by a script's callback is kept in
`error` and the process breaks, for the caller of the wait to raise it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.breakpoints import Breakpoint
from pydbg.callbacks import EventCallbacks
from pydbg.client import DebugClient
from pydbg.constants import DebugEvent, DebugStatus
from pydbg.control import LastEventExitProcess
from pydbg.errors import PydbgError
from pydbg.scripting.events import (
    BreakIn,
    BreakpointHit,
    Event,
    ModuleLoaded,
    ModuleUnloaded,
    ProcessExited,
    SignalEvent,
    ThreadCreated,
    ThreadExited,
    WatchpointHit,
    signal_name,
)
from pydbg.scripting.handles import BreakpointHandle, WatchpointHandle

if TYPE_CHECKING:
    from pydbg.engine.signals import ExceptionRecord
    from pydbg.scripting.process import Process

__all__ = ["Listener"]

_INTEREST = (
    DebugEvent.BREAKPOINT
    | DebugEvent.EXCEPTION
    | DebugEvent.CREATE_THREAD
    | DebugEvent.EXIT_THREAD
    | DebugEvent.EXIT_PROCESS
    | DebugEvent.LOAD_MODULE
    | DebugEvent.UNLOAD_MODULE
)

# Signals whose si_addr is an address of the program (the kernel's fault signals), when
# the kernel raised them (si_code > 0: not kill(2), tgkill(2) or sigqueue(3)).
_FAULTS = frozenset({4, 5, 7, 8, 11})  # SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV

_BREAK = int(DebugStatus.BREAK)


class Listener(EventCallbacks):
    """The process's EventCallbacks (module docstring)."""

    def __init__(self, client: DebugClient, process: Process) -> None:
        self._client = client
        self._process = process
        self.handles: dict[int, BreakpointHandle] = {}
        self.seen: list[Event] = []
        self.every_event = False
        self.go: int = int(DebugStatus.GO)  # the vote that lets a hit go on (docstring)
        self.error: BaseException | None = None
        self.exited: ProcessExited | None = None

    def get_interest_mask(self) -> int:
        return int(_INTEREST)

    def _tid(self) -> int:
        try:
            return self._client.system_objects.get_current_thread_system_id()
        except PydbgError:
            return 0

    def _pc(self) -> int:
        return self._client.registers.get_value("rip")

    def _other(self, event: Event) -> int | None:
        self.seen.append(event)
        return _BREAK if self.every_event else None

    # -- breakpoints ----------------------------------------------------------------------------

    def breakpoint(self, bp: object) -> int | None:
        assert isinstance(bp, Breakpoint)  # (typed loosely by EventCallbacks)
        handle = self.handles.get(bp.get_id())
        tid, pc = self._tid(), self._pc()
        hit: BreakpointHit
        if isinstance(handle, WatchpointHandle):
            address = bp.get_offset()
            new = self._client.data_spaces.read_virtual(address, handle.size)
            hit = WatchpointHit(tid, pc, handle, self._process, old=handle.value, new=new)
            handle.value = new
        else:
            hit = BreakpointHit(tid, pc, handle, self._process)
        if handle is None or handle.callback is None:
            self.seen.append(hit)
            return _BREAK
        try:
            verdict = handle.callback(hit)
        except BaseException as exc:  # noqa: BLE001 - the wait's caller raises it
            self.error = exc
            self.seen.append(hit)
            return _BREAK
        if verdict is None or verdict is False:
            return self.go
        vote = _BREAK if verdict is True else int(verdict)  # or the callback's own vote
        if vote == _BREAK:
            self.seen.append(hit)
        return vote

    # -- everything else ------------------------------------------------------------------------

    def exception(self, exception: ExceptionRecord, first_chance: bool) -> int | None:
        tid = self._tid()
        signo = exception.signo
        if not signo:  # the initial breakpoint, a break-in: no signal
            return self._other(BreakIn(tid, exception.exception_address, exception.describe()))
        info = exception.exception_information
        si_addr = info[1] if len(info) == 4 else info[2] if len(info) >= 3 else 0
        faulted = signo in _FAULTS and exception.si_code > 0
        event = SignalEvent(
            tid,
            signal=signo,
            name=signal_name(signo),
            code=exception.si_code,
            pc=exception.exception_address,
            address=si_addr if faulted else None,
            first_chance=first_chance,
            sender_pid=exception.sender_pid,
            description=exception.describe(),
        )
        return self._other(event)

    def create_thread(self, handle: int, data_offset: int, start_offset: int) -> int | None:
        return self._other(ThreadCreated(handle))

    def exit_thread(self, exit_code: int) -> int | None:
        return self._other(ThreadExited(self._tid(), exit_code))

    def load_module(
        self,
        image_file_handle: int,
        base_offset: int,
        module_size: int,
        module_name: str,
        image_name: str,
        check_sum: int,
        time_date_stamp: int,
    ) -> int | None:
        return self._other(
            ModuleLoaded(self._tid(), module_name, image_name, base_offset, module_size)
        )

    def unload_module(self, image_base_name: str | None, base_offset: int) -> int | None:
        return self._other(ModuleUnloaded(self._tid(), image_base_name or "", base_offset))

    def exit_process(self, exit_code: int) -> int | None:
        info = self._client.control.get_last_event_information()
        extra = info.extra if info is not None else None
        killed_by = extra.exit_signal if isinstance(extra, LastEventExitProcess) else 0
        self.exited = ProcessExited(self._tid(), self._process.pid, exit_code, killed_by or None)
        self.seen.append(self.exited)
        return None
