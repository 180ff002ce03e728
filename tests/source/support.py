"""Helpers of the source-line tests: marker lines of tests/targets/srclines.c, and gdb
run in batch mode on a target (the oracle)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

from tests.api.helpers import wait
from tests.support import TARGET_SOURCES

GDB = shutil.which("gdb")
SOURCE = os.path.join(TARGET_SOURCES, "srclines.c")


def marker(name: str) -> int:
    """The line of tests/targets/srclines.c that carries `/* name */`."""
    with open(SOURCE) as f:
        for number, text in enumerate(f, 1):
            if re.search(rf"\b{name}\b", text):
                return number
    raise LookupError(name)


def gdb(binary: str, commands: list[str], stdin: str = os.devnull) -> str:
    """gdb's output for `commands` on `binary` (no init files, no debuginfod); a program
    it runs reads the file `stdin`."""
    args = [GDB or "gdb", "-batch", "-nx", "-iex", "set debuginfod enabled off"]
    args += ["-iex", "set pagination off", "-iex", "set startup-with-shell off"]
    for command in commands:
        args += ["-ex", command]
    with open(stdin, "rb") as f:
        proc = subprocess.run(args + [binary], stdin=f, capture_output=True, text=True, timeout=120)
    return proc.stdout


def start(
    client: Any, output: Any, path: str, args: tuple[str, ...] = (), stdin: str = os.devnull
) -> None:
    with open(stdin, "rb") as f:
        client.create_process([path, *args], stdin=f, stdout=subprocess.DEVNULL)
    assert wait(client)
    output.take()


_FRAME_LINE = re.compile(r"^(\d+)\t")
_AT_FILE = re.compile(r" at (\S+):(\d+)$")


def _location(at: int | str) -> str:
    return f"srclines.c:{at}" if isinstance(at, int) else at


def gdb_steps(
    binary: str,
    line: int | str,
    commands: list[str],
    args: tuple[str, ...] = (),
    stdin: str = os.devnull,
) -> list[tuple[str, int]]:
    """(file base name, line) where gdb is after each of `commands` (`next`, `step`),
    starting from a breakpoint at srclines.c:`line` (or at a function named `line`);
    the program runs with `args` and stdin from the file `stdin`."""
    script = [f"break {_location(line)}", f"run {' '.join(args)}", "delete"]
    for command in commands:
        script += ["echo @@\\n", command]
    out = gdb(binary, script, stdin)
    head, *chunks = out.split("@@\n")
    where: list[tuple[str, int]] = []
    file = "srclines.c"
    for text in head.splitlines():  # where the breakpoint was hit
        at = _AT_FILE.search(text)
        if at is not None:
            file = os.path.basename(at[1])
    for chunk in chunks:
        number = None
        for text in chunk.splitlines():
            at = _AT_FILE.search(text)
            if at is not None:
                file, number = os.path.basename(at[1]), int(at[2])
            found = _FRAME_LINE.match(text)
            if found is not None:
                number = int(found[1])
        assert number is not None, chunk
        where.append((file, number))
    return where


def pydbg_steps(
    client: Any,
    output: Any,
    binary: str,
    line: int | str,
    commands: list[str],
    args: tuple[str, ...] = (),
    stdin: str = os.devnull,
) -> list[tuple[str, int]]:
    """The same with pydbg in source mode (`l+t`; `p` for next, `t` for step)."""
    start(client, output, binary, args, stdin)
    client.control.execute(f"bp {_location(line)}")
    client.control.execute("g")
    assert wait(client)
    client.control.execute("bc *; l+t")
    where: list[tuple[str, int]] = []
    for command in commands:
        client.control.execute({"next": "p", "step": "t"}[command])
        assert wait(client)
        pc = client.registers.get_instruction_offset()
        number, file, _ = client.symbols.get_line_by_offset(pc, statement=True)
        where.append((os.path.basename(file), number))
    output.take()
    return where
