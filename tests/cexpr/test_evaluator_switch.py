"""`@@c++(...)` / `@@(...)` inside MASM (`?`, `poi(@@c++(&g_list))`) and `@@masm(...)`
inside `??`, on the cexpr target stopped in `walk` after `build`, against gdb's `print`."""

from __future__ import annotations

import re

import pytest

from pydbg.commands.errors import CommandError, CommandSyntaxError
from tests.cexpr.conftest import go
from tests.dwarf.conftest import gdb_batch, needs_gdb


def _masm(run, expression: str) -> int:
    shown = run(f"? {expression}")
    match = re.search(r"Evaluate expression: -?\d+ = ([0-9a-f]{8})`([0-9a-f]{8})", shown)
    assert match, shown
    return int(match[1] + match[2], 16)


@pytest.fixture
def in_walk(client, session):
    session("bp walk")
    assert go(client)
    session("")  # the stop's own output
    return session


def _gdb_values(binary: str, expressions: list[str]) -> list[int]:
    text = gdb_batch(binary, ["break walk", "run", *[f"print/x {e}" for e in expressions]])
    values = re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", text, re.M)
    assert len(values) == len(expressions), text
    return [int(v, 16) for v in values]


@needs_gdb
def test_cpp_operands_match_gdb(in_walk, cexpr_binary) -> None:
    # (MASM text, the gdb expression whose value it must have)
    cases = [
        ("@@c++(sizeof(struct node))", "sizeof(struct node)"),
        ("@@(sizeof(nodes) / 2)", "sizeof(nodes) / 2"),
        # Addresses relative to `nodes` (gdb runs without ASLR, pydbg with).
        ("poi(@@c++(&g_list)) - nodes", "(unsigned long)g_list - (unsigned long)&nodes"),
        ("@@c++(g_list->next->next) - nodes", "(char *)g_list->next->next - (char *)nodes"),
        ("@@c++(&nodes[4]) - nodes", "(unsigned long)&nodes[4] - (unsigned long)nodes"),
        ("@@c++(nodes + 1) - nodes", "sizeof(nodes[0])"),  # an array: its address
        ("@@c++(g_list[2].value) * 2 + 1", "nodes[2].value * 2 + 1"),
        ("@@c++(-1)", "(unsigned long)-1"),  # two's complement in 64 bits
        ("@@c++(nodes[3].next == 0)", "(unsigned long)(nodes[3].next == 0)"),
        ("@@c++(7.9 / 2)", "(unsigned long)(7.9 / 2)"),  # truncated toward zero
        ("dwo(@@c++(&nodes[5].value))", "nodes[5].value"),
        ("@@c++((char)300)", "(unsigned long)(char)300"),
    ]
    expected = _gdb_values(cexpr_binary, [gdb for _, gdb in cases])
    assert [_masm(in_walk, masm) for masm, _ in cases] == expected
    assert _masm(in_walk, "@@c++(sizeof(struct node)) + @@masm(0n10)") == 16 + 10


def test_cpp_operand_errors(in_walk) -> None:
    with pytest.raises(CommandSyntaxError):
        in_walk("? @@c++(nodes[1]")  # not closed
    with pytest.raises(CommandError, match="no symbol 'nothing_here'"):
        in_walk("? @@c++(nothing_here)")
    with pytest.raises(CommandError, match="not an integer"):
        in_walk("? @@c++(nodes[1])")  # a struct has no number


@needs_gdb
def test_masm_operands_in_c(in_walk, cexpr_binary) -> None:
    shown = in_walk("?? ((struct node *)@@masm(poi(g_list)))->value")
    assert shown == "int 0\n"
    shown = in_walk("?? ((struct node *)@@masm(@@c++(&nodes[2])))->value + 1")
    assert shown == "int 5\n"
    text = gdb_batch(cexpr_binary, ["break walk", "run", "print *(struct node *)&nodes[6]"])
    gdb_value = re.search(r"^\$1 = (.*)$", text, re.M)
    assert gdb_value
    shown = in_walk("?? *(struct node *)@@masm(nodes + 6 * @@c++(sizeof(struct node)))")
    assert shown.startswith("struct node ")
    assert re.sub(r"0x[0-9a-f]+ <nodes\+\d+>", "ADDR", shown[len("struct node ") :].strip()) == (
        re.sub(r"0x[0-9a-f]+ <nodes\+\d+>", "ADDR", gdb_value[1])
    )


@needs_gdb
def test_logical_operators_short_circuit(client, session, cexpr_binary) -> None:
    # Before build(): g_list is NULL, so the right operands would fault if evaluated.
    session("bp build")
    assert go(client)
    session("")
    expressions = [
        "g_list && g_list->value == 0",
        "g_list == 0 || g_list->next->value",
        "(g_list != 0 && g_list->next != 0) + 2",
        "!g_list || (g_list->next && g_list->next->value)",
        "counter || 0",
        "g_list ? g_list->value : -1",
        "g_list == 0 ? 7 : g_list->value",
        "counter ? g_list->value : g_list ? g_list->next->value : 3 ? 4 : g_list->value",
        "(g_list ? g_list->value : 1) + (counter == 0 ? 10 : g_list->value)",
    ]
    text = gdb_batch(cexpr_binary, ["break build", "run", *[f"print {e}" for e in expressions]])
    expected = re.findall(r"^\$\d+ = (.*)$", text, re.M)
    assert len(expected) == len(expressions), text
    assert [session(f"?? {e}").strip() for e in expressions] == [f"int {v}" for v in expected]
    with pytest.raises(CommandError):
        session("?? g_list->value == 0 && g_list")  # the left operand is evaluated
