"""Source listing: `lsa`, `ls`, `lsf`, `lsc` and `.srcpath`, against gdb's `list` on the
same binary (the same line numbers and text), and the search path taking a copy of the
source over the path the line tables name."""

from __future__ import annotations

import os
import re

import pytest

from pydbg.commands.source_commands import SourceError
from tests.api.helpers import wait
from tests.source.support import GDB, SOURCE, gdb, marker, start

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb is not installed")

_OURS = re.compile(r"^([> ])\s*(\d+): (.*)$")
_GDBS = re.compile(r"^(\d+)\t(.*)$")


def ours(text: str) -> list[tuple[int, str]]:
    rows = [_OURS.match(t) for t in text.splitlines()]
    assert all(rows), text
    return [(int(m[2]), m[3]) for m in rows if m]


def gdb_list(path: str, commands: list[str]) -> list[list[tuple[int, str]]]:
    script = []
    for command in commands:
        script += ["echo @@\\n", command]
    chunks = gdb(path, script).split("@@\n")[1:]
    return [
        [(int(m[1]), m[2]) for t in chunk.splitlines() if (m := _GDBS.match(t))] for chunk in chunks
    ]


def test_listings_match_gdb_list(client, output, targets):
    binary = targets.get("srclines", "nopie")
    assert binary is not None
    line = marker("LINE_CALL_TWICE")
    expected = gdb_list(binary.path, [f"list srclines.c:{line}", "list", "list 1,5"])
    start(client, output, binary.path)
    control = client.control
    control.execute(f"lsa `srclines.c:{line}`")
    shown = output.take()
    assert ours(shown) == expected[0]
    assert f">{line:5}: " in shown  # the line of the address is marked
    control.execute("ls")
    assert ours(output.take()) == expected[1]
    control.execute("lsf srclines.c")
    assert os.path.realpath(SOURCE) in output.take()
    control.execute("ls 1,5")
    assert ours(output.take()) == expected[2]
    control.execute("lsc")
    assert "srclines.c" in output.take()


def test_source_path_finds_a_copy(client, output, targets, tmp_path):
    binary = targets.get("srclines", "pie")
    assert binary is not None
    copy = tmp_path / "targets" / "srclines.c"
    copy.parent.mkdir()
    with open(SOURCE) as f:
        copy.write_text(f.read().upper())
    start(client, output, binary.path)
    control = client.control
    control.execute(f".srcpath {tmp_path}")
    assert str(tmp_path) in output.take()
    assert client.symbols.get_source_path() == str(tmp_path)
    line = marker("LINE_LOOP")
    control.execute(f"lsa `srclines.c:{line}`,1")
    (shown,) = ours(output.take())
    assert shown[0] == line - 5 and shown[1] == shown[1].upper()
    control.execute(".srcpath+ /nonexistent")
    assert client.symbols.get_source_path() == f"{tmp_path};/nonexistent"


def test_listing_errors(client, output, targets):
    binary = targets.get("srclines", "pie")
    assert binary is not None
    start(client, output, binary.path)
    with pytest.raises(SourceError, match="no current source file"):
        client.control.execute("ls")
    with pytest.raises(SourceError, match="nosuch.c not found"):
        client.control.execute("lsf nosuch.c")
    client.control.execute("lsf srclines.c")
    with pytest.raises(SourceError, match="past the end"):
        client.control.execute("ls 0n5000")


def test_stop_display_options(client, output, targets):
    """`.lines` turns the `[file @ line]` part of the stop display on and off; `l+s`
    adds the source line, `l+o` keeps only the symbol and source lines."""
    binary = targets.get("srclines", "pie")
    assert binary is not None
    start(client, output, binary.path)
    control = client.control
    line = marker("LINE_CALL_TWICE")
    control.execute(f"bp srclines.c:{line}; g")
    assert wait(client)
    output.take()
    control.execute(".lines -d")
    output.take()
    control.output_current_state()
    assert " @ " not in output.take()
    control.execute(".lines -e; l+s")
    output.take()
    control.output_current_state()
    full = output.take()
    assert f"srclines.c @ {line}]:" in full and "rax=" in full
    assert full.splitlines()[-1].startswith(f">{line:5}: ")
    control.execute("l+o")
    output.take()
    control.output_current_state()
    short = output.take().splitlines()
    assert len(short) == 2 and "rax=" not in short[0]
    assert short[1].startswith(f">{line:5}: ")
