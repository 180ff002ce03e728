"""Parameters and locals of every frame against gdb's `info args` / `info locals`, at two
stops of the dwvars target (inside a recursion 4 deep, and under a function with a VLA),
-O0 and -O2 (where values gdb recovers from entry values and call sites, and the ones it
says are `<optimized out>`, must agree), PIE and not; globals, a thread-local variable and
gdb's `print` of them.

The two debuggers run the target separately, so stack and heap addresses differ: values
are compared with every address >= 0x1000 written as ADDR (symbols, strings and small
numbers stay), and the addresses themselves are checked against each other inside one run
(`first.next` is `&second`)."""

from __future__ import annotations

import re

import pytest

import pydbg
from pydbg.constants import DEBUG_STATUS_GO
from pydbg.dwarf.errors import UnknownVariableError
from pydbg.elf.image import open_image
from tests.api.helpers import wait
from tests.dwarf.conftest import FLAGS, gdb_batch, needs_gdb

# (stop number, frames to compare) for the two checkpoints the target hits.
STOPS = [(1, 6), (2, 3)]
GLOBALS = ["tls_counter", "global_counter", "global_label", "global_nodes"]
_ADDRESS = re.compile(r"0x[0-9a-f]{4,}")


def normalize(text: str) -> str:
    return _ADDRESS.sub("ADDR", text)


def _section(lines: list[str], start: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines[start:]:
        if line.startswith("@@"):
            break
        name, sep, value = line.partition(" = ")
        if sep and re.fullmatch(r"[A-Za-z_]\w*", name):
            out[name] = value
    return out


def gdb_frames(binary: str) -> tuple[dict[tuple[int, int], dict[str, str]], int]:
    """{(stop, frame): {name: value}} from gdb, and {(0, 0): globals}; and how far past
    the start of `checkpoint` gdb put its breakpoint (after the prologue, where -O0 code
    has stored its parameters)."""
    commands = ["break checkpoint", "run"]
    for stop, frames in STOPS:
        for n in range(frames):
            commands += [f"frame {n}", f"echo @@ {stop} {n}\\n", "info args", "info locals"]
        if stop == 1:
            commands += ["echo @@ globals\\n"] + [f"output {g}" for g in GLOBALS]
        commands.append("continue")
    # `output` prints values without `$N = `; one per line with echo in between.
    expanded: list[str] = []
    for command in commands:
        if command.startswith("output "):
            name = command.split()[1]
            expanded += [f"echo {name} =\\040", command, "echo \\n"]
        else:
            expanded.append(command)
    text = gdb_batch(binary, [*expanded, "kill"])
    lines = text.splitlines()
    placed = re.search(r"^Breakpoint 1 at (0x[0-9a-f]+)", text, re.M)
    assert placed, text
    start = open_image(binary).symbols.lookup("checkpoint")
    assert start is not None
    found: dict[tuple[int, int], dict[str, str]] = {}
    for i, line in enumerate(lines):
        match = re.match(r"@@ (\d+) (\d+)$", line)
        if match:
            found[int(match.group(1)), int(match.group(2))] = _section(lines, i + 1)
        elif line == "@@ globals":
            found[0, 0] = _section(lines, i + 1)
    return found, int(placed.group(1), 16) - start.address


def pydbg_frames(
    client, binary: str, offset: int
) -> tuple[dict[tuple[int, int], dict[str, str]], dict]:
    found: dict[tuple[int, int], dict[str, str]] = {}
    extras: dict[tuple[int, int], set[str]] = {}
    client.create_process([binary])
    assert wait(client)
    client.control.execute(f"bp checkpoint+{offset:#x}")
    for stop, frames in STOPS:
        client.control.set_execution_status(DEBUG_STATUS_GO)
        assert wait(client)
        for n in range(frames):
            client.symbols.set_scope_frame_by_index(n)
            group = client.symbols.get_scope_symbol_group()
            found[stop, n] = {e.name: e.value_text for e in group.entries()}
            # Constants DWARF gives as a block (a float's bytes): gdb's `info locals`
            # leaves them out (LOC_CONST_BYTES); dv shows them.
            extras[stop, n] = {e.name for e in group.entries() if e.location_text == "<computed>"}
        if stop == 1:
            found[0, 0] = {g: str(client.symbols.get_variable_value(g).format()) for g in GLOBALS}
            client.symbols.reset_scope()
    return found, extras


@needs_gdb
@pytest.mark.parametrize("variant", list(FLAGS))
def test_frames_match_gdb(client, dw_builds, variant) -> None:
    binary = dw_builds["dwvars", variant]
    expected, offset = gdb_frames(binary)
    ours, extras = pydbg_frames(client, binary, offset)
    assert set(expected) == set(ours)
    for key, values in expected.items():
        mine = ours[key]
        for name, value in values.items():
            assert name in mine, (key, name)
            assert normalize(mine[name]) == normalize(value), (key, name)
        assert set(mine) - set(values) <= extras.get(key, set()), key
    if variant.startswith("O0"):
        # At -O0 everything is in memory: nothing may be optimized out.
        assert not any("optimized out" in v for f in ours.values() for v in f.values())


def test_typed_values_from_python(client, dw_builds) -> None:
    binary = dw_builds["dwvars", "O0-pie"]
    client.create_process([binary])
    assert wait(client)
    client.control.execute("bp checkpoint")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    symbols = client.symbols
    symbols.set_scope_frame_by_index(5)  # main
    first = symbols.get_variable_value("first")
    second = symbols.get_variable_value("second")
    assert first.type_name == "struct node"
    assert int(first["next"]) == second.address
    assert first["next"].deref()["label"].deref().to_python() == ord("s")
    assert first["where"].to_python() == {"x": 3, "y": -4}
    assert int(first["b"]["b"]) == -3 and int(first["b"]["d"]) == 0x123456789A
    assert [int(row[2]) for row in first["grid"]] == [2, 12]
    assert float(first["weight"]) == 1.5
    assert first["color"].format() == "GREEN"
    assert len(first["grid"]) == 2
    buf = symbols.get_variable_value("buf")
    assert bytes(buf.raw()[4:]) == b"abcd"
    # The frame-1 parameter `head` points at main's `first`.
    symbols.set_scope_frame_by_index(4)
    assert int(symbols.get_variable_value("head")) == first.address
    assert symbols.get_variable_value("depth").to_python() == 3
    # Globals are found from any frame, module-qualified too.
    assert symbols.get_variable_value("global_counter").to_python() == 42
    with pytest.raises(UnknownVariableError):
        symbols.get_variable_value("no_such_variable")
    group = symbols.get_scope_symbol_group()
    index = [group.get_symbol_name(i) for i in range(group.get_number_symbols())].index("head")
    group.expand_symbol(index)
    assert group.get_symbol_name(index + 1) == "*"
    group.expand_symbol(index + 1)
    assert group.get_symbol_name(index + 2) == "next"
    assert group.get_symbol_value_text(index + 3) == group.get_symbol_value_text(index + 3)
    assert '"first"' in group.get_symbol_value_text(index + 3)
    group.expand_symbol(index, False)
    assert group.get_symbol_name(index + 1) != "*"
    with pytest.raises(pydbg.symbol_group.SymbolGroupError):
        group.get_symbol_name(99)


@needs_gdb
@pytest.mark.parametrize("variant", ["O0-pie", "O2-nopie"])
def test_cpp_frame_matches_gdb(client, dw_builds, variant) -> None:
    """A C++ frame: a reference to a class with two bases, a vtable pointer (named as
    gdb names it, demangled), a static member, a bitfield, a reference member, a pointer
    to a template instance."""
    binary = dw_builds["dwclasses", variant]
    text = gdb_batch(
        binary, ["break checkpoint", "run", "up", "echo @@\\n", "info args", "info locals"]
    )
    placed = re.search(r"^Breakpoint 1 at (0x[0-9a-f]+)", text, re.M)
    assert placed
    start = open_image(binary).symbols.lookup("checkpoint")
    assert start is not None
    expected = _section(text.splitlines(), text.splitlines().index("@@") + 1)
    assert "fancy" in expected
    client.create_process([binary])
    assert wait(client)
    client.control.execute(f"bp checkpoint+{int(placed.group(1), 16) - start.address:#x}")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    client.symbols.set_scope_frame_by_index(1)
    ours = {e.name: e.value_text for e in client.symbols.get_scope_symbol_group().entries()}
    assert {k: normalize(v) for k, v in ours.items()} == {
        k: normalize(v) for k, v in expected.items()
    }
    if variant.startswith("O0"):
        assert "<vtable for shapes::Fancy+16>" in ours["fancy"]
        assert "static count = 2" in ours["fancy"]


@needs_gdb
def test_shared_library_thread_local_matches_gdb(client, dw_builds) -> None:
    """libc's `errno` (a __thread variable of a shared library, found through the thread's
    DTV): where it is relative to the thread pointer, and its value, as gdb has them."""
    binary = dw_builds["dwvars", "O0-pie"]
    text = gdb_batch(
        binary, ["break checkpoint", "run", "print (long)&errno - (long)$fs_base", "print errno"]
    )
    found = re.findall(r"^\$\d+ = (-?\d+)$", text, re.M)
    assert len(found) == 2, text
    client.create_process([binary])
    assert wait(client)
    client.control.execute("bp checkpoint")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    errno = client.symbols.get_variable_value("libc_so!errno")
    assert errno.address is not None
    assert errno.address - client.registers.get_value("fs_base") == int(found[0])
    assert int(errno) == int(found[1])
