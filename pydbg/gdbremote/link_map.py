"""qXfer:libraries-svr4:read: the dynamic loader's link map, as gdbserver reports it.

The list is read from the target's memory through the data spaces facet, the way the
dynamic loader publishes it (glibc's <link.h>): the program headers at AT_PHDR (auxv)
give the load bias (AT_PHDR minus PT_PHDR's address) and the address of the dynamic
section; its DT_DEBUG entry points at `struct r_debug`, whose r_map heads the list of
`struct link_map` {l_addr, l_name, l_ld, l_next, l_prev}.  The first entry is the main
program (reported as main-lm, not as a library), as gdbserver does.

Before the loader has filled DT_DEBUG (at the first instruction) the list is empty; gdb
then finds the loader through auxv's AT_BASE and reads the list again at its breakpoint
in the loader.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

if TYPE_CHECKING:
    from pydbg.data_spaces import DataSpaces

__all__ = ["libraries_svr4_xml"]

AT_PHDR = 3
AT_PHNUM = 5
PT_DYNAMIC = 2
PT_PHDR = 6
DT_NULL = 0
DT_DEBUG = 21
_MAX_OBJECTS = 4096  # a cycle in a corrupt list must not hang the server
_MAX_NAME = 4096


def _auxv(raw: bytes) -> dict[int, int]:
    out: dict[int, int] = {}
    for key, value in struct.iter_unpack("<QQ", raw[: len(raw) // 16 * 16]):
        if key == 0:
            break
        out[key] = value
    return out


def _u64(data: DataSpaces, address: int) -> int:
    return int.from_bytes(data.read_virtual(address, 8), "little")


def _string(data: DataSpaces, address: int) -> str:
    out = bytearray()
    while len(out) < _MAX_NAME:
        chunk = data.read_virtual(address + len(out), 64 - (address + len(out)) % 64)
        end = chunk.find(b"\0")
        if end >= 0:
            out += chunk[:end]
            break
        out += chunk
    return out.decode("utf-8", "surrogateescape")


def r_debug_address(data: DataSpaces, auxv: bytes) -> int:
    """The address of `struct r_debug`, 0 while the loader has not published it."""
    vector = _auxv(auxv)
    phdr, phnum = vector.get(AT_PHDR), vector.get(AT_PHNUM)
    if not phdr or not phnum:
        return 0
    headers = data.read_virtual(phdr, 56 * phnum)
    entries = [struct.unpack_from("<IIQQQQQQ", headers, 56 * i) for i in range(phnum)]
    bias = 0
    for p_type, _flags, _offset, vaddr, *_ in entries:
        if p_type == PT_PHDR:
            bias = phdr - vaddr
    for p_type, _flags, _offset, vaddr, _paddr, _filesz, memsz, _align in entries:
        if p_type != PT_DYNAMIC:
            continue
        dynamic = data.read_virtual(bias + vaddr, memsz - memsz % 16)
        for tag, value in struct.iter_unpack("<qQ", dynamic):
            if tag == DT_NULL:
                break
            if tag == DT_DEBUG:
                return int(value)
    return 0


def libraries_svr4_xml(data: DataSpaces, auxv: bytes) -> str:
    """The <library-list-svr4> document for the current process."""
    r_debug = r_debug_address(data, auxv)
    link = _u64(data, r_debug + 8) if r_debug else 0
    main_lm = link
    libraries = []
    seen: set[int] = set()
    while link and link not in seen and len(seen) < _MAX_OBJECTS:
        seen.add(link)
        l_addr, l_name, l_ld, l_next = struct.unpack("<QQQQ", data.read_virtual(link, 32))
        if link != main_lm:
            name = _string(data, l_name) if l_name else ""
            if name:
                libraries.append(
                    f'<library name={quoteattr(name)} lm="{link:#x}" '
                    f'l_addr="{l_addr:#x}" l_ld="{l_ld:#x}" lmid="0x0"/>'
                )
        link = l_next
    head = '<library-list-svr4 version="1.0"'
    if main_lm:
        head += f' main-lm="{main_lm:#x}"'
    return head + ">" + "".join(libraries) + "</library-list-svr4>"
