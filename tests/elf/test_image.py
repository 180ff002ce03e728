"""ElfImage: identity (build id, debuglink), layout (PIE, PT_LOAD segments, load bias),
sections, the separate debug file search, and the per-process cache, each against
readelf or the files the test makes."""

from __future__ import annotations

import os
import re
import shutil
import zlib

import pytest

from pydbg.elf import ElfImage, clear_cache, open_image
from tests.elf.conftest import Built
from tests.elf.oracles import readelf_sections, run


def _readelf_build_id(path: str) -> str | None:
    m = re.search(r"Build ID: ([0-9a-f]+)", run(["readelf", "-nW", path]))
    return m.group(1) if m else None


def _readelf_loads(path: str) -> list[tuple[int, int, int, int]]:
    """(offset, vaddr, filesz, memsz) of each LOAD program header."""
    out = []
    for line in run(["readelf", "-lW", path]).splitlines():
        parts = line.split()
        if parts[:1] == ["LOAD"]:
            out.append(tuple(int(x, 16) for x in (parts[1], parts[2], parts[4], parts[5])))
    return out  # type: ignore[return-value]


@pytest.mark.parametrize("variant", ["pie-O0", "nopie-O0", "stripped", "split", "versioned"])
def test_identity_and_layout_match_readelf(built: Built, variant: str) -> None:
    path = built[variant]
    image = ElfImage(path)
    assert image.build_id == _readelf_build_id(path)
    loads = _readelf_loads(path)
    assert [(s.offset, s.vaddr, s.filesz, s.memsz) for s in image.segments] == loads
    first = next(vaddr for offset, vaddr, _f, _m in loads if offset == 0)
    assert image.link_base == first
    assert image.load_bias(first + 0x7F0000000000) == 0x7F0000000000
    assert image.is_pie == (variant != "nopie-O0")
    sections = {s.name: s for s in image.sections if s.name}
    for sec in readelf_sections(path):
        assert sections[sec.name].addr == sec.addr and sections[sec.name].size == sec.size
    text = image.section(".text")
    assert text is not None and text.is_exec and image.section_at(text.addr + 1) == text
    assert image.section_at(0xFFFFFFFFFFFF0000) is None


def test_facts_about_symbols_and_dwarf(built: Built) -> None:
    assert ElfImage(built["pie-O0"]).has_symtab
    assert ElfImage(built["pie-O0"]).has_debug_info
    assert not ElfImage(built["stripped"]).has_symtab
    assert not ElfImage(built["stripped"]).has_debug_info
    assert ElfImage(built["split.debug"]).has_debug_info


def test_debuglink_and_crc(built: Built) -> None:
    image = ElfImage(built["split"])
    link = image.debuglink
    assert link is not None and link.name == "split.debug"
    with open(built["split.debug"], "rb") as f:
        assert link.crc == zlib.crc32(f.read())
    assert ElfImage(built["pie-O2"]).debuglink is None


def test_debug_file_next_to_the_file_in_dot_debug_and_in_debug_dirs(
    built: Built, tmp_path: os.PathLike[str]
) -> None:
    root = str(tmp_path)
    work = os.path.join(root, "bin")
    os.mkdir(work)
    binary = os.path.join(work, "split")
    shutil.copy(built["split"], binary)
    debug = built["split.debug"]
    nowhere = [os.path.join(root, "no-debug-dir")]

    assert ElfImage(binary).find_debug_file(nowhere) is None

    shutil.copy(debug, os.path.join(work, "split.debug"))
    assert ElfImage(binary).find_debug_file(nowhere) == os.path.join(work, "split.debug")
    os.unlink(os.path.join(work, "split.debug"))

    os.mkdir(os.path.join(work, ".debug"))
    shutil.copy(debug, os.path.join(work, ".debug", "split.debug"))
    assert ElfImage(binary).find_debug_file(nowhere) == os.path.join(work, ".debug", "split.debug")
    shutil.rmtree(os.path.join(work, ".debug"))

    global_dir = os.path.join(root, "usr-lib-debug")
    mirrored = global_dir + os.path.realpath(work)
    os.makedirs(mirrored)
    shutil.copy(debug, os.path.join(mirrored, "split.debug"))
    assert ElfImage(binary).find_debug_file([global_dir]) == os.path.join(mirrored, "split.debug")


def test_debuglink_with_a_wrong_crc_is_ignored(built: Built, tmp_path: os.PathLike[str]) -> None:
    work = str(tmp_path)
    binary = os.path.join(work, "split")
    shutil.copy(built["split"], binary)
    shutil.copy(built["split.debug"], os.path.join(work, "split.debug"))
    with open(os.path.join(work, "split.debug"), "ab") as f:
        f.write(b"changed")
    image = ElfImage(binary)
    assert image.find_debug_file([os.path.join(work, "none")]) is None
    assert any("CRC" in w for w in image.warnings), image.warnings


def test_debug_file_by_build_id(built: Built, tmp_path: os.PathLike[str]) -> None:
    image = ElfImage(built["stripped"])  # no debuglink: only the build id leads anywhere
    bid = image.build_id
    assert bid is not None
    debug_dir = str(tmp_path)
    place = os.path.join(debug_dir, ".build-id", bid[:2], bid[2:] + ".debug")
    os.makedirs(os.path.dirname(place))
    # A file with another build id at that place is not taken...
    shutil.copy(built["versioned"], place)
    assert image.find_debug_file([debug_dir]) is None
    # ...the real one is.
    shutil.copy(built["split.debug"], place)
    assert image.find_debug_file([debug_dir]) == place


def test_cache_parses_each_file_once(built: Built, tmp_path: os.PathLike[str]) -> None:
    path = built["pie-O2"]
    first = open_image(path)
    assert open_image(path) is first
    assert open_image(os.path.relpath(path)) is first
    link = os.path.join(str(tmp_path), "alias")
    os.symlink(path, link)
    assert open_image(link) is first  # the same build id
    assert first.symbols is open_image(link).symbols
    clear_cache()
    assert open_image(path) is not first


def test_cache_sees_a_rewritten_file(built: Built, tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(str(tmp_path), "target")
    shutil.copy(built["pie-O0"], path)
    before = open_image(path)
    shutil.copy(built["nopie-O0"], path)  # other contents, other build id
    after = open_image(path)
    assert after is not before
    assert after.is_pie is False and before.is_pie is True


def test_image_keeps_reading_a_file_deleted_after_opening(
    built: Built, tmp_path: os.PathLike[str]
) -> None:
    path = os.path.join(str(tmp_path), "target")
    shutil.copy(built["pie-O0"], path)
    image = ElfImage(path)
    os.unlink(path)
    assert image.symbols.address_of("main") is not None
    assert image.lines.available


def test_close(built: Built) -> None:
    with ElfImage(built["pie-O0"]) as image:
        assert image.build_id
    from pydbg.elf import ImageFileError

    with pytest.raises(ImageFileError, match="closed"):
        image.read(0, 4)
