"""db dw dd dc dq dp, dps dqs dds, da du on the memcmds target (PIE and non-PIE).

The expected rows are built here from what the target printed of its own memory
(tests/targets/memcmds.c) and from its source's constants, in cdb's layout; a gdb run of
the same program to the same checkpoint checks the bytes a third way.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.memory_args import BadRangeError
from tests.api.helpers import hex64

TEXT = b"Hello, memory commands!"
WIDE = "Wide \u00e9 string"
LONGTEXT = "".join(chr(ord("a") + i % 26) for i in range(300))


def db_row(address: int, data: bytes) -> str:
    """cdb's db row, written out independently of pydbg's formatter."""
    cells = [f"{b:02x}" for b in data] + ["  "] * (16 - len(data))
    values = " ".join(cells[:8]) + ("-" if len(data) > 8 else " ") + " ".join(cells[8:])
    chars = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
    return f"{hex64(address)}  {values}  {chars}"


def words(data: bytes, size: int) -> list[int]:
    return [int.from_bytes(data[i : i + size], "little") for i in range(0, len(data), size)]


def test_db_default_is_eight_rows_of_sixteen_bytes(mem):
    start = mem.addr["pattern"]
    expected = [db_row(start + 16 * i, mem.dump["pattern"][16 * i : 16 * i + 16]) for i in range(8)]
    assert mem.lines("db %pattern") == expected


def test_db_partial_rows_keep_the_character_column_aligned(mem):
    start = mem.addr["text"]
    assert mem.lines("db %text L5") == [db_row(start, TEXT[:5])]
    assert mem.lines("db %text L9") == [db_row(start, TEXT[:9])]
    two_rows = [db_row(start, TEXT[:16]), db_row(start + 16, TEXT[16:20])]
    assert mem.lines("db %text L0n20") == two_rows
    # Rows start at the address given, not rounded down.
    pattern = mem.addr["pattern"]
    assert mem.lines("db %pattern+3 L4") == [db_row(pattern + 3, bytes([3, 4, 5, 6]))]


@pytest.mark.parametrize(("name", "size", "per_row"), [("dw", 2, 8), ("dd", 4, 4)])
def test_dw_dd_rows(mem, name, size, per_row):
    data = mem.dump["pattern"]
    values = words(data, size)
    rows = mem.lines(f"{name} %pattern")
    assert len(rows) == 8  # 0x80 bytes by default
    for index, row in enumerate(rows):
        chunk = values[index * per_row : (index + 1) * per_row]
        address = mem.addr["pattern"] + 16 * index
        assert row == f"{hex64(address)}  " + " ".join(f"{v:0{2 * size}x}" for v in chunk)
    # L counts objects: a full row and one more value.
    assert mem.lines(f"{name} %pattern L{per_row + 1:x}")[-1] == (
        f"{hex64(mem.addr['pattern'] + 16)}  {values[per_row]:0{2 * size}x}"
    )


@pytest.mark.parametrize("name", ["dq", "dp"])
def test_dq_and_dp_show_qwords_split_by_a_backtick(mem, name):
    rows = mem.lines(f"{name} %values L4")
    qwords = words(mem.dump["values"], 8)
    assert qwords == [0x1122334455667788, 0xFEDCBA9876543210, 0, 0x8000000000000001]
    base = mem.addr["values"]
    assert rows == [
        f"{hex64(base)}  {hex64(qwords[0])} {hex64(qwords[1])}",
        f"{hex64(base + 16)}  {hex64(qwords[2])} {hex64(qwords[3])}",
    ]
    assert len(mem.lines(f"{name} %values")) == 8  # 16 qwords by default


def test_dc_shows_dwords_and_characters(mem):
    row = mem.lines("dc %text L4")[0]
    values = " ".join(f"{v:08x}" for v in words(TEXT[:16], 4))
    assert row == f"{hex64(mem.addr['text'])}  {values}  {TEXT[:16].decode()}"


def test_ranges_with_an_end_address_l_question_and_l_minus(mem):
    start = mem.addr["pattern"]
    data = mem.dump["pattern"]
    # ADDR ADDR2 includes ADDR2.
    assert mem.lines("db %pattern %pattern+3") == [db_row(start, data[:4])]
    assert mem.lines("dd %pattern %pattern+7") == [f"{hex64(start)}  03020100 07060504"]
    assert mem.lines("db %pattern L?4") == [db_row(start, data[:4])]
    # L-count ends just before the address.
    assert mem.lines("db %pattern+20 L-4") == [db_row(start + 0x1C, data[0x1C:0x20])]


def test_a_display_without_address_goes_on_where_the_last_stopped(mem):
    start = mem.addr["pattern"]
    data = mem.dump["pattern"]
    mem.run("db %pattern L10")
    assert mem.lines("db")[0] == db_row(start + 0x10, data[0x10:0x20])
    # The place is shared by every d* command: dd goes on after db's 0x80 bytes.
    assert mem.lines("dd L1") == [f"{hex64(start + 0x90)}  {words(data[0x90:0x94], 4)[0]:08x}"]


def test_the_first_display_without_address_starts_at_the_pc(mem):
    rows = mem.lines("db L1")
    assert rows[0].startswith(hex64(mem.addr["checkpoint"]) + "  ")


def test_unreadable_bytes_are_question_marks(mem):
    edge = mem.addr["hole"] + mem.page - 8
    readable = mem.dump["hole_end"][8:]
    assert readable == b"\x5a" * 8
    rows = mem.lines(f"db %hole+{mem.page - 8:x} L0n18")
    assert rows == [
        f"{hex64(edge)}  5a 5a 5a 5a 5a 5a 5a 5a-?? ?? ?? ?? ?? ?? ?? ??  ZZZZZZZZ????????",
        f"{hex64(edge + 16)}  ?? ??" + " " * 42 + "  ??",
    ]
    assert mem.lines("dd 0 L2") == [f"{hex64(0)}  ???????? ????????"]
    assert mem.lines("dq %noaccess L1") == [f"{hex64(mem.addr['noaccess'])}  ????????`????????"]
    assert mem.lines("dw 0 L1") == [f"{hex64(0)}  ????"]


def test_da_and_du_stop_at_the_nul(mem):
    assert mem.lines("da %text") == [f'{hex64(mem.addr["text"])}  "{TEXT.decode()}"']
    assert mem.lines("du %wide") == [f'{hex64(mem.addr["wide"])}  "{WIDE}"']
    # A count limits the characters.
    assert mem.lines("da %text L5") == [f'{hex64(mem.addr["text"])}  "Hello"']
    assert mem.lines("du %wide L4") == [f'{hex64(mem.addr["wide"])}  "Wide"']


def test_da_wraps_at_48_characters_and_stops_at_0x100_by_default(mem):
    base = mem.addr["longtext"]
    rows = mem.lines("da %longtext")
    expected = [
        f'{hex64(base + i)}  "{LONGTEXT[i : min(i + 48, 0x100)]}"' for i in range(0, 0x100, 48)
    ]
    assert rows == expected
    assert len(mem.lines("da %longtext L0n300")) == 7  # 300 characters, 48 a line
    # da goes on after what it showed.
    mem.run("da %longtext")
    assert mem.lines("da L3") == [f'{hex64(base + 0x100)}  "{LONGTEXT[0x100:0x103]}"']


def test_da_of_unreadable_memory(mem):
    assert mem.lines("da %noaccess L4") == [f'{hex64(mem.addr["noaccess"])}  "????"']


def test_dps_names_what_each_pointer_points_into(mem):
    base = mem.addr["pointers"]
    module = mem.module
    rows = mem.lines("dps %pointers L4")
    assert rows == [
        f"{hex64(base)}  {hex64(mem.addr['checkpoint'])} {module}!checkpoint",
        f"{hex64(base + 8)}  {hex64(mem.addr['helper'] + 5)} {module}!helper+0x5",
        f"{hex64(base + 16)}  {hex64(mem.addr['pattern'] + 16)} {module}!pattern+0x10",
        f"{hex64(base + 24)}  {hex64(0)}",
    ]
    assert mem.lines("dqs %pointers L1") == rows[:1]
    assert len(mem.lines("dps %pointers")) == 16  # 0x80 bytes of pointers by default


def first_call_return(binary, caller: str, callee: str) -> int:
    """Link-time return address of the first `call callee` in `caller`, from the file."""
    start, size = binary.sym(caller), binary.sym_size(caller)
    disassembler = Cs(CS_ARCH_X86, CS_MODE_64)
    for insn in disassembler.disasm(binary.file_bytes(start, size), start):
        if insn.mnemonic == "call" and insn.op_str == hex(binary.sym(callee)):
            return insn.address + insn.size
    raise AssertionError(f"no call to {callee} in {caller}")


def test_dps_at_the_stack_shows_the_return_address_into_main(mem):
    # At checkpoint(1)'s first instruction the stack top is the return address of main's
    # first call to it (capstone on the file's bytes, plus the load bias).
    main = mem.binary.sym("main")
    returns_to = first_call_return(mem.binary, "main", "checkpoint")
    address = returns_to + mem.binary.bias(mem.pid)
    rsp = mem.client.registers.get_value("rsp")
    assert mem.lines("dps @rsp L1") == [
        f"{hex64(rsp)}  {hex64(address)} {mem.module}!main+{returns_to - main:#x}"
    ]


def test_dds_shows_dwords_with_symbols(mem):
    rows = mem.lines("dds %values L2")
    assert rows == [
        f"{hex64(mem.addr['values'])}  55667788",
        f"{hex64(mem.addr['values'] + 4)}  11223344",
    ]


def test_addresses_are_expressions(mem):
    data = mem.dump["pattern"]
    # poi(pointers+10) is &pattern[16]; symbols name objects.
    assert mem.lines("db poi(%pointers+10) L4") == [db_row(mem.addr["pattern"] + 16, data[16:20])]
    assert mem.lines(f"da {mem.module}!text L5") == [f'{hex64(mem.addr["text"])}  "Hello"']
    assert mem.lines("db text L2") == [db_row(mem.addr["text"], TEXT[:2])]


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        ("db %pattern L20000000", BadRangeError, "256 MiB"),
        ("dd %pattern L4000001", BadRangeError, "256 MiB"),
        ("db %pattern L0", BadRangeError, "must be positive"),
        ("db 10 L-20", BadRangeError, "below address 0"),
        ("db %pattern+10 %pattern", BadRangeError, "below the start"),
        ("db %pattern L4 junk", CommandSyntaxError, "unexpected"),
        ("db ffffffffffffff00 L200", BadRangeError, "past the address space"),
        ("db nosuchsymbol_here", CommandError, "nosuchsymbol_here"),
        ("da %text L", CommandSyntaxError, "count"),
        ("db /c4 %pattern", CommandSyntaxError, "unknown option '/c4'"),
    ],
)
def test_bad_ranges_are_refused(mem, command, error, match):
    with pytest.raises(error, match=match):
        mem.run(command)
    assert mem.output.take() == ""


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_bytes_and_addresses_agree_with_gdb(targets, client, output, tmp_path):
    """gdb runs the non-PIE build to the same checkpoint (its globals sit at the same
    addresses in every run) and prints them with x/; pydbg's rows must show the same."""
    from tests.commands.conftest import MemTarget

    binary = targets.get("memcmds", "nopie")
    gdb = subprocess.run(
        ["gdb", "-batch", "-nx", "-ex", "break checkpoint", "-ex", f"run {tmp_path / 'gdb.out'}",
         "-ex", "x/32xb &pattern", "-ex", "x/4xg &values", "-ex", "x/s &text", binary.path],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    gdb_bytes: dict[int, int] = {}
    for line in gdb.stdout.splitlines():
        match = re.match(r"0x([0-9a-f]+) <pattern(?:\+(\d+))?>:\s+(.*)", line)
        if match:
            address = int(match[1], 16)
            for i, byte in enumerate(match[3].split()):
                gdb_bytes[address + i] = int(byte, 16)
    qwords = re.findall(r"0x([0-9a-f]{16})", gdb.stdout.split("&values")[-1])
    assert len(gdb_bytes) == 32, gdb.stdout
    mem = MemTarget(client, output, binary, str(tmp_path / "memcmds.out"))
    start = min(gdb_bytes)
    assert start == mem.addr["pattern"]
    data = bytes(gdb_bytes[start + i] for i in range(32))
    assert mem.lines("db pattern L20") == [db_row(start, data[:16]), db_row(start + 16, data[16:])]
    values_row = mem.lines("dq values L2")[0]
    assert values_row.split("  ")[1] == " ".join(hex64(int(q, 16)) for q in qwords[:2])


def test_a_long_display_is_shown_piece_by_piece_without_gaps(mem):
    rows = mem.lines("dd %pattern L0n3000")  # 12000 bytes: three pieces of 4 KiB
    addresses = [int(row.split()[0].replace("`", ""), 16) for row in rows]
    assert addresses == [mem.addr["pattern"] + 16 * i for i in range(750)]
    assert rows[0] == f"{hex64(mem.addr['pattern'])}  03020100 07060504 0b0a0908 0f0e0d0c"
