"""The queries lldb makes beyond gdb's: qHostInfo, qProcessInfo, qMemoryRegionInfo.

lldb's gdb-remote client (lldb/docs/resources/lldbgdbremote.md) asks what the host and
the process are (triple, pointer size, byte order, OS) before it reads the target
description, and asks for the memory region around an address while it unwinds.  Each
reply is `key:value;` pairs; strings that could hold `;` or `:` are hex-encoded
(`triple`, `name`).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydbg.data_spaces import DataSpaces

__all__ = ["host_info", "memory_region_info", "process_info"]

TRIPLE = "x86_64-pc-linux-gnu"


def _common() -> str:
    return f"triple:{TRIPLE.encode().hex()};ptrsize:8;endian:little;ostype:linux;"


def host_info() -> str:
    return (
        f"{_common()}vendor:pc;hostname:{socket.gethostname().encode().hex()};"
        f"cputype:16777223;cpusubtype:3;"  # CPU_TYPE_X86_64, CPU_SUBTYPE_X86_64_ALL
    )


def process_info(pid: int) -> str:
    return f"pid:{pid:x};{_common()}"


def memory_region_info(data: DataSpaces, address: int) -> str:
    """The mapping holding `address` (start, size, r/w/x, file), or the gap around it."""
    region = data.query_virtual(address)
    reply = f"start:{region.base:x};size:{region.size:x};"
    perms = "".join(c for c in region.perms[:3] if c != "-")
    if region.perms:
        reply += f"permissions:{perms};"
        if region.path:
            reply += f"name:{os.fsencode(region.path).hex()};"
    return reply
