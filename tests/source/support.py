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


def gdb(binary: str, commands: list[str], run: bool = False) -> str:
    """gdb's output for `commands` on `binary` (no init files, no debuginfod)."""
    args = [GDB or "gdb", "-batch", "-nx", "-iex", "set debuginfod enabled off"]
    args += ["-iex", "set pagination off", "-iex", "set startup-with-shell off"]
    for command in commands:
        args += ["-ex", command]
    proc = subprocess.run(args + [binary], capture_output=True, text=True, timeout=120)
    return proc.stdout


def start(client: Any, output: Any, path: str) -> None:
    client.create_process([path], stdout=subprocess.DEVNULL)
    assert wait(client)
    output.take()
