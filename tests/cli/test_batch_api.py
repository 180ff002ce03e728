"""Batch mode from Python, as a pytest plugin or a script uses it: pydbg.batch.run_program
in this process, and the report builders on a client of the test's own."""

from __future__ import annotations

import io
import json
import signal

import pytest

from pydbg.batch import TIMEOUT_STATUS, run_program
from pydbg.errors import EngineError
from pydbg.reports.crash import build_crash_report
from pydbg.reports.hang import build_hang_report
from tests.api.helpers import WAIT_LIMIT


def test_run_program_returns_the_crash_it_reported(targets):
    report, log = io.StringIO(), io.StringIO()
    result = run_program([targets["crash"].path, "fpe"], report=report, json_file=log)
    assert result.status == 128 + signal.SIGFPE and result.reason == "crashed"
    assert result.crash is not None and result.hang is None
    assert report.getvalue() == result.crash.text()
    crash = next(json.loads(line) for line in log.getvalue().splitlines() if '"crash"' in line)
    assert crash == json.loads(json.dumps(result.crash.to_json()))
    assert [f["function"] for f in crash["threads"][0]["frames"][:2]] == ["divide", "main"]
    kinds = [e["kind"] for e in result.events]
    assert kinds[0] == "create_process" and kinds[-1] == "exit_process"


def test_run_program_times_out(targets):
    report = io.StringIO()
    result = run_program([targets["crash"].path, "sleep"], timeout=0.3, report=report)
    assert result.status == TIMEOUT_STATUS and result.reason == "timeout"
    assert result.hang is not None and "sleep_forever" in report.getvalue()


def test_a_crash_report_needs_a_signal(client, targets):
    client.create_process([targets["crash"].path, "segv"])
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)  # the initial breakpoint
    with pytest.raises(EngineError):
        build_crash_report(client)
    hang = build_hang_report(client, "looking")
    assert len(hang.threads) == 1 and hang.threads[0].frames
    client.control.execute("g")
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)  # first chance: a report too
    report = build_crash_report(client)
    assert report.signal_name == "SIGSEGV" and report.address == 0xDEAD0
    assert "!inner+0x" in report.crashed.frames[0].symbol
