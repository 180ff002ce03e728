"""`pydbg gdbserver`: serve one gdb (or lldb) connection over the GDB remote protocol.

    pydbg gdbserver [--multi] HOST:PORT -- program [args...]
    pydbg gdbserver HOST:PORT --attach PID
    pydbg gdbserver --multi HOST:PORT

PORT 0 picks a free port.  As gdbserver does, the server says on stderr what it started
(`Process PROG created; pid = N`) and where it listens (`Listening on port N`), then
accepts one connection.  When the connection ends, a launched program is killed and an
attached one detached (unless gdb detached or killed it first), and the server exits:
unlike gdbserver --multi it does not wait for another connection.  --multi serves
`target extended-remote` (vRun, vAttach, a session that outlives its process).
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence

from pydbg.client import create_client
from pydbg.constants import DebugEnd
from pydbg.errors import PydbgError
from pydbg.gdbremote.server import GdbServer

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pydbg gdbserver",
        description="Serve a program to gdb's `target remote` / `target extended-remote`.",
    )
    parser.add_argument("address", metavar="HOST:PORT", help="where to listen (PORT 0: any)")
    parser.add_argument("--multi", action="store_true", help="extended-remote mode (vRun)")
    parser.add_argument("--attach", type=int, metavar="PID", help="attach to a running process")
    return parser


def _listen(address: str) -> socket.socket:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{address!r} is not HOST:PORT")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host or "127.0.0.1", int(port)))
    sock.listen(1)
    return sock


def main(words: Sequence[str]) -> int:
    words = list(words)
    program: list[str] = []
    if "--" in words:
        at = words.index("--")
        words, program = words[:at], words[at + 1 :]
    parser = _parser()
    args = parser.parse_args(words)
    if args.attach is not None and program:
        parser.print_usage(sys.stderr)
        print("pydbg gdbserver: give --attach PID or -- program, not both", file=sys.stderr)
        return 2
    if args.attach is None and not program and not args.multi:
        parser.print_usage(sys.stderr)
        print("pydbg gdbserver: give -- program [args], --attach PID, or --multi", file=sys.stderr)
        return 2
    try:
        listener = _listen(args.address)
    except (OSError, ValueError) as exc:
        print(f"pydbg gdbserver: cannot listen on {args.address}: {exc}", file=sys.stderr)
        return 1
    client = create_client()
    try:
        if program:
            pid = client.create_process(program)
            client.control.wait_for_event(30.0)
            print(f"Process {program[0]} created; pid = {pid}", file=sys.stderr, flush=True)
        elif args.attach is not None:
            client.attach_process(args.attach)
            client.control.wait_for_event(30.0)
            print(f"Attached; pid = {args.attach}", file=sys.stderr, flush=True)
        server = GdbServer(
            client, extended=args.multi, program=program, attached=args.attach is not None
        )
        print(f"Listening on port {listener.getsockname()[1]}", file=sys.stderr, flush=True)
        connection, peer = listener.accept()
        listener.close()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        print(f"Remote debugging from host {peer[0]}, port {peer[1]}", file=sys.stderr, flush=True)
        with connection:
            try:
                server.serve(connection)
            finally:
                server.end()
    except PydbgError as exc:
        print(f"pydbg gdbserver: {exc}", file=sys.stderr)
        return 1
    finally:
        listener.close()
        if client.describe_processes():
            client.end_session(DebugEnd.PASSIVE)
    return 0
