"""Damaged and missing files: every failure is an ImageError naming the file, or an
empty answer with a reason; nothing from the parsers escapes raw.

The last test mutates bytes of a real binary (headers, section table, symbol tables,
DWARF) with a fixed seed and drives every public entry point over each mutant.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess

import pytest

from pydbg.elf import (
    CorruptImageError,
    ElfImage,
    ImageError,
    ImageFileError,
    ImageNotFoundError,
    NotElfError,
    open_image,
)
from tests.elf.conftest import Built
from tests.elf.oracles import readelf_sections


def _copy(built: Built, variant: str, tmp: os.PathLike[str], name: str = "target") -> str:
    path = os.path.join(str(tmp), name)
    shutil.copy(built[variant], path)
    return path


def _overwrite(path: str, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def _section_offset(path: str, name: str) -> tuple[int, int]:
    """(file offset, size) of a section, from readelf."""
    for line in subprocess.run(
        ["readelf", "-SW", path], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 6 and parts[1] == name:
            return int(parts[4], 16), int(parts[5], 16)
    raise LookupError(name)


def test_missing_file(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(str(tmp_path), "nothing-here")
    for opener in (ElfImage, open_image):
        with pytest.raises(ImageNotFoundError) as info:
            opener(path)
        assert info.value.path == path and path in str(info.value)
        assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ImageError)


def test_deleted_file(built: Built, tmp_path: os.PathLike[str]) -> None:
    path = _copy(built, "pie-O0", tmp_path)
    os.unlink(path)
    with pytest.raises(ImageNotFoundError, match="no such file"):
        open_image(path)


def test_directory(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(ImageFileError) as info:
        ElfImage(str(tmp_path))
    assert str(tmp_path) in str(info.value) and isinstance(info.value, OSError)


@pytest.mark.parametrize(
    "content", [b"", b"#!/bin/sh\necho not elf\n" * 20, b"\x7fELF", b"\x7fELF\x09\x01" + bytes(58)]
)
def test_not_an_elf_file(tmp_path: os.PathLike[str], content: bytes) -> None:
    path = os.path.join(str(tmp_path), "file")
    with open(path, "wb") as f:
        f.write(content)
    with pytest.raises(NotElfError) as info:
        open_image(path)
    assert path in str(info.value)


def test_truncated_header(built: Built, tmp_path: os.PathLike[str]) -> None:
    path = _copy(built, "pie-O0", tmp_path)
    os.truncate(path, 40)
    with pytest.raises(CorruptImageError, match="truncated"):
        ElfImage(path)


def test_truncated_body(built: Built, tmp_path: os.PathLike[str]) -> None:
    """The header survives, the section table and symbols do not: a clear error from the
    section table, an empty symbol table with the reason, no line info."""
    path = _copy(built, "pie-O0", tmp_path)
    os.truncate(path, os.path.getsize(path) // 2)
    image = ElfImage(path)
    with pytest.raises(CorruptImageError, match="truncated") as info:
        _ = image.sections
    assert path in str(info.value)
    symbols = image.symbols
    assert len(symbols) == 0 and symbols.symbolize(0x1100) is None
    assert any("truncated" in w for w in symbols.warnings), symbols.warnings
    assert image.lines.find_address(0x1100) is None
    assert image.lines.error is not None


@pytest.mark.parametrize("garbage", ["ff", "zero", "random", "header-kept"])
def test_garbage_debug_line(built: Built, tmp_path: os.PathLike[str], garbage: str) -> None:
    path = _copy(built, "pie-O0", tmp_path)
    offset, size = _section_offset(path, ".debug_line")
    rnd = random.Random(11)
    if garbage == "ff":
        data = b"\xff" * size
    elif garbage == "zero":
        data = bytes(size)
    elif garbage == "random":
        data = rnd.randbytes(size)
    else:  # keep the unit header, scramble the opcodes after it
        offset, size = offset + 64, size - 64
        data = rnd.randbytes(size)
    _overwrite(path, offset, data)
    image = open_image(path)
    text = image.section(".text")
    assert text is not None
    lines = image.lines
    for addr in range(text.addr, text.end, 7):
        hit = lines.find_address(addr)
        assert hit is None or hit.line >= 0
    assert isinstance(lines.addresses_for_line("symbols.c", 20), list)
    assert isinstance(lines.files(), list)
    if garbage in ("ff", "random"):
        assert lines.error or lines.warnings
    # The symbols do not depend on the line info.
    assert image.symbols.address_of("main") is not None


def test_garbage_symbol_table(built: Built, tmp_path: os.PathLike[str]) -> None:
    path = _copy(built, "pie-O0", tmp_path)
    offset, size = _section_offset(path, ".symtab")
    _overwrite(path, offset + 24, random.Random(5).randbytes(size - 24))
    image = open_image(path)
    symbols = image.symbols
    text = image.section(".text")
    assert text is not None
    for addr in range(text.addr, text.end, 3):
        result = symbols.symbolize(addr)
        assert result is None or isinstance(result[0], str)
    symbols.match("*")
    symbols.lookup("main")


def test_mutants_raise_only_image_errors(built: Built, tmp_path: os.PathLike[str]) -> None:
    """Seeded byte flips over the parts of the file the readers trust."""
    original = built["pie-O0"]
    size = os.path.getsize(original)
    regions = [(0, 64)]  # ELF header
    for sec in readelf_sections(original):
        if sec.name in (".dynsym", ".dynstr", ".symtab", ".strtab", ".rela.plt", ".plt",
                        ".debug_line", ".debug_info", ".debug_abbrev", ".debug_aranges",
                        ".note.gnu.build-id", ".gnu.version", ".debug_line_str"):  # fmt: skip
            off, length = _section_offset(original, sec.name)
            regions.append((off, length))
    with open(original, "rb") as f:
        shoff = int.from_bytes(f.read(64)[0x28:0x30], "little")
    regions.append((shoff, size - shoff))  # the section header table
    rnd = random.Random(1234)
    for i in range(40):
        path = os.path.join(str(tmp_path), f"mutant{i}")
        shutil.copy(original, path)
        with open(path, "r+b") as f:
            for _ in range(rnd.randint(1, 12)):
                start, length = rnd.choice(regions)
                if length <= 0:
                    continue
                f.seek(start + rnd.randrange(length))
                f.write(rnd.randbytes(rnd.randint(1, 8)))
        _exercise(path)


def _exercise(path: str) -> None:
    try:
        image = ElfImage(path)
    except ImageError:
        return
    with image:
        for fact in ("build_id", "debuglink", "segments", "link_base", "sections"):
            with contextlib.suppress(ImageError):
                getattr(image, fact)
        symbols = image.symbols
        for addr in range(0x1000, 0x1400, 5):
            symbols.symbolize(addr)
        symbols.match("m*")
        symbols.lookup("main")
        list(symbols)
        lines = image.lines
        for addr in range(0x1000, 0x1400, 11):
            lines.find_address(addr)
        lines.addresses_for_line("symbols.c", 30)
        lines.files()
