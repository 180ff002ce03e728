"""The event log of a batch run: an EventCallbacks subclass that records every target event
(kind, process, thread, pc, symbol, time) as a JSON-ready dict, and breaks in at a crash.

    log = EventLog(client, sink=print)       # sink: called with each record as it happens
    client.set_event_callbacks(log)

Records are the `event` lines of pydbg.reports.jsonl.  The callbacks run with every thread
stopped (pydbg.callbacks), so the pc and its symbol are read through the client's facets
then.  The log votes DEBUG_STATUS_BREAK on a second-chance exception (a signal the program
does not handle and whose default action kills it) and on a break-in (set_interrupt,
Ctrl-C: a breakpoint exception no signal raised, other than a process's initial
breakpoint), and has no opinion otherwise, so a crash or a break-in stops the run whatever
the event filters say.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydbg.callbacks import EventCallbacks, Vote
from pydbg.commands.event_commands import signal_name
from pydbg.constants import STATUS_BREAKPOINT, DebugStatus
from pydbg.control import LastEventExitProcess
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.client import DebugClient
    from pydbg.engine.signals import ExceptionRecord

__all__ = ["EventLog"]


class EventLog(EventCallbacks):
    """Records every event; breaks in at second-chance exceptions."""

    def __init__(
        self,
        client: DebugClient,
        sink: Callable[[dict[str, Any]], None] | None = None,
        start: float | None = None,
    ) -> None:
        self.client = client
        self.sink = sink
        self.start = time.monotonic() if start is None else start
        self.records: list[dict[str, Any]] = []
        # pid -> exit code (128+N for death by signal N), as ExitProcess reported it, and
        # the signal that killed it (0: it exited, even with a code above 128).
        self.exit_codes: dict[int, int] = {}
        self.exit_signals: dict[int, int] = {}
        # Processes whose initial breakpoint is still to come (it is no break-in).
        self._initial: set[int] = set()

    def _current_pid(self) -> int | None:
        try:
            return self.client.system_objects.get_current_process_system_id()
        except PydbgError:
            return None

    def _record(self, kind: str, **fields: Any) -> None:
        objects = self.client.system_objects
        record: dict[str, Any] = {
            "type": "event",
            "time": round(time.monotonic() - self.start, 6),
            "kind": kind,
        }
        try:
            record["pid"] = objects.get_current_process_system_id()
            record["tid"] = objects.get_current_thread_system_id()
        except PydbgError:
            record["pid"] = record["tid"] = None
        pc = symbol = None
        if kind not in ("exit_process", "exit_thread"):  # (the thread is gone, or going)
            try:
                pc = self.client.registers.get_value("rip")
                name, displacement = self.client.symbols.get_name_by_offset(pc)
                symbol = f"{name}+{displacement:#x}" if displacement else name
            except PydbgError:
                pass
        record["pc"], record["symbol"] = pc, symbol
        record.update(fields)
        self.records.append(record)
        if self.sink is not None:
            self.sink(record)

    def exception(self, exception: ExceptionRecord, first_chance: bool) -> Vote:
        fields: dict[str, Any] = {
            "code": exception.exception_code,
            "description": exception.describe(),
            "first_chance": first_chance,
            "signal": exception.signo or None,
            "signal_name": signal_name(exception.signo) if exception.signo else None,
        }
        self._record("exception", **fields)
        if not first_chance:
            return DebugStatus.BREAK
        if exception.signo or exception.exception_code != STATUS_BREAKPOINT:
            return None
        pid = self._current_pid()
        if pid in self._initial:
            self._initial.discard(pid)
            return None
        return DebugStatus.BREAK  # a break-in

    def breakpoint(self, bp: object) -> Vote:
        get_id = getattr(bp, "get_id", None)
        self._record("breakpoint", id=get_id() if callable(get_id) else None)
        return None

    def create_thread(self, handle: int, data_offset: int, start_offset: int) -> Vote:
        self._record("create_thread")
        return None

    def exit_thread(self, exit_code: int) -> Vote:
        self._record("exit_thread", exit_code=exit_code)
        return None

    def create_process(
        self,
        image_file_handle: int,
        handle: int,
        base_offset: int,
        module_size: int,
        module_name: str,
        image_name: str,
        check_sum: int,
        time_date_stamp: int,
        initial_thread_handle: int,
        thread_data_offset: int,
        start_offset: int,
    ) -> Vote:
        self._initial.add(handle)  # (the pid: pydbg.callbacks)
        self._record("create_process", image=image_name, base=base_offset)
        return None

    def exit_process(self, exit_code: int) -> Vote:
        pid = self._current_pid()
        info = self.client.control.get_last_event_information()  # (this exit, in here)
        killed_by = (
            info.extra.exit_signal if info and isinstance(info.extra, LastEventExitProcess) else 0
        )
        if pid is not None:
            self.exit_codes[pid] = exit_code
            self.exit_signals[pid] = killed_by
        self._record("exit_process", exit_code=exit_code, signal=killed_by or None)
        return None

    def load_module(
        self,
        image_file_handle: int,
        base_offset: int,
        module_size: int,
        module_name: str,
        image_name: str,
        check_sum: int,
        time_date_stamp: int,
    ) -> Vote:
        self._record("load_module", module=module_name, path=image_name, base=base_offset)
        return None

    def unload_module(self, image_base_name: str | None, base_offset: int) -> Vote:
        self._record("unload_module", module=image_base_name, base=base_offset)
        return None
