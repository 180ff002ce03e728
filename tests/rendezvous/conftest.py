"""Fixtures of the rendezvous tier: the `dlopen` target (tests/targets/dlopen.c) under the
tracer with a breakpoint on the loader's r_brk from its first instruction, and outside
observations (/proc/PID/maps, build ids read from the files) to check the lists against.

`DlopenTarget` drives the target one stdin command at a time.  The target reports every
reply through checkpoint(reply), where a breakpoint stops it; the reply is read from rdi, so
no pipe is read while the target runs.  Every r_brk hit on the way is recorded as the
module list read right there.  The tracer fixture kills the target; the stdin pipe is
closed by the fixture here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile

from pydbg._native import EventKind
from pydbg.engine.rendezvous import ModuleList, ModuleTracker, breakpoint_address, loaded_objects
from tests.support import Binary, Driver, maps


def reader(tracer: Any, pid: int) -> Any:
    """The read_memory the engine hands the rendezvous code: Tracer.read_memory for pid."""
    return lambda address, size: tracer.read_memory(pid, address, size)


def mapped_objects(pid: int) -> set[str]:
    """Paths of the ELF files mapped in pid, plus "[vdso]": what a module list must show."""
    found = set()
    for _, _, _, _, path in maps(pid):
        if path == "[vdso]":
            found.add(path)
        elif path.startswith("/"):
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.add(path)
    return found


def mapped_span(pid: int, path: str) -> tuple[int, int]:
    """(lowest start, highest end - lowest start) of the mappings of one file."""
    rows = [(start, end) for start, end, _, _, p in maps(pid) if p == path]
    assert rows, f"{path} is not mapped in {pid}"
    base = min(start for start, _ in rows)
    return base, max(end for _, end in rows) - base


def file_build_id(path: str) -> str | None:
    """The build id from the .note.gnu.build-id section (the code under test reads the
    PT_NOTE segments: a different way to the same bytes)."""
    with open(path, "rb") as f:
        section = ELFFile(f).get_section_by_name(".note.gnu.build-id")
        if section is None:
            return None
        for note in section.iter_notes():
            if note["n_type"] == "NT_GNU_BUILD_ID":
                return str(note["n_desc"])
    return None


@dataclass
class Reply:
    """One command's outcome: the target's reply and the lists read at each r_brk hit."""

    text: str
    hits: list[ModuleList] = field(default_factory=list)

    @property
    def states(self) -> list[list[int]]:
        """r_state of every namespace at each hit."""
        return [[rd.state for rd in hit.namespaces] for hit in self.hits]


class DlopenTarget:
    """The dlopen target, traced from exec, stopped at checkpoint("ready")."""

    def __init__(self, tracer: Any, binary: Binary, library: str) -> None:
        self.tracer = tracer
        self.driver = Driver(tracer)
        self.library = library
        stdin_read, self._stdin = os.pipe()
        with open(os.devnull, "wb") as null:
            try:
                self.pid = tracer.spawn(
                    [binary.path, library], stdin=stdin_read, stdout=null.fileno()
                )
            finally:
                os.close(stdin_read)
        self.read = reader(tracer, self.pid)
        self.at_exec = loaded_objects(self.pid, self.read)
        self.tracker = ModuleTracker(self.at_exec)
        brk = breakpoint_address(self.pid, self.read)
        assert brk is not None
        self.brk: int = brk
        self.checkpoint = binary.addr(self.pid, "checkpoint")
        tracer.insert_breakpoint(self.pid, self.brk)
        tracer.insert_breakpoint(self.pid, self.checkpoint)
        self.startup = self._run()
        assert self.startup.text == "ready"

    def _run(self) -> Reply:
        """Resume until checkpoint(); record the list at each r_brk hit on the way."""
        reply = Reply("")
        self.tracer.cont(self.pid)
        while True:
            event = self.driver.until_kind(EventKind.BREAKPOINT)
            if event.address == self.checkpoint:
                rdi = self.tracer.get_reg(event.tid, "rdi")
                reply.text = self.tracer.read_memory(self.pid, rdi, 64).split(b"\0")[0].decode()
                return reply
            assert event.address == self.brk, f"stopped at {event.address:#x}"
            reply.hits.append(loaded_objects(self.pid, self.read))
            self.tracer.cont(event.tid)

    def command(self, text: str) -> Reply:
        os.write(self._stdin, text.encode() + b"\n")
        return self._run()

    def finish(self) -> int:
        """Close stdin and let the target run to its end; its exit status."""
        self.close()
        self.tracer.cont(self.pid)

        def pass_breakpoints(event: Any) -> bool:
            if event.kind != EventKind.BREAKPOINT:
                return False
            self.tracer.cont(event.tid)
            return True

        return int(self.driver.until_exit(self.pid, handle=pass_breakpoints).exit_code)

    def close(self) -> None:
        if self._stdin >= 0:
            os.close(self._stdin)
            self._stdin = -1


@pytest.fixture(params=["pie", "nopie"])
def dlopen_target(request, tracer, targets, libraries) -> Iterator[DlopenTarget]:
    target = DlopenTarget(tracer, targets.get("dlopen", request.param), libraries["libplugin"])
    try:
        yield target
    finally:
        target.close()
