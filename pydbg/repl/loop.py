"""The interactive prompt: read a command line, run it, wait while the targets run, repeat.

    0:000> bp main
    0:000> g
    Breakpoint 0 hit
    ...
    0:000> p              (Enter on an empty line: p again)

The prompt is cdb's, `process:thread>` with the engine's indices.  A line is a `;`
sequence run one command at a time, with cdb's implicit waits (pydbg.commands.interpreter)
done here so that the program gets the terminal while it runs (pydbg.repl.terminal).
After a wait that breaks in, the stop is shown (Interpreter.output_current_state).

Enter on an empty line repeats the last line when it was one execution command (`t`, `p`,
`g`, `gu`...; they go on from where they stopped) or one display command, repeated
without its arguments so that it goes on where it stopped (`u`, `dd`...).

Errors are one line (`pydbg: ...`); an unknown command gets the closest names.  With
--debug (or PYDBG_LOG set) the traceback follows.

Leaving: Ctrl-D or `q` ends the session passively (a launched program is killed, an
attached one detached with every breakpoint removed); `qd` detaches from all.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydbg.commands.help_commands import suggest
from pydbg.commands.interpreter import UnknownCommandError
from pydbg.commands.split import split_commands, split_first_word
from pydbg.constants import DebugEnd, DebugStatus, OutputMask
from pydbg.errors import PydbgError
from pydbg.repl.interrupts import Interrupts
from pydbg.repl.restart import Launch
from pydbg.repl.terminal import Terminal

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

    from pydbg.client import DebugClient

__all__ = ["Repl", "unknown_command_message"]

# Repeated as typed: they go on from where the last one stopped.
REPEAT_RUN = frozenset(
    ["g", "gh", "gn", "gu", "gc", "t", "p", "tb", "tc", "pc", "tt", "pt", "th", "ph", "wt"]
)
# Repeated without arguments: a display goes on after what it showed.
REPEAT_DISPLAY = frozenset(
    [
        "u",
        "ub",
        "d",
        "da",
        "db",
        "dc",
        "dd",
        "dD",
        "df",
        "dp",
        "dq",
        "du",
        "dw",
        "dW",
        "dyb",
        "dyd",
        "dps",
        "dqs",
        "dds",
        "dpa",
        "dpu",
        "dpp",
    ]
)
QUIT = frozenset({"q", "qq"})


def unknown_command_message(exc: UnknownCommandError, name: str) -> str:
    close = suggest(name)
    return f"{exc}; did you mean {', '.join(close)}?" if close else f"{exc} (.help lists them)"


class Repl:
    """One interactive session over a client whose initial break was taken."""

    def __init__(
        self,
        client: DebugClient,
        terminal: Terminal,
        *,
        launch: Launch | None,
        debug: bool = False,
    ) -> None:
        self.client = client
        self.control = client.control
        self.terminal = terminal
        self.launch = launch
        self.debug = debug or bool(os.environ.get("PYDBG_LOG"))
        self.interrupts = Interrupts(self._break_in, terminal.restore)
        self.repeat: str | None = None
        self.finished = False
        if launch is not None:
            launch.on_restart = terminal.new_program

    # -- output -----------------------------------------------------------------------------

    def error(self, text: str) -> None:
        self.client.output(OutputMask.ERROR, f"pydbg: {text}\n")

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, PydbgError):
            self.error(str(exc).strip())
        else:
            hint = "" if self.debug else " (--debug shows the traceback)"
            self.error(f"internal error: {type(exc).__name__}: {exc}{hint}")
        if self.debug:
            self.client.output(OutputMask.ERROR, traceback.format_exc())

    # -- the loop ---------------------------------------------------------------------------

    def prompt_text(self) -> str:
        if self.control.get_execution_status() == DebugStatus.NO_DEBUGGEE:
            return "NoTarget> "
        objects = self.client.system_objects
        try:
            return f"{objects.get_current_process_id()}:{objects.get_current_thread_id():03d}> "
        except PydbgError:
            return "> "

    def _session(self) -> PromptSession[str]:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.shortcuts import CompleteStyle

        from pydbg.repl.completion import DebuggerCompleter
        from pydbg.repl.history import history_path

        return PromptSession(
            history=FileHistory(history_path()),
            completer=DebuggerCompleter(self.client),
            complete_while_typing=False,
            complete_style=CompleteStyle.READLINE_LIKE,
            # (No lexer here: merging pygments' style rules costs the first prompt time.)
            include_default_pygments_style=False,
        )

    def run(self, commands: str | None = None) -> int:
        """Run `commands` (-c), then prompt until the user quits.  Returns the exit status."""
        self.interrupts.install()
        try:
            self.client.output(
                OutputMask.NORMAL, ".help lists the commands, Tab completes, Ctrl-D quits\n"
            )
            if commands:
                self._guarded(self.run_line, commands)
            session = self._session()
            while not self.finished:
                self.terminal.fresh_line()
                try:
                    line = session.prompt(self.prompt_text())
                except KeyboardInterrupt:
                    continue  # Ctrl-C at the prompt: a new, empty line
                except EOFError:
                    self.quit()
                    break
                self._guarded(self.read, line)
        finally:
            self.terminal.restore()
        return 0

    def _guarded(self, run: Callable[[str], None], line: str) -> None:
        """Ctrl-C between a wait and the prompt (showing the stop, say) only cuts that
        output short."""
        try:
            run(line)
        except KeyboardInterrupt:
            self.error("interrupted")
            self.repeat = None

    def read(self, line: str) -> None:
        """One line typed at the prompt."""
        if not line.strip():
            if self.repeat is not None:
                self.run_line(self.repeat, typed=False)
            return
        if line.strip() == "?":  # cdb's `?` alone: the help
            line = ".help"
        self.run_line(line)

    def run_line(self, line: str, typed: bool = True) -> None:
        try:
            commands = split_commands(line)
        except PydbgError as exc:
            self._failed(exc)
            return
        for command in commands:
            name = split_first_word(command)[0].lower()
            if name in QUIT:
                self.quit()
                return
            try:
                self.control.execute(command)
            except UnknownCommandError as exc:
                self.error(unknown_command_message(exc, split_first_word(command)[0]))
                self.repeat = None
                return
            except KeyboardInterrupt:
                self.error(f"{command!r} interrupted")
                self.repeat = None
                return
            except Exception as exc:  # noqa: BLE001 - one line, and the prompt again
                self._failed(exc)
                self.repeat = None
                return
            if name == "qd":
                self.finished = True
                return
            status = self.control.get_execution_status()
            if status not in (DebugStatus.BREAK, DebugStatus.NO_DEBUGGEE) and not self.wait():
                return  # no target is left: the rest of the line is dropped
        if typed:
            self.repeat = _repeatable(commands)

    def wait(self) -> bool:
        """Let the targets run until an event breaks in; show the stop.  False when the
        session ended."""
        launch = self.launch
        group = None
        if launch is not None:
            launch.remember()
            if launch.new_process_group:
                group = launch.pid
        try:
            with self.interrupts.waiting(), self.terminal.given_to(group):
                broke = self.control.wait_for_event()
        except Exception as exc:  # noqa: BLE001
            self._failed(exc)
            return self.control.get_execution_status() != DebugStatus.NO_DEBUGGEE
        if self.control.get_execution_status() == DebugStatus.NO_DEBUGGEE:
            self._ended()
            return False
        if broke:
            try:
                self.control.output_current_state()
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)
        return broke

    def _ended(self) -> None:
        code = self.client.get_exit_code()
        what = "the program ended" if code is None else f"the program exited with code {code}"
        again = ".restart runs it again, " if self.launch is not None else ""
        self.client.output(OutputMask.NORMAL, f"pydbg: {what}; {again}q quits\n")

    def quit(self) -> None:
        """Ctrl-D, q: a launched program is killed, an attached one detached."""
        self.finished = True
        if self.control.get_execution_status() != DebugStatus.NO_DEBUGGEE:
            try:
                self.client.end_session(DebugEnd.PASSIVE)
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)

    def _break_in(self) -> None:
        self.control.set_interrupt()


def _repeatable(commands: list[str]) -> str | None:
    if len(commands) != 1:
        return None
    name, _ = split_first_word(commands[0])
    if name.lower() in REPEAT_RUN:
        return commands[0]
    if name in REPEAT_DISPLAY:
        return name
    return None
