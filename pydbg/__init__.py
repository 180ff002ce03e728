"""pydbg: a Linux x86_64 native debugger for Python, on ptrace, in the DbgEng model.

    import pydbg
    client = pydbg.create_client()
    client.create_process(["/bin/true"])
    client.control.wait_for_event()                 # the initial breakpoint
    print(hex(client.registers.get_value("rip")))
    client.control.execute("t; r rip; g")

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
    RegisterValueError,
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

    __version__: str

__all__ = [
    "__version__",
    "DebugClient",
    "EventCallbacks",
    "OutputCallbacks",
    "create_client",
    # errors (pydbg.errors), base class first
    "PydbgError",
    "AlreadyTracedError",
    "AmbiguousProcessNameError",
    "AmbiguousSymbolError",
    "BadFileDescriptorError",
    "CoreFileError",
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
    "EventCallbacks": "pydbg.callbacks",
    "OutputCallbacks": "pydbg.callbacks",
}


def _version() -> str:
    """The distribution's version (pyproject.toml's, through the installed metadata)."""
    from importlib import metadata

    try:
        return metadata.version("pydbg-engine")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> object:
    if name == "__version__":  # (read on demand: importlib.metadata costs milliseconds)
        globals()[name] = version = _version()
        return version
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pydbg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
