"""Symbols of a live process: its modules (pydbg.engine.modules) joined with the symbols and
line tables of their files (pydbg.elf).

Names are cdb's: `module!name`, where the module name is the WinDbg-style one (`libc_so`,
`ls`); a bare `name` is looked up in the main image first, then in every other module,
and must be unique among the modules that define it (the main image's wins, as cdb
prefers the image being debugged).  Wildcards (`module!pat*`, `*!pat`) list matches.
Addresses are runtime ones: the module's load bias is added to the link-time addresses of
the files.  Files are opened lazily and cached by pydbg.elf (per file identity), so the
first lookup in a module pays for reading it and later ones cost microseconds.

Names are shown demangled (pydbg.elf.demangle), here and nowhere else, so that `k`, `ln`,
`x`, `u`, the stop display and crash reports agree: `cpp!ns::K::f(int)+0x17`, with the
parameter list, as gdb's `info symbol` and `nm -C` print it (cdb leaves it out, but then
two overloads would print the same); a C function gcc cloned keeps its linkage name
(`prog!check.cold`, `prog!scaled.constprop.0`), which `bp` and `x` take back as it is,
where gdb shows `check[cold]` and `scaled.constprop` (its Ada decoder's reading; see
pydbg.elf.names).  Lookups take linkage names, demangled names (`ns::K::f`, every
overload; `ns::K::f(int)`, one) and the source names of clones (`scaled` for
`scaled.constprop.0`): see `SymbolTable.lookup`.

Nothing from pyelftools escapes: pydbg.elf turns damaged files into ImageError, which
becomes "no symbols" here (the module is still listed, with an address but no names).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pydbg.elf.demangle import demangle
from pydbg.elf.errors import ImageError
from pydbg.elf.image import open_image
from pydbg.elf.inlines import InlinedCall
from pydbg.elf.symtab import Match
from pydbg.engine.rendezvous import LoadedObject
from pydbg.errors import AmbiguousSymbolError, SymbolError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydbg.elf.image import ElfImage
    from pydbg.engine.modules import ModuleWatch

# SymbolError and AmbiguousSymbolError are defined in pydbg.errors (public there) and kept
# importable from here.
__all__ = ["AmbiguousSymbolError", "Located", "SymbolError", "Symbolizer", "split_module"]

# A module name (`libc_so`, `cpp_names_pie`, or a pattern of them: `lib*`) before the `!`.
_MODULE = re.compile(r"[A-Za-z0-9_.*?\[\]-]+")


def split_module(text: str) -> tuple[str, str]:
    """(`module`, `name`) of `module!name`, ("", name) of a bare name.  The first `!`
    separates them, and only after something that can be a module name: the `!` of
    `ns::V::operator!=` is part of the name."""
    module, bang, name = text.partition("!")
    if bang and _MODULE.fullmatch(module):
        return module, name
    return "", text


@dataclass(frozen=True)
class Located:
    """A symbol found at runtime: its module, name as shown (demangled), runtime address,
    size and linkage name."""

    module: LoadedObject
    name: str
    address: int
    size: int
    linkage: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.module.module_name}!{self.name}"


class Symbolizer:
    """Symbol lookups for the processes of one engine."""

    def __init__(self, modules: Mapping[int, ModuleWatch]) -> None:
        self.watches = modules  # pid -> its module watch (the engine's module registry)

    # -- modules ------------------------------------------------------------------------------

    def modules(self, pid: int) -> tuple[LoadedObject, ...]:
        watch = self.watches.get(pid)
        return watch.objects if watch is not None else ()

    def module_at(self, pid: int, address: int) -> LoadedObject | None:
        for obj in self.modules(pid):
            if obj.base <= address < obj.base + obj.size:
                return obj
        return None

    def module_named(self, pid: int, name: str) -> LoadedObject | None:
        wanted = name.lower()
        for obj in self.modules(pid):
            if obj.module_name.lower() == wanted:
                return obj
        return None

    @staticmethod
    def image(obj: LoadedObject) -> ElfImage | None:
        """The module's file, or None when it has none (vDSO) or it cannot be read."""
        if obj.is_vdso or not obj.path.startswith("/"):
            return None
        try:
            return open_image(obj.path)
        except ImageError:
            return None

    # -- name -> address ----------------------------------------------------------------------

    def lookup(self, pid: int, text: str) -> Located | None:
        """The symbol `module!name` or `name` names; None if none does (the callers say
        what that means: pydbg.errors.UnknownSymbolError, or a register name in an
        expression).  Raises AmbiguousSymbolError for a bare name several modules define
        at different addresses, and for a source name with several locations in one
        module (`ns::K::f`: one per overload; `bp` sets one breakpoint per location,
        with `lookup_all`)."""
        found = self._resolved(pid, text)
        if not found:
            return None
        how, first_hits = found[0][1], found[0][2]
        if how != Match.LINKAGE and len(first_hits) > 1:
            raise AmbiguousSymbolError(text, tuple(hit.qualified for hit in first_hits))
        first = first_hits[0]
        if first.module.is_main or len(found) == 1:
            return first
        preferred = [hits[0] for _obj, _how, hits in found]
        if len({hit.address for hit in preferred}) > 1:
            raise AmbiguousSymbolError(text, tuple(hit.qualified for hit in preferred))
        return first

    def lookup_all(self, pid: int, text: str) -> list[Located]:
        """Every location `module!name` or `name` names, one per address: the overloads
        of a C++ function name, static functions of the same name in several files or
        modules.  The main image's when it has any (as `lookup` prefers it)."""
        found = self._resolved(pid, text)
        if found and found[0][0].is_main:
            return found[0][2]
        return [hit for _obj, _how, hits in found for hit in hits]

    def _resolved(self, pid: int, text: str) -> list[tuple[LoadedObject, Match, list[Located]]]:
        """The modules where `module!name` or `name` resolves, main image first, with
        their locations: only those of the best kind of match any module has, so that
        libc's `write` is not made ambiguous by libstdc++'s `std::ostream::write`."""
        module_name, name = split_module(text)
        if module_name:
            obj = self.module_named(pid, module_name)
            objects = [] if obj is None else [obj]
        else:
            objects = self._search_order(pid)
        found: list[tuple[LoadedObject, Match, list[Located]]] = []
        for obj in objects:
            image = self.image(obj)
            if image is None:
                continue
            try:
                how, symbols = image.symbols.resolve(name)
            except ImageError:
                continue
            seen: set[int] = set()  # a constructor's C1 and C2 share an address
            hits: list[Located] = []
            for s in symbols:
                if s.address not in seen:
                    seen.add(s.address)
                    hits.append(self._located(obj, s.name, s.address, s.size))
            if hits:
                found.append((obj, how, hits))
        if not found:
            return []
        best = min(how for _obj, how, _hits in found)
        return [entry for entry in found if entry[1] == best]

    def _search_order(self, pid: int) -> list[LoadedObject]:
        objects = list(self.modules(pid))
        return sorted(objects, key=lambda o: not o.is_main)

    @staticmethod
    def _located(obj: LoadedObject, linkage: str, address: int, size: int) -> Located:
        return Located(obj, demangle(linkage), address + obj.bias, size, linkage)

    def match(self, pid: int, pattern: str) -> list[Located]:
        """Every symbol matching `module!pattern` (both parts may have wildcards; the
        name part matches linkage and demangled names)."""
        module_pattern, name_pattern = split_module(pattern)
        module_pattern = (module_pattern or "*").lower()
        out: list[Located] = []
        for obj in self.modules(pid):
            if not fnmatch.fnmatchcase(obj.module_name.lower(), module_pattern):
                continue
            image = self.image(obj)
            if image is None:
                continue
            try:
                symbols = image.symbols.match(name_pattern)
            except ImageError:
                continue
            out.extend(self._located(obj, s.name, s.address, s.size) for s in symbols)
        return out

    # -- address -> name ----------------------------------------------------------------------

    def name_at(self, pid: int, address: int) -> tuple[str, int] | None:
        """(`module!name`, displacement) for an address; (`module`, offset from its
        base) when the module has no symbol there; None outside every module."""
        obj = self.module_at(pid, address)
        if obj is None:
            return None
        image = self.image(obj)
        if image is not None:
            try:
                hit = image.symbols.symbolize(address - obj.bias)
            except ImageError:
                hit = None
            if hit is not None:
                return f"{obj.module_name}!{demangle(hit[0])}", hit[1]
        return obj.module_name, address - obj.base

    def describe(self, pid: int, address: int) -> str:
        """`module!name+0x1f`, `module+0x1234`, or the bare hex address."""
        named = self.name_at(pid, address)
        if named is None:
            return f"{address:#x}"
        name, displacement = named
        return f"{name}+{displacement:#x}" if displacement else name

    # -- inlined calls ------------------------------------------------------------------------

    def inlined_at(self, pid: int, address: int) -> list[tuple[str, str, int]]:
        """(`module!function`, call file, call line) of each call the compiler inlined
        at an address, innermost first (DWARF inlined subroutines; pydbg.elf.inlines)."""
        obj = self.module_at(pid, address)
        image = self.image(obj) if obj is not None else None
        if obj is None or image is None:
            return []
        from pydbg.elf.inlines import inline_index

        try:
            calls = inline_index(image).calls_at(address - obj.bias)
        except ImageError:
            return []
        return [(f"{obj.module_name}!{c.function}", c.call_file, c.call_line) for c in calls]

    def inline_chain(self, pid: int, address: int) -> list[InlinedCall]:
        """The inlined calls at an address, innermost first, as pydbg.elf.inlines has
        them but with `module!function` names and runtime entry addresses."""
        obj = self.module_at(pid, address)
        image = self.image(obj) if obj is not None else None
        if obj is None or image is None:
            return []
        from pydbg.elf.inlines import inline_index

        try:
            calls = inline_index(image).calls_at(address - obj.bias)
        except ImageError:
            return []
        name, bias = obj.module_name, obj.bias
        return [
            replace(
                c,
                function=f"{name}!{c.function}",
                entry=c.entry + bias,
                starts=tuple(start + bias for start in c.starts),
            )
            for c in calls
        ]

    # -- lines --------------------------------------------------------------------------------

    def line_at(self, pid: int, address: int) -> tuple[str, int, int] | None:
        """(file, line, displacement from the line's first address), or None."""
        obj = self.module_at(pid, address)
        image = self.image(obj) if obj is not None else None
        if obj is None or image is None:
            return None
        try:
            row = image.lines.find_address(address - obj.bias)
        except ImageError:
            return None
        if row is None or row.line == 0:
            return None
        return row.path, row.line, address - obj.bias - row.address

    def addresses_of_line(self, pid: int, file: str, line: int) -> list[int]:
        out: list[int] = []
        for obj in self.modules(pid):
            image = self.image(obj)
            if image is None:
                continue
            try:
                addresses = image.lines.addresses_for_line(file, line)
            except ImageError:
                continue
            out.extend(a + obj.bias for a in addresses)
        return sorted(out)

    def debug_file(self, path: str) -> str | None:
        try:
            return open_image(path).find_debug_file()
        except ImageError:
            return None
