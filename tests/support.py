"""Helpers shared by the test tiers: built targets addressed by symbol, /proc facts, and a
minimal event pump over `pydbg._native.Tracer`.

Addresses are never hard-coded: a `Binary` reads a target's symbols with pyelftools and adds
the load bias read from /proc/PID/maps (PIE) to get runtime addresses.  Everything that reads
/proc here is test infrastructure observing the target from outside; nothing in this module
calls ptrace or waits for children.
"""

from __future__ import annotations

import os
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from capstone import CS_ARCH_X86, CS_GRP_CALL, CS_GRP_JUMP, CS_GRP_RET, CS_MODE_64, Cs
from capstone.x86 import X86_OP_IMM
from elftools.elf.elffile import ELFFile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_SOURCES = os.path.join(ROOT, "tests", "targets")

# Generous bound for one expected event: a missing event fails the test instead of hanging
# it.  Never a timing assertion: targets are small and events arrive in microseconds.
EVENT_TIMEOUT = 30.0

# Linux auxv keys (elf.h) and personality flag (linux/personality.h).
AT_BASE = 7
AT_ENTRY = 9
ADDR_NO_RANDOMIZE = 0x0040000
MASK64 = (1 << 64) - 1


def u64(value: int) -> int:
    """A register value as the unsigned 64-bit pattern, whatever sign convention it uses."""
    return value & MASK64


# -- built targets ----------------------------------------------------------------------------


class Binary:
    """One built target: its path, symbols, and how to find them in a running process."""

    def __init__(self, name: str, variant: str, path: str) -> None:
        self.name = name
        self.variant = variant
        self.path = os.path.realpath(path)
        self._symbols: dict[str, tuple[int, int]] = {}
        self._segments: list[tuple[int, int, int]] = []  # (vaddr, file offset, file size)
        with open(self.path, "rb") as f:
            elf = ELFFile(f)
            self.pie = elf.header.e_type == "ET_DYN"
            self.entry = elf.header.e_entry
            for seg in elf.iter_segments():
                if seg.header.p_type == "PT_LOAD":
                    h = seg.header
                    self._segments.append((h.p_vaddr, h.p_offset, h.p_filesz))
            symtab = elf.get_section_by_name(".symtab")
            if symtab is not None:
                for s in symtab.iter_symbols():
                    if s.name and s["st_shndx"] != "SHN_UNDEF":
                        self._symbols.setdefault(s.name, (s["st_value"], s["st_size"]))

    def __repr__(self) -> str:
        return f"Binary({self.name}, {self.variant})"

    def sym(self, name: str) -> int:
        """The symbol's st_value (link-time address)."""
        return self._symbols[name][0]

    def sym_size(self, name: str) -> int:
        return self._symbols[name][1]

    def bias(self, pid: int) -> int:
        """Load bias of this executable in process pid (0 unless PIE)."""
        if not self.pie:
            return 0
        first = min(vaddr for vaddr, _, _ in self._segments)
        return load_bias(pid, self.path) - (first & ~0xFFF)

    def addr(self, pid: int, name: str) -> int:
        """Runtime address of a symbol in process pid."""
        return self.bias(pid) + self.sym(name)

    def file_bytes(self, vaddr: int, size: int) -> bytes:
        """Bytes the file holds for a link-time address (what the image looks like on disk)."""
        for seg_vaddr, offset, filesz in self._segments:
            if seg_vaddr <= vaddr and vaddr + size <= seg_vaddr + filesz:
                with open(self.path, "rb") as f:
                    f.seek(offset + vaddr - seg_vaddr)
                    return f.read(size)
        raise ValueError(f"{vaddr:#x} is not file-backed in {self.path}")


class Targets:
    """The session's built targets: targets["loop"] is the PIE -O0 build."""

    def __init__(self, binaries: dict[tuple[str, str], Binary]) -> None:
        self._binaries = binaries

    def __getitem__(self, name: str) -> Binary:
        return self._binaries[(name, "pie")]

    def get(self, name: str, variant: str) -> Binary | None:
        return self._binaries.get((name, variant))


# -- /proc observations -----------------------------------------------------------------------


def maps(pid: int) -> list[tuple[int, int, str, int, str]]:
    """(start, end, perms, offset, path) of every mapping of pid."""
    rows = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5].strip() if len(parts) > 5 else ""
            rows.append((start, end, parts[1], int(parts[2], 16), path))
    return rows


def load_bias(pid: int, path: str) -> int:
    """Lowest mapping of the executable at `path`, less its file offset."""
    path = os.path.realpath(path)
    starts = [start - offset for start, _, _, offset, p in maps(pid) if p == path]
    if not starts:
        raise AssertionError(f"{path} is not mapped in process {pid}")
    return min(starts)


def auxv(pid: int) -> dict[int, int]:
    with open(f"/proc/{pid}/auxv", "rb") as f:
        data = f.read()
    pairs = struct.iter_unpack("<QQ", data)
    return {key: value for key, value in pairs if key}


def personality(pid: int) -> int:
    with open(f"/proc/{pid}/personality") as f:
        return int(f.read().strip(), 16)


def task_tids(pid: int) -> list[int]:
    """Tids listed in /proc/PID/task (empty when the process is gone)."""
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return []


def task_state(pid: int, tid: int | None = None) -> str:
    """The one-letter state of a thread from /proc/PID/task/TID/stat ('' when gone)."""
    tid = pid if tid is None else tid
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return data[data.rindex(")") + 2]


def status_field(pid: int, tid: int, field: str) -> str:
    try:
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == field:
                    return value.strip()
    except (FileNotFoundError, ProcessLookupError):
        pass
    return ""


def tracer_pid(pid: int, tid: int | None = None) -> int:
    """TracerPid of a thread: the *thread* id of its tracer, 0 when untraced or gone."""
    return int(status_field(pid, pid if tid is None else tid, "TracerPid") or 0)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> bool:
    """Poll an outside observation (a /proc state) until it holds; True if it did."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)


def all_tasks_in_state(pid: int, states: str) -> bool:
    tids = task_tids(pid)
    return bool(tids) and all(task_state(pid, t) in states for t in tids)


def unused_pid() -> int:
    with open("/proc/sys/kernel/pid_max") as f:
        pid = int(f.read()) - 1
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    return pid


# -- disassembly ------------------------------------------------------------------------------

_md = Cs(CS_ARCH_X86, CS_MODE_64)
_md.detail = True


def insn_at(tracer: Any, pid: int, address: int) -> Any:
    """The instruction at `address`, decoded from the target's own memory."""
    code = tracer.read_memory(pid, address, 16)
    return next(_md.disasm(code, address, 1))


def linear_pcs(tracer: Any, pid: int, start: int, end: int) -> list[int]:
    """Addresses of the instructions from start up to (excluding) end, decoded linearly."""
    code = tracer.read_memory(pid, start, end - start)
    return [insn.address for insn in _md.disasm(code, start)]


def successors(tracer: Any, pid: int, tid: int, insn: Any) -> set[int] | None:
    """Where the pc can be after executing `insn` once, or None if it cannot be predicted
    from the instruction bytes (indirect jumps and calls)."""
    fallthrough = insn.address + insn.size
    if insn.group(CS_GRP_RET):
        rsp = tracer.get_reg(tid, "rsp")
        return {int.from_bytes(tracer.read_memory(pid, rsp, 8), "little")}
    if insn.group(CS_GRP_JUMP) or insn.group(CS_GRP_CALL):
        ops = insn.operands
        if len(ops) != 1 or ops[0].type != X86_OP_IMM:
            return None
        target = ops[0].imm & MASK64
        if insn.mnemonic in ("jmp", "call"):
            return {target}
        return {target, fallthrough}  # conditional: either way
    return {fallthrough}


# -- event pump -------------------------------------------------------------------------------


class Driver:
    """Runs traced processes the way the simplest debugger would.

    `next()` hands out events one at a time; `until()` resumes every event that does not
    match (signals delivered, new threads and children started) and returns the first that
    does, with its thread left stopped.  Every event seen is kept in `log`.
    """

    def __init__(self, tracer: Any) -> None:
        from pydbg._native import EventKind, ThreadState

        self.tracer = tracer
        self.kinds = EventKind
        self.states = ThreadState
        self.queue: deque[Any] = deque()
        self.log: list[Any] = []

    def describe(self) -> str:
        t = self.tracer
        rows = []
        for pid in t.processes():
            for tid in t.threads(pid):
                rows.append(f"{pid}/{tid}:{t.thread_state(tid).name}")
        return "threads: " + (", ".join(rows) or "none")

    def next(self, timeout: float = EVENT_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while not self.queue:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no event within {timeout} s; {self.describe()}")
            events = self.tracer.wait(timeout=remaining)
            if not events and not self._anything_running():
                # wait() returns [] at once when no thread can produce an event.
                raise AssertionError(
                    f"wait() returned no event and nothing runs; {self.describe()}"
                )
            self.queue.extend(events)
        event = self.queue.popleft()
        self.log.append(event)
        return event

    def _anything_running(self) -> bool:
        t = self.tracer
        stopped = self.states.STOPPED
        return any(
            t.thread_state(tid) != stopped for pid in t.processes() for tid in t.threads(pid)
        )

    def resume(self, event: Any) -> None:
        """Restart what `event` stopped: deliver signals, start new threads and children."""
        k = self.kinds
        if event.kind in (k.EXITED, k.KILLED):
            return
        if event.kind in (k.CLONE, k.FORK, k.VFORK):
            self.tracer.cont(event.message)
        self.tracer.cont(event.tid, event.signal if event.kind == k.SIGNAL else 0)

    def until(self, predicate: Callable[[Any], bool], timeout: float = EVENT_TIMEOUT) -> Any:
        while True:
            event = self.next(timeout)
            if predicate(event):
                return event
            self.resume(event)

    def until_kind(self, kind: Any, tid: int | None = None) -> Any:
        return self.until(lambda e: e.kind == kind and (tid is None or e.tid == tid))

    def until_exit(
        self, pid: int, handle: Callable[[Any], bool] | None = None, timeout: float = EVENT_TIMEOUT
    ) -> Any:
        """Resume everything until process pid is gone; return its EXITED/KILLED event.

        `handle(event)` sees every other event first; returning True means it resumed (or
        deliberately left) the thread itself.
        """
        gone = (self.kinds.EXITED, self.kinds.KILLED)
        while True:
            event = self.next(timeout)
            if event.tid == pid and event.kind in gone:
                return event
            if handle is not None and handle(event):
                continue
            self.resume(event)

    def kinds_for(self, tid: int) -> list[Any]:
        return [e.kind for e in self.log if e.tid == tid]

    def count(self, kind: Any, tids: Iterable[int] | None = None) -> int:
        wanted = None if tids is None else set(tids)
        return sum(1 for e in self.log if e.kind == kind and (wanted is None or e.tid in wanted))


def read_all(fd: int) -> bytes:
    """Read a pipe to EOF and close it."""
    chunks = []
    try:
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)
