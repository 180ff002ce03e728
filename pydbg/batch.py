"""Batch / CI mode (`pydbg run -- prog args`): run a program to its end under the debugger,
quietly, and report how it ended.

    result = run_program(["./prog", "arg"], timeout=30, json_file=open("run.jsonl", "w"))
    sys.exit(result.status)

The program runs as it would alone: every event filter is set to ignore and to pass its
signal on not handled, so the program sees each signal it would see without a debugger,
and nothing is printed but the reports.  The exit status is the program's own: its exit
code, or 128+N when signal N killed it (as a shell reports it).

* A crash (a signal the program does not handle and whose default action kills it, which
  the engine reports as a second-chance exception) stops the run before the signal is
  delivered; the crash report (pydbg.reports.crash) goes to `report`, then the signal is
  delivered and the program dies of it.  A signal the program handles is no crash.
* With `timeout` (seconds), when it passes the targets are broken into, the hang report
  (every thread's stack, pydbg.reports.hang) goes to `report`, the program is killed and
  the status is 124, as timeout(1)'s.
* Ctrl-C breaks in the same way (reason "interrupted", status 130); a second Ctrl-C, or
  SIGTERM/SIGHUP, kill the program and the debugger (pydbg.engine.teardown).
* `json_file` receives the event log and the report as JSON Lines (pydbg.reports.jsonl).
* `core` (a path): at a crash or a timeout, after the report and before the program dies,
  an ELF core file of it is written there (pydbg.coredump), for gdb or eu-stack later.  A
  core that cannot be written is said on `report` in one line; the run goes on.

`run_program(attach=PID)` (`pydbg run -p PID` / `-pn NAME`) does the same for a process
that is already running: it is attached to (seized, not stopped for good), runs on under
the debugger until it crashes or exits, with the same reports and exit status.  What
differs is the end: at a timeout (or Ctrl-C) the hang report is made and the process is
DETACHED, every breakpoint removed, and runs on (a monitored service is not killed
because a watch expired); the status is still 124 (130).  The event log's "start" record
has the process's command line as argv.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from pydbg.client import DebugClient, create_client
from pydbg.constants import (
    STATUS_BREAKPOINT,
    DebugEnd,
    DebugStatus,
    FilterHandling,
    FilterStatus,
    OutputMask,
)
from pydbg.control import LastEventException
from pydbg.coredump import write_core
from pydbg.errors import PydbgError
from pydbg.filters import ExceptionFilterParameters, SpecificFilterParameters
from pydbg.reports.crash import CrashReport, build_crash_report
from pydbg.reports.events import EventLog
from pydbg.reports.hang import HangReport, build_hang_report
from pydbg.reports.jsonl import JsonLines

__all__ = ["TIMEOUT_STATUS", "RunResult", "quiet_filters", "run_program"]

TIMEOUT_STATUS = 124  # timeout(1)'s
INTERRUPTED_STATUS = 128 + signal.SIGINT


@dataclass
class RunResult:
    """How a batch run ended: the exit status to pass on, the reason (see
    pydbg.reports.jsonl), and the report made on the way, if any."""

    status: int
    reason: str
    exit_code: int | None = None
    crash: CrashReport | None = None
    hang: HangReport | None = None
    core: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def quiet_filters(client: DebugClient) -> None:
    """Every event filter set to ignore (no break, no notice) and every exception passed on
    not handled, so the program gets each signal as it would without a debugger.  The
    initial breakpoint is ignored too: the first wait runs the program."""
    control = client.control
    specific, _, _ = control.get_number_event_filters()
    params = control.get_specific_filter_parameters(0, specific)
    control.set_specific_filter_parameters(
        0, [SpecificFilterParameters(FilterStatus.IGNORE, p.continue_option) for p in params]
    )
    control.set_exception_filter_parameters(
        [
            ExceptionFilterParameters(
                FilterStatus.IGNORE, FilterHandling.GO_NOT_HANDLED, p.exception_code
            )
            for p in control.get_exception_filter_parameters(start=specific)
        ]
    )


def _broke_in(client: DebugClient) -> bool:
    """Whether the last event is a break-in (Ctrl-C, set_interrupt): a breakpoint
    exception no signal raised."""
    info = client.control.get_last_event_information()
    return (
        info is not None
        and isinstance(info.extra, LastEventException)
        and info.extra.exception_record.exception_code == STATUS_BREAKPOINT
        and not info.extra.exception_record.signo
    )


def _broke_for_crash(client: DebugClient) -> bool:
    info = client.control.get_last_event_information()
    return (
        info is not None
        and isinstance(info.extra, LastEventException)
        and not info.extra.first_chance
        and bool(info.extra.exception_record.signo)
    )


_Report = TypeVar("_Report", CrashReport, HangReport)


def _report(out: IO[str], writer: JsonLines | None, build: Callable[[], _Report]) -> _Report | None:
    """Build a report and write it out.  A report that cannot be built costs one line,
    never the program's exit status."""
    try:
        report = build()
    except Exception as exc:  # noqa: BLE001 - the run goes on: the status is what matters
        out.write(f"pydbg: no report: {type(exc).__name__}: {exc}\n")
        out.flush()
        return None
    out.write(report.text())
    out.flush()
    if writer is not None:
        writer.write(report.to_json())
    return report


def _ended(client: DebugClient, log: EventLog, pid: int, result: RunResult, crashed: bool) -> None:
    """The program is gone: its exit status becomes the run's."""
    code = log.exit_codes.get(pid, client.get_exit_code())
    result.exit_code = code
    result.status = 1 if code is None else code
    if crashed:
        result.reason = "crashed"
    elif log.exit_signals.get(pid, 0):
        result.reason = "killed"
    else:
        result.reason = "exited"


def _dump(client: DebugClient, core: str | os.PathLike[str] | None, out: IO[str]) -> str | None:
    """Write the core file asked for, at the stop the report was made at; its path, or
    None (not asked for, or not written: said on `out`)."""
    if core is None:
        return None
    try:
        write_core(client, core)
    except (PydbgError, OSError) as exc:
        out.write(f"pydbg: core file not written: {exc}\n")
        out.flush()
        return None
    out.write(f"pydbg: core file written to {os.fspath(core)}\n")
    out.flush()
    return os.fspath(core)


def _command_line(pid: int) -> list[str]:
    """The attached process's argv, for the event log (its pid if it cannot be read)."""
    import psutil

    try:
        return psutil.Process(pid).cmdline() or [str(pid)]
    except psutil.Error:
        return [str(pid)]


def run_program(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    json_file: IO[str] | None = None,
    report: IO[str] | None = None,
    version: str = "",
    core: str | os.PathLike[str] | None = None,
    attach: int | None = None,
) -> RunResult:
    """Run argv to its end under a new client and return how it ended (module docstring).
    Reports are written to `report` (default: sys.stderr) as they are made.  Raises what
    create_process raises (ProgramNotFoundError, ...) before anything runs.  With
    `attach` (a pid; argv is then ignored), watch that running process instead, and
    detach from it rather than kill it at a timeout; attach_process's errors
    (NoSuchProcessError, PtracePermissionError, ...) are raised before anything runs."""
    out = sys.stderr if report is None else report
    started = time.monotonic()
    writer = JsonLines(json_file) if json_file is not None else None
    client = create_client()

    def output(mask: int, text: str) -> None:
        # Run mode prints only its reports; the engine's errors (a callback that failed)
        # still show.
        if mask & (OutputMask.ERROR | OutputMask.WARNING):
            out.write(text)
            out.flush()

    client.set_output_callbacks(output)
    log = EventLog(client, sink=writer.write if writer else None, start=started)
    client.set_event_callbacks(log)
    quiet_filters(client)
    control = client.control
    if attach is not None:
        client.attach_process(attach)
        pid = attach
        argv = _command_line(pid)
    else:
        pid = client.create_process(list(argv))
    if writer is not None:
        writer.start(list(argv), pid, version, timeout)
    result = RunResult(1, "error", events=log.records)
    deadline = None if timeout is None else started + timeout
    reported = False
    try:
        while True:
            if control.get_execution_status() == DebugStatus.NO_DEBUGGEE:
                _ended(client, log, pid, result, reported)
                break
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            broke = control.wait_for_event(remaining)
            if control.get_execution_status() == DebugStatus.NO_DEBUGGEE:
                continue
            if broke and _broke_for_crash(client):
                if not reported:  # (only the first crash)
                    reported = True
                    build = functools.partial(build_crash_report, client)
                    result.crash = _report(out, writer, build)
                    result.core = _dump(client, core, out)
                control.set_execution_status(DebugStatus.GO_NOT_HANDLED)
                continue
            if broke and not _broke_in(client):
                # Something else broke (a callback of another client, say): go on.
                control.set_execution_status(DebugStatus.GO)
                continue
            if broke:  # a break-in nobody asked for here: Ctrl-C
                reason, status = "interrupted", INTERRUPTED_STATUS
            else:  # the time is up: break in
                control.set_interrupt()
                control.wait_for_event()
                if control.get_execution_status() == DebugStatus.NO_DEBUGGEE:
                    continue  # it ended meanwhile
                reason, status = f"timeout after {timeout:g} s", TIMEOUT_STATUS
            result.hang = _report(out, writer, functools.partial(build_hang_report, client, reason))
            result.core = _dump(client, core, out)
            result.status = status
            result.reason = "timeout" if status == TIMEOUT_STATUS else "interrupted"
            break
    finally:
        if control.get_execution_status() != DebugStatus.NO_DEBUGGEE:
            # An attached process runs on (detached); a launched one goes with the run.
            client.end_session(
                DebugEnd.ACTIVE_DETACH if attach is not None else DebugEnd.ACTIVE_TERMINATE
            )
        if writer is not None:
            writer.write(
                {
                    "type": "end",
                    "time": round(time.monotonic() - started, 6),
                    "status": result.status,
                    "reason": result.reason,
                    "exit_code": result.exit_code,
                    "core": result.core,
                    "signal": log.exit_signals.get(pid) or None,
                }
            )
    return result
