"""The system objects facet (IDebugSystemObjects): the session's processes and threads,
their engine ids and system ids (pid, tid), and which ones are current.

Engine ids are small integers pydbg hands out in acquisition order and never reuses
(spec §0.1); system ids are the Linux pid and tid.  Selecting a thread makes it (and its
process) current: register, memory and stepping calls act on it.  Each change of the
current thread reports ChangeEngineState(DEBUG_CES_CURRENT_THREAD, engine id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.constants import DEBUG_ANY_ID, DEBUG_CES_CURRENT_THREAD

if TYPE_CHECKING:
    from pydbg.engine.session import Engine
    from pydbg.engine.targets import Process, Thread

__all__ = ["SystemObjects", "UnknownIdError"]

from pydbg.engine.session import EngineError, NoTargetError
from pydbg.symbols import reset_scope


class UnknownIdError(EngineError, LookupError):
    """No process or thread of the session has this id."""


class SystemObjects:
    """client.system_objects."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- processes -----------------------------------------------------------------------------

    def _processes(self) -> list[Process]:
        self._engine.check_thread("system_objects")
        return [p for p in self._engine.targets.processes.values() if p.announced]

    def get_number_processes(self) -> int:
        return len(self._processes())

    def get_process_ids_by_index(
        self, start: int = 0, count: int | None = None
    ) -> tuple[list[int], list[int]]:
        """(engine ids, pids) of the processes from index `start`."""
        processes = self._processes()
        chosen = processes[start : None if count is None else start + count]
        return [p.engine_id for p in chosen], [p.pid for p in chosen]

    def _current_process(self) -> Process:
        thread = self._engine.current
        if thread is None:
            raise NoTargetError("no current process (no event has been reported yet)")
        return thread.process

    def get_current_process_id(self) -> int:
        return self._current_process().engine_id

    def get_current_process_system_id(self) -> int:
        return self._current_process().pid

    def get_current_process_executable_name(self) -> str:
        return self._current_process().image_name

    def get_current_process_auxv(self) -> bytes:
        """The current process's auxiliary vector as the kernel laid it out at exec
        (/proc/PID/auxv: AT_* key and value pairs, 8 bytes each, ending with AT_NULL).
        A pydbg extension (remote servers hand it to gdb as qXfer:auxv).  Raises
        EngineError when the process is gone."""
        pid = self._current_process().pid
        try:
            with open(f"/proc/{pid}/auxv", "rb") as f:
                return f.read()
        except OSError as exc:
            raise EngineError(f"cannot read the auxiliary vector of {pid}: {exc}") from exc

    def set_current_process_id(self, engine_id: int) -> None:
        """Make a process current: its first live thread becomes the current thread."""
        for process in self._processes():
            if process.engine_id == engine_id:
                threads = list(process.threads.values())
                if not threads:
                    raise UnknownIdError(f"process {engine_id} has no threads left")
                self._select(threads[0])
                return
        raise UnknownIdError(f"no process has engine id {engine_id}")

    def get_process_id_by_system_id(self, pid: int) -> int:
        for process in self._processes():
            if process.pid == pid:
                return process.engine_id
        raise UnknownIdError(f"process {pid} is not a target of this session")

    # -- threads -------------------------------------------------------------------------------

    def _threads(self, process: Process | None = None) -> list[Thread]:
        process = process or self._current_process()
        return list(process.threads.values())

    def get_number_threads(self) -> int:
        """Threads of the current process."""
        return len(self._threads())

    def get_total_number_threads(self) -> int:
        return sum(len(p.threads) for p in self._processes())

    def get_thread_ids_by_index(
        self, start: int = 0, count: int | None = None
    ) -> tuple[list[int], list[int]]:
        """(engine ids, tids) of the current process's threads from index `start`."""
        threads = self._threads()
        chosen = threads[start : None if count is None else start + count]
        return [t.engine_id for t in chosen], [t.tid for t in chosen]

    def get_current_thread_id(self) -> int:
        thread = self._engine.current
        if thread is None:
            raise NoTargetError("no current thread (no event has been reported yet)")
        return thread.engine_id

    def get_current_thread_system_id(self) -> int:
        thread = self._engine.current
        if thread is None:
            raise NoTargetError("no current thread (no event has been reported yet)")
        return thread.tid

    def set_current_thread_id(self, engine_id: int) -> None:
        thread = self._engine.targets.thread_by_engine_id(engine_id)
        if thread is None or not thread.process.announced:
            raise UnknownIdError(f"no thread has engine id {engine_id}")
        self._select(thread)

    def get_thread_id_by_system_id(self, tid: int) -> int:
        thread = self._engine.targets.thread(tid)
        if thread is None:
            raise UnknownIdError(f"thread {tid} is not a thread of this session")
        return thread.engine_id

    def get_event_thread(self) -> int:
        """The engine id of the last event's thread, or DEBUG_ANY_ID."""
        thread = self._engine.event_thread
        return thread.engine_id if thread is not None else DEBUG_ANY_ID

    def get_event_process(self) -> int:
        thread = self._engine.event_thread
        return thread.process.engine_id if thread is not None else DEBUG_ANY_ID

    def _select(self, thread: Thread) -> None:
        self._engine.check_thread("set_current_thread_id")
        if thread is not self._engine.current:
            reset_scope(self._engine)  # a new thread's scope is its frame 0 (`.frame`)
            self._engine.current = thread
            self._engine.notifier.engine_state(DEBUG_CES_CURRENT_THREAD, thread.engine_id)
