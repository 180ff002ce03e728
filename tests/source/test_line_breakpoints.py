"""`bp file.c:N`, cdb's `` bp `file.c:N` ``, `bu`, and the `` `file.c:N` `` operand of
MASM expressions, against gdb's `break file.c:N` on the same non-PIE binary: the same
address, a line without code moved to the next line with code, a function's opening line
moved past the prologue; unknown files and lines past the end are one-line errors."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from pydbg.constants import DEBUG_BREAKPOINT_DEFERRED
from pydbg.errors import NoCodeAtLineError, UnknownSourceFileError
from tests.api.helpers import wait
from tests.source.support import GDB, gdb, marker, start
from tests.support import TARGET_SOURCES

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb is not installed")

MARKERS = ("LINE_NO_CODE", "LINE_FACT_HEAD", "LINE_CALL_TWICE", "LINE_LOOP", "LINE_PRINT")


def gdb_breaks(path: str, lines: list[int]) -> list[tuple[int, int]]:
    """(address, line) gdb's `break srclines.c:N` chose for each line."""
    out = gdb(path, [f"break srclines.c:{n}" for n in lines])
    found = re.findall(r"Breakpoint \d+ at (0x[0-9a-f]+): file .*, line (\d+)\.", out)
    assert len(found) == len(lines), out
    return [(int(a, 16), int(n)) for a, n in found]


def test_line_breakpoints_are_where_gdb_puts_them(client, output, targets):
    binary = targets.get("srclines", "nopie")
    assert binary is not None
    lines = [marker(name) for name in MARKERS]
    expected = gdb_breaks(binary.path, lines)
    start(client, output, binary.path)
    symbols = client.symbols
    for number, (address, gdb_line) in zip(lines, expected, strict=True):
        path, line, addresses = symbols.resolve_source_line(f"srclines.c:{number}")
        assert (line, addresses) == (gdb_line, [address]), number
        assert path.endswith("tests/targets/srclines.c")
        client.control.execute(f"? `srclines.c:{number}`")
        assert f"Evaluate expression: {address} =" in output.take()
    # The module qualifier and a path tail select the same place.
    (module,) = [m.module_name for m in symbols.modules() if m.image_name == binary.path]
    tail = f"{module}!targets/srclines.c:{lines[2]}"
    assert symbols.resolve_source_line(tail)[2] == [expected[2][0]]
    assert expected[0][1] > lines[0]  # the comment line moved to the next line with code


def test_bp_forms_stop_at_the_line(client, output, targets):
    binary = targets.get("srclines", "pie")
    assert binary is not None
    start(client, output, binary.path)
    twice, loop = marker("LINE_TWICE_BODY"), marker("LINE_LOOP")
    client.control.execute(f"bp `srclines.c:{twice}`")
    client.control.execute(f"bp srclines.c:{loop}")
    hits = []
    for _ in range(2):
        client.control.execute("g")
        assert wait(client)
        pc = client.registers.get_instruction_offset()
        line, file, displacement = client.symbols.get_line_by_offset(pc)
        hits.append((file.rsplit("/", 1)[-1], line, displacement))
    assert hits == [("srclines.c", twice, 0), ("srclines.c", loop, 0)]


def test_bad_lines_are_specific_errors(client, output, targets):
    binary = targets.get("srclines", "pie")
    assert binary is not None
    start(client, output, binary.path)
    with pytest.raises(UnknownSourceFileError, match="nosuch.c"):
        client.control.execute("bp nosuch.c:3")
    with pytest.raises(NoCodeAtLineError, match="no code at or after line 4000"):
        client.control.execute("bp srclines.c:4000")
    with pytest.raises(NoCodeAtLineError):
        client.control.execute("? `srclines.c:4000`")
    assert client.control.get_number_breakpoints() == 0
    # bu keeps a file no module has lines for (yet) as a deferred breakpoint.
    client.control.execute("bu `nosuch.c:3`")
    client.control.execute("bl")
    assert "`nosuch.c:3`" in output.take()


def test_bu_on_a_line_of_a_library_loaded_later(client, output, targets, libraries, tmp_path):
    """`bu` on a file no module has lines for yet stays deferred, and resolves when the
    library that has the file is dlopen'ed."""
    source = os.path.join(TARGET_SOURCES, "plugins", "libplugin.c")
    with open(source) as f:
        line = next(n for n, text in enumerate(f, 1) if "return 4242" in text)
    commands = tmp_path / "stdin"
    commands.write_text("open\ncall\n")
    with open(commands) as stdin:
        client.create_process(
            [targets["dlopen"].path, libraries["libplugin"]],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
        )
    assert wait(client)
    client.control.execute(f"bu `libplugin.c:{line}`")
    (bp,) = client.control.breakpoints()
    assert bp.flags & DEBUG_BREAKPOINT_DEFERRED
    client.control.execute("g")
    assert wait(client)
    pc = client.registers.get_instruction_offset()
    assert client.symbols.get_name_by_offset(pc)[0].endswith("!plugin_value")
    number, file, _ = client.symbols.get_line_by_offset(pc)
    assert (os.path.basename(file), number) == ("libplugin.c", line)
    assert not bp.flags & DEBUG_BREAKPOINT_DEFERRED
