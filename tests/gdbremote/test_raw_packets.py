"""Packets sent by hand to `pydbg gdbserver`, replies checked against the protocol and
against /proc and the files themselves: what gdb and lldb do not exercise on their own
(no multiprocess, refused writes through vFile, malformed packets, unknown ones)."""

from __future__ import annotations

import os
import re
import socket

from pydbg.gdbremote.packets import Packet, PacketReader, frame, unescape
from pydbg.gdbremote.target_xml import REGISTERS, target_xml


class RawClient:
    """A minimal RSP client: one request, one reply, acks handled."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.reader = PacketReader(1 << 20)
        self.ack = True
        self.pending: list[object] = []

    def close(self) -> None:
        self.sock.close()

    def request(self, payload: bytes) -> bytes:
        self.sock.sendall(frame(payload))
        while True:
            while not self.pending:
                data = self.sock.recv(65536)
                assert data, "the server closed the connection"
                self.pending += self.reader.feed(data)
            event = self.pending.pop(0)
            if isinstance(event, Packet):
                if self.ack:
                    self.sock.sendall(b"+")
                return event.payload


def test_without_multiprocess_threads_are_bare_tids(targets, gdbserver):
    server = gdbserver("--", targets["rsp"].path)
    pid = int(re.search(r"pid = (\d+)", server.stderr()).group(1))
    client = RawClient(server.port)
    try:
        features = client.request(b"qSupported:swbreak+")
        assert b"PacketSize=4000" in features and b"multiprocess+" not in features
        assert client.request(b"?").startswith(b"T05thread:%x;" % pid)
        assert client.request(b"qC") == b"QC%x" % pid
        assert client.request(b"qfThreadInfo") == b"m%x" % pid
        assert client.request(b"qsThreadInfo") == b"l"
        assert client.request(b"qAttached") == b"0"
        assert client.request(b"T%x" % pid) == b"OK"
        assert client.request(b"T%x" % (pid + 100000)) == b"E01"
    finally:
        client.close()
    assert server.wait() == 0


def test_registers_memory_and_documents(targets, gdbserver):
    server = gdbserver("--", targets["rsp"].path)
    pid = int(re.search(r"pid = (\d+)", server.stderr()).group(1))
    client = RawClient(server.port)
    try:
        client.request(b"qSupported:multiprocess+")
        registers = client.request(b"g")
        assert len(registers) == 2 * sum(r.size for r in REGISTERS)
        rip = client.request(b"p10")
        assert registers[2 * 8 * 16 : 2 * 8 * 17] == rip
        pc = int.from_bytes(bytes.fromhex(rip.decode()), "little")
        with open(f"/proc/{pid}/mem", "rb") as mem:  # the oracle: the kernel's view
            mem.seek(pc)
            assert bytes.fromhex(client.request(b"m%x,10" % pc).decode()) == mem.read(16)
        assert client.request(b"x%x,10" % pc)  # lldb's binary read, raw data
        assert client.request(b"m0,8") == b"E0e"
        xml = client.request(b"qXfer:features:read:target.xml:0,3fff")
        assert xml[:1] == b"l" and unescape(xml[1:]).decode() == target_xml()
        part = client.request(b"qXfer:features:read:target.xml:0,20")
        assert part == b"m" + target_xml().encode()[:32]
        with open(f"/proc/{pid}/auxv", "rb") as f:
            auxv = f.read()
        assert unescape(client.request(b"qXfer:auxv:read::0,3fff")[1:]) == auxv
        # At the first instruction the loader has not published its link map yet.
        libraries = client.request(b"qXfer:libraries-svr4:read::0,3fff")
        assert libraries == b'l<library-list-svr4 version="1.0"></library-list-svr4>'
        exe = client.request(b"qXfer:exec-file:read:%x:0,3fff" % pid)
        assert exe == b"l" + targets["rsp"].path.encode()
    finally:
        client.close()


def test_vfile_reads_and_refuses_writes(targets, gdbserver, tmp_path):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    client = RawClient(server.port)
    victim = tmp_path / "keep"
    victim.write_bytes(b"unchanged")
    try:
        assert client.request(b"vFile:setfs:0") == b"F0"
        opened = client.request(b"vFile:open:%s,0,0" % program.encode().hex().encode())
        fd = int(opened[1:], 16)
        head = client.request(b"vFile:pread:%x,10,0" % fd)
        with open(program, "rb") as f:
            assert head[:4] == b"F10;" and unescape(head[4:]) == f.read(16)
        stat = client.request(b"vFile:fstat:%x" % fd)
        assert stat.startswith(b"F40;")
        size = int.from_bytes(unescape(stat[4:])[28:36], "big")
        assert size == os.path.getsize(program)
        assert client.request(b"vFile:close:%x" % fd) == b"F0"
        assert client.request(b"vFile:close:%x" % fd) == b"F-1,9"  # EBADF
        path = str(victim).encode().hex().encode()
        assert client.request(b"vFile:open:%s,1,1a4" % path) == b"F-1,d"  # write: EACCES
        assert client.request(b"vFile:open:%s,602,1a4" % path) == b"F-1,d"  # create/trunc
        assert client.request(b"vFile:unlink:%s" % path) == b"F-1,d"
        assert client.request(b"vFile:pwrite:3,0:xyz") == b"F-1,d"
        missing = str(tmp_path / "missing").encode().hex().encode()
        assert client.request(b"vFile:open:%s,0,0" % missing) == b"F-1,2"  # ENOENT
        assert victim.read_bytes() == b"unchanged"
    finally:
        client.close()


def test_malformed_and_unknown_packets(targets, gdbserver):
    server = gdbserver("--", targets["rsp"].path)
    client = RawClient(server.port)
    try:
        assert client.request(b"qNoSuchQuery") == b""
        assert client.request(b"Y") == b""
        assert client.request(b"mzz,4") == b"E01"
        assert client.request(b"m1000") == b"E01"
        assert client.request(b"p999") == b"E01"
        assert client.request(b"Z3,1000,4") == b""  # x86: no read-only watchpoints
        assert client.request(b"Z9,1000,4") == b""
        assert client.request(b"Z0,zz") == b"E01"
        assert client.request(b"vCont?") == b"vCont;c;C;s;S;t"
        assert client.request(b"vCont;t") == b"E01"  # needs non-stop
        assert client.request(b"vCont;q") == b"E01"
        assert client.request(b"QNonStop:1") == b"E01"
        assert client.request(b"X1000,4:}") == b"E01"  # an escape cut short
        assert client.request(b"QStartNoAckMode") == b"OK"
        client.ack = False
        assert client.request(b"?").startswith(b"T05")
    finally:
        client.close()
