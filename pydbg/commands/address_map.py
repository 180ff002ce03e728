"""The address map of the current process (cdb's `!address`), from client.data_spaces.

    !address        every region, free gaps included, one a row:
                    base, end+1, size, type, state, protection, usage, and the mapping
                    (its r/w/x/p bits and the file or [heap], [stack], ...)
    !address ADDR   the region holding ADDR, one field a line; a free region says that
                    ADDR is not mapped

Usage, in cdb's words: Image (a file of a loaded module), MappedFile (another file),
Heap ([heap]), Stack ([stack], the main thread's), Other ([vdso], [vvar], [vsyscall]),
<unknown> (anonymous memory: other threads' stacks, malloc arenas, mmap), Free.
"""

from __future__ import annotations

from pydbg.addresses import hex64
from pydbg.commands.errors import CommandSyntaxError
from pydbg.commands.interpreter import Interpreter, command
from pydbg.data_spaces import MemoryRegion, MemoryState, MemoryType

_MEM = {
    MemoryState.COMMIT: "MEM_COMMIT",
    MemoryState.RESERVE: "MEM_RESERVE",
    MemoryState.FREE: "MEM_FREE",
    MemoryType.PRIVATE: "MEM_PRIVATE",
    MemoryType.MAPPED: "MEM_MAPPED",
    MemoryType.IMAGE: "MEM_IMAGE",
}


def usage(region: MemoryRegion) -> str:
    """cdb's Usage column for a region."""
    if region.state == MemoryState.FREE:
        return "Free"
    if region.type == MemoryType.IMAGE:
        return "Image"
    if region.path == "[heap]":
        return "Heap"
    if region.path.startswith("[stack"):
        return "Stack"
    if region.path.startswith("["):
        return "Other"
    if region.path:
        return "MappedFile"
    return "<unknown>"


def _short(value: int) -> str:
    """!address's number form: the high half without leading zeros (0`7ffe0000)."""
    return f"{value >> 32:x}`{value & 0xFFFFFFFF:08x}"


def _human(size: int) -> str:
    for unit, scale in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:8.3f} {unit}"
    return f"{size:4d} bytes"


def _mapping(region: MemoryRegion) -> str:
    if region.state == MemoryState.FREE:
        return ""
    return f"{region.perms} {region.path}".rstrip()


@command(
    "!address",
    summary="Show the address map, or the region that holds an address",
    syntax="!address [address]",
    example="!address @rsp",
)
def _address(interp: Interpreter, rest: str) -> None:
    text = rest.strip()
    spaces = interp.client.data_spaces
    if text.startswith("-"):
        raise CommandSyntaxError(
            f"!address {rest}", 9, f"unknown option {text.split()[0]!r}: !address [address]"
        )
    if text:
        address = interp.evaluate(text)
        interp.out(describe_region(address, spaces.query_virtual(address)))
        return
    header = (
        f"  {'BaseAddress':>17} {'EndAddress+1':>17} {'RegionSize':>17} "
        f"{'Type':<11} {'State':<11} {'Protect':<22} {'Usage':<10} Mapping"
    )
    lines = [header, "-" * len(header)]
    for region in spaces.regions(include_free=True):
        lines.append(
            f"+ {_short(region.base):>17} {_short(region.end):>17} {_short(region.size):>17} "
            f"{_MEM.get(region.type, ''):<11} {_MEM[region.state]:<11} "
            f"{'PAGE_' + region.protect.name:<22} {usage(region):<10} {_mapping(region)}".rstrip()
        )
    interp.out("\n".join(lines) + "\n")


def describe_region(address: int, region: MemoryRegion) -> str:
    """`!address ADDR`: the region holding ADDR (client.data_spaces.query_virtual), one
    field a line."""
    fields = [
        ("Usage", usage(region)),
        ("Base Address", hex64(region.base)),
        ("End Address", hex64(region.end)),
        ("Region Size", f"{hex64(region.size)} ({_human(region.size)})"),
        ("State", f"{region.state.value:08x}          {_MEM[region.state]}"),
        ("Protect", f"{region.protect.value:08x}          PAGE_{region.protect.name}"),
    ]
    if region.state == MemoryState.FREE:
        fields.append(("Mapping", f"none: {hex64(address)} is not mapped"))
    else:
        fields.insert(6, ("Type", f"{region.type.value:08x}          {_MEM[region.type]}"))
        fields.append(("Mapping", _mapping(region)))
    return "".join(f"{name + ':':<24}{value}\n" for name, value in fields)
