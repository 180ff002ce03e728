"""The CFI layer on real files: rows of libc and of the built targets, the .eh_frame_hdr index
against a full parse, .debug_frame in the file and in a separate debug file, the per-file
cache, laziness, DWARF expressions, and malformed input turned into UnwindError.
"""

from __future__ import annotations

import os
import shutil
import struct

import pytest
from elftools.elf.elffile import ELFFile

from pydbg.unwind import ElfCfi, RuleKind, UnwindError, load_cfi
from pydbg.unwind.cfi import RBP, RETURN_ADDRESS, RSP, clear_cache, evaluate_expression
from pydbg.unwind.unwinder import GREGS_DWARF, SIGRETURN_CODE, UCONTEXT_GREGS
from tests.unwind.helpers import elf_symbols

LIBC = os.path.realpath("/lib/x86_64-linux-gnu/libc.so.6")


def section_range(path: str, name: str) -> tuple[int, int]:
    with open(path, "rb") as f:
        section = ELFFile(f).get_section_by_name(name)
        assert section is not None, f"{path} has no {name}"
        return section["sh_addr"], section["sh_size"]


def restore_rt(path: str) -> int:
    """Link-time address of the rt_sigreturn trampoline, found by its code (libc exports no
    symbol for it).  In libc the file offset of its text equals the address."""
    with open(path, "rb") as f:
        data = f.read()
    assert data.count(SIGRETURN_CODE) == 1
    return data.index(SIGRETURN_CODE)


# -- rows -------------------------------------------------------------------------------------


def test_row_at_a_libc_function_entry():
    write = elf_symbols(LIBC)["write"]
    row = load_cfi(LIBC).row_at(write)
    assert row is not None
    assert row.start <= write < row.end
    assert (row.cfa.register, row.cfa.offset, row.cfa.expression) == (RSP, 8, None)
    assert row.registers[RETURN_ADDRESS].kind is RuleKind.OFFSET
    assert row.registers[RETURN_ADDRESS].arg == -8
    assert row.return_column == RETURN_ADDRESS
    assert not row.signal_frame
    assert row.section == ".eh_frame"


def test_rows_follow_the_prologue_of_a_frame_pointer_function(targets):
    binary = targets["unwind"]
    leaf = binary.sym("leaf")
    cfi = load_cfi(binary.path)
    rows = []
    address = leaf
    while address < leaf + binary.sym_size("leaf"):
        row = cfi.row_at(address)
        assert row is not None
        rows.append(row)
        address = row.end
    # push %rbp; mov %rsp,%rbp; ... leave; ret
    assert [(r.cfa.register, r.cfa.offset) for r in rows] == [
        (RSP, 8),
        (RSP, 16),
        (RBP, 16),
        (RSP, 8),
    ]
    assert rows[1].registers[RBP].kind is RuleKind.OFFSET and rows[1].registers[RBP].arg == -16
    assert rows[-1].end == leaf + binary.sym_size("leaf")


def test_sigreturn_trampoline_row_has_the_signal_augmentation():
    trampoline = restore_rt(LIBC)
    cfi = load_cfi(LIBC)
    for address in (trampoline - 1, trampoline, trampoline + 7):
        row = cfi.row_at(address)
        assert row is not None and row.signal_frame, hex(address)


def test_glibc_cfi_for_the_trampoline_agrees_with_our_ucontext_offsets():
    """glibc describes each saved register as `DW_OP_breg7 (rsp) OFFSET` in the trampoline:
    the offsets the unwinder reads the ucontext with must be the same."""
    row = load_cfi(LIBC).row_at(restore_rt(LIBC))
    assert row is not None
    for index, dwarf in enumerate(GREGS_DWARF):
        rule = row.registers[dwarf]
        assert rule.kind is RuleKind.EXPRESSION
        value = evaluate_expression(rule.arg, {RSP: 0}.__getitem__, _no_memory, (12345,))
        assert value == UCONTEXT_GREGS + 8 * index, (dwarf, value)
    # And the CFA is the saved rsp, read from the same place.
    assert row.cfa.expression == bytes([0x77]) + _uleb(UCONTEXT_GREGS + 8 * 15) + b"\x06"


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_plt_rows_use_the_cfa_expression(unwind_builds):
    path = unwind_builds["O0"]
    plt, size = section_range(path, ".plt")
    cfi = load_cfi(path)
    first_entry = plt + 16  # after PLT0
    row = cfi.row_at(first_entry)
    assert row is not None and row.cfa.expression is not None
    # Per entry: jmp *GOT (6 bytes), push $index (5), jmp PLT0: before the push the CFA is
    # rsp+8, after it rsp+16.
    for entry in range(first_entry, plt + size, 16):
        for offset, extra in ((0, 8), (6, 8), (11, 16), (15, 16)):
            regs = {RSP: 0x7000, RETURN_ADDRESS: entry + offset}
            cfa = evaluate_expression(row.cfa.expression, regs.__getitem__, _no_memory)
            assert cfa == 0x7000 + extra, (hex(entry), offset)


def _no_memory(address: int) -> int:
    raise AssertionError(f"unexpected read at {address:#x}")


def test_no_row_outside_every_fde(unwind_builds):
    cfi = load_cfi(unwind_builds["O0"])
    assert cfi.row_at(0) is None
    assert cfi.row_at(0x7FFF_FFFF_0000) is None


# -- the index --------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["O2", "libc"])
def test_eh_frame_hdr_index_agrees_with_a_full_parse(unwind_builds, which):
    path = LIBC if which == "libc" else unwind_builds[which]
    indexed = ElfCfi(path)
    parsed = ElfCfi(path, use_eh_frame_hdr=False)
    assert indexed.fde_count() == parsed.fde_count() > 0
    start, size = section_range(path, ".text")
    step = max(1, size // 3000)  # ~3000 probes over .text, every row kind of libc included
    for address in range(start, start + size, step):
        assert indexed.row_at(address) == parsed.row_at(address), hex(address)


def test_lookups_decode_only_the_fdes_they_land_in():
    cfi = ElfCfi(LIBC)
    symbols = elf_symbols(LIBC)
    for name in ("write", "qsort", "opendir"):
        assert cfi.row_at(symbols[name]) is not None
    assert cfi.decoded_fdes == 3
    assert cfi.fde_count() > 1000


# -- .debug_frame -----------------------------------------------------------------------------


def test_debug_frame_in_the_file(unwind_builds):
    path = unwind_builds["O2-debug-frame"]
    row = load_cfi(path).row_at(elf_symbols(path)["leaf"])
    assert row is not None and row.section == ".debug_frame"


def test_debug_frame_in_a_separate_debug_file(unwind_builds):
    path = unwind_builds["O2-split"]
    debug = unwind_builds["O2-split.debug"]
    leaf = elf_symbols(path)["leaf"]
    assert load_cfi(path).row_at(leaf) is None  # stripped: only crt code has .eh_frame
    row = load_cfi(path, debug).row_at(leaf)
    assert row is not None and row.section == ".debug_frame"
    same = load_cfi(unwind_builds["O2-debug-frame"]).row_at(leaf)
    assert (row.start, row.end, row.cfa, dict(row.registers)) == (
        same.start,
        same.end,
        same.cfa,
        dict(same.registers),
    )
    assert f"{debug}:.debug_frame" in load_cfi(path, debug).sections


# -- the cache --------------------------------------------------------------------------------


def test_cache_is_per_file_not_per_path(unwind_builds, tmp_path):
    path = unwind_builds["O2"]
    link = tmp_path / "link"
    link.symlink_to(path)
    assert load_cfi(path) is load_cfi(str(link))
    assert load_cfi(path) is not load_cfi(path, unwind_builds["O2-split.debug"])
    copy = tmp_path / "copy"
    shutil.copy2(path, copy)
    first = load_cfi(str(copy))
    os.utime(copy, ns=(0, 0))  # "rebuilt": a changed mtime is a new file
    assert load_cfi(str(copy)) is not first
    clear_cache()
    assert load_cfi(path) is not None


# -- malformed input --------------------------------------------------------------------------


def test_missing_file():
    with pytest.raises(UnwindError, match="cannot read /nonexistent/libfoo.so"):
        load_cfi("/nonexistent/libfoo.so")


def test_not_an_elf_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an ELF file\n" * 10)
    cfi = load_cfi(str(text))
    with pytest.raises(UnwindError, match="notes.txt is not a readable ELF file") as info:
        cfi.row_at(0x1000)
    assert type(info.value) is UnwindError


def _patch_section(source: str, out: str, name: str, patch) -> None:
    """Copy source to out with section `name`'s bytes replaced by patch(old bytes)."""
    shutil.copy(source, out)
    with open(source, "rb") as f:
        section = ELFFile(f).get_section_by_name(name)
        assert section is not None
        offset, size = section["sh_offset"], section["sh_size"]
        data = section.data()
    new = patch(data)
    assert len(new) == size
    with open(out, "r+b") as f:
        f.seek(offset)
        f.write(new)


def _fill(pattern: bytes):
    return lambda data: (pattern * len(data))[: len(data)]


def _shift_hdr_table(data: bytes) -> bytes:
    """Point every FDE of the .eh_frame_hdr table 3 bytes into its entry."""
    count = struct.unpack_from("<I", data, 8)[0]
    table = bytearray(data)
    for i in range(count):
        at = 12 + 8 * i + 4
        struct.pack_into("<i", table, at, struct.unpack_from("<i", data, at)[0] + 3)
    return bytes(table)


@pytest.mark.parametrize(
    "section, patch, use_hdr",
    [
        (".eh_frame", _fill(b"\xff"), True),
        (".eh_frame", _fill(b"\xff"), False),
        # Every entry a CIE with an augmentation pyelftools does not know.
        (".eh_frame", _fill(b"\x0c\x00\x00\x00\x00\x00\x00\x00\x01zQ\x00"), False),
        (".eh_frame_hdr", _shift_hdr_table, True),
    ],
    ids=["ff-hdr", "ff-scan", "cies-scan", "hdr-mid-entry"],
)
def test_corrupt_cfi_raises_unwind_error(unwind_builds, tmp_path, section, patch, use_hdr):
    out = str(tmp_path / "corrupt")
    _patch_section(unwind_builds["O2"], out, section, patch)
    leaf = elf_symbols(unwind_builds["O2"])["leaf"]
    with pytest.raises(UnwindError, match=f"{out} .eh_frame: cannot parse") as info:
        ElfCfi(out, use_eh_frame_hdr=use_hdr).row_at(leaf)
    assert type(info.value) is UnwindError


def test_corrupt_hdr_count_falls_back_to_a_full_parse(unwind_builds, tmp_path):
    """A table that does not fit its section is not used: the file is parsed instead."""
    out = str(tmp_path / "corrupt")
    _patch_section(
        unwind_builds["O2"],
        out,
        ".eh_frame_hdr",
        lambda data: data[:8] + struct.pack("<I", 1 << 30) + data[12:],
    )
    leaf = elf_symbols(unwind_builds["O2"])["leaf"]
    assert ElfCfi(out).row_at(leaf) == ElfCfi(unwind_builds["O2"]).row_at(leaf) is not None


# -- DWARF expressions ------------------------------------------------------------------------


def _eval(ops: bytes, initial: tuple[int, ...] = (), regs: dict[int, int] | None = None) -> int:
    memory = {0x1000: 0x1122334455667788}
    return evaluate_expression(
        ops,
        (regs or {RSP: 0x7000, RBP: 0x8000}).__getitem__,
        memory.__getitem__,
        initial,
        lambda a, n: memory[a] & ((1 << (8 * n)) - 1),
    )


@pytest.mark.parametrize(
    "ops, expected",
    [
        (b"\x31\x32\x22", 3),  # lit1 lit2 plus
        (b"\x77\x10", 0x7010),  # breg7 16
        (b"\x76\x70", 0x8000 - 16),  # breg6 -16
        (b"\x92\x07\x08", 0x7008),  # bregx 7 8
        (b"\x08\xff", 0xFF),  # const1u
        (b"\x09\xff", (1 << 64) - 1),  # const1s -1
        (b"\x0a\x34\x12", 0x1234),  # const2u
        (b"\x0c\x78\x56\x34\x12", 0x12345678),  # const4u
        (b"\x0e" + struct.pack("<Q", 1 << 63), 1 << 63),  # const8u
        (b"\x10\xe5\x8e\x26", 624485),  # constu (DWARF's uleb example)
        (b"\x11\x7f", (1 << 64) - 1),  # consts -1
        (b"\x35\x23\x80\x01", 133),  # lit5 plus_uconst 128
        (b"\x35\x33\x1c", 2),  # minus
        (b"\x35\x33\x1e", 15),  # mul
        (b"\x3f\x37\x1a", 7),  # and
        (b"\x38\x37\x21", 15),  # or
        (b"\x3f\x37\x27", 8),  # xor
        (b"\x31\x33\x24", 8),  # shl
        (b"\x38\x33\x25", 1),  # shr
        (b"\x11\x70\x31\x26", (1 << 64) - 8),  # consts -16, lit1, shra
        (b"\x11\x7f\x30\x2a", 0),  # -1 >= 0 is false: comparisons are signed
        (b"\x30\x11\x7f\x2b", 1),  # 0 > -1
        (b"\x31\x31\x29", 1),  # eq
        (b"\x31\x32\x2e", 1),  # ne
        (b"\x31\x32\x2d", 1),  # lt
        (b"\x32\x32\x2c", 1),  # le
        (b"\x31\x12\x22", 2),  # dup
        (b"\x31\x32\x13", 1),  # drop
        (b"\x31\x32\x14\x22\x22", 4),  # over: 1 2 1 -> plus plus
        (b"\x31\x32\x33\x15\x02", 1),  # pick 2
        (b"\x31\x32\x16\x1c", 1),  # swap: 2 - 1
        (b"\x31\x32\x33\x17\x13\x13", 3),  # rot: 1 2 3 -> 3 1 2; drop, drop
        (b"\x11\x7b\x19", 5),  # abs -5
        (b"\x35\x1f", (1 << 64) - 5),  # neg
        (b"\x30\x20", (1 << 64) - 1),  # not
        (b"\x2f\x01\x00\x3f\x31", 1),  # skip over lit15
        (b"\x31\x28\x01\x00\x3f\x32", 2),  # bra taken over lit15
        (b"\x30\x28\x01\x00\x3f", 15),  # bra not taken
        (b"\x0b\x00\x10\x06", 0x1122334455667788),  # const2s 0x1000 deref
        (b"\x0b\x00\x10\x94\x02", 0x7788),  # deref_size 2
        (b"\x96\x31", 1),  # nop
    ],
)
def test_expression_operations(ops, expected):
    assert _eval(ops) == expected


def test_expression_sees_the_initial_cfa():
    assert _eval(b"\x23\x08", initial=(0x5000,)) == 0x5008  # plus_uconst 8 on the CFA


@pytest.mark.parametrize(
    "ops, message",
    [
        (b"\x03" + b"\x00" * 8, "operation 0x03"),  # DW_OP_addr needs the load bias
        (b"\x50", "operation 0x50"),  # DW_OP_reg0 names a location
        (b"", "empty stack"),
        (b"\x22", "malformed"),  # plus on an empty stack
        (b"\x0c\x01", "malformed"),  # truncated const4u
        (b"\x2f\xfd\xff", "does not terminate"),  # skip -3: itself, forever
        (b"\x2f\x00\x80", "before its start"),
    ],
)
def test_bad_expressions(ops, message):
    with pytest.raises(UnwindError, match=message):
        _eval(ops)
