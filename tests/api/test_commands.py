"""control.execute against a real process: implicit waits between execution commands,
register commands, evaluation, and errors that leave the session usable (spec §4.5).
"""

from __future__ import annotations

import os

import pytest

from pydbg.commands.errors import CommandSyntaxError, ExpressionError
from pydbg.commands.interpreter import UnknownCommandError
from pydbg.errors import InvalidRegisterError
from tests.api.helpers import hex64, read_lines, wait
from tests.api.recording import (
    BROKE_IN,
    CDS_REGISTERS,
    END,
    END_ACTIVE_DETACH,
    END_ACTIVE_TERMINATE,
    GO,
    STATUS_ACCESS_VIOLATION,
    STATUS_BREAKPOINT,
    debuggee,
    ended,
    exception,
    exit_process,
    status,
)
from tests.support import task_tids, tracer_pid


def test_go_then_evaluate_waits_for_the_next_break(client, recorder, output, start, events):
    pid = start("segv")
    # `g` is not the last command: the engine waits for the next break before `?` runs.
    client.control.execute("g ; ? @$ip")
    faulting = events.addr(pid, "segv_insn")
    text = output.take()
    assert text.endswith(f"\nEvaluate expression: {faulting} = {hex64(faulting)}\n")
    assert "Access violation - code c0000005 (first chance)" in text
    assert recorder.take() == [status(GO), exception(STATUS_ACCESS_VIOLATION, True), *BROKE_IN]


def test_go_then_evaluate_stops_at_the_programs_own_int3(client, output, start, events):
    pid = start("steps")
    client.control.execute("g; ? @$ip")
    after = events.addr(pid, "step_start")  # the int3 at step_break has executed
    assert output.take().endswith(f"\nEvaluate expression: {after} = {hex64(after)}\n")


def test_a_lone_execution_command_only_arms(client, recorder, start, out_file):
    start("exit", 4)
    client.control.execute("g")
    assert recorder.take() == [status(GO)]  # nothing ran yet (§4.5)
    assert read_lines(out_file) == []
    assert wait(client) is False
    assert recorder.take() == [exit_process(4), *ended(END)]


def test_register_write_then_read(client, recorder, output, start):
    start("steps")
    client.control.execute("r rax=5; r rax")
    assert output.take() == "rax=0000000000000005\n"
    assert client.registers.get_value("rax") == 5
    # ChangeDebuggeeState(DEBUG_CDS_REGISTERS, index of the register) (§3.3).
    assert recorder.take() == [debuggee(CDS_REGISTERS, client.registers.get_index_by_name("rax"))]


def test_evaluate_mixed_radix(client, output, start):
    start("steps")
    client.control.execute("? 0n10+0x10")
    assert output.take() == "Evaluate expression: 26 = 00000000`0000001a\n"


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        ("frobnicate", UnknownCommandError, "frobnicate"),
        ("g 1", CommandSyntaxError, "takes no arguments"),
        ("? 1/0", ExpressionError, "division by zero"),
        ("r nosuchreg", InvalidRegisterError, "nosuchreg"),
    ],
)
def test_errors_are_raised_and_the_session_stays_usable(
    client, recorder, output, start, out_file, command, error, match
):
    start("exit", 6)
    rip = client.registers.get_value("rip")
    with pytest.raises(error, match=match):
        client.control.execute(command)
    assert recorder.take() == []  # nothing changed, nothing ran
    client.control.execute("r rip")
    assert output.take() == f"rip={rip:016x}\n"
    client.control.execute("g")
    assert wait(client) is False
    assert recorder.take() == [status(GO), exit_process(6), *ended(END)]
    assert read_lines(out_file) == ["exit 6"]


def test_commands_before_a_failing_one_took_effect(client, start):
    start("steps")
    with pytest.raises(UnknownCommandError):
        client.control.execute("r rax=7; frobnicate; r rax=8")
    assert client.registers.get_value("rax") == 7


def test_q_ends_the_session_killing_the_target(client, recorder, start):
    pid = start("spin")
    client.control.execute("q; .echo never")
    assert recorder.take() == [exit_process(137), *ended(END_ACTIVE_TERMINATE)]
    assert not os.path.exists(f"/proc/{pid}")


def test_qd_ends_the_session_leaving_the_target_running(client, recorder, threads_target):
    proc = threads_target(1)
    client.attach_process(proc.pid)
    assert wait(client) is True
    recorder.take()
    client.control.execute("qd")
    assert recorder.take() == ended(END_ACTIVE_DETACH)
    assert all(tracer_pid(proc.pid, tid) == 0 for tid in task_tids(proc.pid))
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0


def test_last_event_and_echo(client, output, start):
    pid = start("exit", 0)
    client.control.execute(".lastevent; .echo still here")
    text = output.take()
    assert text.startswith(f"Last event: {pid:x}.{pid:x}: ")  # cdb's pid.tid
    assert f"code {STATUS_BREAKPOINT:08x}" in text
    assert text.endswith("still here\n")
