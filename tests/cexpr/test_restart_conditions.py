"""`.restart` (pydbg.repl.restart.Launch) keeps a C condition (`bp /w "count > 3"`): the
new process stops where gdb's `break ... if` does, and `bl` still shows it as C."""

from __future__ import annotations

import re

from pydbg.breakpoints import CCondition
from pydbg.commands.watch_values import WatchedValue
from pydbg.repl.restart import Launch
from tests.api.helpers import wait
from tests.cexpr.conftest import go, source_line
from tests.cexpr.test_c_conditions import CONDITION, _gdb_stops
from tests.dwarf.conftest import gdb_batch, needs_gdb


@needs_gdb
def test_restart_keeps_a_c_condition(client, output, cexpr_binary) -> None:
    line = source_line("walk-line")
    expected = _gdb_stops(cexpr_binary, line, CONDITION)
    assert expected
    launch = Launch(client, [cexpr_binary], new_process_group=False)
    launch.start()
    assert wait(client)

    def run(command: str) -> str:
        client.control.execute(command)
        return output.take()

    run(f'bp /w "{CONDITION}" cexpr.c:{line}')
    run("bp main")
    launch.restart()
    output.take()
    conditions = [bp.condition for bp in client.control.breakpoints()]
    assert conditions == [CCondition(CONDITION), None]
    assert f'/w "@@c++({CONDITION})"' in run("bl")
    run("bc 1")
    values = []
    while go(client):
        match = re.search(r"^int (.*)$", run("?? i"), re.M)
        if match is None:
            break
        values.append(match[1])
    assert values == expected


@needs_gdb
def test_restart_keeps_a_variable_watchpoint(client, output, cexpr_binary) -> None:
    """`ba w4 counter` set again in the new process reports the changes gdb's `watch
    counter` does (Old/New values read from the new process)."""
    # The watchpoint is set again at the new process's start: gdb's watch from main on.
    text = gdb_batch(cexpr_binary, ["break main", "run", "watch counter"] + ["continue"] * 40)
    expected = re.findall(r"^Old value = (.*)\nNew value = (.*)$", text, re.M)
    assert len(expected) > 4
    launch = Launch(client, [cexpr_binary], new_process_group=False)
    launch.start()
    assert wait(client)

    def run(command: str) -> str:
        client.control.execute(command)
        return output.take()

    run("bp changes")
    assert go(client)
    run("ba1 w4 counter")
    launch.restart()
    output.take()
    assert isinstance(client.control.breakpoints()[1].condition, WatchedValue)
    run("bc 0")
    seen = []
    while go(client):
        report = re.search(r"^Old value = (.*)\nNew value = (.*)\n", run(""), re.M)
        if report is None:
            break
        seen.append((report[1], report[2]))
    assert seen == expected
