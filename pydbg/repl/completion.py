"""Tab completion at the pydbg prompt: command names, register names, `module!symbol`,
breakpoint ids and file paths.

What is completed depends on the word under the cursor and on the command it belongs to
(the text after the last `;`):

    the first word                    a command name            (.he -> .help)
    a word starting with @            a register                (@ri -> @rip)
    a word after `r`                  a register                (r ri -> r rip)
    a word with a `!`                 a symbol of that module   (libc_so!memc -> memcpy)
    any other word                    a module name and `!`     (libc -> libc_so!)
    a word after bc / bd / be         a breakpoint id
    a word starting with / ./ ../ ~   a file path

Symbols come from the live module list (client.symbols): `x module!prefix*`, which the
symbol table answers with a binary search of its sorted names.  What a prefix found is kept
(per module, base and path), so typing on and pressing Tab again filters it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from pydbg.commands.interpreter import Interpreter
from pydbg.commands.split import split_first_word
from pydbg.errors import PydbgError
from pydbg.registers import REGISTER_NAMES

if TYPE_CHECKING:
    from pydbg.client import DebugClient

__all__ = ["DebuggerCompleter", "SymbolNames"]

# The word being completed: what an expression can hold up to the cursor.
_WORD = re.compile(r"[@$\w.!]*$")
_PATH_START = ("/", "./", "../", "~")
_BREAKPOINT_LISTS = {"bc", "bd", "be"}
_REGISTER_COMMANDS = {"r"}


class SymbolNames:
    """Symbol names by module and prefix, kept for the module's life at its address."""

    def __init__(self, client: DebugClient) -> None:
        self._client = client
        # (module name, base, path) -> {prefix: sorted names that start with it}
        self._found: dict[tuple[str, int, str], dict[str, list[str]]] = {}

    def modules(self) -> list[tuple[str, int, str]]:
        """(module name, base, path) of the current process's modules."""
        try:
            return [(m.module_name, m.base, m.image_name) for m in self._client.symbols.modules()]
        except PydbgError:
            return []

    def with_prefix(self, module: str, prefix: str) -> list[str]:
        """The names of `module` (case-insensitive) that start with `prefix`, sorted."""
        key = next((k for k in self.modules() if k[0].lower() == module.lower()), None)
        if key is None or any(ch in prefix for ch in "*?["):
            return []
        found = self._found.setdefault(key, {})
        # A shorter prefix already looked up holds every answer: filter it.
        for cut in range(len(prefix), -1, -1):
            known = found.get(prefix[:cut])
            if known is not None:
                start = bisect.bisect_left(known, prefix)
                end = bisect.bisect_left(known, prefix + "\U0010ffff")
                return known[start:end]
        try:
            # The symbol table answers a prefix pattern by a binary search of its names.
            hits = self._client.symbols.get_symbols_matching(f"{key[0]}!{prefix}*")
        except PydbgError:
            hits = []
        names = sorted({qualified.partition("!")[2] for qualified, _ in hits})
        found[prefix] = names
        return names


class DebuggerCompleter(Completer):
    """prompt_toolkit's Completer for the pydbg prompt (see the module docstring)."""

    def __init__(self, client: DebugClient, extra_commands: Iterable[str] = ()) -> None:
        self._client = client
        self._extra = tuple(extra_commands)
        self.symbols = SymbolNames(client)
        self._paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        text = document.text_before_cursor
        segment = _last_command(text).lstrip()
        name, rest = split_first_word(segment)
        if not rest and segment == name:
            yield from self._commands(name)
            return
        token = re.split(r"\s", text)[-1]
        if token.startswith(_PATH_START):
            yield from self._paths.get_completions(Document(token, len(token)), complete_event)
            return
        word = _WORD.search(text)
        current = word.group(0) if word else ""
        command = name.lower()
        if command in _BREAKPOINT_LISTS:
            yield from self._breakpoint_ids(current)
        elif current.startswith("@"):
            yield from _matches(current, ("@" + r for r in REGISTER_NAMES))
        elif "!" in current:
            module, _, prefix = current.partition("!")
            for symbol in self.symbols.with_prefix(module, prefix):
                yield Completion(f"{module}!{symbol}", -len(current))
        elif command in _REGISTER_COMMANDS:
            yield from _matches(current, REGISTER_NAMES)
        elif current:
            modules = sorted({m[0] + "!" for m in self.symbols.modules()})
            yield from _matches(current, modules, fold=True)

    def _commands(self, prefix: str) -> Iterator[Completion]:
        names = sorted(set(Interpreter.commands) | set(self._extra))
        yield from _matches(prefix, names, fold=True)

    def _breakpoint_ids(self, prefix: str) -> Iterator[Completion]:
        try:
            breakpoints = self._client.control.breakpoints()
        except PydbgError:
            return
        for bp in breakpoints:
            text = str(bp.get_id())
            if text.startswith(prefix):
                where = bp.get_offset_expression() or f"{bp.get_offset():#x}"
                yield Completion(text, -len(prefix), display_meta=where)


def _matches(prefix: str, candidates: Iterable[str], fold: bool = False) -> Iterator[Completion]:
    key = prefix.lower() if fold else prefix
    for candidate in candidates:
        if (candidate.lower() if fold else candidate).startswith(key):
            yield Completion(candidate, -len(prefix))


def _last_command(text: str) -> str:
    """The text after the last `;` outside a string."""
    start, quoted, escaped = 0, False, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = quoted
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            start = index + 1
    return text[start:]
