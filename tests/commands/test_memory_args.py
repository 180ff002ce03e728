"""The pieces of the memory commands that need no target: the L marker, quoted strings,
value encoding, and that every memory command says what .help shows of it."""

from __future__ import annotations

import pytest

import pydbg.client  # noqa: F401 - registers the commands
from pydbg.commands.errors import CommandSyntaxError
from pydbg.commands.interpreter import Interpreter
from pydbg.commands.memory_args import (
    ValueTooLargeError,
    encode_values,
    parse_string,
    starts_with_length,
)
from pydbg.errors import NoTargetError

MEMORY_COMMANDS = [
    "db",
    "dw",
    "dd",
    "dc",
    "dq",
    "dp",
    "dps",
    "dqs",
    "dds",
    "da",
    "du",
    "eb",
    "ew",
    "ed",
    "eq",
    "ep",
    "ea",
    "eza",
    "eu",
    "ezu",
    "f",
    "s",
    "c",
    "!address",
]


@pytest.mark.parametrize("text", ["L20", "l 20", "L?20", "L-4", "L 0n32", "Lff", "L@$t0"])
def test_length_markers(text):
    assert starts_with_length(text)


@pytest.mark.parametrize("text", ["len+4", "label", "Lx", "20", "", "@rsp"])
def test_words_that_are_not_length_markers(text):
    assert not starts_with_length(text)


def test_strings():
    assert parse_string('"abc"') == "abc"
    assert parse_string(' "a \\"b\\" \\\\ \\n" ') == 'a "b" \\ \\n'  # only \" and \\ escape
    for bad in ("abc", '"abc', '"a" b', ""):
        with pytest.raises(CommandSyntaxError):
            parse_string(bad)


def test_values_fit_their_size_unsigned_or_negative():
    assert encode_values([0xFF, (1 << 64) - 1], 1) == b"\xff\xff"  # -1 is ff
    assert encode_values([0x1234], 2) == b"\x34\x12"
    assert encode_values([(1 << 64) - 0x80], 1) == b"\x80"  # -0x80 fits a signed byte
    for value, size in ((0x100, 1), ((1 << 64) - 0x81, 1), (1 << 32, 4)):
        with pytest.raises(ValueTooLargeError):
            encode_values([value], size)


@pytest.mark.parametrize("name", MEMORY_COMMANDS)
def test_every_memory_command_has_help(name):
    assert name in Interpreter.commands
    help = Interpreter.help[name]
    assert help.summary and help.syntax.startswith(name) and help.example.startswith(name)


@pytest.mark.parametrize("command", ["db 0", "db", "eb 0 1", "f 0 L4 1", "s 0 L10 1", "!address"])
def test_without_a_target(client, command):
    with pytest.raises(NoTargetError):
        client.control.execute(command)
