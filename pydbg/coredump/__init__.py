"""Core files: an ELF core of a stopped process, written from the session's facets, that
gdb, eu-stack and readelf read as a kernel-written one (pydbg.coredump.writer).

    from pydbg.coredump import write_core
    write_core(client, "prog.core")
"""

from pydbg.coredump.writer import write_core

__all__ = ["write_core"]
