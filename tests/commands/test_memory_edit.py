"""eb ew ed eq ep, ea eza eu ezu and f on the memcmds target: what each writes is checked
by the program itself (it dumps the bytes it sees at its second checkpoint), and bad input
leaves its memory as it was."""

from __future__ import annotations

import pytest

from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.memory_args import BadRangeError, InaccessibleMemoryError, ValueTooLargeError
from pydbg.constants import DEBUG_STATUS_GO
from pydbg.errors import MemoryAccessError
from tests.api.helpers import wait
from tests.api.recording import debuggee

ZERO64 = bytes(64)
CDS_DATA, DATA_SPACE_VIRTUAL = 0x2, 0  # dbgeng.h: DEBUG_CDS_DATA, DEBUG_DATA_SPACE_VIRTUAL


def test_values_of_every_size(mem):
    mem.run("eb %scratch 1 2 ff 'A'")
    mem.run("ew %scratch+4 1234 (-1)")
    mem.run("ed %scratch+8 0x11223344")
    mem.run("eq %scratch+10 0n1 fedcba9876543210")
    mem.run("ep %scratch+20 %pattern")
    seen = mem.finish()["scratch"]
    assert seen[:4] == b"\x01\x02\xff\x41"
    assert seen[4:8] == b"\x34\x12\xff\xff"
    assert seen[8:12] == b"\x44\x33\x22\x11"
    assert seen[16:32] == (1).to_bytes(8, "little") + (0xFEDCBA9876543210).to_bytes(8, "little")
    assert seen[32:40] == mem.addr["pattern"].to_bytes(8, "little")
    assert seen[40:] == bytes(24)


def test_values_are_expressions_in_the_current_radix(mem):
    mem.run("eb %scratch 10 0n10 (2*3) @$t0+1")
    mem.run("n 10")
    mem.run(f"eb {mem.addr['scratch'] + 4} 10")
    mem.run("n 16")
    assert mem.finish()["scratch"][:5] == bytes([0x10, 10, 6, 1, 10])


def test_strings_with_and_without_nul(mem):
    mem.run("eb %scratch 77 77 77 77 77 77 77 77")
    mem.run('ea %scratch "ab"')  # no NUL: the 0x77 after it stays
    mem.run('eza %scratch+4 "cd"')
    mem.run('eu %scratch+10 "hé"')
    mem.run('ezu %scratch+20 "x\\"y"')
    seen = mem.finish()["scratch"]
    assert seen[:8] == b"ab\x77\x77cd\x00\x77"
    assert seen[0x10:0x14] == "hé".encode("utf-16-le")
    assert seen[0x20:0x28] == 'x"y\0'.encode("utf-16-le")


def test_a_write_reports_the_data_change(mem, recorder):
    recorder.take()
    mem.run("eb %scratch 1")
    assert recorder.take() == [debuggee(CDS_DATA, DATA_SPACE_VIRTUAL)]


def test_code_can_be_patched(mem):
    # mov eax, 42 ; ret  at helper: the program then prints helper 42 (read-only text).
    mem.run("eb %helper b8 2a 00 00 00 c3")
    assert mem.finish()["helper"] == b"42"


def test_fill_repeats_the_pattern_and_ignores_extra_values(mem):
    mem.run("f %scratch L7 'A' 'B' 'C'")
    mem.run("f %scratch+10 %scratch+11 1 2 3 4")  # two bytes: 3 and 4 are not used
    mem.run("f %scratch+20 L0n20 ee")
    seen = mem.finish()["scratch"]
    assert seen[:8] == b"ABCABCA\x00"
    assert seen[0x10:0x13] == b"\x01\x02\x00"
    assert seen[0x20:0x34] == b"\xee" * 20 and seen[0x34] == 0


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        ("eb", CommandSyntaxError, "needs an address"),
        ("eb %scratch", CommandSyntaxError, "needs values"),
        ("eb %scratch 1 100", ValueTooLargeError, "does not fit in 1 byte"),
        ("ew %scratch 10000", ValueTooLargeError, "does not fit in 2 byte"),
        ("ed %scratch 1 'hello'", ValueTooLargeError, "does not fit in 4 byte"),
        ("eb %scratch 1 +", CommandSyntaxError, "expected an operand"),
        ("eb %scratch 1 ''", CommandSyntaxError, "characters"),
        ("ea %scratch hello", CommandSyntaxError, "double quotes"),
        ('ea %scratch "abc', CommandSyntaxError, "unterminated"),
        ('ea %scratch "a" "b"', CommandSyntaxError, "after the string"),
        ('ea %scratch ""', CommandError, "empty"),
        ("f %scratch 'A'", CommandSyntaxError, "a length .L count. or an end address"),
        ("f %scratch L10", CommandSyntaxError, "pattern"),
        ("f %scratch L20000000 1", BadRangeError, "256 MiB"),
        ("eb nosuchsymbol_here 1", CommandError, "nosuchsymbol_here"),
        ("eb /p %scratch 1", CommandSyntaxError, "unknown option '/p'"),
    ],
)
def test_bad_input_changes_nothing(mem, recorder, command, error, match):
    recorder.take()
    with pytest.raises(error, match=match):
        mem.run(command)
    assert recorder.take() == []  # no ChangeDebuggeeState: nothing was written
    assert mem.finish()["scratch"] == ZERO64


@pytest.mark.parametrize(
    "command",
    [
        "eb %hole+{edge} 1 2 3",  # the last byte is in the unmapped page
        "eq %hole+{edge} 0",
        'eza %hole+{edge} "ab"',
        "f %hole+{edge} L3 1",
        "f %hole+{page_before} L{page2} 0",
        "eb %hole+{page} 1",  # wholly unmapped
        "eb %noaccess 1",  # PROT_NONE
        "eb 0 1",
    ],
)
def test_a_write_that_reaches_unmapped_memory_writes_nothing(mem, recorder, command):
    page = mem.page
    text = command.format(edge=f"{page - 2:x}", page=f"{page:x}", page_before="0",
                          page2=f"{2 * page:x}")  # fmt: skip
    recorder.take()
    with pytest.raises(InaccessibleMemoryError, match="nothing was changed"):
        mem.run(text)
    assert recorder.take() == []
    seen = mem.finish()
    assert seen["hole_end"] == b"\x5a" * 16  # the mapped bytes before the hole are intact
    assert seen["hole_next"] == b"\xa5" * 16


def test_a_big_fill_is_one_change_and_checked_whole(mem, recorder):
    """A fill over more than one piece (1 MiB) of the hole mapping fails before writing;
    one inside readable memory reports one ChangeDebuggeeState."""
    spaces = mem.client.data_spaces
    recorder.take()
    assert spaces.fill_virtual(mem.addr["scratch"], 64, b"\x01\x02\x03") == 64
    assert recorder.take() == [debuggee(CDS_DATA, DATA_SPACE_VIRTUAL)]
    with pytest.raises(MemoryAccessError) as caught:
        spaces.fill_virtual(mem.addr["hole"], 3 * mem.page, b"\x00")
    assert caught.value.transferred == mem.page
    assert recorder.take() == []
    seen = mem.finish()
    assert seen["scratch"] == (b"\x01\x02\x03" * 22)[:64]
    assert seen["hole_end"] == b"\x5a" * 16


def test_writes_over_a_breakpoint_keep_it(mem):
    """`eb` over an inserted int3 updates the byte the breakpoint saved: db shows the new
    code, the breakpoint still hits, and the program runs the new code."""
    helper = mem.addr["helper"]
    original = mem.binary.file_bytes(mem.binary.sym("helper"), 1)
    mem.run("bp helper")
    assert mem.lines("db helper L1")[0].split()[1] == f"{original[0]:02x}"  # not cc
    mem.run("eb helper b8 2a 00 00 00 c3")
    assert mem.lines("db helper L6")[0].split()[1:7] == ["b8", "2a", "00", "00", "00", "c3"]
    mem.client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(mem.client)
    assert mem.client.registers.get_value("rip") == helper  # the breakpoint hit
    assert mem.finish()["helper"] == b"42"
