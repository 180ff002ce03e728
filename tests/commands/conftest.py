"""Fixtures of the memory command tests: the `memcmds` target (tests/targets/memcmds.c)
stopped at its first checkpoint under a client, with what the target says of its own
memory (the oracle: addresses and bytes it printed, never what pydbg read)."""

from __future__ import annotations

import os

import pytest

import pydbg
from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait


class MemTarget:
    """The memcmds target at checkpoint(1): `addr[name]`, `dump[name]` and `page` are the
    target's own printout; `run(command)` is the text a command printed."""

    def __init__(self, client: pydbg.DebugClient, output, binary, out_file: str) -> None:
        self.client = client
        self.output = output
        self.binary = binary
        self.out_file = out_file
        client.create_process([binary.path, out_file])
        assert wait(client)
        client.control.execute("bp checkpoint")
        client.control.set_execution_status(DEBUG_STATUS_GO)
        assert wait(client)
        self.pid = client.system_objects.get_current_process_system_id()
        self.addr, self.dump, self.page = self._read()
        output.take()

    @property
    def module(self) -> str:
        """The module name pydbg gives the executable (its file name, `-` as `_`)."""
        return os.path.basename(self.binary.path).replace("-", "_")

    def _read(self) -> tuple[dict[str, int], dict[str, bytes], int]:
        addr: dict[str, int] = {}
        dump: dict[str, bytes] = {}
        page = 0
        with open(self.out_file) as f:
            for line in f:
                kind, *rest = line.split()
                if kind == "addr":
                    addr[rest[0]] = int(rest[1], 16)
                elif kind == "bytes":
                    dump[rest[0]] = bytes.fromhex(rest[1])
                elif kind == "page":
                    page = int(rest[0], 16)
                elif kind == "helper":
                    dump["helper"] = rest[0].encode()
        return addr, dump, page

    def run(self, command: str) -> str:
        """Execute `command` with `%name` standing for the address of object `name`."""
        for name in sorted(self.addr, key=len, reverse=True):
            command = command.replace(f"%{name}", f"{self.addr[name]:#x}")
        self.output.take()
        self.client.control.execute(command)
        return self.output.take()

    def lines(self, command: str) -> list[str]:
        return self.run(command).splitlines()

    def finish(self) -> dict[str, bytes]:
        """Let the target run to checkpoint(2) and return its second printout (what the
        program itself sees after the commands)."""
        self.client.control.set_execution_status(DEBUG_STATUS_GO)
        assert wait(self.client)
        return self._read()[1]


@pytest.fixture(params=["pie", "nopie"])
def mem(request, client, output, targets, tmp_path) -> MemTarget:
    binary = targets.get("memcmds", request.param)
    return MemTarget(client, output, binary, str(tmp_path / "memcmds.out"))


@pytest.fixture
def mem_pie(client, output, targets, tmp_path) -> MemTarget:
    return MemTarget(client, output, targets["memcmds"], str(tmp_path / "memcmds.out"))
