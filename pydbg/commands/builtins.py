"""The built-in cdb commands.

Execution: `g`, `gh`, `gn` (go; handled / not handled), `t [count]` (trace: step into),
`p [count]` (step over), `tb` (to the next branch).  Counts are expressions (`t 0n100`, or
`t 100` which in the default radix 16 is 256 steps, as in cdb).
Session: `q` (end, killing the targets), `qd` (end, detaching), `.detach`, `.kill`.
State: `r` (show all registers, or `r rax`, `r rax, rbx`; set with `r rax=1`, `r $t0=5`),
`? expr` (evaluate), `~` (threads; `~Ns` selects thread N), `|` (processes; `|Ns`),
`.lastevent`, `.echo text`, `n [radix]`.
Filters: `sx` (list), `sxe` / `sxd` / `sxn` / `sxi` `[-h] [-c "cmd"] [-c2 "cmd"] name|*`,
`sx-` (commands only), `sxr` (reset).
"""

from __future__ import annotations

import re

from pydbg.addresses import hex64
from pydbg.commands.context import user_register_index
from pydbg.commands.errors import CommandSyntaxError, ExpressionError
from pydbg.commands.expression import parse_number
from pydbg.commands.interpreter import Interpreter, Quit, Run, command
from pydbg.constants import DebugEnd, DebugStatus, FilterHandling, FilterStatus
from pydbg.engine.disassembler import MAX_INSN, decode, render
from pydbg.errors import PydbgError
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


# -- session ------------------------------------------------------------------------------------


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


@command(
    ".detach",
    summary="Detach from the targets: they run on, untraced",
    syntax=".detach",
    example=".detach",
)
def _detach(interp: Interpreter, rest: str) -> Quit:
    interp.client.detach_processes()
    return Quit()


@command(".kill", summary="Kill the targets", syntax=".kill", example=".kill")
def _kill(interp: Interpreter, rest: str) -> Quit:
    interp.client.terminate_processes()
    return Quit()


# -- state --------------------------------------------------------------------------------------

_FLAG_NAMES = (  # (bit, set, clear), in cdb's order
    (11, "ov", "nv"),
    (10, "dn", "up"),
    (9, "ei", "di"),
    (7, "ng", "pl"),
    (6, "zr", "nz"),
    (4, "ac", "na"),
    (2, "pe", "po"),
    (0, "cy", "nc"),
)


def register_dump(interp: Interpreter) -> str:
    """cdb's `r` display, with the instruction at the pc."""
    regs = interp.client.registers
    v = {name: regs.get_value(name) for name in (
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rip", "rsp", "rbp", "r8", "r9", "r10",
        "r11", "r12", "r13", "r14", "r15", "efl", "cs", "ss", "ds", "es", "fs", "gs",
    )}  # fmt: skip

    def row(*names: str) -> str:
        return " ".join(f"{n:>3}={v[n]:016x}" for n in names)

    efl = v["efl"]
    flags = " ".join(on if efl >> bit & 1 else off for bit, on, off in _FLAG_NAMES)
    lines = [
        row("rax", "rbx", "rcx"),
        row("rdx", "rsi", "rdi"),
        row("rip", "rsp", "rbp"),
        row("r8", "r9", "r10"),
        row("r11", "r12", "r13"),
        row("r14", "r15"),
        f"iopl={efl >> 12 & 3:<9} {flags}",
        "  ".join(f"{s}={v[s]:04x}" for s in ("cs", "ss", "ds", "es", "fs", "gs"))
        + f"{'':13}efl={efl:08x}",
        disassemble_at(interp, v["rip"]),
    ]
    return "\n".join(lines) + "\n"


def disassemble_at(interp: Interpreter, address: int) -> str:
    """One line: address, bytes, instruction (cdb's `u` format)."""
    try:
        code = interp.client.data_spaces.read_virtual(address, MAX_INSN)
    except PydbgError:
        return f"{hex64(address)} ??              ???"
    return render(decode(code, address, 1)[0], lambda target: None)


_ASSIGN = re.compile(r"^\s*(@?\$?[A-Za-z_][\w]*)\s*(?:=\s*(.*))?$", re.S)


@command(
    "r",
    summary="Show or set registers",
    syntax="r [name[=value][, name[=value]...]]",
    example="r rax, rip; r rax=0x10",
)
def _registers(interp: Interpreter, rest: str) -> None:
    if not rest.strip():
        interp.out(register_dump(interp))
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
    return interp.client.registers.get_value(name)


def _write_register(interp: Interpreter, name: str, value: int) -> None:
    lowered = name.lower()
    index = user_register_index(lowered[1:]) if lowered.startswith("$") else None
    if index is not None:
        interp.user_registers[index] = value
    elif lowered == "$ip":
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
    objects = interp.client.system_objects
    engine_id = _selected("~", rest)
    if engine_id is not None:
        objects.set_current_thread_id(engine_id)
        return
    current = objects.get_current_thread_id()
    pid = objects.get_current_process_system_id()
    for engine_id, tid in zip(*objects.get_thread_ids_by_index(), strict=True):
        mark = "." if engine_id == current else " "
        interp.out(f"{mark}{engine_id:3}  Id: {pid:x}.{tid:x}\n")


@command("|", summary="List the processes, or select one", syntax="| | |Ns", example="|0s")
def _processes(interp: Interpreter, rest: str) -> None:
    objects = interp.client.system_objects
    engine_id = _selected("|", rest)
    if engine_id is not None:
        objects.set_current_process_id(engine_id)
        return
    current = objects.get_current_process_id()
    for engine_id, pid in zip(*objects.get_process_ids_by_index(), strict=True):
        mark = "." if engine_id == current else " "
        interp.out(f"{mark}{engine_id:3}\tid: {pid:x}\n")


@command(".lastevent", summary="Describe the last event", syntax=".lastevent", example=".lastevent")
def _last_event(interp: Interpreter, rest: str) -> None:
    info = interp.client.control.get_last_event_information()
    interp.out(f"Last event: {info.description if info else 'none'}\n")


# -- event filters ------------------------------------------------------------------------------

_SX_OPTION = {"e": FilterStatus.BREAK, "d": FilterStatus.SECOND_CHANCE_BREAK,
              "n": FilterStatus.OUTPUT, "i": FilterStatus.IGNORE}  # fmt: skip
_SX_WORDS = {FilterStatus.BREAK: "break", FilterStatus.SECOND_CHANCE_BREAK: "second-chance break",
             FilterStatus.OUTPUT: "output", FilterStatus.IGNORE: "ignore"}  # fmt: skip
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
    control = interp.client.control
    specific, exceptions, arbitrary = control.get_number_event_filters()
    rows: list[SpecificFilterParameters | ExceptionFilterParameters] = [
        *control.get_specific_filter_parameters(0, specific),
        *control.get_exception_filter_parameters(start=specific, count=exceptions + arbitrary),
    ]
    for index, params in enumerate(rows):
        name = control.get_event_filter_name(index)
        handling = (
            " - handled"
            if params.continue_option == FilterHandling.GO_HANDLED
            else " - not handled"
        )
        if isinstance(params, SpecificFilterParameters):
            handling = ""
        interp.out(f"{name:>8} - {params.text} - {_SX_WORDS[params.execution_option]}{handling}\n")


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
