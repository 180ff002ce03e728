"""`dv` and `dt` on the dwvars target stopped in `checkpoint` under the recursion, checked
against gdb (values, `ptype /o` offsets) and against the facet they are built on."""

from __future__ import annotations

import re

import pytest

from pydbg.commands.errors import CommandError
from pydbg.constants import DEBUG_STATUS_GO
from pydbg.elf.image import open_image
from tests.api.helpers import wait
from tests.dwarf.conftest import gdb_batch, needs_gdb
from tests.dwarf.test_types_vs_gdb import gdb_layout
from tests.dwarf.test_variables_vs_gdb import normalize


@pytest.fixture
def stopped(client, output, dw_builds):
    """(run(command) -> its output, binary path) at the first checkpoint, after the
    prologue as gdb places its breakpoint."""

    def start(variant: str):
        binary = dw_builds["dwvars", variant]
        placed = re.search(
            r"^Breakpoint 1 at (0x[0-9a-f]+)", gdb_batch(binary, ["break checkpoint"]), re.M
        )
        assert placed
        checkpoint = open_image(binary).symbols.lookup("checkpoint")
        assert checkpoint is not None
        client.create_process([binary])
        assert wait(client)
        client.control.execute(f"bp checkpoint+{int(placed.group(1), 16) - checkpoint.address:#x}")
        client.control.set_execution_status(DEBUG_STATUS_GO)
        assert wait(client)
        output.take()

        def run(command: str) -> str:
            client.control.execute(command)
            return output.take()

        return run, binary

    return start


def _values(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition(" = ")
        if sep:
            found[name.split()[-1]] = value
    return found


@needs_gdb
def test_dv_follows_the_scope_frame(stopped) -> None:
    run, binary = stopped("O0-pie")
    assert _values(run("dv")) == {"depth": "0"}
    run(".frame 2")
    shown = run("dv")
    assert _values(shown) == {
        "head": _values(shown)["head"],
        "depth": "1",
        "tag": "99 'c'",
        "inner": "11",
        "local": "10",
        "scaled": "1000",
    }
    # Names are right-aligned on the longest, as cdb aligns them.
    assert [line.index(" = ") for line in shown.splitlines()] == [6] * 6
    assert list(_values(run("dv /t"))) == list(_values(shown))
    typed = run("dv /t")
    assert "struct node * head = " in typed and "long scaled = 1000" in typed
    assert _values(run("dv d*")) == {"depth": "1"}
    assert (
        run("dv nothing_like_this")
        == "no parameters or locals matching 'nothing_like_this' in recurse\n"
    )
    kinds = run("dv /i")
    assert kinds.splitlines()[0].startswith("prv param ") and "prv local " in kinds
    run(".frame 5")
    gdb = gdb_batch(binary, ["break checkpoint", "run", "frame 5", "info locals"])
    expected = {k: normalize(v) for k, v in _values(gdb.split("dwvars.c:")[-1]).items()}
    ours = {k: normalize(v) for k, v in _values(run("dv")).items()}
    assert {k: ours[k] for k in expected} == expected


def test_dv_locations(stopped, client) -> None:
    run, _ = stopped("O2-pie")
    located = run("dv /V")
    assert re.fullmatch(r"@rdi\s+depth = 0\n", located)
    run(".frame 5")
    lines = run("dv /V").splitlines()
    first = next(line for line in lines if " first = " in line)
    address = client.symbols.get_variable_value("first").address
    assert first.startswith(f"@{address:#x} ")
    assert any(re.match(r"<computed>\s+count = 3$", line) for line in lines)
    assert any(re.match(r"<optimized out>\s+pkt = <optimized out>$", line) for line in lines)


@needs_gdb
def test_dt_layout_matches_ptype_o(stopped, dw_builds) -> None:
    run, binary = stopped("O0-nopie")
    text = run("dt -r node")
    lines = text.splitlines()
    assert lines[0] == "node"
    rows = [re.match(r"(\s*)\+0x([0-9a-f]+) (\S+)\s+: (.*)$", line) for line in lines[1:]]
    assert all(rows), text
    expected, _ = gdb_layout(gdb_batch(binary, ["ptype /o struct node"]))
    # dt's offsets are relative to the enclosing struct, gdb's absolute; a struct
    # member dt expands is gdb's `{` row.
    ours: list[tuple[int, str]] = []
    bases = [0]
    depths = [len(row.group(1)) // 3 - 1 for row in rows if row]
    for i, row in enumerate(rows):
        assert row is not None
        depth = depths[i]
        del bases[depth + 1 :]
        offset = bases[depth] + int(row.group(2), 16)
        bases.append(offset)
        opens = i + 1 < len(depths) and depths[i + 1] > depth
        ours.append((offset, "{" if opens else row.group(3)))
    assert len(ours) == len(expected)
    for (offset, name), (gdb_offset, _, _, gdb_name) in zip(ours, expected, strict=True):
        assert name == gdb_name
        assert gdb_offset is None or offset == gdb_offset, name  # gdb omits union offsets
    assert "+0x030 grid             : [2] [3] Int2B" in text
    assert "+0x001 d                : Pos 1, 40 Bits" in text
    assert "+0x000 next             : Ptr64 node" in text


@needs_gdb
def test_dt_variable_values_match_gdb_print(stopped) -> None:
    run, binary = stopped("O0-pie")
    run(".frame 5")
    members = ["weight", "where.x", "where.y", "color", "num.f", "b.d", "b.b", "grid", "counter"]
    gdb = gdb_batch(
        binary, ["break checkpoint", "run", "frame 5"] + [f"print first.{m}" for m in members]
    )
    expected = re.findall(r"^\$\d+ = (.*)$", gdb, re.M)
    text = run("dt -r first")
    assert text.startswith("Local var @ ") and "Type node" in text.splitlines()[0]
    values = {}
    for line in text.splitlines()[1:]:
        match = re.match(r"\s*\+0x[0-9a-f]+ (\S+)\s+: (.*?)(?: \(Pos \d+, \d+ Bits?\))?$", line)
        assert match, line
        values.setdefault(match.group(1), match.group(2))
    assert [values[m.split(".")[-1]] for m in members[:2]] == expected[:2]
    assert values["color"] == expected[3] and values["f"] == expected[4]
    assert values["d"] == expected[5] and values["grid"] == expected[7]
    where = run("dt first.where")
    assert "+0x000 x                : 3" in where and "+0x004 y                : -4" in where
    blocks = run("dt -b first")
    assert "[01] {10, 11, 12}" in blocks and "[03] 65 'A'" in blocks
    elements = run("dt -r global_nodes").splitlines()
    assert elements[0].startswith("Global var @ ") and elements[0].endswith("Type [2] node")
    assert elements[1] == "   [00]" and elements[2].startswith("      +0x000 next  ")
    second = elements.index("   [01]")
    assert elements[second + 2].startswith("      +0x008 label ")
    assert elements[second + 2].endswith('"g1"')


def test_bad_input_fails_clearly(stopped) -> None:
    run, _ = stopped("O0-pie")
    with pytest.raises(CommandError, match="no type named 'no_such_type'"):
        run("dt no_such_type")
    with pytest.raises(CommandError, match="unknown option /x"):
        run("dv /x")
    with pytest.raises(CommandError, match="unknown option -z"):
        run("dt -z node")
    with pytest.raises(CommandError, match="name a type or a variable"):
        run("dt")
    with pytest.raises(CommandError, match="memory read error at 00000000`00000000"):
        run("dt node 0")
    run(".frame 5")
    with pytest.raises(CommandError, match="a value of type int has no members"):
        run("dt first.where.x.y")
    assert run("dt first.next.label").splitlines()[1].endswith('"second"')
    frames = len(run("k").splitlines()) - 1
    run(f".frame {frames - 1:x}")  # _start: crt1.o has no DWARF
    with pytest.raises(
        CommandError, match=f"dv: no debug information for the pc .* of frame {frames - 1}"
    ):
        run("dv")
