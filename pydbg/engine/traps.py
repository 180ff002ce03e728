"""The trap ledger: which thread sits at which trap of ours, and which one is about to run
from a breakpoint site it did not stop at.

Two facts decide what a breakpoint trap means (translate._breakpoint, hazards §10):

* `trapped`: tid -> the address of the int3 (or the debug register serving a code
  breakpoint) it stopped at last.  Resuming it does not trap there again: the native core
  steps it over the int3; a debug register's trap is suppressed by EFLAGS.RF.
* `resumed_on_site`: tid -> the pc it was resumed from, when a breakpoint of ours sits
  there that it did not stop at (it was stopped elsewhere: a step, a signal, a stop-all).
  Its trap there at once is the resume itself, not a hit (Windows steps over it too).

The ledger is the one owner of both; the session, translation, the breakpoint table and
the fast loops read and update it.  It knows nothing of the session: what it needs is the
target table (a thread's process) and, when a thread is about to run, the breakpoint
sites and a register reader.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from pydbg._native import EventKind
from pydbg.engine.backend import NativeEvent
from pydbg.engine.targets import TargetTable

__all__ = ["EFLAGS_RF", "TrapLedger"]

EFLAGS_RF = 1 << 16  # resume flag: no instruction breakpoint on the next instruction

_KIND_BREAKPOINT = EventKind.BREAKPOINT
_KIND_HW_BREAKPOINT = EventKind.HW_BREAKPOINT


class TrapLedger:
    """Planted traps each thread sits at or is about to run from (module docstring)."""

    def __init__(self, targets: TargetTable) -> None:
        self.targets = targets
        self.trapped: dict[int, int] = {}
        self.resumed_on_site: dict[int, int] = {}

    def took(self, record: NativeEvent) -> None:
        """A native record left the wait: the thread trapped at an int3, or stopped for
        anything else (it left whatever trap it was at).  A debug register's trap keeps
        the account: translation tells a resume from a hit by it."""
        kind = record.kind
        if kind == _KIND_BREAKPOINT:
            self.trapped[record.tid] = record.address
        elif kind != _KIND_HW_BREAKPOINT and (self.resumed_on_site or self.trapped):
            self.resumed_on_site.pop(record.tid, None)
            self.trapped.pop(record.tid, None)

    def note_trap(self, tid: int, address: int) -> None:
        """The thread stopped at a trap of ours at address (an int3, or a debug register
        serving a breakpoint): resuming it does not trap there again."""
        self.trapped[tid] = address

    def resumed_from(self, tid: int, address: int) -> bool:
        """Is this trap at address the thread's resume from there (not a hit)?  The
        ledger forgets it either way: the next trap there is a hit."""
        return self.resumed_on_site.pop(tid, None) == address

    def about_to_run(
        self,
        tid: int,
        pid: int,
        pc: int,
        sites: Container[tuple[int, int]],
        hw_sites: Container[tuple[int, int]],
        eflags: Callable[[int], int],
    ) -> None:
        """The thread is about to run from pc: if a breakpoint of ours is there that will
        trap at once, that trap is the resume itself (translate._breakpoint)."""
        if (pid, pc) in hw_sites:
            # An execute debug register traps unless EFLAGS.RF is set, which the kernel
            # sets when it reports that trap and clears once the instruction ran (hazards
            # §10).  RF, not `trapped`, tells: a thread resumed from its hit and stopped
            # again (a stop-all) before it ran is still on the site, RF still set.
            if not eflags(tid) & EFLAGS_RF:
                self.resumed_on_site[tid] = pc
        elif (pid, pc) in sites and self.trapped.get(tid) != pc:
            self.resumed_on_site[tid] = pc
        self.trapped.pop(tid, None)

    def left(self, tid: int) -> None:
        """The thread left its trap by other means (the native trace loop ran it)."""
        self.trapped.pop(tid, None)
        self.resumed_on_site.pop(tid, None)

    def threads_trapped_at(self, pid: int, address: int) -> list[int]:
        return [
            tid
            for tid, where in self.trapped.items()
            if where == address
            and (thread := self.targets.thread(tid)) is not None
            and thread.process.pid == pid
        ]

    def clear(self) -> None:
        self.trapped.clear()
        self.resumed_on_site.clear()
