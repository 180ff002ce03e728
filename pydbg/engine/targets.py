"""The engine's view of its targets: processes and threads, with engine ids.

DbgEng hands out small engine ids for processes and threads instead of OS ids (spec §0.1);
they are never reused within an engine, so a script that remembered "thread 3" never finds
another thread under that id.  System ids are the Linux pid and tid.

A process here is a *target*: it joins the session when the engine acquires it (launch,
attach, or a debugged fork child) and leaves it when it is discarded (its exit status was
collected, or it was detached or killed).  Announcing it to callbacks (CreateProcess) happens
inside the next wait, as in DbgEng; `announced` records whether that has happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Origin(Enum):
    """How a process became a target."""

    LAUNCHED = "launched"  # create_process: pydbg started it (it dies with the session)
    ATTACHED = "attached"  # attach_process: it ran before (it survives a detach)
    CHILD = "child"  # a fork child of a target, debugged because child debugging is on
    DUMP = "dump"  # open_dump_file: a process recorded in a core file (pydbg.engine.dump)


@dataclass(eq=False)
class Thread:
    """One traced thread."""

    engine_id: int
    tid: int
    process: Process
    # ExitThread (or ExitProcess, for the last thread) has been reported for it.
    exit_reported: bool = False
    # The system call it entered at its last syscall-enter stop, (number, arguments), until
    # the matching exit stop: the exit's record carries neither.
    syscall_entry: tuple[int, tuple[int, ...]] | None = None
    # (pc, inlined calls hidden there) as the last line step ended (pydbg.engine
    # .source_lines.hidden_frames); None after the thread resumes.
    inline_stop: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"<Thread {self.engine_id} tid={self.tid} pid={self.process.pid}>"


@dataclass(eq=False)
class Process:
    """One target process."""

    engine_id: int
    pid: int
    origin: Origin
    image_name: str
    trace_fork: bool = False
    threads: dict[int, Thread] = field(default_factory=dict)  # tid -> Thread, in creation order
    # CreateProcess has been reported to the callbacks.
    announced: bool = False
    # The initial breakpoint is still owed (it follows CreateProcess, §9.2).
    initial_break_pending: bool = True
    # ExitProcess has been reported (at the last thread's exit stop, or when it was reaped).
    exit_reported: bool = False
    exit_code: int | None = None

    def __repr__(self) -> str:
        return f"<Process {self.engine_id} pid={self.pid} {self.origin.value} {self.image_name!r}>"

    def live_threads(self) -> list[Thread]:
        """Threads whose exit has not been reported."""
        return [t for t in self.threads.values() if not t.exit_reported]


class TargetTable:
    """Every target process and thread of one engine, by engine id and by system id."""

    def __init__(self) -> None:
        self.processes: dict[int, Process] = {}  # pid -> Process, in acquisition order
        self._threads: dict[int, Thread] = {}  # tid -> Thread
        self._next_process_id = 0
        self._next_thread_id = 0

    def __bool__(self) -> bool:
        return bool(self.processes)

    def add_process(
        self, pid: int, origin: Origin, image_name: str, tids: list[int], trace_fork: bool
    ) -> Process:
        process = Process(self._next_process_id, pid, origin, image_name, trace_fork)
        self._next_process_id += 1
        self.processes[pid] = process
        # The leader first: it is the initial thread CreateProcess stands for.
        for tid in sorted(tids, key=lambda t: t != pid):
            self.add_thread(process, tid)
        return process

    def add_thread(self, process: Process, tid: int) -> Thread:
        thread = Thread(self._next_thread_id, tid, process)
        self._next_thread_id += 1
        process.threads[tid] = thread
        self._threads[tid] = thread
        return thread

    def forget_thread(self, thread: Thread) -> None:
        thread.process.threads.pop(thread.tid, None)
        if self._threads.get(thread.tid) is thread:
            del self._threads[thread.tid]

    def rename_thread(self, thread: Thread, tid: int) -> None:
        """The thread's system id changed: a thread that calls execve takes its leader's
        tid (ptrace(2), "execve(2) under ptrace").  It keeps its engine id, and the
        object stays the same (a step plan or the current thread may hold it)."""
        self.forget_thread(thread)
        thread.tid = tid
        thread.process.threads[tid] = thread
        self._threads[tid] = thread

    def discard_process(self, process: Process) -> None:
        for thread in list(process.threads.values()):
            self.forget_thread(thread)
        self.processes.pop(process.pid, None)

    def thread(self, tid: int) -> Thread | None:
        return self._threads.get(tid)

    def threads(self) -> list[Thread]:
        return [t for p in self.processes.values() for t in p.threads.values()]

    def thread_ids(self) -> list[int]:
        """The tid of every thread of every process."""
        return [tid for p in self.processes.values() for tid in p.threads]

    def process_by_engine_id(self, engine_id: int) -> Process | None:
        for process in self.processes.values():
            if process.engine_id == engine_id:
                return process
        return None

    def thread_by_engine_id(self, engine_id: int) -> Thread | None:
        for thread in self._threads.values():
            if thread.engine_id == engine_id:
                return thread
        return None
