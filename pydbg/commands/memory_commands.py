"""cdb's memory commands, registered with the command language (spec §8):

    display     db dw dd dc dq dp, dps dqs dds, da du      pydbg.commands.memory_display
    change      eb ew ed eq ep, ea eza eu ezu, f           pydbg.commands.memory_edit
    search      s, and compare: c                          pydbg.commands.memory_search
    address map !address                                   pydbg.commands.address_map

Ranges, value lists and strings are read as pydbg.commands.memory_args describes.  The
commands use the public facets only: memory through client.data_spaces (reads, writes,
fill_virtual, search_virtual_all, regions, query_virtual), names through client.symbols.
"""

from pydbg.commands import address_map, memory_display, memory_edit, memory_search

__all__ = ["address_map", "memory_display", "memory_edit", "memory_search"]
