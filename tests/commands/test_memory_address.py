"""!address and the data_spaces facet's address map (regions, query_virtual) against
/proc/PID/maps as the test reads it itself (tests.support.maps)."""

from __future__ import annotations

import os

import pytest

from pydbg.commands.errors import CommandSyntaxError, ExpressionError
from pydbg.data_spaces import MemoryState
from tests.api.helpers import hex64
from tests.support import maps

USER_END = 1 << 47
PROTECT = {"---": "PAGE_NOACCESS", "r--": "PAGE_READONLY", "rw-": "PAGE_READWRITE",
           "r-x": "PAGE_EXECUTE_READ", "rwx": "PAGE_EXECUTE_READWRITE",
           "--x": "PAGE_EXECUTE"}  # fmt: skip


def number(text: str) -> int:
    return int(text.replace("`", ""), 16)


def test_the_map_lists_every_mapping_and_the_gaps(mem):
    rows = mem.lines("!address")[2:]  # after the header and its rule
    truth = maps(mem.pid)
    listed = []
    for row in rows:
        fields = row.split()
        assert fields[0] == "+"
        base, end, size = (number(f) for f in fields[1:4])
        assert end - base == size
        listed.append((base, end, fields[4:]))
    # Consecutive and without overlap, from 0 up to the end of user space (and [vsyscall]).
    assert listed[0][0] == 0
    for (_, end, _), (base, _, _) in zip(listed, listed[1:], strict=False):
        assert base == end or base >= USER_END
    mapped = [(base, end, rest) for base, end, rest in listed if "MEM_FREE" not in rest]
    free = [(base, end) for base, end, rest in listed if "MEM_FREE" in rest]
    assert [(b, e) for b, e, _ in mapped] == [(start, end) for start, end, *_ in truth]
    for (_, _, rest), (_, _, perms, _, path) in zip(mapped, truth, strict=True):
        assert PROTECT[perms[:3]] in rest
        assert rest[-2:] == [perms, path] if path else rest[-1] == perms
        if path == "[heap]":
            assert "Heap" in rest
        if path == "[stack]":
            assert "Stack" in rest
        if path == os.path.realpath(mem.binary.path):
            assert rest[:3] == ["MEM_IMAGE", "MEM_COMMIT", PROTECT[perms[:3]]]
            assert rest[3] == "Image"
    hole = mem.addr["hole"]
    assert (hole + mem.page, hole + 2 * mem.page) in free


def field(lines: list[str], name: str) -> str:
    return next(line[24:] for line in lines if line.startswith(name + ":"))


def test_an_address_in_the_image(mem):
    text = mem.addr["text"]
    start, end, perms, _, path = next(row for row in maps(mem.pid) if row[0] <= text < row[1])
    lines = mem.lines("!address %text")
    assert field(lines, "Usage") == "Image"
    assert field(lines, "Base Address") == hex64(start)
    assert field(lines, "End Address") == hex64(end)
    assert field(lines, "Region Size").startswith(hex64(end - start))
    assert field(lines, "State").split() == ["00001000", "MEM_COMMIT"]
    assert field(lines, "Type").split() == ["01000000", "MEM_IMAGE"]
    assert field(lines, "Protect").split()[1] == PROTECT[perms[:3]]
    assert field(lines, "Mapping") == f"{perms} {path}"
    assert path == os.path.realpath(mem.binary.path)


def test_an_unmapped_address_says_so(mem):
    hole = mem.addr["hole"] + mem.page
    lines = mem.lines(f"!address %hole+{mem.page + 0x10:x}")
    assert field(lines, "Usage") == "Free"
    assert field(lines, "Base Address") == hex64(hole)
    assert field(lines, "End Address") == hex64(hole + mem.page)
    assert field(lines, "State").split() == ["00010000", "MEM_FREE"]
    assert field(lines, "Mapping") == f"none: {hex64(hole + 0x10)} is not mapped"
    assert field(mem.lines("!address 0"), "Usage") == "Free"
    assert field(mem.lines("!address ffff800000000000"), "Usage") == "Free"


def test_the_stack_and_a_prot_none_page(mem):
    lines = mem.lines("!address @rsp")
    assert field(lines, "Usage") == "Stack"
    assert field(lines, "Mapping") == "rw-p [stack]"
    lines = mem.lines("!address %noaccess")
    assert field(lines, "Base Address") == hex64(mem.addr["noaccess"])
    assert field(lines, "Protect").split() == ["00000001", "PAGE_NOACCESS"]
    assert field(lines, "Mapping") == "---p"


def test_query_virtual_and_regions(mem):
    spaces = mem.client.data_spaces
    truth = maps(mem.pid)
    regions = spaces.regions()
    assert [(r.base, r.end, r.perms, r.path) for r in regions] == [
        (start, end, perms, path) for start, end, perms, _, path in truth
    ]
    hole = mem.addr["hole"] + mem.page
    gap = spaces.query_virtual(hole + 5)
    assert (gap.base, gap.size, gap.state, gap.accessible) == (hole, mem.page, MemoryState.FREE,
                                                               False)  # fmt: skip
    assert not spaces.query_virtual(mem.addr["noaccess"]).accessible
    assert spaces.query_virtual(mem.addr["scratch"]).accessible
    with_free = spaces.regions(include_free=True)
    assert sum(r.size for r in with_free if r.base < USER_END) == USER_END


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        ("!address -summary", CommandSyntaxError, "unknown option '-summary'"),
        ("!address -f:Heap", CommandSyntaxError, "unknown option"),
        ("!address 1 2", CommandSyntaxError, "unexpected"),
        ("!address nosuchsymbol_here", ExpressionError, "nosuchsymbol_here"),
    ],
)
def test_bad_input(mem, command, error, match):
    with pytest.raises(error, match=match):
        mem.run(command)
    assert mem.output.take() == ""
