"""Facts about a process's main image that CreateProcess reports: its path, where it is
mapped, its WinDbg-style module name and its entry point.

Read from /proc through psutil (mappings, executable path) and from /proc/PID/auxv (AT_ENTRY),
never through ptrace; the process may be stopped or running.  Every fact is best effort: a
process that vanished, or a mapping psutil cannot read, gives zeros and empty names rather
than an error, because CreateProcess must still be reported.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass

import psutil

_AT_ENTRY = 9


@dataclass(frozen=True)
class ImageFacts:
    image_name: str  # the executable's path
    module_name: str  # WinDbg-style short name (ls -> ls, libc.so.6 -> libc_so)
    base: int  # lowest mapped address of the image file, 0 if unknown
    size: int  # highest mapped end minus base, 0 if unknown
    entry: int  # AT_ENTRY, 0 if unknown


def module_name(path: str) -> str:
    """WinDbg-compatible module name (spec §9.5): the base name, any version after `.so`
    dropped, other characters that cannot appear in an identifier turned into `_`."""
    name = os.path.basename(path) or path
    name = re.sub(r"(\.so)(\.[0-9][0-9.]*)?$", r"\1", name)
    name = re.sub(r"\W", "_", name)
    return name or "unknown"


def image_facts(pid: int) -> ImageFacts:
    try:
        process = psutil.Process(pid)
        path = process.exe()
    except (psutil.Error, OSError):
        return ImageFacts("", "unknown", 0, 0, 0)
    base = end = 0
    try:
        for region in process.memory_maps(grouped=False):
            if region.path != path:
                continue
            start_text, end_text = region.addr.split("-")
            start, stop = int(start_text, 16), int(end_text, 16)
            base = start if not base else min(base, start)
            end = max(end, stop)
    except (psutil.Error, OSError, ValueError):
        base = end = 0
    return ImageFacts(path, module_name(path), base, end - base if base else 0, _entry(pid))


def _entry(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/auxv", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    for key, value in struct.iter_unpack("<QQ", data[: len(data) // 16 * 16]):
        if key == _AT_ENTRY:
            return int(value)
    return 0
