"""Source mode (`l+t`): `p` and `t` step by source line.  Oracle: the lines gdb's `next`
and `step` reach from the same breakpoint on the same binary, compared stop by stop
(file base name and line), at -O0 and -O2: over and into calls, a recursive function,
a call to an assembly function without line info (stepped over by `step`), a libc call
(libc6-dbg gives libc line info: `step` enters it, through the PLT), and returning past
the end of a function into the middle of the caller's line."""

from __future__ import annotations

import os

import pytest

from pydbg.constants import (
    DEBUG_CES_CODE_LEVEL,
    DEBUG_END_ACTIVE_TERMINATE,
    DEBUG_LEVEL_ASSEMBLY,
    DEBUG_LEVEL_SOURCE,
)
from pydbg.control import StepMode
from pydbg.errors import EngineError
from tests.api.helpers import wait
from tests.source.support import GDB, SOURCE, gdb_steps, marker, pydbg_steps, start
from tests.support import TARGET_SOURCES

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb is not installed")

N, S = "next", "step"


def compare(
    client,
    output,
    binary: str,
    at: str,
    commands: list[str],
    args: tuple[str, ...] = (),
    stdin: str = os.devnull,
) -> None:
    line: int | str = marker(at) if at.startswith("LINE_") else at
    expected = gdb_steps(binary, line, commands, args, stdin)
    assert len(expected) == len(commands)
    got = pydbg_steps(client, output, binary, line, commands, args, stdin)
    table = "\n".join(
        f"{c:5} gdb {e[0]}:{e[1]:<5} pydbg {g[0]}:{g[1]}{'' if e == g else '  <--'}"
        for c, e, g in zip(commands, expected, got, strict=True)
    )
    assert got == expected, "\n" + table


def test_next_through_main_and_out_of_it(client, output, targets):
    """Over calls (twice, a libc call, the asm function, recursion), around a loop, and
    past main's end into libc's caller of main."""
    binary = targets.get("srclines", "pie")
    assert binary is not None
    compare(client, output, binary.path, "LINE_MAIN_FIRST", [N] * 14)


def test_step_into_calls_recursion_and_back(client, output, targets):
    """Into twice and back into the middle of main's line; over the asm function (no line
    info); into fact four levels deep and out again."""
    binary = targets.get("srclines", "nopie")
    assert binary is not None
    commands = [N, S, S, S, S, S, N, N, S, S] + [S] * 17 + [N, N]
    compare(client, output, binary.path, "LINE_MAIN_FIRST", commands)


@pytest.mark.parametrize("command", [N, S])
def test_out_of_a_function_without_line_info(client, output, targets, command):
    """Stopped in the assembly function (no line info, no CFI): the step runs it to its
    return and goes on to the end of the caller's line."""
    binary = targets.get("srclines", "pie")
    assert binary is not None
    compare(client, output, binary.path, "plain_add", [command, S])


@pytest.mark.parametrize("binding", ["lazy", "now"])
def test_step_into_libc_through_the_plt(client, output, targets, srclines_now, binding):
    """A first call through a lazily bound PLT slot goes through the loader's resolver
    (gdb skips it: so must pydbg); a slot bound at load jumps straight to libc."""
    binary = targets["srclines"].path if binding == "lazy" else srclines_now["O0"]
    compare(client, output, binary, "LINE_LIBC_CALL", [S] * 6)


def test_optimized_code_lands_on_the_same_lines(client, output, srclines_now):
    """-O2: rows of several lines at one address, non-statement rows, frameless
    functions (no prologue to skip), constant-propagated clones."""
    binary = srclines_now["O2"]
    compare(client, output, binary, "LINE_MAIN_FIRST", [N] * 6)
    client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    compare(client, output, binary, "LINE_MAIN_FIRST", [S] * 8)
    client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    compare(client, output, binary, "LINE_CALL_FACT", [S] * 6)


def test_code_level_and_source_at_stops(client, output, targets):
    binary = targets.get("srclines", "pie")
    assert binary is not None
    start(client, output, binary.path)
    control = client.control
    assert control.get_code_level() == DEBUG_LEVEL_ASSEMBLY
    line = marker("LINE_CALL_TWICE")
    control.execute(f"bp srclines.c:{line}; g")
    assert wait(client)
    control.execute("l+t")  # (shows the source line at stops too)
    assert control.get_code_level() == DEBUG_LEVEL_SOURCE
    output.take()
    control.execute("p")
    assert wait(client)
    control.output_current_state()
    shown = output.take()
    with open(SOURCE) as f:
        text = f.read().splitlines()[line]  # the next line (0-based index = line)
    assert shown.rstrip("\n").splitlines()[-1] == f">{line + 1:5}: {text}"
    # Assembly mode again: one instruction.
    control.execute("l-t")
    pc = client.registers.get_instruction_offset()
    control.execute("p")
    assert wait(client)
    assert client.registers.get_instruction_offset() != pc
    number, _, _ = client.symbols.get_line_by_offset(client.registers.get_instruction_offset())
    assert number == line + 1


def test_counts_and_the_code_level_event(client, output, recorder, targets):
    """`p 3` is three line steps; SetCodeLevel notifies DEBUG_CES_CODE_LEVEL once per
    change; `gu` is not a line step."""
    binary = targets.get("srclines", "pie")
    assert binary is not None
    line = marker("LINE_MAIN_FIRST")
    expected = gdb_steps(binary.path, line, [N, N, N])
    start(client, output, binary.path)
    control = client.control
    control.execute(f"bp srclines.c:{line}; g")
    assert wait(client)
    recorder.take()
    control.set_code_level(DEBUG_LEVEL_SOURCE)
    control.set_code_level(DEBUG_LEVEL_SOURCE)
    changes = [c for c in recorder.take() if c[0] == "change_engine_state"]
    assert changes == [("change_engine_state", DEBUG_CES_CODE_LEVEL, DEBUG_LEVEL_SOURCE)]
    control.execute("p 3")
    assert wait(client)
    pc = client.registers.get_instruction_offset()
    number, file, _ = client.symbols.get_line_by_offset(pc, statement=True)
    assert (os.path.basename(file), number) == expected[-1]
    with pytest.raises(EngineError):
        control.set_code_level(7)


def test_control_step_line_works_in_assembly_mode(client, output, targets):
    """Control.step(StepMode.LINE) steps one line whatever the code level (over=True:
    gdb's next, else step), and leaves the code level alone."""
    binary = targets.get("srclines", "pie")
    assert binary is not None
    line = marker("LINE_CALL_TWICE")
    expected = gdb_steps(binary.path, line, [N, S])
    start(client, output, binary.path)
    control = client.control
    control.execute(f"bp srclines.c:{line}; g")
    assert wait(client)
    where = []
    for over in (True, False):
        control.step(StepMode.LINE, over=over)
        assert wait(client)
        pc = client.registers.get_instruction_offset()
        number, file, _ = client.symbols.get_line_by_offset(pc, statement=True)
        where.append((os.path.basename(file), number))
    assert where == expected
    assert control.get_code_level() == DEBUG_LEVEL_ASSEMBLY


def test_next_in_a_worker_thread(client, output, targets):
    """A line step of one thread while three others run (over worker_tick and
    nanosleep, which let them): the worker's loop, round and round.  (stdin never ends,
    so that main never tells the workers to quit: the lines do not depend on timing.)"""
    binary = targets.get("threads", "pie")
    assert binary is not None
    with open(os.path.join(TARGET_SOURCES, "threads.c")) as f:
        line = next(n for n, text in enumerate(f, 1) if "__atomic_fetch_add(&ticks" in text)
    compare(client, output, binary.path, f"threads.c:{line}", [N] * 10, ("3",), "/dev/zero")


def test_cpp_methods_templates_and_library_headers(client, output, srccpp):
    """C++ (g++ -O0): over and into a method, template instances, and libstdc++'s
    header code (std::vector::push_back, instantiated in the program with line info)."""
    with open(os.path.join(TARGET_SOURCES, "srccpp.cpp")) as f:
        line = next(n for n, text in enumerate(f, 1) if "LINE_CPP_MAIN" in text)
    at = f"srccpp.cpp:{line}"
    compare(client, output, srccpp, at, [N] * 7)
    client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    compare(client, output, srccpp, at, [N, N] + [S] * 8)
