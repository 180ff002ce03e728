"""The local cache of a remote target's files (the program and its libraries fetched
through a GDB-remote server's vFile:), keyed by GNU build id:

    $XDG_CACHE_HOME/pydbg/remote/<build-id>/<basename>   (~/.cache when XDG_CACHE_HOME is unset)

A build id names the file's contents, so a file already cached under its build id is not
fetched again, whichever path or server it comes from.  A file without a build id is kept
under `nobuildid-<sha256 of its bytes>` (and fetched each time: nothing names it first).
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

__all__ = ["FileCache", "build_id_of_bytes", "cache_root", "parse_notes"]

_NT_GNU_BUILD_ID = 3
_PT_NOTE = 4


def cache_root() -> Path:
    """$XDG_CACHE_HOME/pydbg/remote, or ~/.cache/pydbg/remote."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pydbg" / "remote"


def parse_notes(data: bytes) -> str | None:
    """The GNU build id (hex) among the ELF notes in `data`, or None."""
    position = 0
    while position + 12 <= len(data):
        namesz, descsz, kind = struct.unpack_from("<III", data, position)
        name_start = position + 12
        desc_start = name_start + (namesz + 3) // 4 * 4
        desc_end = desc_start + descsz
        if desc_end > len(data):
            return None
        name = data[name_start : name_start + namesz].rstrip(b"\0")
        if kind == _NT_GNU_BUILD_ID and name == b"GNU" and descsz:
            return data[desc_start:desc_end].hex()
        position = desc_start + (descsz + 3) // 4 * 4
    return None


def build_id_of_bytes(data: bytes) -> str | None:
    """The build id of a whole ELF file's bytes (from its PT_NOTE segments), or None."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return None
    phoff = struct.unpack_from("<Q", data, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for index in range(phnum):
        at = phoff + index * phentsize
        if at + 40 > len(data):
            return None
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, at)
        if p_type == _PT_NOTE:
            found = parse_notes(data[p_offset : p_offset + p_filesz])
            if found:
                return found
    return None


class FileCache:
    """The cache directory (module docstring); `root` defaults to cache_root()."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = cache_root() if root is None else root

    def lookup(self, build_id: str, path: str) -> Path | None:
        """The cached copy of the file `path` whose build id is `build_id`, or None."""
        candidate = self.root / build_id / os.path.basename(path)
        return candidate if candidate.is_file() else None

    def store(self, path: str, data: bytes) -> Path:
        """Keep `data` (the file `path`'s bytes) and return where it is.  Written to a
        temporary name and renamed, so a reader never sees half a file."""
        key = build_id_of_bytes(data) or "nobuildid-" + hashlib.sha256(data).hexdigest()
        directory = self.root / key
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / os.path.basename(path)
        temporary = directory / f".{target.name}.{os.getpid()}.part"
        temporary.write_bytes(data)
        os.replace(temporary, target)
        return target
