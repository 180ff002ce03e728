"""Command sequences: cutting a cdb command line into commands, and a command into its name
and arguments.

`split_commands` follows cdb's reading of a line:

- `;` separates commands; whitespace around each command is stripped and empty commands
  are dropped (`"g;;  k ;"` is `["g", "k"]`).
- A double-quoted string is one piece of text: a `;` inside it does not split, and a
  backslash escapes the character after it, so `\\"` does not end the string. Quotes and
  escapes are kept as written; unquoting is the business of the command that takes the
  string (`bp main "k; g"` keeps `"k; g"` for the breakpoint's command).
- `$$` starts a comment that runs up to the next `;`; the comment is dropped and splitting
  goes on after the `;`. At the start of a command `$$<` and `$$>` are cdb's script-file
  commands (`$$<`, `$$><`, `$$>a<`), not comments, and are kept.
- A command that begins with `*` comments out the rest of the line, `;` included.
- A newline ends a line: it separates commands like `;`, ends a `*` or `$$` comment, and may
  not occur inside a string. This lets a script file be split in one call.
- `.create` takes the rest of the line as the program's command line, `;` and quotes
  included (cdb: "all text after the .create command is taken as part of CommandLine").
- A string left open raises `CommandSyntaxError` with the column of its opening quote.

`split_first_word` finds the command name the way cdb does, where names need no space after
them (`t100` is `t` with `100`, `bp1 main` is `bp` with `1 main`):

- `?` and `??` (the two evaluate-expression commands) are names on their own: `?1+2`.
- `.` or `!` followed by letters, digits and `_` is a dot command (`.reload`) or an extension
  command (`!peb`; `!` names may also contain `.`, as in `!ext.help`).
- Otherwise a run of ASCII letters is the name (`g`, `bp`, `dd`).
- Anything else (`~`, `|`, `$`, a digit) is a one-character name: `~*k` is `~` with `*k`.

Names are returned as typed; cdb names are case-insensitive, so callers compare them folded.
"""

from __future__ import annotations

import re

from pydbg.commands.errors import CommandSyntaxError

__all__ = ["split_commands", "split_first_word"]

_SEPARATORS = ";\n"
# The name forms of the module docstring, tried in order; anything else is a one-character name.
_NAME = re.compile(r"\?\??|\.[A-Za-z0-9_]*|![A-Za-z0-9_.]*|[A-Za-z]+")
# Commands whose argument is the rest of the line.
_REST_OF_LINE = re.compile(r"\.create(?![A-Za-z0-9_])", re.IGNORECASE)


def split_commands(text: str) -> list[str]:
    """The commands of a cdb command line, in order, without comments and empty commands."""
    commands: list[str] = []
    current: list[str] = []
    quote_start = -1  # column of the open quote while inside a string, else -1
    i, length = 0, len(text)

    def flush() -> None:
        command = "".join(current).strip()
        if command:
            commands.append(command)
        current.clear()

    while i < length:
        ch = text[i]
        if quote_start >= 0:
            if ch == "\\" and i + 1 < length and text[i + 1] != "\n":
                current.append(text[i : i + 2])
                i += 2
                continue
            if ch == "\n":
                break  # reported below as an unterminated string
            if ch == '"':
                quote_start = -1
            current.append(ch)
            i += 1
            continue
        if ch in _SEPARATORS:
            flush()
            i += 1
        elif ch == '"':
            quote_start = i
            current.append(ch)
            i += 1
        elif ch == "*" and _blank(current):
            i = _end_of(text, i, "\n")
        elif ch == "." and _blank(current) and _REST_OF_LINE.match(text, i):
            end = _end_of(text, i, "\n")
            current.append(text[i:end])
            i = end
        elif text.startswith("$$", i) and not (
            text[i + 2 : i + 3] in ("<", ">") and _blank(current)
        ):
            i = _end_of(text, i, _SEPARATORS)
        else:
            current.append(ch)
            i += 1
    if quote_start >= 0:
        raise CommandSyntaxError(text, quote_start, "unterminated string")
    flush()
    return commands


def _blank(pieces: list[str]) -> bool:
    """Whether nothing but whitespace has been collected, i.e. we are at a command's start."""
    return all(piece.isspace() for piece in pieces)


def _end_of(text: str, start: int, stops: str) -> int:
    """Index of the first character of `stops` at or after `start`, or len(text)."""
    for i in range(start, len(text)):
        if text[i] in stops:
            return i
    return len(text)


def split_first_word(command: str) -> tuple[str, str]:
    """The command name and the rest of the command, both stripped; ("", "") for no command."""
    text = command.strip()
    if not text:
        return "", ""
    match = _NAME.match(text)
    name = match.group() if match else text[0]
    return name, text[len(name) :].strip()
