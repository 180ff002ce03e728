"""The pytest plugin end to end: an inner pytest run (tests/plugin/helpers.py) of tests that
run tests/targets/crash.c under pydbg.testing.run or the native_debugger fixture, checked
from its output, its JUnit XML, the core file it keeps (read back by gdb) and the processes
left behind."""

from __future__ import annotations

import re
import shutil
import subprocess

import psutil
import pytest

from tests.plugin.helpers import run_inner

SEGV_TEST = """
    from pydbg.testing import run

    def test_crash_test():
        assert run([{prog!r}, "segv"]).status == 0
"""


def test_a_crash_report_is_in_the_failure_output_and_junit_xml(tmp_path, targets):
    prog = targets["crash"].path
    inner = run_inner(tmp_path, SEGV_TEST.format(prog=prog), "--pydbg-crash-report")
    assert inner.returncode == 1, inner.output
    assert "1 failed" in inner.output
    assert "assert 139 == 0" in inner.output
    assert f"pydbg crash report: {prog} segv" in inner.output
    assert "SIGSEGV (11)" in inner.output and "!inner+0x" in inner.output
    assert "Faulting address: 00000000`000dead0" in inner.output
    reports = [v for n, v in inner.properties() if n == "pydbg_crash_report"]
    assert len(reports) == 1
    assert "SIGSEGV" in reports[0] and "!inner+0x" in reports[0]
    assert "pydbg_core" not in dict(inner.properties())


def test_without_the_option_nothing_is_attached(tmp_path, targets):
    inner = run_inner(tmp_path, SEGV_TEST.format(prog=targets["crash"].path))
    assert inner.returncode == 1, inner.output
    assert "assert 139 == 0" in inner.output
    assert "pydbg crash report" not in inner.output and "SIGSEGV" not in inner.output
    assert inner.properties() == []
    assert not list(inner.basetemp.rglob("*.core"))


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is the oracle")
def test_the_core_file_is_kept_in_tmp_path_and_gdb_reads_it(tmp_path, targets):
    prog = targets["crash"].path
    inner = run_inner(tmp_path, SEGV_TEST.format(prog=prog), "--pydbg-crash-report", "--pydbg-core")
    assert inner.returncode == 1, inner.output
    props = dict(inner.properties())
    core = props["pydbg_core"]
    assert core.startswith(str(inner.basetemp)) and "test_crash_test" in core
    assert f"pydbg: core file written to {core}" in inner.output
    assert f"core file written to {core}" in props["pydbg_crash_report"]
    bt = subprocess.run(
        ["gdb", "-batch", "-nx", "-ex", "bt", prog, core],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    # gdb prints frame #0 once when it loads the core and again in `bt`.
    frames = dict(re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\w+)", bt, re.M))
    assert [frames[str(i)] for i in range(4)] == ["inner", "middle", "outer", "main"], bt


def test_a_hang_report_names_the_sleeping_function(tmp_path, targets):
    source = f"""
        from pydbg.testing import run

        def test_hangs():
            outcome = run([{targets["crash"].path!r}, "sleep"], timeout=0.5)
            assert outcome.status == 0
    """
    inner = run_inner(tmp_path, source, "--pydbg-crash-report")
    assert inner.returncode == 1, inner.output
    assert "assert 124 == 0" in inner.output
    assert "pydbg hang report:" in inner.output and "!sleep_forever" in inner.output
    assert [n for n, _ in inner.properties()] == ["pydbg_hang_report"]


def test_a_passing_program_attaches_nothing(tmp_path, targets):
    source = f"""
        from pydbg.testing import run

        def test_exits():
            outcome = run([{targets["crash"].path!r}, "exit", "0"])
            assert outcome.status == 0 and outcome.report is None
            assert 0, "failed on purpose"
    """
    inner = run_inner(tmp_path, source, "--pydbg-crash-report", "--pydbg-core")
    assert inner.returncode == 1 and "failed on purpose" in inner.output, inner.output
    assert "pydbg" not in inner.output.replace("pydbg.testing", "")
    assert inner.properties() == []


def test_a_passing_test_gets_no_report_of_an_expected_crash(tmp_path, targets):
    """A test that expects its program to crash passes: nothing is attached to it, neither
    a report section (-rP would show one) nor a JUnit property, through `run` or the
    fixture; the failing test next to it still gets its report."""
    prog = targets["crash"].path
    source = f"""
        from pydbg.constants import DebugStatus
        from pydbg.testing import run

        def test_expects_the_crash():
            assert run([{prog!r}, "segv"]).status == 139

        def test_stops_at_the_crash(native_debugger):
            client = native_debugger([{prog!r}, "segv"])
            assert client.control.wait_for_event(timeout=30)
            for _ in range(2):
                client.control.set_execution_status(DebugStatus.GO_NOT_HANDLED)
                assert client.control.wait_for_event(timeout=30)

        def test_fails():
            assert run([{prog!r}, "fpe"]).status == 0
    """
    inner = run_inner(tmp_path, source, "--pydbg-crash-report", "-rP")
    assert inner.returncode == 1 and "1 failed, 2 passed" in inner.output, inner.output
    assert inner.output.count("pydbg crash report:") == 1, inner.output
    assert f"pydbg crash report: {prog} fpe" in inner.output
    assert [name for name, _ in inner.properties()] == ["pydbg_crash_report"]
    assert "SIGFPE" in inner.properties()[0][1]


NATIVE_DEBUGGER_TEST = """
    import psutil

    from pydbg.constants import DebugStatus

    PIDS = []

    def test_launch(native_debugger):
        client = native_debugger([{prog!r}, "sleep"])
        assert client.control.wait_for_event(timeout=30)
        pid = client.system_objects.get_current_process_system_id()
        assert psutil.Process(pid).exe() == {prog!r}
        PIDS.append(pid)
        with open({pidfile!r}, "w") as f:
            f.write(str(pid))

    def test_crash_through_the_fixture(native_debugger):
        client = native_debugger([{prog!r}, "segv"])
        assert client.control.wait_for_event(timeout=30)  # the initial breakpoint
        for _ in range(2):  # first chance, then second chance: the crash
            client.control.set_execution_status(DebugStatus.GO_NOT_HANDLED)
            assert client.control.wait_for_event(timeout=30)
        assert False, "crashed"

    def test_nothing_is_left():
        assert psutil.Process().children(recursive=True) == []
        assert not psutil.pid_exists(PIDS[0])
"""


def test_native_debugger_launches_and_reaps(tmp_path, targets):
    prog = targets["crash"].path
    pidfile = str(tmp_path / "pid")
    source = NATIVE_DEBUGGER_TEST.format(prog=prog, pidfile=pidfile)
    inner = run_inner(tmp_path, source, "--pydbg-crash-report")
    assert "2 passed" in inner.output and "1 failed" in inner.output, inner.output
    assert f"pydbg crash report: {prog} segv" in inner.output
    assert "!inner+0x" in inner.output
    with open(pidfile) as f:
        pid = int(f.read())
    assert not psutil.pid_exists(pid)
    assert psutil.Process().children(recursive=True) == []


def test_the_fixture_works_without_the_options(tmp_path, targets):
    prog = targets["crash"].path
    source = NATIVE_DEBUGGER_TEST.format(prog=prog, pidfile=str(tmp_path / "pid"))
    inner = run_inner(tmp_path, source)
    assert "2 passed" in inner.output and "1 failed" in inner.output, inner.output
    assert "pydbg crash report" not in inner.output and "SIGSEGV" not in inner.output


def test_the_fixture_tears_down_ended_failed_and_several_sessions(tmp_path, targets):
    prog = targets["crash"].path
    source = f"""
        import psutil
        import pytest

        from pydbg.constants import DebugStatus
        from pydbg.errors import PydbgError

        def test_program_ended_before_teardown(native_debugger):
            client = native_debugger([{prog!r}, "exit", "0"])
            assert client.control.wait_for_event(timeout=30)
            client.control.set_execution_status(DebugStatus.GO)
            client.control.wait_for_event(timeout=30)
            assert client.control.get_execution_status() == DebugStatus.NO_DEBUGGEE

        def test_program_not_found(native_debugger):
            with pytest.raises(PydbgError):
                native_debugger([{str(tmp_path / "missing")!r}])

        def test_two_programs(native_debugger):
            first = native_debugger([{prog!r}, "sleep"])
            second = native_debugger([{prog!r}, "sleep"])
            assert first.control.wait_for_event(timeout=30)
            assert second.control.wait_for_event(timeout=30)
            assert len(psutil.Process().children()) == 2

        def test_nothing_is_left():
            assert psutil.Process().children(recursive=True) == []
    """
    inner = run_inner(tmp_path, source, "--pydbg-crash-report")
    assert inner.returncode == 0 and "4 passed" in inner.output, inner.output
    assert "pydbg crash report" not in inner.output
