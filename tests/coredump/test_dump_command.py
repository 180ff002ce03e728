"""`.dump` in the command language: its options, its errors (one line each, the session goes
on), and a target that runs on after the dump exactly as it would have without it."""

from __future__ import annotations

import errno
import os
import re
import stat
import threading

import pytest

import pydbg
from pydbg.commands.dump_commands import DumpFileExistsError, UnsupportedDumpOptionError
from pydbg.commands.errors import CommandSyntaxError
from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait
from tests.coredump.conftest import gdb, gdb_frames, loads, up_to_main


def test_dump_f_writes_a_core_gdb_reads(at_breakpoint, core_path):
    stopped = at_breakpoint
    live_k = stopped.k_functions()
    out = stopped.run(f".dump /f {core_path}")
    assert out == (
        f"Creating {core_path} - ELF core file (memory as the kernel dumps it)\n"
        "Dump successfully written\n"
    )
    text = gdb("bt", program=stopped.binary.path, core=core_path)
    assert gdb_frames(text) == up_to_main(live_k)


def test_dump_ma_writes_all_memory_and_o_overwrites(at_breakpoint, core_path):
    stopped = at_breakpoint
    stopped.run(f".dump /f {core_path}")
    small = sum(h.p_filesz for h in loads(core_path))
    with pytest.raises(DumpFileExistsError, match=r"exists; \.dump /o overwrites it"):
        stopped.run(f".dump /ma {core_path}")
    assert sum(h.p_filesz for h in loads(core_path)) == small  # the file was kept
    assert "(all memory)" in stopped.run(f".dump /o /ma {core_path}")
    assert sum(h.p_filesz for h in loads(core_path)) > small


def test_a_quoted_name_and_a_home_relative_one(at_breakpoint, tmp_path, monkeypatch):
    stopped = at_breakpoint
    stopped.run(f'.dump /f "{tmp_path}/a core "')
    assert os.path.getsize(tmp_path / "a core ") > 0
    monkeypatch.setenv("HOME", str(tmp_path))
    stopped.run(".dump ~/plain.core")  # no option: the same as /f
    assert os.path.getsize(tmp_path / "plain.core") > 0


@pytest.mark.parametrize("option", ["/m", "/mh", "/mA", "/u", "/c", "/b", "/k", "/fA"])
def test_other_cdb_options_are_refused_naming_what_pydbg_writes(at_breakpoint, option, tmp_path):
    with pytest.raises(UnsupportedDumpOptionError) as error:
        at_breakpoint.run(f".dump {option} {tmp_path}/x.core")
    message = str(error.value)
    assert "\n" not in message and option in message and "/f" in message and "/ma" in message
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [("", "needs a file name"), ("/f", "needs a file name"), ("/f /ma x", "one of /f and /ma")],
)
def test_syntax_errors(at_breakpoint, arguments, reason):
    with pytest.raises(CommandSyntaxError, match=reason):
        at_breakpoint.run(f".dump {arguments}")


def test_an_unwritable_path_is_one_line_and_the_session_goes_on(at_breakpoint, tmp_path):
    stopped = at_breakpoint
    rip = stopped.client.registers.get_value("rip")
    for path in ("/nonexistent-dir/x.core", "/proc/self/x.core", str(tmp_path)):
        with pytest.raises(pydbg.CoreFileError) as error:
            stopped.run(f".dump /o /f {path}")
        assert isinstance(error.value, OSError) and error.value.filename == path
        assert re.fullmatch(
            rf"cannot write the core file {re.escape(path)}: [^\n]+", str(error.value)
        )
    assert os.listdir(tmp_path) == []
    assert stopped.run("r rip") == f"rip={rip:016x}\n"
    stopped.run(f".dump /f {tmp_path}/x.core")
    assert os.path.getsize(tmp_path / "x.core") > 0


def test_no_target_is_the_usual_error(client, output, targets, tmp_path):
    with pytest.raises(pydbg.NoTargetError, match=r"\.dump: no process is being debugged"):
        client.control.execute(f".dump /f {tmp_path}/x.core")
    client.create_process([targets["exit7"].path])
    assert wait(client)
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert not wait(client)  # it ran to its end
    with pytest.raises(pydbg.NoTargetError, match=r"\.dump: no process is being debugged"):
        client.control.execute(f".dump /f {tmp_path}/x.core")
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("option", ["/f", "/ma"])
def test_the_target_runs_on_unchanged_after_a_dump(at_breakpoint, core_path, option):
    """Breakpoints planted stay planted and hit, the current thread and scope frame are
    kept, and the program finds every byte it wrote intact (exit status 42)."""
    stopped = at_breakpoint
    client = stopped.client
    stopped.run(f"bp {stopped.module}!middle")  # not hit any more: middle is on the stack
    stopped.run(f"bp {stopped.module}!worker_wait")  # nor this: both workers wait in it
    stopped.run(f"bp {stopped.module}!intact")  # hit after the workers are joined
    before = stopped.run("bl")
    stopped.run(".frame 2")
    code = stopped.binary.addr(stopped.pid, "intact")
    code_bytes = client.data_spaces.read_virtual(code, 16)
    regs = {name: client.registers.get_value(name) for name in ("rip", "rsp", "rbp", "xmm0")}
    thread = client.system_objects.get_current_thread_id()

    stopped.run(f".dump {option} {core_path}")

    assert client.system_objects.get_current_thread_id() == thread
    assert client.symbols.get_current_scope_frame_index() == 2
    assert stopped.run("bl") == before
    assert client.data_spaces.read_virtual(code, 16) == code_bytes
    stopped.run(".frame 0")
    assert {name: client.registers.get_value(name) for name in regs} == regs
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    assert client.registers.get_value("rip") == code  # the breakpoint on intact hit
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert not wait(client)
    assert client.get_exit_code() == 42


def test_help_shows_dump():
    client = pydbg.create_client()
    text: list[str] = []
    client.set_output_callbacks(lambda mask, piece: text.append(piece))
    client.control.execute(".help .dump")
    shown = "".join(text)
    assert "syntax:  .dump [/o] [/f | /ma] FILE" in shown and "example: .dump /f" in shown
    client.end_session(0)


def test_at_the_prompt_an_error_is_one_line_and_the_prompt_comes_back(targets, tmp_path):
    from tests.cli.test_repl import Repl

    binary = targets["coredump"]
    module = os.path.basename(binary.path).replace("-", "_")
    session = Repl(["--", binary.path, "stop"], str(tmp_path / "state"))
    try:
        session.prompt()
        session.run(f"bp {module}!dump_here")
        session.run("g")
        failed = session.run(".dump /f /nonexistent-dir/x.core")
        lines = [line for line in failed.splitlines()[1:] if line.strip()]
        assert lines == [
            "Creating /nonexistent-dir/x.core - ELF core file (memory as the kernel dumps it)",
            "pydbg: cannot write the core file /nonexistent-dir/x.core: No such file or directory",
        ]
        written = session.run(f".dump /f {tmp_path}/x.core")
        assert "Dump successfully written" in written
        assert "the program exited with code 42" in session.run("g")  # all bytes intact
        assert session.quit() == 0
    finally:
        session.close()
    assert os.path.getsize(tmp_path / "x.core") > 0


def test_a_full_device_fails_cleanly_and_is_left_in_place(at_breakpoint):
    with pytest.raises(pydbg.CoreFileError, match="No space left on device") as error:
        at_breakpoint.run(".dump /o /f /dev/full")
    assert error.value.errno == errno.ENOSPC
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # a device is never removed
    assert "Dump successfully written" in at_breakpoint.run(".dump /o /f /dev/null")


def test_a_core_streamed_into_a_pipe_is_the_same_as_a_file(at_breakpoint, tmp_path):
    """A FIFO cannot seek: the holes are written as zeros, and the bytes are the same."""
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    received = bytearray()

    def drain() -> None:
        with open(fifo, "rb") as f:
            while chunk := f.read(1 << 16):
                received.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        at_breakpoint.run(f".dump /o /f {fifo}")
    finally:
        if reader.is_alive():
            with open(fifo, "wb"):
                pass  # the reader never saw a writer: let it end
        reader.join()
    at_breakpoint.run(f".dump /f {tmp_path}/file.core")
    assert bytes(received) == (tmp_path / "file.core").read_bytes()
