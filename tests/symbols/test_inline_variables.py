"""Inline frames as frames of the scope (tests/targets/inlines.c at -O2, stopped at probe:
leaf and middle inlined into outer): `.frame N` numbers them as gdb's `frame N` does, and
the parameters and locals of each frame -- an inlined function's are the children of its
DW_TAG_inlined_subroutine, with their own locations -- read as gdb's `info args` /
`info locals` read them in that frame."""

from __future__ import annotations

import re

import pytest

from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait
from tests.dwarf.conftest import gdb_batch, needs_gdb
from tests.dwarf.test_variables_vs_gdb import normalize
from tests.support import Targets

FRAMES = 5  # probe, leaf, middle (inline), outer, main


def _gdb_frames(path: str) -> list[tuple[str, dict[str, str]]]:
    """(function, {name: value}) of frames 0..FRAMES-1 as gdb's `frame N` shows them."""
    commands = ["break *probe", "run"]
    for n in range(FRAMES):
        commands += [f"echo @@ {n}\\n", f"frame {n}", "info args", "info locals"]
    text = gdb_batch(path, [*commands, "kill"], early=("set debuginfod enabled off",))
    frames: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        if re.fullmatch(r"@@ \d+", line):
            frames.append(("", {}))
            continue
        head = re.match(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) \(", line)
        if frames and head:
            frames[-1] = (head[1], frames[-1][1])
            continue
        name, sep, value = line.partition(" = ")
        if frames and sep and re.fullmatch(r"[A-Za-z_]\w*", name):
            frames[-1][1].setdefault(name, value)
    return frames


@needs_gdb
def test_frame_n_and_dv_in_inline_frames_match_gdb(client, output, targets: Targets) -> None:
    binary = targets.get("inlines", "pie-O2")
    assert binary is not None
    expected = _gdb_frames(binary.path)
    assert [name for name, _ in expected] == ["probe", "leaf", "middle", "outer", "main"]
    client.create_process([binary.path])
    assert wait(client)
    client.control.execute("bp probe")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    for n, (function, variables) in enumerate(expected):
        output.take()
        client.control.execute(f".frame {n}")
        shown = output.take()
        assert f"!{function}" in shown, (n, shown)
        frame = client.symbols.set_scope_frame_by_index_ex(n)
        assert frame.inline == (function in ("leaf", "middle"))
        assert client.symbols.get_current_scope_frame_index_ex() == n
        ours: dict[str, str] = {}
        for entry in client.symbols.get_scope_symbol_group().entries():
            ours.setdefault(entry.name, entry.value_text)
        assert {k: normalize(v) for k, v in ours.items()} == {
            k: normalize(v) for k, v in variables.items()
        }, (n, function)
        assert client.symbols.get_scope_variables().function == function
    # .f+ / .f- walk inline frames too.
    client.symbols.set_scope_frame_by_index_ex(0)
    client.control.execute(".f+")
    assert client.symbols.get_current_scope_frame_index_ex() == 1
    assert client.symbols.get_scope_variables().function == "leaf"


@pytest.mark.parametrize("variant", ["pie-O2"])
def test_physical_frame_scope_is_the_physical_function(client, targets, variant) -> None:
    """set_scope_frame_by_index (physical numbering) picks the function the inlined calls
    were inlined into, not the innermost inlined one."""
    binary = targets.get("inlines", variant)
    assert binary is not None
    client.create_process([binary.path])
    assert wait(client)
    client.control.execute("bp probe")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    client.symbols.set_scope_frame_by_index(1)
    assert client.symbols.get_scope_variables().function == "outer"
    assert client.symbols.get_current_scope_frame_index_ex() == 3
