"""Symbols, lines, disassembly and call stacks through the public API and commands, on
real processes: /bin/ls (stripped PIE) and the project's own targets.  The stack at a
breakpoint inside libc is compared frame by frame with gdb's."""

from __future__ import annotations

import os
import shutil

import pytest

import pydbg
from pydbg.constants import DEBUG_STATUS_GO
from pydbg.symbols import SymbolError
from tests.api.helpers import wait
from tests.support import maps
from tests.unwind.helpers import frame_key, gdb_stop


def go(client: pydbg.DebugClient) -> bool:
    client.control.set_execution_status(DEBUG_STATUS_GO)
    return wait(client)


def libc_path(pid: int) -> str:
    return next(path for *_, path in maps(pid) if os.path.basename(path).startswith("libc.so"))


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_ls_stack_at_libc_write_matches_gdb(client) -> None:
    argv = ["/bin/ls", "-l", "/"]
    client.create_process(argv)
    assert wait(client)
    client.control.execute("bp libc_so!write")
    assert go(client)
    pid = client.system_objects.get_current_process_system_id()
    rows = list(maps(pid))
    frames = client.control.get_stack_trace()
    assert frames[0].symbol == "libc_so!write"
    assert not frames[-1].best_effort
    ours = [frame_key(rows, f.instruction_offset) for f in frames]
    library = libc_path(pid)
    offset = frame_key(rows, frames[0].instruction_offset)[1]
    assert ours == gdb_stop(argv, library, offset).keys()
    # Every frame is named: ls is stripped, but its .dynsym and libc's symbols name them.
    assert all(f.symbol for f in frames)


def test_names_addresses_and_lines_round_trip(client, targets) -> None:
    binary = targets["loop"]
    client.create_process([binary.path, "3"])
    assert wait(client)
    client.control.execute("bp tick")
    assert go(client)
    symbols = client.symbols
    pid = client.system_objects.get_current_process_system_id()
    tick = binary.sym("tick") + binary.bias(pid)
    assert symbols.get_offset_by_name("tick") == tick
    assert symbols.get_offset_by_name(f"{binary_module(binary)}!tick") == tick
    assert client.control.evaluate("tick") == tick
    assert client.control.evaluate(f"poi({binary_module(binary)}!iterations)") == 3
    assert symbols.get_name_by_offset(tick + 4) == (f"{binary_module(binary)}!tick", 4)
    line, file, _ = symbols.get_line_by_offset(tick)
    assert file.endswith("loop.c")
    with open(os.path.join(os.path.dirname(__file__), "..", "targets", "loop.c")) as f:
        lines = f.read().splitlines()
    declared = next(i for i, text in enumerate(lines, 1) if "void tick(void)" in text)
    assert line in (declared, declared + 1)  # the signature, or the brace -O0 puts first
    assert symbols.get_offset_by_line(line, "loop.c") <= tick + 8
    hits = dict(symbols.get_symbols_matching(f"{binary_module(binary)}!ti*"))
    assert hits[f"{binary_module(binary)}!tick"] == tick


def test_bad_names_fail_clearly(client, targets) -> None:
    client.create_process([targets["loop"].path, "1"])
    assert wait(client)
    with pytest.raises(SymbolError, match="no symbol is named 'no_such_function'"):
        client.symbols.get_offset_by_name("no_such_function")
    with pytest.raises(pydbg.symbols.UnknownModuleError):
        client.symbols.get_offset_by_name("nosuchmodule!main")
    with pytest.raises(pydbg.commands.errors.ExpressionError, match="no_such"):
        client.control.evaluate("no_such + 1")
    assert go(client) is False  # the session is still usable: the program runs to its end


def test_u_names_call_targets_and_k_shows_lines(client, targets, output) -> None:
    binary = targets["loop"]
    client.create_process([binary.path, "1"])
    assert wait(client)
    client.control.execute("bp tick")
    assert go(client)
    output.take()
    client.control.execute("k")
    stack = output.take()
    module = binary_module(binary)
    assert f"{module}!tick" in stack and "loop.c @ " in stack
    client.control.execute("u main L40")
    listing = output.take()
    assert f"{module}!main:" in listing
    assert f"call    {module}!" in listing  # a direct call shows its target's name


def binary_module(binary) -> str:
    from pydbg.engine.images import module_name

    return module_name(binary.path)
