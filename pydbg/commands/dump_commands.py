"""`.dump`: writing the current process, stopped, to an ELF core file (pydbg.coredump).

    .dump /f FILE        the memory the kernel would dump (writable and touched anonymous
                         memory, ELF header pages; cdb's full user dump)
    .dump /ma FILE       every readable mapping (cdb's minidump with all memory)
    .dump /o /f FILE     overwrite FILE if it exists (without /o an existing file is kept
                         and the command fails, as in cdb)
    .dump FILE           the same as /f: a Linux core file has no minidump form

FILE is the rest of the line, `~` expanded; quote it ("my core") to keep leading or
trailing spaces.  An option is a `/` and letters before the file name, so a file at the
root needs one in front (`.dump /f /core`).  cdb's other options (/m with flags, /u, /c,
/b, /j, /k...) are refused with one line naming what pydbg writes instead.
"""

from __future__ import annotations

import os
import re

from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.interpreter import Interpreter, command
from pydbg.coredump import write_core
from pydbg.errors import NoTargetError

__all__ = ["DumpFileExistsError", "UnsupportedDumpOptionError"]

_OPTION = re.compile(r"/[A-Za-z]+(?=\s|$)")


class UnsupportedDumpOptionError(CommandError, ValueError):
    """A cdb `.dump` option pydbg has no equivalent of (Windows dump kinds and flags)."""


class DumpFileExistsError(CommandError, FileExistsError):
    """`.dump` without /o names a file that exists."""


@command(
    ".dump",
    summary="Write the current process to an ELF core file (gdb and eu-stack read it)",
    syntax=".dump [/o] [/f | /ma] FILE",
    example=".dump /f /tmp/prog.core",
)
def _dump(interp: Interpreter, rest: str) -> None:
    all_memory, overwrite, path = _parse(rest)
    if not interp.client.system_objects.get_number_processes():
        raise NoTargetError(".dump: no process is being debugged")
    if os.path.lexists(path) and not overwrite:
        raise DumpFileExistsError(f".dump: {path} exists; .dump /o overwrites it")
    kind = "all memory" if all_memory else "memory as the kernel dumps it"
    interp.out(f"Creating {path} - ELF core file ({kind})\n")
    write_core(interp.client, path, all_memory=all_memory)
    interp.out("Dump successfully written\n")


def _parse(rest: str) -> tuple[bool, bool, str]:
    """(all memory, overwrite, the file's path) of `.dump`'s arguments."""
    options: list[str] = []
    position = 0
    while True:
        while position < len(rest) and rest[position].isspace():
            position += 1
        match = _OPTION.match(rest, position)
        if match is None:
            break
        options.append(match.group())  # case matters: cdb's /mA is not /ma
        position = match.end()
    kinds = [option for option in options if option in ("/f", "/ma")]
    for option in options:
        if option not in ("/f", "/ma", "/o"):
            raise UnsupportedDumpOptionError(
                f".dump {option}: not supported; pydbg writes ELF core files: .dump /f FILE "
                "(the memory the kernel would dump) or .dump /ma FILE (all memory)"
            )
    if len(set(kinds)) > 1:
        raise CommandSyntaxError(f".dump {rest}", 6, "give one of /f and /ma")
    path = rest[position:].strip()
    if len(path) >= 2 and path[0] == path[-1] == '"':
        path = path[1:-1]
    if not path:
        raise CommandSyntaxError(f".dump {rest}", 6 + len(rest), ".dump needs a file name")
    return "/ma" in kinds, "/o" in options, os.path.expanduser(path)
