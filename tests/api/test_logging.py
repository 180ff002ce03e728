"""The debug log channels (pydbg.log): a real breakpoint hit logged on its way through the
engine (native record -> take -> event -> vote -> resume / break), on the fast GO loop and on
the general wait; silence when the channels are off; PYDBG_LOG in a fresh interpreter."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from tests.api.helpers import read_lines, wait
from tests.api.recording import GO
from tests.support import ROOT

BREAKPOINT_CODE, BREAKPOINT_ENABLED = 0, 0x4


@pytest.fixture
def access(targets):
    return targets["access"]


@pytest.fixture
def out_file(tmp_path) -> str:
    return str(tmp_path / "access.out")


def _messages(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name]


def _run_to_second_hit(client, recorder, access, out_file, spinner: int) -> int:
    """`note 3`: a breakpoint on noted() whose callback has no opinion (a break) at the
    second hit and votes GO at the others.  Returns the breakpoint's address."""
    pid = client.create_process([access.path, out_file, "note", "3", str(spinner)])
    assert wait(client) is True
    address = access.addr(pid, "noted")
    bp = client.control.add_breakpoint(BREAKPOINT_CODE)
    bp.set_offset(address)
    bp.add_flags(BREAKPOINT_ENABLED)
    recorder.mask = 0x1
    recorder.votes["breakpoint"] = lambda b: (
        None if recorder.names().count("breakpoint") == 2 else GO
    )
    client.set_event_callbacks(recorder)
    client.control.set_execution_status(GO)
    assert wait(client) is True
    assert client.registers.get_value("rdi") == 1014
    return address


@pytest.mark.parametrize("spinner", [0, 1], ids=["fast-go-loop", "general-wait"])
def test_a_breakpoint_hit_is_logged_from_record_to_resume(
    client, recorder, access, out_file, caplog, spinner
):
    caplog.set_level(logging.DEBUG, logger="pydbg.engine")
    caplog.set_level(logging.DEBUG, logger="pydbg.native")
    address = _run_to_second_hit(client, recorder, access, out_file, spinner)
    hit = f"address={address:#x}"

    records = [m for m in _messages(caplog, "pydbg.native") if hit in m]
    assert len(records) == 2 and all(m.startswith("record <Event BREAKPOINT") for m in records)
    engine = _messages(caplog, "pydbg.engine")

    def lines(predicate) -> list[int]:
        return [i for i, m in enumerate(engine) if predicate(m)]

    takes = lines(lambda m: m.startswith("take ") and hit in m and "BreakpointHit" in m)
    events = lines(lambda m: m.startswith("event ") and "Hit breakpoint 0" in m)
    votes = lines(lambda m: m.startswith("vote breakpoint 0"))
    resumes = lines(lambda m: m.startswith("resume: "))
    assert len(takes) == len(events) == len(votes) == 2
    assert [engine[i] for i in votes] == [
        "vote breakpoint 0: [GO] -> GO",
        "vote breakpoint 0: [None] -> BREAK",
    ]
    # In order: each hit's take, event and vote; a resume between the two hits; the break.
    assert takes[0] < events[0] < votes[0] < takes[1] < events[1] < votes[1]
    assert any(votes[0] < i < takes[1] for i in resumes)
    assert engine[-1].startswith("break: ") and votes[1] < len(engine) - 1

    client.control.set_execution_status(GO)
    assert wait(client) is False


def test_commands_channel_logs_a_breakpoint_command(client, access, out_file, caplog):
    caplog.set_level(logging.DEBUG, logger="pydbg.commands")
    pid = client.create_process([access.path, out_file, "note", "2", "0"])
    assert wait(client) is True
    client.control.execute(f'bp {access.addr(pid, "noted"):#x} "r rdi; gc"')
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert read_lines(out_file)[-1] == "done"
    logged = _messages(caplog, "pydbg.commands")
    assert logged == ["command 'r rdi; gc' -> vote 1"] * 2  # gc: GO


def test_nothing_is_logged_when_the_channels_are_off(client, recorder, access, out_file, caplog):
    caplog.set_level(logging.INFO)  # a level the channels do not log at
    _run_to_second_hit(client, recorder, access, out_file, 0)
    assert not [r for r in caplog.records if r.name.startswith("pydbg.")]
    client.control.set_execution_status(GO)
    assert wait(client) is False


_SCRIPT = textwrap.dedent(
    """
    import sys
    import pydbg
    from tests.support import Binary

    path, out = sys.argv[1], sys.argv[2]
    access = Binary("access", "pie", path)

    class Count(pydbg.EventCallbacks):
        hits = 0

        def breakpoint(self, bp):
            self.hits += 1
            return 1  # DEBUG_STATUS_GO

    with pydbg.create_client() as client:
        count = Count()
        client.set_event_callbacks(count)
        pid = client.create_process([path, out, "note", "3", "0"])
        assert client.control.wait_for_event(20)
        bp = client.control.add_breakpoint(0)
        bp.set_offset(access.addr(pid, "noted"))
        bp.add_flags(4)
        client.control.set_execution_status(1)
        assert not client.control.wait_for_event(20)
        print("hits", count.hits)
    """
)


def _run_script(access, out_file, log: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYDBG_LOG", None)
    if log is not None:
        env["PYDBG_LOG"] = log
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, access.path, out_file],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("log", "engine", "native"),
    [(None, False, False), ("engine", True, False), ("native, engine", True, True)],
)
def test_pydbg_log_environment_variable(access, out_file, log, engine, native):
    proc = _run_script(access, out_file, log)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hits 3"
    assert ("pydbg.engine: vote breakpoint 0: [GO] -> GO" in proc.stderr) is engine
    assert ("pydbg.engine: resume: cont thread" in proc.stderr) is engine
    assert ("pydbg.native: record <Event BREAKPOINT" in proc.stderr) is native
    assert "pydbg.commands" not in proc.stderr


def test_pydbg_log_with_an_unknown_channel_warns_and_keeps_the_known_ones(access, out_file):
    proc = _run_script(access, out_file, "engine,bogus")
    assert proc.returncode == 0, proc.stderr
    assert "unknown pydbg log channel(s) bogus" in proc.stderr
    assert "pydbg.engine: vote breakpoint 0" in proc.stderr
