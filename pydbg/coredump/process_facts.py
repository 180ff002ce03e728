"""What a core file says of a process and its threads besides registers and memory, read
from /proc: ids, credentials, state, the command line, signal masks, CPU times and the
auxiliary vector.

These are plain file reads of a stopped process (no ptrace: /proc/PID/auxv and the stat
and status files need no tracer).  Values the kernel cannot give any more (the process
vanished) raise OSError.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pydbg.coredump.elf_layout import ProcessInfo

__all__ = ["ThreadFacts", "auxv", "process_info", "thread_facts"]

_TICK_US = 1_000_000 // os.sysconf("SC_CLK_TCK")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _stat(path: str) -> tuple[bytes, list[bytes]]:
    """(comm, the fields after it) of a /proc stat file: comm may hold spaces and
    parentheses, so it ends at the last ')'."""
    data = _read(path)
    head, _, tail = data.rpartition(b")")
    return head.partition(b"(")[2], tail.split()


def _status(path: str) -> dict[bytes, list[bytes]]:
    out = {}
    for line in _read(path).splitlines():
        key, _, value = line.partition(b":")
        out[key] = value.split()
    return out


def process_info(pid: int) -> ProcessInfo:
    """elf_prpsinfo's facts: from /proc/PID/stat, status and cmdline."""
    comm, fields = _stat(f"/proc/{pid}/stat")
    status = _status(f"/proc/{pid}/status")
    # The kernel copies at most ELF_PRARGSZ - 1 bytes of the arguments, NULs made spaces.
    args = _read(f"/proc/{pid}/cmdline").rstrip(b"\0").replace(b"\0", b" ")
    return ProcessInfo(
        pid=pid,
        ppid=int(fields[1]),
        pgrp=int(fields[2]),
        sid=int(fields[3]),
        uid=int(status[b"Uid"][0]),
        gid=int(status[b"Gid"][0]),
        state=fields[0].decode(),
        nice=int(fields[16]),
        flags=int(fields[6]),
        fname=comm[:15],
        psargs=args[:79],
    )


@dataclass(frozen=True)
class ThreadFacts:
    """elf_prstatus's facts of one thread besides its registers."""

    sigpend: int
    sighold: int
    utime_us: int
    stime_us: int
    cutime_us: int
    cstime_us: int


def thread_facts(pid: int, tid: int) -> ThreadFacts:
    """The thread's own pending and blocked signals; CPU times as the kernel's
    fill_prstatus gives them: the whole group's for the group leader, the thread's own for
    the others, and the reaped children's (cutime, cstime) for every thread."""
    task = f"/proc/{pid}/task/{tid}"
    status = _status(f"{task}/status")
    _, own = _stat(f"{task}/stat")
    _, group = _stat(f"/proc/{pid}/stat")
    times = group if tid == pid else own
    return ThreadFacts(
        sigpend=int(status[b"SigPnd"][0], 16),
        sighold=int(status[b"SigBlk"][0], 16),
        utime_us=int(times[11]) * _TICK_US,
        stime_us=int(times[12]) * _TICK_US,
        cutime_us=int(group[13]) * _TICK_US,
        cstime_us=int(group[14]) * _TICK_US,
    )


def auxv(pid: int) -> bytes:
    """The auxiliary vector as the kernel saved it at exec (NT_AUXV's descriptor)."""
    return _read(f"/proc/{pid}/auxv")
