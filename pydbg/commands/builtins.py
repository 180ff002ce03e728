"""The built-in cdb commands.

Execution: `g`, `gh`, `gn` (go; handled / not handled), `t [count]` (trace: step into),
`p [count]` (step over), `tb` (to the next branch).  Counts are expressions (`t 0n100`, or
`t 100` which in the default radix 16 is 256 steps, as in cdb).
State: `r` (show all registers, or `r rax`, `r rax, rbx`; set with `r rax=1`, `r $t0=5`),
`? expr` (evaluate), `~` (threads; `~Ns` selects thread N), `.lastevent`, `.echo text`,
`n [radix]`.  Elsewhere: what `r` and a stop show (pydbg.commands.state_display, with
`.prompt_allow`), the `~` selectors such as `~*k` (thread_commands), `.frame`
(frame_commands), `.exr -1` and the `sx` table (event_commands), and the processes:
`|`, `.attach`, `.create`, `.detach`, `.kill`, `q` (process_commands).
Filters: `sx` (list), `sxe` / `sxd` / `sxn` / `sxi` `[-h] [-c "cmd"] [-c2 "cmd"] name|*`,
`sx-` (commands only), `sxr` (reset).
"""

from __future__ import annotations

import re

from pydbg.addresses import hex64
from pydbg.commands.context import user_register_index
from pydbg.commands.errors import CommandSyntaxError, ExpressionError
from pydbg.commands.event_commands import last_event, sx_table
from pydbg.commands.expression import parse_number
from pydbg.commands.interpreter import Interpreter, Run, command
from pydbg.commands.state_display import PROMPT_PARTS, state_text
from pydbg.commands.thread_commands import threads_command
from pydbg.constants import DebugStatus, FilterHandling, FilterStatus
from pydbg.control import DEBUG_CURRENT_DEFAULT
from pydbg.filters import ExceptionFilterParameters, SpecificFilterParameters


def step_count(interp: Interpreter, rest: str) -> int:
    """The count of a step command (`t 0n10`): 1 when none is given."""
    if not rest.strip():
        return 1
    count = interp.evaluate(rest)
    if count <= 0:
        raise ExpressionError(f"a step count must be positive, not {count}")
    return count


def _no_arguments(name: str, rest: str) -> None:
    if rest.strip():
        raise CommandSyntaxError(f"{name} {rest}", len(name) + 1, f"{name} takes no arguments")


# -- execution ----------------------------------------------------------------------------------


@command("g", summary="Go: run the targets until an event breaks in", syntax="g", example="g")
def _go(interp: Interpreter, rest: str) -> Run:
    _no_arguments("g", rest)
    return Run(DebugStatus.GO)


@command(
    "gh",
    summary="Go, the exception handled (its signal is not delivered)",
    syntax="gh",
    example="gh",
)
def _go_handled(interp: Interpreter, rest: str) -> Run:
    _no_arguments("gh", rest)
    return Run(DebugStatus.GO_HANDLED)


@command(
    "gn",
    summary="Go, the exception not handled (its signal is delivered)",
    syntax="gn",
    example="gn",
)
def _go_not_handled(interp: Interpreter, rest: str) -> Run:
    _no_arguments("gn", rest)
    return Run(DebugStatus.GO_NOT_HANDLED)


@command("t", summary="Trace: step instructions, into calls", syntax="t [count]", example="t 3")
def _trace(interp: Interpreter, rest: str) -> Run:
    return Run(DebugStatus.STEP_INTO, step_count(interp, rest))


@command("p", summary="Step instructions, over calls", syntax="p [count]", example="p 0n10")
def _step_over(interp: Interpreter, rest: str) -> Run:
    return Run(DebugStatus.STEP_OVER, step_count(interp, rest))


@command("tb", summary="Trace to the next branch taken", syntax="tb [count]", example="tb")
def _branch(interp: Interpreter, rest: str) -> Run:
    return Run(DebugStatus.STEP_BRANCH, step_count(interp, rest))


# -- state --------------------------------------------------------------------------------------

_ASSIGN = re.compile(r"^\s*(@?\$?[A-Za-z_][\w]*)\s*(?:=\s*(.*))?$", re.S)


@command(
    "r",
    summary="Show or set registers",
    syntax="r [name[=value][, name[=value]...]]",
    example="r rax, rip; r rax=0x10",
)
def _registers(interp: Interpreter, rest: str) -> None:
    if not rest.strip():  # cdb's `r`: the registers, the symbol line and the instruction
        interp.out(state_text(interp, DEBUG_CURRENT_DEFAULT, PROMPT_PARTS.keys()))
        return
    for part in _split_top_level_commas(rest):
        match = _ASSIGN.match(part)
        if match is None:
            raise CommandSyntaxError(part, 0, "expected a register name, or name=value")
        name, value_text = match.group(1).removeprefix("@"), match.group(2)
        if value_text is None:
            interp.out(f"{name}={_read_register(interp, name):016x}\n")
        else:
            _write_register(interp, name, interp.evaluate(value_text))


def _split_top_level_commas(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p for p in (p.strip() for p in parts) if p]


def _read_register(interp: Interpreter, name: str) -> int:
    if name.startswith("$"):
        from pydbg.commands.context import CommandContext

        return CommandContext(interp).pseudo_register(name[1:].lower())
    return interp.client.registers.get_scope_value(name)


def _write_register(interp: Interpreter, name: str, value: int) -> None:
    lowered = name.lower()
    index = user_register_index(lowered[1:]) if lowered.startswith("$") else None
    if index is not None:
        interp.user_registers[index] = value
        return
    frame = interp.client.symbols.get_current_scope_frame_index()
    if frame:
        raise ExpressionError(
            f"cannot set {name} in frame {frame:#x}: registers are written in frame 0 "
            "(.frame 0 first)"
        )
    if lowered == "$ip":
        interp.client.registers.set_value("rip", value)
    elif lowered.startswith("$"):
        raise ExpressionError(f"pseudo-register {name} cannot be written")
    else:
        interp.client.registers.set_value(name, value)


@command("?", summary="Evaluate a MASM expression", syntax="? expression", example="? @rsp+0x10")
def _evaluate(interp: Interpreter, rest: str) -> None:
    if not rest.strip():
        raise CommandSyntaxError("?", 1, "? needs an expression")
    value = interp.evaluate(rest)
    signed = value - (1 << 64) if value >> 63 else value
    interp.out(f"Evaluate expression: {signed} = {hex64(value)}\n")


@command(".echo", summary="Print a line of text", syntax=".echo text", example=".echo hello")
def _echo(interp: Interpreter, rest: str) -> None:
    text = rest.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    interp.out(text + "\n")


@command(
    "n", summary="Show or set the default radix (8, 10 or 16)", syntax="n [radix]", example="n 10"
)
def _radix(interp: Interpreter, rest: str) -> None:
    if rest.strip():
        text = rest.strip()
        radix = parse_number(text, 10)
        if radix not in (8, 10, 16):
            raise ExpressionError(f"radix must be 8, 10 or 16, not {text!r}")
        interp.radix = radix
    interp.out(f"base is {interp.radix}\n")


_SELECT = re.compile(r"\s*([0-9]+)\s*s\s*")


def _selected(name: str, rest: str) -> int | None:
    """`~Ns` / `|Ns`: the engine id to make current; None for a plain listing."""
    match = _SELECT.fullmatch(rest)
    if match:
        return parse_number(match.group(1), 10)
    if rest.strip():
        raise CommandSyntaxError(f"{name}{rest}", 1, f"expected {name} or {name}Ns")
    return None


@command("~", summary="List the threads, or select one", syntax="~ | ~Ns", example="~1s")
def _threads(interp: Interpreter, rest: str) -> None:
    threads_command(interp, rest)


@command(".lastevent", summary="Describe the last event", syntax=".lastevent", example=".lastevent")
def _last_event(interp: Interpreter, rest: str) -> None:
    last_event(interp, rest)


# -- event filters ------------------------------------------------------------------------------

_SX_OPTION = {"e": FilterStatus.BREAK, "d": FilterStatus.SECOND_CHANCE_BREAK,
              "n": FilterStatus.OUTPUT, "i": FilterStatus.IGNORE}  # fmt: skip
_SX_ARGS = re.compile(r'\s*(-h|-c2?\s+"(?:[^"\\]|\\.)*")')


@command(
    "sx",
    summary="List the event filters: what each event or signal does",
    syntax="sx",
    example="sx",
)
def _sx_list(interp: Interpreter, rest: str) -> None:
    if rest.startswith("-"):  # `sx-` reaches here as `sx` + "-..." (names are letters)
        Interpreter.commands["sx-"](interp, rest[1:])
        return
    if rest.strip():
        raise CommandSyntaxError(f"sx {rest}", 3, "sx takes no arguments (sxe, sxd ... set)")
    interp.out(sx_table(interp))


def _sx_set(option: str) -> None:
    def handler(interp: Interpreter, rest: str) -> None:
        filters = interp.client.control
        handle, commands, position = False, {}, 0
        while True:
            match = _SX_ARGS.match(rest, position)
            if not match:
                break
            token = match.group(1)
            if token == "-h":
                handle = True
            else:
                key, _, quoted = token.partition(" ")
                commands[key] = quoted.strip()[1:-1].replace('\\"', '"')
            position = match.end()
        name = rest[position:].strip()
        if not name:
            raise CommandSyntaxError(f"sx{option} {rest}", len(rest) + 4, "expected a filter name")
        index = filters.get_event_filter_index(name)
        if "-c" in commands:
            filters.set_event_filter_command(index, commands["-c"])
        if "-c2" in commands:
            filters.set_exception_filter_second_command(index, commands["-c2"])
        if option == "-":
            return
        handling_alias = name.lower() in ("cc", "hc", "bpec", "ssec")
        if index >= sum(filters.get_number_event_filters()):  # a syscall row (sys, sys:NAME)
            params = filters.get_syscall_filter_parameters(index)
            filters.set_syscall_filter_parameters(
                index, SpecificFilterParameters(_SX_OPTION[option], params.continue_option)
            )
            return
        specific = index < filters.get_number_event_filters()[0]
        if specific:
            params = filters.get_specific_filter_parameters(index, 1)[0]
            filters.set_specific_filter_parameters(
                index, [SpecificFilterParameters(_SX_OPTION[option], params.continue_option)]
            )
            return
        code = filters.get_exception_filter_parameters(start=index, count=1)[0]
        execution, handling = code.execution_option, code.continue_option
        if handle or handling_alias:
            handling = FilterHandling.GO_HANDLED if option == "e" else FilterHandling.GO_NOT_HANDLED
        else:
            execution = _SX_OPTION[option]
        filters.set_exception_filter_parameters(
            [ExceptionFilterParameters(execution, handling, code.exception_code)]
        )

    Interpreter.commands[f"sx{option}"] = handler


for _option in ("e", "d", "n", "i", "-"):
    _sx_set(_option)


@command("sxr", summary="Reset every event filter to its default", syntax="sxr", example="sxr")
def _sx_reset(interp: Interpreter, rest: str) -> None:
    interp.client.control.reset_event_filters()
