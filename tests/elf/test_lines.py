"""LineTable: address -> line against addr2line, line -> addresses round trips, DWARF 4
and 5 file numbering, lines from a separate debug file, and files without lines."""

from __future__ import annotations

import os
import random

import pytest

from pydbg.elf import SourceLine, open_image
from tests.elf.conftest import SOURCE, Built, source_line
from tests.elf.oracles import addr2line


@pytest.mark.parametrize("variant", ["pie-O0", "nopie-O0", "pie-O2", "dwarf4-O2", "split"])
def test_address_to_line_matches_addr2line(built: Built, variant: str) -> None:
    path = built[variant]
    image = open_image(path)
    text = image.section(".text")
    assert text is not None
    rnd = random.Random(7)
    addresses = sorted(rnd.sample(range(text.addr, text.end), min(500, text.size)))
    # addr2line finds a split file's lines through its debuglink too.
    expected = addr2line(path, addresses)
    lines = image.lines
    problems = []
    for addr, want in zip(addresses, expected, strict=True):
        got = lines.line_for_address(addr)
        got = None if got is None else (os.path.normpath(got[0]), got[1])
        if got != want:
            problems.append(f"{addr:#x}: pydbg {got}, addr2line {want}")
    assert not problems, "\n".join(problems[:20])
    assert lines.error is None and lines.warnings == []


@pytest.mark.parametrize("variant", ["pie-O0", "pie-O2", "dwarf4-O2", "split"])
def test_line_to_addresses_round_trip(built: Built, variant: str) -> None:
    lines = open_image(built[variant]).lines
    symbols = open_image(built[variant]).symbols
    number = source_line("LINE_LOOP")
    by_base = lines.addresses_for_line("symbols.c", number)
    assert by_base, f"no address for symbols.c:{number}"
    assert lines.addresses_for_line(SOURCE, number) == by_base
    assert lines.addresses_for_line("elf/targets/symbols.c", number) == by_base
    assert lines.addresses_for_line("other.c", number) == []
    for addr in by_base:
        hit = lines.find_address(addr)
        assert isinstance(hit, SourceLine)
        assert (hit.path, hit.line, hit.address) == (SOURCE, number, addr)
        # ...and the address is inside the function the loop belongs to.
        assert symbols.symbolize(addr)[0].startswith("compute")  # type: ignore[index]


def test_dwarf4_and_dwarf5_number_files_differently_but_agree(built: Built) -> None:
    """DWARF 5 numbers files from 0, DWARF 4 from 1: both must name symbols.c."""
    number = source_line("LINE_HELPER")
    for variant in ("pie-O2", "dwarf4-O2"):
        lines = open_image(built[variant]).lines
        addresses = lines.addresses_for_line("symbols.c", number)
        assert addresses, variant
        assert all(lines.line_for_address(a) == (SOURCE, number) for a in addresses)
        assert SOURCE in lines.files()


def test_lines_come_from_the_debug_file(built: Built) -> None:
    lines = open_image(built["split"]).lines
    assert lines.available
    assert lines.source is not None and lines.source.path == os.path.realpath(built["split.debug"])


def test_no_line_info_is_not_an_error(built: Built) -> None:
    lines = open_image(built["stripped"]).lines
    assert not lines.available
    assert lines.find_address(0x1000) is None
    assert lines.addresses_for_line("symbols.c", 10) == []
    assert lines.files() == []
    assert lines.error is None


def test_address_outside_any_sequence(built: Built) -> None:
    image = open_image(built["pie-O0"])
    lines = image.lines
    assert lines.find_address(0) is None
    assert lines.find_address(image.section(".rodata").addr) is None  # type: ignore[union-attr]
