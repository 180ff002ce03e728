"""`pydbg run`'s crash report against gdb in batch mode on the same crash: the same signal,
the same frames of the crashing thread, the same faulting address and instruction, and the
exit status the program has when it runs alone.

The oracle is gdb driven by a small Python script (`gdb -batch -x`): `run`, then the
crashing thread's frames as gdb's `bt` walks them, each named by `info symbol` (the ELF
symbol pydbg names a frame by, not the DWARF name: `raise`, not `__GI_raise`), and
`$_siginfo`, `$pc`, `$sp`.  gdb's `bt` also shows frames no stack holds, reconstructed from
DWARF: inlined calls and tail calls (`__pthread_kill_internal` under abort()); those are
left out, as is everything past main (gdb stops there, pydbg goes on to _start).  pydbg's
report is read from its --json output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

TIMEOUT = 60
FRAMES = 30  # compared at most (a stack overflow has ~15000)

_GDB_SCRIPT = textwrap.dedent(
    """
    import gdb, json
    gdb.execute("set pagination off")
    gdb.execute("run", to_string=True)
    names = []
    frame = gdb.newest_frame()
    while frame is not None and len(names) < FRAMES:
        if frame.type() in (gdb.NORMAL_FRAME, gdb.SIGTRAMP_FRAME):
            pc = frame.pc() if frame.level() == 0 else frame.pc() - 1
            text = gdb.execute(f"info symbol {pc:#x}", to_string=True)
            names.append(text.split(" + ")[0].split(" in section ")[0].split("@")[0].strip())
        frame = frame.older()
    info = gdb.parse_and_eval("$_siginfo")
    where = gdb.execute("info symbol $pc", to_string=True).split(" in section ")[0]
    print("ORACLE " + json.dumps({
        "frames": names,
        "signal": int(info["si_signo"]),
        "si_code": int(info["si_code"]),
        "address": int(info["_sifields"]["_sigfault"]["si_addr"]),
        "pc": int(gdb.parse_and_eval("(unsigned long) $pc")),
        "sp": int(gdb.parse_and_eval("(unsigned long) $sp")),
        "where": where.strip(),
    }))
    """
).replace("FRAMES", str(FRAMES))


def gdb_oracle(program: list[str], tmp_path) -> dict:
    script = tmp_path / "oracle.py"
    script.write_text(_GDB_SCRIPT)
    result = subprocess.run(
        ["gdb", "-batch", "-nx", "-x", str(script), "--args", *program],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    for line in result.stdout.splitlines():
        if line.startswith("ORACLE "):
            return json.loads(line[len("ORACLE ") :])
    raise AssertionError(f"gdb gave no answer:\n{result.stdout}\n{result.stderr}")


def alone(program: list[str]) -> int:
    """The program's exit status without a debugger, as a shell reports it."""
    code = subprocess.run(
        program, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT
    ).returncode
    return 128 - code if code < 0 else code


def pydbg_run(program: list[str], tmp_path) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / "run.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "pydbg", "run", "--json", str(report), "--", *program],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    records = [json.loads(line) for line in report.read_text().splitlines()]
    crashes = [r for r in records if r["type"] == "crash"]
    assert len(crashes) == 1, result.stderr
    return result, crashes[0]


@pytest.fixture(params=["pie", "nopie"])
def crash_target(request, targets):
    """The crash target, built as PIE and not."""
    return targets.get("crash", request.param)


def _base_name(name: str | None) -> str:
    """gdb's `info symbol` and pydbg agree on ELF names; versions (`@@GLIBC_2.34`) aside."""
    return (name or "??").split("@")[0]


def _compare(program: list[str], tmp_path, prefix_only: bool = False) -> tuple[dict, dict]:
    oracle = gdb_oracle(program, tmp_path)
    result, crash = pydbg_run(program, tmp_path)
    assert result.returncode == alone(program), result.stderr
    assert crash["signal"] == oracle["signal"]
    assert crash["si_code"] == oracle["si_code"]
    assert f"{signal.Signals(oracle['signal']).name} ({oracle['signal']})" in result.stderr
    crashed = crash["threads"][0]
    assert crashed["crashed"] and crashed["tid"] == crash["tid"]
    ours = [_base_name(f["function"]) for f in crashed["frames"]]
    theirs = oracle["frames"]
    if prefix_only:
        theirs = theirs[: len(ours)]
    assert ours[: len(theirs)] == theirs, result.stderr
    # The faulting instruction: the same function and offset (addresses differ: gdb turns
    # address randomisation off, pydbg leaves it on).
    top = crashed["frames"][0]
    name, _, offset = oracle["where"].partition(" + ")
    if prefix_only:  # a stack overflow faults where the frame meets the stack's end, which
        # moves with the randomised stack top: the same function, maybe another instruction
        assert top["function"] == _base_name(name)
    else:
        assert (top["function"], top["offset"]) == (_base_name(name), int(offset or 0))
    faulting = [i for i in crash["instructions"] if i["faulting"]]
    assert [i["address"] for i in faulting] == [top["pc"]] == [crash["registers"]["rip"]]
    assert len(crash["instructions"]) == 6, crash["instructions"]
    return oracle, crash


def test_segv_in_a_nested_call(crash_target, tmp_path):
    program = [crash_target.path, "segv"]
    oracle, crash = _compare(program, tmp_path)
    assert oracle["frames"][:4] == ["inner", "middle", "outer", "main"]
    assert crash["address"] == oracle["address"] == 0xDEAD0
    assert crash["mapping"]["mapped"] is False


def test_abort_from_a_failed_assert(crash_target, tmp_path):
    oracle, crash = _compare([crash_target.path, "abort"], tmp_path)
    assert {"abort", "check_value", "main"} <= set(oracle["frames"])
    assert crash["address"] is None  # SIGABRT carries no faulting address
    assert crash["signal_name"] == "SIGABRT"


def test_integer_divide_by_zero(crash_target, tmp_path):
    oracle, crash = _compare([crash_target.path, "fpe"], tmp_path)
    assert oracle["frames"][:2] == ["divide", "main"]
    # SIGFPE's si_addr is the dividing instruction: the pc, in both.
    assert oracle["address"] == oracle["pc"]
    assert crash["address"] == crash["registers"]["rip"]
    assert crash["si_code_text"].startswith("1 FPE_INTDIV")
    assert crash["mapping"]["mapped"] and crash["mapping"]["perms"].startswith("r-x")


@pytest.mark.parametrize("mode", ["overflow", "altstack"])
def test_stack_overflow(crash_target, tmp_path, mode):
    oracle, crash = _compare([crash_target.path, mode], tmp_path, prefix_only=True)
    assert set(oracle["frames"]) == {"recurse"}
    # The faulting address is the stack's next page, next to the stack pointer, unmapped.
    assert abs(crash["address"] - crash["registers"]["rsp"]) < 0x1000
    assert abs(oracle["address"] - oracle["sp"]) < 0x1000
    assert not crash["mapping"]["mapped"] or crash["mapping"]["perms"][:2] != "rw"
    assert crash["threads"][0]["truncated"]


def test_crash_in_a_thread_that_is_not_main(crash_target, tmp_path):
    oracle, crash = _compare([crash_target.path, "thread"], tmp_path)
    assert oracle["frames"][:3] == ["thread_inner", "thread_outer", "crashing_thread"]
    assert crash["address"] == oracle["address"] == 0xDEAD0
    assert crash["tid"] != crash["pid"]
    others = crash["threads"][1:]
    assert len(others) == 2
    functions = {f["function"] for t in others for f in t["frames"]}
    assert {"main", "idle_worker"} <= functions


def test_gdb_sees_what_the_program_does_alone(targets):
    """The oracle's ground: the crashes are the ones a shell sees."""
    path = targets["crash"].path
    assert alone([path, "segv"]) == 128 + signal.SIGSEGV
    assert alone([path, "abort"]) == 128 + signal.SIGABRT
    assert alone([path, "fpe"]) == 128 + signal.SIGFPE
    assert os.path.exists(path)
