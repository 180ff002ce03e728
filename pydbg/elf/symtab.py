"""The symbols of one ELF file (`SymbolTable`): name -> address and address -> symbol,
built the way gdb builds its minimal symbols, so that `symbolize(addr)` answers what gdb's
`info symbol` says about the same file.

Where the symbols come from (gdb's elfread.c, which this mirrors):

- `.symtab` when the file has one; `.dynsym` only when it has none ("stripped"), as the
  dynamic table is a subset of the full one;
- undefined dynamic functions whose value is a PLT address (a non-PIE executable that takes
  a library function's address): a trampoline symbol with the plain name at that address;
- one `name@plt` symbol per PLT stub (.plt, .plt.got, .plt.sec, .plt.bnd; x86-64), found by
  decoding the stub's `jmp *disp(%rip)` and matching its GOT slot against the dynamic
  relocations (what BFD's synthetic symbol table does), plus a trampoline with the plain
  name; stubs of IRELATIVE slots are `*ABS*+0xADDEND@plt`;
- one `name@got.plt` symbol per .rela.plt slot;
- the separate debug file's `.symtab`, when the file has no DWARF of its own (gdb only
  looks for a debug file then), as a second table consulted alongside the first.

`symbolize(addr)` follows gdb's `lookup_minimal_symbol_by_pc_section`: only symbols of the
section that contains the address count; among symbols at one address the last by name
(strcmp order) is taken, except that a text symbol is preferred to an otherwise identical
non-text one just before it (global over local); a sized symbol wins over zero-sized ones
when it contains the address; past the end of every sized candidate, the nearest
zero-sized one is used, else nothing ("No symbol matches").  Of the two tables, the answer
at the higher address wins, the file's own on a tie.  Symbols of TLS sections and
absolute symbols never answer.

Everything is built once, on first use, into sorted lists searched with bisect, so a
lookup is a few microseconds.  All addresses are link-time: add the image's load bias.
"""

from __future__ import annotations

import bisect
import enum
import fnmatch
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from pydbg.elf.demangle import (
    clone_suffix,
    demangle,
    function_name,
    is_entry_clone,
    mangled_hints,
    normalize,
    split_clone,
)
from pydbg.elf.errors import ImageError, ImageFileError
from pydbg.elf.image import (
    EM_X86_64,
    ET_DYN,
    ET_EXEC,
    SHF_ALLOC,
    SHF_EXECINSTR,
    SHF_TLS,
    SHT_DYNSYM,
    SHT_NOBITS,
    SHT_REL,
    SHT_RELA,
    SHT_SYMTAB,
    ElfImage,
    Section,
)

if TYPE_CHECKING:
    from capstone import Cs

__all__ = ["Binding", "Match", "Symbol", "SymbolKind", "SymbolTable"]

# ELF symbol types and special section indices (elf.h).
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE = 0, 1, 2, 3, 4
STT_COMMON, STT_TLS, STT_GNU_IFUNC = 5, 6, 10
STB_LOCAL, STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 0, 1, 2, 10
SHN_UNDEF, SHN_LORESERVE, SHN_ABS = 0, 0xFF00, 0xFFF1
SHT_GNU_VERSYM = 0x6FFFFFFF
VERSYM_HIDDEN = 0x8000
R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, R_X86_64_IRELATIVE = 6, 7, 37
_PLT_RELOCS = (R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, R_X86_64_IRELATIVE)
# The PLT sections, in the order BFD's synthetic symbol table walks them (a GOT slot
# gets its name from the first stub that jumps through it).
_PLT_SECTIONS = (".plt", ".plt.got", ".plt.sec", ".plt.bnd")
_ENDBR64 = b"\xf3\x0f\x1e\xfa"
# Marker symbols old compilers put at the start of each object's text.
_COMPILED = frozenset((b"gcc2_compiled.", b"gcc_compiled."))

# gdb's minimal_symbol_type: only "is text" and "is absolute" change lookups, the rest
# is kept for the record.
MST_UNKNOWN, MST_TEXT, MST_TEXT_GNU_IFUNC, MST_DATA_GNU_IFUNC, MST_SLOT_GOT_PLT = 0, 1, 2, 3, 4
MST_DATA, MST_BSS, MST_ABS, MST_SOLIB_TRAMPOLINE = 5, 6, 7, 8
MST_FILE_TEXT, MST_FILE_DATA, MST_FILE_BSS = 9, 10, 11


class Binding(enum.IntEnum):
    """ELF symbol binding (STB_* values)."""

    LOCAL = 0
    GLOBAL = 1
    WEAK = 2
    UNIQUE = 10  # STB_GNU_UNIQUE


class SymbolKind(enum.Enum):
    """What a symbol names."""

    FUNCTION = "function"  # STT_FUNC
    IFUNC = "ifunc"  # STT_GNU_IFUNC: the resolver of an indirect function
    OBJECT = "object"  # STT_OBJECT
    LABEL = "label"  # STT_NOTYPE: an assembler label or a linker-defined marker
    PLT = "plt"  # name@plt: a PLT stub
    TRAMPOLINE = "trampoline"  # a PLT stub under the plain name of what it calls
    GOT_SLOT = "got slot"  # name@got.plt: the GOT slot a PLT stub jumps through
    ABSOLUTE = "absolute"  # SHN_ABS: a constant, not an address in the file


class Match(enum.IntEnum):
    """How a name matched symbols (`SymbolTable.resolve`), best first."""

    LINKAGE = 0  # the symbol's own name
    SOURCE = 1  # its demangled name, or the source name of a gcc clone
    WILD = 2  # its demangled name without the leading scopes


@dataclass(frozen=True, slots=True)
class Symbol:
    """One symbol: link-time `address`, `size` (0 when unknown), and where it lives."""

    name: str
    address: int
    size: int
    kind: SymbolKind
    binding: Binding
    section: str  # the section's name ("" for absolute symbols)
    source: str  # ".symtab", ".dynsym", "debug file", "plt" or "got.plt"

    @property
    def end(self) -> int:
        return self.address + self.size


_KINDS = tuple(SymbolKind)
_K_FUNC, _K_IFUNC, _K_OBJECT, _K_LABEL, _K_PLT, _K_TRAMP, _K_GOT, _K_ABS = range(8)
_KIND_OF_STT = {STT_FUNC: _K_FUNC, STT_GNU_IFUNC: _K_IFUNC, STT_OBJECT: _K_OBJECT}
_BINDINGS = {b.value: b for b in Binding}
# Name lookups prefer global, then weak or unique, then local definitions.
_BIND_RANK = {STB_GLOBAL: 0, STB_WEAK: 1, STB_GNU_UNIQUE: 1}
_SOURCES = (".symtab", ".dynsym", "debug file", "plt", "got.plt")
_S_SYMTAB, _S_DYNSYM, _S_DEBUG, _S_PLT, _S_GOTPLT = range(5)

# One symbol before sorting: address, name, size, gdb type, section key (the index of
# the main file's section; -1 for absolute), kind, binding, source, hidden version.
_Raw = tuple[int, bytes, int, int, int, int, int, int, bool]


class _Table:
    """One objfile's minimal symbols (the file's own, or its debug file's), sorted like
    gdb's: by address, then by name in strcmp order, duplicates merged."""

    def __init__(self, raws: list[_Raw]) -> None:
        raws.sort()
        # compact_minimal_symbols: the same name at the same address in the same section
        # is one symbol (the later copy is kept; an unknown type takes the earlier one's).
        merged: list[_Raw] = []
        prev: _Raw | None = None
        for raw in raws:
            if prev is not None and prev[0] == raw[0] and prev[1] == raw[1] and prev[4] == raw[4]:
                if raw[3] == MST_UNKNOWN:
                    raw = (raw[0], raw[1], raw[2], prev[3], *raw[4:])
                merged[-1] = raw
            else:
                merged.append(raw)
            prev = raw
        columns = list(zip(*merged, strict=True)) if merged else [()] * 9
        self.addrs: list[int] = list(columns[0])
        self.raw_names: list[bytes] = list(columns[1])
        self.sizes: list[int] = list(columns[2])
        self.types: list[int] = list(columns[3])
        self.secs: list[int] = list(columns[4])
        self.kinds: list[int] = list(columns[5])
        self.binds: list[int] = list(columns[6])
        self.sources: list[int] = list(columns[7])
        self.hidden: list[bool] = list(columns[8])
        self.ends = [a + n for a, n in zip(self.addrs, self.sizes, strict=True)]
        self._names: list[str] | None = None
        self._by_section: dict[int, tuple[list[int], list[int], list[int], list[int]]] = {}
        self._members: dict[int, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.addrs)

    def name(self, g: int) -> str:
        return self.raw_names[g].decode("utf-8", "replace")

    @property
    def names(self) -> list[str]:
        if self._names is None:
            self._names = [n.decode("utf-8", "replace") for n in self.raw_names]
        return self._names

    def _section_index(self, sec: int) -> tuple[list[int], list[int], list[int], list[int]]:
        """For one section, built on its first lookup: the positions of its symbols in
        the sorted order, their addresses, and for each position the nearest usable
        sized / zero-sized symbol at or below it, so that a lookup never walks a run of
        skipped symbols one by one."""
        entry = self._by_section.get(sec)
        if entry is not None:
            return entry
        if self._members is None:
            members: dict[int, list[int]] = {}
            types = self.types
            for g, key in enumerate(self.secs):
                if key >= 0 and types[g] != MST_ABS:
                    members.setdefault(key, []).append(g)
            self._members = members
        addrs, sizes, types, secs = self.addrs, self.sizes, self.types, self.secs
        positions = self._members.get(sec, [])
        sized_below: list[int] = []
        zero_below: list[int] = []
        last_sized = last_zero = -1
        for k, g in enumerate(positions):
            # gdb: a non-text symbol right after an otherwise identical text symbol
            # (same address, size and section) gives way to it.
            skipped = (
                g > 0
                and types[g] != MST_TEXT
                and types[g - 1] == MST_TEXT
                and sizes[g] == sizes[g - 1]
                and addrs[g] == addrs[g - 1]
                and secs[g] == secs[g - 1]
            )
            if not skipped:
                if sizes[g]:
                    last_sized = k
                else:
                    last_zero = k
            sized_below.append(last_sized)
            zero_below.append(last_zero)
        entry = (positions, [addrs[g] for g in positions], sized_below, zero_below)
        self._by_section[sec] = entry
        return entry

    def lookup(self, pc: int, sec: int) -> int:
        """The position of gdb's best symbol for `pc` in section `sec`, or -1."""
        if not self.addrs or pc < self.addrs[0]:
            return -1
        positions, starts, sized_below, zero_below = self._section_index(sec)
        top = bisect.bisect_right(starts, pc) - 1
        if top < 0:
            return -1
        ends = self.ends
        k = sized_below[top]
        while k >= 0:
            g = positions[k]
            # gdb: past the end of this symbol but inside the one before it in the
            # whole table (nested sized symbols), try the one before.
            if g > 0 and ends[g] <= pc < ends[g - 1]:
                k = sized_below[k - 1] if k > 0 else -1
                continue
            break
        zero = zero_below[top]
        best_zero = positions[zero] if zero > k else -1
        if k < 0:
            return best_zero
        g = positions[k]
        if pc >= ends[g]:
            return best_zero
        return g


class SymbolTable:
    """The symbols of an `ElfImage`: `image.symbols`, or `SymbolTable(image)`.

    Never raises for missing or damaged symbol data: a file without symbols gives an
    empty table, a damaged symbol section is skipped, and `warnings` says what was left
    out.  (An I/O error reading the file is still an ImageFileError.)
    """

    def __init__(self, image: ElfImage) -> None:
        self.image = image
        self.warnings: list[str] = []
        self._section_names: dict[int, str] = {}
        self._alloc: tuple[Section, ...] = ()
        self._alloc_starts: list[int] = []
        self._tables: list[_Table] = []
        self._debug_path: str | None = None
        self._names: dict[str, list[tuple[int, int]]] | None = None
        self._sorted_names: list[str] | None = None
        # (refs, start of each in the blob, the blob) of the C++ and Rust names.
        self._mangled: tuple[list[tuple[int, int]], list[int], bytes] | None = None
        try:
            self._section_names = {s.index: s.name for s in image.sections}
            self._alloc = image.alloc_sections
        except ImageFileError:
            raise
        except ImageError as exc:
            self.warnings.append(f"no symbols: {exc}")
            self._tables.append(_Table([]))
            return
        self._alloc_starts = [s.addr for s in self._alloc]
        self._tables.append(_Table(self._main_symbols(image)))
        if not image.has_debug_info:
            debug = self._find_debug_image()
            if debug is not None:
                self._debug_path = debug.path
                self._tables.append(_Table(self._debug_symbols(debug)))

    # -- building ----------------------------------------------------------------------

    def _guarded(self, image: ElfImage, build: Callable[[], list[_Raw]]) -> list[_Raw]:
        """Run one part of the build; damaged data there becomes a warning and an empty
        contribution, so a broken PLT does not cost the .symtab, nor the reverse."""
        try:
            return build()
        except ImageFileError:
            raise
        except ImageError as exc:
            self.warnings.append(f"symbols skipped: {exc}")
        except (struct.error, ValueError, IndexError, KeyError, OverflowError) as exc:
            # ValueError covers UnicodeDecodeError and bad entry sizes.
            self.warnings.append(f"{image.path}: symbols skipped: damaged data ({exc!r})")
        return []

    def _find_debug_image(self) -> ElfImage | None:
        try:
            debug = self.image.debug_image
        except ImageFileError:
            raise
        except ImageError as exc:
            self.warnings.append(f"debug file skipped: {exc}")
            return None
        self.warnings.extend(self.image.warnings)
        return debug

    def _main_symbols(self, image: ElfImage) -> list[_Raw]:
        reader = _Reader(image)
        raws: list[_Raw] = []
        keys = [s.index for s in image.sections]
        guarded = self._guarded
        stripped = not image.has_symtab
        if not stripped:
            for sec in image.sections_of_type(SHT_SYMTAB):
                raws += guarded(image, partial(_regular, reader, sec, keys, _S_SYMTAB))
        dynsyms = [s for s in image.sections_of_type(SHT_DYNSYM) if s.type != SHT_NOBITS]
        for sec in dynsyms:
            raws += guarded(image, partial(_dynamic_trampolines, reader, sec))
            if stripped:
                raws += guarded(image, partial(_regular, reader, sec, keys, _S_DYNSYM))
        if dynsyms and image.e_type in (ET_EXEC, ET_DYN):
            raws += guarded(image, partial(_got_plt_slots, reader, dynsyms[0]))
            if image.machine == EM_X86_64:
                raws += guarded(image, partial(_plt_stubs, reader, dynsyms[0]))
        return raws

    def _debug_symbols(self, debug: ElfImage) -> list[_Raw]:
        # gdb matches a debug file's section to the file's by name, address and size.
        main_keys = {(s.name, s.addr, s.size): s.index for s in self.image.sections}
        reader = _Reader(debug)
        raws: list[_Raw] = []
        try:
            keys = [main_keys.get((s.name, s.addr, s.size), -1) for s in debug.sections]
            symtabs = debug.sections_of_type(SHT_SYMTAB)
        except ImageFileError:
            raise
        except ImageError as exc:
            self.warnings.append(f"debug file symbols skipped: {exc}")
            return raws
        for sec in symtabs:
            raws += self._guarded(debug, partial(_regular, reader, sec, keys, _S_DEBUG))
        return raws

    # -- address -> symbol -------------------------------------------------------------

    def _section_at(self, address: int) -> Section | None:
        """The allocated section holding an address (they do not overlap; see
        `ElfImage.alloc_sections`)."""
        i = bisect.bisect_right(self._alloc_starts, address) - 1
        while i >= 0:
            sec = self._alloc[i]
            if address < sec.end:
                return sec
            if i == 0 or self._alloc[i - 1].addr != sec.addr:
                return None
            i -= 1
        return None

    def _best(self, address: int) -> tuple[_Table, int] | None:
        sec = self._section_at(address)
        if sec is None:
            return None
        best: tuple[_Table, int] | None = None
        for table in self._tables:
            g = table.lookup(address, sec.index)
            if g >= 0 and (best is None or table.addrs[g] > best[0].addrs[best[1]]):
                best = (table, g)
        return best

    def symbolize(self, address: int) -> tuple[str, int] | None:
        """(name, displacement) of the symbol gdb's `info symbol` names for a link-time
        address, or None where gdb says "No symbol matches"."""
        best = self._best(address)
        if best is None:
            return None
        table, g = best
        return table.name(g), address - table.addrs[g]

    def symbol_at(self, address: int) -> tuple[Symbol, int] | None:
        """Like `symbolize`, with the whole `Symbol`."""
        best = self._best(address)
        if best is None:
            return None
        table, g = best
        return self._symbol(table, g), address - table.addrs[g]

    # -- name -> symbol ----------------------------------------------------------------

    def _name_index(self) -> dict[str, list[tuple[int, int]]]:
        """Name -> (table, position) of its symbols, built on the first name lookup.
        A versioned name ("stderr@GLIBC_2.2.5", "func@@VER_2") is found by its plain
        name too; `name@plt` and `name@got.plt` are found only by their full names."""
        if self._names is None:
            index: dict[str, list[tuple[int, int]]] = {}
            for t, table in enumerate(self._tables):
                for g, name in enumerate(table.names):
                    index.setdefault(name, []).append((t, g))
                    at = name.find("@")
                    if at > 0 and table.kinds[g] not in (_K_PLT, _K_GOT):
                        index.setdefault(name[:at], []).append((t, g))
            self._names = index
        return self._names

    def _rank(self, ref: tuple[int, int]) -> tuple[int, int, int, int, int, int]:
        """Sort key of the candidates for one name: real definitions before PLT
        trampolines and GOT slots, visible versions before hidden (old) ones, global
        before weak before local, sized before unsized, the file's table first."""
        t, g = ref
        table = self._tables[t]
        kind = table.kinds[g]
        tier = 0 if kind not in (_K_TRAMP, _K_GOT, _K_ABS, _K_PLT) else 1 + (kind == _K_GOT)
        bind_rank = _BIND_RANK.get(table.binds[g], 2)
        # "foo@VER" (one @) is a non-default version, like a hidden .dynsym version.
        raw = table.raw_names[g]
        at = raw.find(b"@")
        hidden = table.hidden[g] or (at > 0 and raw[at : at + 2] != b"@@")
        return (tier, int(hidden), bind_rank, int(table.sizes[g] == 0), t, table.addrs[g])

    def lookup(self, name: str) -> Symbol | None:
        """The symbol a name means: a global definition over a weak or a local one, a
        definition over a PLT trampoline; None if nothing has the name.  A name no symbol
        has exactly is taken as a source name (see `resolve`)."""
        found = self.resolve(name)[1]
        return found[0] if found else None

    def lookup_all(self, name: str) -> list[Symbol]:
        """Every symbol a name means (static functions of different files share names,
        a C++ function name has one symbol per overload), preferred first, one per
        address."""
        return self.resolve(name)[1]

    def resolve(self, name: str) -> tuple[Match, list[Symbol]]:
        """How a name matched, and the symbols it means, preferred first.

        - Match.LINKAGE: symbols with exactly that name (`_ZN2ns1K1fEi`, `main`,
          `stderr` for `stderr@GLIBC_2.2.5`).
        - Match.SOURCE: a demangled name: `ns::K::f` (every overload; gdb's `break
          ns::K::f`), `ns::K::f(int)` (one), `ns::Box<int>::get`, `ns::V::operator+`,
          blanks as in `normalize`; or a C function gcc cloned: `foo` for
          `foo.constprop.0`.
        - Match.WILD: as gdb's wild matching, a name without its leading scopes (`f`,
          `K::f`, `hidden` for `(anonymous namespace)::hidden`).

        Each kind is tried only when the ones before found nothing.  Clones give way to
        the function itself: they are returned only when no symbol is the function,
        and then the callable ones (`.constprop`, `.isra`); failing those, the outlined
        body (`.part`, as gdb's `break` also takes it); never a `.cold` part, which is
        not entered by a call (`x foo*` lists it)."""
        refs = self._name_index().get(name)
        if refs:
            return Match.LINKAGE, self._unique(sorted(refs, key=self._rank))
        how, refs = self._source_refs(name)
        return how, self._unique(sorted(refs, key=self._rank))

    def _source_refs(self, name: str) -> tuple[Match, list[tuple[int, int]]]:
        wanted = normalize(name)
        has_params = not wanted.endswith("operator()") and function_name(wanted) != wanted
        scoped = "::" + wanted
        groups: tuple[list[tuple[int, int]], ...] = ([], [], [], [])
        wild: tuple[list[tuple[int, int]], ...] = ([], [], [], [])
        for t, g in self._mangled_refs(mangled_hints(name)):
            shown = demangle(self._tables[t].name(g).split("@", 1)[0])
            suffix = clone_suffix(shown)
            full = shown[: len(shown) - len(suffix)] if suffix else shown
            func = normalize(full if has_params else function_name(full))
            if func == wanted:
                groups[_clone_rank(suffix)].append((t, g))
            elif func.endswith(scoped) and not wanted.startswith("::"):
                wild[_clone_rank(suffix)].append((t, g))
        if not any(groups[:3]) and "." not in name:
            for linkage in self._names_with_prefix(name + "."):
                base, suffix = split_clone(linkage)
                if base == name:
                    groups[_clone_rank(suffix)].extend(self._name_index()[linkage])
        found = groups[0] or groups[1] or groups[2]
        if found:
            return Match.SOURCE, found
        return Match.WILD, wild[0] or wild[1] or wild[2]

    def _mangled_refs(self, hints: list[bytes]) -> Iterator[tuple[int, int]]:
        """The C++ and Rust symbols whose raw names contain every hint.  The names are
        searched as one NUL-separated blob with bytes.find for the longest hint, so a
        lookup in libstdc++ (8,000 mangled names) visits only the names that have it."""
        if self._mangled is None:
            refs = [
                (t, g)
                for t, table in enumerate(self._tables)
                for g, raw in enumerate(table.raw_names)
                if raw.startswith((b"_Z", b"_R"))
            ]
            raws = [self._tables[t].raw_names[g] for t, g in refs]
            starts: list[int] = []
            at = 0
            for raw in raws:
                starts.append(at)
                at += len(raw) + 1
            self._mangled = (refs, starts, b"\0".join(raws))
        refs, starts, blob = self._mangled
        if not hints:
            yield from refs
            return
        key = max(hints, key=len)
        pos = blob.find(key)
        while pos >= 0:
            i = bisect.bisect_right(starts, pos) - 1
            t, g = refs[i]
            raw = self._tables[t].raw_names[g]
            if all(h in raw for h in hints):
                yield t, g
            if i + 1 >= len(starts):
                break
            pos = blob.find(key, starts[i + 1])

    def _names_with_prefix(self, prefix: str) -> list[str]:
        index = self._name_index()
        if self._sorted_names is None:
            self._sorted_names = sorted(index)
        names = self._sorted_names
        out: list[str] = []
        for name in names[bisect.bisect_left(names, prefix) :]:
            if not name.startswith(prefix):
                break
            out.append(name)
        return out

    def address_of(self, name: str) -> int | None:
        """The link-time address of `lookup(name)`, or None."""
        sym = self.lookup(name)
        return None if sym is None else sym.address

    def match(self, pattern: str) -> list[Symbol]:
        """Symbols whose name matches a shell wildcard (`fnmatch`, case-sensitive:
        `"pthread_*"`), by name then address; an exact name without wildcards gives its
        `lookup_all`.  C++ and Rust symbols match by their demangled names too, with or
        without the parameter list (`ns::K::*`)."""
        if not any(ch in pattern for ch in "*?["):
            return self.lookup_all(pattern)
        cut = min(pattern.find(ch) for ch in "*?[" if ch in pattern)
        out: list[Symbol] = []
        for name in self._names_with_prefix(pattern[:cut]):
            if fnmatch.fnmatchcase(name, pattern):
                out.extend(self.lookup_all(name))
        wanted = normalize(pattern)
        refs = []
        for t, g in self._mangled_refs(mangled_hints(pattern)):
            shown = demangle(self._tables[t].name(g).split("@", 1)[0])
            if fnmatch.fnmatchcase(normalize(shown), wanted) or fnmatch.fnmatchcase(
                normalize(function_name(shown)), wanted
            ):
                refs.append((t, g))
        refs.sort(key=lambda r: (demangle(self._tables[r[0]].name(r[1])), self._rank(r)))
        seen = {(s.name, s.address) for s in out}
        out.extend(s for s in self._unique(refs) if (s.name, s.address) not in seen)
        return out

    # -- everything --------------------------------------------------------------------

    def __iter__(self) -> Iterator[Symbol]:
        """Every symbol once (one per name and address), by address."""
        refs = [(t, g) for t, table in enumerate(self._tables) for g in range(len(table))]
        refs.sort(
            key=lambda r: (self._tables[r[0]].addrs[r[1]], self._tables[r[0]].raw_names[r[1]])
        )
        return iter(self._unique(refs))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @property
    def debug_file(self) -> str | None:
        """The separate debug file whose symbols were added, if any."""
        return self._debug_path

    def _unique(self, refs: list[tuple[int, int]]) -> list[Symbol]:
        seen: set[tuple[str, int]] = set()
        out: list[Symbol] = []
        for t, g in refs:
            table = self._tables[t]
            key = (table.names[g], table.addrs[g])
            if key not in seen:
                seen.add(key)
                out.append(self._symbol(table, g))
        return out

    def _symbol(self, table: _Table, g: int) -> Symbol:
        sec = table.secs[g]
        return Symbol(
            name=table.name(g),
            address=table.addrs[g],
            size=table.sizes[g],
            kind=_KINDS[table.kinds[g]],
            binding=_BINDINGS.get(table.binds[g], Binding.GLOBAL),
            section=self._section_names.get(sec, "") if sec >= 0 else "",
            source=_SOURCES[table.sources[g]],
        )


def _clone_rank(suffix: str) -> int:
    """0: the function itself, 1: a callable clone, 2: an outlined body (`.part`),
    3: a cold part."""
    if not suffix:
        return 0
    if ".cold" in suffix:
        return 3
    return 1 if is_entry_clone(suffix) else 2


# -- building -------------------------------------------------------------------------

# One row of a symbol table: name, value, size, info, shndx.
_Row = tuple[bytes, int, int, int, int]
_SKIPPED_TYPES = frozenset((STT_SECTION, STT_FILE, STT_TLS))
# How the symbols of a section are classified (per section index).
_C_SKIP, _C_TEXT, _C_DATA, _C_BSS = range(4)


class _Reader:
    """Reads each symbol table of one image once (the builders need .dynsym several
    times)."""

    def __init__(self, image: ElfImage) -> None:
        self.image = image
        self._rows: dict[int, tuple[list[_Row], bool]] = {}

    def rows(self, symsec: Section) -> list[_Row]:
        """Every entry of a symbol table, the null entry at index 0 included."""
        return self._read(symsec)[0]

    def has_versioned_names(self, symsec: Section) -> bool:
        """Whether some name of the table has a `@@` (a .symver default version)."""
        return self._read(symsec)[1]

    def _read(self, symsec: Section) -> tuple[list[_Row], bool]:
        entry = self._rows.get(symsec.index)
        if entry is None:
            entry = self._rows[symsec.index] = _read_symbols(self.image, symsec)
        return entry


def _classification() -> list[tuple[int, int, int] | None]:
    """gdb's minimal symbol type, pydbg's kind and the binding of a symbol, indexed by
    (class of its section) * 256 + st_info; None for symbols gdb leaves out (section,
    file and TLS symbols, unknown bindings, symbols of sections it does not load)."""
    table: list[tuple[int, int, int] | None] = []
    for cls in range(4):
        for info in range(256):
            stype, bind = info & 0xF, info >> 4
            if cls == _C_SKIP or stype in _SKIPPED_TYPES or bind not in _BINDINGS:
                table.append(None)
                continue
            local = bind == STB_LOCAL
            ifunc = stype == STT_GNU_IFUNC
            if cls == _C_TEXT:
                mst = MST_FILE_TEXT if local else MST_TEXT_GNU_IFUNC if ifunc else MST_TEXT
            elif local:
                mst = MST_FILE_DATA if cls == _C_DATA else MST_FILE_BSS
            else:
                mst = MST_DATA_GNU_IFUNC if ifunc else MST_DATA if cls == _C_DATA else MST_BSS
            table.append((mst, _KIND_OF_STT.get(stype, _K_LABEL), bind))
    return table


_CLASSIFY = _classification()


def _regular(reader: _Reader, symsec: Section, keys: list[int], source: int) -> list[_Raw]:
    """Defined symbols of a .symtab or .dynsym, classified as gdb's elf_symtab_read does
    (with its skips: section, file and TLS symbols, undefined and common ones, those of
    non-allocated sections, local `.L` labels, compiler marker symbols)."""
    image = reader.image
    bases = []  # per section index: its class * 256, to index _CLASSIFY with
    for sec in image.sections:
        if not sec.flags & SHF_ALLOC or sec.flags & SHF_TLS or keys[sec.index] < 0:
            bases.append(_C_SKIP * 256)
        elif sec.flags & SHF_EXECINSTR:
            bases.append(_C_TEXT * 256)
        else:
            bases.append((_C_DATA if sec.type != SHT_NOBITS else _C_BSS) * 256)
    nsec = len(bases)
    hidden_of = _versym(image, symsec) if symsec.type == SHT_DYNSYM else []
    nhidden = len(hidden_of)
    classify = _CLASSIFY
    out: list[_Raw] = []
    append = out.append
    for i, (name, value, size, info, shndx) in enumerate(reader.rows(symsec)):
        if shndx >= nsec:
            if shndx == SHN_ABS and name and _CLASSIFY[_C_DATA * 256 + info] is not None:
                append((value, name, size, MST_ABS, -1, _K_ABS, info >> 4, source, False))
            continue  # common symbols, SHN_XINDEX, processor-specific indices
        # Section 0 (undefined symbols) is not allocated, so it classifies as None.
        cls = classify[bases[shndx] + info]
        if cls is None or not name:
            continue
        mst, kind, bind = cls
        if mst == MST_FILE_TEXT and (
            name.startswith((b".L", b"$L", b"__gnu_compiled")) or name in _COMPILED
        ):
            continue  # compiler-generated labels and marker symbols
        append(
            (value, name, size, mst, keys[shndx], kind, bind, source, i < nhidden and hidden_of[i])
        )
    if reader.has_versioned_names(symsec):
        # A default-versioned name ("foo@@VER", written by .symver) also answers to its
        # plain name, as a zero-sized alias (gdb records the same alias).
        for raw in list(out):
            at = raw[1].find(b"@@")
            if at > 0:
                append((raw[0], raw[1][:at], 0, *raw[3:]))
    return out


def _dynamic_trampolines(reader: _Reader, dynsym: Section) -> list[_Raw]:
    """Undefined dynamic functions with a value: the PLT address a non-PIE program uses
    as the function's address.  gdb records them under the plain name."""
    image = reader.image
    plt = image.section(".plt")
    out: list[_Raw] = []
    for name, value, _size, info, shndx in reader.rows(dynsym):
        if shndx != SHN_UNDEF or not value or not name:
            continue
        if info & 0xF not in (STT_FUNC, STT_GNU_IFUNC):
            continue
        sec = next(
            (s for s in image.sections if s.flags & SHF_ALLOC and s.addr <= value < s.end),
            None,
        )
        if sec is None or (plt is not None and not sec.name.startswith(".plt")):
            continue
        bind = info >> 4 if (info >> 4) in _BINDINGS else STB_GLOBAL
        out.append(
            (value, name, 0, MST_SOLIB_TRAMPOLINE, sec.index, _K_TRAMP, bind, _S_DYNSYM, False)
        )
    return out


def _got_plt_slots(reader: _Reader, dynsym: Section) -> list[_Raw]:
    """`name@got.plt` for each slot of the PLT's relocation section (gdb's
    elf_rel_plt_read)."""
    image = reader.image
    got_plt = image.section(".got.plt") or image.section(".got")
    if got_plt is None:
        return []
    plt = image.section(".plt")
    targets = {got_plt.index} | ({plt.index} if plt is not None else set())
    relplt = next(
        (s for s in image.sections if s.type in (SHT_RELA, SHT_REL) and s.info in targets),
        None,
    )
    if relplt is None:
        return []
    rows = reader.rows(dynsym)
    ptr = image.layout.ptr_size
    out: list[_Raw] = []
    for offset, _rtype, symidx, _addend in _read_relocs(image, relplt):
        if got_plt.addr <= offset < got_plt.end:
            sec = got_plt
        elif plt is not None and plt.addr <= offset < plt.end:
            sec = plt
        else:
            continue
        name = _reloc_symbol_name(rows, symidx) + b"@got.plt"
        out.append(
            (offset, name, ptr, MST_SLOT_GOT_PLT, sec.index, _K_GOT, STB_GLOBAL, _S_GOTPLT, False)
        )
    return out


def _plt_stubs(reader: _Reader, dynsym: Section) -> list[_Raw]:
    """`name@plt` (and the plain-name trampoline) for every PLT stub whose GOT slot has a
    JUMP_SLOT, GLOB_DAT or IRELATIVE relocation: BFD's synthetic symbols."""
    image = reader.image
    stubs: list[tuple[Section, int, int]] = []  # (PLT section, stub address, GOT slot)
    for sec_name in _PLT_SECTIONS:
        sec = image.section(sec_name)
        if sec is None or not sec.size or sec.type == SHT_NOBITS:
            continue
        data = image.read_section(sec)
        entry = _plt_entry_size(sec_name, data)
        for off in range(0, len(data) - entry + 1, entry):
            got = _plt_got_slot(data, off, entry, sec.addr)
            if got is not None:
                stubs.append((sec, sec.addr + off, got))
    if not stubs:
        return []
    # Only the relocations of the stubs' slots matter; a library has tens of thousands
    # of others (R_X86_64_RELATIVE) that are not worth turning into tuples.
    wanted = {got for _sec, _addr, got in stubs}
    relocs: dict[int, tuple[int, int, int]] = {}
    for sec in image.sections:
        if sec.type in (SHT_RELA, SHT_REL) and sec.link == dynsym.index:
            for offset, rtype, symidx, addend in _read_relocs(image, sec, wanted):
                relocs.setdefault(offset, (rtype, symidx, addend))
    rows = reader.rows(dynsym)
    used: set[int] = set()
    out: list[_Raw] = []
    for sec, addr, got in stubs:
        reloc = relocs.get(got)
        if reloc is None or reloc[0] not in _PLT_RELOCS or got in used:
            continue  # no relocation, or a slot already named by an earlier stub
        used.add(got)
        _rtype, symidx, addend = reloc
        name = _reloc_symbol_name(rows, symidx)
        if addend:
            name += b"+0x%x" % (addend & 0xFFFFFFFFFFFFFFFF)
        info = rows[symidx][3] if 0 < symidx < len(rows) else 0
        local = symidx != 0 and (info >> 4) == STB_LOCAL
        if local:
            mst = MST_FILE_TEXT
        elif (info & 0xF) == STT_GNU_IFUNC:
            mst = MST_TEXT_GNU_IFUNC
        else:
            mst = MST_TEXT
        bind = STB_LOCAL if local else STB_GLOBAL
        out.append((addr, name + b"@plt", 0, mst, sec.index, _K_PLT, bind, _S_PLT, False))
        if mst == MST_TEXT:
            # gdb also records the stub under the plain name, as a trampoline.
            out.append(
                (addr, name, 0, MST_SOLIB_TRAMPOLINE, sec.index, _K_TRAMP, bind, _S_PLT, False)
            )
    return out


# -- raw readers -----------------------------------------------------------------------


def _read_symbols(image: ElfImage, symsec: Section) -> tuple[list[_Row], bool]:
    """(name, value, size, info, shndx) of every entry of a symbol table, and whether
    its string table has a `@@` anywhere."""
    lay = image.layout
    entsize = symsec.entsize or lay.sym.size
    if entsize < lay.sym.size:
        raise ValueError(f"{symsec.name}: symbol entry size {entsize}")
    data = image.read_section(symsec)
    # A NUL at the end makes every find() succeed, even for a damaged last name.
    strtab = _linked_strings(image, symsec) + b"\0"
    count = len(data) // entsize
    if entsize == lay.sym.size:
        raw = list(lay.sym.iter_unpack(memoryview(data)[: count * entsize]))
    else:
        raw = [lay.sym.unpack_from(data, i * entsize) for i in range(count)]
    if not lay.is64:  # Elf32_Sym orders its fields differently
        raw = [(n, info, other, shndx, value, size) for n, value, size, info, other, shndx in raw]
    find = strtab.find
    rows = [
        (strtab[st_name : find(b"\0", st_name)], value, size, info, shndx)
        for st_name, info, _other, shndx, value, size in raw
    ]
    return rows, b"@@" in strtab


def _linked_strings(image: ElfImage, sec: Section) -> bytes:
    if not 0 < sec.link < len(image.sections):
        raise ValueError(f"{sec.name}: bad string table link {sec.link}")
    return image.read_section(image.sections[sec.link])


def _versym(image: ElfImage, dynsym: Section) -> list[bool]:
    """Per .dynsym index, whether its version is hidden (a non-default `foo@VER`)."""
    for sec in image.sections:
        if sec.type == SHT_GNU_VERSYM and sec.link == dynsym.index and sec.type != SHT_NOBITS:
            data = image.read_section(sec)
            fmt = struct.Struct(image.byte_order + "H")
            return [bool(v & VERSYM_HIDDEN) for (v,) in fmt.iter_unpack(data[: len(data) & ~1])]
    return []


def _read_relocs(
    image: ElfImage, sec: Section, offsets: set[int] | None = None
) -> list[tuple[int, int, int, int]]:
    """(offset, type, symbol index, addend) of the entries of a REL or RELA section (only
    those at `offsets`, when given)."""
    lay = image.layout
    fmt = lay.rela if sec.type == SHT_RELA else lay.rel
    entsize = sec.entsize or fmt.size
    if entsize < fmt.size:
        raise ValueError(f"{sec.name}: relocation entry size {entsize}")
    data = image.read_section(sec)
    count = len(data) // entsize
    if entsize == fmt.size:
        rows = fmt.iter_unpack(memoryview(data)[: count * entsize])
    else:
        rows = (fmt.unpack_from(data, i * entsize) for i in range(count))
    shift, mask = (32, 0xFFFFFFFF) if lay.is64 else (8, 0xFF)
    return [
        (row[0], row[1] & mask, row[1] >> shift, row[2] if len(row) > 2 else 0)
        for row in rows
        if offsets is None or row[0] in offsets
    ]


def _reloc_symbol_name(rows: list[_Row], symidx: int) -> bytes:
    """What BFD calls a relocation's symbol: its dynamic name, `*ABS*` for none."""
    if symidx == 0 or symidx >= len(rows):
        return b"*ABS*"
    return rows[symidx][0]


def _plt_entry_size(name: str, data: bytes) -> int:
    """Stubs are 16 bytes, except the non-lazy .plt.got / .plt.bnd ones without IBT
    (`jmp *slot(%rip); xchg %ax,%ax`), which are 8."""
    if name in (".plt.got", ".plt.bnd") and not data.startswith(_ENDBR64):
        return 8
    return 16


_disassembler: Cs | None = None


def _plt_got_slot(data: bytes, off: int, size: int, base: int) -> int | None:
    """The GOT slot a PLT stub jumps through, or None (PLT0, lazy IBT stubs that only
    push and jump to PLT0).  The known stub shapes are matched directly: optional
    endbr64, optional bnd prefix, then `ff 25 disp32` (jmp *disp32(%rip)); anything
    else is disassembled."""
    p = off
    if data[p : p + 4] == _ENDBR64:
        p += 4
    if data[p : p + 1] == b"\xf2":
        p += 1
    op = data[p : p + 2]
    if op == b"\xff\x25" and p + 6 <= off + size:
        disp: int = struct.unpack_from("<i", data, p + 2)[0]
        return base + p + 6 + disp
    if op == b"\xff\x35" or op[:1] == b"\x68":
        return None  # PLT0 (push GOT+8) or a lazy stub (push index; jmp PLT0)
    return _plt_got_slot_disassembled(data[off : off + size], base + off)


def _plt_got_slot_disassembled(code: bytes, address: int) -> int | None:
    global _disassembler
    if _disassembler is None:
        from capstone import CS_ARCH_X86, CS_MODE_64, Cs

        _disassembler = Cs(CS_ARCH_X86, CS_MODE_64)
        _disassembler.detail = True
    from capstone.x86 import X86_OP_MEM, X86_REG_RIP

    for insn in _disassembler.disasm(code, address):
        if insn.mnemonic not in ("jmp", "bnd jmp", "notrack jmp"):
            continue
        for op in insn.operands:
            if op.type == X86_OP_MEM and op.mem.base == X86_REG_RIP and op.mem.index == 0:
                return int(insn.address) + int(insn.size) + int(op.mem.disp)
    return None
