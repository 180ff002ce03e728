"""The `pydbg` command line: run cdb commands against a program or a running process.

    pydbg [-c "commands"] -- program [args...]
    pydbg [-c "commands"] -p PID

It launches the program (or attaches to PID), waits for the initial breakpoint, runs the
commands (`;`-separated, with cdb's implicit waits: `t; r; g; ? @$ip`), and if the last
command set the targets running it waits once more for the next event.  Then it ends the
session: a launched program is killed, an attached process detached (it runs on).  Without
-c the command is `g`: the program runs to its end under the debugger, with its exceptions
reported.

Exit status: the program's exit code if it ran to its end (128+N for death by signal N),
1 if a command failed, 2 for bad usage, 0 otherwise.  Output of the commands goes to
stdout, errors to stderr.

SIGTERM, SIGHUP or a second Ctrl-C end the session the same way (launched: killed,
attached: detached with every breakpoint removed) and then the CLI dies of that signal
(pydbg.engine.teardown).  The first Ctrl-C breaks in, as in cdb, and the CLI ends.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydbg.client import create_client
from pydbg.constants import DebugEnd, DebugStatus, OutputMask
from pydbg.engine import teardown
from pydbg.errors import PydbgError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pydbg",
        description="Run cdb-style debugger commands against a program or a process.",
        epilog='example: pydbg -c "r; t 3; r rip; g" -- /bin/echo hello',
    )
    parser.add_argument(
        "-c",
        dest="commands",
        default="g",
        metavar="COMMANDS",
        help='commands to run after the initial breakpoint (default: "g")',
    )
    parser.add_argument(
        "-p",
        dest="pid",
        type=int,
        metavar="PID",
        help="attach to a running process instead of launching one",
    )
    parser.add_argument("program", nargs=argparse.REMAINDER,
                        help="the program and its arguments, after --")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    program = [a for a in args.program if a != "--"] if args.program[:1] == ["--"] else args.program
    if (args.pid is None) == (not program):
        parser.print_usage(sys.stderr)
        print("pydbg: give either -p PID or -- program [args]", file=sys.stderr)
        return 2

    def write(mask: int, text: str) -> None:
        stream = sys.stderr if mask & (OutputMask.ERROR | OutputMask.WARNING) else sys.stdout
        stream.write(text)
        stream.flush()

    # SIGTERM, SIGHUP and a second Ctrl-C detach what was attached (every int3 removed)
    # and kill what was launched before the CLI dies of the signal.
    teardown.install_handlers(sigint=True)
    client = create_client()
    client.set_output_callbacks(write)
    control = client.control
    status = 0
    try:
        if args.pid is not None:
            client.attach_process(args.pid)
        else:
            client.create_process(program)
        control.wait_for_event()
        control.execute(args.commands)
        if control.get_execution_status() not in (DebugStatus.BREAK, DebugStatus.NO_DEBUGGEE):
            control.wait_for_event()
    except PydbgError as exc:
        print(f"pydbg: {exc}", file=sys.stderr)
        status = 1
    finally:
        if control.get_execution_status() == DebugStatus.NO_DEBUGGEE:
            code = client.get_exit_code()
            if status == 0 and code is not None:
                status = code
        else:
            client.end_session(
                DebugEnd.ACTIVE_DETACH if args.pid is not None else DebugEnd.ACTIVE_TERMINATE
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
