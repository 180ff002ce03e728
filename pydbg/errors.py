"""pydbg's exceptions, and the one place an errno becomes one of them.

Every error that comes from the kernel is a `PtraceError`, which subclasses the builtin
OSError family member that fits its errno (ProcessLookupError for ESRCH, PermissionError for
EPERM, ...) so that generic `except OSError` code keeps working, and carries what a user needs
to act on it: the request that failed, the pid and tid, and the address for memory errors.

The native core (csrc/) calls `from_errno` and nothing else to turn a failed call into an
exception; the Python layers raise the specific classes directly for conditions they detect
themselves (a thread that is not stopped, a bad register name, a call from the wrong thread).

The session's errors (`EngineError` and its subclasses: no target, a call inside a wait, the
targets running, a lost session) and the symbol errors (`SymbolError`: a name that is unknown
or ambiguous) are defined here too, so that every error a user may catch is found in one
place and exported from `pydbg` itself.
"""

from __future__ import annotations

import errno as _errno
import os

__all__ = [
    "PydbgError",
    "PtraceError",
    "NoSuchProcessError",
    "ProcessExitedError",
    "ZombieProcessError",
    "PtracePermissionError",
    "AlreadyTracedError",
    "SelfAttachError",
    "MemoryAccessError",
    "InvalidArgumentError",
    "InvalidRegisterError",
    "RegisterAttributeError",
    "RegisterValueError",
    "InvalidStatusError",
    "NotStoppedError",
    "WrongThreadError",
    "TracerClosedError",
    "ProgramNotFoundError",
    "ProgramNotExecutableError",
    "BadFileDescriptorError",
    "ExecError",
    "EngineError",
    "NoTargetError",
    "InsideWaitError",
    "TargetRunningError",
    "SessionFailedError",
    "ProcessNameNotFoundError",
    "AmbiguousProcessNameError",
    "SymbolError",
    "UnknownSymbolError",
    "AmbiguousSymbolError",
    "CoreFileError",
    "CoreFormatError",
    "DumpTargetReadOnlyError",
    "RemoteError",
    "RemoteUnsupportedError",
    "from_errno",
]


class PydbgError(Exception):
    """Base of every exception pydbg raises on purpose."""


class PtraceError(PydbgError, OSError):
    """A kernel request failed.  `errno`/`strerror` as for OSError, plus context."""

    def __init__(
        self,
        errno: int,
        message: str,
        *,
        request: str = "",
        pid: int = 0,
        tid: int = 0,
        address: int | None = None,
    ) -> None:
        super().__init__(errno, message)
        self.request = request
        self.pid = pid
        self.tid = tid
        self.address = address

    def __str__(self) -> str:
        where = []
        if self.request:
            where.append(self.request)
        if self.pid:
            where.append(f"pid {self.pid}")
        if self.tid and self.tid != self.pid:
            where.append(f"tid {self.tid}")
        if self.address is not None:
            where.append(f"address {self.address:#x}")
        prefix = f"[Errno {self.errno}] " if self.errno else ""
        context = f" ({', '.join(where)})" if where else ""
        return f"{prefix}{self.strerror}{context}"


class NoSuchProcessError(PtraceError, ProcessLookupError):
    """The pid or tid does not exist (or is not traced by this tracer)."""


class ProcessExitedError(PtraceError, ProcessLookupError):
    """The process or thread existed but has exited; nothing more can be done with it."""


class ZombieProcessError(ProcessExitedError):
    """The process has exited and waits to be reaped by its parent: it cannot be traced."""


class PtracePermissionError(PtraceError, PermissionError):
    """The kernel refused the trace (credentials, ptrace_scope, LSM, seccomp)."""


class AlreadyTracedError(PtracePermissionError):
    """Another tracer already holds the process; `tracer_pid` names it."""

    tracer_pid: int = 0


class SelfAttachError(PtracePermissionError):
    """A process cannot trace itself."""


class MemoryAccessError(PtraceError):
    """Memory could not be read or written in full.

    `transferred` bytes at `address` succeeded; `data` holds them for reads.
    """

    transferred: int = 0
    data: bytes = b""


class InvalidArgumentError(PtraceError, ValueError):
    """The kernel rejected an argument (EINVAL), e.g. a misaligned debug register."""


class InvalidRegisterError(PydbgError, KeyError):
    """No register has this name."""

    def __init__(self, name: str, known: tuple[str, ...] = ()) -> None:
        super().__init__(name)
        self.name = name
        self.known = known

    def __str__(self) -> str:
        hint = f"; known: {', '.join(self.known)}" if self.known else ""
        return f"no register named {self.name!r}{hint}"


# (AttributeError.name may be None; this error's is always the name asked for.)
class RegisterAttributeError(InvalidRegisterError, AttributeError):  # type: ignore[misc]
    """An attribute of a register view (`proc.regs.nosuch`) that names no register: an
    InvalidRegisterError that is also the AttributeError hasattr() and getattr() with a
    default expect."""


class RegisterValueError(PydbgError, ValueError):
    """A value that does not fit the register it is to be written to (`eax` takes 32 bits)."""


class InvalidStatusError(PydbgError, ValueError):
    """A DEBUG_STATUS_* value that cannot be used where it was given (a reporting-only
    code cast as a vote, a reverse-execution code, a number that is no status at all)."""


class NotStoppedError(PydbgError, RuntimeError):
    """The operation needs the thread in a ptrace-stop, and it is running."""

    def __init__(self, tid: int, state: str, request: str = "") -> None:
        what = f"{request}: " if request else ""
        super().__init__(f"{what}thread {tid} is {state}, not stopped; stop it first")
        self.tid = tid
        self.state = state
        self.request = request


class WrongThreadError(PydbgError, RuntimeError):
    """ptrace belongs to the thread that attached; another thread called in.

    The kernel would answer such a call with ESRCH, which looks like "process gone"; pydbg
    refuses it before that with this error instead.
    """

    def __init__(self, owner_tid: int, caller_tid: int, request: str = "") -> None:
        what = f"{request}: " if request else ""
        super().__init__(
            f"{what}the trace is owned by thread {owner_tid}, called from thread {caller_tid}; "
            "ptrace requests must come from the owning thread"
        )
        self.owner_tid = owner_tid
        self.caller_tid = caller_tid
        self.request = request


class TracerClosedError(PydbgError, RuntimeError):
    """The tracer has been closed."""


class ProgramNotFoundError(PydbgError, FileNotFoundError):
    """spawn: the program does not exist (or is not in PATH)."""


class ProgramNotExecutableError(PydbgError, PermissionError):
    """spawn: the program exists but cannot be executed."""


class BadFileDescriptorError(PydbgError, ValueError):
    """spawn: a stdin/stdout/stderr or pass_fds argument is not an open file descriptor."""


class ExecError(PtraceError):
    """spawn: execve failed in the child; errno says why."""


# -- the session (pydbg.engine.session raises these) ----------------------------------------


class EngineError(PydbgError, RuntimeError):
    """A session call made at a time or with an argument the model does not allow."""


class NoTargetError(EngineError):
    """There is no target (no session), or no current thread yet."""


class InsideWaitError(EngineError):
    """wait_for_event (or an implicit wait) was called inside a wait, e.g. from a callback."""


class TargetRunningError(EngineError):
    """The session is inaccessible: the targets are running."""


class SessionFailedError(EngineError):
    """The engine lost control of its targets; the session ended with DEBUG_SESSION_FAILURE."""


# -- running processes (pydbg.running_processes: finding a pid by executable name) ---------


class ProcessNameNotFoundError(PydbgError, LookupError):
    """No running process has this executable name (DbgEng: E_NOINTERFACE)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no process named {name!r}")
        self.name = name


class AmbiguousProcessNameError(PydbgError, LookupError):
    """Several running processes have this executable name and the caller asked for the
    only match (DEBUG_GET_PROC_ONLY_MATCH; DbgEng: S_FALSE).  `candidates` are
    (pid, command line) pairs, lowest pid first."""

    def __init__(self, name: str, candidates: tuple[tuple[int, str], ...]) -> None:
        shown = "; ".join(f"{pid}: {cmdline}" for pid, cmdline in candidates[:10])
        more = f"; ... ({len(candidates)} in all)" if len(candidates) > 10 else ""
        super().__init__(
            f"{len(candidates)} processes are named {name!r} ({shown}{more}); give a pid"
        )
        self.name = name
        self.candidates = candidates


# -- core files (pydbg.coredump) ---------------------------------------------------------------


class CoreFileError(PydbgError, OSError):
    """A core file could not be written (the path cannot be created, the disk is full):
    `errno`/`strerror` as for OSError, `filename` the core file's path."""

    def __str__(self) -> str:
        return f"cannot write the core file {self.filename}: {self.strerror}"


class CoreFormatError(PydbgError, ValueError):
    """A file given as a core is not one pydbg can open: not ELF, not an x86_64 ET_CORE,
    or cut short (a truncated copy).  `path` names it; the message says what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class DumpTargetReadOnlyError(EngineError):
    """The session's target is a core file (open_dump_file, `pydbg -z`): nothing about it
    can change.  Raised by everything that would run, step, kill or write the target
    (g, t, p, bp, e*, register writes, .kill); the session stays usable.  `what` names
    the refused operation."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}: the target is a core file (read-only); it cannot run or change")
        self.what = what


class RemoteError(EngineError):
    """A GDB-remote server (pydbg.connect("gdbserver:HOST:PORT")) failed us: the
    connection broke, timed out, or the server answered a request with an error or
    something the protocol does not allow.  The message names the request."""


class RemoteUnsupportedError(RemoteError):
    """The GDB-remote server, or pydbg's client of it, cannot do what was asked
    (syscall tracing, branch stepping, a watchpoint kind the server refuses, a server on
    another machine).  `what` names the refused operation."""

    def __init__(self, what: str, reason: str = "") -> None:
        super().__init__(
            f"{what}: not supported through a GDB-remote server"
            + (f" ({reason})" if reason else "")
        )
        self.what = what


# -- symbols (pydbg.engine.symbolizer, pydbg.symbols and MASM expressions raise these) ------


class SymbolError(PydbgError, LookupError):
    """A name or address that no symbol answers."""


class UnknownSymbolError(SymbolError):
    """No loaded module defines the symbol `name` (`module!name` or a bare `name`); for a
    `module!name` whose module is not loaded (yet), too.  A breakpoint on such a name can be
    deferred until a module defines it."""

    def __init__(self, name: str, message: str | None = None) -> None:
        super().__init__(message or f"unknown symbol {name!r}")
        self.name = name


class SourceLineError(SymbolError):
    """A `file:line` that names no code."""


class UnknownSourceFileError(SourceLineError, UnknownSymbolError):
    """No loaded module has line info for the file (a breakpoint on it can be deferred
    until a module that has it loads)."""


class NoCodeAtLineError(SourceLineError):
    """The file is known but has no code at or after the line (past its last line)."""


class AmbiguousSymbolError(SymbolError):
    """A bare `name` that several modules define at different addresses, or a C++ name
    with several overloads in one module; `candidates` are their `module!name` forms.
    Qualifying the name (with its module, or with its parameter list) resolves it;
    loading more modules never does."""

    def __init__(self, name: str, candidates: tuple[str, ...]) -> None:
        shown = ", ".join(candidates[:5]) + (", ..." if len(candidates) > 5 else "")
        modules = {c.partition("!")[0] for c in candidates}
        if len(modules) == 1 and "!" in candidates[0]:
            # Several locations in one module: overloads of a C++ name.
            hint = "give its parameter list, or use bp, which breaks at every one"
        else:
            hint = f"qualify it as module!{name}"
        super().__init__(f"{name!r} is ambiguous ({shown}); {hint}")
        self.name = name
        self.candidates = candidates


def _read_status(pid: int) -> dict[str, str]:
    """Fields of /proc/PID/status (empty when the process is gone)."""
    fields: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        pass
    return fields


def _ptrace_scope() -> int | None:
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


_SCOPE_MEANING = {
    1: "only descendants (or processes that called prctl(PR_SET_PTRACER)) may be traced",
    2: "only processes with CAP_SYS_PTRACE may trace",
    3: "no process may trace",
}


def _attach_denied(err: int, request: str, pid: int, tid: int) -> PtraceError:
    """Explain an EPERM from PTRACE_SEIZE the way a user can act on (hazards §2.1)."""
    if pid == os.getpid():
        return SelfAttachError(err, "a process cannot trace itself", request=request, pid=pid)
    status = _read_status(pid)
    state = status.get("State", "")
    if state.startswith(("Z", "X")):
        return ZombieProcessError(
            _errno.ESRCH, "process has exited (zombie)", request=request, pid=pid, tid=tid
        )
    tracer = int(status.get("TracerPid", "0") or 0)
    if tracer:
        exc = AlreadyTracedError(
            err, f"already traced by process {tracer}", request=request, pid=pid, tid=tid
        )
        exc.tracer_pid = tracer
        return exc
    reasons = []
    scope = _ptrace_scope()
    if scope:
        reasons.append(f"kernel.yama.ptrace_scope is {scope}: {_SCOPE_MEANING.get(scope, '?')}")
    uid = status.get("Uid", "").split()
    if uid and os.geteuid() != 0 and str(os.geteuid()) not in uid:
        reasons.append("the process belongs to another user")
    reasons.append(
        "tracing needs the same credentials as the target (and a dumpable target) or "
        "CAP_SYS_PTRACE; in containers add --cap-add=SYS_PTRACE and allow ptrace in seccomp"
    )
    return PtracePermissionError(
        err, "operation not permitted: " + "; ".join(reasons), request=request, pid=pid, tid=tid
    )


def from_errno(
    err: int,
    request: str,
    pid: int = 0,
    tid: int = 0,
    address: int | None = None,
    *,
    exited: bool = False,
) -> PtraceError:
    """The exception for a failed kernel request.  The single errno mapping of pydbg.

    `exited` says the caller already knows the target is gone (its exit was reaped), so an
    ESRCH means "exited", not "no such process".
    """
    message = os.strerror(err)
    if request in ("seize", "attach") and err in (_errno.EPERM, _errno.EACCES):
        return _attach_denied(err, request, pid, tid)
    if err == _errno.ESRCH:
        cls: type[PtraceError] = ProcessExitedError if exited else NoSuchProcessError
        if exited:
            message = "process has exited"
        return cls(err, message, request=request, pid=pid, tid=tid, address=address)
    if err in (_errno.EPERM, _errno.EACCES):
        return PtracePermissionError(err, message, request=request, pid=pid, tid=tid)
    if err in (_errno.EFAULT, _errno.EIO) and address is not None:
        return MemoryAccessError(
            err, "memory not accessible", request=request, pid=pid, tid=tid, address=address
        )
    if err == _errno.EINVAL:
        return InvalidArgumentError(
            err, message, request=request, pid=pid, tid=tid, address=address
        )
    return PtraceError(err, message, request=request, pid=pid, tid=tid, address=address)
