"""`pydbg run [--timeout S] [--json FILE] -- program args` (and `pydbg -- program` without
a terminal and without -c): the program runs to its end under the debugger, its exit
status passes through, a crash or a hang is reported on stderr.  The crash report's content
against gdb is tests/cli/test_batch_vs_gdb.py; here: statuses, what is (not) reported, the
timeout, the JSON Lines schema, argument passing and --version.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from tests.support import wait_until

TIMEOUT = 60


def pydbg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pydbg", *args],
        stdin=subprocess.DEVNULL,  # not a terminal: batch
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def module(binary) -> str:
    """The module name pydbg gives a target (crash-pie -> crash_pie)."""
    return os.path.basename(binary.path).replace("-", "_")


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("code", ["0", "3", "200"])
def test_the_exit_code_passes_through(targets, code):
    result = pydbg("run", "--", targets["crash"].path, "exit", code)
    assert result.returncode == int(code), result.stderr
    assert result.stderr == ""  # nothing to report


def test_plain_launch_without_a_terminal_is_a_run(targets):
    path = targets["crash"].path
    result = pydbg("--", path, "segv")
    assert result.returncode == 128 + signal.SIGSEGV
    assert "pydbg: crash: SIGSEGV (11)" in result.stderr
    assert result.stdout == ""  # no event notices: only the program's own output
    assert pydbg("--", path, "exit", "3").returncode == 3


def test_a_handled_segv_is_no_crash(targets):
    result = pydbg("run", "--", targets["crash"].path, "handled")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "recovered\n"
    assert "crash" not in result.stderr


def test_the_crash_report_has_every_part(targets):
    result = pydbg("run", "--", targets["crash"].path, "segv")
    assert result.returncode == 128 + signal.SIGSEGV
    name = module(targets["crash"])
    text = result.stderr
    assert "si_code:          1 SEGV_MAPERR (address not mapped to object)" in text
    assert "Faulting address: 00000000`000dead0" in text
    assert re.search(r"Mapping: +none: 00000000`000dead0 is not mapped", text)
    assert re.search(r"^rip=[0-9a-f]{16} rsp=", text, re.M)
    marked = re.findall(r"^=> ([0-9a-f]{8}`[0-9a-f]{8}) ", text, re.M)
    assert len(marked) == 1
    rip = re.search(r"^rip=([0-9a-f]{16})", text, re.M)
    assert rip and marked[0].replace("`", "") == rip.group(1)
    stack = text[text.index("(crashed):") :]
    assert re.search(rf"{name}!inner\+0x[0-9a-f]+ \[.*crash\.c @ \d+\]", stack)
    assert (
        stack.index(f"{name}!inner") < stack.index(f"{name}!middle") < stack.index(f"{name}!main")
    )
    modules = text[text.index("\nModules:") :]
    assert re.search(r"libc_so +\S+libc\.so\.6  build id [0-9a-f]{40}", modules)


def test_a_crash_in_a_thread_lists_the_other_threads(targets):
    result = pydbg("run", "--", targets["crash"].path, "thread")
    assert result.returncode == 128 + signal.SIGSEGV
    assert result.stderr.count("Stack of thread") == 3
    crashed = re.search(r"in process (\d+) thread (\d+)", result.stderr)
    assert crashed and crashed.group(1) != crashed.group(2)
    assert f"Stack of thread {crashed.group(2)} (crashed)" in result.stderr


def test_the_timeout_shows_the_hang_and_exits_124(targets, tmp_path):
    report = tmp_path / "hang.jsonl"
    result = pydbg("run", "--timeout", "0.5", "--json", str(report), "--",
                   targets["crash"].path, "sleep")  # fmt: skip
    assert result.returncode == 124, result.stderr
    assert "pydbg: timeout after 0.5 s" in result.stderr
    assert f"{module(targets['crash'])}!sleep_forever" in result.stderr
    hang = [r for r in records(report) if r["type"] == "hang"]
    assert len(hang) == 1
    functions = [f["function"] for f in hang[0]["threads"][0]["frames"]]
    assert "sleep_forever" in functions and "main" in functions
    assert records(report)[-1]["reason"] == "timeout"


def test_a_timeout_that_does_not_expire_changes_nothing(targets):
    result = pydbg("run", "--timeout", "30", "--", targets["crash"].path, "exit", "5")
    assert result.returncode == 5, result.stderr


def test_only_the_first_double_dash_separates(targets):
    result = pydbg("run", "--", targets["crash"].path, "args", "--", "x")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "--\nx\n"
    plain = pydbg("--", targets["crash"].path, "args", "a", "--", "--")
    assert plain.stdout == "a\n--\n--\n"


# -- the JSON Lines log (schema: pydbg.reports.jsonl) ---------------------------------------------

_EVENT_KINDS = {
    "create_process", "exit_process", "create_thread", "exit_thread", "load_module",
    "unload_module", "breakpoint", "exception",
}  # fmt: skip


def _check_schema(lines: list[dict]) -> None:
    assert lines[0]["type"] == "start" and lines[0]["schema"] == 1
    assert lines[-1]["type"] == "end"
    last_time = 0.0
    for record in lines[1:-1]:
        assert record["type"] in ("event", "crash", "hang"), record
        if record["type"] != "event":
            continue
        assert record["kind"] in _EVENT_KINDS
        assert set(record) >= {"time", "kind", "pid", "tid", "pc", "symbol"}
        assert record["time"] >= last_time
        last_time = record["time"]
        assert record["pc"] is None or isinstance(record["pc"], int)


def test_json_log_of_a_crash(targets, tmp_path):
    report = tmp_path / "crash.jsonl"
    result = pydbg("run", "--json", str(report), "--", targets["crash"].path, "thread")
    lines = records(report)
    _check_schema(lines)
    start, end = lines[0], lines[-1]
    assert start["argv"] == [targets["crash"].path, "thread"]
    assert end == {**end, "status": result.returncode, "reason": "crashed", "signal": 11}
    kinds = [r["kind"] for r in lines if r["type"] == "event"]
    assert kinds[0] == "create_process" and kinds.count("create_thread") == 2
    assert "load_module" in kinds and kinds[-1] == "exit_process"
    chances = [
        r["first_chance"] for r in lines if r.get("kind") == "exception" and r["signal"] == 11
    ]
    assert chances == [True, False]  # the first chance passed on, the second one reported
    crash = next(r for r in lines if r["type"] == "crash")
    assert crash["registers"]["rip"] == crash["threads"][0]["frames"][0]["pc"]
    assert all(m["build_id"] is None or re.fullmatch("[0-9a-f]+", m["build_id"])
               for m in crash["modules"])  # fmt: skip
    event = next(r for r in lines if r.get("kind") == "exception" and r["signal"] == 11)
    assert event["symbol"].startswith(f"{module(targets['crash'])}!thread_inner")


def test_json_log_of_a_normal_exit(targets, tmp_path):
    report = tmp_path / "exit.jsonl"
    assert (
        pydbg("run", "--json", str(report), "--", targets["crash"].path, "exit", "3").returncode
        == 3
    )
    lines = records(report)
    _check_schema(lines)
    assert lines[-1]["reason"] == "exited" and lines[-1]["exit_code"] == 3
    assert not [r for r in lines if r["type"] in ("crash", "hang")]


# -- usage ---------------------------------------------------------------------------------------


def test_version():
    import pydbg as package

    result = pydbg("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"pydbg {package.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", package.__version__)


@pytest.mark.parametrize(
    "args",
    [
        ["run"],
        ["run", "--timeout", "0", "--", "/bin/true"],
        ["run", "--timeout", "soon", "--", "/bin/true"],
        ["-c", "g", "--timeout", "5", "--", "/bin/true"],
    ],
)
def test_bad_usage_exits_2(args):
    result = pydbg(*args)
    assert result.returncode == 2
    assert "usage" in result.stderr


def test_a_program_that_does_not_exist_is_one_line():
    result = pydbg("run", "--", "/nonexistent/program")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "pydbg:" in result.stderr


def test_ctrl_c_shows_the_stacks_and_exits_130(targets, tmp_path):
    report = tmp_path / "int.jsonl"
    command = [sys.executable, "-m", "pydbg", "run", "--json", str(report), "--",
               targets["crash"].path, "sleep"]  # fmt: skip
    debugger = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        # The program is asleep once its libc is loaded and it has had a moment to get there.
        assert wait_until(lambda: report.exists() and "libc" in report.read_text(), 30)
        assert wait_until(lambda: _sleeping(debugger.pid), 30)
        debugger.send_signal(signal.SIGINT)
        _, stderr = debugger.communicate(timeout=TIMEOUT)
    finally:
        if debugger.poll() is None:
            debugger.kill()
            debugger.communicate()
    assert debugger.returncode == 128 + signal.SIGINT, stderr
    assert "pydbg: interrupted" in stderr and "sleep_forever" in stderr
    assert records(report)[-1]["reason"] == "interrupted"


def _sleeping(pid: int) -> bool:
    """Whether the debugger's child sleeps (state S) in the kernel."""
    import psutil

    children = psutil.Process(pid).children()
    return bool(children) and children[0].status() == psutil.STATUS_SLEEPING


def test_core_at_a_crash_opens_in_gdb_with_the_crashing_stack(targets, tmp_path):
    path = targets["crash"].path
    core = tmp_path / "crash.core"
    log = tmp_path / "run.jsonl"
    result = pydbg("run", "--core", str(core), "--json", str(log), "--", path, "segv")
    assert result.returncode == 128 + signal.SIGSEGV, result.stderr
    assert f"core file written to {core}" in result.stderr
    assert records(log)[-1]["core"] == str(core)
    gdb = subprocess.run(
        ["gdb", "-nx", "-batch", "-ex", "bt", path, str(core)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    text = gdb.stdout + gdb.stderr
    assert "Program terminated with signal SIGSEGV" in text
    bt = text[text.rindex("#0 ") :]  # (gdb shows frame #0 alone first, on opening the core)
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+)", bt, re.MULTILINE)
    assert frames[:4] == ["inner", "middle", "outer", "main"], text


def test_core_at_a_timeout_and_a_core_that_cannot_be_written(targets, tmp_path):
    path = targets["crash"].path
    core = tmp_path / "hang.core"
    result = pydbg("run", "--timeout", "1", "--core", str(core), "--", path, "sleep")
    assert result.returncode == 124 and core.stat().st_size > 0, result.stderr
    result = pydbg("run", "--core", str(tmp_path / "no" / "such" / "dir"), "--", path, "segv")
    assert result.returncode == 128 + signal.SIGSEGV  # the run goes on without it
    assert "pydbg: core file not written:" in result.stderr
    assert "pydbg: crash: SIGSEGV (11)" in result.stderr


def test_core_is_for_runs_only(targets):
    result = pydbg("-c", "g", "--core", "x.core", "--", targets["crash"].path, "exit", "0")
    assert result.returncode == 2 and "--core" in result.stderr


def test_an_exit_code_above_128_is_an_exit_and_a_killing_signal_is_named(targets, tmp_path):
    """exit(139) and a death by SIGSEGV give the same status; the log tells them apart."""
    exited, crashed = tmp_path / "exit.jsonl", tmp_path / "segv.jsonl"
    path = targets["crash"].path
    assert pydbg("run", "--json", str(exited), "--", path, "exit", "139").returncode == 139
    assert pydbg("run", "--json", str(crashed), "--", path, "segv").returncode == 139
    end = records(exited)[-1]
    assert (end["reason"], end["exit_code"], end["signal"]) == ("exited", 139, None)
    end = records(crashed)[-1]
    assert (end["reason"], end["exit_code"], end["signal"]) == ("crashed", 139, signal.SIGSEGV)
    exits = [r for r in records(crashed) if r["type"] == "event" and r["kind"] == "exit_process"]
    assert exits and exits[-1]["signal"] == signal.SIGSEGV
