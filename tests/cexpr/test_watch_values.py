"""`ba w4 counter`, `ba w stats.hits`, `ba w4 (&stats)->total`...: old and new values at
each trigger, against gdb's `watch` (the same sequence of Old/New pairs, a write of the
same value not stopping), set from a stop in `changes`."""

from __future__ import annotations

import re

import pytest

from pydbg.commands.errors import CommandSyntaxError
from pydbg.commands.watch_values import WatchedValue
from tests.cexpr.conftest import go
from tests.dwarf.conftest import gdb_batch, needs_gdb


def _gdb_watch(binary: str, expressions: list[str]) -> list[tuple[str, str, str]]:
    commands = ["break changes", "run", *[f"watch {e}" for e in expressions]]
    commands += ["continue"] * 12
    text = gdb_batch(binary, commands)
    return [
        (m[1], m[2], m[3])
        for m in re.finditer(
            r"^Hardware watchpoint \d+: (.+)\n\nOld value = (.*)\nNew value = (.*)$", text, re.M
        )
    ]


def _pydbg_watch(client, run, commands: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Set each (ba command, gdb's name for it), run to the end, collect the reports."""
    run("bp changes")
    assert go(client)
    run("bc 0")
    names = {}
    for number, (command, name) in enumerate(commands, start=1):
        run(f"ba{number} {command}")
        names[str(number)] = name
    seen = []
    while go(client):
        shown = run("")
        report = re.search(
            r"^Old value = (.*)\nNew value = (.*)\nBreakpoint (\d+) hit$", shown, re.M
        )
        if report is None:
            break
        seen.append((names[report[3]], report[1], report[2]))
    return seen


@needs_gdb
def test_old_and_new_values_match_gdb_watch(client, session, cexpr_binary) -> None:
    expected = _gdb_watch(cexpr_binary, ["counter", "stats.hits", "stats.total"])
    assert len(expected) == 8  # the same-value write of counter is not among them
    got = _pydbg_watch(
        client,
        session,
        [
            ("w4 counter", "counter"),
            ("w stats.hits", "stats.hits"),
            ("w8 (&stats)->total", "stats.total"),
        ],
    )
    assert got == expected


def test_watch_in_bl_and_sizes(client, session) -> None:
    session("bp changes")
    assert go(client)
    session("")
    session("ba w counter")
    session("ba r2 nodes[1].value")
    session("ba w8 @rsp")  # MASM: no variable
    bps = client.control.breakpoints()
    assert [bp.get_data_parameters()[0] for bp in bps[1:]] == [4, 2, 8]
    assert isinstance(bps[1].condition, WatchedValue)
    assert bps[2].condition.expression == "nodes[1].value"
    assert bps[3].condition is None
    assert "watch counter" in session("bl")
    with pytest.raises(CommandSyntaxError, match="is 16 bytes"):
        session("ba w stats")
    with pytest.raises(CommandSyntaxError, match="expected a size"):
        session("ba w @rsp")


@needs_gdb
def test_watch_with_a_condition_matches_gdb(client, session, cexpr_binary) -> None:
    text = gdb_batch(
        cexpr_binary, ["break changes", "run", "watch counter if counter > 10"] + ["continue"] * 6
    )
    expected = re.findall(r"^Old value = (.*)\nNew value = (.*)$", text, re.M)
    assert len(expected) == 2  # 2 -> 42 and 42 -> 43; the old value follows 0 -> 1 -> 2
    got = _pydbg_watch(client, session, [('/w "counter > 10" w4 counter', "counter")])
    assert [(old, new) for _, old, new in got] == expected
