"""What a stop shows (Interpreter.output_current_state and counted steps), on the `state`
target: registers, the `module!symbol+off [file @ line]:` line and the next instruction, as
cdb shows them after a step and at a breakpoint.  Oracles: capstone on the file's bytes for
where each step lands, addr2line for the lines."""

from __future__ import annotations

import pytest

from pydbg.commands.errors import CommandSyntaxError
from pydbg.constants import OutputMask
from tests.api.helpers import hex64, wait
from tests.commands.state_support import (
    HEADER,
    REGISTER_ROW,
    addr2line,
    break_at,
    instructions,
    start,
)


def test_each_step_of_t_3_shows_registers_symbol_line_and_instruction(client, output, targets):
    binary = targets["state"]
    pid = start(client, output, binary, "steps")
    break_at(client, output, "step_body")
    bias = binary.bias(pid)
    code = instructions(binary, "step_body")
    client.control.execute("t 3; ? 0n1")
    text = output.take()
    dumps = text.split("rax=")[1:]
    assert len(dumps) == 3
    assert len(REGISTER_ROW.findall(text)) == 3
    headers = HEADER.findall(text)
    assert len(headers) == 3
    for step, (header, dump) in enumerate(zip(headers, dumps, strict=True), start=1):
        link = code[step][0]
        module, name, offset, file, line = header
        assert (module, name) == ("state_pie", "step_body")
        assert int(offset, 16) == link - binary.sym("step_body")
        assert (file, int(line)) == addr2line(binary, link)
        assert f"rip={link + bias:016x}" in dump
        # The instruction line: its address and mnemonic, as the file's bytes decode.
        assert f"\n{hex64(link + bias)} " in dump
        assert f" {code[step][1]} " in dump.split(f"{hex64(link + bias)} ")[1]
    assert text.endswith("Evaluate expression: 1 = 00000000`00000001\n")


def test_the_last_counted_step_only_arms_and_the_front_end_shows_it(client, output, targets):
    binary = targets["state"]
    pid = start(client, output, binary, "steps")
    break_at(client, output, "step_body")
    client.control.execute("p 2")
    assert output.take().count("rax=") == 1  # the first step; the second is armed
    assert wait(client)
    client.control.output_current_state()
    link = instructions(binary, "step_body")[2][0]
    assert f"rip={link + binary.bias(pid):016x}" in output.take()


def test_a_breakpoint_stop_shows_the_hit_then_the_state(client, output, targets):
    binary = targets["state"]
    pid = start(client, output, binary, "steps")
    client.control.execute("bp state_stop; g; ? 0n2")
    text = output.take()
    hit = text.index("Breakpoint 0 hit")
    assert text.index("rax=", hit) > hit
    assert "\nstate_pie!state_stop [" in text
    address = binary.addr(pid, "state_stop")
    assert f"rip={address:016x}" in text


def test_prompt_allow_chooses_the_parts(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "steps")
    break_at(client, output, "step_body")
    client.control.execute(".prompt_allow -reg -src -ea")
    listing = output.take()
    assert "Do not allow the following information to be displayed at the prompt:" in listing
    client.control.execute("t; ? 0")
    text = output.take()
    assert "rax=" not in text and " @ " not in text
    assert "state_pie!step_body+0x" in text
    client.control.execute(".prompt_allow +reg +src; t; ? 0")
    text = output.take()
    assert REGISTER_ROW.search(text) and " @ " in text
    # `r` always shows everything, whatever .prompt_allow says.
    client.control.execute(".prompt_allow -reg -sym -dis; r")
    assert REGISTER_ROW.search(output.take())
    with pytest.raises(CommandSyntaxError, match="item one of sym, dis, ea, reg, src"):
        client.control.execute(".prompt_allow -bogus")


def test_with_state_output_off_a_counted_step_runs_in_one_piece(client, output, targets):
    binary = targets["state"]
    pid = start(client, output, binary, "steps")
    break_at(client, output, "step_body")
    client.set_output_mask(client.get_output_mask() & ~OutputMask.PROMPT_REGISTERS)
    client.control.execute("t 3; ? @$ip")
    link = instructions(binary, "step_body")[3][0]
    address = link + binary.bias(pid)
    assert output.take() == f"Evaluate expression: {address} = {hex64(address)}\n"


def test_a_breakpoint_during_counted_steps_drops_the_steps_left(client, output, targets):
    binary = targets["state"]
    pid = start(client, output, binary, "steps")
    break_at(client, output, "main")
    # `p 0x40` from main's start steps over `call step_body`, where a breakpoint is hit:
    # the steps stop there, the ones left are dropped.
    code = instructions(binary, "main")
    calls = [i for i, (_, m, _) in enumerate(code) if m == "call"]
    body = binary.addr(pid, "step_body")
    client.control.execute("bp step_body; p 0x40; ? @$ip")
    text = output.take()
    assert text.endswith(f"Evaluate expression: {body} = {hex64(body)}\n")
    assert "Breakpoint 1 hit" in text
    # A state per step up to the call (calls[...] counts main's instructions before the
    # first call that reaches step_body, whichever it is), none after the hit.
    steps = text.split("Breakpoint 1 hit")[0].count("rax=")
    assert steps <= max(calls) + 1
    assert text.split("Breakpoint 1 hit")[1].count("rax=") == 1


def test_effective_address_of_a_stack_operand(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "steps")
    break_at(client, output, "step_body")
    # step_body at -O0 stores its argument: mov qword ptr [rbp - 0x18], rdi.
    code = instructions(binary, "step_body")
    store = next(i for i, (_, m, ops) in enumerate(code) if m == "mov" and "[rbp" in ops)
    client.control.execute(f"t {store:#x}; ? 0")
    text = output.take()
    rbp = client.registers.get_value("rbp")
    last = text.strip().splitlines()[-2]
    assert "ss:" in last
    ea = int(last.split("ss:")[1].split("=")[0].replace("`", ""), 16)
    assert rbp - 0x40 <= ea < rbp


def test_effective_address_through_fs(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "steps")
    break_at(client, output, "state_fs_insn")
    client.control.execute("r")
    line = output.take().splitlines()[-1]
    fs_base = client.registers.get_value("fs_base")
    # glibc's TCB starts at the thread pointer and holds its own address at offset 0x10.
    assert line.endswith(f" fs:{hex64(fs_base + 0x10)}={hex64(fs_base)}")


def test_output_current_state_flags_choose_the_parts(client, output, targets):
    from pydbg.control import DEBUG_CURRENT_DISASM, DEBUG_CURRENT_SYMBOL

    binary = targets["state"]
    pid = start(client, output, binary, "steps")
    break_at(client, output, "step_body")
    client.control.output_current_state(DEBUG_CURRENT_SYMBOL)
    assert output.take() == "state_pie!step_body:\n"  # no [file @ line] without SOURCE_LINE
    client.control.output_current_state(DEBUG_CURRENT_DISASM)
    text = output.take()
    assert text.startswith(hex64(binary.addr(pid, "step_body"))) and text.count("\n") == 1
    # Sent as DEBUG_OUTPUT_PROMPT_REGISTERS: a client that masks it out hears nothing.
    client.set_output_mask(OutputMask.NORMAL)
    client.control.output_current_state()
    assert output.take() == ""


def test_unreadable_state_is_one_line_not_an_exception(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "steps")
    client.control.execute("g")
    assert wait(client) is False  # the program ran to its end
    client.control.output_current_state()
    assert output.take().splitlines()[-1] == "pydbg: no state to show: no target"
