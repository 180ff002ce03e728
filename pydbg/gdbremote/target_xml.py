"""The x86-64 target description gdb reads with qXfer:features:read:target.xml.

One table, REGISTERS, gives every register the server exposes in the order (and so with
the numbers) that gdbserver's amd64-linux description uses: the core feature (general
registers, rip, eflags, segment registers, x87 stack and control registers, 0-39), SSE
(xmm0-15 and mxcsr, 40-56), the Linux feature (orig_rax, 57), the segment bases
(fs_base, gs_base, 58-59) and AVX (the upper halves ymm0h-ymm15h, 60-75).  `g`/`G` carry
them in this order, `p`/`P` address them by these numbers, and the XML is generated from
the same table so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

__all__ = ["REGISTERS", "RegisterDef", "by_name", "target_xml"]


@dataclass(frozen=True)
class RegisterDef:
    name: str
    bitsize: int
    type: str  # a gdb type name (int64, data_ptr, i387_ext, vec128, ...) or a feature's own
    feature: str
    group: str = ""

    @property
    def size(self) -> int:
        return self.bitsize // 8


_CORE = "org.gnu.gdb.i386.core"
_SSE = "org.gnu.gdb.i386.sse"
_LINUX = "org.gnu.gdb.i386.linux"
_SEGMENTS = "org.gnu.gdb.i386.segments"
_AVX = "org.gnu.gdb.i386.avx"


def _table() -> tuple[RegisterDef, ...]:
    regs: list[RegisterDef] = []
    for name in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi"):
        regs.append(RegisterDef(name, 64, "int64", _CORE))
    regs.append(RegisterDef("rbp", 64, "data_ptr", _CORE))
    regs.append(RegisterDef("rsp", 64, "data_ptr", _CORE))
    regs += [RegisterDef(f"r{n}", 64, "int64", _CORE) for n in range(8, 16)]
    regs.append(RegisterDef("rip", 64, "code_ptr", _CORE))
    regs.append(RegisterDef("eflags", 32, "i386_eflags", _CORE))
    regs += [RegisterDef(s, 32, "int32", _CORE) for s in ("cs", "ss", "ds", "es", "fs", "gs")]
    regs += [RegisterDef(f"st{n}", 80, "i387_ext", _CORE) for n in range(8)]
    for name in ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"):
        regs.append(RegisterDef(name, 32, "int", _CORE, "float"))
    regs += [RegisterDef(f"xmm{n}", 128, "vec128", _SSE) for n in range(16)]
    regs.append(RegisterDef("mxcsr", 32, "i386_mxcsr", _SSE, "vector"))
    regs.append(RegisterDef("orig_rax", 64, "int", _LINUX))
    regs.append(RegisterDef("fs_base", 64, "int", _SEGMENTS))
    regs.append(RegisterDef("gs_base", 64, "int", _SEGMENTS))
    regs += [RegisterDef(f"ymm{n}h", 128, "uint128", _AVX) for n in range(16)]
    return tuple(regs)


REGISTERS = _table()
_BY_NAME = {r.name: i for i, r in enumerate(REGISTERS)}


def by_name(name: str) -> int:
    """The register number of `name`."""
    return _BY_NAME[name]


# The types the core and SSE features define for themselves (as gdb's 64bit-core.xml and
# 64bit-sse.xml do); gdb checks a feature's registers, not these definitions, but a
# description that names an undefined type is rejected.
_CORE_TYPES = """\
    <flags id="i386_eflags" size="4">
      <field name="CF" start="0" end="0"/><field name="" start="1" end="1"/>
      <field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/>
      <field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
      <field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/>
      <field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/>
      <field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
      <field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/>
      <field name="VIF" start="19" end="19"/><field name="VIP" start="20" end="20"/>
      <field name="ID" start="21" end="21"/>
    </flags>
"""
_SSE_TYPES = """\
    <vector id="v8bf16" type="bfloat16" count="8"/>
    <vector id="v4f" type="ieee_single" count="4"/>
    <vector id="v2d" type="ieee_double" count="2"/>
    <vector id="v16i8" type="int8" count="16"/>
    <vector id="v8i16" type="int16" count="8"/>
    <vector id="v4i32" type="int32" count="4"/>
    <vector id="v2i64" type="int64" count="2"/>
    <union id="vec128">
      <field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/>
      <field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>
      <field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/>
      <field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/>
    </union>
    <flags id="i386_mxcsr" size="4">
      <field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/>
      <field name="ZE" start="2" end="2"/><field name="OE" start="3" end="3"/>
      <field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
      <field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/>
      <field name="DM" start="8" end="8"/><field name="ZM" start="9" end="9"/>
      <field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
      <field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
    </flags>
"""
_TYPES = {_CORE: _CORE_TYPES, _SSE: _SSE_TYPES}


def target_xml() -> str:
    """The whole description, one document (no xi:include: one qXfer annex is enough)."""
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
        "<target>",
        "  <architecture>i386:x86-64</architecture>",
        "  <osabi>GNU/Linux</osabi>",
    ]
    feature = None
    for number, reg in enumerate(REGISTERS):
        if reg.feature != feature:
            if feature is not None:
                lines.append("  </feature>")
            feature = reg.feature
            lines.append(f"  <feature name={quoteattr(feature)}>")
            types = _TYPES.get(feature)
            if types:
                lines.append(types.rstrip("\n"))
        group = f" group={quoteattr(reg.group)}" if reg.group else ""
        lines.append(
            f'    <reg name={quoteattr(reg.name)} bitsize="{reg.bitsize}" '
            f'type={quoteattr(reg.type)} regnum="{number}"{group}/>'
        )
    lines += ["  </feature>", "</target>", ""]
    return "\n".join(lines)
