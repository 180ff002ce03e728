"""The location-expression stack machine and the value printer on hand-made inputs: every
kind of location (registers, memory, frame base, CFA, pieces, implicit and stack values,
entry values, TLS, branches), location-list selection, and gdb's text for chars, strings,
repeats, floats and flag enums."""

from __future__ import annotations

import struct

import pytest
from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.dwarf.locationlists import BaseAddressEntry, LocationEntry
from elftools.dwarf.structs import DWARFStructs

from pydbg.dwarf.errors import LocationError
from pydbg.dwarf.locations import FrameContext, Location, Piece, evaluate, select_from_list
from pydbg.dwarf.types import ArrayType, BaseType, Encoding, EnumType, Member, StructType
from pydbg.dwarf.values import (
    Value,
    ValueReader,
    char_literal,
    format_float,
    format_value,
    string_literal,
)

STRUCTS = DWARFStructs(little_endian=True, dwarf_format=32, address_size=8, dwarf_version=5)
INT = BaseType("int", 4, Encoding.SIGNED)
MEMORY_BASE = 0x1000
MEMORY = bytearray(range(256)) * 2


def ops(hex_text: str) -> list:
    return DWARFExprParser(STRUCTS).parse_expr(bytes.fromhex(hex_text))


def read(address: int, size: int) -> bytes:
    start = address - MEMORY_BASE
    if start < 0 or start + size > len(MEMORY):
        raise OSError(f"unreadable {address:#x}")
    return bytes(MEMORY[start : start + size])


def context(**kw) -> FrameContext:
    registers = {0: 0x11, 5: MEMORY_BASE + 8, 6: MEMORY_BASE + 0x40}
    kw.setdefault("register", registers.get)
    return FrameContext(read_memory=read, **kw)


def value_of(hex_text: str, t=INT, **kw) -> Value:
    ctx = context(**kw)
    return Value(t, evaluate(ops(hex_text), ctx), ValueReader(read, ctx.register))


def test_registers_memory_and_arithmetic() -> None:
    assert evaluate(ops("50"), context()).describe() == "@rax"  # DW_OP_reg0
    assert int(value_of("50")) == 0x11
    assert value_of("7510").address == MEMORY_BASE + 0x18  # DW_OP_breg5 +16
    assert value_of("0310000000000000002301", bias=0x100).address == 0x111  # addr 0x10, +1
    # breg6 +0, deref (8 bytes at 0x1040) then plus_uconst 0 -> an address.
    loaded = struct.unpack("<Q", read(MEMORY_BASE + 0x40, 8))[0]
    assert value_of("7600062300").address == loaded
    assert int(value_of("3134229f")) == 1 + 4  # lit1 lit4 plus stack_value
    assert int(value_of("3431 1c 9f".replace(" ", ""))) == 3  # lit4 lit1 minus
    assert int(value_of("0aff7f9f")) == 0x7FFF  # const2u, stack_value


def test_frame_base_cfa_and_unknown_registers() -> None:
    assert value_of("9178", frame_base=lambda: 0x2000).address == 0x2000 - 8  # fbreg -8
    assert value_of("9c", cfa=0x3000).address == 0x3000  # call_frame_cfa
    assert value_of("9c").optimized_out  # no CFA known
    missing = value_of("53")  # reg3 (rbx), not known in this frame
    assert missing.optimized_out and format_value(missing) == "<optimized out>"
    assert value_of("7300").optimized_out  # breg3


def test_pieces_implicit_values_and_branches() -> None:
    pair = StructType("pair", 8, members=[Member("a", INT, 0), Member("b", INT, 4)])
    # reg0 piece 4; breg5 +0 piece 4: a from rax, b from memory at 0x1008.
    v = value_of("50 9304 7500 9304".replace(" ", ""), pair)
    assert int(v["a"]) == 0x11 and int(v["b"]) == int.from_bytes(read(MEMORY_BASE + 8, 4), "little")
    assert v.location.describe() == "@rax[4], @0x1008[4]"
    # First half optimized out (an empty piece), second from rax.
    half = value_of("9304 50 9304".replace(" ", ""), pair)
    assert format_value(half) == "{a = <optimized out>, b = 17}"
    assert int(value_of("9e0407000000")) == 7  # implicit_value, 4 bytes
    # lit1; bra +1 (skips lit2); lit3; stack_value -> 3 on top with 1 consumed.
    assert int(value_of("31 280100 32 33 9f".replace(" ", ""))) == 3
    # skip +1 over lit5: lit7 stays.
    assert int(value_of("37 2f0100 35 9f".replace(" ", ""))) == 7


def test_entry_values_and_tls() -> None:
    entry = "a30155 9f".replace(" ", "")  # entry_value(reg5) stack_value
    assert int(value_of(entry, entry_value=lambda o: 42)) == 42
    assert value_of(entry).optimized_out
    tls = "0e1000000000000000 e0".replace(" ", "")  # const8u 0x10, GNU_push_tls_address
    assert value_of(tls, tls_address=lambda offset: MEMORY_BASE + offset).address == 0x1010
    assert value_of(tls).location.pieces[0].reason == "TLS unavailable"
    assert format_value(value_of(tls)) == "<TLS unavailable>"
    with pytest.raises(LocationError, match="DW_OP_call2"):
        evaluate(ops("980000"), context())


def test_location_lists_by_pc() -> None:
    entries = [
        BaseAddressEntry(0, 9, 0x1000),
        LocationEntry(9, 4, 0x10, 0x20, [0x50], False),
        LocationEntry(13, 4, 0x2000, 0x2010, [0x51], True),
    ]
    assert select_from_list(entries, 0x1010, 0) == [0x50]
    assert select_from_list(entries, 0x101F, 0) == [0x50]
    assert select_from_list(entries, 0x1020, 0) is None
    assert select_from_list(entries, 0x2008, 0) == [0x51]
    # Without a base-address entry offsets count from the unit's base.
    assert select_from_list(entries[1:2], 0x510, 0x500) == [0x50]


def test_gdb_text_of_chars_strings_and_floats() -> None:
    assert char_literal(0) == "'\\000'" and char_literal(10) == "'\\n'"
    assert char_literal(39) == "'\\''" and char_literal(200) == "'\\310'"
    assert string_literal(b'say "hi"\\') == '"say \\"hi\\"\\\\"'
    assert string_literal(b"ab" + b"x" * 11 + b"c") == '"ab", \'x\' <repeats 11 times>, "c"'
    assert string_literal(b"y" * 10) == '"yyyyyyyyyy"'
    assert format_float(struct.pack("<f", 12.1414223)) == "12.1414223"
    assert format_float(struct.pack("<d", 0.1)) == "0.10000000000000001"
    assert format_float(struct.pack("<d", -3.0)) == "-3"
    assert format_float(struct.pack("<d", float("inf"))) == "inf"
    assert format_float(struct.pack("<Q", 0x7FF8000000000000)) == "nan(0x8000000000000)"


def test_arrays_repeats_and_enums() -> None:
    def array_text(values: list[int]) -> str:
        t = ArrayType("", 4 * len(values), element=INT, count=len(values))
        data = b"".join(struct.pack("<i", v) for v in values)
        return format_value(Value(t, Location([Piece("implicit", data=data)]), ValueReader(read)))

    assert array_text([0] * 10) == "{" + ", ".join(["0"] * 10) + "}"
    assert array_text([1] + [0] * 11 + [2]) == "{1, 0 <repeats 11 times>, 2}"
    assert array_text(list(range(201))).endswith(", 198, 199...}")
    flags = EnumType("flags", 4, [("F_A", 1), ("F_B", 2), ("F_C", 4)])
    plain = EnumType("color", 4, [("RED", 0), ("GREEN", 5), ("BLUE", 6)])  # 5 & 6 overlap

    def enum_text(t: EnumType, number: int) -> str:
        return format_value(value_of(f"9e04{number.to_bytes(4, 'little').hex()}", t))

    assert enum_text(flags, 5) == "(F_A | F_C)"
    assert enum_text(flags, 9) == "(F_A | unknown: 0x8)"
    assert enum_text(flags, 0) == "0"
    assert enum_text(plain, 5) == "GREEN" and enum_text(plain, 7) == "7"
