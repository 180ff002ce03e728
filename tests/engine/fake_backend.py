"""A scripted stand-in for the native tracer: the `Backend` the engine tests drive the whole
DbgEng model with, without a process.

The fake keeps what the real `pydbg._native.Tracer` keeps (a table of processes and threads,
each thread RUNNING, STOPPED or LISTENING), records every call made to it in `calls`, and
answers from a script the test writes up front:

    fake = FakeBackend()
    fake.spawn_pids.append(PID)                      # spawn() returns it, leader STOPPED
    fake.seize_tids[PID2] = [PID2, TID2]             # seize() returns them, all STOPPED
    fake.then(FakeEvent(EventKind.EXIT, PID, PID, exit_code=0))   # one batch for wait()
    fake.then(TIMEOUT)                               # a wait() whose timeout passes
    fake.then(Hook(lambda: ...))                     # runs while wait() "blocks"
    fake.step_records.append(FakeEvent(EventKind.STEP, TID, PID)) # step / branch_step
    fake.on_stop_all.append([...])                   # events stop_all() stashes
    fake.fail["cont_all"] = NoSuchProcessError(...)  # the next cont_all() raises it

It mirrors the native contract (`pydbg/_native.pyi`) where the engine relies on it: a record
returned by `wait` leaves its thread STOPPED and the others as they were; EXITED / KILLED
remove the thread (the leader's removes its process); CLONE / FORK put the new task in the
table STOPPED; `stop_all` stops everything and moves `on_stop_all` records into the stash,
which `has_pending` reports and the next `wait` returns first.

It is strict: a call the engine should not make in the current state (resuming while a thread
runs, reading registers of a running thread, waiting with nothing able to run, any call
after `close`) raises AssertionError, so engine misuse fails the test that caused it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg._native import EventKind, FPRegs, Regs, ThreadState
from pydbg.errors import InvalidRegisterError, MemoryAccessError

if TYPE_CHECKING:
    from pydbg.engine.backend import Backend

__all__ = ["TIMEOUT", "FakeBackend", "FakeEvent", "Hook"]

# Raw wait status of a process killed by SIGKILL (what Tracer.kill returns).
SIGKILL_STATUS = 9


@dataclass(frozen=True)
class FakeEvent:
    """A native wait record (`pydbg.engine.backend.NativeEvent`).  Defaults follow the
    native contract: `exit_code` is -1 except for EXITED and EXIT records."""

    kind: EventKind
    tid: int
    pid: int
    signal: int = 0
    message: int = 0
    exit_code: int = -1
    address: int = 0
    si_code: int = 0
    sender_pid: int = 0
    dr6: int = 0
    syscall_op: int = 0  # SYSCALL: 1 entry, 2 exit
    syscall_nr: int = -1
    syscall_ret: int = 0


class _Timeout:
    def __repr__(self) -> str:
        return "TIMEOUT"


# Script entry: this wait() sees its timeout pass and returns [].
TIMEOUT = _Timeout()


@dataclass(frozen=True)
class Hook:
    """Script entry: `action` runs inside wait(), as if another thread acted while it blocked.
    If the action woke the backend (set_interrupt calls `wake`), wait() returns []."""

    action: Callable[[], None]


ScriptEntry = Sequence[FakeEvent] | _Timeout | Hook

# Calls that change something (the rest only read); `actions()` lists these.
_ACTIONS = frozenset(
    {
        "spawn", "seize", "detach", "kill", "close", "wait", "stop_all", "cont", "cont_all",
        "syscall",
        "listen", "step", "branch_step", "set_regs", "set_reg", "set_pc", "write_memory",
        "insert_breakpoint", "remove_breakpoint",
    }
)  # fmt: skip


class FakeBackend:
    """Implements `pydbg.engine.backend.Backend` from a script (module docstring)."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.script: deque[ScriptEntry] = deque()
        self.step_records: deque[FakeEvent] = deque()
        self.on_stop_all: deque[list[FakeEvent]] = deque()
        self.spawn_pids: deque[int] = deque()
        self.seize_tids: dict[int, list[int]] = {}
        self.kill_status: dict[int, int] = {}  # pid -> raw wait status kill() returns
        self.procs: dict[int, list[int]] = {}  # pid -> tids, in creation order
        self.state: dict[int, ThreadState] = {}  # tid -> state
        self.regs: dict[int, Regs] = {}  # tid -> registers
        self.memory: dict[int, tuple[int, bytearray]] = {}  # pid -> (base, bytes)
        self.breakpoints: dict[int, list[int]] = {}  # pid -> inserted addresses
        self.stash: list[FakeEvent] = []
        self.fail: dict[str, BaseException] = {}  # call name -> raised by its next call
        self._closed = False
        self._woken = False
        # What the engine asked the core to pass on unreported (set_pass_signals); the fake
        # reports every signal anyway: scripted records are what the core did report.
        self.pass_signals: dict[int, bool] = {}
        # The same for syscall stops (set_syscall_pass; None: report all), and the counts
        # syscall_counts answers with (a test fills them in: what the core "passed").
        self.syscall_report: list[int] | None = None
        self.passed_syscalls: dict[int, int] = {}

    # -- scripting helpers ------------------------------------------------------------------

    def then(self, *entries: FakeEvent | _Timeout | Hook) -> FakeBackend:
        """Queue wait() answers: FakeEvents given together form one batch."""
        batch = [e for e in entries if isinstance(e, FakeEvent)]
        others = [e for e in entries if not isinstance(e, FakeEvent)]
        assert not (batch and others), "a batch holds events only"
        if batch:
            self.script.append(batch)
        self.script.extend(others)
        return self

    def add_thread(self, pid: int, tid: int, state: ThreadState = ThreadState.STOPPED) -> None:
        self.procs.setdefault(pid, []).append(tid)
        self.state[tid] = state
        self.regs.setdefault(tid, Regs())

    def actions(self, *names: str) -> list[tuple[object, ...]]:
        """The recorded calls that change something (or only those named)."""
        wanted = frozenset(names) or _ACTIONS
        return [c for c in self.calls if c[0] in wanted]

    def running(self) -> list[int]:
        return [t for t, s in self.state.items() if s == ThreadState.RUNNING]

    # -- strictness ---------------------------------------------------------------------------

    def _use(self, *call: object) -> None:
        assert not self._closed, f"{call[0]} called on a closed backend"
        self.calls.append(call)
        error = self.fail.pop(str(call[0]), None)
        if error is not None:
            raise error

    def _pid_of(self, tid: int) -> int:
        for pid, tids in self.procs.items():
            if tid in tids:
                return pid
        raise AssertionError(f"tid {tid} is not traced")

    def _stopped(self, tid: int, what: str) -> None:
        self._pid_of(tid)
        state = self.state[tid]
        assert state == ThreadState.STOPPED, f"{what}({tid}) while it is {state.name}"

    def _scope(self, pid: int | None) -> list[int]:
        if pid is None:
            return list(self.state)
        assert pid in self.procs, f"pid {pid} is not traced"
        return list(self.procs[pid])

    def _remove(self, pid: int) -> None:
        for tid in self.procs.pop(pid):
            del self.state[tid]

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        self._use("close")
        self._closed = True
        for pid in list(self.procs):
            self._remove(pid)

    @property
    def closed(self) -> bool:
        return self._closed

    def spawn(
        self,
        argv: Sequence[str | bytes],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stdin: object = None,
        stdout: object = None,
        stderr: object = None,
        pass_fds: Sequence[int] = (),
        trace_fork: bool = False,
        new_process_group: bool = False,
        kill_on_exit: bool = True,
    ) -> int:
        self._use("spawn", list(argv))
        assert self.spawn_pids, "spawn() not scripted"
        pid = self.spawn_pids.popleft()
        assert pid not in self.procs, f"pid {pid} is already traced"
        self.add_thread(pid, pid)
        return pid

    def seize(self, pid: int, *, trace_fork: bool = False, kill_on_exit: bool = False) -> list[int]:
        self._use("seize", pid)
        assert pid in self.seize_tids, f"seize({pid}) not scripted"
        assert pid not in self.procs, f"pid {pid} is already traced"
        tids = self.seize_tids.pop(pid)
        for tid in tids:
            self.add_thread(pid, tid)
        return list(tids)

    def detach(self, pid: int, *, leave_stopped: bool = False) -> None:
        self._use("detach", pid)
        assert pid in self.procs, f"detach({pid}): not traced"
        self._remove(pid)

    def kill(self, pid: int) -> int:
        self._use("kill", pid)
        assert pid in self.procs, f"kill({pid}): not traced"
        self._remove(pid)
        return self.kill_status.get(pid, SIGKILL_STATUS)

    # -- waiting -------------------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> Sequence[FakeEvent]:
        self._use("wait", timeout)
        if self.stash:
            out, self.stash = self.stash, []
            return out
        if self._woken:
            self._woken = False
            return []
        able = [t for t, s in self.state.items() if s != ThreadState.STOPPED]
        assert able, "wait() with no thread able to run: it would return [] forever"
        while True:
            assert self.script, "wait(): the script has no more events"
            entry = self.script.popleft()
            if isinstance(entry, Hook):
                entry.action()
                if self._woken:
                    self._woken = False
                    return []
                continue
            if isinstance(entry, _Timeout):
                assert timeout is not None, "TIMEOUT scripted for a wait without a timeout"
                time.sleep(timeout)
                return []
            for record in entry:
                self._apply(record)
            return list(entry)

    def _apply(self, record: FakeEvent) -> None:
        """What the kernel and the tracer's table do when `record` is collected."""
        tid, pid = record.tid, record.pid
        assert self._pid_of(tid) == pid, f"{record}: tid {tid} is not a thread of {pid}"
        if record.kind in (EventKind.EXITED, EventKind.KILLED):
            if tid == pid:
                self._remove(pid)
            else:
                self.procs[pid].remove(tid)
                del self.state[tid]
            return
        assert self.state[tid] == ThreadState.RUNNING, f"{record}: thread {tid} was not running"
        self.state[tid] = ThreadState.STOPPED
        if record.kind == EventKind.CLONE:
            self.add_thread(pid, record.message)
        elif record.kind in (EventKind.FORK, EventKind.VFORK):
            self.add_thread(record.message, record.message)

    def wake(self) -> None:
        # Any thread may call it; no assertion on `closed` (the real wake is free-threaded).
        self.calls.append(("wake",))
        self._woken = True

    def has_pending(self) -> bool:
        self._use("has_pending")
        return bool(self.stash)

    # -- execution control ---------------------------------------------------------------------

    def stop_all(self, pid: int | None = None) -> None:
        self._use("stop_all")
        for tid in self._scope(pid):
            self.state[tid] = ThreadState.STOPPED
        if self.on_stop_all:
            self.stash.extend(self.on_stop_all.popleft())

    def cont(self, tid: int, sig: int = 0) -> None:
        self._use("cont", tid, sig)
        self._stopped(tid, "cont")
        self.state[tid] = ThreadState.RUNNING

    def cont_wait(
        self, tid: int, sig: int = 0, timeout: float | None = None, simple: int = 0
    ) -> Sequence[FakeEvent]:
        # The records as they are, never the facts tuple: the caller must take both.
        self.cont(tid, sig)
        return self.wait(timeout)

    def cont_all(
        self,
        pid: int | None = None,
        signals: Mapping[int, int] | None = None,
        syscall: Container[int] | None = None,
    ) -> None:
        # (Recorded as ("cont_all", signals), plus the sorted PTRACE_SYSCALL tids if any.)
        traced = sorted(t for t in self._scope(pid) if syscall and t in syscall)
        if traced:
            self._use("cont_all", dict(signals or {}), traced)
        else:
            self._use("cont_all", dict(signals or {}))
        scope = self._scope(pid)
        assert scope, "cont_all() with no thread"
        running = [t for t in scope if self.state[t] == ThreadState.RUNNING]
        assert not running, f"cont_all() while {running} run: stop_all first"
        assert not self.stash, f"cont_all() with stashed events {self.stash} not collected"
        for tid in signals or {}:
            assert tid in scope, f"cont_all(): signal for unknown tid {tid}"
        for tid in scope:
            if self.state[tid] == ThreadState.STOPPED:
                self.state[tid] = ThreadState.RUNNING

    def syscall(self, tid: int, sig: int = 0) -> None:
        # (PTRACE_SYSCALL: recorded as itself, otherwise a cont.)
        self._use("syscall", tid, sig)
        self._stopped(tid, "syscall")
        self.state[tid] = ThreadState.RUNNING

    def listen(self, tid: int) -> None:
        self._use("listen", tid)
        self._stopped(tid, "listen")
        self.state[tid] = ThreadState.LISTENING

    def _sync_step(self, tid: int, *call: object) -> FakeEvent:
        self._use(*call)
        self._stopped(tid, str(call[0]))
        assert self.step_records, f"{call[0]}({tid}) not scripted"
        record = self.step_records.popleft()
        assert record.tid == tid, f"{call[0]}({tid}) scripted with a record of {record.tid}"
        self.state[tid] = ThreadState.RUNNING  # it ran (alone), then stopped or died
        self._apply(record)
        return record

    def step(self, tid: int, sig: int = 0) -> FakeEvent:
        return self._sync_step(tid, "step", tid, sig)

    def branch_step(self, tid: int) -> FakeEvent:
        return self._sync_step(tid, "branch_step", tid)

    # -- thread table --------------------------------------------------------------------------

    def processes(self) -> list[int]:
        self._use("processes")
        return list(self.procs)

    def threads(self, pid: int) -> list[int]:
        self._use("threads", pid)
        return list(self.procs.get(pid, []))

    def thread_state(self, tid: int) -> ThreadState:
        self._use("thread_state", tid)
        self._pid_of(tid)
        return self.state[tid]

    # -- registers -----------------------------------------------------------------------------

    def get_regs(self, tid: int) -> Regs:
        self._use("get_regs", tid)
        self._stopped(tid, "get_regs")
        return self.regs[tid].copy()

    def set_regs(self, tid: int, regs: Regs) -> None:
        self._use("set_regs", tid)
        self._stopped(tid, "set_regs")
        self.regs[tid] = regs.copy()

    def get_pc(self, tid: int) -> int:
        self._use("get_pc", tid)
        self._stopped(tid, "get_pc")
        return self.regs[tid].rip

    def get_reg(self, tid: int, name: str) -> int:
        self._use("get_reg", tid, name)
        self._stopped(tid, "get_reg")
        if name not in self.regs[tid].as_dict():
            raise InvalidRegisterError(name)
        return self.regs[tid][name]

    def set_reg(self, tid: int, name: str, value: int) -> None:
        self._use("set_reg", tid, name, value)
        self._stopped(tid, "set_reg")
        if name not in self.regs[tid].as_dict():
            raise InvalidRegisterError(name)
        self.regs[tid][name] = value

    def set_pc(self, tid: int, pc: int) -> None:
        self._use("set_pc", tid, pc)
        self._stopped(tid, "set_pc")
        self.regs[tid].rip = pc
        self.regs[tid].orig_rax = -1

    def get_fpregs(self, tid: int) -> FPRegs:
        raise AssertionError("get_fpregs is not scripted in the fake")

    def set_fpregs(self, tid: int, fpregs: FPRegs) -> None:
        raise AssertionError("set_fpregs is not scripted in the fake")

    # -- memory --------------------------------------------------------------------------------

    def _image(self, pid: int, address: int, size: int) -> tuple[bytearray, int, int]:
        """The image of pid, the offset of `address` in it, and how many bytes fit."""
        assert pid in self.procs, f"memory of untraced pid {pid}"
        base, data = self.memory.get(pid, (0, bytearray()))
        offset = address - base
        if offset < 0 or offset >= len(data):
            return data, offset, 0
        return data, offset, min(size, len(data) - offset)

    def read_memory(self, pid: int, address: int, size: int, *, partial: bool = False) -> bytes:
        self._use("read_memory", pid, address, size)
        data, offset, n = self._image(pid, address, size)
        got = bytes(data[offset : offset + n]) if n else b""
        if n < size and not partial:
            err = MemoryAccessError(14, "Bad address", request="read", pid=pid, address=address)
            err.transferred, err.data = n, got
            raise err
        return got

    def write_memory(self, pid: int, address: int, data: bytes | bytearray | memoryview) -> None:
        self._use("write_memory", pid, address, bytes(data))
        image, offset, n = self._image(pid, address, len(data))
        if n < len(data):
            err = MemoryAccessError(14, "Bad address", request="write", pid=pid, address=address)
            err.transferred = 0
            raise err
        image[offset : offset + n] = data

    def set_pass_signals(self, signals: Mapping[int, bool]) -> None:
        self.pass_signals = dict(signals)

    def set_syscall_pass(self, report: Iterable[int] | None = None) -> None:
        # (Like pass_signals: recorded, and every scripted syscall record is reported.)
        self.syscall_report = None if report is None else sorted(report)

    def syscall_counts(self, reset: bool = False) -> dict[int, int]:
        counts = dict(self.passed_syscalls)
        if reset:
            self.passed_syscalls.clear()
        return counts

    def insert_breakpoint(self, pid: int, address: int) -> None:
        self._use("insert_breakpoint", pid, address)
        assert pid in self.procs, f"insert_breakpoint in untraced pid {pid}"
        self.breakpoints.setdefault(pid, []).append(address)

    def remove_breakpoint(self, pid: int, address: int) -> None:
        self._use("remove_breakpoint", pid, address)
        inserted = self.breakpoints.get(pid, [])
        assert address in inserted, f"remove_breakpoint({pid}, {address:#x}): not inserted"
        inserted.remove(address)


if TYPE_CHECKING:

    def _is_a_backend(fake: FakeBackend) -> Backend:
        return fake  # mypy checks FakeBackend against the protocol here
