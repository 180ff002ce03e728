"""The Pythonic layer for scripts, on top of the DbgEng facets: `pydbg.launch`,
`pydbg.attach`, and what they hand out (pydbg.scripting.process says how it works).

    import collections, subprocess, pydbg

    sizes = collections.Counter()
    with pydbg.launch(["/bin/ls"], stdout=subprocess.DEVNULL) as proc:
        proc.breakpoint("libc_so!malloc", lambda hit: sizes.update([proc.regs.rdi]))
        proc.cont()                                   # to ProcessExited
    print(sizes.most_common(5))

Modules: process (Process, launch, attach), events (the typed events), placing (where
breakpoints and watchpoints go, through the control facet), handles
(breakpoint and watchpoint handles, what callbacks return), registers_view (`proc.regs`),
memory_view (`proc.memory`), threads (`proc.threads`, frames), listener (the event
callbacks that turn DbgEng events into typed events and votes).
"""

from __future__ import annotations

from pydbg.scripting.events import (
    BreakIn,
    BreakpointHit,
    Event,
    ModuleLoaded,
    ModuleUnloaded,
    ProcessExited,
    SignalEvent,
    ThreadCreated,
    ThreadExited,
    WatchpointHit,
)
from pydbg.scripting.handles import BreakpointHandle, WatchpointHandle
from pydbg.scripting.process import Process, attach, launch
from pydbg.scripting.threads import Frame, ThreadView

__all__ = [
    "BreakIn",
    "BreakpointHandle",
    "BreakpointHit",
    "Event",
    "Frame",
    "ModuleLoaded",
    "ModuleUnloaded",
    "Process",
    "ProcessExited",
    "SignalEvent",
    "ThreadCreated",
    "ThreadExited",
    "ThreadView",
    "WatchpointHandle",
    "WatchpointHit",
    "attach",
    "launch",
]
