"""C conditions on breakpoints (`bp /w "count > 3 && p->next == 0" cexpr.c:N`), checked
against gdb's `break cexpr.c:N if ...`: the same iterations stop; and the MASM forms,
`@@c++(...)`, `bl`, an unevaluable C condition (reported, counts as true)."""

from __future__ import annotations

import re

import pytest

from pydbg.breakpoints import CCondition
from pydbg.dwarf.c_expressions import ExpressionSyntaxError
from tests.cexpr.conftest import go, source_line
from tests.dwarf.conftest import gdb_batch, needs_gdb

CONDITION = "count > 3 && p->next == 0"


def _gdb_stops(binary: str, line: int, condition: str, limit: int = 10) -> list[str]:
    """The value of `i` at each stop of gdb's conditional breakpoint."""
    commands = [f"break cexpr.c:{line} if {condition}", "run"]
    for _ in range(limit):
        commands += ["print i", "continue"]
    text = gdb_batch(binary, commands)
    return re.findall(r"^\$\d+ = (.*)$", text, re.M)


def _pydbg_stops(client, run, line: int, option: str) -> list[str]:
    assert run(f"bp {option} cexpr.c:{line}") == ""
    values = []
    while go(client):
        shown = run("?? i")
        match = re.search(r"^int (.*)$", shown, re.M)
        if match is None:
            break
        values.append(match[1])
    return values


@needs_gdb
@pytest.mark.parametrize(
    "condition",
    [
        CONDITION,
        "p->value % 5 == 4",
        "i == 6 || count == 5",
        "(double)count / 2 > 5.2",
        "p->next && p->next->value % 2 == 0",  # short circuit where p->next is NULL
    ],
)
def test_c_condition_stops_where_gdb_stops(client, session, cexpr_binary, condition) -> None:
    line = source_line("walk-line")
    expected = _gdb_stops(cexpr_binary, line, condition)
    assert expected  # the condition holds somewhere: the comparison can fail
    assert _pydbg_stops(client, session, line, f'/w "{condition}"') == expected


def test_condition_language_and_bl(client, session) -> None:
    line = source_line("walk-line")
    session(f'bp /w "count > 3" cexpr.c:{line}')
    session('bp /w "@rdi == 0n11" walk')
    session('bp /w "@@c++(i == 2)" build')
    session('bp /w "@@masm(poi(g_list) != 0)" main')
    conditions = [bp.condition for bp in client.control.breakpoints()]
    assert conditions == [
        CCondition("count > 3"),
        "@rdi == 0n11",
        CCondition("i == 2"),
        "poi(g_list) != 0",
    ]
    listed = session("bl")
    assert '/w "@@c++(count > 3)"' in listed and '/w "@rdi == 0n11"' in listed
    with pytest.raises(ExpressionSyntaxError):
        client.control.breakpoints()[0].set_condition_c("count # 3")


def test_unevaluable_c_condition_is_reported_and_true(client, session) -> None:
    line = source_line("walk-line")
    session(f'bp /w "no_such_variable > 3" cexpr.c:{line}')
    assert go(client)
    shown = session("?? i")
    assert shown.endswith("Breakpoint 0 hit\nint 0\n")  # the first hit triggers
    assert (
        "pydbg: the condition of breakpoint 0 raised DwarfError: no symbol "
        "'no_such_variable' in the current context; the breakpoint triggers\n"
    ) in shown
    assert client.control.breakpoints()[0].hit_count == 1


def test_set_condition_c_from_python(client, session) -> None:
    line = source_line("walk-line")
    session(f"bp cexpr.c:{line}")
    bp = client.control.breakpoints()[0]
    bp.set_condition_c("p == &nodes[5]")
    assert go(client)
    assert int(client.symbols.get_variable_value("i")) == 5
    assert not go(client)
