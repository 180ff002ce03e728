"""Events in commands: `.exr -1` for a SIGSEGV and a SIGBUS (cdb's layout, then the signal,
si_code in words and the faulting address), `.lastevent`, and the `sx` table.  Oracles: the
target's own fault (a store to 0x10 at the label state_segv_insn; the address the bus mode
prints before it reads it) and the kernel's si_code numbers (asm-generic/siginfo.h)."""

from __future__ import annotations

import re

import pytest

from pydbg.commands.errors import CommandError
from tests.api.helpers import hex64, wait
from tests.commands.state_support import start


def test_exr_of_an_access_violation(client, output, targets):
    binary = targets["state"]
    pid = start(client, output, binary, "segv")
    client.control.execute("g")
    assert wait(client)
    output.take()
    client.control.execute(".exr -1")
    text = output.take()
    insn = binary.addr(pid, "state_segv_insn")
    lines = text.splitlines()
    assert lines[0].startswith(f"ExceptionAddress: {hex64(insn)} (state_pie!")
    assert lines[1] == "   ExceptionCode: c0000005 (Access violation)"
    assert lines[2] == "  ExceptionFlags: 00000000"
    assert lines[3] == "NumberParameters: 4"
    assert lines[4] == "   Parameter[0]: 0000000000000000"
    assert lines[5] == "   Parameter[1]: 0000000000000010"
    assert lines[6] == "   Parameter[2]: 000000000000000b"
    assert lines[7] == "   Parameter[3]: 0000000000000001"
    assert lines[8] == "          Signal: SIGSEGV (11)"
    assert lines[9] == "         si_code: 1 SEGV_MAPERR (address not mapped to object)"
    assert lines[10] == "Faulting address: 0000000000000010"
    client.control.execute(".lastevent")
    assert re.fullmatch(
        rf"Last event: {pid:x}\.{pid:x}: Access violation - code c0000005 \(first chance\)\n",
        output.take(),
    )


def test_exr_of_a_bus_error(client, output, targets, tmp_path):
    binary = targets["state"]
    printed = tmp_path / "bus.out"
    with open(printed, "w") as out:
        client.create_process([binary.path, "bus"], stdout=out)
    assert wait(client)
    client.control.execute("g")
    assert wait(client)
    output.take()
    client.control.execute(".exr -1")
    text = output.take()
    address = int(printed.read_text().split()[1], 16)
    assert "   ExceptionCode: c0000006 (In-page I/O error)" in text
    assert "          Signal: SIGBUS (7)" in text
    assert "         si_code: 2 BUS_ADRERR (nonexistent physical address)" in text
    assert text.endswith(f"Faulting address: {address:016x}\n")


def test_exr_when_the_last_event_is_no_exception(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "steps")
    client.control.execute("bp state_stop; g; .exr -1")
    assert output.take().splitlines()[-1].startswith("The last event is not an exception: ")
    with pytest.raises(CommandError, match="takes -1 .*, not '12345678'"):
        client.control.execute(".exr 12345678")
    with pytest.raises(CommandError, match="takes -1 .*, an argument"):
        client.control.execute(".exr")
    client.control.execute(".lastevent")
    assert output.take().startswith("Last event: ")


def test_sx_lists_events_exceptions_and_the_default_as_cdb_does(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "steps")
    client.control.execute('sxe -c "r rip" ld; sxe -h cc; sx')
    text = output.take()
    events, exceptions, default, syscalls = text.split("\n\n")
    rows = events.splitlines()
    assert rows[0] == "  ct - Create thread - ignore"
    assert "  ld - Load module - break" in rows
    assert rows[rows.index("  ld - Load module - break") + 1] == '       Command: "r rip"'
    assert "  av - Access violation - break - not handled" in exceptions.splitlines()
    assert " bpe - Break instruction exception - break" in exceptions.splitlines()
    assert "bpec - Break instruction exception continue - handled" in exceptions.splitlines()
    assert "  cc - Control-C exception continue - handled" in exceptions.splitlines()
    assert re.fullmatch(r"   \* - .* - second-chance break - not handled", default)
    assert syscalls == " sys - System call - ignore\n"  # (pydbg extension: syscall rows)
    client.control.execute('sxn -c "k" sys:257; sx')
    assert output.take().split("\n\n")[3] == (
        " sys - System call - ignore\n"
        "sys:openat - System call openat - output\n"
        '       Command: "k"\n'
    )
    with pytest.raises(CommandError, match="sx takes no arguments"):
        client.control.execute("sx av")
