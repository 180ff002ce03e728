"""pydbg.elf: the file side of symbols.  ELF images on disk, their symbol tables and DWARF
line tables, with no process involved.

    from pydbg.elf import open_image

    image = open_image("/usr/lib/x86_64-linux-gnu/libc.so.6")
    image.symbols.address_of("malloc")          # link-time address
    image.symbols.symbolize(0x98944)            # ("malloc", 20), as gdb's `info symbol`
    image.lines.line_for_address(0x98944)       # ("malloc/malloc.c", 3288) with debug info
    bias = image.load_bias(runtime_base)        # runtime = link-time + bias

- `image`: `ElfImage` (headers, sections, PT_LOAD segments, build id, debuglink, the
  separate debug file) and the per-process cache (`open_image`, `clear_cache`);
- `symtab`: `SymbolTable`, gdb's minimal symbols (.symtab, .dynsym, `name@plt`, the debug
  file's .symtab) with name and address lookups;
- `lines`: `LineTable`, DWARF .debug_line (2-5) lookups both ways;
- `names`: `gdb_print_name`, how gdb displays a linkage name;
- `demangle`: C++ and Rust demangling, gcc clone suffixes, the function name of a
  demangled name (what `bp ns::K::f` matches);
- `inlines`: `inline_index(image).calls_at(addr)`, the calls inlined at an address (DWARF);
- `errors`: `ImageError` and its subclasses, the only exceptions this package raises.
"""

from pydbg.elf.errors import (
    CorruptImageError,
    ImageError,
    ImageFileError,
    ImageNotFoundError,
    NotElfError,
)
from pydbg.elf.image import (
    DEBUG_FILE_DIRECTORIES,
    DebugLink,
    ElfImage,
    Section,
    Segment,
    clear_cache,
    open_image,
)
from pydbg.elf.lines import LineTable, SourceLine
from pydbg.elf.names import gdb_print_name
from pydbg.elf.symtab import Binding, Symbol, SymbolKind, SymbolTable

__all__ = [
    "DEBUG_FILE_DIRECTORIES",
    "Binding",
    "CorruptImageError",
    "DebugLink",
    "ElfImage",
    "ImageError",
    "ImageFileError",
    "ImageNotFoundError",
    "LineTable",
    "NotElfError",
    "Section",
    "Segment",
    "SourceLine",
    "Symbol",
    "SymbolKind",
    "SymbolTable",
    "clear_cache",
    "gdb_print_name",
    "open_image",
]
