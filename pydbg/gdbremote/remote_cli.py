"""`pydbg -remote gdb:HOST:PORT [-c "commands"] [-i] [--debug]`: a cdb session on the
process a GDB-remote server (gdbserver, lldb-server) debugs, through pydbg.connect.

As for a local target: batch runs the commands (default "g") and waits once more if they
left the target running; interactive (a terminal and no -c, or -c with -i) opens the
prompt after the initial break.  At the end the program is killed, as gdb does when it
quits a `target remote` session (`.detach` first lets it run on).  Exit status: the
program's exit code if it ran to its end, 1 if the connection or a command failed, 2 for
bad usage.  The `-remote tcp:...` form (pydbg's own host engine) is not this module's.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from pydbg.client import DebugClient, connect_gdbserver
from pydbg.constants import DebugEnd, DebugStatus, OutputMask
from pydbg.errors import PydbgError

__all__ = ["is_gdb_remote", "main"]


def is_gdb_remote(words: Sequence[str]) -> bool:
    """Does this command line ask for a GDB-remote session (`-remote gdb:...`)?"""
    return any(
        word == "-remote" and i + 1 < len(words) and words[i + 1].startswith("gdb:")
        for i, word in enumerate(words)
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pydbg -remote gdb:HOST:PORT",
        description="Debug the process a GDB-remote server on this machine debugs.",
    )
    parser.add_argument("-remote", dest="address", required=True, metavar="gdb:HOST:PORT")
    parser.add_argument("-c", dest="commands", default=None, metavar="COMMANDS")
    parser.add_argument("-i", dest="interactive", action="store_true")
    parser.add_argument("--debug", action="store_true")
    return parser


def _fail(exc: BaseException, debug: bool) -> None:
    message = str(exc).strip()
    if not isinstance(exc, PydbgError):
        message = f"internal error: {type(exc).__name__}: {message}"
    print(f"pydbg: {message}", file=sys.stderr)
    if debug or os.environ.get("PYDBG_LOG"):
        traceback.print_exc()


def main(words: Sequence[str]) -> int:
    args = _parser().parse_args(list(words))
    interactive = (args.commands is None or args.interactive) and sys.stdin.isatty()
    try:
        client = connect_gdbserver(args.address)
    except (PydbgError, ValueError, OSError) as exc:
        _fail(exc, args.debug)
        return 1
    if interactive:
        return _interactive(client, args)
    return _batch(client, args)


def _batch(client: DebugClient, args: argparse.Namespace) -> int:
    def write(mask: int, text: str) -> None:
        stream = sys.stderr if mask & (OutputMask.ERROR | OutputMask.WARNING) else sys.stdout
        stream.write(text)
        stream.flush()

    client.set_output_callbacks(write)
    control = client.control
    status = 0
    try:
        control.wait_for_event()
        control.execute(args.commands if args.commands is not None else "g")
        if control.get_execution_status() not in (DebugStatus.BREAK, DebugStatus.NO_DEBUGGEE):
            control.wait_for_event()
    except Exception as exc:  # noqa: BLE001 - one line (the traceback with --debug)
        _fail(exc, args.debug)
        status = 1
    finally:
        if control.get_execution_status() == DebugStatus.NO_DEBUGGEE:
            code = client.get_exit_code()
            if status == 0 and code is not None:
                status = code
        else:
            client.end_session(DebugEnd.ACTIVE_TERMINATE)
    return status


def _interactive(client: DebugClient, args: argparse.Namespace) -> int:
    from pydbg.repl.loop import Repl
    from pydbg.repl.terminal import Terminal

    terminal = Terminal(sys.stdin.fileno())
    write = terminal.writer()

    def output(mask: int, text: str) -> None:
        write(sys.stderr if mask & (OutputMask.ERROR | OutputMask.WARNING) else sys.stdout, text)

    client.set_output_callbacks(output)
    repl = Repl(client, terminal, launch=None, debug=args.debug)
    repl.interrupts.install()
    try:
        with repl.interrupts.waiting():
            client.control.wait_for_event()
        client.control.output_current_state()
    except Exception as exc:  # noqa: BLE001 - one line (the traceback with --debug)
        _fail(exc, args.debug)
        if client.control.get_execution_status() != DebugStatus.NO_DEBUGGEE:
            client.end_session(DebugEnd.PASSIVE)
        terminal.restore()
        return 1
    return repl.run(args.commands)
