"""Inlined calls (pydbg.elf.inlines) against binutils' `addr2line -a -i -f -C`, which prints,
for an address, the innermost function first and then each function it was inlined into,
with the line of each call.  Addresses are drawn with a fixed seed from inside the
functions of each file: the -O2 inline target, the -O2 C++ target (names demangled, with
parameter lists, as addr2line -C prints them), and libc with its separate debug file when
/usr/lib/debug has it (a few hundred compilation units, DWARF 5, range lists)."""

from __future__ import annotations

import random
import shutil

import pytest

from pydbg.elf import open_image
from pydbg.elf.inlines import inline_index
from pydbg.elf.symtab import SymbolKind
from tests.elf.oracles import run
from tests.support import Targets

pytestmark = pytest.mark.skipif(shutil.which("addr2line") is None, reason="addr2line is the oracle")

SEED = 20261206


def addr2line_chains(path: str, addresses: list[int]) -> dict[int, tuple[list[str], list[int]]]:
    """address -> (the functions it was inlined into, innermost first, without the outermost
    one; the line of each inlined call)."""
    out = run(["addr2line", "-a", "-i", "-f", "-C", "-e", path, *map(hex, addresses)])
    rows: dict[int, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if line.startswith("0x"):
            current = rows.setdefault(int(line, 16), [])
        else:
            current.append(line)
    chains = {}
    for address, lines in rows.items():
        functions, places = lines[0::2], lines[1::2]
        calls = []
        for place in places[1:]:
            number = place.rpartition(":")[2].split()[0]
            calls.append(int(number) if number.isdigit() else 0)
        chains[address] = (functions[:-1], calls)
    return chains


def sample(path: str, count: int) -> list[int]:
    functions = [s for s in open_image(path).symbols if s.kind == SymbolKind.FUNCTION and s.size]
    rnd = random.Random(SEED)
    picked = rnd.sample(functions, min(count, len(functions)))
    return sorted({s.address + rnd.randrange(s.size) for s in picked})


def compare(path: str, count: int) -> int:
    """Compare every sampled address; return how many had inlined calls."""
    addresses = sample(path, count)
    expected = addr2line_chains(path, addresses)
    index = inline_index(open_image(path))
    inlined = 0
    for address in addresses:
        calls = index.calls_at(address)
        inlined += bool(calls)
        ours = ([c.function for c in calls], [c.call_line for c in calls])
        assert ours == expected[address], hex(address)
    assert index.error is None
    return inlined


def test_inline_target_chains_match_addr2line(targets: Targets) -> None:
    binary = targets.get("inlines", "pie-O2")
    assert binary is not None
    assert compare(binary.path, 50) >= 1


def test_cpp_chains_match_addr2line(targets: Targets) -> None:
    binary = targets.get("cpp_names", "pie-O2")
    assert binary is not None
    compare(binary.path, 50)


def test_libc_chains_match_addr2line() -> None:
    path = run(["gcc", "-print-file-name=libc.so.6"]).strip()
    image = open_image(path)
    if not (image.has_debug_info or (image.debug_image and image.debug_image.has_debug_info)):
        pytest.skip("libc has no DWARF here (install libc6-dbg)")
    assert compare(path, 200) >= 10
