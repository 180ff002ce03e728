"""pydbg: a Linux x86_64 native debugger for Python, on ptrace, in the DbgEng model.

    import pydbg
    client = pydbg.create_client()
    client.create_process(["/bin/true"])
    client.control.wait_for_event()                 # the initial breakpoint
    print(hex(client.registers.get_value("rip")))
    client.control.execute("t; r rip; g")

For scripts, `pydbg.launch(argv)` / `pydbg.attach(pid)` give one process with registers,
memory, breakpoints with callbacks and typed events, on top of the facets
(pydbg.scripting):

    with pydbg.launch(["./prog"]) as proc:
        proc.breakpoint("prog!work", lambda hit: print(proc.regs.rdi))
        print(proc.cont())                          # ProcessExited(... exit_code=0 ...)

`create_client` and the facets follow the Windows Debugger Engine (see pydbg.client);
`EventCallbacks` and `OutputCallbacks` are the classes to subclass; constants carry their
dbgeng.h names and values in `pydbg.constants`.  The native core is `pydbg._native` (its
contract: `pydbg/_native.pyi`).  Every exception pydbg raises on purpose is a `PydbgError`;
the classes are defined in `pydbg.errors` and exported here too:

    try:
        client.control.evaluate("nosuch + 1")
    except pydbg.UnknownSymbolError as exc:
        print("no symbol", exc.name)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pydbg.errors import (
    AlreadyTracedError,
    AmbiguousProcessNameError,
    AmbiguousSymbolError,
    BadFileDescriptorError,
    CoreFileError,
    CoreFormatError,
    DumpTargetReadOnlyError,
    EngineError,
    ExecError,
    InsideWaitError,
    InvalidArgumentError,
    InvalidRegisterError,
    InvalidStatusError,
    MemoryAccessError,
    NoSuchProcessError,
    NoTargetError,
    NotStoppedError,
    ProcessExitedError,
    ProcessNameNotFoundError,
    ProgramNotExecutableError,
    ProgramNotFoundError,
    PtraceError,
    PtracePermissionError,
    PydbgError,
    RegisterAttributeError,
    RegisterValueError,
    RemoteError,
    RemoteUnsupportedError,
    SelfAttachError,
    SessionFailedError,
    SymbolError,
    TargetRunningError,
    TracerClosedError,
    UnknownSymbolError,
    WrongThreadError,
    ZombieProcessError,
)

if TYPE_CHECKING:
    from pydbg.callbacks import EventCallbacks, OutputCallbacks
    from pydbg.client import DebugClient, create_client
    from pydbg.hostengine import connect
    from pydbg.scripting import (
        BreakIn,
        BreakpointHit,
        Event,
        ModuleLoaded,
        ModuleUnloaded,
        Process,
        ProcessExited,
        SignalEvent,
        ThreadCreated,
        ThreadExited,
        WatchpointHit,
        attach,
        launch,
    )

    __version__: str

__all__ = [
    "__version__",
    "DebugClient",
    "EventCallbacks",
    "OutputCallbacks",
    "create_client",
    "connect",
    # the layer for scripts (pydbg.scripting)
    "launch",
    "attach",
    "Process",
    "Event",
    "BreakIn",
    "BreakpointHit",
    "WatchpointHit",
    "SignalEvent",
    "ThreadCreated",
    "ThreadExited",
    "ModuleLoaded",
    "ModuleUnloaded",
    "ProcessExited",
    # errors (pydbg.errors), base class first
    "PydbgError",
    "AlreadyTracedError",
    "AmbiguousProcessNameError",
    "AmbiguousSymbolError",
    "BadFileDescriptorError",
    "CoreFileError",
    "CoreFormatError",
    "DumpTargetReadOnlyError",
    "EngineError",
    "ExecError",
    "InsideWaitError",
    "InvalidArgumentError",
    "InvalidRegisterError",
    "InvalidStatusError",
    "MemoryAccessError",
    "NoSuchProcessError",
    "NoTargetError",
    "NotStoppedError",
    "ProcessExitedError",
    "ProcessNameNotFoundError",
    "ProgramNotExecutableError",
    "ProgramNotFoundError",
    "PtraceError",
    "PtracePermissionError",
    "RegisterAttributeError",
    "RemoteError",
    "RemoteUnsupportedError",
    "RegisterValueError",
    "SelfAttachError",
    "SessionFailedError",
    "SymbolError",
    "TargetRunningError",
    "TracerClosedError",
    "UnknownSymbolError",
    "WrongThreadError",
    "ZombieProcessError",
]

# The engine, its commands and their dependencies load on first use, so that a script that
# only reads symbol files (`import pydbg.elf`) or unwinds (`pydbg.unwind`) does not pay for
# them.
_LAZY = {
    "DebugClient": "pydbg.client",
    "create_client": "pydbg.client",
    "connect": "pydbg.remote",
    "EventCallbacks": "pydbg.callbacks",
    "OutputCallbacks": "pydbg.callbacks",
    **dict.fromkeys(
        (
            "launch",
            "attach",
            "Process",
            "Event",
            "BreakIn",
            "BreakpointHit",
            "WatchpointHit",
            "SignalEvent",
            "ThreadCreated",
            "ThreadExited",
            "ModuleLoaded",
            "ModuleUnloaded",
            "ProcessExited",
        ),
        "pydbg.scripting",
    ),
}


def _version() -> str:
    """The installed distribution's version; in a source checkout that is not installed,
    pyproject.toml's (read with a pattern: tomllib is 3.11+)."""
    from importlib import metadata

    try:
        return metadata.version("pydbg-engine")
    except metadata.PackageNotFoundError:
        pass
    import re
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.MULTILINE)
    except OSError:
        found = None
    return found.group(1) if found else "0+unknown"


def __getattr__(name: str) -> object:
    if name == "__version__":
        value: object = _version()
    else:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'pydbg' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """What the module has, and what __getattr__ loads on first use (IPython completes
    from this)."""
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})
