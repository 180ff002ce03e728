"""address -> symbol against gdb's `info symbol` on the same file, the oracle
`SymbolTable.symbolize` is built to agree with.

The acceptance set: /bin/ls (a stripped PIE), the running python3, its libpython when it
has one, libc (with its separate debug file when /usr/lib/debug has it, as gdb uses it
too) and the -O2 target; 1,000 addresses each (fewer where the code is smaller), drawn
with a fixed seed from the executable sections: symbol starts, addresses inside
functions, PLT stubs, and anywhere.  Every built variant is also compared on its
allocated data sections.  Names are compared as gdb prints them (`gdb_print_name`: gdb
shows `foo.cold` as `foo[cold]`), offsets exactly, "No symbol matches" against None.
"""

from __future__ import annotations

import os
import random
import sys

import pytest

from pydbg.elf import gdb_print_name, open_image
from tests.elf.conftest import Built
from tests.elf.oracles import (
    GDB,
    NmSymbol,
    gdb_info_symbol,
    nm_symbols,
    readelf_sections,
    sample_addresses,
)

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb is not installed: it is the oracle")

SEED = 20240601
SAMPLES = 1000


def _mapped_library(fragment: str) -> str | None:
    """The path of a shared object this process has mapped whose name contains
    `fragment` (libc, libpython), from /proc/self/maps."""
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and fragment in os.path.basename(parts[5]):
                return os.path.realpath(parts[5])
    return None


def _system_binaries() -> list[tuple[str, str | None]]:
    return [
        ("ls", os.path.realpath("/bin/ls") if os.path.exists("/bin/ls") else None),
        ("python3", os.path.realpath(sys.executable)),
        ("libpython", _mapped_library("libpython")),
        ("libc", _mapped_library("libc.so") or _mapped_library("libc-")),
    ]


def _compare(path: str, addresses: list[int], workdir: str) -> list[str]:
    image = open_image(path)
    symbols = image.symbols
    expected = gdb_info_symbol(path, addresses, workdir)
    problems = []
    for addr in addresses:
        ours = symbols.symbolize(addr)
        shown = None if ours is None else (gdb_print_name(ours[0]), ours[1])
        if shown != expected[addr]:
            problems.append(f"{addr:#x}: pydbg {shown}, gdb {expected[addr]}")
    return problems


def _debug_symbols(path: str) -> list[NmSymbol]:
    debug = open_image(path).debug_image
    return nm_symbols(debug.path) if debug is not None else []


def _repeatable(path: str, addresses: list[int]) -> None:
    """Lookups once the table is built (the cached path) answer as the first ones did.
    (Their speed is measured by bench/symbols_vs_gdb.py: tests assert no wall-clock times.)"""
    symbols = open_image(path).symbols
    first = [symbols.symbolize(addr) for addr in addresses]
    assert [symbols.symbolize(addr) for addr in addresses] == first


@pytest.mark.parametrize("name", ["ls", "python3", "libpython", "libc"])
def test_system_binary_agrees_with_gdb(name: str, tmp_path: os.PathLike[str]) -> None:
    path = dict(_system_binaries())[name]
    if path is None:
        pytest.skip(f"no {name} on this system (or this python has no libpython)")
    addresses = sample_addresses(path, SAMPLES, SEED, extra_symbols=_debug_symbols(path))
    assert len(addresses) >= min(SAMPLES, 200)
    problems = _compare(path, addresses, str(tmp_path))
    assert not problems, f"{len(problems)} of {len(addresses)} differ:\n" + "\n".join(problems[:30])
    _repeatable(path, addresses)


def test_optimized_target_agrees_with_gdb(built: Built, tmp_path: os.PathLike[str]) -> None:
    path = built["pie-O2"]
    addresses = sample_addresses(path, SAMPLES, SEED)
    problems = _compare(path, addresses, str(tmp_path))
    assert not problems, "\n".join(problems[:30])
    _repeatable(path, addresses)


@pytest.mark.parametrize(
    "variant",
    [
        "pie-O0",
        "nopie-O0",
        "pie-O2",
        "nopie-O2",
        "ibt-O2",
        "now-O2",
        "stripped",
        "split",
        "versioned",
        "versioned-stripped",
    ],
)
def test_every_allocated_section_agrees_with_gdb(
    built: Built, variant: str, tmp_path: os.PathLike[str]
) -> None:
    """Code and data alike, including padding, headers and the GOT."""
    path = built[variant]
    rnd = random.Random(SEED)
    sections = [s for s in readelf_sections(path) if s.is_alloc and s.size and "T" not in s.flags]
    addresses: set[int] = set()
    for sec in sections:
        addresses.add(sec.addr)
        addresses.add(sec.addr + sec.size - 1)
        for _ in range(min(sec.size, 40)):
            addresses.add(rnd.randrange(sec.addr, sec.addr + sec.size))
    for sym in nm_symbols(path) + nm_symbols(path, dynamic=True):
        addresses.add(sym.address)
        if sym.size > 1:
            addresses.add(sym.address + sym.size - 1)
    ordered = sorted(addresses)
    problems = _compare(path, ordered, str(tmp_path))
    assert not problems, "\n".join(problems[:30])
