"""A dump target refuses bad input and every change, with specific errors, and stays usable:
files that are no core (an executable, text, a truncated copy, a missing path), a missing
program file, a second target, and go / step / breakpoints / writes / .kill on a core."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pydbg.constants import DEBUG_BREAKPOINT_CODE, DebugStatus
from pydbg.errors import (
    CoreFormatError,
    DumpTargetReadOnlyError,
    EngineError,
    ProgramNotFoundError,
)
from tests.coredump.loading import k_names, kernel_core, open_core, run
from tests.support import ROOT

_SEGV_FRAMES = ["inner", "middle", "outer", "main"]


@pytest.fixture
def crash_core(targets, tmp_path) -> tuple[str, str]:
    """(core, program) of crash.c `segv`, written by the kernel."""
    directory = tmp_path / "cwd"
    directory.mkdir()
    binary = targets["crash"]
    return kernel_core(binary, directory, "segv"), binary.path


def test_files_that_are_no_core(client, output, crash_core, tmp_path):
    core, program = crash_core
    text = tmp_path / "notes.txt"
    text.write_text("not a core\n" * 10)
    truncated = tmp_path / "truncated.core"
    with open(core, "rb") as f:
        truncated.write_bytes(f.read(20000))
    cases = {
        program: "not a core file (ELF type ET_DYN)",
        str(text): "not an ELF core file",
        str(truncated): "truncated: a segment ends at byte",
        str(tmp_path / "missing.core"): "cannot read it: No such file or directory",
    }
    for path, message in cases.items():
        with pytest.raises(CoreFormatError) as caught:
            client.open_dump_file(path, program)
        assert caught.value.path == path and message in str(caught.value), str(caught.value)
        assert client.control.get_execution_status() == DebugStatus.NO_DEBUGGEE
    # Nothing was left half-open: the real core opens.
    open_core(client, core, program)
    assert k_names(run(client, output, "k"))[:4] == _SEGV_FRAMES


def _note_offset(core: str, note_type: str) -> int:
    """Where the descriptor of the core's first note of that type starts (pyelftools)."""
    from elftools.elf.elffile import ELFFile

    with open(core, "rb") as f:
        for segment in ELFFile(f).iter_segments():
            if segment.header.p_type == "PT_NOTE":
                for note in segment.iter_notes():
                    if note["n_type"] == note_type:  # (12: namesz, descsz, type)
                        return int(note["n_offset"]) + 12 + ((note["n_namesz"] + 3) & ~3)
    raise AssertionError(f"no {note_type} in {core}")


def test_damaged_cores(client, output, crash_core, tmp_path):
    """Lies in a core's structures are CoreFormatErrors, never a crash of the reader."""
    core, program = crash_core
    with open(core, "rb") as f:
        data = bytearray(f.read())
    lying_files = bytearray(data)
    offset = _note_offset(core, "NT_FILE")
    lying_files[offset : offset + 8] = (1 << 40).to_bytes(8, "little")  # the count
    bad_phnum = bytearray(data)
    bad_phnum[0x38:0x3A] = (0xFFFE).to_bytes(2, "little")  # e_phnum: headers past the end
    for name, content, message in [
        ("files.core", lying_files, "malformed core file"),
        ("phnum.core", bad_phnum, "truncated|malformed"),
    ]:
        path = tmp_path / name
        path.write_bytes(bytes(content))
        with pytest.raises(CoreFormatError, match=message):
            client.open_dump_file(str(path), program)
        assert client.control.get_execution_status() == DebugStatus.NO_DEBUGGEE


def test_missing_program_file(client, output, crash_core, tmp_path):
    core, _ = crash_core
    with pytest.raises(ProgramNotFoundError, match="does not exist"):
        client.open_dump_file(core, str(tmp_path / "no-such-program"))
    assert client.control.get_execution_status() == DebugStatus.NO_DEBUGGEE


def test_one_target_per_session(client, output, crash_core):
    core, program = crash_core
    open_core(client, core, program)
    with pytest.raises(EngineError, match="has targets already"):
        client.open_dump_file(core, program)
    with pytest.raises(DumpTargetReadOnlyError):
        client.create_process([program, "segv"])
    assert k_names(run(client, output, "k"))[:4] == _SEGV_FRAMES


def test_nothing_changes_a_core(client, output, crash_core):
    """Every command that would run or change the target fails with
    DumpTargetReadOnlyError; the registers, memory and stack are as before, the session
    broken in, usable."""
    core, program = crash_core
    open_core(client, core, program)
    before = run(client, output, "r; k; dq @rsp L2")
    for command in ("g", "gh", "t", "p", "pc", "gu", "bp crash!main", "ba w4 @rsp",
                    "r rax=1", "eb @rsp 0", "ed @rsp 1", ".kill", ".detach"):  # fmt: skip
        with pytest.raises((DumpTargetReadOnlyError, EngineError)) as caught:
            run(client, output, command)
        assert "core file" in str(caught.value), (command, caught.value)
        assert client.control.get_execution_status() == DebugStatus.BREAK
    # The same through the facets.
    with pytest.raises(DumpTargetReadOnlyError):
        client.control.set_execution_status(DebugStatus.GO)
    with pytest.raises(DumpTargetReadOnlyError):
        client.control.add_breakpoint(DEBUG_BREAKPOINT_CODE)
    with pytest.raises(DumpTargetReadOnlyError):
        client.registers.set_value("rip", 0)
    with pytest.raises(DumpTargetReadOnlyError):
        client.data_spaces.write_virtual(client.registers.get_value("rsp"), b"\0")
    with pytest.raises(DumpTargetReadOnlyError):
        client.terminate_current_process()
    assert run(client, output, "r; k; dq @rsp L2") == before
    assert client.control.wait_for_event(timeout=1.0)  # (broken in: returns at once)
    client.end_session(0)
    assert client.control.get_execution_status() == DebugStatus.NO_DEBUGGEE


def test_cli_says_what_is_wrong_in_one_line(tmp_path, crash_core):
    core, program = crash_core

    def pydbg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pydbg", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
        )

    bad = tmp_path / "bad"
    bad.write_text("x")
    for args, message in [
        (("-z", str(bad), "-c", "k"), f"pydbg: {bad}: not an ELF core file"),
        (("-z", core, str(tmp_path / "nope"), "-c", "k"), "pydbg: [Errno 2] the program file"),
    ]:
        proc = pydbg(*args)
        assert proc.returncode == 1
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), proc.stderr
    usage = pydbg("-z", core, program, "extra", "-c", "k")
    assert usage.returncode == 2 and "-z CORE [PROG]" in usage.stderr
    fine = pydbg("-z", core, program, "-c", "k")
    assert fine.returncode == 0 and k_names(fine.stdout)[:4] == _SEGV_FRAMES


def test_a_program_file_that_is_gone(client, output, targets, tmp_path):
    """The core's program was deleted: opening warns in one line and names the way out;
    the stack still unwinds (frame pointers), the program's frames without names; given
    the program (the same build elsewhere), its names are back."""
    import shutil

    from pydbg.constants import DebugEnd
    from tests.support import Binary

    original = targets["crash"]
    directory = tmp_path / "cwd"
    directory.mkdir()
    copy = shutil.copy(original.path, tmp_path / "crash-copy")
    core = kernel_core(Binary("crash", "pie", str(copy)), directory, "segv")
    (tmp_path / "crash-copy").unlink()

    client.open_dump_file(core)
    opening = str(output.take())
    assert client.control.wait_for_event()
    opening += str(output.take())
    assert (
        f"pydbg: {copy} cannot be read: its code and symbols are not available "
        "(name the program: pydbg -z CORE PROG)"
    ) in opening
    text = run(client, output, "k")
    assert "crash_copy+0x" in text and "libc_so!__libc_start_main" in text
    assert "inner" not in k_names(text)
    client.end_session(DebugEnd.ACTIVE_DETACH)

    open_core(client, core, original.path)
    assert k_names(run(client, output, "k"))[:4] == _SEGV_FRAMES
