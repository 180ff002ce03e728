"""s (search) and c (compare) on the memcmds target, and the facet methods under them
(data_spaces.search_virtual); the expected hits come from where the program put its
needles (tests/targets/memcmds.c)."""

from __future__ import annotations

import pytest

from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.memory_args import BadRangeError, InaccessibleMemoryError, ValueTooLargeError
from tests.api.helpers import hex64


def db_row(address: int, data: bytes) -> str:
    cells = [f"{b:02x}" for b in data]
    chars = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
    return f"{hex64(address)}  {' '.join(cells[:8])}-{' '.join(cells[8:])}  {chars}"


def needles(mem) -> bytes:
    data = bytearray(128)
    data[5:11] = data[40:46] = b"needle"
    data[64:69] = b"QQQQQ"
    data[80:82] = data[91:93] = b"\x34\x12"
    return bytes(data)


def hits(rows: list[str]) -> list[int]:
    return [int(row.split()[0].replace("`", ""), 16) for row in rows]


def test_search_ascii_shows_each_hit_as_a_db_row(mem):
    base = mem.addr["needles"]
    data = needles(mem)
    rows = mem.lines('s -a %needles L80 "needle"')
    assert rows == [db_row(base + 5, data[5:21]), db_row(base + 40, data[40:56])]


def test_search_bytes_finds_overlapping_matches_inside_the_range_only(mem):
    base = mem.addr["needles"]
    assert hits(mem.lines("s %needles L80 51 51 51")) == [base + 64, base + 65, base + 66]
    assert hits(mem.lines("s -b %needles L80 'Q' 'Q' 'Q'")) == [base + 64, base + 65, base + 66]
    # The range ends inside the last QQQ: only matches wholly inside it count.
    assert hits(mem.lines("s -b %needles %needles+0n67 51 51 51")) == [base + 64, base + 65]
    assert mem.lines("s -b %needles L80 51 51 51 51 51 51") == []


def test_word_dword_qword_searches_are_aligned(mem):
    base = mem.addr["needles"]
    # 0x1234 sits at needles+80 (even) and +91 (odd): only the aligned one is a hit.
    assert hits(mem.lines("s -w %needles L80 1234")) == [base + 80]
    values = mem.addr["values"]
    row = mem.lines("s -d %values L20 55667788")
    assert hits(row) == [values]
    assert row[0].split("  ")[1] == "55667788 11223344 76543210 fedcba98"
    assert hits(mem.lines("s -q %values L20 fedcba9876543210")) == [values + 8]
    assert hits(mem.lines("s -d %values L20 'DUfw'")) == []  # big-endian chars: 0x44556677


def test_search_unicode(mem):
    wide = mem.addr["wide"]
    rows = mem.lines('s -u %wide L40 "ing"')
    assert hits(rows) == [wide + 2 * len("Wide \u00e9 str")]
    assert rows[0].split("  ")[1].startswith("0069 006e 0067 0000")


def test_search_skips_memory_out_of_reach(mem):
    page = mem.page
    mem.run(f"eb %hole+{2 * page + 0x10:x} de ad be ef")
    assert hits(mem.lines(f"s %hole L{3 * page:x} de ad be ef")) == [
        mem.addr["hole"] + 2 * page + 0x10
    ]
    assert mem.client.data_spaces.search_virtual(mem.addr["noaccess"], page, b"\0") is None


def test_search_virtual_facet(mem):
    spaces = mem.client.data_spaces
    base = mem.addr["needles"]
    assert spaces.search_virtual(base, 128, b"needle") == base + 5
    assert spaces.search_virtual(base + 6, 122, b"needle") == base + 40
    assert spaces.search_virtual(base, 128, b"\x34\x12", 2) == base + 80
    assert spaces.search_virtual(base + 6, 39, b"needle") is None  # ends inside the 2nd
    assert list(spaces.search_virtual_all(base, 128, b"QQQ")) == [base + 64, base + 65, base + 66]
    assert list(spaces.search_virtual_all(base, 128, b"Q" * 6)) == []
    with pytest.raises(ValueError):
        spaces.search_virtual(base, 128, b"")
    with pytest.raises(ValueError):
        spaces.search_virtual(base, 128, b"Q", 0)


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        ("s -x %needles L80 1", CommandSyntaxError, "unknown option '-x'"),
        ("s -[1]b %needles L80 1", CommandSyntaxError, "unknown option"),
        ("s -b %needles L80", CommandSyntaxError, "needs a pattern"),
        ("s -b %needles 'n'", CommandSyntaxError, "length"),
        ("s -w %needles L80 10000", ValueTooLargeError, "does not fit in 2 byte"),
        ('s -a %needles L80 ""', CommandError, "empty"),
        ("s -a %needles L80 needle", CommandSyntaxError, "double quotes"),
        ("s -b %needles L20000000 1", BadRangeError, "256 MiB"),
    ],
)
def test_bad_searches(mem, command, error, match):
    with pytest.raises(error, match=match):
        mem.run(command)
    assert mem.output.take() == ""


def test_compare_shows_each_differing_byte(mem):
    a, b = mem.addr["cmp_a"], mem.addr["cmp_b"]
    # cmp_a[i] = cmp_b[i] = 5 i, except cmp_a[3] = 0xff and cmp_b[40] = 0x11.
    assert mem.lines("c %cmp_a L40 %cmp_b") == [
        f"{hex64(a + 3)}  ff - {hex64(b + 3)}  0f",
        f"{hex64(a + 40)}  c8 - {hex64(b + 40)}  11",
    ]
    assert mem.lines("c %cmp_a %cmp_a+3 %cmp_b") == [f"{hex64(a + 3)}  ff - {hex64(b + 3)}  0f"]
    assert mem.lines("c %cmp_a L3 %cmp_b") == []


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        ("c %cmp_a L40", CommandSyntaxError, "second address"),
        ("c %cmp_a %cmp_b", CommandSyntaxError, "second address"),
        ("c %cmp_a L40 %cmp_b 5", CommandSyntaxError, "unexpected"),
        ("c %cmp_a L40 0", InaccessibleMemoryError, "not all accessible"),
        ("c %hole+{edge} L10 %cmp_b", InaccessibleMemoryError, "only the first 0x8"),
    ],
)
def test_bad_compares(mem, command, error, match):
    with pytest.raises(error, match=match):
        mem.run(command.format(edge=f"{mem.page - 8:x}"))
    assert mem.output.take() == ""


def test_search_any_strings(mem):
    text, wide = mem.addr["text"], mem.addr["wide"]
    assert mem.lines("s -sa %text L18") == [f'{hex64(text)}  "Hello, memory commands!"']
    # "Wide \u00e9 string": the é is not printable ASCII, so it splits the string.
    assert mem.lines("s -su %wide L20") == [
        f'{hex64(wide)}  "Wide "',
        f'{hex64(wide + 12)}  " string"',
    ]
    page = mem.page
    mem.run(f'eza %hole+{2 * page + 0x20:x} "far"')  # after the unmapped page
    mem.run(f"eb %hole+{page - 1:x} 0")  # ends the run of Z before the hole
    hole = mem.addr["hole"]
    # Strings do not run across the unmapped page; 0xa5 before "far" is not printable.
    assert mem.lines(f"s -sa %hole+{page - 4:x} L{page + 0x30:x}") == [
        f'{hex64(hole + page - 4)}  "ZZZ"',
        f'{hex64(hole + 2 * page + 0x20)}  "far"',
    ]
    with pytest.raises(CommandSyntaxError, match="take no pattern"):
        mem.run("s -sa %text L18 41")
