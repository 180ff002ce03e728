"""`bp` on a place with code in several places, as gdb's `break` (one breakpoint with
several locations there; in DbgEng one breakpoint each): a line of a function inlined
into three callers (tests/targets/inlinemulti.c at -O2), compared with the addresses of
gdb's `info breakpoints`; and a plain C name two loaded copies of a library define
(libplugin, by dlopen and dlmopen), which `bp` sets in both while an expression still
calls it ambiguous."""

from __future__ import annotations

import re

import pytest

import pydbg
from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import WAIT_LIMIT, wait
from tests.dwarf.conftest import gdb_batch, needs_gdb
from tests.support import TARGET_SOURCES, Targets


def _marker_line(name: str) -> int:
    with open(f"{TARGET_SOURCES}/inlinemulti.c") as f:
        return next(n for n, text in enumerate(f, 1) if name in text)


@needs_gdb
def test_bp_on_an_inlined_line_sets_one_breakpoint_per_place(
    client, output, targets: Targets
) -> None:
    binary = targets.get("inlinemulti", "pie-O2")
    assert binary is not None
    line = _marker_line("LINE_TWICE_BODY")
    text = gdb_batch(
        binary.path,
        [f"break inlinemulti.c:{line}", "info breakpoints"],  # link-time addresses
        early=("set debuginfod enabled off",),
    )
    expected = sorted(
        int(a, 16) for a in re.findall(r"^1\.\d+\s+y\s+(0x[0-9a-f]+) in ", text, re.M)
    )
    assert len(expected) == 3, text
    client.create_process([binary.path])
    assert wait(client)
    output.take()
    client.control.execute(f"bp inlinemulti.c:{line}")
    shown = output.take()
    control = client.control
    base = next(m.base for m in client.symbols.modules() if m.image_name == binary.path)
    ours = sorted(
        control.get_breakpoint_by_index(i).get_offset() - base
        for i in range(control.get_number_breakpoints())
    )
    assert ours == expected, shown
    assert shown.count("inlinemulti.c:") == 3  # one line per breakpoint, as bm lists them
    # Each is hit once (first, second and third each inline the line once).
    client.control.execute("bc *")
    client.control.execute(f"bp `inlinemulti.c:{line}`")
    pcs = set()
    for _ in range(3):
        client.control.set_execution_status(DEBUG_STATUS_GO)
        assert wait(client)
        info = client.control.get_last_event_information()
        assert info is not None and info.type == 1  # DEBUG_EVENT_BREAKPOINT
        pcs.add(client.registers.get_instruction_offset() - base)
    assert sorted(pcs) == expected


@pytest.mark.parametrize("command", ["bp plugin_value"])
def test_bp_on_a_name_two_libraries_define_sets_both(
    client, output, procs, targets, libraries, command
) -> None:
    proc = procs.start([targets["dlopen"].path, libraries["libplugin"]], ready=b"ready")
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"open\nmopen\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"opened\n"
    assert proc.stdout.readline() == b"mopened\n"
    client.attach_process(proc.pid)
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)
    copies = client.symbols.get_symbol_entries_by_name("plugin_value")
    assert len(copies) == 2
    output.take()
    client.control.execute(command)
    control = client.control
    ours = sorted(
        control.get_breakpoint_by_index(i).get_offset()
        for i in range(control.get_number_breakpoints())
    )
    assert ours == sorted(address for _, address in copies)
    with pytest.raises(pydbg.AmbiguousSymbolError):
        client.control.evaluate("plugin_value")
