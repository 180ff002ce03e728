"""Process-level commands: acquiring and releasing targets, listing and selecting them.

Acquiring (cdb: the process joins at the next execution command; here at the next wait,
spec §6.2): `.attach [-b] [-r] PID` (PID is an expression, in the current radix as in cdb:
`.attach 0n1234` for a decimal pid), `.create CMDLINE` (split as a POSIX shell would, quotes
and backslashes included; the rest of the line is the command line).
Releasing: `.detach` / `.kill` (the current process only; the session goes on with the
others), `q` (end the session, killing the targets), `qd` (end it, detaching).
Listing: `|` (every process), `|.` `|#` `|N` (one), `|Ns` `|#s` (make it current);
`.childdbg [0|1]` (whether the current process's fork children are debugged);
`.tlist [-v] [-c] [PATTERN]` (the processes running on the machine, to pick one to attach).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex

from pydbg.commands.errors import CommandSyntaxError, ExpressionError
from pydbg.commands.expression import parse_number
from pydbg.commands.interpreter import Interpreter, Quit, command
from pydbg.constants import AttachFlags, DebugEnd, ProcDescFlags, ProcessOptions
from pydbg.errors import NoSuchProcessError, NoTargetError


def _no_arguments(name: str, rest: str) -> None:
    if rest.strip():
        raise CommandSyntaxError(f"{name} {rest}", len(name) + 1, f"{name} takes no arguments")


def _require_process(interp: Interpreter, name: str) -> None:
    if not interp.client.system_objects.get_number_processes():
        raise NoTargetError(f"{name}: no process is being debugged")


# -- ending the session -------------------------------------------------------------------------


@command(
    "q",
    "qq",
    summary="Quit: end the session, killing the targets (at the prompt: detaching attached ones)",
    syntax="q",
    example="q",
)
def _quit(interp: Interpreter, rest: str) -> Quit:
    _no_arguments("q", rest)
    interp.client.end_session(DebugEnd.ACTIVE_TERMINATE)
    return Quit()


@command("qd", summary="Quit, detaching: the targets run on, untraced", syntax="qd", example="qd")
def _quit_detach(interp: Interpreter, rest: str) -> Quit:
    _no_arguments("qd", rest)
    interp.client.end_session(DebugEnd.ACTIVE_DETACH)
    return Quit()


# -- acquiring targets --------------------------------------------------------------------------

# cdb's .attach options that pydbg cannot honour, and why.
_ATTACH_UNSUPPORTED = {
    "-k": "local kernel debugging is not available",
    "-f": "freezing the other targets' threads until the new one breaks is not supported",
    "-premote": "process servers are not supported",
}
_ATTACH_FLAGS = {
    "-b": AttachFlags.INVASIVE_NO_INITIAL_BREAK,
    "-r": AttachFlags.INVASIVE_RESUME_PROCESS,
    # The engine refuses these two with the reason (ptrace allows one tracer per thread).
    "-e": AttachFlags.EXISTING,
    "-v": AttachFlags.NONINVASIVE,
}


@command(
    ".attach",
    summary="Attach to a running process; it joins the session at the next execution",
    syntax=".attach [-b] [-r] PID   (-b: no initial break; -r: SIGCONT it after attaching)",
    example=".attach 0n1234",
)
def _attach(interp: Interpreter, rest: str) -> None:
    flags = AttachFlags.DEFAULT
    words = rest.split()
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option in _ATTACH_UNSUPPORTED:
            raise CommandSyntaxError(
                f".attach {rest}", 8, f".attach {option}: {_ATTACH_UNSUPPORTED[option]}"
            )
        if option.lower() not in _ATTACH_FLAGS:
            raise CommandSyntaxError(f".attach {rest}", 8, f"unknown .attach option {option}")
        flags |= _ATTACH_FLAGS[option.lower()]
    if not words:
        raise CommandSyntaxError(f".attach {rest}", 8 + len(rest), ".attach needs a process id")
    pid = interp.evaluate(" ".join(words))
    interp.client.attach_process(pid, int(flags))
    interp.out("Attach will occur on next execution\n")


@command(
    ".create",
    summary="Start a program under the debugger; it joins the session at the next execution",
    syntax=".create CMDLINE   (the rest of the line; quoted as in a POSIX shell)",
    example=".create /bin/sleep 10",
)
def _create(interp: Interpreter, rest: str) -> None:
    try:
        argv = shlex.split(rest)
    except ValueError as exc:  # an open quote, a trailing backslash
        raise CommandSyntaxError(
            f".create {rest}", 8, f"cannot split the command line: {exc}"
        ) from None
    if argv and argv[0] in ("-f", "-premote"):
        raise CommandSyntaxError(
            f".create {rest}",
            8,
            f".create {argv[0]} is not supported (freezing other targets, process servers)",
        )
    if not argv:
        raise CommandSyntaxError(".create", 7, ".create needs a command line")
    interp.client.create_process(argv)
    interp.out("Create will proceed with next execution\n")


# -- releasing targets --------------------------------------------------------------------------


def _released(interp: Interpreter, what: str) -> None:
    interp.out(f"{what}\n")
    if not interp.client.system_objects.get_number_processes():
        interp.out("No process is left; .create or .attach starts a new session\n")


@command(
    ".detach",
    summary="Detach from the current process: it runs on, untraced; the others stay",
    syntax=".detach",
    example=".detach",
)
def _detach(interp: Interpreter, rest: str) -> None:
    _no_arguments(".detach", rest)
    _require_process(interp, ".detach")
    pid = interp.client.detach_current_process()
    _released(interp, f"Detached from process {pid}")


@command(
    ".kill",
    summary="Kill the current process; the others stay",
    syntax=".kill",
    example=".kill",
)
def _kill(interp: Interpreter, rest: str) -> None:
    _no_arguments(".kill", rest)
    _require_process(interp, ".kill")
    pid = interp.client.terminate_current_process()
    _released(interp, f"Terminated process {pid}")


# -- listing and selecting ----------------------------------------------------------------------

_PROCESS_SYNTAX = re.compile(r"\s*(\*|\.|#|[0-9]+)?\s*(s)?\s*", re.IGNORECASE)


@command(
    "|",
    summary="List the processes of the session, or select one",
    syntax="| | |* | |. | |# | |N | |Ns",
    example="|1s",
)
def _processes(interp: Interpreter, rest: str) -> None:
    match = _PROCESS_SYNTAX.fullmatch(rest)
    if match is None or (match.group(2) and match.group(1) in (None, "*")):
        raise CommandSyntaxError(f"|{rest}", 1, "expected |, |*, |., |#, |N, or |Ns (select)")
    which, select = match.group(1) or "*", bool(match.group(2))
    objects = interp.client.system_objects
    descriptions = interp.client.describe_processes()
    try:
        current: int | None = objects.get_current_process_id()
    except NoTargetError:
        current = None
    event = objects.get_event_process()
    shown = descriptions
    if which != "*":
        chosen = {".": current, "#": event}.get(which)
        if which not in ".#":
            chosen = parse_number(which, 10)
        shown = [d for d in descriptions if d.engine_id == chosen]
        if not shown:
            raise ExpressionError(f"|{which}: no process of the session has that number")
        if select:
            objects.set_current_process_id(shown[0].engine_id)
            return
    for d in shown:
        mark = "." if d.engine_id == current else "#" if d.engine_id == event else " "
        interp.out(f"{mark}{d.engine_id:3}\tid: {d.pid:x}\t{d.origin}\tname: {d.image_name}\n")


@command(
    ".childdbg",
    summary="Show or set whether the current process's fork children are debugged",
    syntax=".childdbg [0|1]   (1: children join the session; 0: they run free, untraced)",
    example=".childdbg 1",
)
def _child_debugging(interp: Interpreter, rest: str) -> None:
    client = interp.client
    if rest.strip():
        value = interp.evaluate(rest)
        if value not in (0, 1):
            raise ExpressionError(f".childdbg takes 0 or 1, not {rest.strip()}")
        if value:
            client.remove_process_options(ProcessOptions.ONLY_THIS_PROCESS)
        else:
            client.add_process_options(ProcessOptions.ONLY_THIS_PROCESS)
    follows = not client.get_process_options() & ProcessOptions.ONLY_THIS_PROCESS
    interp.out(
        f"Processes created by the current process will {'' if follows else 'not '}be debugged\n"
    )


@command(
    ".tlist",
    summary="List the processes running on the machine (to pick one for .attach)",
    syntax=".tlist [-v] [-c] [PATTERN]   (-v: session, user, command line; -c: the current "
    "process only; PATTERN: wildcards on the executable's name)",
    example=".tlist -v sleep*",
)
def _tlist(interp: Interpreter, rest: str) -> None:
    words = rest.split()
    verbose = current_only = False
    while words and words[0].startswith("-"):
        option = words.pop(0).lower()
        if option == "-v":
            verbose = True
        elif option == "-c":
            current_only = True
        else:
            raise CommandSyntaxError(f".tlist {rest}", 7, f"unknown .tlist option {option}")
    if len(words) > 1:
        raise CommandSyntaxError(f".tlist {rest}", 7, ".tlist takes one name pattern")
    pattern = words[0] if words else "*"
    client = interp.client
    if current_only:
        pids = [client.system_objects.get_current_process_system_id()]
    else:
        pids = client.get_running_process_system_ids()
    flags = ProcDescFlags.DEFAULT if verbose else ProcDescFlags(0x3F)  # everything off
    for pid in pids:
        try:
            exe, description = client.get_running_process_description(pid, flags)
        except NoSuchProcessError:
            continue  # it exited since the list was taken
        name = os.path.basename(exe)
        if not fnmatch.fnmatchcase(name, pattern):
            continue
        interp.out(f" 0n{pid} {name}\n")
        if description:
            interp.out(f"       {description}\n")
