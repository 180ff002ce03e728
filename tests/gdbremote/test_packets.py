"""The protocol pieces without a target: framing, escaping, run-length encoding, the
signal table and the target description (checked against gdb's own parser of it)."""

from __future__ import annotations

import random
import subprocess

import pytest

from pydbg.gdbremote import stops
from pydbg.gdbremote.packets import (
    Ack,
    Bad,
    Interrupt,
    Packet,
    PacketReader,
    escape,
    frame,
    run_length_decode,
    run_length_encode,
    unescape,
)
from pydbg.gdbremote.target_xml import REGISTERS, by_name, target_xml


def test_frame_and_read_back():
    reader = PacketReader(0x4000)
    events = reader.feed(frame(b"qSupported:multiprocess+") + b"+-\x03")
    assert events == [Packet(b"qSupported:multiprocess+"), Ack(True), Ack(False), Interrupt()]
    assert frame(b"?") == b"$?#3f"  # the checksum from the gdb manual's example


def test_split_packets_and_bad_ones():
    reader = PacketReader(16)
    data = frame(b"g")
    assert reader.feed(data[:2]) == []
    assert reader.feed(data[2:]) == [Packet(b"g")]
    assert reader.feed(b"$g#00") == [Bad("bad checksum")]
    assert reader.feed(b"$g#zz") == [Bad("checksum is not two hex digits")]
    assert reader.feed(frame(b"m" * 17)) == [Bad("packet longer than PacketSize")]
    assert reader.feed(b"$" + b"x" * 40) == [Bad("packet longer than PacketSize")]
    assert reader.feed(b"junk" + frame(b"?")) == [Packet(b"?")]


def test_escape_round_trip():
    data = bytes(range(256)) * 2
    escaped = escape(data)
    assert not any(b in escaped for b in b"#$*")
    assert unescape(escaped) == data
    with pytest.raises(ValueError):
        unescape(b"ab}")


@pytest.mark.parametrize("seed", range(20))
def test_run_length_round_trip(seed):
    rng = random.Random(seed)
    payload = b"".join(
        bytes([rng.choice(b"0af")]) * rng.choice((1, 3, 4, 7, 8, 9, 97, 98, 99, 200))
        for _ in range(30)
    )
    encoded = run_length_encode(payload)
    assert b"#" not in encoded and b"$" not in encoded
    assert run_length_decode(encoded) == payload
    assert len(encoded) < len(payload)


def test_signal_numbers_follow_gdb_not_linux():
    # gdb/include/gdb/signals.def
    assert stops.to_gdb_signal(11) == 11  # SIGSEGV
    assert stops.to_gdb_signal(10) == 30  # SIGUSR1
    assert stops.to_gdb_signal(7) == 10  # SIGBUS
    assert stops.to_gdb_signal(17) == 20  # SIGCHLD
    assert stops.to_gdb_signal(34) == 46  # SIGRTMIN+2 on glibc: REALTIME_34
    for linux in range(1, 65):
        gdb = stops.to_gdb_signal(linux)
        assert gdb == 143 or stops.from_gdb_signal(gdb) == linux


def test_target_description_numbering_and_gdb_accepts_it(tmp_path):
    assert by_name("rip") == 16 and by_name("xmm0") == 40 and by_name("mxcsr") == 56
    assert by_name("orig_rax") == 57 and by_name("fs_base") == 58 and by_name("ymm0h") == 60
    path = tmp_path / "target.xml"
    path.write_text(target_xml())
    out = subprocess.run(
        [
            "gdb",
            "-nx",
            "-batch",
            "-ex",
            f"set tdesc filename {path}",
            "-ex",
            "maint print remote-registers",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Name Nr Rel Offset Size Type RmtNr g/G-offset: gdb's remote numbers and g/G offsets
    # must be the table's.
    rows = {}
    for line in out.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) == 8:
            rows[fields[0]] = (int(fields[6]), int(fields[7]))
    offset = 0
    for number, reg in enumerate(REGISTERS):
        assert rows.get(reg.name) == (number, offset), (reg.name, out.stdout + out.stderr)
        offset += reg.size
