"""The pytest plugin (entry point `pytest11`, loaded by pytest wherever pydbg is installed):
native crash and hang reports in the test's failure output and JUnit XML.

It is off unless asked.  Without options it only provides the `native_debugger` fixture;
importing it loads nothing of the engine.

* `--pydbg-crash-report`: when a program run by `pydbg.testing.run` during a test crashes
  or hangs, or a program launched by `native_debugger` is stopped at a crash when the test
  ends, and the test fails, its report becomes a section of the test's report ("pydbg
  crash report: ARGV", shown under the failure like captured output) and a JUnit XML
  property (`pydbg_crash_report` / `pydbg_hang_report`, `pydbg_core`).  A test that
  passes (one that expects the crash) gets none.
* `--pydbg-core`: such runs also write a core file into the test's tmp_path; its path is in
  the report and in the `pydbg_core` property.

`native_debugger(argv, env=None, cwd=None)` launches argv under a new client and returns it
(a pydbg.client.DebugClient, stopped at nothing yet: wait_for_event runs it to the initial
breakpoint); at teardown every session it made is ended, killing what it launched.

    def test_reaches_main(native_debugger):
        client = native_debugger(["./prog"])
        client.control.wait_for_event(timeout=10)
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pydbg.client import DebugClient
    from pydbg.testing import Recording

_RECORDING: pytest.StashKey[Recording] = pytest.StashKey()
_CLIENTS: pytest.StashKey[list[tuple[tuple[str, ...], DebugClient]]] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pydbg", "native crash reports (pydbg)")
    group.addoption(
        "--pydbg-crash-report",
        action="store_true",
        default=False,
        help="attach the crash/hang report of native programs run by pydbg.testing.run or "
        "native_debugger to the test's report and JUnit XML",
    )
    group.addoption(
        "--pydbg-core",
        action="store_true",
        default=False,
        help="with a crash or hang, also keep a core file in the test's tmp_path",
    )


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("pydbg_crash_report") or config.getoption("pydbg_core"))


@pytest.fixture(autouse=True)
def _pydbg_recording(request: pytest.FixtureRequest) -> Iterator[None]:
    """With the options, record the pydbg.testing.run calls of the test (tmp_path only
    then: a test that does not ask for the options gets no temporary directory)."""
    if not _enabled(request.config):
        yield
        return
    from pydbg.testing import recording

    core_dir = (
        request.getfixturevalue("tmp_path") if request.config.getoption("pydbg_core") else None
    )
    with recording(core_dir) as rec:
        request.node.stash[_RECORDING] = rec
        yield


@pytest.fixture
def native_debugger(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., DebugClient]]:
    """A factory: `native_debugger(argv, env=None, cwd=None)` launches argv under a new
    pydbg client and returns the client; every session is ended (the programs killed and
    reaped) at teardown."""
    from pydbg.client import create_client
    from pydbg.constants import DebugEnd

    clients: list[tuple[tuple[str, ...], DebugClient]] = []
    request.node.stash[_CLIENTS] = clients

    def launch(
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> DebugClient:
        client = create_client()
        clients.append((tuple(argv), client))
        client.create_process(list(argv), env=env, cwd=cwd)
        return client

    try:
        yield launch
    finally:
        for _, client in reversed(clients):
            client.end_session(DebugEnd.ACTIVE_TERMINATE)


def _attach(
    item: pytest.Item,
    report: pytest.TestReport,
    kind: str,
    argv: Sequence[str],
    text: str,
    core: str | None,
) -> None:
    report.sections.append((f"pydbg {kind} report: {' '.join(argv)}", text))
    properties = [(f"pydbg_{kind}_report", text)]
    if core is not None:
        properties.append(("pydbg_core", core))
    report.user_properties.extend(properties)
    # JUnit XML writes the properties of the teardown report, which copies the item's.
    item.user_properties.extend(properties)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    result = yield
    if call.when != "call" or not _enabled(item.config):
        return
    report: pytest.TestReport = result.get_result()
    if not report.failed:
        # A test that passes (one that expects its program to crash, say) or is skipped
        # or xfailed is not what a report explains: nothing is attached to it.
        return
    rec = item.stash.get(_RECORDING, None)
    for outcome in rec.outcomes if rec is not None else ():
        if outcome.report is not None:
            kind = "crash" if outcome.crashed else "hang"
            _attach(item, report, kind, outcome.argv, outcome.report, outcome.core)
    from pydbg.testing import stopped_crash_report

    for argv, client in item.stash.get(_CLIENTS, []):
        text = stopped_crash_report(client)
        if text is not None:
            _attach(item, report, "crash", argv, text, None)
