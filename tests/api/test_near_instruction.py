"""control.get_near_instruction (GetNearInstruction): the instruction N before or after an
address, against objdump's linear disassembly of the same target (the crash target's
.text holds code only, so objdump's instruction boundaries are the true ones)."""

from __future__ import annotations

import re
import subprocess

import pytest

from pydbg.errors import PydbgError
from tests.api.helpers import WAIT_LIMIT


def objdump_addresses(path: str) -> list[int]:
    """Link-time addresses of every instruction in .text."""
    text = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", "-j", ".text", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [int(m.group(1), 16) for m in re.finditer(r"^\s*([0-9a-f]+):\t", text, re.M)]


@pytest.fixture
def stopped(client, targets):
    """The crash target stopped at its access violation in inner()."""
    binary = targets["crash"]
    pid = client.create_process([binary.path, "segv"])
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)  # initial breakpoint
    client.control.execute("g")
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)  # the access violation
    return binary, pid


def test_instructions_before_and_after_match_objdump(client, stopped):
    binary, pid = stopped
    bias = binary.bias(pid)
    addresses = [bias + a for a in objdump_addresses(binary.path)]
    pc = client.registers.get_value("rip")
    assert pc in addresses and binary.addr(pid, "inner") < pc < binary.addr(pid, "middle")
    checked = 0
    # Every instruction of main, middle and inner, and the pc: 1..8 instructions back
    # (crossing into the function before) and 1..3 forward.
    starts = {binary.addr(pid, name) for name in ("main", "middle", "inner")}
    for index, address in enumerate(addresses):
        owner = max((s for s in starts if s <= address), default=None)
        if owner is None or address - owner > 0x400 or index < 8:
            continue
        for delta in (-8, -5, -1, 1, 3):
            if index + delta >= len(addresses):
                continue
            found = client.control.get_near_instruction(address, delta)
            assert found == addresses[index + delta], (hex(address), delta)
            checked += 1
    assert checked > 100
    assert client.control.get_near_instruction(pc, 0) == pc


def test_no_code_before_an_unmapped_address_is_an_error(client, stopped):
    with pytest.raises(PydbgError):
        client.control.get_near_instruction(0x1000, -3)
