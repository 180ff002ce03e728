"""Core files: an ELF core of a stopped process, written from the session's facets, that
gdb, eu-stack and readelf read as a kernel-written one (pydbg.coredump.writer); and read
back (pydbg.coredump.reader), for the dump target (pydbg.engine.dump, `pydbg -z`).

    from pydbg.coredump import write_core
    write_core(client, "prog.core")

The writer sits on the facets, like a command; `reader` and `elf_layout` are plain
functions over bytes that import nothing of pydbg but its errors, so the engine may use
them.  `write_core` is therefore imported on first use: importing the package (as the
engine does for the reader) must not pull the facets in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydbg.coredump.writer import write_core

__all__ = ["write_core"]


def __getattr__(name: str) -> Any:
    if name == "write_core":
        from pydbg.coredump.writer import write_core

        return write_core
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
