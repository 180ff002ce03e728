"""Demangled names and source-name lookups (pydbg.elf.demangle, SymbolTable.lookup_all /
match) against independent oracles: binutils' c++filt (libiberty's demangler, not the
libstdc++ one pydbg calls; `-i` leaves out the implementation details gdb leaves out,
`-p` the parameter list), `nm -C`, and gdb in batch mode (`info symbol`, the number of
locations `break NAME` sets, and where it puts them).

Targets: tests/targets/cpp_names.cpp (g++ -O0: namespaces, overloads, a template, operators,
a lambda, an anonymous namespace), tests/targets/clones.c (gcc -O2: the clones gcc makes
are listed by nm first; a case whose clone gcc did not make is skipped and says so), and
the system's libstdc++ (every C++ name of its dynamic symbol table).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from pydbg.elf import gdb_print_name, open_image
from pydbg.elf.demangle import demangle, function_name, normalize, split_clone
from tests.elf.oracles import GDB, gdb_info_symbol, nm_symbols, run
from tests.support import Targets

CXXFILT = shutil.which("c++filt")
needs_cxxfilt = pytest.mark.skipif(CXXFILT is None, reason="binutils' c++filt is the oracle")
needs_gdb = pytest.mark.skipif(GDB is None, reason="gdb is the oracle")

# Rust symbols of a small program built by rustc 1.95 (legacy and v0 manglings); the
# expected names come from c++filt -s rust at test time, not from this file.
RUST_NAMES = [
    "_ZN1r4main17h086b0cfd890a8ea9E",
    "_ZN1r4main28_$u7b$$u7b$closure$u7d$$u7d$17hd19c0d6ddb1655b5E",
    "_ZN1r6shapes6Circle4area17h75092d7bd22efa40E",
    "_ZN1r6shapes7largest17hb6ce8c395ac4bdc7E",
    "_ZN4core5slice4iter87_$LT$impl$u20$core..iter..traits..collect..IntoIterator$u20$for"
    "$u20$$RF$$u5b$T$u5d$$GT$9into_iter17h804a98e54778d202E",
    "_RINvNtCs6GmmlP4bgsG_1r6shapes7largestdEB4_",
    "_RNCNvCs6GmmlP4bgsG_1r4main0B3_",
    "_RNvCs6GmmlP4bgsG_1r4main",
    "_RNvMNtCs6GmmlP4bgsG_1r6shapesNtB2_6Circle4area",
    "_RINvMNtCsgEmfK2I1SDS_4core3stre18trim_start_matchesReECsgY6Mt91CT9J_14rustc_demangle",
    "_RINvMNtCsgEmfK2I1SDS_4core5sliceSh11copy_withinINtNtNtB5_3ops5range14RangeInclusive"
    "jEECsfEOYDRpO4Ta_11miniz_oxide",
    "_RINvMs0_NtNtNtCsjrHSEGnQ3l9_3std12backtrace_rs9symbolize5gimliNtB6_5Cache11with_global"
    "NCNvB6_7resolves_0EBc_",
    "_RNvXs0_NtCsgY6Mt91CT9J_14rustc_demangle2v0NtB5_5IdentNtNtCsgEmfK2I1SDS_4core3fmt7Display3fmt",
]


def cxxfilt(names: list[str], *options: str) -> list[str]:
    assert CXXFILT is not None
    out = subprocess.run(
        [CXXFILT, *options], input="\n".join(names) + "\n", capture_output=True, text=True
    ).stdout
    return out.splitlines()[: len(names)]


def cpp_names(path: str, dynamic: bool = False) -> list[str]:
    return sorted({s.name for s in nm_symbols(path, dynamic) if s.name.startswith("_Z")})


def libstdcxx() -> str:
    found = run(["g++", "-print-file-name=libstdc++.so.6"]).strip()
    if not found.startswith("/"):
        pytest.skip("g++ does not know where libstdc++.so.6 is")
    return found


# -- demangling -------------------------------------------------------------------------


@needs_cxxfilt
def test_every_cpp_name_of_libstdcxx_demangles_as_cxxfilt_does() -> None:
    names = cpp_names(libstdcxx(), dynamic=True)
    assert len(names) > 1000
    assert [demangle(n) for n in names] == cxxfilt(names, "-i")
    # Without the parameter list, as gdb's `break` matches it: c++filt -p.
    assert [function_name(demangle(n)) for n in names] == cxxfilt(names, "-i", "-p")


@needs_cxxfilt
def test_cpp_target_names_demangle_as_cxxfilt_and_nm_c(targets: Targets) -> None:
    path = targets["cpp_names"].path
    names = cpp_names(path)
    assert [demangle(n) for n in names] == cxxfilt(names, "-i")
    at: dict[int, set[str]] = {}
    for symbol in nm_symbols(path):
        at.setdefault(symbol.address, set()).add(demangle(symbol.name))
    checked = 0
    for line in run(["nm", "-C", "--defined-only", path]).splitlines():
        address, _kind, shown = line.split(" ", 2)
        if "::" in shown or "(" in shown:
            assert shown in at[int(address, 16)], line
            checked += 1
    assert checked >= 10


@needs_cxxfilt
def test_rust_names_demangle_as_cxxfilt_does_without_hashes() -> None:
    expected = cxxfilt(RUST_NAMES, "-s", "rust")
    for name, theirs in zip(RUST_NAMES, expected, strict=True):
        # c++filt is verbose: it keeps the legacy hash and v0's crate disambiguators,
        # which gdb (and pydbg) leave out.
        theirs = re.sub(r"::h[0-9a-f]{16}$", "", re.sub(r"\[[0-9a-f]+\]", "", theirs))
        # A v0 inherent method on a plain path is shown as the legacy name and gdb show it:
        # `a::T::m`, not c++filt's `<a::T>::m`.
        theirs = re.sub(r"^<([\w:]+)>::", r"\1::", theirs)
        assert demangle(name) == theirs, name


def test_names_that_are_not_mangled_or_are_damaged_are_kept() -> None:
    for name in ("main", "foo.cold", "_Zbad", "_R!!", "_ZN3foo", "", "_Z"):
        assert demangle(name) == name
    assert demangle("_ZN2ns1K1fEi@@VER_1") == "ns::K::f(int)@@VER_1"
    assert demangle("_ZN2ns1K1fEi.constprop.0") == "ns::K::f(int) [clone .constprop.0]"


def test_function_names_of_hard_cases() -> None:
    cases = {
        "ns::K::f(int)": "ns::K::f",
        "int ns::add<int>(int, int)": "ns::add<int>",
        "ns::Box<int>::get() const": "ns::Box<int>::get",
        "ns::V::operator+(ns::V const&) const": "ns::V::operator+",
        "ns::K::operator()(int)": "ns::K::operator()",
        "bool ns::operator< <int>(ns::Box<int> const&, ns::Box<int> const&)": "ns::operator< <int>",
        "ns::V::operator<<(int) &&": "ns::V::operator<<",
        "ns::K::operator int()": "ns::K::operator int",
        "ns::K::operator new(unsigned long)": "ns::K::operator new",
        "main::{lambda(int)#1}::operator()(int) const": "main::{lambda(int)#1}::operator()",
        "(anonymous namespace)::hidden(int)": "(anonymous namespace)::hidden",
        "ns::K::f(double) [clone .isra.0] [clone .cold]": "ns::K::f",
        "std::function<void (int)> ns::make<int>()": "ns::make<int>",
        "ns::counter": "ns::counter",
        "vtable for ns::K": "vtable for ns::K",
        "non-virtual thunk to ns::K::f(int)": "non-virtual thunk to ns::K::f(int)",
    }
    for demangled, name in cases.items():
        assert function_name(demangled) == name, demangled
    assert normalize("A<B<int> >::f(int,  char)") == normalize("A<B<int>>::f(int, char)")


def test_clone_suffixes_split_off() -> None:
    assert split_clone("foo.constprop.0") == ("foo", ".constprop.0")
    assert split_clone("foo.isra.0.cold") == ("foo", ".isra.0.cold")
    assert split_clone("foo.part.12") == ("foo", ".part.12")
    assert split_clone("foo.cold") == ("foo", ".cold")
    assert split_clone("foo.lto_priv.0") == ("foo", ".lto_priv.0")
    for plain in ("foo", ".cold", "a.b", "foo.0"):
        assert split_clone(plain) == (plain, "")


# -- lookups by source name -------------------------------------------------------------


def gdb_break(path: str, names: list[str]) -> dict[str, tuple[int, int | None]]:
    """gdb's `break NAME` on the file (no process): (number of locations, the address
    when there is one) per name."""
    assert GDB is not None
    cmd = [GDB, "-batch", "-nx", "-iex", "set debuginfod enabled off"]
    for name in names:
        cmd += ["-ex", f"echo @@{name}\\n", "-ex", f"break {name}"]
    out = run([*cmd, path])
    answers: dict[str, tuple[int, int | None]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("@@"):
            current = line[2:]
            continue
        m = re.match(r"Breakpoint \d+ at (0x[0-9a-f]+): (?:.*\((\d+) locations\)|file )", line)
        if m and current:
            count = int(m[2]) if m[2] else 1
            answers[current] = (count, int(m[1], 16) if count == 1 else None)
    return answers


def cpp_target(targets: Targets, variant: str) -> str:
    binary = targets.get("cpp_names", variant)
    assert binary is not None
    return binary.path


@needs_gdb
@pytest.mark.parametrize("variant", ["pie", "pie-O2"])
def test_bp_names_find_what_gdb_break_finds(targets: Targets, variant: str) -> None:
    # At -O2, g++ makes .isra / .constprop clones of most of these (found by the source
    # name, as gdb finds them) and inlines the operators away (neither finds them).
    path = cpp_target(targets, variant)
    table = open_image(path).symbols
    names = [
        "ns::K::f",
        "ns::K::f(int)",
        "ns::K::f(double)",
        "ns::Box<int>::get",
        "ns::Box<double>::get",
        "ns::V::operator+",
        "ns::V::operator==",
        "ns::V::operator!=",
        "ns::add<int>",
        "ns::K::count",
        "(anonymous namespace)::hidden",
        "hidden",
        "K::f",
    ]
    gdb = gdb_break(path, names)
    if variant == "pie":
        assert set(gdb) == set(names), gdb
    assert len(gdb) >= 8, gdb
    for name in names:
        ours = table.lookup_all(name)
        if name not in gdb:
            assert ours == [], name
            continue
        count, address = gdb[name]
        assert len(ours) == count, name
        if address is not None:  # gdb breaks after the prologue, inside our symbol
            assert ours[0].address <= address < ours[0].end, name
    # Mangled names still resolve, and name the same symbol.
    mangled = "_ZN2ns1K1fEi" if variant == "pie" else "_ZN2ns1K1fEi.isra.0"
    assert table.lookup(mangled) == table.lookup("ns::K::f(int)")
    assert table.lookup("ns::K::f( int )") == table.lookup("ns::K::f(int)")
    assert table.lookup("ns::K::g") is None


@needs_gdb
@pytest.mark.parametrize("variant", ["pie", "pie-O2"])
def test_symbolized_cpp_names_are_what_gdb_info_symbol_says(
    targets: Targets, tmp_path, variant: str
) -> None:
    # -O2: clones show as gdb shows them, `ns::K::f(int) [clone .isra.0]`.
    path = cpp_target(targets, variant)
    table = open_image(path).symbols
    functions = [s for s in nm_symbols(path) if s.name.startswith("_Z") and s.type in "tTwW"]
    assert variant == "pie" or any("[clone ." in demangle(s.name) for s in functions)
    addresses = sorted({s.address + min(4, max(s.size - 1, 0)) for s in functions})
    gdb = gdb_info_symbol(path, addresses, str(tmp_path))
    for address in addresses:
        hit = table.symbolize(address)
        assert hit is not None
        assert (demangle(hit[0]), hit[1]) == gdb[address]


def test_wildcards_match_demangled_names_as_nm_c_lists_them(targets: Targets) -> None:
    path = targets["cpp_names"].path
    table = open_image(path).symbols
    nm_c = [line.split(" ", 2) for line in run(["nm", "-C", "--defined-only", path]).splitlines()]
    for pattern, prefix in (("ns::K::*", "ns::K::"), ("ns::Box*", "ns::Box<")):
        expected = sorted(
            {(int(a, 16), shown) for a, _k, shown in nm_c if shown.startswith(prefix)}
        )
        ours = sorted({(s.address, demangle(s.name)) for s in table.match(pattern)})
        assert ours == expected, pattern
    assert [demangle(s.name) for s in table.match("*operator==*")] == [
        "ns::V::operator==(ns::V const&) const"
    ]


# -- gcc clones -------------------------------------------------------------------------

# source name -> the clone gcc -O2 makes of it in clones.c
CLONES = {"scaled": ".constprop.", "pick": ".isra.", "slow": ".part.", "check": ".cold"}


def clone_of(names: set[str], source: str) -> str | None:
    kind = CLONES[source]
    return next((n for n in sorted(names) if n.startswith(source + kind)), None)


@pytest.mark.parametrize("source", sorted(CLONES))
def test_clones_are_found_by_the_source_name(targets: Targets, source: str) -> None:
    binary = targets.get("clones", "pie-O2")
    assert binary is not None
    names = {s.name for s in nm_symbols(binary.path)}
    clone = clone_of(names, source)
    if clone is None:
        pytest.skip(f"gcc made no {CLONES[source]} clone of {source} here (nm lists none)")
    table = open_image(binary.path).symbols
    found = table.lookup(source)
    assert found is not None
    if source in names:  # the function itself wins over its pieces
        assert found.name == source
        assert clone in {s.name for s in table.match(source + "*")}
    else:
        assert found.name == clone
    assert table.lookup(clone) is not None and table.lookup(clone).name == clone


@needs_gdb
def test_clones_symbolize_as_gdb_names_them_and_break_where_gdb_breaks(
    targets: Targets, tmp_path
) -> None:
    binary = targets.get("clones", "pie-O2")
    assert binary is not None
    table = open_image(binary.path).symbols
    symbols = [s for s in nm_symbols(binary.path) if split_clone(s.name)[1]]
    assert symbols, "gcc -O2 made no clone at all"
    addresses = [s.address + min(2, max(s.size - 1, 0)) for s in symbols]
    gdb = gdb_info_symbol(binary.path, addresses, str(tmp_path))
    for symbol, address in zip(symbols, addresses, strict=True):
        hit = table.symbolize(address)
        assert hit is not None and hit[0] == symbol.name  # the linkage name: check.cold
        assert (gdb_print_name(hit[0]), hit[1]) == gdb[address]  # gdb: check[cold]
    # gdb's `break scaled` / `break pick` land in the entry clones, as ours do.
    entries = [s for s in ("scaled", "pick") if s not in {x.name for x in symbols}]
    found = gdb_break(binary.path, entries)
    assert entries
    for source in entries:
        ours = table.lookup(source)
        count, address = found[source]
        assert ours is not None and count == 1 and address is not None
        assert ours.address <= address < ours.end, source
