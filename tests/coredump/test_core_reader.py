"""The pieces under the dump target, without a process: a recorded XSAVE area decoded as a
live one (FPRegs.from_raw), and what the core reader makes of a kernel core's notes,
checked against gdb."""

from __future__ import annotations

import os
import re

from pydbg._native import FPRegs
from pydbg.coredump.reader import read_core
from tests.coredump.conftest import gdb
from tests.coredump.loading import kernel_core


def test_a_recorded_fxsave_image_decodes_as_a_live_one():
    raw = bytearray(512)
    raw[0:2] = (0x037F).to_bytes(2, "little")  # fcw
    raw[24:28] = (0x1F80).to_bytes(4, "little")  # mxcsr
    raw[160 + 16 * 3 : 160 + 16 * 4] = (0x0123456789ABCDEF_FEDCBA9876543210).to_bytes(16, "little")
    fpregs = FPRegs.from_raw(bytes(raw))
    assert fpregs.fcw == 0x037F and fpregs.mxcsr == 0x1F80
    assert fpregs.xmm(3) == 0x0123456789ABCDEF_FEDCBA9876543210 and fpregs.xmm(2) == 0
    assert not fpregs.has_avx  # (an FXSAVE image only: NT_FPREGSET without NT_X86_XSTATE)
    assert fpregs.raw == bytes(raw)


def test_the_reader_sees_what_gdb_sees(targets, tmp_path):
    """Threads, mapped files (start, end, offset, path) and the signal, as gdb reads the
    same kernel core."""
    binary = targets["coredump"]
    core_path = kernel_core(binary, tmp_path, "thread-crash")
    core = read_core(core_path)
    text = gdb("info threads", "info proc mappings", "print $_siginfo.si_signo",
               program=binary.path, core=core_path)  # fmt: skip
    lwps = {int(lwp) for lwp in re.findall(r"\(LWP (\d+)\)", text)}
    assert {t.tid for t in core.threads} == lwps and len(lwps) == 4
    rows = re.findall(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(/\S+)$",
                      text, re.M)  # fmt: skip
    assert [(int(s, 16), int(e, 16), int(o, 16), p) for s, e, o, p in rows] == [
        (m.start, m.end, m.offset, m.path) for m in core.files
    ]
    assert core.executable == binary.path
    assert core.signal is not None and core.signal.signo == 11
    assert re.search(r"^\$\d+ = 11$", text, re.M)
    assert core.threads[0].signal == 11 and all(t.xsave for t in core.threads)
    assert core.name == os.path.basename(binary.path)[:15]
