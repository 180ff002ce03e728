"""The symbols facet (IDebugSymbols): modules, symbol names, source lines.

Modules are what the dynamic loader has loaded (pydbg.engine.modules: the main image, the
loader, the vDSO and every shared library), each with its base (lowest mapped address),
size, path, WinDbg-style name (`libc.so.6` -> `libc_so`, spec §9.5) and build id.
Symbols come from each module's file (.symtab, .dynsym, PLT stubs, a separate debug file
found by build id or .gnu_debuglink) and are named `module!name`; lines from DWARF line
tables.  Everything is about the current process; addresses are runtime addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.errors import EngineError, SymbolError, UnknownSymbolError

if TYPE_CHECKING:
    from pydbg.engine.rendezvous import LoadedObject
    from pydbg.engine.session import Engine

__all__ = ["Module", "Symbols", "SymbolError", "UnknownModuleError", "UnknownModuleSymbolError"]


class UnknownModuleError(EngineError, LookupError):
    """No module has this name, index or address."""


class UnknownModuleSymbolError(UnknownModuleError, UnknownSymbolError):
    """`module!name` where no module of that name is loaded: an unknown module, and so an
    unknown symbol (which a later module load may define)."""


@dataclass(frozen=True)
class Module:
    """DEBUG_MODULE_PARAMETERS, the parts Linux has, and the build id."""

    base: int
    size: int
    module_name: str
    image_name: str
    build_id: str | None = None
    bias: int = 0  # what link-time addresses of the file add up with at runtime


def _module(obj: LoadedObject) -> Module:
    return Module(obj.base, obj.size, obj.module_name, obj.path, obj.build_id, obj.bias)


class Symbols:
    """client.symbols."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _pid(self, what: str) -> int:
        return self._engine.require_stopped(what).process.pid

    # -- modules --------------------------------------------------------------------------------

    def modules(self) -> list[Module]:
        """Every module of the current process, by base address."""
        pid = self._pid("modules")
        objects = self._engine.symbols.modules(pid)
        return sorted((_module(o) for o in objects if o.size), key=lambda m: m.base)

    def get_number_modules(self) -> tuple[int, int]:
        """(loaded, unloaded) module counts; unloaded modules are not kept."""
        return len(self.modules()), 0

    def get_module_by_index(self, index: int) -> int:
        modules = self.modules()
        if not 0 <= index < len(modules):
            raise UnknownModuleError(f"module index {index} out of range (0..{len(modules) - 1})")
        return modules[index].base

    def get_module_by_module_name(self, name: str, start_index: int = 0) -> tuple[int, int]:
        """(index, base) of the first module from `start_index` with this name."""
        for index, module in enumerate(self.modules()):
            if index >= start_index and module.module_name.lower() == name.lower():
                return index, module.base
        known = ", ".join(m.module_name for m in self.modules())
        raise UnknownModuleError(f"no module is named {name!r} (modules: {known})")

    def get_module_by_offset(self, offset: int, start_index: int = 0) -> tuple[int, int]:
        """(index, base) of the module whose mapped range contains `offset`."""
        for index, module in enumerate(self.modules()):
            if index >= start_index and module.base <= offset < module.base + module.size:
                return index, module.base
        raise UnknownModuleError(f"no module contains address {offset:#x}")

    def get_module_parameters(self, bases: list[int]) -> list[Module]:
        by_base = {m.base: m for m in self.modules()}
        try:
            return [by_base[base] for base in bases]
        except KeyError as exc:
            raise UnknownModuleError(f"no module has base {exc.args[0]:#x}") from None

    # -- symbols --------------------------------------------------------------------------------

    def get_offset_by_name(self, name: str) -> int:
        """GetOffsetByName: the address of `module!name` or a bare `name`.  Raises
        UnknownSymbolError if nothing has the name, AmbiguousSymbolError for a bare name
        several modules define, UnknownModuleError for `module!name` of no loaded module.
        The targets need not be stopped: a lookup reads the module lists and their files,
        not the process."""
        self._engine.check_thread("get_offset_by_name")
        pid = self._engine.current_process("get_offset_by_name").pid
        found = self._engine.symbols.lookup(pid, name)
        if found is None:
            module, bang, _ = name.rpartition("!")
            if bang and self._engine.symbols.module_named(pid, module) is None:
                raise UnknownModuleSymbolError(name, f"no module is named {module!r}")
            raise UnknownSymbolError(name, f"no symbol is named {name!r}")
        return found.address

    def get_name_by_offset(self, offset: int) -> tuple[str, int]:
        """GetNameByOffset: (`module!name`, displacement) of the symbol at or before the
        address, or (`module`, offset) where the module has no symbol there."""
        pid = self._pid("get_name_by_offset")
        named = self._engine.symbols.name_at(pid, offset)
        if named is None:
            raise SymbolError(f"address {offset:#x} is in no module")
        return named

    def get_symbols_matching(self, pattern: str) -> list[tuple[str, int]]:
        """(`module!name`, address) of every symbol matching `module!pattern` (pydbg; the
        `x` command)."""
        pid = self._pid("get_symbols_matching")
        return [(hit.qualified, hit.address) for hit in self._engine.symbols.match(pid, pattern)]

    # -- lines ----------------------------------------------------------------------------------

    def get_line_by_offset(self, offset: int) -> tuple[int, str, int]:
        """GetLineByOffset: (line, file, displacement of offset from the line's start)."""
        pid = self._pid("get_line_by_offset")
        found = self._engine.symbols.line_at(pid, offset)
        if found is None:
            raise SymbolError(f"no line information for address {offset:#x}")
        file, line, displacement = found
        return line, file, displacement

    def get_offset_by_line(self, line: int, file: str) -> int:
        """GetOffsetByLine: the first address of a source line (file by path or name)."""
        pid = self._pid("get_offset_by_line")
        addresses = self._engine.symbols.addresses_of_line(pid, file, line)
        if not addresses:
            raise SymbolError(f"no code for {file}:{line}")
        return addresses[0]
