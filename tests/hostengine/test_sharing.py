"""Several remote clients share one host engine's session (spec §7): commands and output,
votes by precedence, clients that leave (abruptly, with DEBUG_END_DISCONNECT, with
DEBUG_END_REENTRANT) while the session and the target go on.  Against `loop -1` served by
`pydbg -server` in a subprocess (conftest.py); addresses come from the ELF file and the
process's maps (tests/support.Binary), not from the debugger."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from typing import Any

import psutil
import pytest

from pydbg.callbacks import EventCallbacks
from pydbg.constants import (
    DEBUG_END_DISCONNECT,
    DEBUG_END_REENTRANT,
    DEBUG_OUTCTL_ALL_CLIENTS,
    DEBUG_STATUS_BREAK,
    DEBUG_STATUS_GO,
    DebugEvent,
)
from pydbg.engine.images import module_name
from pydbg.hostengine import RemoteDisconnectedError, wire
from tests.hostengine.conftest import PASSWORD, Host


class Output:
    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, mask: int, text: str) -> None:
        with self.lock:
            self.pieces.append(text)

    @property
    def text(self) -> str:
        with self.lock:
            return "".join(self.pieces)

    def clear(self) -> None:
        with self.lock:
            self.pieces.clear()


class Voter(EventCallbacks):
    """Votes `vote(hits)` on every breakpoint; counts the hits it saw."""

    def __init__(self, vote: Any) -> None:
        self.vote = vote
        self.hits: list[int] = []  # breakpoint offsets

    def get_interest_mask(self) -> int:
        return int(DebugEvent.BREAKPOINT)

    def breakpoint(self, bp: Any) -> int:
        self.hits.append(bp.get_offset())
        return int(self.vote(len(self.hits)))


def heard(client: Any, out: Output) -> str:
    """What `out` (client's output callbacks) got, once everything the server sent it
    before now has arrived: output for one client caused by another's call races that
    call's answer, but the server sends a client's frames in order, and a client hands
    its output to the callbacks before the answer that follows it."""
    client.control.evaluate("0")
    return out.text


def _rip(text: str) -> int:
    found = re.findall(r"rip=([0-9a-f]{16})", text)
    assert found, text
    return int(found[-1], 16)


def test_two_clients_run_commands_and_see_each_others_output(host: Host, targets: Any) -> None:
    loop = targets["loop"]
    pid = host.target_pid()
    tick, counter = loop.addr(pid, "tick"), loop.addr(pid, "counter")
    a, b = host.connect(), host.connect()
    out_a, out_b = Output(), Output()
    a.set_output_callbacks(out_a)
    b.set_output_callbacks(out_b)
    assert sorted(a.clients()) == sorted([a.identity, b.identity])

    a.control.execute(f"bp {host.module}!tick; g", DEBUG_OUTCTL_ALL_CLIENTS)
    assert a.control.wait_for_event()
    # The breakpoint banner is the engine's: everyone sees it; and everyone sees a's
    # command, prefixed with a's identity (spec §7.4).
    for client, out in ((a, out_a), (b, out_b)):
        assert "Breakpoint 0 hit" in heard(client, out)
    assert f"{a.identity}> bp {host.module}!tick; g" in heard(b, out_b)
    assert f"{a.identity}>" not in heard(a, out_a)

    out_a.clear()
    out_b.clear()
    b.control.execute("r rip")  # THIS_CLIENT: only b sees it
    assert _rip(out_b.text) == tick
    assert "rip=" not in heard(a, out_a)
    a.control.execute("k")
    assert f"{host.module}!tick" in out_a.text and f"{host.module}!main" in out_a.text
    assert f"{host.module}!main" not in heard(b, out_b)
    out_a.clear()
    b.control.execute(f"dq {host.module}!counter L1", DEBUG_OUTCTL_ALL_CLIENTS)
    line = re.search(
        r"^([0-9a-f]{8})`([0-9a-f]{8})\s+([0-9a-f]{8})`([0-9a-f]{8})", heard(a, out_a), re.M
    )
    assert line, out_a.text
    assert int(line.group(1) + line.group(2), 16) == counter
    assert b.control.evaluate(f"{host.module}!tick") == tick

    # A second hit: the target really ran between the two (the counter moved on).
    before = a.control.evaluate(f"poi({host.module}!counter)")
    b.control.execute("g")
    assert b.control.wait_for_event()
    assert a.control.evaluate(f"poi({host.module}!counter)") == before + 1


def test_both_clients_vote_and_the_highest_precedence_wins(host: Host) -> None:
    a, b = host.connect(), host.connect()
    # a always votes GO; b votes GO on its first three hits, then BREAK: both GO -> go on,
    # one BREAK -> break.
    voter_a = Voter(lambda n: DEBUG_STATUS_GO)
    voter_b = Voter(lambda n: DEBUG_STATUS_BREAK if n >= 4 else DEBUG_STATUS_GO)
    a.set_event_callbacks(voter_a)
    b.set_event_callbacks(voter_b)
    a.control.execute(f"bp {host.module}!tick; g")
    assert a.control.wait_for_event()
    assert len(voter_a.hits) == len(voter_b.hits) == 4
    # tick() increments the counter after its first instruction: three calls finished.
    assert a.control.evaluate(f"poi({host.module}!counter)") == 3
    assert _rip_of(a) == voter_a.hits[-1]

    # Now a votes BREAK and b GO: the next hit breaks.
    voter_a.vote = lambda n: DEBUG_STATUS_BREAK
    voter_b.vote = lambda n: DEBUG_STATUS_GO
    b.control.execute("g")
    assert b.control.wait_for_event()
    assert len(voter_a.hits) == len(voter_b.hits) == 5
    assert a.control.evaluate(f"poi({host.module}!counter)") == 4


def _rip_of(client: Any) -> int:
    return int(client.control.evaluate("@rip"))


def test_a_remote_callback_may_look_at_the_target_while_it_votes(host: Host) -> None:
    a = host.connect()
    seen: list[int] = []

    class Looker(EventCallbacks):
        def get_interest_mask(self) -> int:
            return int(DebugEvent.BREAKPOINT)

        def breakpoint(self, bp: Any) -> int:
            seen.append(a.control.evaluate(f"poi({host.module}!counter)"))
            return DEBUG_STATUS_GO if len(seen) < 3 else DEBUG_STATUS_BREAK

    a.set_event_callbacks(Looker())
    a.control.execute(f"bp {host.module}!tick; g")
    assert a.control.wait_for_event()
    assert seen == [0, 1, 2]


def _raw(host: Host, password: str = PASSWORD) -> Any:
    """A connection spoken to by hand (wire.py), authenticated."""
    import socket

    sock = socket.create_connection(("127.0.0.1", host.port), timeout=30)
    sock.sendall(wire.encode(wire.request(1, "authenticate", {"password": password})))
    reply = wire.decode(wire.read_frame(sock) or b"")
    return sock, reply


def test_a_client_killed_while_it_should_vote_leaves_the_session_to_the_other(
    host: Host,
) -> None:
    sock, reply = _raw(host)
    assert reply.get("result"), reply
    sock.sendall(
        wire.encode(wire.request(2, "set_event_interest", {"mask": int(DebugEvent.BREAKPOINT)}))
    )
    assert wire.decode(wire.read_frame(sock) or b"") == wire.response(2, None)
    b = host.connect()
    b.control.execute(f"bp {host.module}!tick; g")
    waiting = threading.Thread(target=lambda: results.append(b.control.wait_for_event()))
    results: list[bool] = []
    waiting.start()
    # The server asks the raw client for its vote on the breakpoint ...
    while True:
        message = wire.decode(wire.read_frame(sock) or b"")
        if message.get("method") == "event":
            break
    assert message["params"]["name"] == "breakpoint"
    # ... and it dies instead of answering: its vote is NO_CHANGE, the breakpoint breaks.
    sock.close()
    waiting.join(timeout=60)
    assert results == [True]
    out = Output()
    b.set_output_callbacks(out)
    b.control.execute("r rip")
    assert "rip=" in out.text
    assert b.clients() == [b.identity]


def test_disconnect_leaves_the_session_and_the_target_running(host: Host) -> None:
    a, b = host.connect(), host.connect()
    out_b = Output()
    b.set_output_callbacks(out_b)
    a.control.execute(f"bp {host.module}!tick; g")
    assert a.control.wait_for_event()
    pid = host.target_pid()
    a.end_session(DEBUG_END_DISCONNECT)
    assert a.closed
    with pytest.raises(RemoteDisconnectedError):
        a.control.execute("r")
    assert f"{a.identity} disconnected" in heard(b, out_b)  # the announced goodbye
    assert psutil.Process(pid).is_running() and host.proc.poll() is None
    before = b.control.evaluate(f"poi({host.module}!counter)")
    b.control.execute("g")
    assert b.control.wait_for_event()
    assert b.control.evaluate(f"poi({host.module}!counter)") == before + 1
    assert b.clients() == [b.identity]


def test_reentrant_end_from_another_thread_drops_a_client_in_a_wait(host: Host) -> None:
    a, b = host.connect(), host.connect()
    out_b = Output()
    b.set_output_callbacks(out_b)
    a.control.execute("g")  # no breakpoint: `loop -1` runs for ever
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            a.control.wait_for_event()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    waiting = threading.Thread(target=wait)
    waiting.start()
    # EndSession(REENTRANT) from this thread while a's own thread is blocked in a call:
    # no lock, no goodbye; the blocked call fails, the server ends the wait it ran for
    # a (an exit interrupt: the target runs on) and the session is b's.
    a.end_session(DEBUG_END_REENTRANT)
    waiting.join(timeout=60)
    assert len(errors) == 1 and isinstance(errors[0], RemoteDisconnectedError)
    pid = host.target_pid()
    assert psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    b.control.set_interrupt()
    assert b.control.wait_for_event()  # the break-in
    assert "disconnected" not in heard(b, out_b)  # a reentrant end is no announced goodbye
    b.control.execute("r rip")
    assert "rip=" in out_b.text
    assert b.clients() == [b.identity]


def test_set_interrupt_from_a_client_breaks_into_anothers_wait(host: Host) -> None:
    a, b = host.connect(), host.connect()
    a.control.execute("g")
    results: list[bool] = []
    waiting = threading.Thread(target=lambda: results.append(a.control.wait_for_event()))
    waiting.start()
    b.control.set_interrupt()  # served at once, though the engine thread is in a's wait
    waiting.join(timeout=60)
    assert results == [True]
    assert b.control.get_execution_status() == DEBUG_STATUS_BREAK


def test_remote_command_line_runs_batch_commands(host: Host, targets: Any) -> None:
    pid = host.target_pid()
    tick = targets["loop"].addr(pid, "tick")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pydbg",
            "-remote",
            host.options(),
            "-c",
            f"bp {host.module}!tick; g; r rip",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Breakpoint 0 hit" in result.stdout
    assert _rip(result.stdout) == tick
    # It left with a goodbye; the session is still served.
    c = host.connect()
    assert c.control.evaluate("@rip") == tick


def test_a_client_that_does_not_vote_in_time_counts_as_no_change_and_is_dropped(
    host_factory: Any, targets: Any
) -> None:
    host = host_factory(
        [targets["loop"].path, "-1"], f"tcp:port=0,password={PASSWORD}", "--vote-timeout", "1"
    )
    sock, reply = _raw(host)
    assert reply.get("result"), reply
    mask = int(DebugEvent.BREAKPOINT)
    sock.sendall(wire.encode(wire.request(2, "set_event_interest", {"mask": mask})))
    assert wire.decode(wire.read_frame(sock) or b"") == wire.response(2, None)
    b = host.connect()
    b.control.execute(f"bp {host.module}!tick; g")
    # The silent client never answers: after the vote timeout the breakpoint's own
    # decision (break) stands, and the silent client is disconnected.
    assert b.control.wait_for_event()
    names = []
    while (body := wire.read_frame(sock)) is not None:
        message = wire.decode(body)
        if message.get("method") == "event":
            names.append(message["params"]["name"])
    sock.close()
    assert names == ["breakpoint"]
    assert "no vote on breakpoint within 1s" in host.log()
    assert b.clients() == [b.identity]


def test_session_status_reaches_remote_clients_when_one_ends_the_session(host: Host) -> None:
    from pydbg.constants import (
        DEBUG_CES_EXECUTION_STATUS,
        DEBUG_END_ACTIVE_TERMINATE,
        DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE,
        DEBUG_STATUS_NO_DEBUGGEE,
    )

    heard: list[tuple[Any, ...]] = []
    ended = threading.Event()

    class Listener(EventCallbacks):
        def get_interest_mask(self) -> int:
            return int(
                DebugEvent.SESSION_STATUS | DebugEvent.CHANGE_ENGINE_STATE | DebugEvent.EXIT_PROCESS
            )

        def exit_process(self, exit_code: int) -> None:
            heard.append(("exit_process",))

        def change_engine_state(self, flags: int, argument: int) -> None:
            if flags & DEBUG_CES_EXECUTION_STATUS:
                heard.append(("status", argument))

        def session_status(self, status: int) -> None:
            heard.append(("session", status))
            ended.set()

    a, b = host.connect(), host.connect()
    a.set_event_callbacks(Listener())
    pid = host.target_pid()
    b.end_session(DEBUG_END_ACTIVE_TERMINATE)  # `q` from any client ends it for everyone
    assert ended.wait(timeout=60)
    assert heard[-3:] == [
        ("exit_process",),
        ("status", DEBUG_STATUS_NO_DEBUGGEE),
        ("session", DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE),
    ]
    assert host.proc.wait(timeout=60) == 0  # the server ends with its session
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_remote_prompt_reads_commands_from_stdin(host: Host) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pydbg", "-remote", host.options()],
        input="r rip\n? 0n40+2\n.remote_exit\nr rip\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("rip=") == 1  # nothing after .remote_exit
    assert "= 00000000`0000002a" in result.stdout


def test_server_attached_to_a_process_leaves_it_running(
    host_factory: Any, targets: Any, procs: Any
) -> None:
    loop = targets["loop"]
    target = procs.start([loop.path, "-1"])
    host = host_factory([], "tcp:port=0", "-p", str(target.pid), module=module_name(loop.path))
    client = host.connect()
    assert client.control.evaluate(f"{host.module}!tick") == loop.addr(target.pid, "tick")
    client.control.execute(f"bp {host.module}!tick; g")
    assert client.control.wait_for_event()
    client.close()
    host.proc.terminate()  # SIGTERM: the session ends, the attached target is detached
    assert host.proc.wait(timeout=60) != 0
    status = psutil.Process(target.pid).status()
    assert status in (psutil.STATUS_RUNNING, psutil.STATUS_SLEEPING), status
    with open(f"/proc/{target.pid}/status") as f:
        assert "TracerPid:\t0" in f.read()


def test_a_remote_callback_that_raises_counts_as_break(host: Host) -> None:
    a, b = host.connect(), host.connect()

    def fail(n: int) -> int:
        raise RuntimeError("callback bug")

    a.set_event_callbacks(Voter(lambda n: DEBUG_STATUS_GO))
    b.set_event_callbacks(Voter(fail))  # as a local callback's exception: BREAK
    a.control.execute(f"bp {host.module}!tick; g")
    assert a.control.wait_for_event()
    assert a.control.evaluate(f"poi({host.module}!counter)") == 0  # the first hit broke


def test_the_server_ends_with_its_session_when_the_program_exits(
    host_factory: Any, targets: Any
) -> None:
    host = host_factory([targets["loop"].path, "3"])  # three ticks, then exit(0)
    a = host.connect()
    exits: list[int] = []

    class Exits(EventCallbacks):
        def get_interest_mask(self) -> int:
            return int(DebugEvent.EXIT_PROCESS)

        def exit_process(self, exit_code: int) -> None:
            exits.append(exit_code)

    a.set_event_callbacks(Exits())
    a.control.execute("g")
    assert a.control.wait_for_event() is False  # the session ended in the wait
    assert exits == [0]
    assert host.proc.wait(timeout=60) == 0
    a.close()
