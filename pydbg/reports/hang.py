"""The hang report: every thread's stack when a batch run's time is up (or the user broke
in), so a CI log shows where a program that never ends was waiting.

    report = build_hang_report(client, "timeout after 30 s")   # the targets broken in
    sys.stderr.write(report.text())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydbg.reports.stacks import ThreadStack, thread_stacks

if TYPE_CHECKING:
    from pydbg.client import DebugClient

__all__ = ["HangReport", "build_hang_report"]


@dataclass(frozen=True)
class HangReport:
    """Why the program was stopped, and every thread's stack."""

    pid: int
    reason: str
    threads: tuple[ThreadStack, ...]

    def text(self) -> str:
        parts = [f"pydbg: {self.reason}: process {self.pid} stopped; every thread's stack:\n"]
        parts.extend("\n" + stack.text(f"Stack of thread {stack.tid}") for stack in self.threads)
        return "".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The `hang` record of pydbg.reports.jsonl."""
        return {
            "type": "hang",
            "pid": self.pid,
            "reason": self.reason,
            "threads": [stack.to_json() for stack in self.threads],
        }


def build_hang_report(client: DebugClient, reason: str) -> HangReport:
    """Every thread's stack of the current process, which must be stopped (broken in)."""
    pid = client.system_objects.get_current_process_system_id()
    return HangReport(pid, reason, tuple(thread_stacks(client)))
