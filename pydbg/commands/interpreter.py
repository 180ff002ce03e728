"""Execute: running a cdb command sequence, with its implicit waits (spec §4.5).

    for each command of the sequence (split at `;`):
        run it
        if it is an execution command (g, p, t, ...):
            inside a wait:  it is the vote for how to go on; the rest is dropped
            the last one:   it only arms the status; the caller waits
            otherwise:      wait_for_event, then go on with the next command

So `g ; ? @$ip` runs to the next break and then evaluates, while a lone `g` returns at once
(cdb's loop, or the pydbg CLI, then waits).  After an implicit wait that breaks, the
interpreter shows the state as cdb does at a stop (output_current_state); a front end does
the same after its own waits.

Counted steps (`t 3`, `p 3`): cdb shows the state after each step.  When this client shows
the state (it has output callbacks taking DEBUG_OUTPUT_PROMPT_REGISTERS and `.prompt_allow`
leaves something to show), the steps run one by one, each but the last with an implicit
wait and the state shown after it; an event that breaks during one (a breakpoint hit)
drops the steps left.  The last step follows the rule above (the last command only arms).
Otherwise, and inside a wait, the count goes to the engine in one piece (a native loop).

In an event callback, a breakpoint command or a filter command (all "inside a wait")
`r; g; r` shows the registers once and votes GO.

Errors: outside a wait, a command that fails raises (CommandError and the errors of the
facets it calls), after the commands before it took effect; the session stays usable.
Inside a wait nothing may unwind the engine: the error is printed and counts as BREAK, so
the user gets a stopped target to look at.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pydbg.commands.errors import CommandError
from pydbg.commands.expression import check_syntax, evaluate
from pydbg.commands.split import split_commands, split_first_word
from pydbg.constants import DEBUG_STATUS_INSIDE_WAIT, DebugStatus, OutputMask
from pydbg.control import DEBUG_CURRENT_DEFAULT, StepMode
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.client import DebugClient
    from pydbg.commands.return_display import PendingReturn

__all__ = ["CommandHelp", "Interpreter", "Run", "UnknownCommandError", "command"]


# `bp3`, `bu12`, `ba0`: a breakpoint command with the id it is to have.  The handler gets
# the id as a leading option only it understands.
_NUMBERED = re.compile(r"(bp|bu|ba|bm)([0-9]+)(?![0-9a-z])", re.IGNORECASE)
ID_OPTION = "/__id"


class UnknownCommandError(CommandError, ValueError):
    """No command has this name."""


@dataclass(frozen=True)
class Run:
    """What an execution command asks for: a status, a count for steps, and for the
    steps beyond DbgEng's three statuses (`tc`, `gu`, `pa`...) their mode."""

    status: DebugStatus
    count: int = 1
    mode: StepMode | None = None
    address: int | None = None


@dataclass(frozen=True)
class Quit:
    """q / qd: the session was ended; nothing after it runs."""


Handler = Callable[["Interpreter", str], "Run | Quit | None"]


@dataclass(frozen=True)
class CommandHelp:
    """What `.help` says of a command: one line, then its syntax and an example."""

    summary: str
    syntax: str = ""
    example: str = ""


class Interpreter:
    """The command language of one client."""

    commands: dict[str, Handler] = {}
    help: dict[str, CommandHelp] = {}

    def __init__(self, client: DebugClient) -> None:
        self.client = client
        self.radix = 16
        self.user_registers = [0] * 20  # $t0 .. $t19
        self.next_unassemble: int | None = None  # where a `u` without address goes on
        self.next_display: int | None = None  # where a d* command without address goes on
        # What a stop shows (`.prompt_allow`): everything, as in cdb.
        self.prompt_allow: frozenset[str] = frozenset({"sym", "dis", "ea", "reg", "src"})
        # A `gu` whose return value the stop that ends it prints (return_display).
        self.pending_return: PendingReturn | None = None

    def out(self, text: str, mask: int = OutputMask.NORMAL) -> None:
        self.client.output(mask, text)

    def output_current_state(self, flags: int = DEBUG_CURRENT_DEFAULT) -> None:
        """What cdb shows at a stop (IDebugControl::OutputCurrentState): the registers,
        the `module!symbol+off [file @ line]:` line and the next instruction, of the
        scope frame, as `.prompt_allow` allows (pydbg.commands.state_display), after the
        value returned when the stop ends a `gu` (pydbg.commands.return_display).  Front ends
        call it after a wait that breaks.  Sent as DEBUG_OUTPUT_PROMPT_REGISTERS; a target
        whose registers cannot be read gets one line saying why, never an exception."""
        from pydbg.commands.return_display import report_return
        from pydbg.commands.state_display import state_text

        report_return(self)
        try:
            text = state_text(self, flags, self.prompt_allow)
        except PydbgError as exc:
            text = f"pydbg: no state to show: {str(exc).rpartition(': ')[2]}\n"
        if text:
            self.out(text, OutputMask.PROMPT_REGISTERS)

    def shows_state(self) -> bool:
        """Whether output_current_state would reach anybody (this client's output)."""
        return (
            bool(self.prompt_allow)
            and self.client.get_output_callbacks() is not None
            and bool(self.client.get_output_mask() & OutputMask.PROMPT_REGISTERS)
        )

    def evaluate(self, text: str) -> int:
        from pydbg.commands.context import CommandContext

        return evaluate(text, CommandContext(self), self.radix)

    def check_condition(self, text: str) -> None:
        """Raise CommandSyntaxError if `text` is not one expression (names not looked up)."""
        check_syntax(text, self.radix)

    def check_command(self, text: str) -> None:
        """Raise CommandSyntaxError if `text` is not a readable command sequence."""
        split_commands(text)

    def execute(self, text: str) -> None:
        """Execute a command sequence (module docstring)."""
        control = self.client.control
        commands = split_commands(text)
        for position, command in enumerate(commands):
            outcome = self._run_one(command)
            if isinstance(outcome, Quit):
                return
            if outcome is None:
                continue
            last = position == len(commands) - 1
            inside_wait = control.get_execution_status_ex() & DEBUG_STATUS_INSIDE_WAIT
            if outcome.count > 1 and not inside_wait and self.shows_state():
                # cdb shows every step of `t 3`: all but the last one with a wait here.
                one = replace(outcome, count=1)
                for _ in range(outcome.count - 1):
                    self._arm(one)
                    if not self._wait_and_show():
                        return
                    if not control.last_wait_ended_a_step():
                        break  # an event broke in first: the steps left are dropped
                else:
                    outcome = one
                if outcome is not one:
                    continue
            self._arm(outcome)
            if inside_wait or last:
                return
            if not self._wait_and_show():
                return

    def _arm(self, outcome: Run) -> None:
        control = self.client.control
        if outcome.mode is None:
            control.set_execution_status(outcome.status, outcome.count)
        else:
            control.step(
                outcome.mode,
                outcome.count,
                outcome.address,
                over=outcome.status == DebugStatus.STEP_OVER,
            )

    def _wait_and_show(self) -> bool:
        """An implicit wait; at a break, the state as cdb shows it.  False if no target
        is left."""
        if not self.client.control.wait_for_event():
            self.out("pydbg: no target is left; the rest of the commands are skipped\n")
            return False
        if self.shows_state():
            self.output_current_state()
        return True

    def run_inside_wait(self, text: str) -> int | None:
        """A filter or breakpoint command: run it, never raise, return nothing (its
        execution command, if any, has voted through set_execution_status)."""
        try:
            self.execute(text)
        except Exception:  # noqa: BLE001 - see the module docstring
            self.out(
                f"pydbg: command {text!r} failed; counted as DEBUG_STATUS_BREAK\n"
                f"{traceback.format_exc(limit=1)}",
                OutputMask.ERROR,
            )
            return DebugStatus.BREAK
        return None

    def run_command(self, command: str) -> Run | Quit | None:
        """Run one command (no `;`): what an execution command asks for is returned, not
        armed (a thread prefix, `~2k`, runs its command this way)."""
        return self._run_one(command)

    def _run_one(self, command: str) -> Run | Quit | None:
        name, rest = split_first_word(command)
        numbered = _NUMBERED.match(command.strip())
        if numbered:  # `bp3 addr`: the breakpoint id is glued to the name
            name, rest = (
                numbered[1],
                f"{ID_OPTION} {numbered[2]} {command.strip()[numbered.end() :]}",
            )

        handler = self.commands.get(name.lower())
        if handler is None:
            raise UnknownCommandError(f"unknown command {name!r} in {command!r}")
        return handler(self, rest)


def command(
    *names: str, summary: str = "", syntax: str = "", example: str = ""
) -> Callable[[Handler], Handler]:
    """Register a handler under cdb names, with what `.help` says of it."""

    def register(handler: Handler) -> Handler:
        for name in names:
            Interpreter.commands[name] = handler
            if summary:
                Interpreter.help[name] = CommandHelp(summary, syntax, example)
        return handler

    return register
