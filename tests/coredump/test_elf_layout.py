"""The note layouts against the C structures of <sys/procfs.h> and <signal.h> (a small C
program built here prints their sizes and offsets), and the headers against pyelftools and
readelf, the extended program header count (PN_XNUM) included."""

from __future__ import annotations

import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from pydbg.coredump import elf_layout as elf

_PROBE = r"""
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/procfs.h>
#include <sys/user.h>
#define P(name, value) printf("%s %zu\n", name, (size_t)(value))
int main(void)
{
    P("prstatus", sizeof(prstatus_t));
    P("pr_cursig", offsetof(prstatus_t, pr_cursig));
    P("pr_sighold", offsetof(prstatus_t, pr_sighold));
    P("pr_pid", offsetof(prstatus_t, pr_pid));
    P("pr_sid", offsetof(prstatus_t, pr_sid));
    P("pr_utime", offsetof(prstatus_t, pr_utime));
    P("pr_cstime", offsetof(prstatus_t, pr_cstime));
    P("pr_reg", offsetof(prstatus_t, pr_reg));
    P("pr_fpvalid", offsetof(prstatus_t, pr_fpvalid));
    P("rip", offsetof(struct user_regs_struct, rip));
    P("fs_base", offsetof(struct user_regs_struct, fs_base));
    P("gs", offsetof(struct user_regs_struct, gs));
    P("prpsinfo", sizeof(prpsinfo_t));
    P("pr_nice", offsetof(prpsinfo_t, pr_nice));
    P("pr_flag", offsetof(prpsinfo_t, pr_flag));
    P("pr_uid", offsetof(prpsinfo_t, pr_uid));
    P("pr_ppid", offsetof(prpsinfo_t, pr_ppid));
    P("pr_fname", offsetof(prpsinfo_t, pr_fname));
    P("pr_psargs", offsetof(prpsinfo_t, pr_psargs));
    P("siginfo", sizeof(siginfo_t));
    P("si_code", offsetof(siginfo_t, si_code));
    P("si_addr", offsetof(siginfo_t, si_addr));
    P("si_pid", offsetof(siginfo_t, si_pid));
    P("si_uid", offsetof(siginfo_t, si_uid));
    return 0;
}
"""


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory) -> dict[str, int]:
    directory = tmp_path_factory.mktemp("layout")
    (directory / "probe.c").write_text(_PROBE)
    subprocess.run(
        ["gcc", "-Wall", "-Werror", str(directory / "probe.c"), "-o", str(directory / "probe")],
        check=True,
    )
    out = subprocess.run([str(directory / "probe")], capture_output=True, text=True, check=True)
    return {name: int(value) for name, value in (line.split() for line in out.stdout.splitlines())}


def _u64(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 8], "little")


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def test_prstatus_fields_sit_where_c_puts_them(c_layout):
    process = elf.ProcessInfo(1000, 999, 998, 997, 0, 0, "t", 0, 0, b"prog", b"prog")
    registers = list(range(0x100, 0x100 + len(elf.GREGSET_ORDER)))
    thread = elf.ThreadStatus(
        1001, registers, signal=11, sighold=0x55, utime_us=2_500_000, cstime_us=7
    )
    data = elf.prstatus(process, thread)
    assert len(data) == c_layout["prstatus"]
    assert int.from_bytes(data[c_layout["pr_cursig"] :][:2], "little") == 11
    assert _u32(data, 0) == 11  # pr_info.si_signo
    assert _u64(data, c_layout["pr_sighold"]) == 0x55
    assert _u32(data, c_layout["pr_pid"]) == 1001
    assert _u32(data, c_layout["pr_sid"]) == 997
    assert (_u64(data, c_layout["pr_utime"]), _u64(data, c_layout["pr_utime"] + 8)) == (2, 500_000)
    assert _u64(data, c_layout["pr_cstime"] + 8) == 7
    reg = c_layout["pr_reg"]
    for name in ("rip", "fs_base", "gs"):
        index = elf.GREGSET_ORDER.index(name)
        assert c_layout[name] == 8 * index
        assert _u64(data, reg + c_layout[name]) == registers[index]
    assert _u32(data, c_layout["pr_fpvalid"]) == 1


def test_prpsinfo_fields_sit_where_c_puts_them(c_layout):
    process = elf.ProcessInfo(
        1000, 999, 998, 997, 1234, 5678, "S", -5, 0x400040, b"prog-with-a-long-name", b"a b"
    )
    data = elf.prpsinfo(process)
    assert len(data) == c_layout["prpsinfo"]
    assert data[:2] == b"\x01S"  # pr_state 1 (sleeping), pr_sname 'S'
    assert data[c_layout["pr_nice"]] == 256 - 5
    assert _u64(data, c_layout["pr_flag"]) == 0x400040
    assert (_u32(data, c_layout["pr_uid"]), _u32(data, c_layout["pr_uid"] + 4)) == (1234, 5678)
    assert _u32(data, c_layout["pr_ppid"]) == 999
    assert data[c_layout["pr_fname"] :][:16] == b"prog-with-a-lon\0"  # 15 bytes and a NUL
    assert data[c_layout["pr_psargs"] :].rstrip(b"\0") == b"a b"


def test_siginfo_fields_sit_where_c_puts_them(c_layout):
    fault = elf.siginfo(11, 1, 0xDEADBEEF000)
    assert len(fault) == c_layout["siginfo"]
    assert _u32(fault, c_layout["si_code"]) == 1
    assert _u64(fault, c_layout["si_addr"]) == 0xDEADBEEF000
    sent = elf.siginfo(10, 0, sender_pid=4242, sender_uid=1000)  # SIGUSR1 from kill(2)
    assert _u32(sent, c_layout["si_pid"]) == 4242 and _u32(sent, c_layout["si_uid"]) == 1000


def test_notes_are_padded_to_four_bytes():
    data = elf.note(b"LINUX", elf.NT_X86_XSTATE, b"\x01\x02\x03")
    assert data == (
        (6).to_bytes(4, "little") + (3).to_bytes(4, "little") + (0x202).to_bytes(4, "little")
        + b"LINUX\0\0\0" + b"\x01\x02\x03\0"
    )  # fmt: skip


@pytest.mark.parametrize("count", [3, 0xFFFF + 5])
def test_pyelftools_and_readelf_read_the_headers(tmp_path, count):
    """With 0xffff program headers or more, e_phnum is PN_XNUM and section header 0 holds
    the count, as the kernel writes it."""
    segments = [
        elf.Segment(0x10000 + 0x1000 * i, 0x1000, 0 if i % 2 else 0x1000, elf.PF_R, 0x1000 * i)
        for i in range(count)
    ]
    notes = elf.note(b"CORE", elf.NT_AUXV, bytes(16))
    offset = elf.headers_size(count)
    data = elf.headers(offset, len(notes), segments, 4096) + notes
    assert len(data) == offset + len(notes)
    path = tmp_path / "headers.core"
    path.write_bytes(data)
    with open(path, "rb") as f:
        parsed = ELFFile(f)
        assert parsed.header.e_type == "ET_CORE" and parsed.header.e_machine == "EM_X86_64"
        assert parsed.num_segments() == count + 1
        kinds = [parsed.get_segment(i).header.p_type for i in (0, 1, count)]
        assert kinds == ["PT_NOTE", "PT_LOAD", "PT_LOAD"]
        last = parsed.get_segment(count).header
        assert (last.p_vaddr, last.p_filesz, last.p_memsz) == (
            segments[-1].vaddr, segments[-1].filesz, 0x1000
        )  # fmt: skip
        note = next(iter(parsed.get_segment(0).iter_notes()))
        assert note["n_type"] == "NT_AUXV"
    readelf = subprocess.run(
        ["readelf", "-h", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    shown = f"65535 ({count + 1})" if count + 1 >= 0xFFFF else f"{count + 1}"
    assert f"Number of program headers:         {shown}\n" in readelf
