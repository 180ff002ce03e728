"""pydbg.commands.split: cutting a cdb command line into commands, and a command into its name.

Expected results are written out by hand from the rules in the module docstring (cdb's `;`,
quoting, `$$` and `*` comments). Commands tier: pure Python, no processes.
"""

from __future__ import annotations

import pytest

from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.split import split_commands, split_first_word


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ("g", ["g"]),
        ("r rax; g", ["r rax", "g"]),
        ("  r rax ;  g  ", ["r rax", "g"]),
        ("bp main;bl;g", ["bp main", "bl", "g"]),
        ("dd @rsp L4", ["dd @rsp L4"]),
    ],
)
def test_splits_at_semicolons_and_strips(line: str, commands: list[str]) -> None:
    assert split_commands(line) == commands


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ("", []),
        ("   ", []),
        (";", []),
        ("  ;  ; ", []),
        ("g;;k;", ["g", "k"]),
        (";;g", ["g"]),
    ],
)
def test_empty_commands_are_dropped(line: str, commands: list[str]) -> None:
    assert split_commands(line) == commands


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ('bp main "k; g"; g', ['bp main "k; g"', "g"]),
        ('.echo "a;b;c"', ['.echo "a;b;c"']),
        ('.echo "";g', ['.echo ""', "g"]),
        # The quotes stay: unquoting belongs to the command that takes the string.
        ('.echo "x"  ;  .echo "y"', ['.echo "x"', '.echo "y"']),
        # Whitespace inside a string is the command's, not trimmed.
        ('.echo "  a  "', ['.echo "  a  "']),
    ],
)
def test_semicolon_inside_quotes_does_not_split(line: str, commands: list[str]) -> None:
    assert split_commands(line) == commands


def test_escaped_quote_stays_inside_the_string() -> None:
    line = r'.echo "say \"hi; there\""; g'
    assert split_commands(line) == [r'.echo "say \"hi; there\""', "g"]


def test_escaped_backslash_before_closing_quote_ends_the_string() -> None:
    # `\\` is one escaped backslash, so the quote after it closes the string.
    line = r'.echo "dir\\"; g'
    assert split_commands(line) == [r'.echo "dir\\"', "g"]


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ("$$ just a comment", []),
        ("r rax $$ show rax; g", ["r rax", "g"]),
        ("$$ first; $$ second; k", ["k"]),
        ("g $$ trailing", ["g"]),
        ("$$comment;r", ["r"]),
        # A comment does not honour quotes: an odd quote in it is no string.
        ('$$ it"s; g', ["g"]),
        # Inside a string `$$` is just text.
        ('.echo "$$ x"; g', ['.echo "$$ x"', "g"]),
    ],
)
def test_dollar_dollar_comments_run_to_the_next_semicolon(line: str, commands: list[str]) -> None:
    assert split_commands(line) == commands


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ("$$<script.txt", ["$$<script.txt"]),
        ("$$>a< script.txt 1 2; g", ["$$>a< script.txt 1 2", "g"]),
        ("  $$>< script.txt", ["$$>< script.txt"]),
        # Not at the start of a command it is a comment again.
        ("r $$<x; g", ["r", "g"]),
    ],
)
def test_script_file_commands_are_not_comments(line: str, commands: list[str]) -> None:
    assert split_commands(line) == commands


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ("* whole line; g", []),
        ("*", []),
        ("   * indented; g", []),
        ("g; * the rest; k; bl", ["g"]),
        ('g;* "unterminated', ["g"]),
        # A `*` inside a command is an operator, not a comment.
        ("? 2 * 3; k", ["? 2 * 3", "k"]),
    ],
)
def test_star_comments_out_the_rest_of_the_line(line: str, commands: list[str]) -> None:
    assert split_commands(line) == commands


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        ("g\nk", ["g", "k"]),
        ("r rax; g\n\nbl", ["r rax", "g", "bl"]),
        ("* a comment line; x\nk", ["k"]),
        ("$$ comment\nk", ["k"]),
    ],
)
def test_newline_ends_commands_and_comments(text: str, commands: list[str]) -> None:
    assert split_commands(text) == commands


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ('.echo "abc', 6),
        ('g; .echo "x"; .echo "y', 20),
        (r'.echo "a\"', 6),  # the only quote after the opening one is escaped
        ('"', 0),
        ('.echo "a\nb"', 6),  # a string cannot span lines
    ],
)
def test_unterminated_string_reports_its_column(line: str, column: int) -> None:
    with pytest.raises(CommandSyntaxError) as info:
        split_commands(line)
    assert info.value.column == column
    assert info.value.text == line
    assert info.value.reason == "unterminated string"
    assert str(info.value) == f"syntax error at column {column} in {line!r}: unterminated string"
    assert isinstance(info.value, CommandError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("?1+2", ("?", "1+2")),
        ("? 1+2", ("?", "1+2")),
        ("?? sizeof(int)", ("??", "sizeof(int)")),
        ("t100", ("t", "100")),
        ("t", ("t", "")),
        ("r rax", ("r", "rax")),
        ("g", ("g", "")),
        ("G", ("G", "")),
        ("bp1 main", ("bp", "1 main")),
        ("dd@rsp", ("dd", "@rsp")),
        ("  dd  @rsp  L4  ", ("dd", "@rsp  L4")),
        (".reload /f", (".reload", "/f")),
        (".echo hello world", (".echo", "hello world")),
        (".", (".", "")),
        ("!peb", ("!peb", "")),
        ("!ext.help", ("!ext.help", "")),
        ("~*k", ("~", "*k")),
        ("~0 s", ("~", "0 s")),
        ("|", ("|", "")),
        ("", ("", "")),
        ("   ", ("", "")),
    ],
)
def test_split_first_word(command: str, expected: tuple[str, str]) -> None:
    assert split_first_word(command) == expected
