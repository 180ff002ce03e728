"""Call stacks of stopped threads: the unwinder (pydbg.unwind) fed from the engine.

The unwinder needs the registers, a memory reader and, for each address, the file whose
CFI describes it and its load bias; the module list kept by pydbg.engine.modules gives
the last.  `gu` (step out) needs two facts about the current frame: where the function
returns to, and the stack pointer once it has returned (the frame's CFA), so that a
recursive instance of the same function returning to the same address deeper down does
not end the step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pydbg.errors import PydbgError
from pydbg.unwind import Frame, ModuleInfo, unwind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydbg.engine.backend import Backend
    from pydbg.engine.modules import ModuleWatch
    from pydbg.engine.targets import Thread

__all__ = ["caller_frame", "stack_frames"]


class _Engine(Protocol):
    """What a stack walk needs of the engine: registers and memory, the module lists, and
    each file's separate debug file."""

    @property
    def backend(self) -> Backend: ...

    @property
    def module_watch(self) -> Mapping[int, ModuleWatch]: ...

    def debug_file(self, path: str) -> str | None: ...


def stack_frames(engine: _Engine, thread: Thread, max_frames: int = 256) -> list[Frame]:
    """The thread's frames, innermost first (never empty; the last may be best effort)."""
    backend = engine.backend
    pid = thread.process.pid
    regs = backend.get_regs(thread.tid).as_dict()
    watch = engine.module_watch.get(pid)
    objects = [o for o in watch.objects if not o.is_vdso and o.size] if watch else []
    debug_file = engine.debug_file

    def module_at(address: int) -> ModuleInfo | None:
        for obj in objects:
            if obj.base <= address < obj.base + obj.size:
                return ModuleInfo(obj.path, obj.bias, debug_file(obj.path))
        return None

    def read(address: int, size: int) -> bytes:
        return backend.read_memory(pid, address, size, partial=True)

    return unwind(regs, read, module_at, max_frames)


def caller_frame(engine: _Engine, thread: Thread) -> tuple[int, int] | None:
    """(return address, stack pointer after the return) of the current function, or None
    if the unwinder cannot tell."""
    try:
        frames = stack_frames(engine, thread, 2)
    except PydbgError:
        return None
    first = frames[0]
    if first.return_address is None or first.frame_offset is None or not first.return_address:
        return None
    return first.return_address, first.frame_offset
