"""Helpers of the scripting-layer tests: the `script` target launched with its stdout in a
file, and gdb in batch mode as the oracle for where a step or a finish lands."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pydbg
from tests.support import Binary

# A bound for a wait that must end with an event (never a timing assertion).
LIMIT = 20.0


@contextlib.contextmanager
def launched(binary: Binary, out: Path, *args: object, **kw: object) -> Iterator[pydbg.Process]:
    """The target launched with stdout to the file `out`; killed and reaped at the end."""
    with (
        open(out, "wb") as stdout,
        pydbg.launch(
            [binary.path, *(str(a) for a in args)],
            stdout=stdout,
            **kw,  # type: ignore[arg-type]
        ) as proc,
    ):
        yield proc


def module(binary: Binary) -> str:
    """The target's module name (`script-pie` -> `script_pie`)."""
    return os.path.basename(binary.path).replace("-", "_").replace(".", "_")


def sym(binary: Binary, name: str) -> str:
    """`module!name` of a symbol of the target."""
    return f"{module(binary)}!{name}"


def printed(out: Path) -> list[str]:
    return out.read_text().splitlines()


_PC = re.compile(r"^\$\d+ = .*<([\w.@]+)(?:\+(\d+))?>\s*$")


def gdb_pcs(binary: Binary, args: list[str], commands: list[str]) -> list[tuple[str, int]]:
    """Run gdb in batch mode on the target; every `p $pc` among `commands` gives one
    (function, offset) of gdb's `<function+offset>`."""
    argv = ["gdb", "-nx", "-batch", "-ex", "set debuginfod enabled off"]
    for command in commands:
        argv += ["-ex", command]
    argv += ["--args", binary.path, *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    found = []
    for line in result.stdout.splitlines():
        match = _PC.match(line)
        if match:
            found.append((match.group(1), int(match.group(2) or 0)))
    assert found, f"gdb printed no pc:\n{result.stdout}\n{result.stderr}"
    return found


def function_and_offset(symbol: str) -> tuple[str, int]:
    """`script!middle+0x9` -> ("middle", 9)."""
    name, _, displacement = symbol.partition("+")
    return name.partition("!")[2], int(displacement, 16) if displacement else 0
