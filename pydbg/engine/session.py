"""The session: one engine's targets, its execution status, and WaitForEvent (spec §2, §4).

State machine (spec §4.1)::

    no session --create/attach--> pending --wait: first event, SessionStatus(ACTIVE)--+
         ^                                                                             v
         |               set_execution_status(GO/STEP_*)          +----------> accessible
         |      accessible ---------------------------> armed ----+ wait         (BREAK)
         |                                                |                        ^
         |                                                v        vote = BREAK    |
         |                                             running ----> event --------+
         |                                                ^            | other vote
         |                                                +------------+ (resume)
         +-- last target discarded: SessionStatus(END / END_SESSION_* / FAILURE)

All-stop: before any event is decided every thread of every target is stopped; stops that
turn out to be events of their own are queued and reported by later waits without resuming
anything, one event per decision, as Windows reports debug events.

Only the engine thread (the one that created the client) may call in, except
`set_interrupt`, `get_interrupt` and `get_execution_status`, which any thread may call.

The engine is made of parts, one module each, every one built on the ones before it:
options -> core (state, plumbing) -> interrupts -> lifecycle -> delivery -> arming ->
resuming -> deciding -> waiting; `Engine` is the whole.
"""

from __future__ import annotations

from pydbg.engine.waiting import Waiting
from pydbg.errors import (
    EngineError,
    InsideWaitError,
    NoTargetError,
    SessionFailedError,
    TargetRunningError,
)

# The session's errors are defined in pydbg.errors (public there and in pydbg) and
# re-exported here for code that imports them from this module.
__all__ = [
    "Engine",
    "EngineError",
    "InsideWaitError",
    "NoTargetError",
    "SessionFailedError",
    "TargetRunningError",
]


class Engine(Waiting):
    """One debugger engine: a session over any number of targets."""
