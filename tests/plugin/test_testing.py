"""pydbg.testing.run in this process: the outcome of each way a program ends, the summary an
assertion shows, and recording() collecting outcomes and placing core files."""

from __future__ import annotations

import signal

import pytest

from pydbg.errors import PydbgError
from pydbg.testing import NativeCrash, recording, run


def test_a_clean_exit_has_no_report(targets):
    outcome = run([targets["crash"].path, "exit", "3"])
    assert (outcome.status, outcome.reason, outcome.exit_code) == (3, "exited", 3)
    assert outcome.report is None and outcome.crash_report is None and outcome.core is None
    assert outcome.output == ""
    assert outcome.summary() == f"{targets['crash'].path} exit 3: exited, status 3"
    with pytest.raises(NativeCrash):
        outcome.check()
    assert run([targets["crash"].path, "exit", "0"]).check().status == 0


def test_a_crash_is_reported_in_the_outcome_not_on_stderr(targets, capfd):
    outcome = run([targets["crash"].path, "abort"])
    assert outcome.status == 128 + signal.SIGABRT and outcome.crashed and not outcome.hung
    assert outcome.crash_report is not None and "SIGABRT" in outcome.crash_report
    assert "!check_value+0x" in outcome.crash_report
    assert outcome.report == outcome.output
    with pytest.raises(NativeCrash) as raised:
        outcome.check()
    assert raised.value.outcome is outcome and "!check_value+0x" in str(raised.value)
    out, err = capfd.readouterr()
    assert "SIGABRT" not in out + err


def test_recording_collects_outcomes_and_places_cores(targets, tmp_path):
    with recording(tmp_path) as rec:
        hung = run([targets["crash"].path, "sleep"], timeout=0.3)
        fine = run([targets["crash"].path, "exit", "0"])
    after = run([targets["crash"].path, "exit", "0"])
    assert [id(o) for o in rec.outcomes] == [id(hung), id(fine)]  # not `after`
    assert after.core is None
    assert hung.hung and hung.status == 124 and hung.hang_report is not None
    assert "!sleep_forever" in hung.hang_report
    assert hung.core == str(tmp_path / "crash-pie.1.core")
    assert (tmp_path / "crash-pie.1.core").stat().st_size > 0
    assert fine.core is None and list(tmp_path.iterdir()) == [tmp_path / "crash-pie.1.core"]


def test_a_missing_program_raises_before_anything_runs(tmp_path):
    with pytest.raises(PydbgError):
        run([str(tmp_path / "no-such-program")])
