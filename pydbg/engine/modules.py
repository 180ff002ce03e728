"""The modules of each target, kept current through the dynamic loader (spec §9.5).

At acquisition the list is read from the loader's rendezvous (pydbg.engine.rendezvous),
and an internal int3 goes on the loader's r_brk, the function it calls before and after
every change of its lists.  Each stop there while every namespace is consistent is
compared with the previous list: what appeared is a LoadModule event, what went an
UnloadModule, each preceded by ChangeSymbolState(LOADS / UNLOADS).  The internal int3 is
not a breakpoint of the user's: it is not listed, not counted, and a hit on it that
changes nothing is resumed silently.  An exec replaces every module: they are all
unloaded and the new image's are loaded.  A static program has no loader: its modules
are the image and the vDSO, fixed.

Choices: CreateProcess stands for the main image, so it gets no LoadModule of its own; a
launched program's first stop is before the loader ran, so its list then holds the
image, the loader and the vDSO, and the libraries it needs arrive as LoadModule events at
the loader's first consistent stop, before their constructors run.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Protocol

from pydbg.constants import DEBUG_CSS_ALL, DEBUG_CSS_LOADS, DEBUG_CSS_UNLOADS
from pydbg.engine import events as ev
from pydbg.engine.rendezvous import (
    LoadedObject,
    ModuleTracker,
    ProcessView,
    RendezvousError,
    breakpoint_address,
    loaded_objects,
)
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.engine.backend import Backend
    from pydbg.engine.breakpoints import BreakpointTable
    from pydbg.engine.notify import Notifier
    from pydbg.engine.targets import Process, Thread

__all__ = ["ModuleRegistry", "ModuleWatch"]


class _Engine(Protocol):
    """What a module watch needs of the engine."""

    @property
    def backend(self) -> Backend: ...

    @property
    def breakpoints(self) -> BreakpointTable: ...

    @property
    def notifier(self) -> Notifier: ...

    def output_warning(self, text: str) -> None: ...

    def process_view(self, pid: int) -> ProcessView | None: ...


class ModuleWatch:
    """One process's module list and the internal breakpoint that keeps it current."""

    def __init__(self, engine: _Engine, process: Process) -> None:
        self.engine = engine
        self.process = process
        self.tracker = ModuleTracker()
        self.brk: int | None = None  # where the internal int3 is, if planted

    @property
    def objects(self) -> tuple[LoadedObject, ...]:
        return self.tracker.objects

    def _read(self, address: int, size: int) -> bytes:
        return self.engine.backend.read_memory(self.process.pid, address, size)

    def start(self, thread: Thread | None) -> list[ev.Event]:
        """Read the list and plant the internal breakpoint; LoadModule for every module
        but the main image.  A recorded process (a core file: the engine has a view of it)
        gets its list, read the same way from the core's memory, and no breakpoint."""
        view = self.engine.process_view(self.process.pid)
        try:
            current = loaded_objects(self.process.pid, self._read, view=view)
        except (RendezvousError, PydbgError, OSError) as exc:
            # (A live process that is gone already: nothing to say.)
            if view is not None or os.path.isdir(f"/proc/{self.process.pid}"):
                self.engine.output_warning(f"modules of process {self.process.pid}: {exc}")
            return []
        self.tracker = ModuleTracker(current)
        if view is None or view.live:
            self._plant(view)
        return [self._loaded(obj, thread) for obj in current.objects if not obj.is_main]

    def _plant(self, view: ProcessView | None = None) -> None:
        pid = self.process.pid
        try:
            address = breakpoint_address(pid, self._read, view)
        except (RendezvousError, PydbgError, OSError):
            address = None
        if address is None or address == self.brk:
            return
        with contextlib.suppress(PydbgError):
            self.engine.backend.insert_breakpoint(pid, address)
            self.brk = address

    def on_brk(self, thread: Thread) -> list[ev.Event]:
        """The loader stopped at r_brk: what changed, if its lists are consistent."""
        try:
            view = self.engine.process_view(self.process.pid)
            current = loaded_objects(self.process.pid, self._read, view=view)
        except (RendezvousError, PydbgError, OSError):
            return []
        change = self.tracker.update(current)
        if not change:
            return []
        out: list[ev.Event] = []
        for obj in change.unloaded:
            self.engine.breakpoints.module_unloaded(self.process, obj.base, obj.size)
            self.engine.notifier.symbol_state(DEBUG_CSS_UNLOADS, obj.base)
            out.append(ev.UnloadModule(self.process, thread, obj.path, obj.base))
        for obj in change.loaded:
            out.append(self._loaded(obj, thread))
        self.engine.breakpoints.reevaluate()  # deferred breakpoints may resolve now
        return out

    def _loaded(self, obj: LoadedObject, thread: Thread | None) -> ev.LoadModule:
        self.engine.notifier.symbol_state(DEBUG_CSS_LOADS, obj.base)
        return ev.LoadModule(
            self.process,
            thread,
            base_offset=obj.base,
            module_size=obj.size,
            module_name=obj.module_name,
            image_name=obj.path,
        )

    def exec_replaced(self, thread: Thread) -> list[ev.Event]:
        """exec: every old module is gone (the core dropped the old int3 with the image)."""
        out: list[ev.Event] = [
            ev.UnloadModule(self.process, thread, obj.path, obj.base)
            for obj in self.tracker.objects
            if not obj.is_main
        ]
        self.tracker = ModuleTracker()
        self.brk = None
        return out + self.start(thread)


class ModuleRegistry(dict[int, ModuleWatch]):
    """pid -> its module watch, for every target of one engine: what translation asks of
    modules, and what stack walks and symbols read (`get(pid)`)."""

    def __init__(self, engine: _Engine) -> None:
        super().__init__()
        self.engine = engine

    def start(self, process: Process, thread: Thread | None) -> list[ev.Event]:
        """A process joined the session: watch its modules; LoadModule for each but the
        main image."""
        watch = ModuleWatch(self.engine, process)
        self[process.pid] = watch
        return watch.start(thread)

    def image_replaced(self, process: Process) -> None:
        """An exec replaced a process's image: every symbol it had is stale, and its
        breakpoints went with the old image."""
        self.engine.breakpoints.image_replaced(process)
        self.engine.notifier.symbol_state(DEBUG_CSS_ALL, 0)
