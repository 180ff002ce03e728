"""The host engine's command lines: `pydbg -server ...` and `pydbg -remote ...`.

    pydbg -server tcp:port=N[,password=P][,bind=ADDR] [--tls CERT KEY]
          [--vote-timeout S] (-- program [args...] | -p PID)
    pydbg -remote tcp:server=HOST,port=N[,password=P][,tls][,cafile=CA] [-c "commands"]

`-server` launches the program (or attaches to PID), waits for the initial breakpoint,
prints `pydbg: serving on ADDR:PORT` (the port the system chose for port=0) and serves the
session to remote clients (pydbg.hostengine.server) until it ends: the last target exited,
or a client ended it (`q`).  It prints what every client does, as cdb's server console
does, and takes no commands itself (cdb's `-noio`).  Ctrl-C, SIGTERM: the session ends
(launched: killed; attached: detached).

`-remote` connects (pydbg.hostengine.remote_client) and runs commands at a prompt, or the
`-c` ones then leaves.  Every command and its output is seen by every client (spec §7.4).
After a command that sets the targets running it waits for the next event and shows the
state, as cdb does.  Ctrl-C breaks into the running targets; `.remote_exit` (or Ctrl-D)
leaves and the session goes on; `q` ends the session for everybody.

Exit status: 0; 1 when the connection or a command failed; 2 for bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from pydbg.client import DebugClient, create_client
from pydbg.constants import (
    DEBUG_OUTCTL_ALL_CLIENTS,
    DebugEnd,
    DebugStatus,
)
from pydbg.engine import teardown
from pydbg.errors import PydbgError
from pydbg.hostengine.options import parse_serve
from pydbg.hostengine.remote_client import RemoteClient, connect
from pydbg.hostengine.server import VOTE_TIMEOUT, HostEngineServer

__all__ = ["main"]


def main(words: Sequence[str]) -> int:
    """`words` starts with -server or -remote (pydbg.cli dispatches here)."""
    if words[0] == "-server":
        return _serve(list(words[1:]))
    return _remote(list(words[1:]))


def _print(mask: int, text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


# -- -server -------------------------------------------------------------------------------------


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pydbg -server", description="Serve a debugging session to remote clients."
    )
    parser.add_argument("transport", help="tcp:port=N[,password=P][,bind=ADDR]")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="TLS certificate and key")
    parser.add_argument("--vote-timeout", type=float, default=VOTE_TIMEOUT, metavar="S")
    parser.add_argument("-p", dest="pid", type=int, help="attach to this process")
    return parser


def _serve(words: list[str]) -> int:
    parser = _serve_parser()
    # Only the first `--` separates pydbg's arguments from the program's.
    split = words.index("--") if "--" in words else len(words)
    args = parser.parse_args(words[:split])
    program = words[split + 1 :]
    if (args.pid is not None) == bool(program):
        parser.print_usage(sys.stderr)
        print("pydbg: give one of -p PID or -- program [args]", file=sys.stderr)
        return 2
    try:
        options = parse_serve(args.transport)
    except PydbgError as exc:
        print(f"pydbg: {exc}", file=sys.stderr)
        return 2
    teardown.install_handlers()
    client = create_client()
    client.set_output_callbacks(_print)
    try:
        if program:
            client.create_process(program)
        else:
            client.attach_process(args.pid)
        client.control.wait_for_event()
        client.control.output_current_state()
        server = HostEngineServer(
            client,
            options,
            tls=tuple(args.tls) if args.tls else None,
            vote_timeout=args.vote_timeout,
        )
        port = server.start()
    except (PydbgError, OSError) as exc:
        print(f"pydbg: {exc}", file=sys.stderr)
        _end(client)
        return 1
    print(f"pydbg: serving on {options.bind}:{port}", flush=True)
    try:
        server.serve(until=lambda: _ended(client))
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        _end(client)
    return 0


def _ended(client: DebugClient) -> bool:
    return client.control.get_execution_status() == DebugStatus.NO_DEBUGGEE


def _end(client: DebugClient) -> None:
    if not _ended(client):
        try:
            client.end_session(DebugEnd.PASSIVE)
        except PydbgError as exc:
            print(f"pydbg: {exc}", file=sys.stderr)


# -- -remote -------------------------------------------------------------------------------------


def _remote_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pydbg -remote", description="Join a pydbg debugging server's session."
    )
    parser.add_argument("transport", help="tcp:server=HOST,port=N[,password=P][,tls][,cafile=CA]")
    parser.add_argument("-c", dest="commands", help="run these commands, then leave")
    return parser


def _remote(words: list[str]) -> int:
    args = _remote_parser().parse_args(words)
    try:
        client = connect(args.transport)
    except (PydbgError, OSError) as exc:
        print(f"pydbg: cannot join {args.transport}: {exc}", file=sys.stderr)
        return 1
    client.set_output_callbacks(_print)
    previous = signal.signal(signal.SIGINT, _interrupter(client))
    try:
        if args.commands is not None:
            return _run_line(client, args.commands)
        return _prompt(client)
    finally:
        signal.signal(signal.SIGINT, previous)
        if not client.closed:
            try:
                client.end_session(DebugEnd.DISCONNECT)
            except PydbgError:
                client.close()
        client.close()


def _interrupter(client: RemoteClient) -> Callable[[int, FrameType | None], None]:
    def on_sigint(signo: int, frame: FrameType | None) -> None:
        # The main thread may hold the client's send lock: break in from a thread.
        threading.Thread(target=_break_in, args=(client,), daemon=True).start()

    return on_sigint


def _break_in(client: RemoteClient) -> None:
    with contextlib.suppress(PydbgError):
        client.control.set_interrupt()


def _run_line(client: RemoteClient, line: str) -> int:
    control = client.control
    try:
        control.execute(line, DEBUG_OUTCTL_ALL_CLIENTS)
        status = control.get_execution_status()
        running = status not in (DebugStatus.BREAK, DebugStatus.NO_DEBUGGEE)
        if running and control.wait_for_event():
            control.output_current_state(output_control=DEBUG_OUTCTL_ALL_CLIENTS)
    except PydbgError as exc:
        print(f"pydbg: {exc}", file=sys.stderr)
        return 1
    return 0


def _prompt(client: RemoteClient) -> int:
    while not client.closed:
        try:
            line = input(f"{client.identity}> ")
        except EOFError:
            break
        except KeyboardInterrupt:
            print()
            continue
        if line.strip() == ".remote_exit":
            break
        if line.strip():
            _run_line(client, line)
    return 0
