""".help: what the commands are, from what each registered of itself (@command's summary,
syntax and example), and the closest names to a misspelt one.

    .help          every command, one line each (aliases on the same line)
    .help NAME     its summary, syntax and an example (`.help bp`, `.help ~`)

`suggest(name)` gives the known names closest to an unknown one (difflib), for the front
ends' "unknown command" errors.
"""

from __future__ import annotations

from pydbg.commands.errors import CommandError
from pydbg.commands.interpreter import CommandHelp, Handler, Interpreter, command
from pydbg.commands.split import split_first_word

__all__ = ["KEYS", "describe_command", "list_commands", "suggest"]

# Commands registered in a loop rather than with a decorator: what .help says of them, unless
# their module registers its own words.
_FALLBACK = {
    "tc": CommandHelp("Trace (into calls) to the next call", "tc [count]", "tc"),
    "pc": CommandHelp("Step (over calls) to the next call", "pc [count]", "pc 2"),
    "tt": CommandHelp("Trace (into calls) to the next return", "tt [count]", "tt"),
    "pt": CommandHelp("Step (over calls) to the next return", "pt [count]", "pt"),
    "th": CommandHelp("Trace to the next branching instruction", "th [count]", "th"),
    "ph": CommandHelp("Step (over calls) to the next branching instruction", "ph [count]", "ph"),
    "sxe": CommandHelp(
        "Break on an event, signal or system call (sys, sys:openat; sxe -h: go on handled)",
        'sxe [-h] [-c "cmds"] [-c2 "cmds"] name',
        "sxe sys:openat",
    ),
    "sxd": CommandHelp(
        "Break on an event or signal at its second chance only",
        'sxd [-h] [-c "cmds"] [-c2 "cmds"] name',
        "sxd av",
    ),
    "sxn": CommandHelp(
        "Only report an event or signal, do not break", 'sxn [-c "cmds"] name', "sxn e000000a"
    ),
    "sxi": CommandHelp("Ignore an event or signal", 'sxi [-c "cmds"] name', "sxi cc"),
    "sx-": CommandHelp(
        "Set only the commands of an event filter", 'sx- -c "cmds" name', 'sx- -c "k" av'
    ),
}

# What the interactive prompt adds to the commands.
KEYS = """\
At the pydbg prompt:
  Tab          complete command names, registers (r ri<Tab>, @r<Tab>), module!symbol,
               breakpoint ids (bc <Tab>) and file paths (/, ./, ~/)
  Enter        on an empty line repeats t, p, g... (from where they stopped) and u, d*
  Up / Ctrl-R  the history of earlier sessions; Ctrl-R searches it
  Ctrl-C       while the program runs: break in (Ctrl-Z too); at the prompt: clear the line
  Ctrl-D, q    quit (a launched program is killed, an attached one detached); qd detaches
  .restart     run the program again, with the same arguments and breakpoints
.help NAME shows a command's syntax and an example.
"""


def _groups() -> list[list[str]]:
    """Command names grouped by handler (aliases together), in name order."""
    by_handler: dict[Handler, list[str]] = {}
    for name in sorted(Interpreter.commands):
        by_handler.setdefault(Interpreter.commands[name], []).append(name)
    return sorted(by_handler.values(), key=lambda names: names[0])


def _help_of(name: str) -> CommandHelp | None:
    return Interpreter.help.get(name) or _FALLBACK.get(name)


def list_commands() -> str:
    """Every command, one line each."""
    groups = _groups()
    labels = [", ".join(names) for names in groups]
    width = max(len(label) for label in labels)
    lines = []
    for label, names in zip(labels, groups, strict=True):
        found = next((h for h in map(_help_of, names) if h is not None), None)
        summary = found.summary if found else "(no description)"
        lines.append(f"  {label:<{width}}  {summary}\n")
    return "".join(lines)


def suggest(name: str, count: int = 3) -> list[str]:
    """The known command names closest to `name`, best first."""
    import difflib  # (only when a name is unknown: kept off the startup path)

    return difflib.get_close_matches(name.lower(), list(Interpreter.commands), count, 0.6)


def describe_command(name: str) -> str:
    """What `.help NAME` prints."""
    handler = Interpreter.commands.get(name.lower())
    if handler is None:
        close = suggest(name)
        hint = f"; did you mean {', '.join(close)}?" if close else "; .help lists them all"
        raise CommandError(f"no command is named {name!r}{hint}")
    aliases = [n for n in sorted(Interpreter.commands) if Interpreter.commands[n] is handler]
    found = _help_of(name.lower()) or next(
        (h for h in map(_help_of, aliases) if h is not None), None
    )
    label = ", ".join(aliases)
    if found is None:
        return f"{label}: no description\n"
    text = f"{label}: {found.summary}\n"
    if found.syntax:
        text += f"  syntax:  {found.syntax}\n"
    if found.example:
        text += f"  example: {found.example}\n"
    return text


@command(
    ".help",
    summary="List the commands, or show one's syntax and an example",
    syntax=".help [command]",
    example=".help bp",
)
def _help(interp: Interpreter, rest: str) -> None:
    topic = rest.strip()
    if topic:
        name, _ = split_first_word(topic)
        interp.out(describe_command(name or topic))
        return
    interp.out("Commands (`;` separates several: bp main; g; k):\n")
    interp.out(list_commands())
    interp.out(KEYS)
