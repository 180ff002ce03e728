"""Running native test programs from Python tests: `run(argv)` runs a program to its end
under pydbg, as `pydbg run` does, and returns how it ended with the crash or hang report as
text instead of printing it.

    from pydbg.testing import run

    def test_crash_test_passes():
        outcome = run(["./crash_test"], timeout=60)
        assert outcome.status == 0, outcome.summary()

`outcome.check()` raises NativeCrash (an AssertionError) carrying the report when the
program crashed, hung or exited non-zero.  The pytest plugin (pydbg.pytest_plugin, enabled
by `--pydbg-crash-report`) collects every outcome of a test through `recording()` and
attaches the reports to the test's failure output and JUnit XML; with `--pydbg-core` it
also asks for a core file in the test's tmp_path.
"""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydbg.client import DebugClient

__all__ = ["NativeCrash", "Recording", "RunOutcome", "recording", "run", "stopped_crash_report"]


@dataclass(frozen=True)
class RunOutcome:
    """How a program run by `run` ended.

    status       the exit status as a shell reports it: the exit code, 128+N for death by
                 signal N, 124 for a timeout (as timeout(1))
    reason       "exited", "crashed", "killed", "timeout", "interrupted" or "error"
    exit_code    the program's own exit code (128+N for a signal), None after a timeout
    crash_report the crash report's text (pydbg.reports.crash), None without a crash
    hang_report  the hang report's text (every thread's stack at the timeout), or None
    core         the core file written at the crash or timeout, or None
    output       everything pydbg said during the run (the reports, the core file line)
    """

    argv: tuple[str, ...]
    status: int
    reason: str
    exit_code: int | None = None
    crash_report: str | None = None
    hang_report: str | None = None
    core: str | None = None
    output: str = ""

    @property
    def crashed(self) -> bool:
        return self.crash_report is not None

    @property
    def hung(self) -> bool:
        return self.reason == "timeout"

    @property
    def report(self) -> str | None:
        """The crash or hang report, with the core file line when one was written."""
        if self.crash_report is None and self.hang_report is None:
            return None
        return self.output

    def summary(self) -> str:
        """One line saying how the program ended, then the report if there is one: the
        message for an `assert ..., outcome.summary()`."""
        head = f"{' '.join(self.argv)}: {self.reason}, status {self.status}"
        return head if self.report is None else f"{head}\n{self.report}"

    def check(self) -> RunOutcome:
        """Raise NativeCrash unless the program exited with status 0; return self."""
        if self.status != 0:
            raise NativeCrash(self)
        return self

    def __repr__(self) -> str:
        # What pytest shows for `assert run(...).status == 0`: short, the report is attached
        # as a section by the plugin.
        return f"RunOutcome(argv={list(self.argv)!r}, status={self.status}, reason={self.reason!r})"


class NativeCrash(AssertionError):
    """A native program run by `run` crashed, hung or failed; the message is the outcome's
    summary (with the report), `.outcome` the RunOutcome."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__(outcome.summary())
        self.outcome = outcome


@dataclass
class Recording:
    """The outcomes of the runs made while `recording()` is active, and where their core
    files go (None: no core files unless a run asks for one)."""

    core_dir: Path | None = None
    outcomes: list[RunOutcome] = field(default_factory=list)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def core_path(self, argv: Sequence[str]) -> str | None:
        if self.core_dir is None:
            return None
        name = os.path.basename(argv[0]) if argv else "program"
        return str(self.core_dir / f"{name}.{next(self._numbers)}.core")


_lock = threading.Lock()
_recordings: list[Recording] = []


@contextmanager
def recording(core_dir: str | os.PathLike[str] | None = None) -> Iterator[Recording]:
    """Collect the outcome of every `run` made inside the block (from any thread); with
    `core_dir`, runs that do not name a core file write one there at a crash or timeout."""
    rec = Recording(None if core_dir is None else Path(core_dir))
    with _lock:
        _recordings.append(rec)
    try:
        yield rec
    finally:
        with _lock:
            _recordings.remove(rec)


def run(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    core: str | os.PathLike[str] | None = None,
) -> RunOutcome:
    """Run argv to its end under pydbg (pydbg.batch.run_program) and return how it ended.

    timeout  seconds; when they pass, the hang report is made, the program is killed and
             the status is 124
    core     a path: at a crash or a timeout an ELF core file is written there (with the
             pytest plugin's --pydbg-core, one in the test's tmp_path by default)

    Nothing is printed: the reports are in the outcome.  Raises what launching raises
    (pydbg.errors.ProgramNotFoundError, ...) when the program cannot start.
    """
    from pydbg.batch import run_program  # the engine loads on the first run, not at import

    with _lock:
        active = list(_recordings)
    if core is None and active:
        core = active[-1].core_path(argv)
    out = io.StringIO()
    result = run_program(list(argv), timeout=timeout, report=out, core=core)
    outcome = RunOutcome(
        argv=tuple(argv),
        status=result.status,
        reason=result.reason,
        exit_code=result.exit_code,
        crash_report=None if result.crash is None else result.crash.text(),
        hang_report=None if result.hang is None else result.hang.text(),
        core=result.core,
        output=out.getvalue(),
    )
    for rec in active:
        rec.outcomes.append(outcome)
    return outcome


def stopped_crash_report(client: DebugClient) -> str | None:
    """The crash report of a client whose target is stopped at a crash (a signal, second
    chance: the program does not handle it), or None.  The native_debugger fixture uses it
    for the programs a test drove itself."""
    from pydbg.constants import DebugStatus
    from pydbg.control import LastEventException
    from pydbg.errors import PydbgError
    from pydbg.reports.crash import build_crash_report

    control = client.control
    try:
        if control.get_execution_status() != DebugStatus.BREAK:
            return None
        info = control.get_last_event_information()
        if not (
            info is not None
            and isinstance(info.extra, LastEventException)
            and not info.extra.first_chance
            and info.extra.exception_record.signo
        ):
            return None
        return build_crash_report(client).text()
    except PydbgError:
        return None
