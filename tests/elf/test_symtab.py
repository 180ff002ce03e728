"""SymbolTable: name -> address against nm, wildcards, the symbols of stripped and split
files, PLT stubs, symbol versions, and what a file without symbols gives."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from pydbg.elf import Binding, ElfImage, SymbolKind, open_image
from tests.elf.conftest import Built
from tests.elf.oracles import nm_symbols, readelf_sections


def _nm(path: str) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for sym in nm_symbols(path):
        out.setdefault(sym.name, set()).add(sym.address)
    return out


@pytest.mark.parametrize("variant", ["pie-O0", "nopie-O0", "pie-O2", "nopie-O2"])
def test_every_nm_symbol_is_found_by_name(built: Built, variant: str) -> None:
    path = built[variant]
    symbols = open_image(path).symbols
    sections = {s.name for s in readelf_sections(path) if s.is_alloc and "T" not in s.flags}
    checked = 0
    for sym in nm_symbols(path):
        if sym.type in "aANn" or sym.name.startswith(".L"):
            continue  # absolute values and non-allocated sections are not addresses
        found = {s.address for s in symbols.lookup_all(sym.name)}
        assert sym.address in found, f"{sym.name} at {sym.address:#x}: we have {found}"
        checked += 1
    assert checked > 20 and sections


def test_lookup_prefers_globals_and_definitions(built: Built) -> None:
    symbols = open_image(built["pie-O0"]).symbols
    nm = _nm(built["pie-O0"])
    main = symbols.lookup("main")
    assert main is not None and main.address in nm["main"]
    assert main.kind is SymbolKind.FUNCTION and main.binding is Binding.GLOBAL
    assert main.section == ".text" and main.size > 0
    helper = symbols.lookup("helper")
    assert helper is not None and helper.binding is Binding.LOCAL
    weak = symbols.lookup("weak_knob")
    assert weak is not None and weak.binding is Binding.WEAK and weak.kind is SymbolKind.OBJECT
    assert symbols.address_of("global_data") in nm["global_data"]
    assert symbols.address_of("no_such_symbol") is None
    assert symbols.lookup("no_such_symbol") is None
    # `printf` is only a PLT stub here: the plain name finds it, as in gdb.
    printf = symbols.lookup("printf")
    assert printf is not None and printf.kind is SymbolKind.TRAMPOLINE
    assert printf.address == symbols.address_of("printf@plt")


def test_wildcards(built: Built) -> None:
    symbols = open_image(built["pie-O2"]).symbols
    names = {s.name for s in symbols.match("comp*")}
    assert "compute" in names
    assert any(n.startswith("compute.") for n in names), names  # the .cold part
    assert {s.name for s in symbols.match("*@plt")} >= {"printf@plt", "malloc@plt"}
    assert [s.name for s in symbols.match("mai?")] == ["main"]
    assert symbols.match("zz*nothing*") == []
    assert symbols.match("main") == symbols.lookup_all("main")


def test_plt_stubs_are_named_like_gdb(built: Built) -> None:
    for variant in ("pie-O2", "nopie-O2", "ibt-O2", "now-O2"):
        symbols = open_image(built[variant]).symbols
        stubs = {s.name: s for s in symbols if s.kind is SymbolKind.PLT}
        assert {"printf@plt", "malloc@plt", "free@plt"} <= set(stubs), (variant, stubs)
        for stub in stubs.values():
            assert stub.section.startswith(".plt"), stub
            assert symbols.symbolize(stub.address) == (stub.name, 0)
    ibt = open_image(built["ibt-O2"]).symbols.lookup("printf@plt")
    assert ibt is not None and ibt.section == ".plt.sec"


def test_non_pie_canonical_plt_address(built: Built) -> None:
    """A non-PIE program that takes &strlen gets a dynamic symbol with the PLT address."""
    symbols = open_image(built["nopie-O2"]).symbols
    strlen = [s for s in symbols.lookup_all("strlen") if s.kind is SymbolKind.TRAMPOLINE]
    assert strlen and strlen[0].address == symbols.address_of("strlen@plt")


def test_stripped_file_keeps_dynamic_symbols_and_plt(built: Built) -> None:
    image = open_image(built["stripped"])
    assert not image.has_symtab
    symbols = image.symbols
    assert symbols.warnings == []
    assert symbols.lookup("main") is None  # gone with .symtab
    assert symbols.lookup("malloc@plt") is not None
    assert all(s.source in (".dynsym", "plt", "got.plt") for s in symbols)


def test_split_file_uses_its_debug_file(built: Built) -> None:
    image = open_image(built["split"])
    symbols = image.symbols
    assert symbols.debug_file == os.path.realpath(built["split.debug"])
    unsplit = open_image(built["pie-O2"]).symbols
    for name in ("main", "compute", "helper", "global_data"):
        sym = symbols.lookup(name)
        assert sym is not None and sym.source == "debug file"
        assert sym.address == unsplit.address_of(name)
    main = unsplit.address_of("main")
    assert main is not None
    assert symbols.symbolize(main + 1) == ("main", 1)


def test_symbol_versions(built: Built) -> None:
    full = open_image(built["versioned"]).symbols
    stripped = open_image(built["versioned-stripped"]).symbols
    nm = _nm(built["versioned"])
    new = next(iter(nm["new_impl"]))
    old = next(iter(nm["old_impl"]))
    # The default version wins the plain name, in both tables.
    assert full.address_of("func") == new
    assert stripped.address_of("func") == new
    assert {s.address for s in stripped.lookup_all("func")} == {new, old}
    assert full.address_of("func@@VER_2") == new
    assert full.address_of("func@VER_1") == old


def test_table_is_iterable_without_duplicates(built: Built) -> None:
    symbols = open_image(built["pie-O2"]).symbols
    seen = [(s.name, s.address) for s in symbols]
    assert len(seen) == len(set(seen)) == len(symbols)
    assert [s.address for s in symbols] == sorted(s.address for s in symbols)


def test_file_without_symbols_gives_an_empty_table(tmp_path: os.PathLike[str]) -> None:
    """A symbol-free ELF: a system binary with every symbol table and the relocations
    removed (objcopy)."""
    src = shutil.which("true") or "/bin/true"
    path = os.path.join(str(tmp_path), "nosyms")
    subprocess.run(
        ["objcopy", "--strip-all", "--remove-section=.dynsym", "--remove-section=.dynstr",
         "--remove-section=.gnu.version", "--remove-section=.gnu.version_r",
         "--remove-section=.rela.plt", "--remove-section=.rela.dyn", src, path],
        check=True, capture_output=True,
    )  # fmt: skip
    symbols = ElfImage(path).symbols
    assert len(symbols) == 0
    assert symbols.symbolize(0x1000) is None
    assert symbols.lookup("main") is None
    assert symbols.match("*") == []
