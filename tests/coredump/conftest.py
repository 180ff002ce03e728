"""Fixtures of the core file tests: the `coredump` target (tests/targets/coredump.c) stopped
under a client, at its breakpoint site or at its crash, and the readers the cores are
checked with (gdb, eu-stack, readelf and pyelftools: never pydbg's own code)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile

import pydbg
from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait
from tests.support import Binary

# gdb's frame line: `#0  dump_here (depth=...) at ...` or `#1  0x... in inner (crash=0) ...`
_GDB_FRAME = re.compile(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(", re.M)
# pydbg's `k` line: Child-SP, RetAddr, then module!function+0x1f [file @ line]
_K_FRAME = re.compile(r"^[0-9a-f]{8}`[0-9a-f]{8} [0-9a-f]{8}`[0-9a-f]{8} (\S+)", re.M)


@dataclass
class Stopped:
    """The coredump target stopped under `client` (at dump_here, or at its SIGSEGV)."""

    client: pydbg.DebugClient
    output: Any
    binary: Binary
    pid: int

    @property
    def module(self) -> str:
        return os.path.basename(self.binary.path).replace("-", "_")

    def run(self, command: str) -> str:
        self.output.take()
        self.client.control.execute(command)
        return str(self.output.take())

    def k_functions(self) -> list[str]:
        """The function names of `k` (module prefix and offset cut)."""
        return [name.split("!", 1)[-1].split("+", 1)[0] for name in _K_FRAME.findall(self.run("k"))]


def launch(client: pydbg.DebugClient, output: Any, binary: Binary, *args: str) -> Stopped:
    client.create_process([binary.path, *args])
    assert wait(client)
    return Stopped(client, output, binary, client.system_objects.get_current_process_system_id())


@pytest.fixture
def at_breakpoint(client, output, targets) -> Stopped:
    """coredump `stop`, at `bp dump_here` (main -> outer -> middle -> inner -> dump_here)."""
    stopped = launch(client, output, targets["coredump"], "stop")
    client.control.execute(f"bp {stopped.module}!dump_here")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    assert client.registers.get_value("rip") == stopped.binary.addr(stopped.pid, "dump_here")
    return stopped


@pytest.fixture
def at_crash(client, output, targets) -> Stopped:
    """coredump `crash`, at the first chance of its SIGSEGV in inner()."""
    stopped = launch(client, output, targets["coredump"], "crash")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    event = client.control.get_last_event_information()
    assert event is not None and "Access violation" in event.description
    return stopped


@pytest.fixture
def core_path(tmp_path) -> Iterator[str]:
    yield str(tmp_path / "prog.core")


def gdb(*commands: str, program: str, core: str) -> str:
    """gdb in batch mode on a program and a core; stdout and stderr together."""
    argv = ["gdb", "-nx", "-batch"]
    for command in commands:
        argv += ["-ex", command]
    proc = subprocess.run(
        [*argv, program, core], capture_output=True, text=True, timeout=120, check=False
    )
    return proc.stdout + proc.stderr


def gdb_frames(text: str) -> list[str]:
    """The function names of gdb's `bt`: the longest run of frames from #0 in `text` (gdb
    shows frame #0 alone when it opens a core)."""
    runs: list[list[str]] = []
    for number, name in _GDB_FRAME.findall(text):
        if int(number) == 0:
            runs.append([])
        if runs and int(number) == len(runs[-1]):
            runs[-1].append(name)
    return max(runs, key=len, default=[])


def up_to_main(names: list[str]) -> list[str]:
    """The frames up to main: gdb stops there (`backtrace past-main` is off)."""
    return names[: names.index("main") + 1] if "main" in names else names


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is needed (.ci/run installs it)")
    return path


def notes(core: str) -> list[tuple[str, str, bytes]]:
    """(owner, type, descriptor) of every note of the core, as pyelftools reads them."""
    out = []
    with open(core, "rb") as f:
        elf = ELFFile(f)
        for segment in elf.iter_segments():
            if segment.header.p_type == "PT_NOTE":
                for n in segment.iter_notes():
                    desc = n["n_descdata"]
                    raw = desc if isinstance(desc, bytes) else b""
                    out.append((n["n_name"], n["n_type"], raw))
    return out


def loads(core: str) -> list[Any]:
    """The core's PT_LOAD headers."""
    with open(core, "rb") as f:
        elf = ELFFile(f)
        return [s.header for s in elf.iter_segments() if s.header.p_type == "PT_LOAD"]


def core_bytes(core: str, address: int, size: int) -> bytes:
    """The bytes the core holds for [address, address+size), from its PT_LOADs."""
    with open(core, "rb") as f:
        for header in loads(core):
            if header.p_vaddr <= address and address + size <= header.p_vaddr + header.p_filesz:
                f.seek(header.p_offset + address - header.p_vaddr)
                return f.read(size)
    raise AssertionError(f"{address:#x} (+{size}) has no contents in {core}")
