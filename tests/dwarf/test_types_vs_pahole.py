"""Struct layouts against pahole (dwarves), a second reader of the same DWARF: each
top-level member's offset and size, bitfields as pahole places them (the storage unit of
the member's type holding the field, and the bit within it), and total sizes."""

from __future__ import annotations

import re
import shutil

import pytest

from pydbg.dwarf.debug_info import DebugInfo
from pydbg.dwarf.type_reader import TypeReader
from pydbg.dwarf.types import StructType
from pydbg.elf.image import ElfImage
from tests.dwarf.conftest import FLAGS

pytestmark = pytest.mark.skipif(shutil.which("pahole") is None, reason="pahole is not installed")

C_TYPES = ["node", "bits", "point", "packet", "number"]
_MEMBER = re.compile(
    r"^\t\S.*?(\w+)(?:\[[\d\]\[]*\])?(?::\d+)?;\s+/\*\s+(\d+)(?::\s*(\d+))?\s+(\d+) \*/$"
)
_SIZE = re.compile(r"/\* size: (\d+),")


def pahole(binary: str, name: str) -> tuple[list[tuple[str, int, int | None, int]], int]:
    """(members, total size) as pahole prints them; for a union, which pahole prints
    without a size line, the largest member's size."""
    import subprocess

    text = subprocess.run(
        ["pahole", "-C", name, binary], capture_output=True, text=True, timeout=60
    ).stdout
    rows = []
    for line in text.splitlines():
        match = _MEMBER.match(line)
        if match:
            member, offset, bit, size = match.groups()
            rows.append((member, int(offset), None if bit is None else int(bit), int(size)))
    sizes = _SIZE.findall(text)
    assert rows, text
    return rows, int(sizes[-1]) if sizes else max(size for *_, size in rows)


@pytest.mark.parametrize("variant", ["O0-pie", "O2-nopie"])
def test_c_layouts_match_pahole(dw_builds, variant) -> None:
    assert variant in FLAGS
    binary = dw_builds["dwvars", variant]
    info = DebugInfo(ElfImage(binary))
    types = TypeReader(info)
    for name in C_TYPES:
        expected, total = pahole(binary, name)
        keyword = "union" if name == "number" else "struct"
        die = info.find_type_die(f"{keyword} {name}")
        assert die is not None
        t = types.read(die)
        assert isinstance(t, StructType)
        ours = []
        for m in t.members:
            if m.bit_size:
                unit = m.type.size
                start = m.bit_offset // (unit * 8) * unit
                ours.append((m.name, start, m.bit_offset - start * 8, unit))
            else:
                ours.append((m.name, m.offset, None, m.type.size))
        assert ours == expected, name
        assert t.size == total, name
