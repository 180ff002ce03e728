"""`??` and symbols.evaluate_c_expression against gdb's `whatis` and `print` of the same C
expressions in main's frame of the dwvars target: members, `->`, indexing, `*`, `&`,
casts to C and DWARF types, sizeof, integer promotions and conversions, pointer
arithmetic, chars, floats, enums, globals and a thread-local."""

from __future__ import annotations

import re

import pytest

from pydbg.commands.errors import CommandError
from pydbg.constants import DEBUG_STATUS_GO
from pydbg.dwarf.c_expressions import ExpressionSyntaxError
from pydbg.dwarf.errors import DwarfError
from pydbg.elf.image import open_image
from tests.api.helpers import wait
from tests.dwarf.conftest import gdb_batch, needs_gdb
from tests.dwarf.test_variables_vs_gdb import normalize

EXPRESSIONS = [
    "first.where.x * 2",
    "first.where",
    "first.next->label",
    "*first.next->label",
    "first.grid[1][2] + 0.5",
    "first.grid[1]",
    "&first.where",
    "(long)&first.where - (long)&first",
    "sizeof(struct node)",
    "sizeof first.grid",
    "((struct point *)&first.where)->y",
    "-1 < 1u",
    "(char)65",
    "(unsigned char)-56",
    "fl & 4",
    "fl",
    "first.color == 5",
    "first.color",
    "global_nodes[1].label",
    "&global_nodes[1] - &global_nodes[0]",
    "7 / -2",
    "7 % -2",
    "-7 >> 1",
    "1u - 2",
    "tls_counter + 1",
    "first.b.b * 3",
    "first.b.d",
    "first.weight / 4",
    "first.num.f",
    "count * 2u",
    "(short)70000",
    "'a' + 1",
    "!first.next",
    "~0",
    "first.op",
    "*first.next",
    "global_counter > 40 && first.where.y < 0",
    "0x7fffffff + 1",
    "ratio * 2",
]


@pytest.fixture
def at_main(client, output, dw_builds):
    binary = dw_builds["dwvars", "O0-pie"]
    commands = ["break checkpoint", "run", "frame 5"]
    for expression in EXPRESSIONS:
        commands += [f"whatis {expression}", f"print {expression}"]
    text = gdb_batch(binary, commands)
    placed = re.search(r"^Breakpoint 1 at (0x[0-9a-f]+)", text, re.M)
    assert placed
    start = open_image(binary).symbols.lookup("checkpoint")
    assert start is not None
    client.create_process([binary])
    assert wait(client)
    client.control.execute(f"bp checkpoint+{int(placed.group(1), 16) - start.address:#x}")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    client.symbols.set_scope_frame_by_index(5)
    output.take()
    types = re.findall(r"^type = (.*)$", text, re.M)
    values = re.findall(r"^\$\d+ = (.*)$", text, re.M)
    assert len(types) == len(values) == len(EXPRESSIONS), text
    return client, output, list(zip(types, values, strict=True))


@needs_gdb
def test_expressions_match_gdb(at_main) -> None:
    client, output, expected = at_main
    for expression, (gdb_type, gdb_value) in zip(EXPRESSIONS, expected, strict=True):
        value = client.symbols.evaluate_c_expression(expression)
        # gdb's top-level `print` of a pointer says its type first: `(struct point *) 0x..`.
        gdb_value = re.sub(r"^\([^()]*(?:\([^()]*\))?[^()]*\) (?=0x)", "", gdb_value)
        assert (value.type_name, normalize(value.format())) == (gdb_type, normalize(gdb_value)), (
            expression
        )


def test_command_and_errors(at_main) -> None:
    client, output, _ = at_main
    client.control.execute("?? first.where.x * 2")
    assert output.take() == "int 6\n"
    client.control.execute("?? first.where")
    assert output.take() == "struct point {x = 3, y = -4}\n"
    with pytest.raises(CommandError, match="no symbol 'nosuch' in the current context"):
        client.control.execute("?? nosuch + 1")
    with pytest.raises(CommandError, match="syntax error at column 3"):
        client.control.execute("?? 1 +")
    with pytest.raises(CommandError, match="int is not a pointer"):
        client.control.execute("?? *argc")
    with pytest.raises(CommandError, match="division by zero"):
        client.control.execute("?? 1 / 0")
    with pytest.raises(ExpressionSyntaxError):
        client.symbols.evaluate_c_expression("first.")
    with pytest.raises(DwarfError, match="no member named 'nosuch'"):
        client.symbols.evaluate_c_expression("first.nosuch")
    assert client.symbols.evaluate_c_expression("first.where").to_python() == {"x": 3, "y": -4}
    with pytest.raises(ExpressionSyntaxError, match="nested too deeply"):
        client.symbols.evaluate_c_expression("(" * 5000 + "1" + ")" * 5000)
    client.control.execute("?? *(struct node *)0")
    assert output.take() == "struct node <error: Cannot access memory at address 0x0>\n"
