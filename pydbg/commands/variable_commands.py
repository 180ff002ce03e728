"""`dv`: the parameters and locals of the scope frame (IDebugSymbolGroup through
client.symbols.get_scope_symbol_group), following `.frame N`.

    dv                  name = value, names right-aligned as cdb aligns them
    dv /t               with the type: `struct node * head = 0x7ffe...`
    dv /V               with the location: `@0x7ffe4a5c  local = 3`, `@rdi  depth = 0`,
                        `<computed>` for values DWARF computes, `<optimized out>`
    dv /i               with the kind: `prv param`, `prv local`
    dv PATTERN          only names matching a wildcard (`dv de*`, `dv depth`)

Options combine (`dv /t /V`, `dv /tV`).  Parameters come first, then locals, the
innermost block's first.  Values are printed as gdb prints them (cdb's `0n3` and
`0x00000000`...` forms say less about chars, enums and strings): `100 'd'`, `GREEN`,
`0x5555... "text"`, `{x = 3, y = -4}`, `<optimized out>`.
"""

from __future__ import annotations

import fnmatch

from pydbg.commands.errors import CommandError
from pydbg.commands.interpreter import Interpreter, command
from pydbg.dwarf.errors import DwarfError

__all__: list[str] = []

_FLAGS = {"t": "types", "v": "locations", "i": "kinds"}


def _options(rest: str) -> tuple[set[str], str]:
    flags: set[str] = set()
    words = rest.split()
    patterns = []
    for word in words:
        if word.startswith(("/", "-")) and len(word) > 1:
            for letter in word[1:]:
                flag = _FLAGS.get(letter.lower())
                if flag is None:
                    raise CommandError(f"dv: unknown option /{letter} (options: /t /V /i)")
                flags.add(flag)
        else:
            patterns.append(word)
    if len(patterns) > 1:
        raise CommandError(f"dv: one name pattern at most, not {' '.join(patterns)!r}")
    return flags, patterns[0] if patterns else ""


@command(
    "dv",
    summary="Show the parameters and locals of the scope frame",
    syntax="dv [/t] [/V] [/i] [pattern]",
    example="dv /t",
)
def _display_variables(interp: Interpreter, rest: str) -> None:
    flags, pattern = _options(rest)
    try:
        group = interp.client.symbols.get_scope_symbol_group()
    except DwarfError as exc:
        raise CommandError(f"dv: {exc}") from None
    rows = []
    for entry in group.entries():
        if pattern and not fnmatch.fnmatchcase(entry.name, pattern):
            continue
        label = f"{entry.type_name} {entry.name}" if "types" in flags else entry.name
        prefix = ""
        if "kinds" in flags:
            prefix += "prv param  " if entry.is_argument else "prv local  "
        if "locations" in flags:
            prefix += f"{entry.location_text:<20} "
        rows.append((prefix, label, entry.value_text))
    if not rows:
        what = f"matching {pattern!r} " if pattern else ""
        interp.out(f"no parameters or locals {what}in {group.function}\n")
        return
    width = max(len(label) for _, label, _ in rows)
    for prefix, label, value in rows:
        interp.out(f"{prefix}{label:>{width}} = {value}\n")
