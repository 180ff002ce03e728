"""A remote target's /proc facts and files over the GDB Remote Serial Protocol, for a
server whose /proc and files are not ours (connect_gdbserver(..., files="remote")).

The engine reads a process's modules through pydbg.engine.rendezvous with a `ProcessView`
instead of /proc (as for a core file): this module builds one from the server:

- auxv: `qXfer:auxv:read`; the program's path: `qXfer:exec-file:read:PID`;
- mappings: the server's /proc/PID/maps read through vFile: (a " (deleted)" file keeps its
  path); a server that refuses it gets the main program and the loader from auxv only;
- files: every mapped file is fetched through `vFile:setfs/open/pread/close` into the
  local cache (pydbg.gdbremote.file_cache), unless its build id, read from the target's
  memory (its ELF header and PT_NOTE are mapped), is cached already.  A file the server
  cannot open by its path (deleted, another mount namespace) is tried as
  /proc/PID/exe (the program) and /proc/PID/map_files/START-END.

Errors from the server (vFile unsupported, EACCES) become one RemoteError naming the
file and the reason.  Fetches are logged on the `pydbg.gdbremote` channel ("fetched ...").
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable

from pydbg.engine.rendezvous import ProcessView
from pydbg.errors import PydbgError, RemoteError
from pydbg.gdbremote.file_cache import FileCache, parse_notes
from pydbg.gdbremote.packets import unescape

__all__ = ["RemoteFiles"]

log = logging.getLogger("pydbg.gdbremote")

Request = Callable[[bytes], bytes]
ReadMemory = Callable[[int, int], bytes]

_PT_LOAD, _PT_NOTE = 1, 4
_AT_PHDR, _AT_BASE = 3, 7
_DELETED = " (deleted)"
# gdb's File-I/O errno values (gdb manual, "Errno Values") -> words for the message.
_ERRNO_WORDS = {
    1: "EPERM",
    2: "ENOENT",
    9: "EBADF",
    13: "EACCES",
    20: "ENOTDIR",
    21: "EISDIR",
    22: "EINVAL",
    24: "EMFILE",
    38: "ENOSYS",
}


class RemoteFiles:
    """The files of the server's processes (module docstring)."""

    def __init__(self, request: Request, packet_size: int, cache: FileCache | None = None) -> None:
        self.request = request
        self.chunk = max(256, (packet_size - 64) // 2)  # room for escapes in the reply
        self.cache = FileCache() if cache is None else cache
        self._local: dict[tuple[int, str, int], str] = {}  # (pid, path, start) -> copy

    # -- vFile -------------------------------------------------------------------------

    def _vfile(self, what: str, payload: bytes) -> tuple[int, bytes]:
        reply = self.request(payload)
        if not reply:
            raise RemoteError(f"{what}: the server does not offer vFile: (empty reply)")
        if reply[:1] != b"F":
            raise RemoteError(f"{what}: unexpected reply {reply[:40]!r}")
        head, _, data = reply[1:].partition(b";")
        code, _, err = head.partition(b",")
        result = int(code, 16) if not code.startswith(b"-") else -int(code[1:], 16)
        if result < 0:
            number = int(err, 16) if err else 0
            raise RemoteError(f"{what}: {_ERRNO_WORDS.get(number, f'error {number}')}")
        return result, data

    def read_file(self, pid: int, path: str) -> bytes:
        """The whole file `path` as the server's process pid sees it."""
        what = f"vFile: cannot read {path} from the server"
        self._vfile(what, f"vFile:setfs:{pid:x}".encode())
        fd, _ = self._vfile(what, b"vFile:open:" + path.encode().hex().encode() + b",0,0")
        out = bytearray()
        try:
            while True:
                count, data = self._vfile(
                    what, f"vFile:pread:{fd:x},{self.chunk:x},{len(out):x}".encode()
                )
                if count == 0:
                    break
                out += unescape(data)[:count]
        finally:
            self._vfile(what, f"vFile:close:{fd:x}".encode())
        return bytes(out)

    # -- the view ----------------------------------------------------------------------

    def _qxfer(self, obj: str, annex: str) -> bytes:
        data = bytearray()
        while True:
            reply = self.request(f"qXfer:{obj}:read:{annex}:{len(data):x},{self.chunk:x}".encode())
            if reply[:1] not in (b"m", b"l"):
                raise RemoteError(f"qXfer:{obj}:read:{annex}: {reply[:40]!r}")
            data += unescape(reply[1:])
            if reply[:1] == b"l":
                return bytes(data)

    def view(self, pid: int, read_memory: ReadMemory) -> ProcessView:
        """The ProcessView of the server's process pid, its files in the local cache."""
        raw = self._qxfer("auxv", "")
        auxv = dict(struct.iter_unpack("<QQ", raw[: len(raw) // 16 * 16]))
        exe = self._qxfer("exec-file", f"{pid:x}").decode(errors="replace")
        exe = exe.removesuffix(_DELETED)
        try:
            maps = _parse_maps(self.read_file(pid, f"/proc/{pid}/maps").decode(errors="replace"))
        except RemoteError as exc:
            log.info("no remote maps (%s): main program and loader from auxv", exc)
            maps = []
        files: dict[str, str] = {}
        starts: dict[str, tuple[int, int]] = {}
        for start, end, offset, path in maps:
            if path.startswith("/") and offset == 0 and path not in starts:
                starts[path] = (start, end)
        if exe not in starts:
            starts.setdefault(exe, (0, 0))
        for path, (start, end) in starts.items():
            local = self._fetch(pid, path, start, end, exe, read_memory)
            if local is not None:
                files[path] = local
        return ProcessView(auxv=auxv, maps=tuple(maps), exe=exe, files=files, live=True)

    def _fetch(
        self, pid: int, path: str, start: int, end: int, exe: str, read_memory: ReadMemory
    ) -> str | None:
        key = (pid, path, start)
        if key in self._local:
            return self._local[key]
        if start and not _is_elf(read_memory, start):
            return None  # (a mapped data file, ld.so.cache: no module, nothing to fetch)
        build_id = _build_id_in_memory(read_memory, start) if start else None
        cached = self.cache.lookup(build_id, path) if build_id else None
        if cached is None:
            sources = [path]
            if path == exe:
                sources.append(f"/proc/{pid}/exe")
            if start:
                sources.append(f"/proc/{pid}/map_files/{start:x}-{end:x}")
            problem: RemoteError | None = None
            for source in sources:
                try:
                    data = self.read_file(pid, source)
                except RemoteError as exc:
                    problem = problem or exc
                    continue
                cached = self.cache.store(path, data)
                log.info("fetched %s (%d bytes) into %s", path, len(data), cached)
                break
            else:
                if problem is not None:
                    raise problem
        self._local[key] = str(cached)
        return str(cached)


def _parse_maps(text: str) -> list[tuple[int, int, int, str]]:
    rows = []
    for line in text.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 5:
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        path = parts[5].removesuffix(_DELETED) if len(parts) > 5 else ""
        rows.append((start, end, int(parts[2], 16), path))
    return rows


def _is_elf(read_memory: ReadMemory, base: int) -> bool:
    try:
        return read_memory(base, 4) == b"\x7fELF"
    except (PydbgError, OSError):
        return True  # (unknown: fetch it and let the engine judge)


def _build_id_in_memory(read_memory: ReadMemory, base: int) -> str | None:
    """The build id of the ELF image whose first page is mapped at `base`, read from the
    target's memory (its header, program headers and PT_NOTE are loaded), or None."""
    try:
        header = read_memory(base, 64)
        if header[:4] != b"\x7fELF":
            return None
        phoff = struct.unpack_from("<Q", header, 32)[0]
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        if not 0 < phnum <= 128 or phentsize < 56:
            return None
        table = read_memory(base + phoff, phnum * phentsize)
        rows = [struct.unpack_from("<IIQQQQ", table, i * phentsize) for i in range(phnum)]
        loads = [vaddr for kind, _, _, vaddr, _, _ in rows if kind == _PT_LOAD]
        if not loads:
            return None
        bias = base - (min(loads) & ~0xFFF)
        for kind, _, _, vaddr, _, filesz in rows:
            if kind == _PT_NOTE and 0 < filesz <= 0x10000:
                found = parse_notes(read_memory(bias + vaddr, filesz))
                if found:
                    return found
    except (PydbgError, OSError, struct.error, ValueError):
        return None  # (unreadable memory: no id, the file is fetched)
    return None
