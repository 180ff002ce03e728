"""`.restart` (pydbg.repl.restart.Launch) keeps a C condition (`bp /w "count > 3"`): the
new process stops where gdb's `break ... if` does, and `bl` still shows it as C."""

from __future__ import annotations

import re

from pydbg.breakpoints import CCondition
from pydbg.repl.restart import Launch
from tests.api.helpers import wait
from tests.cexpr.conftest import go, source_line
from tests.cexpr.test_c_conditions import CONDITION, _gdb_stops
from tests.dwarf.conftest import needs_gdb


@needs_gdb
def test_restart_keeps_a_c_condition(client, output, cexpr_binary) -> None:
    line = source_line("walk-line")
    expected = _gdb_stops(cexpr_binary, line, CONDITION)
    assert expected
    launch = Launch(client, [cexpr_binary], new_process_group=False)
    launch.start()
    assert wait(client)

    def run(command: str) -> str:
        output.take()
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
