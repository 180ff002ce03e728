"""A real program with debug info from Debian: python3.11d (python3.11-dbg), stopped in a
builtin called from CPython's eval loop.  Its parameters and locals in frames 0..4 (big
functions, -O2 location lists, entry values, nested blocks, labels optimized away) must
read as gdb's `info args` / `info locals` read them (gdb's Python pretty-printers off)."""

from __future__ import annotations

import os
import re

import pytest

from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait
from tests.dwarf.conftest import gdb_batch, needs_gdb
from tests.dwarf.test_variables_vs_gdb import normalize

PYTHON = "/usr/bin/python3.11d"
FRAMES = 5


def _gdb_frames() -> list[dict[str, str]]:
    commands = ["break builtin_abs", "run"]
    for n in range(FRAMES):
        commands += [f"frame {n}", f"echo @@ {n}\\n", "info args", "info locals"]
    text = gdb_batch(
        [PYTHON, "-c", "abs(-1)"], [*commands, "kill"], early=("set auto-load python-scripts off",)
    )
    frames: list[dict[str, str]] = []
    for line in text.splitlines():
        if re.fullmatch(r"@@ \d+", line):
            frames.append({})
            continue
        name, sep, value = line.partition(" = ")
        if frames and sep and re.fullmatch(r"[A-Za-z_]\w*", name):
            frames[-1].setdefault(name, value)
    return frames


@needs_gdb
@pytest.mark.skipif(not os.path.exists(PYTHON), reason="python3.11-dbg is not installed")
def test_python_debug_build_frames_match_gdb(client) -> None:
    expected = _gdb_frames()
    assert len(expected) == FRAMES
    client.create_process([PYTHON, "-c", "abs(-1)"])
    assert wait(client)
    client.control.execute("bp python3_11d!builtin_abs")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    for n in range(FRAMES):
        client.symbols.set_scope_frame_by_index(n)
        entries = client.symbols.get_scope_symbol_group().entries()
        ours: dict[str, str] = {}
        for entry in entries:
            ours.setdefault(entry.name, entry.value_text)
        assert {k: normalize(v) for k, v in ours.items()} == {
            k: normalize(v) for k, v in expected[n].items()
        }, n
