"""The caller of a thread's current function, for `gu` (step out).

`gu` needs two facts about the current frame: where the function returns to, and the
stack pointer once it has returned (the frame's CFA), so that a recursive instance of the
same function returning to the same address deeper down does not end the step.  The
unwinder gives both from CFI; without unwind information the frame-pointer chain is the
fallback (right for code built with frame pointers, once the prologue has run).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.engine.session import Engine
    from pydbg.engine.targets import Thread


def caller_frame(engine: Engine, thread: Thread) -> tuple[int, int] | None:
    """(return address, stack pointer after the return), or None if unknown."""
    backend = engine.backend
    pid = thread.process.pid
    try:
        regs = backend.get_regs(thread.tid)
    except PydbgError:
        return None
    frames = _unwound(engine, thread)
    if frames is not None:
        return frames
    try:
        rbp = regs.rbp
        saved = backend.read_memory(pid, rbp, 16)
    except (PydbgError, OSError):
        return None
    return_address = struct.unpack_from("<Q", saved, 8)[0]
    return return_address, rbp + 16


def _unwound(engine: Engine, thread: Thread) -> tuple[int, int] | None:
    """Frame 1 from the unwinder, when it has one (None: fall back)."""
    unwind = getattr(engine, "unwind", None)
    if unwind is None:
        return None
    try:
        frames = unwind(thread, 2)
    except PydbgError:
        return None
    if len(frames) < 2 or frames[0].return_address == 0:
        return None
    return frames[0].return_address, frames[0].cfa
