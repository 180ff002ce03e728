"""Helpers of the unwind tests: a module map of a live process, stopping a traced program in
a libc function found by symbol, and the same stop under gdb as the reference.

Frames are compared across runs as (module path, file offset) pairs: a pc's offset into the
file that maps it does not depend on where ASLR put the module, and needs no ELF headers.
gdb runs the same argv in batch mode; a gdb Python script (GDB_SCRIPT) waits for the module
to be mapped (`catch load`), breaks at the same file offset, and prints every frame's pc
(`gdb.Frame.pc()`, the address `bt` prints) and the process's maps.  It also runs `bt`, so
that the number of frames can be checked against what a person would see.
"""

from __future__ import annotations

import bisect
import functools
import os
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from elftools.elf.elffile import ELFFile

from pydbg._native import EventKind
from pydbg.unwind import Frame, ModuleInfo, unwind
from tests.support import AT_ENTRY, EVENT_TIMEOUT, Driver, auxv, maps

HERE = os.path.dirname(os.path.abspath(__file__))
GDB_SCRIPT = os.path.join(HERE, "gdb_frames.py")
GDB_TIMEOUT = 240.0  # gdb reads libpython's 23 MB of DWARF for the python3 case

REAL_FRAMES = ("NORMAL_FRAME", "SIGTRAMP_FRAME")
MapRow = tuple[int, int, str, int, str]
FrameKey = tuple[str, int]


# -- ELF facts --------------------------------------------------------------------------------


@functools.cache
def elf_symbols(path: str, kinds: tuple[str, ...] = ("STT_FUNC",)) -> dict[str, int]:
    """Symbols of a file (name -> link-time address), functions unless `kinds` says which
    st_info types; .symtab over .dynsym (libc has only the latter)."""
    found: dict[str, int] = {}
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for name in (".dynsym", ".symtab"):
            table = elf.get_section_by_name(name)
            if table is None:
                continue
            for sym in table.iter_symbols():
                if (
                    sym.name
                    and sym["st_info"]["type"] in kinds
                    and sym["st_shndx"] != "SHN_UNDEF"
                    and sym["st_value"]
                ):
                    found[sym.name.split("@")[0]] = sym["st_value"]
    return found


@functools.cache
def elf_segments(path: str) -> tuple[tuple[int, int, int], ...]:
    """(p_vaddr, p_offset, p_filesz) of the PT_LOAD segments."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        return tuple(
            (s["p_vaddr"], s["p_offset"], s["p_filesz"])
            for s in elf.iter_segments()
            if s["p_type"] == "PT_LOAD"
        )


def file_offset(path: str, vaddr: int) -> int:
    """The file offset that holds link-time address vaddr."""
    for seg_vaddr, offset, size in elf_segments(path):
        if seg_vaddr <= vaddr < seg_vaddr + size:
            return vaddr - seg_vaddr + offset
    raise ValueError(f"{vaddr:#x} is not in a file-backed segment of {path}")


# -- the modules of a live process ------------------------------------------------------------


class Modules:
    """module_at for the unwinder, from /proc/PID/maps.

    /proc/PID/maps is read directly (tests.support.maps), not through psutil: psutil's
    memory_maps() does not give the file offset of a mapping, which the bias needs.
    With map_files=True a mapping whose file was deleted is read through
    /proc/PID/map_files/START-END, which still opens it.
    """

    def __init__(
        self, pid: int, *, map_files: bool = False, debug_paths: Mapping[str, str] | None = None
    ) -> None:
        self.pid = pid
        self.debug_paths = dict(debug_paths or {})
        self.rows: list[MapRow] = maps(pid)
        lowest: dict[str, tuple[int, int]] = {}
        for start, end, _, _, path in self.rows:
            if path.startswith("/") and (path not in lowest or start < lowest[path][0]):
                lowest[path] = (start, end)
        self._code: list[tuple[int, int, ModuleInfo]] = []
        infos: dict[str, ModuleInfo] = {}
        for start, end, perms, _, path in self.rows:
            if "x" not in perms or not path.startswith("/"):
                continue
            if path not in infos:
                infos[path] = self._module(path, *lowest[path], map_files)
            self._code.append((start, end, infos[path]))
        self._code.sort(key=lambda row: row[0])
        self._starts = [start for start, _, _ in self._code]

    def _module(self, path: str, start: int, end: int, map_files: bool) -> ModuleInfo:
        deleted = path.endswith(" (deleted)")
        readable = f"/proc/{self.pid}/map_files/{start:x}-{end:x}" if map_files else path
        if deleted and not map_files:
            return ModuleInfo(path=path.removesuffix(" (deleted)"), bias=0)
        first = min(vaddr for vaddr, _, _ in elf_segments(readable))
        # The lowest mapping of an ELF file is its first PT_LOAD, page-aligned down.
        bias = start - (first & ~0xFFF)
        return ModuleInfo(path=readable, bias=bias, debug_path=self.debug_paths.get(path))

    def module_at(self, address: int) -> ModuleInfo | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address < self._code[i][1]:
            return self._code[i][2]
        return None

    def key(self, pc: int) -> FrameKey:
        return frame_key(self.rows, pc)


def frame_key(rows: Sequence[MapRow], pc: int) -> FrameKey:
    """(path, file offset) of pc, or (mapping name, offset into it) for anonymous memory."""
    for start, end, _, offset, path in rows:
        if start <= pc < end:
            return (path, pc - start + offset)
    return ("?", pc)


# -- stopping a traced program ----------------------------------------------------------------


@dataclass
class Stop:
    """A traced program stopped at a breakpoint in the file at `path`; its pid is also its
    tid."""

    pid: int
    argv: list[str]
    path: str
    offset: int  # the break site as a file offset, for the same stop under gdb
    address: int
    modules: Modules
    regs: dict[str, int]

    def read_memory(self, tracer: Any) -> Callable[[int, int], bytes]:
        return lambda address, size: tracer.read_memory(self.pid, address, size)

    def unwind(self, tracer: Any, modules: Modules | None = None, **kw: Any) -> list[Frame]:
        module_at = (modules or self.modules).module_at
        return unwind(self.regs, self.read_memory(tracer), module_at, **kw)

    def keys(self, frames: Sequence[Frame]) -> list[FrameKey]:
        return [self.modules.key(frame.pc) for frame in frames]


def run_to_entry(tracer: Any, driver: Driver, pid: int) -> None:
    """Run a freshly spawned program to its entry point, where every DT_NEEDED library is
    mapped (and nothing of the program has run yet)."""
    entry = auxv(pid)[AT_ENTRY]
    tracer.insert_breakpoint(pid, entry)
    tracer.cont(pid)
    event = driver.until_kind(EventKind.BREAKPOINT, pid)
    assert event.address == entry
    tracer.remove_breakpoint(pid, entry)


def module_path(pid: int, suffix: str) -> str:
    """The mapped file whose name ends with suffix, e.g. 'libc.so.6'."""
    paths = {path for *_, path in maps(pid) if path.startswith("/")}
    found = sorted(p for p in paths if os.path.basename(p) == suffix or p.endswith(suffix))
    assert found, f"no mapping of {suffix} in process {pid}"
    return found[0]


def runtime_address(pid: int, path: str, want: int) -> int:
    """Where file offset `want` of the file at path is mapped in process pid."""
    for start, end, _, offset, mapped in maps(pid):
        if mapped == path and offset <= want < offset + (end - start):
            return start + want - offset
    raise AssertionError(f"{path} offset {want:#x} is not mapped in process {pid}")


def stop_in(
    tracer: Any,
    driver: Driver,
    argv: Sequence[str],
    library: str,
    symbol: str,
    *,
    debug_paths: Mapping[str, str] | None = None,
) -> Stop:
    """Spawn argv (ASLR off, output to /dev/null) and run it to the first call of `symbol`
    in the mapped file whose name ends with `library`; signals on the way are delivered
    (the SIGILL of the signal mode)."""
    pid = spawn_to_entry(tracer, driver, argv)
    path = module_path(pid, library)
    offset = file_offset(path, elf_symbols(path)[symbol])
    return run_to(tracer, driver, pid, argv, path, offset, debug_paths=debug_paths)


def spawn_to_entry(tracer: Any, driver: Driver, argv: Sequence[str]) -> int:
    """Spawn argv with ASLR off and output to /dev/null; run it to its entry point."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid: int = tracer.spawn(list(argv), disable_aslr=True, stdout=devnull)
    finally:
        os.close(devnull)
    run_to_entry(tracer, driver, pid)
    return pid


def run_to(
    tracer: Any,
    driver: Driver,
    pid: int,
    argv: Sequence[str],
    path: str,
    offset: int,
    *,
    debug_paths: Mapping[str, str] | None = None,
) -> Stop:
    """Break at file offset `offset` of the mapped file `path`, and run there."""
    address = runtime_address(pid, path, offset)
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    event = driver.until(
        lambda e: (
            e.tid == pid and e.kind in (EventKind.BREAKPOINT, EventKind.EXITED, EventKind.KILLED)
        ),
        timeout=EVENT_TIMEOUT,
    )
    assert event.kind == EventKind.BREAKPOINT and event.address == address, event
    tracer.remove_breakpoint(pid, address)
    return capture(tracer, pid, argv, path, offset, debug_paths=debug_paths)


def capture(
    tracer: Any,
    pid: int,
    argv: Sequence[str],
    path: str,
    offset: int,
    *,
    debug_paths: Mapping[str, str] | None = None,
) -> Stop:
    """The Stop of a program stopped at file offset `offset` of `path`."""
    return Stop(
        pid=pid,
        argv=list(argv),
        path=path,
        offset=offset,
        address=runtime_address(pid, path, offset),
        modules=Modules(pid, debug_paths=debug_paths),
        regs=tracer.get_regs(pid).as_dict(),
    )


# -- gdb as the reference ---------------------------------------------------------------------


@dataclass
class GdbStop:
    frames: list[tuple[int, str]]  # (pc, gdb frame type name)
    rows: list[MapRow]
    bt_lines: list[str]
    output: str

    def keys(self) -> list[FrameKey]:
        """The frames that have a stack frame of their own.  gdb also lists the frames of
        inlined calls (at their caller's pc) and of tail calls (reconstructed from DWARF
        call-site entries), which no unwinder finds on the stack."""
        return [frame_key(self.rows, pc) for pc, kind in self.frames if kind in REAL_FRAMES]


def gdb_stop(
    argv: Sequence[str],
    library: str,
    offset: int,
    *,
    past_main: bool = True,
    pass_signals: Sequence[str] = (),
) -> GdbStop:
    """Run argv under gdb (ASLR off) to the first execution of file offset `offset` of the
    file at path `library`; report gdb's frames there."""
    settings = [
        "set debuginfod enabled off",
        "set auto-load off",
        "set pagination off",
        "set confirm off",
        "set width 0",
        "set disable-randomization on",
        f"set backtrace past-main {'on' if past_main else 'off'}",
        *(f"handle {sig} nostop noprint pass" for sig in pass_signals),
        f"python UNWIND_LIBRARY = {library!r}",
        f"python UNWIND_OFFSET = {offset}",
        f"python UNWIND_ARGS = {shlex.join(argv[1:])!r}",
    ]
    cmd = ["gdb", "-batch", "-nx"]
    for line in settings:
        cmd += ["-ex", line]
    cmd += ["-x", GDB_SCRIPT, "--args", *argv]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=GDB_TIMEOUT, stdin=subprocess.DEVNULL
    )
    out = proc.stdout + proc.stderr
    frames = []
    rows = []
    bt = []
    for line in out.splitlines():
        if line.startswith("UNWIND-FRAME "):
            _, pc, kind = line.split()
            frames.append((int(pc, 16), kind))
        elif line.startswith("UNWIND-MAP "):
            _, start, end, perms, map_offset, path = (line.split(" ", 5) + [""])[:6]
            rows.append((int(start, 16), int(end, 16), perms, int(map_offset, 16), path))
        elif line.startswith("#"):
            bt.append(line)
    assert frames, f"gdb gave no frames: {shlex.join(cmd)}\n{out}"
    return GdbStop(frames=frames, rows=rows, bt_lines=bt, output=out)


def gdb_keys(stop: Stop, **kw: Any) -> list[FrameKey]:
    """gdb's real frames at the same stop as `stop`, as (path, file offset) pairs."""
    return gdb_stop(stop.argv, stop.path, stop.offset, **kw).keys()
