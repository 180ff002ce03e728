"""The interactive `pydbg`, driven through a pseudo-terminal as a user drives it: keys are
typed (Tab, Enter, Ctrl-C, Ctrl-D, Up, Ctrl-R), and what the terminal shows is read back.

Every pydbg started here is ended here (Ctrl-D or q; a kill if a test fails), and so is
every process a test starts to attach to (the `procs` fixture).  No timing assertions.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import termios
from collections.abc import Iterator
from typing import Any

import pexpect
import psutil
import pytest

from tests.support import ROOT, tracer_pid, wait_until

TIMEOUT = 30
# A new prompt: prompt_toolkit turns bracketed paste on, then draws `process:thread>`.
PROMPT = re.compile(r"\x1b\[\?2004h.*?(\d+:\d{3}|NoTarget)>", re.S)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
UP, CTRL_C, CTRL_D, CTRL_R, CTRL_Z, TAB = "\x1b[A", "\x03", "\x04", "\x12", "\x1a", "\t"


def plain(text: str) -> str:
    return _ANSI.sub("", text).replace("\r", "")


class Repl:
    """One `pydbg` at a prompt in a pty."""

    def __init__(self, args: list[str], state: str) -> None:
        env = dict(os.environ)
        env.update(
            XDG_STATE_HOME=state,
            PROMPT_TOOLKIT_NO_CPR="1",  # pexpect does not answer cursor position requests
            TERM="xterm",
            PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""),
        )
        env.pop("PYDBG_LOG", None)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "pydbg", *args],
            env=env,
            cwd=ROOT,
            encoding="utf-8",
            codec_errors="replace",
            timeout=TIMEOUT,
            dimensions=(40, 200),
        )
        self.raw = ""  # what the terminal got before the last prompt

    def prompt(self) -> str:
        """Wait for the next prompt; what came before it, without escape sequences."""
        self.child.expect(PROMPT)
        self.raw = self.child.before or ""
        return plain(self.raw)

    def run(self, line: str) -> str:
        """Type a line and Enter; the output up to the next prompt."""
        self.child.send(line + "\r")
        return self.prompt()

    def expect(self, pattern: str) -> str:
        self.child.expect(pattern)
        return plain(self.child.before or "")

    def quit(self) -> int:
        self.child.send(CTRL_D)
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus

    def close(self) -> None:
        if self.child.isalive():
            self.child.kill(signal.SIGTERM)  # teardown: launched killed, attached detached
            self.child.close(force=True)


@pytest.fixture
def repl(tmp_path: Any) -> Iterator[Any]:
    started: list[Repl] = []

    def start(*args: str) -> Repl:
        session = Repl(list(args), str(tmp_path / "state"))
        started.append(session)
        return session

    yield start
    for session in started:
        session.close()


@pytest.fixture(scope="module")
def terminal_target(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = str(tmp_path_factory.mktemp("terminal") / "terminal_target")
    source = os.path.join(ROOT, "tests", "cli", "terminal_target.c")
    subprocess.run(["gcc", "-Wall", "-Wextra", "-Werror", "-g", source, "-o", out], check=True)
    return out


def _module(binary: Any) -> str:
    """The module name of a test target (`loop-pie` -> `loop_pie`, spec §9.5)."""
    return os.path.basename(binary.path).replace("-", "_").replace(".", "_")


def _rips(text: str) -> list[int]:
    return [int(v, 16) for v in re.findall(r"rip=([0-9a-f]{16})", text)]


def _target_pid(session: Repl, name: str) -> int:
    found: list[int] = []

    def launched() -> bool:
        found[:] = [c.pid for c in psutil.Process(session.child.pid).children() if c.name() == name]
        return bool(found)

    assert wait_until(launched)
    return found[0]


def _running(pid: int) -> bool:
    """Asleep in the kernel, not in a ptrace stop: the program is running."""
    return psutil.Process(pid).status() == psutil.STATUS_SLEEPING


def test_prompt_runs_commands_and_enter_repeats_a_step(repl, targets):
    session = repl("--", targets["loop"].path, "1")
    first = session.prompt()
    assert "Initial breakpoint" in first
    assert ".help lists the commands" in first  # where a new user starts
    assert re.search(r"0:000>", plain(session.child.after))
    (start,) = _rips(session.run("r rip"))
    assert not _rips(session.run(""))  # `r` is not repeated
    (one,) = _rips(session.run("t"))
    (two,) = _rips(session.run(""))  # Enter: `t` again, from where it stopped
    (three,) = _rips(session.run(""))
    assert len({start, one, two, three}) == 4
    # A display goes on where it stopped: `u` shows 8 instructions, Enter the next 8.
    first = re.findall(r"^([0-9a-f]{8}`[0-9a-f]{8}) ", session.run("u"), re.M)
    more = re.findall(r"^([0-9a-f]{8}`[0-9a-f]{8}) ", session.run(""), re.M)
    assert len(first) == len(more) == 8 and more[0] > first[-1]
    assert session.quit() == 0


def test_errors_are_one_line_and_unknown_commands_suggest_names(repl, targets):
    session = repl("--", targets["loop"].path, "1")
    session.prompt()
    out = session.run("? 1/0")
    assert "pydbg: division by zero" in out and "Traceback" not in out
    assert re.search(r"did you mean [^\n]*\.help", session.run("hlep"))
    assert "did you mean bl" in session.run("bll")
    assert session.quit() == 0


def test_help_lists_the_commands_and_shows_syntax_and_example(repl, targets):
    session = repl("--", targets["loop"].path, "1")
    session.prompt()
    listing = session.run(".help")
    for name in ("bp", "bl", "g", "t", "p", "r", "k", "u", "lm", "x", ".restart", "q, qq"):
        assert re.search(rf"^  {re.escape(name)} +\S", listing, re.M), name
    assert "Ctrl-R" in listing and "Enter" in listing
    detail = session.run(".help bp")
    assert "syntax:" in detail and "example: bp main" in detail
    assert "List the commands" in session.run("?")  # cdb's `?` alone
    assert session.quit() == 0


def test_tab_completes_commands_registers_symbols_ids_and_paths(repl, targets, tmp_path):
    session = repl("--", targets["loop"].path, "1")
    session.prompt()
    assert "List the commands" in session.run(".hel" + TAB)  # .help
    assert re.search(r"^rip=[0-9a-f]{16}$", session.run("r ri" + TAB), re.M)
    (rip,) = _rips(session.run("r rip"))
    assert f"= {rip >> 32:08x}`{rip & 0xFFFFFFFF:08x}" in session.run("? @ri" + TAB)
    loop = _module(targets["loop"])
    assert f"{loop}!tick" in session.run(f"ln {loop}!tic" + TAB)  # module!symbol
    session.run(f"bp {loop}!finish")
    session.run(f"bp {loop}!tick")
    session.run("bc 1" + TAB)  # the only id starting with 1
    listing = session.run("bl")
    assert re.search(r"^ 0 e", listing, re.M) and not re.search(r"^ 1 ", listing, re.M)
    (tmp_path / "unique-file-for-completion.txt").write_text("")
    echoed = session.run(f".echo {tmp_path}/unique-file-for" + TAB)
    assert f"{tmp_path}/unique-file-for-completion.txt" in echoed
    # After libc is loaded: its symbols, from the live module list.
    session.run("g")
    assert "libc_so!memfrob" in session.run("ln libc_so!memfro" + TAB)
    assert "libc_so!getpid" in session.run("ln libc_s" + TAB + "getpid")  # a module name
    assert session.quit() == 0


def test_history_is_kept_across_runs_and_searched_with_ctrl_r(repl, targets):
    first = repl("--", targets["loop"].path, "1")
    first.prompt()
    first.run(".echo history-marker-one")
    first.run(".echo something else")
    assert first.quit() == 0
    second = repl("--", targets["loop"].path, "1")
    second.prompt()
    assert "something else" in second.run(UP)  # the last line of the last run
    second.child.send(CTRL_R + "marker-one")
    second.child.expect("marker-one")
    assert "history-marker-one" in second.run("\r")  # Enter accepts the found line
    assert second.quit() == 0


def test_ctrl_c_breaks_into_a_running_program_which_does_not_get_the_sigint(repl):
    session = repl("--", "/bin/sleep", "1000")
    session.prompt()
    pid = _target_pid(session, "sleep")
    for _ in range(2):
        session.child.send("g\r")
        assert wait_until(lambda: _running(pid))
        session.child.send(CTRL_C)
        assert "Control-C exception" in session.prompt()
        assert psutil.pid_exists(pid) and tracer_pid(pid) == session.child.pid
    # Ctrl-Z: SIGTSTP breaks in too, and is not delivered (job control would stop the
    # program with the terminal its own).
    session.child.send("g\r")
    assert wait_until(lambda: _running(pid))
    session.child.send(CTRL_Z)
    assert "SIGTSTP signal" in session.prompt()
    session.child.send("g\r")
    assert wait_until(lambda: _running(pid))
    session.child.send(CTRL_C)
    assert "Control-C exception" in session.prompt()
    assert session.run("? 1+1").count("Evaluate expression: 2") == 1  # the prompt works
    assert session.quit() == 0  # Ctrl-D: the launched program is killed
    assert not psutil.pid_exists(pid)


def test_ctrl_c_at_the_prompt_clears_the_line(repl, targets):
    session = repl("--", targets["loop"].path, "1")
    session.prompt()
    session.child.send(".echo never-run")
    session.child.send(CTRL_C)
    session.prompt()
    assert "never-run" not in session.run(".echo after")
    assert session.quit() == 0


def test_sigterm_at_the_prompt_restores_the_terminal_and_kills_the_program(repl, targets):
    session = repl("--", targets["loop"].path, "1")
    session.prompt()
    pid = _target_pid(session, os.path.basename(targets["loop"].path))
    assert not termios.tcgetattr(session.child.child_fd)[3] & termios.ICANON  # raw prompt
    session.child.kill(signal.SIGTERM)
    session.child.expect(pexpect.EOF)
    assert termios.tcgetattr(session.child.child_fd)[3] & termios.ICANON  # modes restored
    session.child.close()
    assert session.child.signalstatus == signal.SIGTERM
    assert wait_until(lambda: not psutil.pid_exists(pid))


def test_the_program_reads_the_terminal(repl, terminal_target):
    session = repl("--", terminal_target, "read")
    session.prompt()
    session.child.send("g\r")
    session.expect("name\\? ")
    session.child.send("world\r")
    out = session.prompt()
    assert "hello world" in out
    assert "the program exited with code 0" in out
    assert "NoTarget" in plain(session.child.after)
    assert session.quit() == 0


def test_a_program_that_leaves_the_terminal_raw_does_not_break_the_prompt(repl, terminal_target):
    session = repl("--", terminal_target, "raw")
    session.prompt()
    out = session.run("g")
    assert "Break instruction exception" in out
    # The debugger's text starts on a line of its own, after the program's "partial": a
    # row of blanks as wide as the terminal (200) wraps from where "partial" ended, CR goes
    # to the start of the new row.
    assert re.search(r"partial {200}\r\x1b\[K\(\w+\.\w+\): Break", session.raw)
    # The prompt has the debugger's modes again: output post-processing on.
    assert termios.tcgetattr(session.child.child_fd)[1] & termios.OPOST
    assert _rips(session.run("r rip"))
    assert re.search(r"rip=[0-9a-f]{16}\r\n", session.raw)  # ONLCR: LF became CR LF
    # The program gets its raw mode back when it runs again.
    out = session.run("g")
    assert "still raw" in out and "the program exited with code 0" in out
    assert session.quit() == 0


def test_restart_runs_the_program_again_with_its_arguments_and_breakpoints(repl, targets):
    session = repl("--", targets["loop"].path, "3")
    session.prompt()
    loop = _module(targets["loop"])
    session.run(f"bp {loop}!tick")
    session.run(f"bu2 {loop}!finish")
    assert "Breakpoint 0 hit" in session.run("g")
    first = _target_pid(session, os.path.basename(targets["loop"].path))
    out = session.run(".restart")
    assert "Initial breakpoint" in out
    second = _target_pid(session, os.path.basename(targets["loop"].path))
    assert second != first and not psutil.pid_exists(first)
    listing = session.run("bl")
    assert re.search(rf"^ 0 e.*{loop}!tick", listing, re.M)
    assert re.search(rf"^ 2 e.*{loop}!finish", listing, re.M)
    assert "Breakpoint 0 hit" in session.run("g")
    assert "= 00000000`00000003" in session.run(f"? poi({loop}!iterations)")  # same argv
    session.run("bc 0")
    assert "Breakpoint 2 hit" in session.run("g")
    assert session.quit() == 0


def test_commands_then_interactive(repl, targets):
    loop = _module(targets["loop"])
    session = repl("-c", f"bp {loop}!tick; g", "-i", "--", targets["loop"].path, "1")
    out = session.prompt()
    assert "Breakpoint 0 hit" in out
    assert f"{loop}!tick" in session.run("k")
    assert session.quit() == 0


def test_attached_ctrl_c_breaks_in_and_quit_detaches(repl, targets, procs):
    process = procs.start([targets["loop"].path, "-1"])
    session = repl("-p", str(process.pid))
    session.prompt()
    session.child.send("g\r")
    assert wait_until(lambda: psutil.Process(process.pid).status() == psutil.STATUS_RUNNING)
    session.child.send(CTRL_C)
    session.prompt()
    assert tracer_pid(process.pid) == session.child.pid
    session.child.send("q\r")
    session.child.expect(pexpect.EOF)
    session.child.close()
    assert session.child.exitstatus == 0
    assert tracer_pid(process.pid) == 0 and process.poll() is None  # detached, running


def test_attach_by_executable_name(repl, targets, procs, tmp_path):
    program = str(tmp_path / "pn-unique-loop")
    shutil.copy(targets["loop"].path, program)
    process = procs.start([program, "-1"])
    session = repl("-pn", "pn-unique-loop")
    session.prompt()
    assert f"{process.pid:x}" in session.run("|")
    assert session.quit() == 0
    assert tracer_pid(process.pid) == 0 and process.poll() is None


def test_attach_by_an_ambiguous_name_lists_the_candidates(targets, procs, tmp_path):
    program = str(tmp_path / "pn-twice-loop")
    shutil.copy(targets["loop"].path, program)
    first, second = procs.start([program, "-1"]), procs.start([program, "-1"])
    result = subprocess.run(
        [sys.executable, "-m", "pydbg", "-pn", "pn-twice-loop", "-c", "qd"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode != 0
    assert str(first.pid) in result.stderr and str(second.pid) in result.stderr
    assert tracer_pid(first.pid) == 0 and tracer_pid(second.pid) == 0
    assert first.poll() is None and second.poll() is None
