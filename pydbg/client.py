"""DebugClient (IDebugClient): acquiring and releasing targets, callbacks, and the facets.

    client = pydbg.create_client()          # a new engine, owned by this thread
    client.set_event_callbacks(MyCallbacks())
    client.create_process(["./prog"])       # joins the session at the next wait
    client.control.wait_for_event()         # initial breakpoint
    ...
    client.end_session(DEBUG_END_ACTIVE_TERMINATE)

`client.create_client()` makes another client on the same engine (DbgEng's CreateClient):
each client has its own callbacks and output mask, and every client's callbacks vote on
every event.  A client is used on the thread that created its engine; only
`control.set_interrupt`, `control.get_interrupt` and `control.get_execution_status` may be
called from other threads.

Leaving a `with create_client() as client:` block ends the session passively: what pydbg
launched is killed, what it attached to is detached and runs on.

`end_session(DEBUG_END_DISCONNECT)` leaves the session to the other clients: this client
is removed from the engine (its callbacks hear nothing more; its own calls raise
EngineError), the targets and the session go on.  `end_session(DEBUG_END_REENTRANT)` may be
called from any thread, even during a wait, and leaves the engine unusable
(pydbg.engine.lifecycle.end_reentrant).  The host-engine server (pydbg.hostengine) gives
each remote client a client of its own and disconnects it this way.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import cast

from pydbg import running_processes
from pydbg.callbacks import EventCallbacks, OutputCallbacks
from pydbg.commands import breakpoint_commands as _breakpoint_commands  # noqa: F401
from pydbg.commands import builtins as _builtins  # noqa: F401 - registers the commands
from pydbg.commands import dump_commands as _dump_commands  # noqa: F401
from pydbg.commands import event_commands as _event_commands  # noqa: F401
from pydbg.commands import frame_commands as _frame_commands  # noqa: F401
from pydbg.commands import help_commands as _help_commands  # noqa: F401
from pydbg.commands import memory_commands as _memory_commands  # noqa: F401
from pydbg.commands import process_commands as _process_commands  # noqa: F401
from pydbg.commands import source_commands as _source_commands  # noqa: F401
from pydbg.commands import state_display as _state_display  # noqa: F401
from pydbg.commands import symbol_commands as _symbol_commands  # noqa: F401
from pydbg.commands import type_commands as _type_commands  # noqa: F401
from pydbg.commands import variable_commands as _variable_commands  # noqa: F401
from pydbg.commands.interpreter import Interpreter
from pydbg.constants import (
    DEBUG_CES_PROCESS_OPTIONS,
    DEBUG_OUTCTL_AMBIENT_DML,
    DEBUG_OUTCTL_AMBIENT_TEXT,
    DEBUG_OUTCTL_DML,
    DEBUG_OUTCTL_LOG_ONLY,
    DEBUG_OUTCTL_NOT_LOGGED,
    DEBUG_OUTCTL_OVERRIDE_MASK,
    DEBUG_OUTCTL_SEND_MASK,
    DebugEnd,
    DebugEvent,
    GetProcFlags,
    ProcDescFlags,
    ProcessOptions,
)
from pydbg.control import Control
from pydbg.data_spaces import DataSpaces
from pydbg.engine import teardown
from pydbg.engine.backend import Backend, FdArg
from pydbg.engine.breakpoints import Language
from pydbg.engine.notify import ClientSlot
from pydbg.engine.session import Engine, EngineError
from pydbg.engine.targets import Origin
from pydbg.errors import NoSuchProcessError
from pydbg.registers import Registers
from pydbg.symbols import Symbols
from pydbg.system_objects import SystemObjects

__all__ = ["DebugClient", "ProcessDescription", "connect_gdbserver", "create_client"]

# Past pid_t: no process can have such an id (the native core could not even take it).
_PID_LIMIT = 1 << 31


@dataclass(frozen=True)
class ProcessDescription:
    """One target of the session, as `|` lists it (a pydbg addition: DbgEng's
    GetCurrentProcessExecutableName covers the current process only).  origin: how it
    became a target ("create", "attach", "child" for a debugged fork child, cdb's words, or
    "dump" for a core file opened with open_dump_file);
    debug_children: whether its fork children join the session (not
    DEBUG_PROCESS_ONLY_THIS_PROCESS)."""

    engine_id: int
    pid: int
    origin: str
    image_name: str
    debug_children: bool


_ORIGIN_WORDS = {
    Origin.LAUNCHED: "create",
    Origin.ATTACHED: "attach",
    Origin.CHILD: "child",
    Origin.DUMP: "dump",
}

# The connected clients of each engine, oldest first: when the client whose interpreter
# runs breakpoint and filter commands disconnects, the next one takes the job over.  Weak
# both ways: a client refers to its engine, and neither may keep the other alive here.
_CLIENTS: weakref.WeakKeyDictionary[Engine, list[weakref.ref[DebugClient]]] = (
    weakref.WeakKeyDictionary()
)

_OUTCTL_BITS = DEBUG_OUTCTL_SEND_MASK | DEBUG_OUTCTL_NOT_LOGGED | DEBUG_OUTCTL_OVERRIDE_MASK


def check_output_control(output_control: int) -> int | None:
    """The DEBUG_OUTCTL_* value to route by, None for AMBIENT (keep the current routing);
    EngineError for what is no such value."""
    if isinstance(output_control, bool) or not isinstance(output_control, int):
        raise EngineError(f"{output_control!r} is not a DEBUG_OUTCTL_* value")
    if output_control in (DEBUG_OUTCTL_AMBIENT_TEXT, DEBUG_OUTCTL_AMBIENT_DML):
        return None
    control = output_control & ~DEBUG_OUTCTL_DML  # DML is shown as its text
    if (
        control < 0
        or control & ~_OUTCTL_BITS
        or control & DEBUG_OUTCTL_SEND_MASK > DEBUG_OUTCTL_LOG_ONLY
    ):
        raise EngineError(f"{output_control:#x} is not a DEBUG_OUTCTL_* value")
    return control


class DebugClient:
    """IDebugClient, with its facets: control, registers, data_spaces, system_objects,
    symbols."""

    def __init__(self, engine: Engine) -> None:
        engine.check_thread("create_client")
        self._engine = engine
        self._slot = ClientSlot()
        self._disconnected = False
        engine.notifier.clients.append(self._slot)
        _CLIENTS.setdefault(engine, []).append(weakref.ref(self))
        self._interpreter = Interpreter(self)
        if engine.command_runner is None:
            # The engine does not know the command language: the first client's
            # interpreter runs filter and breakpoint commands and reads their expressions.
            self._teach_language()
        self.control = Control(self)
        self.registers = Registers(engine)
        self.data_spaces = DataSpaces(engine)
        self.system_objects = SystemObjects(engine)
        self.symbols = Symbols(engine)

    def _teach_language(self) -> None:
        interpreter = self._interpreter
        self._engine.command_runner = interpreter.run_inside_wait
        self._engine.breakpoints.language = Language(
            evaluate=interpreter.evaluate,
            check_condition=interpreter.check_condition,
            check_command=interpreter.check_command,
        )

    def _check_connected(self, what: str) -> None:
        if self._disconnected:
            raise EngineError(f"{what}: this client left the session (DEBUG_END_DISCONNECT)")

    def __enter__(self) -> DebugClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._disconnected or self._engine.ended_reentrant:
            return
        if self._engine.session_active or self._engine.targets:
            self.end_session(DebugEnd.PASSIVE)

    def create_client(self) -> DebugClient:
        """CreateClient: another client of the same engine."""
        return DebugClient(self._engine)

    # -- targets --------------------------------------------------------------------------------

    def create_process(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        flags: int = 0,
        stdin: FdArg = None,
        stdout: FdArg = None,
        stderr: FdArg = None,
        pass_fds: Sequence[int] = (),
        new_process_group: bool = False,
    ) -> int:
        """CreateProcess: start argv (argv[0] searched in PATH) under the debugger and return
        its pid.  It is stopped before its first instruction and joins the session at the
        next wait_for_event (CreateProcess, then the initial breakpoint).  flags:
        DEBUG_PROCESS also debugs its fork children; DEBUG_ONLY_THIS_PROCESS (or 0) not.

        The program gets fds 0, 1 and 2 and nothing else the debugger has open (as
        subprocess with close_fds=True), plus the fds listed in pass_fds, which keep their
        numbers.  stdin/stdout/stderr (None: the debugger's own) are each an fd or an
        open file (anything with fileno()), duplicated onto 0/1/2; the caller keeps and
        closes its own.  subprocess.DEVNULL and (for stderr) subprocess.STDOUT mean what
        they mean to subprocess.  For a terminal of its own, open a pty (os.openpty()) and pass the
        slave fd as all three; it is not made the program's controlling terminal (the
        program stays in the debugger's session).  A closed or invalid fd raises
        BadFileDescriptorError (TypeError for what is not an fd) and starts nothing.
        new_process_group: the program gets a process group of its own (setpgid before
        exec, Win32's CREATE_NEW_PROCESS_GROUP), which a front end sharing its terminal
        makes the foreground group while the program runs."""
        return self._engine.create_process(
            argv,
            env=env,
            cwd=cwd,
            flags=flags,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            pass_fds=pass_fds,
            new_process_group=new_process_group,
        ).pid

    def attach_process(self, pid: int, flags: int = 0) -> None:
        """AttachProcess: seize every thread of `pid` (they stop at once).  flags:
        DEBUG_ATTACH_INVASIVE_NO_INITIAL_BREAK, DEBUG_ATTACH_INVASIVE_RESUME_PROCESS
        (send SIGCONT after attaching).  The process joins the session at the next wait
        (CreateProcess, CreateThread per other thread, then the initial breakpoint).

        NoSuchProcessError: no process has that id; ZombieProcessError: it has exited;
        AlreadyTracedError: another debugger holds it; SelfAttachError: it is this
        process; EngineError: it is already a target of this session.  Nothing changes
        in the session when it fails."""
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise TypeError(f"a process id is an int, not {pid!r}")
        if not 0 < pid < _PID_LIMIT:
            raise NoSuchProcessError(errno.ESRCH, f"no process has id {pid}", request="attach")
        self._engine.attach_process(pid, flags)

    def open_dump_file(self, path: str, image_path: str | None = None) -> None:
        """OpenDumpFile: open the core file at `path` as the session's target, read-only
        (cdb -z).  The next wait_for_event returns at once, broken in, after reporting
        CreateProcess, CreateThread and LoadModule events; the last event is the signal
        the core recorded (an exception of the thread that took it), as cdb shows a
        dump's exception.  Registers, memory, modules, symbols and stacks then work as on
        a stopped process; what would change the target (go, step, breakpoints, writes,
        .kill) raises DumpTargetReadOnlyError and leaves the session as it was.
        `image_path`: the main program to read instead of the path the core recorded.

        CoreFormatError: not an x86_64 ELF core, truncated, or unreadable;
        ProgramNotFoundError: image_path does not exist; EngineError: the session
        already has targets."""
        self._engine.open_dump_file(
            os.fspath(path), None if image_path is None else os.fspath(image_path)
        )

    def detach_processes(self) -> None:
        """DetachProcesses: every target runs on, untraced; the session ends."""
        self._engine.detach_processes()

    def terminate_processes(self) -> None:
        """TerminateProcesses: kill every target (ExitProcess is reported); the session ends."""
        self._engine.terminate_processes()

    def detach_current_process(self) -> int:
        """DetachCurrentProcess: the current process runs on, untraced; the session goes
        on with the other targets, and ends (ACTIVE_DETACH) when it was the last.  The
        first thread of the next target becomes current.  Returns the detached pid."""
        return self._engine.detach_current_process()

    def terminate_current_process(self) -> int:
        """TerminateCurrentProcess: kill the current process (ExitProcess is reported);
        the session goes on with the other targets, and ends (ACTIVE_TERMINATE) when it
        was the last.  Returns the killed pid."""
        return self._engine.terminate_current_process()

    def describe_processes(self) -> list[ProcessDescription]:
        """Every target that has joined the session (CreateProcess was reported), in
        engine-id order (a pydbg addition; see ProcessDescription)."""
        self._engine.check_thread("describe_processes")
        return [
            ProcessDescription(
                p.engine_id, p.pid, _ORIGIN_WORDS[p.origin], p.image_name, p.trace_fork
            )
            for p in self._engine.targets.processes.values()
            if p.announced
        ]

    # -- process options (DEBUG_PROCESS_*) ------------------------------------------------------

    def get_process_options(self) -> int:
        """GetProcessOptions: the current process's DEBUG_PROCESS_* bits.
        DEBUG_PROCESS_ONLY_THIS_PROCESS is set when its fork children are not debugged (they
        are detached at their first stop and run free)."""
        process = self._engine.current_process("get_process_options")
        return 0 if process.trace_fork else int(ProcessOptions.ONLY_THIS_PROCESS)

    def set_process_options(self, options: int) -> None:
        """SetProcessOptions (`.childdbg 0|1`): ONLY_THIS_PROCESS set: the current process's
        later fork children are not debugged; clear: they join the session (CreateProcess
        and an initial breakpoint each).  DEBUG_PROCESS_DETACH_ON_EXIT is not supported:
        what pydbg launched always dies with the session (end it with
        DEBUG_END_ACTIVE_DETACH to leave targets running).  A change is reported as
        ChangeEngineState(DEBUG_CES_PROCESS_OPTIONS, options)."""
        self._engine.check_thread("set_process_options")
        if isinstance(options, bool) or not isinstance(options, int):
            raise TypeError(f"process options are DEBUG_PROCESS_* bits, not {options!r}")
        if options & ProcessOptions.DETACH_ON_EXIT:
            raise EngineError(
                "DEBUG_PROCESS_DETACH_ON_EXIT is not supported: launched targets are killed "
                "when the session ends; end it with DEBUG_END_ACTIVE_DETACH to leave them "
                "running"
            )
        if options & ~int(ProcessOptions.ONLY_THIS_PROCESS):
            raise EngineError(f"{options:#x} has bits that are no DEBUG_PROCESS_* option")
        process = self._engine.current_process("set_process_options")
        follow = not options & ProcessOptions.ONLY_THIS_PROCESS
        if process.trace_fork != follow:
            process.trace_fork = follow
            self._engine.notifier.engine_state(DEBUG_CES_PROCESS_OPTIONS, options)

    def add_process_options(self, options: int) -> None:
        """AddProcessOptions: set these DEBUG_PROCESS_* bits of the current process."""
        self.set_process_options(self.get_process_options() | options)

    def remove_process_options(self, options: int) -> None:
        """RemoveProcessOptions: clear these DEBUG_PROCESS_* bits of the current process."""
        self.set_process_options(self.get_process_options() & ~options)

    # -- processes on the machine ---------------------------------------------------------------

    def get_running_process_system_ids(self) -> list[int]:
        """GetRunningProcessSystemIds: the pid of every process on the machine."""
        return running_processes.running_process_ids()

    def get_running_process_system_id_by_executable_name(
        self, name: str, flags: int = GetProcFlags.DEFAULT
    ) -> int:
        """GetRunningProcessSystemIdByExecutableName: the pid of a running process with
        this executable name (matched as `pidof` does; pydbg.running_processes).  flags:
        DEBUG_GET_PROC_FULL_MATCH (name is a full path), DEBUG_GET_PROC_ONLY_MATCH (several
        matches raise AmbiguousProcessNameError, listing each pid and command line; cdb's
        `-pn` wants this); without it the lowest matching pid is returned.  No match raises
        ProcessNameNotFoundError; DEBUG_GET_PROC_SERVICE_NAME (a Windows service) raises
        EngineError."""
        return running_processes.process_id_by_executable_name(name, flags)

    def get_running_process_description(
        self, pid: int, flags: int = ProcDescFlags.DEFAULT
    ) -> tuple[str, str]:
        """GetRunningProcessDescription: (executable, description) of any process on the
        machine; the description is "Session: SID  User: NAME  Command Line: ARGV", parts
        left out by DEBUG_PROC_DESC_NO_SESSION_ID / _NO_USER_NAME / _NO_COMMAND_LINE;
        DEBUG_PROC_DESC_NO_PATHS gives the executable's base name."""
        return running_processes.process_description(pid, flags)

    def end_session(self, flags: int) -> None:
        """EndSession: DEBUG_END_ACTIVE_TERMINATE (kill), DEBUG_END_ACTIVE_DETACH (detach),
        DEBUG_END_PASSIVE (kill what pydbg launched, detach what it attached);
        DEBUG_END_DISCONNECT (this client leaves, the session goes on) and
        DEBUG_END_REENTRANT (any thread; the engine is unusable after it): see the module
        docstring."""
        if flags == DebugEnd.REENTRANT:
            self._engine.end_session(flags)
            return
        self._check_connected("end_session")
        if flags == DebugEnd.DISCONNECT:
            self._disconnect()
            return
        self._engine.end_session(flags)

    def _disconnect(self) -> None:
        """DEBUG_END_DISCONNECT: take this client out of the engine."""
        engine = self._engine
        engine.check_thread("end_session")
        slot = self._slot
        # A new list: a dispatch iterating the old one (a client leaving from inside a
        # callback) goes on over it, and finds this slot's callbacks gone.
        engine.notifier.clients = [other for other in engine.notifier.clients if other is not slot]
        slot.event_callbacks, slot.interest_mask, slot.output_callbacks = None, 0, None
        engine.notifier.refresh()
        self._disconnected = True
        peers = [client for ref in _CLIENTS.get(engine, []) if (client := ref()) is not None]
        peers = [client for client in peers if client is not self]
        _CLIENTS[engine] = [weakref.ref(client) for client in peers]
        if engine.command_runner == self._interpreter.run_inside_wait and peers:
            peers[0]._teach_language()

    def get_exit_code(self) -> int | None:
        """GetExitCode: the exit code of the last process that exited, None if none has."""
        event = self._engine.last_event
        code = getattr(event, "exit_code", None)
        return code if isinstance(code, int) else None

    # -- callbacks and output -------------------------------------------------------------------

    def set_event_callbacks(self, callbacks: EventCallbacks | None) -> None:
        """SetEventCallbacks: get_interest_mask() is read once, now."""
        self._engine.check_thread("set_event_callbacks")
        self._check_connected("set_event_callbacks")
        if callbacks is None:
            self._slot.event_callbacks, self._slot.interest_mask = None, 0
            self._engine.notifier.refresh()
            return
        mask = callbacks.get_interest_mask()
        if isinstance(mask, bool) or not isinstance(mask, int) or mask < 0:
            raise EngineError(f"get_interest_mask() returned {mask!r}, not a DEBUG_EVENT_* mask")
        unknown = mask & ~(0x1FFF | int(DebugEvent.SYSCALL))
        if unknown:
            raise EngineError(f"get_interest_mask() has unknown DEBUG_EVENT_* bits {unknown:#x}")
        self._slot.event_callbacks, self._slot.interest_mask = callbacks, mask
        self._engine.notifier.refresh()

    def get_event_callbacks(self) -> EventCallbacks | None:
        return self._slot.event_callbacks

    def set_output_callbacks(
        self, callbacks: OutputCallbacks | Callable[[int, str], object] | None
    ) -> None:
        """SetOutputCallbacks: an OutputCallbacks, or any callable(mask, text)."""
        self._check_connected("set_output_callbacks")
        if callbacks is not None and not isinstance(callbacks, OutputCallbacks):
            callbacks = _CallableOutput(callbacks)
        self._slot.output_callbacks = callbacks

    def get_output_callbacks(self) -> OutputCallbacks | None:
        return self._slot.output_callbacks

    def get_output_mask(self) -> int:
        return self._slot.output_mask

    def set_output_mask(self, mask: int) -> None:
        self._slot.output_mask = mask

    def output(self, mask: int, text: str) -> None:
        """Output from this client: to itself (DEBUG_OUTCTL_THIS_CLIENT) unless a
        Control.execute or Control.controlled_output with another DEBUG_OUTCTL_* routing is
        running."""
        self._engine.notifier.routed_output(self._slot, mask, text)

    @contextlib.contextmanager
    def output_routing(self, output_control: int) -> Iterator[None]:
        """Route this client's output by `output_control` (DEBUG_OUTCTL_*) in the block."""
        control = check_output_control(output_control)
        slot = self._slot
        before = slot.output_control
        if control is not None:
            slot.output_control = control
        try:
            yield
        finally:
            slot.output_control = before

    # -- extensions -----------------------------------------------------------------------------

    def load_extension(self, module: ModuleType | str) -> ModuleType:
        """Load a Python module as an extension; if it defines
        debug_extension_notify(notify, argument) it hears DEBUG_NOTIFY_SESSION_*."""
        self._engine.check_thread("load_extension")
        if isinstance(module, str):
            module = importlib.import_module(module)
        self._engine.load_extension(module)
        return module


class _CallableOutput(OutputCallbacks):
    def __init__(self, function: Callable[[int, str], object]) -> None:
        self._function = function

    def output(self, mask: int, text: str) -> None:
        self._function(mask, text)


def create_client(*, backend_factory: Callable[[], Backend] | None = None) -> DebugClient:
    """DebugCreate: a new engine, owned by the calling thread, and its first client.

    backend_factory replaces the native tracer (the engine tests use a scripted one)."""
    engine = Engine() if backend_factory is None else Engine(backend_factory)
    client = DebugClient(engine)
    # Interpreter exit, SIGTERM and SIGHUP end its session instead of leaving int3 bytes
    # in attached targets (pydbg.engine.teardown).
    teardown.register(engine)
    return client


def connect_gdbserver(address: str, *, timeout: float = 30.0, files: str = "local") -> DebugClient:
    """A client whose session's target is served by a GDB-remote server (gdbserver,
    lldb-server): `address` is "gdbserver:HOST:PORT" (or "gdb:HOST:PORT").  The process
    the server already debugs (`gdbserver HOST:PORT prog`, or one it attached) joins the
    session at the next wait_for_event, as after attach_process; with `gdbserver --multi`
    and no process, create_process starts one on the server (vRun).

    files="local" (the default): the server must run on this machine (a loopback
    address): modules and symbols are read from the served process's /proc entries and
    files, as for a local target (pydbg.gdbremote.client_backend says what maps to what);
    RemoteUnsupportedError for another host.  files="remote": the server's /proc and files
    are not ours: modules come from the server (auxv, exec-file, its /proc/PID/maps) and
    files through vFile:, cached locally by build id (pydbg.gdbremote.remote_files); any
    host.  RemoteError when the server cannot be reached or misbehaves; ValueError for an
    address of another form or another `files`."""
    import ipaddress
    import socket

    from pydbg.errors import RemoteError, RemoteUnsupportedError
    from pydbg.gdbremote.client_backend import RspBackend

    if files not in ("local", "remote"):
        raise ValueError(f"files={files!r}: 'local' or 'remote'")
    scheme, _, rest = address.partition(":")
    host, _, port_text = rest.rpartition(":")
    if scheme not in ("gdbserver", "gdb") or not host or not port_text.isdigit():
        raise ValueError(f"{address!r} is not gdbserver:HOST:PORT")
    host = host.strip("[]")
    try:
        resolved = socket.getaddrinfo(host, int(port_text), proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise RemoteError(f"cannot resolve {host}: {exc}") from exc
    if files == "local" and not all(
        ipaddress.ip_address(info[4][0]).is_loopback for info in resolved
    ):
        raise RemoteUnsupportedError(
            f"a server on {host}", "only servers on this machine (the loopback) are supported"
        )
    backend = RspBackend(host, int(port_text), timeout=timeout, files=files)

    def factory() -> Backend:
        if backend.closed:
            raise RemoteError(f"the session with {address} has ended; connect again")
        return cast("Backend", backend)

    client = create_client(backend_factory=factory)
    if backend.pid:
        client.attach_process(backend.pid)
    return client
