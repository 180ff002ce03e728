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
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType, TracebackType

from pydbg.callbacks import EventCallbacks, OutputCallbacks
from pydbg.commands import breakpoint_commands as _breakpoint_commands  # noqa: F401
from pydbg.commands import builtins as _builtins  # noqa: F401 - registers the commands
from pydbg.commands import help_commands as _help_commands  # noqa: F401
from pydbg.commands import symbol_commands as _symbol_commands  # noqa: F401
from pydbg.commands.interpreter import Interpreter
from pydbg.constants import DebugEnd, DebugEvent
from pydbg.control import Control
from pydbg.data_spaces import DataSpaces
from pydbg.engine import teardown
from pydbg.engine.backend import Backend, FdArg
from pydbg.engine.breakpoints import Language
from pydbg.engine.notify import ClientSlot
from pydbg.engine.session import Engine, EngineError
from pydbg.registers import Registers
from pydbg.symbols import Symbols
from pydbg.system_objects import SystemObjects

__all__ = ["DebugClient", "create_client"]


class DebugClient:
    """IDebugClient, with its facets: control, registers, data_spaces, system_objects,
    symbols."""

    def __init__(self, engine: Engine) -> None:
        engine.check_thread("create_client")
        self._engine = engine
        self._slot = ClientSlot()
        engine.notifier.clients.append(self._slot)
        self._interpreter = Interpreter(self)
        if engine.command_runner is None:
            # The engine does not know the command language: the first client's
            # interpreter runs filter and breakpoint commands and reads their expressions.
            interpreter = self._interpreter
            engine.command_runner = interpreter.run_inside_wait
            engine.breakpoints.language = Language(
                evaluate=interpreter.evaluate,
                check_condition=interpreter.check_condition,
                check_command=interpreter.check_command,
            )
        self.control = Control(self)
        self.registers = Registers(engine)
        self.data_spaces = DataSpaces(engine)
        self.system_objects = SystemObjects(engine)
        self.symbols = Symbols(engine)

    def __enter__(self) -> DebugClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
        (send SIGCONT after attaching)."""
        self._engine.attach_process(pid, flags)

    def detach_processes(self) -> None:
        """DetachProcesses: every target runs on, untraced; the session ends."""
        self._engine.detach_processes()

    def terminate_processes(self) -> None:
        """TerminateProcesses: kill every target (ExitProcess is reported); the session ends."""
        self._engine.terminate_processes()

    def end_session(self, flags: int) -> None:
        """EndSession: DEBUG_END_ACTIVE_TERMINATE (kill), DEBUG_END_ACTIVE_DETACH (detach),
        DEBUG_END_PASSIVE (kill what pydbg launched, detach what it attached)."""
        self._engine.end_session(flags)

    def get_exit_code(self) -> int | None:
        """GetExitCode: the exit code of the last process that exited, None if none has."""
        event = self._engine.last_event
        code = getattr(event, "exit_code", None)
        return code if isinstance(code, int) else None

    # -- callbacks and output -------------------------------------------------------------------

    def set_event_callbacks(self, callbacks: EventCallbacks | None) -> None:
        """SetEventCallbacks: get_interest_mask() is read once, now."""
        self._engine.check_thread("set_event_callbacks")
        if callbacks is None:
            self._slot.event_callbacks, self._slot.interest_mask = None, 0
            self._engine.notifier.refresh()
            return
        mask = callbacks.get_interest_mask()
        if isinstance(mask, bool) or not isinstance(mask, int) or mask < 0:
            raise EngineError(f"get_interest_mask() returned {mask!r}, not a DEBUG_EVENT_* mask")
        unknown = mask & ~int(DebugEvent(0x1FFF))
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
        """Output to this client only (DEBUG_OUTCTL_THIS_CLIENT)."""
        self._engine.notifier.output(mask, text, only=self._slot)

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
