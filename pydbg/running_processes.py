"""The processes running on the machine, for choosing one to attach to: DbgEng's
GetRunningProcessSystemIds and GetRunningProcessSystemIdByExecutableName (spec §6.2).

A process's executable name is matched the way `pidof` matches it, against the base name
of its executable (/proc/PID/exe), its process name (psutil's, which is /proc/PID/comm
completed from the command line when the kernel cut it at 15 characters) and the base name
of argv[0]:

    DEBUG_GET_PROC_DEFAULT      path names are not used: "/usr/bin/sleep" means "sleep";
                                the lowest pid of the matches is returned
    DEBUG_GET_PROC_FULL_MATCH   `name` is a full path: it must be the executable
                                (symlinks resolved) or argv[0] exactly
    DEBUG_GET_PROC_ONLY_MATCH   several matches are an error (AmbiguousProcessNameError,
                                which lists each candidate's pid and command line)
    DEBUG_GET_PROC_SERVICE_NAME a Windows service name: Linux has no counterpart, refused

No match raises ProcessNameNotFoundError.  Zombies, kernel threads and the calling process
itself (which cannot trace itself) are never candidates.

GetRunningProcessDescription gives a process's executable (its full path, or with
DEBUG_PROC_DESC_NO_PATHS its base name) and a description made of the parts DbgEng has that
Linux has too: "Session: SID  User: NAME  Command Line: ARGV" (each left out by its
DEBUG_PROC_DESC_NO_* flag; NO_SERVICES and NO_MTS_PACKAGES leave out what Linux never has).

psutil reads /proc; nothing here touches a process.
"""

from __future__ import annotations

import contextlib
import errno
import os

import psutil

from pydbg.constants import GetProcFlags, ProcDescFlags
from pydbg.errors import (
    AmbiguousProcessNameError,
    EngineError,
    NoSuchProcessError,
    ProcessNameNotFoundError,
)

__all__ = [
    "matching_processes",
    "process_description",
    "process_id_by_executable_name",
    "running_process_ids",
]

_ATTRS = ["pid", "name", "exe", "cmdline", "status"]


def running_process_ids() -> list[int]:
    """GetRunningProcessSystemIds: the pid of every process, in increasing order."""
    return sorted(psutil.pids())


def matching_processes(name: str, *, full_match: bool = False) -> list[tuple[int, str]]:
    """(pid, command line) of every candidate process named `name`, lowest pid first."""
    if not name:
        raise EngineError("an executable name is needed, not an empty string")
    wanted = name if full_match else os.path.basename(name.rstrip("/"))
    resolved = os.path.realpath(name) if full_match else ""
    me = os.getpid()
    found: list[tuple[int, str]] = []
    for proc in psutil.process_iter(_ATTRS, ad_value=None):
        info = proc.info
        if info["pid"] == me or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        exe: str = info["exe"] or ""
        cmdline: list[str] = info["cmdline"] or []
        if not exe and not cmdline:
            continue  # a kernel thread (or a process gone meanwhile)
        argv0 = cmdline[0] if cmdline else ""
        if full_match:
            hit = wanted in (exe, argv0) or resolved == exe
        else:
            names = {os.path.basename(exe), info["name"] or "", os.path.basename(argv0)}
            hit = wanted in names
        if hit:
            found.append((info["pid"], _command_line(cmdline) or exe))
    return sorted(found)


def process_id_by_executable_name(name: str, flags: int = GetProcFlags.DEFAULT) -> int:
    """GetRunningProcessSystemIdByExecutableName (module docstring)."""
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise TypeError(f"flags must be DEBUG_GET_PROC_* bits, not {flags!r}")
    unknown = flags & ~int(GetProcFlags.FULL_MATCH | GetProcFlags.ONLY_MATCH)
    if unknown & GetProcFlags.SERVICE_NAME:
        raise EngineError(
            "DEBUG_GET_PROC_SERVICE_NAME looks a name up among Windows services, which Linux "
            "does not have; pass the executable's name instead"
        )
    if unknown:
        raise EngineError(f"{unknown:#x} has bits that are no DEBUG_GET_PROC_* flag")
    found = matching_processes(name, full_match=bool(flags & GetProcFlags.FULL_MATCH))
    if not found:
        raise ProcessNameNotFoundError(name)
    if len(found) > 1 and flags & GetProcFlags.ONLY_MATCH:
        raise AmbiguousProcessNameError(name, tuple(found))
    return found[0][0]


def process_description(pid: int, flags: int = ProcDescFlags.DEFAULT) -> tuple[str, str]:
    """GetRunningProcessDescription: (executable, description) of process `pid` (module
    docstring).  A process that does not exist raises NoSuchProcessError."""
    if isinstance(flags, bool) or not isinstance(flags, int) or flags & ~int(ProcDescFlags(0x3F)):
        raise EngineError(f"{flags!r} is not a set of DEBUG_PROC_DESC_* flags")
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            info = proc.as_dict(["name", "exe", "cmdline", "username"], ad_value=None)
    except (psutil.NoSuchProcess, ValueError):
        raise NoSuchProcessError(errno.ESRCH, f"no process has id {pid}") from None
    exe: str = info["exe"] or info["name"] or ""
    if flags & ProcDescFlags.NO_PATHS:
        exe = os.path.basename(exe)
    parts = []
    if not flags & ProcDescFlags.NO_SESSION_ID:
        with contextlib.suppress(OSError):  # gone meanwhile
            parts.append(f"Session: {os.getsid(pid)}")
    if not flags & ProcDescFlags.NO_USER_NAME and info["username"]:
        parts.append(f"User: {info['username']}")
    if not flags & ProcDescFlags.NO_COMMAND_LINE and info["cmdline"]:
        parts.append(f"Command Line: {_command_line(info['cmdline'])}")
    return exe, "  ".join(parts)


def _command_line(argv: list[str]) -> str:
    """argv on one line: a newline inside an argument is shown as \\n."""
    return " ".join(arg.replace("\n", "\\n") for arg in argv)
