"""The DWARF debugging information of one ELF file (`DebugInfo`): opened lazily with
pyelftools from the file or its separate debug file (build id / .gnu_debuglink, as
pydbg.elf finds it), with the lookups the rest of pydbg.dwarf needs: the compilation unit
covering an address (through .debug_aranges, else each unit's ranges), and types and
global variables by name (an index of every unit's top-level DIEs, built on first use).

`debug_info_for(image)` hands out one DebugInfo per image for the whole process, as
pydbg.elf.open_image does for images.  Addresses here are link-time.
"""

from __future__ import annotations

import re
import struct
import threading
import zlib
from typing import Any, BinaryIO, cast

from pydbg.dwarf.aranges import AddressRanges
from pydbg.dwarf.errors import DwarfError
from pydbg.elf.errors import ImageError
from pydbg.elf.image import ElfImage, ImageStream

__all__ = ["DebugInfo", "debug_info_for", "die_ranges"]

# The tags whose top-level DIEs name a type `dt` can find.
TYPE_TAGS = frozenset(
    {
        "DW_TAG_structure_type",
        "DW_TAG_union_type",
        "DW_TAG_class_type",
        "DW_TAG_enumeration_type",
        "DW_TAG_typedef",
        "DW_TAG_base_type",
    }
)
CPLUS_LANGUAGES = frozenset({0x4, 0x1A, 0x21, 0x2B})  # DW_LANG_C_plus_plus, _03, _11, _14


# gcc's DWARF names of C integer types, and gdb's spelling of them (also inside C++
# template arguments: gcc names `Buffer<short int, 4>`, gdb `Buffer<short, 4>`).
GDB_BASE_NAMES = {
    "long long unsigned int": "unsigned long long",
    "long long int": "long long",
    "long unsigned int": "unsigned long",
    "short unsigned int": "unsigned short",
    "long int": "long",
    "short int": "short",
}
_BASE_NAME_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in GDB_BASE_NAMES) + r")\b")


def canonical_name(name: str) -> str:
    """A type name as gdb spells it (integer type names, also in template arguments)."""
    if name in GDB_BASE_NAMES:
        return GDB_BASE_NAMES[name]
    if "<" not in name:
        return name
    return _BASE_NAME_RE.sub(lambda m: GDB_BASE_NAMES[m.group(1)], name)


def die_ranges(die: Any, cu_base: int) -> list[tuple[int, int]]:
    """The [start, end) address ranges of a DIE (DW_AT_low_pc/high_pc or DW_AT_ranges)."""
    attrs = die.attributes
    low = attrs.get("DW_AT_low_pc")
    high = attrs.get("DW_AT_high_pc")
    if low is not None and high is not None:
        start = low.value
        # DWARF 4+: a high_pc of constant class is a length.
        end = high.value if high.form == "DW_FORM_addr" else start + high.value
        return [(start, end)]
    if "DW_AT_ranges" not in attrs:
        return []
    dwarf = die.cu.dwarfinfo
    lists = dwarf.range_lists()
    if lists is None:
        return []
    out: list[tuple[int, int]] = []
    base = cu_base
    for entry in lists.get_range_list_at_offset(attrs["DW_AT_ranges"].value, cu=die.cu):
        if hasattr(entry, "base_address"):
            base = entry.base_address
        elif entry.is_absolute:
            out.append((entry.begin_offset, entry.end_offset))
        else:
            out.append((base + entry.begin_offset, base + entry.end_offset))
    return out


class DebugInfo:
    """The DWARF of one image.  `available` tells whether there is any; lookups on an
    image without DWARF find nothing (they never raise for that)."""

    def __init__(self, image: ElfImage) -> None:
        self.image = image
        self.source: ElfImage | None = None
        self.error: str | None = None
        self._dwarf: Any = None
        self._opened = False
        self._aranges: AddressRanges | None = None
        self._lock = threading.RLock()
        self._names: dict[str, list[tuple[int, int]]] | None = None  # name -> (cu, die)
        self._unit_ranges: list[tuple[int, int, int]] | None = None
        self._readers: dict[int, Any] = {}
        # Location lists as pyelftools parsed them, by (unit offset, form, value).
        self.location_lists: dict[tuple[int, str, int], Any] = {}
        # Scopes by link-time pc and call sites by (function, return pc): a stack asks
        # for the same ones again at every `dv`, and finding them walks DIE trees.
        self.scopes: dict[Any, Any] = {}  # pc, or (pc, inline depth) -> Scope
        self.call_sites: dict[tuple[int, int], Any] = {}
        self._definitions: dict[int, dict[int, Any]] = {}

    @property
    def dwarf(self) -> Any:
        """pyelftools' DWARFInfo, or None."""
        self._open()
        return self._dwarf

    @property
    def available(self) -> bool:
        return self._open()

    def _open(self) -> bool:
        with self._lock:
            if self._opened:
                return self._dwarf is not None
            self._opened = True
            try:
                source: ElfImage | None = self.image if self.image.has_debug_info else None
                if source is None:
                    debug = self.image.debug_image
                    if debug is not None and debug.has_debug_info:
                        source = debug
            except ImageError as exc:
                self.error = f"no debug info: {exc}"
                return False
            if source is None:
                return False
            self.source = source
            try:
                from elftools.elf.elffile import ELFFile

                elf = ELFFile(cast(BinaryIO, ImageStream(source)))
                # Relocating means scanning every section for .rela.debug_*: only object
                # files (ET_REL) have them.
                relocatable = elf.header.e_type == "ET_REL"
                self._dwarf = elf.get_dwarf_info(relocate_dwarf_sections=relocatable)
                section = source.section(".debug_aranges")
                if section is not None and not relocatable:
                    self._aranges = AddressRanges(_section_bytes(source, section))
            except Exception as exc:  # pyelftools raises anything on garbage
                self.error = f"{source.path}: no debug info: {exc}"
                self._dwarf = None
                return False
            return True

    # -- units ------------------------------------------------------------------------

    def unit_at(self, address: int) -> Any:
        """The compilation unit whose code covers a link-time address, or None."""
        if not self._open():
            return None
        with self._lock:
            if self._aranges is not None:
                offset = self._aranges.unit_at(address)
                if offset is not None:
                    return self._dwarf.get_CU_at(offset)
            for start, end, offset in self._all_unit_ranges():
                if start <= address < end:
                    return self._dwarf.get_CU_at(offset)
        return None

    def _all_unit_ranges(self) -> list[tuple[int, int, int]]:
        if self._unit_ranges is None:
            ranges: list[tuple[int, int, int]] = []
            for cu in self._dwarf.iter_CUs():
                top = cu.get_top_DIE()
                try:
                    found = die_ranges(top, unit_base(top))
                except Exception:  # a damaged range list: the unit is not found by address
                    found = []
                ranges.extend((s, e, cu.cu_offset) for s, e in found)
            self._unit_ranges = ranges
        return self._unit_ranges

    def die_at(self, offset: int) -> Any:
        """The DIE at a .debug_info offset."""
        return self._dwarf.get_DIE_from_refaddr(offset)

    # -- names ------------------------------------------------------------------------

    def _index(self) -> dict[str, list[tuple[int, int]]]:
        if self._names is None:
            names: dict[str, list[tuple[int, int]]] = {}
            if self._open():
                for cu in self._dwarf.iter_CUs():
                    self._index_children(cu.get_top_DIE(), "", names)
            self._names = names
        return self._names

    def _index_children(
        self, parent: Any, prefix: str, names: dict[str, list[tuple[int, int]]]
    ) -> None:
        # C++ namespaces hold their types and variables: indexed as `ns::name`.
        for die in parent.iter_children():
            attr = die.attributes.get("DW_AT_name")
            if die.tag == "DW_TAG_namespace":
                inner = attr.value.decode("utf-8", "replace") if attr else "(anonymous namespace)"
                self._index_children(die, f"{prefix}{inner}::", names)
                continue
            if attr is None:
                continue
            name = prefix + canonical_name(attr.value.decode("utf-8", "replace"))
            names.setdefault(name, []).append((die.cu.cu_offset, die.offset))

    def find_named(self, name: str, tags: frozenset[str]) -> list[Any]:
        """Top-level DIEs named `name` with one of `tags`, complete definitions first."""
        with self._lock:
            found = []
            for _, offset in self._index().get(name, []):
                die = self.die_at(offset)
                if die.tag in tags:
                    found.append(die)
        return sorted(found, key=lambda d: "DW_AT_declaration" in d.attributes)

    def find_type_die(self, name: str) -> Any:
        """The DIE of a type by its name (`node`, `struct node`, `enum color`), or None."""
        for keyword, tags in (
            ("struct ", {"DW_TAG_structure_type", "DW_TAG_class_type"}),
            ("union ", {"DW_TAG_union_type"}),
            ("enum ", {"DW_TAG_enumeration_type"}),
            ("class ", {"DW_TAG_class_type", "DW_TAG_structure_type"}),
        ):
            if name.startswith(keyword):
                found = self.find_named(name[len(keyword) :].strip(), frozenset(tags))
                return found[0] if found else None
        found = self.find_named(name, TYPE_TAGS)
        return found[0] if found else None

    def find_variable_die(self, name: str) -> Any:
        """A global variable's DIE with a location (the definition), or None."""
        for die in self.find_named(name, frozenset({"DW_TAG_variable"})):
            if "DW_AT_location" in die.attributes:
                return die
            # An extern declaration or a C++ static member: the definition is another DIE
            # whose DW_AT_specification points back here.
            definition = self._definition_of(die)
            if definition is not None:
                return definition
        return None

    def _definition_of(self, declaration: Any) -> Any:
        for sibling in declaration.cu.get_top_DIE().iter_children():
            spec = sibling.attributes.get("DW_AT_specification")
            if (
                spec is not None
                and "DW_AT_location" in sibling.attributes
                and sibling.get_DIE_from_attribute("DW_AT_specification").offset
                == declaration.offset
            ):
                return sibling
        return None

    def static_definition(self, member_offset: int) -> Any:
        """The DIE defining a C++ static data member (DW_AT_specification pointing at the
        member's DIE, with the location), searched in the member's unit; None if none."""
        with self._lock:
            cu = self._dwarf.get_CU_containing(member_offset)
            table = self._definitions.get(cu.cu_offset)
            if table is None:
                table = {}
                stack = [cu.get_top_DIE()]
                while stack:
                    for die in stack.pop().iter_children():
                        if die.tag == "DW_TAG_namespace":
                            stack.append(die)
                        elif die.tag == "DW_TAG_variable":
                            spec = die.attributes.get("DW_AT_specification")
                            if spec is not None and "DW_AT_location" in die.attributes:
                                table[
                                    spec.value
                                    + (0 if spec.form == "DW_FORM_ref_addr" else cu.cu_offset)
                                ] = die
                self._definitions[cu.cu_offset] = table
            return table.get(member_offset)

    def lock(self) -> threading.RLock:
        """pyelftools parses from shared streams: one reader at a time."""
        return self._lock


SHF_COMPRESSED = 0x800
ELFCOMPRESS_ZLIB = 1


def _section_bytes(image: ElfImage, section: Any) -> bytes:
    """A section's contents, inflated when SHF_COMPRESSED (Debian's debug files compress
    their .debug_* sections: an Elf64_Chdr, then a zlib stream)."""
    data = image.read_section(section)
    if not section.flags & SHF_COMPRESSED:
        return data
    ch_type, _, ch_size, _ = struct.unpack_from("<IIQQ", data)
    if ch_type != ELFCOMPRESS_ZLIB:
        raise DwarfError(f"{image.path}: {section.name} has compression type {ch_type}")
    out = zlib.decompress(data[24:])
    return out[:ch_size]


def unit_base(top: Any) -> int:
    """A unit's base address (DW_AT_low_pc of its top DIE, 0 without one)."""
    low = top.attributes.get("DW_AT_low_pc")
    return low.value if low is not None else 0


def is_cplus(cu: Any) -> bool:
    lang = cu.get_top_DIE().attributes.get("DW_AT_language")
    return lang is not None and lang.value in CPLUS_LANGUAGES


_infos: dict[tuple[str, object], DebugInfo] = {}
_infos_lock = threading.Lock()


def debug_info_for(image: ElfImage) -> DebugInfo:
    """The process-wide DebugInfo of an image."""
    key = (image.path, getattr(image, "file_id", None))
    with _infos_lock:
        info = _infos.get(key)
        if info is None or info.image is not image:
            info = _infos[key] = DebugInfo(image)
        return info


def die_name(die: Any) -> str:
    """A DIE's DW_AT_name, "" without one."""
    attr = die.attributes.get("DW_AT_name")
    return attr.value.decode("utf-8", "replace") if attr is not None else ""
