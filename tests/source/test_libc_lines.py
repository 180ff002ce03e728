"""Lines of the system's libc and loader from their separate debug files (libc6-dbg),
both ways: the line against addr2line, the path against gdb's `info line` (addr2line
doubles it: DWARF 5 directory 0 is the compilation directory, not to be joined with it
a second time), and file:line back to the addresses gdb says the line starts at."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from pydbg.elf import clear_cache, open_image

GDB = shutil.which("gdb")
LIBS = {
    "/lib/x86_64-linux-gnu/libc.so.6": ["malloc", "free", "qsort", "strtol"],
    "/lib64/ld-linux-x86-64.so.2": ["_dl_start", "_dl_map_object", "_dl_relocate_object"],
}
_INFO = re.compile(r'Line (\d+) of "([^"]+)"\s+starts at address (0x[0-9a-f]+)')


def _gdb_info_lines(path: str, queries: list[str]) -> list[list[tuple[int, str, int]]]:
    """gdb's answers to `info line QUERY`, one list per query (a line can have several
    places)."""
    args = [GDB or "gdb", "-batch", "-nx", "-iex", "set debuginfod enabled off"]
    for query in queries:
        args += ["-ex", "echo @@\\n", "-ex", f"info line {query}"]
    out = subprocess.run(args + [path], capture_output=True, text=True, timeout=120).stdout
    answers: list[list[tuple[int, str, int]]] = []
    for text in out.splitlines():
        if text == "@@":
            answers.append([])
        elif answers:
            found = _INFO.search(text)
            if found is not None:
                answers[-1].append((int(found[1]), found[2], int(found[3], 16)))
    return answers


def _addr2line_line(path: str, address: int) -> int:
    debug = _debug_file(path)
    assert debug is not None
    out = subprocess.run(
        ["addr2line", "-e", debug, f"{address:#x}"], capture_output=True, text=True, timeout=60
    ).stdout
    return int(out.strip().rpartition(":")[2].split()[0])


def _debug_file(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    return open_image(path).find_debug_file()


@pytest.mark.skipif(GDB is None, reason="gdb is not installed")
@pytest.mark.parametrize("path", sorted(LIBS))
def test_system_library_lines_match_gdb(path: str) -> None:
    if _debug_file(path) is None:
        pytest.skip(f"no debug file for {path} (libc6-dbg)")
    clear_cache()
    image = open_image(path)
    addresses = []
    for name in LIBS[path]:
        symbol = image.symbols.lookup(name)
        assert symbol is not None, name
        addresses.append(symbol.address + min(12, max(symbol.size - 1, 0)))
    expected = _gdb_info_lines(path, [f"*{a:#x}" for a in addresses])
    assert len(expected) == len(addresses)
    problems = []
    queries = []
    for addr, want in zip(addresses, expected, strict=True):
        got = image.lines.find_address(addr)
        assert len(want) == 1 and got is not None, (hex(addr), want, got)
        line, gdb_path, _start = want[0]
        # gdb names a file relative to the unit's directory ("../stdlib/strtol.c" of
        # "./wcsmbs"); pydbg joins the two ("stdlib/strtol.c"): compare the tails.
        tail = os.path.normpath(gdb_path)
        while tail.startswith("../"):
            tail = tail[3:]
        # Several rows at one address: pydbg takes the last, as addr2line does; gdb may
        # show another (inlined code), so the line number's oracle is addr2line.
        line = _addr2line_line(path, addr)
        if got.line != line or not ("/" + got.path).endswith("/" + tail):
            problems.append(f"{addr:#x}: pydbg {got.path}:{got.line}, gdb {gdb_path}:{line}")
        queries.append((got.path, got.line))
    assert not problems, "\n".join(problems)
    # ...and back: file:line -> the address gdb says the line starts at.
    checked = 0
    back = _gdb_info_lines(path, [f"{os.path.basename(p)}:{n}" for p, n in queries])
    for (file, number), want in zip(queries, back, strict=True):
        # A line whose rows at these addresses are not statements "contains no code".
        starts = {start for _line, _path, start in want}
        checked += bool(starts)
        assert starts <= set(image.lines.addresses_for_line(file, number)), (file, number)
    assert checked >= 1
    assert not any("elf/elf/" in f or "malloc/malloc/" in f for f in image.lines.files())


@pytest.mark.parametrize("flags", [["-O2", "-gdwarf-4"], ["-O2", "-gdwarf-5"], ["-O0"]])
def test_without_aranges_units_are_found_by_their_ranges(tmp_path, flags: list[str]) -> None:
    """No .debug_aranges (clang's default): a lookup decodes the unit whose low_pc /
    high_pc or DW_AT_ranges (.debug_ranges in DWARF 4, .debug_rnglists in 5; gcc -O2
    puts main in .text.startup, so its unit has a range list) cover the address."""
    from tests.source.support import SOURCE

    built = str(tmp_path / "srclines")
    bare = str(tmp_path / "srclines-bare")
    subprocess.run(["gcc", "-g", *flags, SOURCE, "-o", built], check=True)
    subprocess.run(["objcopy", "--remove-section", ".debug_aranges", built, bare], check=True)
    clear_cache()
    image = open_image(bare)
    assert image.section(".debug_aranges") is None
    names = ["main", "fact", "twice"]
    addresses = []
    for name in names:
        symbol = image.symbols.lookup(name) or image.symbols.lookup(f"{name}.constprop.0")
        assert symbol is not None, name
        addresses.append(symbol.address + symbol.size // 2)
    lines = image.lines
    got = [lines.find_address(a) for a in addresses]
    assert lines.decoded_units == 1  # srclines.c's, found without decoding the others
    out = subprocess.run(
        ["addr2line", "-e", bare, *[f"{a:#x}" for a in addresses]],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    for hit, want in zip(got, out, strict=True):
        assert hit is not None
        assert f"{os.path.basename(hit.path)}:{hit.line}" == os.path.basename(want).split()[0]


def test_libc_without_aranges_decodes_only_what_it_needs(tmp_path) -> None:
    debug = _debug_file("/lib/x86_64-linux-gnu/libc.so.6")
    if debug is None:
        pytest.skip("no debug file for libc (libc6-dbg)")
    bare = str(tmp_path / "libc.debug")
    subprocess.run(["objcopy", "--remove-section", ".debug_aranges", debug, bare], check=True)
    clear_cache()
    with_aranges = open_image(debug).lines
    without = open_image(bare).lines
    symbols = open_image("/lib/x86_64-linux-gnu/libc.so.6").symbols
    for name in ("malloc", "qsort", "strtol", "fopen"):
        symbol = symbols.lookup(name)
        assert symbol is not None
        address = symbol.address + 8
        assert without.find_address(address) == with_aranges.find_address(address), name
    assert without.decoded_units <= 4
