"""How pydbg writes addresses: cdb's 64-bit form, the two halves split by a backtick
(00007ff6`12340000), which the MASM evaluator reads back as one number."""

MASK64 = (1 << 64) - 1


def hex64(value: int) -> str:
    """00000000`00401000 for 0x401000; values are taken modulo 2**64."""
    value &= MASK64
    return f"{value >> 32:08x}`{value & 0xFFFFFFFF:08x}"
