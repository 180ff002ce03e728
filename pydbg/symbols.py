"""The symbols facet (IDebugSymbols): the modules of the current process.

For now modules are what /proc/PID/maps shows: every mapped file (the main image, the
dynamic loader, shared libraries) and the vDSO, each with its base (lowest mapped address),
size, path and WinDbg-style name (`libc.so.6` -> `libc_so`, spec §9.5).  The list is read
when asked for, so it is always current; tracking loads through the loader's rendezvous,
symbol names and source lines come with the symbols work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import psutil

from pydbg.engine.images import module_name
from pydbg.engine.session import EngineError

if TYPE_CHECKING:
    from pydbg.engine.session import Engine

__all__ = ["Module", "Symbols", "UnknownModuleError"]


class UnknownModuleError(EngineError, LookupError):
    """No module has this name, index or address."""


@dataclass(frozen=True)
class Module:
    """DEBUG_MODULE_PARAMETERS, the parts Linux has."""

    base: int
    size: int
    module_name: str
    image_name: str


class Symbols:
    """client.symbols."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def modules(self) -> list[Module]:
        """Every module of the current process, by base address."""
        pid = self._engine.require_stopped("symbols").process.pid
        spans: dict[str, list[int]] = {}
        try:
            for region in psutil.Process(pid).memory_maps(grouped=False):
                path = region.path
                if not (path.startswith("/") or path == "[vdso]"):
                    continue
                start, stop = (int(x, 16) for x in region.addr.split("-"))
                span = spans.setdefault(path, [start, stop])
                span[0], span[1] = min(span[0], start), max(span[1], stop)
        except (psutil.Error, OSError) as exc:
            raise EngineError(f"cannot read the mappings of process {pid}: {exc}") from exc
        out = [
            Module(start, stop - start, "vdso" if path == "[vdso]" else module_name(path), path)
            for path, (start, stop) in spans.items()
        ]
        return sorted(out, key=lambda m: m.base)

    def get_number_modules(self) -> tuple[int, int]:
        """(loaded, unloaded) module counts; pydbg does not keep unloaded modules yet."""
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
        raise UnknownModuleError(f"no module is named {name!r}")

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
