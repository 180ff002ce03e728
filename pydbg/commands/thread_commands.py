"""Threads in commands: cdb's `~` listing, its thread selectors, and commands run for a thread.

    ~               every thread of the current process, `.` marking the current one and
                    `#` the thread of the last event
    ~N / ~. / ~# / ~* / ~~[tid] / ~[expr]
                    the thread(s) named: thread N (its engine id, decimal), the current
                    thread, the last event's, all of them, the one with system id `tid`
                    (an expression), the one with engine id `expr`
    ~N s            make thread N current and show where it is (cdb's `~Ns`)
    ~N cmd          run `cmd` for thread N (`~2k`, `~*r`, `~#kn 5`): it becomes current for
                    the command, then the current thread is back; `~*` heads each thread's
                    output with its `~` line

Selecting a thread resets the scope to its frame 0 (`.frame`), as DbgEng does.  A selector
in front of an execution command (`~2 g`, running some threads only) and cdb's freeze and
suspend commands (`~Nf`, `~Nu`, `~Nn`, `~Nm`) are not supported and say so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.expression import parse_number
from pydbg.commands.interpreter import Run
from pydbg.constants import DEBUG_ANY_ID
from pydbg.control import DEBUG_CURRENT_DISASM, DEBUG_CURRENT_SOURCE_LINE, DEBUG_CURRENT_SYMBOL

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter

__all__ = ["NoSuchThreadError", "threads_command"]


class NoSuchThreadError(CommandError, LookupError):
    """A thread selector that names no thread of the current process (`~9k`)."""


_NUMBER = re.compile(r"[0-9]+")
_UNSUPPORTED = {"f": "freeze", "u": "unfreeze", "n": "suspend", "m": "resume"}


def threads_command(interp: Interpreter, rest: str) -> None:
    """The `~` command: `rest` is what follows the `~`."""
    text = rest.strip()
    if not text:
        for engine_id in _thread_ids(interp):
            interp.out(thread_line(interp, engine_id) + "\n")
        return
    selected, command, every = _selector(interp, text)
    word = command.strip()
    if not word:
        for engine_id in selected:
            interp.out(thread_line(interp, engine_id) + "\n")
        return
    if word.lower() == "s":
        if every:
            raise CommandSyntaxError(f"~{rest}", 1, "~*s: select one thread, not all")
        select_thread(interp, selected[0])
        interp.output_current_state(
            DEBUG_CURRENT_SYMBOL | DEBUG_CURRENT_DISASM | DEBUG_CURRENT_SOURCE_LINE
        )
        return
    if word.lower() in _UNSUPPORTED:
        raise CommandError(
            f"~{rest}: pydbg does not {_UNSUPPORTED[word.lower()]} threads (cdb's ~N{word})"
        )
    run_for_threads(interp, selected, word, headers=every)


def _thread_ids(interp: Interpreter) -> list[int]:
    return interp.client.system_objects.get_thread_ids_by_index()[0]


def _selector(interp: Interpreter, text: str) -> tuple[list[int], str, bool]:
    """(engine ids, the command after the selector, whether it was `~*`)."""
    objects = interp.client.system_objects
    known = _thread_ids(interp)
    first = text[0]
    if first == "*":
        return known, text[1:], True
    if first == ".":
        return [objects.get_current_thread_id()], text[1:], False
    if first == "#":
        event = objects.get_event_thread()
        if event == DEBUG_ANY_ID or event not in known:
            raise NoSuchThreadError(f"~#: the last event's thread is gone (threads: {known})")
        return [event], text[1:], False
    if text.startswith("~["):
        expression, after = _bracketed(text, 1)
        tid = interp.evaluate(expression)
        system = dict(zip(*reversed(objects.get_thread_ids_by_index()), strict=True))
        if tid not in system:
            listed = ", ".join(f"{t:x}" for t in system)
            raise NoSuchThreadError(f"~~[{expression}]: no thread has system id {tid:x} ({listed})")
        return [system[tid]], after, False
    if first == "[":
        expression, after = _bracketed(text, 0)
        return [_known(interp.evaluate(expression), known, text)], after, False
    match = _NUMBER.match(text)
    if match is None:
        raise CommandSyntaxError(
            f"~{text}", 1, "expected ~, ~N, ~., ~#, ~*, ~~[tid] or ~[expr], then a command"
        )
    number = parse_number(match.group(), 10)  # (refuses thousands of digits at once)
    assert number is not None  # digits only: always a number
    return [_known(number, known, text)], text[match.end() :], False


def _bracketed(text: str, start: int) -> tuple[str, str]:
    end = text.find("]", start)
    if end < 0:
        raise CommandSyntaxError(f"~{text}", start + 1, "unclosed [")
    return text[start + 1 : end], text[end + 1 :]


def _known(engine_id: int, known: list[int], text: str) -> int:
    if engine_id not in known:
        listed = ", ".join(str(k) for k in known)
        raise NoSuchThreadError(f"~{text}: no thread {engine_id} (threads: {listed})")
    return engine_id


def thread_line(interp: Interpreter, engine_id: int) -> str:
    """cdb's `~` line: `.` current / `#` last event's thread, number, `Id: pid.tid`."""
    objects = interp.client.system_objects
    engine_ids, tids = objects.get_thread_ids_by_index()
    tid = tids[engine_ids.index(engine_id)]
    if engine_id == objects.get_current_thread_id():
        mark = "."
    elif engine_id == objects.get_event_thread():
        mark = "#"
    else:
        mark = " "
    pid = objects.get_current_process_system_id()
    return f"{mark}{engine_id:3}  Id: {pid:x}.{tid:x}"


def select_thread(interp: Interpreter, engine_id: int) -> None:
    """Make a thread current; the scope goes back to its frame 0."""
    interp.client.system_objects.set_current_thread_id(engine_id)
    interp.client.symbols.reset_scope()


def run_for_threads(
    interp: Interpreter, engine_ids: list[int], command: str, headers: bool
) -> None:
    """Run one command with each thread current in turn, then make the first current again."""
    objects = interp.client.system_objects
    original = objects.get_current_thread_id()
    try:
        for engine_id in engine_ids:
            if headers:
                line = thread_line(interp, engine_id)
                select_thread(interp, engine_id)
                interp.out(f"\n{line}\n")
            else:
                select_thread(interp, engine_id)
            if isinstance(interp.run_command(command), Run):
                raise CommandError(
                    f"~{engine_id} {command}: a thread prefix on an execution command "
                    "(running some threads only) is not supported"
                )
    finally:
        select_thread(interp, original)
