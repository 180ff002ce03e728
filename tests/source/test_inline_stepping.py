"""Line stepping through inlined calls (`l+t`; `p` = gdb's `next`, `t` = `step`) on -O2
targets where gcc inlines: tests/targets/inlines.c (always_inline functions two deep
around a call) and inlinestep.cpp (small member functions and std::vector, inlined at
-O2).  Oracle: the lines gdb's `next` / `step` reach from the same breakpoint, stop by
stop; pydbg's line at each stop is `symbols.get_stop_line()` (an inlined call starting
at the pc is shown at its call site until `t` enters it, as gdb shows frame 0)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.api.helpers import wait
from tests.source.conftest import FLAGS
from tests.source.support import GDB, gdb, start
from tests.support import TARGET_SOURCES

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb is not installed")

N, S = "next", "step"


@pytest.fixture(scope="module")
def inlinestep_cpp(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/targets/inlinestep.cpp built with g++ -O2 -g."""
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    path = os.path.join(tmp_path_factory.mktemp("inlinestep"), "inlinestep")
    source = os.path.join(TARGET_SOURCES, "inlinestep.cpp")
    subprocess.run(["g++", *FLAGS, "-O2", source, "-o", path], check=True, capture_output=True)
    return path


_AT = re.compile(r" at (\S+):(\d+)$")


def gdb_steps(binary: str, at: str, commands: list[str]) -> list[tuple[str, int]]:
    """(file base name, line) where gdb is after each command: gdb's `frame` after it
    names frame 0's file and line (the inline frame's when gdb is in one)."""
    script = [f"break {at}", "run", "delete"]
    for command in commands:
        script += ["echo @@\\n", command, "frame"]
    _, *chunks = gdb(binary, script).split("@@\n")
    where = []
    for chunk in chunks:
        found = [m for m in map(_AT.search, chunk.splitlines()) if m is not None]
        assert found, chunk
        where.append((os.path.basename(found[-1][1]), int(found[-1][2])))
    return where


def pydbg_steps(client, output, binary: str, at: str, commands: list[str]) -> list[tuple[str, int]]:
    start(client, output, binary)
    client.control.execute(f"bp {at}")
    client.control.execute("g")
    assert wait(client)
    client.control.execute("bc *; l+t")
    where = []
    for command in commands:
        verb, _, count = command.partition(" ")
        client.control.execute(f"{ {N: 'p', S: 't'}[verb] } {count}".strip())
        assert wait(client)
        line, file = client.symbols.get_stop_line()
        where.append((os.path.basename(file), line))
    output.take()
    return where


def compare(client, output, binary: str, at: str, commands: list[str]) -> None:
    expected = gdb_steps(binary, at, commands)
    assert len(expected) == len(commands)
    got = pydbg_steps(client, output, binary, at, commands)
    table = "\n".join(
        f"{c:5} gdb {e[0]}:{e[1]:<5} pydbg {g[0]}:{g[1]}{'' if e == g else '  <--'}"
        for c, e, g in zip(commands, expected, got, strict=True)
    )
    assert got == expected, "\n" + table


@pytest.mark.parametrize(
    "commands",
    [[N, N, N], [S, S, S, S, S, S, S], [S, N, N, N], [S, S, N, N, N], ["step 3", "step 2"]],
    ids=["next", "step", "step-next", "step-step-next", "counts"],
)
def test_inlined_c_calls(client, output, targets, commands):
    """From outer's first line (the entry of middle() and leaf(), inlined): `p` steps
    over both bodies; `t` enters middle, then leaf, without running, then probe (a real
    call), and back out through leaf's and middle's lines to outer's."""
    binary = targets.get("inlines", "pie-O2")
    assert binary is not None
    compare(client, output, binary.path, "outer", commands)


@pytest.mark.parametrize(("command", "count"), [(N, 12), (S, 29)])
def test_inlined_cpp_members(client, output, inlinestep_cpp, command, count):
    """C++ -O2: inlined member functions and std::vector's constructor (four inlined
    constructors deep, split in two pieces), push_back / size / operator[] in a loop;
    `p` never stops in their bodies, `t` enters them one inline frame at a time, into
    _M_realloc_insert and out.  (`t` agrees with gdb for the first 29 stops; at the
    30th, in _M_realloc_insert, gdb stops at stl_iterator.h:1333 where pydbg stops at
    vector.tcc:449.)"""
    compare(client, output, inlinestep_cpp, "run", [command] * count)


@pytest.mark.parametrize(
    "commands", [[N, N, N], [S, S, S, S], [N, S, S, N]], ids=["next", "step", "mixed"]
)
def test_from_a_breakpoint_on_an_inlined_line(client, output, targets, commands):
    """`bp file:line` on a line of an inlined function stops in it (gdb: frame 0 is the
    inlined function, not its caller at the call site, though the inlined code starts
    at the pc), and the steps go on from there: out through the caller's lines."""
    binary = targets.get("inlinemulti", "pie-O2")
    assert binary is not None
    with open(os.path.join(TARGET_SOURCES, "inlinemulti.c")) as f:
        line = next(n for n, text in enumerate(f, 1) if "LINE_TWICE_BODY" in text)
    compare(client, output, binary.path, f"inlinemulti.c:{line}", commands)
    start(client, output, binary.path)
    client.control.execute(f"bp inlinemulti.c:{line}")
    client.control.execute("g")
    assert wait(client)
    assert client.symbols.get_stop_line()[0] == line
    assert client.control.get_stack_trace_ex(1)[0].inline
