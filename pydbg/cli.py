"""The `pydbg` command line: debug a program or a running process, at a prompt or in batch.

    pydbg [-c "commands"] [-i] -- program [args...]
    pydbg [-c "commands"] [-i] -p PID
    pydbg [-c "commands"] [-i] -pn NAME
    pydbg [-c "commands"] [-i] -z CORE [PROG]
    pydbg run [--timeout SECONDS] [--json FILE] -- program [args...]
    pydbg run [--timeout SECONDS] [--json FILE] -p PID | -pn NAME
    pydbg -server tcp:port=N[,password=P] [--tls CERT KEY] (-- program [args...] | -p PID)
    pydbg -remote tcp:server=HOST,port=N[,password=P] [-c "commands"]
    pydbg -remote gdb:HOST:PORT [-c "commands"] [-i]   (pydbg.gdbremote.remote_cli)
    pydbg gdbserver [--multi] HOST:PORT -- program [args...]   (pydbg.gdbremote.cli)
    pydbg --version

It launches the program (or attaches to PID, or to the one running process whose
executable is NAME), waits for the initial breakpoint and then:

* Interactive (stdin a terminal and no -c; or -c with -i, after the commands): a cdb
  prompt, `0:000> `, until Ctrl-D or `q` (pydbg.repl).  A launched program runs in its own
  process group and gets the terminal while it runs: it can read it, and Ctrl-C breaks in.
  `.help` lists the commands.
* Batch (-c, or stdin not a terminal): runs the commands (`;`-separated, with cdb's
  implicit waits: `t; r; g; ? @$ip`), and if the last command set the targets running it
  waits once more for the next event.
* Run (`pydbg run`, and a launch without -c and without a terminal; pydbg.batch): the
  program runs to its end, quietly; a crash (a signal it does not handle and that kills
  it) is reported on stderr before the signal is delivered (pydbg.reports.crash), then it
  dies of it.  --timeout: when the time is up, every thread's stack, the program killed,
  exit 124.  --json FILE: the event log and the report as JSON Lines
  (pydbg.reports.jsonl).  `pydbg run -p PID` (or -pn NAME) watches a running process
  the same way, but at --timeout it shows the stacks and DETACHES: the process runs on.

-z CORE [PROG] opens a core file instead (cdb's -z, DbgEng's OpenDumpFile): the process it
recorded, read-only, broken in at the signal that made the core (`.lastevent`, `.exr -1`);
`k`, `~*k`, `r`, `d*`, `u`, `ln`, `lm` and `!address` work on it, and what would run or
change it (g, t, p, bp, e*, r REG=..., .kill) fails with one line.  PROG: the program the
core came from, read for symbols and code instead of the path the core recorded (as
`gdb PROG CORE`).  Batch without -c only opens it (and shows errors); exit status 0, or 1
if the core cannot be read or a command failed.

Only the first `--` separates pydbg's arguments from the program's: later ones are the
program's.  At the end a launched program is killed, an attached process detached (it
runs on).

Exit status (batch and run): the program's exit code if it ran to its end (128+N for death
by signal N, as a shell reports it), 124 when --timeout expired, 1 if a command or pydbg
failed, 2 for bad usage, 0 otherwise.  Interactive: 0, or 1 if the session could not
start.  Output of the commands goes to stdout, errors and reports to stderr, one line each
for errors (--debug, or PYDBG_LOG, adds the traceback).

The command line only parses and dispatches: the session, the batch run and the reports
live in their modules.

SIGTERM, SIGHUP or a second Ctrl-C end the session the same way (launched: killed,
attached: detached with every breakpoint removed) and then the CLI dies of that signal
(pydbg.engine.teardown).  In batch mode the first Ctrl-C breaks in, as in cdb, and the
CLI ends (a run shows every thread's stack first, and exits 130).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from collections.abc import Sequence

import pydbg
from pydbg.client import DebugClient, create_client
from pydbg.commands.interpreter import UnknownCommandError
from pydbg.constants import DebugEnd, DebugStatus, GetProcFlags, OutputMask
from pydbg.engine import teardown
from pydbg.errors import PydbgError
from pydbg.repl import restart as _restart  # noqa: F401 - registers .restart for .help


class _Version(argparse.Action):
    """--version, looked up only when asked for (importlib.metadata costs start-up time)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"pydbg {pydbg.__version__}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pydbg",
        description="Debug a program or a process with cdb-style commands, at a prompt "
        "or in batch.",
        epilog="examples: pydbg -- /bin/ls -l     pydbg -p 1234     pydbg -pn myserver\n"
        '          pydbg -c "bp main; g; k" -- ./prog      (.help at the prompt)\n'
        "          pydbg run --timeout 60 --json run.jsonl -- ./prog   (CI: pydbg run -h)\n"
        '          pydbg -z core ./prog -c "~*k; .exr -1"   (a core file, read-only)',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-c",
        dest="commands",
        default=None,
        metavar="COMMANDS",
        help='commands to run after the initial breakpoint (batch default: "g")',
    )
    parser.add_argument(
        "-i",
        dest="interactive",
        action="store_true",
        help="with -c: stay at the prompt after the commands",
    )
    parser.add_argument(
        "-p",
        dest="pid",
        type=int,
        metavar="PID",
        help="attach to a running process instead of launching one",
    )
    parser.add_argument(
        "-pn",
        dest="name",
        metavar="NAME",
        help="attach to the running process whose executable is NAME",
    )
    parser.add_argument(
        "-z",
        dest="dump",
        nargs="+",
        metavar="CORE",
        help="CORE [PROG]: open a core file read-only; PROG: the program it came from",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    _run_options(parser)
    parser.add_argument("--version", action=_Version, help="show pydbg's version and exit")
    parser.add_argument("program", nargs=argparse.REMAINDER,
                        help="the program and its arguments, after --")  # fmt: skip
    return parser


def _version() -> str:
    import pydbg

    return pydbg.__version__


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"the timeout must be more than 0 s, not {text}")
    return value


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="batch run: when the time is up, show every thread's stack, kill, exit 124",
    )
    parser.add_argument(
        "--json",
        dest="json_file",
        metavar="FILE",
        help="batch run: write the event log and the report to FILE as JSON Lines",
    )
    parser.add_argument(
        "--core",
        metavar="FILE",
        help="batch run: at a crash or a timeout, write an ELF core file of the program",
    )


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pydbg run",
        description="Run a program to its end under the debugger (batch / CI mode): a crash "
        "report on stderr when it crashes, its exit status as pydbg's.",
        epilog="example: pydbg run --timeout 60 --json run.jsonl -- ./tests --verbose",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument(
        "-p",
        dest="pid",
        type=int,
        metavar="PID",
        help="watch this running process (detached from, not killed, at --timeout)",
    )
    parser.add_argument(
        "-pn",
        dest="name",
        metavar="NAME",
        help="as -p, for the one running process whose executable is NAME",
    )
    _run_options(parser)
    parser.add_argument("program", nargs=argparse.REMAINDER,
                        help="the program and its arguments, after --")  # fmt: skip
    return parser


def _program(words: list[str]) -> list[str]:
    """The program's argv: what follows the first `--` (later ones are the program's)."""
    return words[1:] if words[:1] == ["--"] else words


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["run"]:
        return _run_command(words[1:])
    from pydbg.gdbremote.remote_cli import is_gdb_remote

    if is_gdb_remote(words):  # `-remote gdb:HOST:PORT`: a GDB-remote server's target
        from pydbg.gdbremote.remote_cli import main as gdb_remote_main

        return gdb_remote_main(words)
    if words[:1] in (["-server"], ["-remote"]):
        from pydbg.hostengine import cli as hostengine_cli  # the host engine (DbgEng's)

        return hostengine_cli.main(words)
    if words[:1] == ["gdbserver"]:
        from pydbg.gdbremote.cli import main as gdbserver_main

        return gdbserver_main(words[1:])
    parser = _parser()
    args = parser.parse_args(words)
    program = _program(args.program)
    if args.dump is not None:
        words = args.dump + program
        if args.pid is not None or args.name is not None or len(words) > 2:
            return _usage(parser, "-z takes a core file and at most its program: -z CORE [PROG]")
        if args.timeout is not None or args.json_file is not None or args.core is not None:
            return _usage(parser, "--timeout, --json and --core run a program: not with -z")
        dump = (words[0], words[1] if len(words) > 1 else None)
        if (args.commands is None or args.interactive) and sys.stdin.isatty():
            return _interactive(args, [], dump)
        return _batch(args, [], dump)
    targets = (args.pid is not None) + (args.name is not None) + bool(program)
    if targets != 1:
        parser.print_usage(sys.stderr)
        print("pydbg: give one of -p PID, -pn NAME or -- program [args]", file=sys.stderr)
        return 2
    interactive = (args.commands is None or args.interactive) and sys.stdin.isatty()
    if args.interactive and not sys.stdin.isatty():
        print("pydbg: -i needs a terminal on stdin", file=sys.stderr)
        return 2
    if interactive:
        if args.timeout is not None or args.json_file is not None or args.core is not None:
            return _usage(parser, "--timeout, --json and --core are for batch runs (pydbg run)")
        return _interactive(args, program)
    if args.commands is None and program:
        return _run(args, program)
    if args.timeout is not None or args.json_file is not None or args.core is not None:
        return _usage(parser, "--timeout, --json and --core run a program to its end: no -c, no -p")
    return _batch(args, program)


def _usage(parser: argparse.ArgumentParser, message: str) -> int:
    parser.print_usage(sys.stderr)
    print(f"pydbg: {message}", file=sys.stderr)
    return 2


def _run_command(words: list[str]) -> int:
    """`pydbg run [options] -- program args`."""
    parser = _run_parser()
    args = parser.parse_args(words)
    program = _program(args.program)
    if (args.pid is not None) + (args.name is not None) + bool(program) != 1:
        return _usage(parser, "give one of -p PID, -pn NAME or -- program [args]")
    return _run(args, program)


def _run(args: argparse.Namespace, program: list[str]) -> int:
    """Batch / CI mode (pydbg.batch): the program's exit status, 124 on timeout."""
    from pydbg.batch import run_program

    teardown.install_handlers(sigint=True)
    try:
        attach = getattr(args, "pid", None)
        if getattr(args, "name", None) is not None:
            from pydbg.constants import GetProcFlags
            from pydbg.running_processes import process_id_by_executable_name

            attach = process_id_by_executable_name(args.name, GetProcFlags.ONLY_MATCH)
        if args.json_file is None:
            return run_program(
                program, timeout=args.timeout, version=_version(), core=args.core, attach=attach
            ).status
        with open(args.json_file, "w", encoding="utf-8") as json_file:
            return run_program(
                program,
                timeout=args.timeout,
                json_file=json_file,
                version=_version(),
                core=args.core,
                attach=attach,
            ).status
    except Exception as exc:  # noqa: BLE001 - one line (the traceback with --debug)
        _fail(exc, args.debug)
        return 1


def _fail(exc: BaseException, debug: bool) -> None:
    message = str(exc).strip()
    if isinstance(exc, UnknownCommandError):
        from pydbg.repl.loop import unknown_command_message

        found = re.search(r"unknown command '([^']*)'", message)
        if found:
            message = unknown_command_message(exc, found.group(1))
    elif not isinstance(exc, PydbgError):
        hint = "" if debug else " (--debug shows the traceback)"
        message = f"internal error: {type(exc).__name__}: {message}{hint}"
    print(f"pydbg: {message}", file=sys.stderr)
    if debug or os.environ.get("PYDBG_LOG"):
        traceback.print_exc()


def _resolve(client: DebugClient, name: str) -> int:
    """-pn NAME: the pid of the one running process of that executable (DbgEng's
    GetRunningProcessSystemIdByExecutableName with ONLY_MATCH, as cdb's `-pn`: several
    matches raise an error that lists the candidates)."""
    return client.get_running_process_system_id_by_executable_name(name, GetProcFlags.ONLY_MATCH)


def _batch(
    args: argparse.Namespace, program: list[str], dump: tuple[str, str | None] | None = None
) -> int:
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
    attached = not program
    try:
        if program:
            from pydbg.repl.restart import Launch

            Launch(client, program, new_process_group=False).start()  # (.restart works too)
        elif dump is not None:
            client.open_dump_file(*dump)
        else:
            client.attach_process(args.pid if args.pid is not None else _resolve(client, args.name))
        control.wait_for_event()
        default = "" if dump is not None else "g"  # (a core cannot run)
        control.execute(args.commands if args.commands is not None else default)
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
            client.end_session(DebugEnd.ACTIVE_DETACH if attached else DebugEnd.ACTIVE_TERMINATE)
    return status


def _interactive(
    args: argparse.Namespace, program: list[str], dump: tuple[str, str | None] | None = None
) -> int:
    from pydbg.repl.interrupts import stop_on_terminal_stop
    from pydbg.repl.loop import Repl
    from pydbg.repl.restart import Launch
    from pydbg.repl.terminal import Terminal

    terminal = Terminal(sys.stdin.fileno())
    write = terminal.writer()

    def output(mask: int, text: str) -> None:
        write(sys.stderr if mask & (OutputMask.ERROR | OutputMask.WARNING) else sys.stdout, text)

    client = create_client()
    client.set_output_callbacks(output)
    launch = Launch(client, program, new_process_group=True) if program else None
    repl = Repl(client, terminal, launch=launch, debug=args.debug)
    repl.interrupts.install()
    try:
        if launch is not None:
            launch.start()
        elif dump is not None:
            client.open_dump_file(*dump)
        else:
            client.attach_process(args.pid if args.pid is not None else _resolve(client, args.name))
        with repl.interrupts.waiting():
            client.control.wait_for_event()
        client.control.output_current_state()
        if launch is not None:
            stop_on_terminal_stop(client.control)
    except Exception as exc:  # noqa: BLE001 - one line (the traceback with --debug)
        _fail(exc, args.debug)
        if client.control.get_execution_status() != DebugStatus.NO_DEBUGGEE:
            client.end_session(DebugEnd.PASSIVE)
        terminal.restore()
        return 1
    return repl.run(args.commands)


if __name__ == "__main__":
    sys.exit(main())
