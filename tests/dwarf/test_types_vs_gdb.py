"""Type layouts against gdb's `ptype /o`: every member's offset (and bit position), size
and name, nested structs and unions expanded as gdb expands them, and total sizes; C
(-O0/-O2, PIE and not) and C++ (base classes, virtual functions, references, templates,
namespaces).  Read from the files alone, no process."""

from __future__ import annotations

import re

import pytest

from pydbg.dwarf.debug_info import DebugInfo
from pydbg.dwarf.type_reader import TypeReader
from pydbg.dwarf.types import ArrayType, PointerType, StructType, Type, type_name
from pydbg.elf.image import ElfImage
from tests.dwarf.conftest import FLAGS, gdb_batch, needs_gdb

C_TYPES = ["struct node", "struct bits", "union number", "struct point", "struct packet"]
CPP_TYPES = [
    "shapes::Shape",
    "shapes::Circle",
    "shapes::Mixin",
    "shapes::Fancy",
    "shapes::Buffer<short, 4>",
]
_LINE = re.compile(r"^/\*\s*(?:(\d+)(?::\s*(\d+))?\s*\|)?\s*(\d+) \*/\s+(.*)$")
_TOTAL = re.compile(r"/\* total size \(bytes\):\s*(\d+) \*/")

Row = tuple[int | None, int | None, int, str]


def _leaf_name(decl: str) -> str:
    decl = decl.rstrip(";")
    decl = re.sub(r"\s*:\s*\d+$", "", decl)  # a bitfield's width
    decl = re.sub(r"(\[\d*\])+$", "", decl)  # array dimensions
    return re.split(r"[\s*&]+", decl)[-1]


def gdb_layout(text: str) -> tuple[list[Row], int]:
    """(rows, total size) of one `ptype /o` output: a row per member line, `{` for the
    opening line of an expanded nested struct or union."""
    rows: list[Row] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match or "static " in line:
            continue
        offset, bit, size, decl = match.groups()
        name = "{" if decl.endswith("{") else _leaf_name(decl)
        rows.append(
            (
                None if offset is None else int(offset),
                None if bit is None else int(bit),
                int(size),
                name,
            )
        )
    totals = _TOTAL.findall(text)
    return rows, int(totals[-1])


def our_layout(t: Type, base: int = 0, in_union: bool = False) -> list[Row]:
    assert isinstance(t, StructType)
    rows: list[Row] = []
    for m in t.members:
        if m.is_static or m.artificial or m.is_base:
            continue
        offset = None if in_union else base + m.offset
        bit = m.bit_offset % 8 if m.bit_size else None
        if isinstance(m.type, StructType):
            rows.append((offset, bit, m.type.size, "{"))
            rows += our_layout(m.type, base + m.offset, m.type.keyword == "union")
        else:
            rows.append((offset, bit, m.type.size, m.name))
    return rows


def _reader(path: str) -> tuple[DebugInfo, TypeReader]:
    info = DebugInfo(ElfImage(path))
    assert info.available, info.error
    return info, TypeReader(info)


def _type(info: DebugInfo, types: TypeReader, name: str) -> Type:
    die = info.find_type_die(name)
    assert die is not None, name
    return types.read(die)


@needs_gdb
@pytest.mark.parametrize("variant", list(FLAGS))
def test_c_layouts_match_ptype_o(dw_builds, variant) -> None:
    path = dw_builds["dwvars", variant]
    output = gdb_batch(path, [f"ptype /o {name}" for name in C_TYPES] + ["echo END\\n"])
    chunks = output.split("/* offset")[1:]
    assert len(chunks) == len(C_TYPES), output
    info, types = _reader(path)
    for name, chunk in zip(C_TYPES, chunks, strict=True):
        expected, total = gdb_layout(chunk)
        t = _type(info, types, name)
        assert isinstance(t, StructType)
        assert our_layout(t, in_union=t.keyword == "union") == expected, name
        assert t.size == total, name
        assert type_name(t) == name


@needs_gdb
@pytest.mark.parametrize("variant", ["O0-pie", "O2-nopie"])
def test_cpp_layouts_and_bases_match_gdb(dw_builds, variant) -> None:
    path = dw_builds["dwclasses", variant]
    casts = [
        ("shapes::Fancy", "shapes::Circle"),
        ("shapes::Fancy", "shapes::Mixin"),
        ("shapes::Circle", "shapes::Shape"),
    ]
    commands = [f"ptype /o {name}" for name in CPP_TYPES] + [
        f"print (char*)({base}*)({derived}*)0x1000 - (char*)0x1000" for derived, base in casts
    ]
    output = gdb_batch(path, commands)
    chunks = output.split("/* offset")[1:]
    assert len(chunks) == len(CPP_TYPES), output
    info, types = _reader(path)
    for name, chunk in zip(CPP_TYPES, chunks, strict=True):
        expected, total = gdb_layout(chunk.split("$1 =")[0])
        t = _type(info, types, name)
        assert our_layout(t) == expected, name
        assert t.size == total, name
        assert type_name(t) == name
    offsets = [int(v) for v in re.findall(r"^\$\d+ = (\d+)$", output, re.M)]
    for (derived, base), offset in zip(casts, offsets, strict=True):
        t = _type(info, types, derived)
        assert isinstance(t, StructType)
        assert [m.offset for m in t.members if m.is_base and m.name == base] == [offset]
    fancy = _type(info, types, "shapes::Fancy")
    assert isinstance(fancy, StructType)
    where = next(m for m in fancy.members if m.name == "where")
    assert isinstance(where.type, PointerType) and where.type.sigil == "&"
    assert type_name(where.type) == "const shapes::Point &"
    shape = _type(info, types, "shapes::Shape")
    assert isinstance(shape, StructType)
    assert [m.name for m in shape.members if m.artificial] == ["_vptr.Shape"]


@needs_gdb
def test_type_names_match_whatis(dw_builds) -> None:
    path = dw_builds["dwvars", "O0-pie"]
    names = {
        "global_nodes": None,
        "global_label": None,
        "tls_counter": None,
        "global_nodes[0].grid": None,
        "global_nodes[0].op": None,
        "global_nodes[0].counter": None,
    }
    output = gdb_batch(path, [f"whatis {n}" for n in names])
    expected = re.findall(r"^type = (.*)$", output, re.M)
    info, types = _reader(path)
    ours = []
    for name in names:
        base, _, rest = name.partition("[0].")
        die = info.find_variable_die(base)
        assert die is not None, base
        t = types.type_of(die)
        if rest:
            assert isinstance(t, ArrayType)
            element = t.element
            assert isinstance(element, StructType)
            t = next(m.type for m in element.members if m.name == rest)
        ours.append(type_name(t))
    assert ours == expected
