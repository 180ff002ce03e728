"""Helpers of the state tests (tests/commands/test_state_*.py): the `state` target under a
client, and oracles that are not pydbg: addr2line for lines, capstone on the file's bytes
for instructions, gdb for frames and their registers."""

from __future__ import annotations

import re
import subprocess
from typing import Any

from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from tests.api.helpers import wait
from tests.support import Binary

REGISTER_ROW = re.compile(r"^rax=[0-9a-f?]{16} rbx=[0-9a-f?]{16} rcx=[0-9a-f?]{16}$", re.M)
HEADER = re.compile(r"^(\w+)!(\w+)(?:\+0x([0-9a-f]+))?(?: \[(.+) @ (\d+)\])?:$", re.M)


def start(client: Any, output: Any, binary: Binary, mode: str) -> int:
    """Launch the state target in `mode`, wait for its initial breakpoint, drop the output."""
    pid = client.create_process([binary.path, mode], stdout=subprocess.DEVNULL)
    assert wait(client)
    output.take()
    return pid


def break_at(client: Any, output: Any, name: str) -> None:
    client.control.execute(f"bp {name}; g")
    assert wait(client)
    output.take()


def addr2line(binary: Binary, link_address: int) -> tuple[str, int]:
    """(file, line) binutils' addr2line gives for a link-time address."""
    out = subprocess.run(
        ["addr2line", "-e", binary.path, f"{link_address:#x}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    file, _, line = out.partition(":")
    return file, int(line.split()[0])


def instructions(binary: Binary, function: str) -> list[tuple[int, str, str]]:
    """(link-time address, mnemonic, operands) of a function's instructions, decoded from
    the file."""
    start_address, size = binary.sym(function), binary.sym_size(function)
    code = binary.file_bytes(start_address, size)
    decoder = Cs(CS_ARCH_X86, CS_MODE_64)
    return [(i.address, i.mnemonic, i.op_str) for i in decoder.disasm(code, start_address)]


def gdb_frame_registers(
    binary: Binary, stop: str, mode: str, frames: int, names: tuple[str, ...]
) -> list[dict[str, int]]:
    """gdb's values of `names` in frames 0..frames-1 at `break *stop`."""
    args = ["gdb", "-batch", "-nx", "-ex", f"break *{stop}", "-ex", "run"]
    for number in range(frames):
        args += ["-ex", f"frame {number}", "-ex", f"info registers {' '.join(names)}"]
    args += ["-ex", "kill", "--args", binary.path, mode]
    text = subprocess.run(args, capture_output=True, text=True, timeout=60).stdout
    found: list[dict[str, int]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in names and parts[1].startswith("0x"):
            if parts[0] == names[0]:
                found.append({})
            found[-1][parts[0]] = int(parts[1], 16)
    assert len(found) == frames, text
    return found
