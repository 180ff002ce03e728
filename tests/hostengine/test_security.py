"""What the host engine does with clients it should not trust: a wrong password, frames
that are malformed, truncated, oversize or sent before authentication (a fuzz of 100,000
of them), a server off the loopback without a password; and TLS."""

from __future__ import annotations

import json
import random
import shutil
import socket
import struct
import subprocess
import sys
import threading
from typing import Any

import pytest

import pydbg
from pydbg.constants import DEBUG_OUTCTL_ALL_CLIENTS
from pydbg.hostengine import RemoteAuthenticationError, RemoteDisconnectedError, wire
from pydbg.hostengine.options import OptionsError, parse_connect, parse_serve
from tests.hostengine.conftest import PASSWORD, Host
from tests.support import wait_until


def _connect_raw(host: Host) -> socket.socket:
    return socket.create_connection(("127.0.0.1", host.port), timeout=30)


def _authenticate(sock: socket.socket, password: str = PASSWORD) -> dict[str, Any]:
    sock.sendall(wire.encode(wire.request(1, "authenticate", {"password": password})))
    return wire.decode(wire.read_frame(sock) or b"")


def _works(client: Any) -> None:
    """The session still answers this client."""
    seen: list[str] = []
    client.set_output_callbacks(lambda mask, text: seen.append(text))
    client.control.execute("r rip")
    assert "rip=" in "".join(seen)
    client.set_output_callbacks(None)


def test_a_wrong_password_is_refused_logged_and_nothing_else_happens(host: Host) -> None:
    b = host.connect()
    heard: list[str] = []
    b.set_output_callbacks(lambda mask, text: heard.append(text))
    with pytest.raises(RemoteAuthenticationError):
        pydbg.connect(host.options(password="wrong"))
    with pytest.raises(RemoteAuthenticationError):
        pydbg.connect(host.options(password=None))
    sock = _connect_raw(host)
    reply = _authenticate(sock, PASSWORD + "x")
    assert reply["error"]["code"] == wire.NOT_AUTHENTICATED
    assert wire.read_frame(sock) is None  # and the server closed the connection
    sock.close()
    assert host.log().count("refused: wrong password") == 3
    assert b.clients() == [b.identity]  # nobody joined ...
    assert "connected" not in "".join(heard)  # ... nor was announced
    _works(b)


def test_frames_before_authentication_are_dropped(host: Host) -> None:
    sock = _connect_raw(host)
    # A valid request, but not authenticated: dropped, not answered, not run.
    sock.sendall(wire.encode(wire.request(5, "execute", {"command": ".kill"})))
    reply = _authenticate(sock)
    assert reply["id"] == 1 and "result" in reply
    sock.close()
    assert "dropped a frame before authentication" in host.log()
    _works(host.connect())


def _junk_value(rng: random.Random) -> Any:
    return rng.choice(
        [None, True, False, 1.5, "", [], [1, 2], {}, {"a": 1}, -1, 2**70, "\u2603" * 3]
    )


def _junk_frame(rng: random.Random) -> bytes:
    """One well-framed body that is no acceptable request."""
    kind = rng.randrange(6)
    if kind == 0:
        body = rng.randbytes(rng.randrange(0, 200))
    elif kind == 1:
        body = json.dumps(_junk_value(rng)).encode()
    elif kind == 2:  # JSON-RPC shaped, wrong in one field
        message: dict[str, Any] = {"jsonrpc": rng.choice(["2.0", "1.0", 2]), "id": 9}
        message[rng.choice(["method", "result", "error", "params"])] = _junk_value(rng)
        body = json.dumps(message).encode()
    elif kind == 3:  # real methods, parameters of the wrong type
        method = rng.choice(
            [
                "execute",
                "wait_for_event",
                "set_execution_status",
                "evaluate",
                "controlled_output",
                "set_output_mask",
                "set_event_interest",
                "end_session",
                "set_interrupt",
                "output_current_state",
            ]
        )
        keys = ["command", "timeout", "status", "expression", "mask", "flags", "output_control"]
        params = {key: _junk_value(rng) for key in rng.sample(keys, 3)}
        params = {k: v for k, v in params.items() if not isinstance(v, int) or isinstance(v, bool)}
        for key in ("flags", "status", "mask", "output_control"):
            params.setdefault(key, "junk")  # never a real int: nothing may really run
        body = json.dumps(wire.request(rng.randrange(1000), method, params)).encode()
    elif kind == 4:
        body = json.dumps(wire.request(1, "no_such_" + str(rng.random()), {})).encode()
    else:  # a stray answer to a question never asked
        body = json.dumps(wire.response(rng.randrange(10**6), _junk_value(rng))).encode()
    return struct.pack(">I", len(body)) + body


def _drain(sock: socket.socket) -> threading.Thread:
    def run() -> None:
        try:
            while sock.recv(1 << 16):
                pass
        except OSError:
            pass

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_fuzzed_frames_leave_the_server_and_the_other_client_working(host: Host) -> None:
    rng = random.Random(0x5EED)
    scale = 10  # 10 x (9,200 + 400 connections' worth): the issue's 100,000 frames
    b = host.connect()
    b.control.execute(f"bp {host.module}!tick")
    sent = 0
    # 1. On an authenticated connection: junk the server answers with errors, or drops.
    sock = _connect_raw(host)
    assert "result" in _authenticate(sock)
    drain = _drain(sock)
    for _ in range(9200 * scale):
        sock.sendall(_junk_frame(rng))
        sent += 1
    # ... and it still answers a real request on the same connection.
    sock.sendall(wire.encode(wire.request(424242, "evaluate", {"expression": "1+1"})))
    sock.shutdown(socket.SHUT_WR)
    drain.join(timeout=120)
    sock.close()
    # 2. Unauthenticated connections: random bytes, junk frames, truncated and oversize ones.
    for round_ in range(400 * scale):
        raw = _connect_raw(host)
        kind = round_ % 4
        try:
            if kind == 0:
                raw.sendall(rng.randbytes(rng.randrange(1, 400)))
                sent += 1
            elif kind == 1:
                for _ in range(5):
                    raw.sendall(_junk_frame(rng))
                    sent += 1
            elif kind == 2:  # a frame cut short
                frame = _junk_frame(rng)
                raw.sendall(frame[: rng.randrange(1, len(frame))])
                sent += 1
            else:  # a length over the cap (and some of what it announces): closed
                raw.sendall(struct.pack(">I", wire.MAX_FRAME + rng.randrange(1, 2**31)))
                raw.sendall(rng.randbytes(1000))
                sent += 1
                assert raw.recv(1) == b""  # (which also paces this loop to the server)
        except OSError:
            pass  # the server may have closed it already: that is the point
        raw.close()
    # 3. Oversize after authentication: refused, the connection closed.
    raw = _connect_raw(host)
    assert "result" in _authenticate(raw)
    raw.sendall(struct.pack(">I", wire.MAX_FRAME + 1) + b"x" * 100)
    sent += 1
    reply = wire.decode(wire.read_frame(raw) or b"")
    assert reply["error"]["code"] == wire.INVALID_REQUEST
    assert wire.read_frame(raw) is None
    raw.close()
    assert sent >= 10_000 * scale

    assert host.proc.poll() is None
    log = host.log()
    assert "dropped a malformed frame" in log and "over the" in log
    # The session went on: the other client runs to its breakpoint and reads memory.
    _works(b)
    b.control.execute("g")
    assert b.control.wait_for_event()
    assert b.control.evaluate("@rip") == b.control.evaluate(f"{host.module}!tick")
    assert b.clients() == [b.identity]


def test_a_server_off_the_loopback_needs_a_password(tmp_path: Any) -> None:
    with pytest.raises(OptionsError, match="password"):
        parse_serve("tcp:port=0,bind=0.0.0.0")
    assert parse_serve("tcp:port=0,bind=0.0.0.0,password=pw").bind == "0.0.0.0"
    assert parse_serve("tcp:Port=5005").bind == "127.0.0.1"
    result = subprocess.run(
        [sys.executable, "-m", "pydbg", "-server", "tcp:port=0,bind=0.0.0.0", "--", "/bin/true"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "needs password" in result.stderr


@pytest.mark.parametrize(
    "text",
    ["tcp:port=5", "npipe:server=a,pipe=b", "tcp:server=h,port=x", "tcp:server=h,port=1,what=2"],
)
def test_bad_remote_options(text: str) -> None:
    with pytest.raises(OptionsError):
        parse_connect(text)


def test_connect_options_are_dbgengs() -> None:
    options = parse_connect("tcp:Server=example,Port=5005,password=pw")
    assert (options.server, options.port, options.password, options.tls) == (
        "example",
        5005,
        "pw",
        False,
    )
    assert parse_connect("ssl:server=h,port=1").tls


def _self_signed(tmp_path: Any) -> tuple[str, str]:
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    if shutil.which("openssl"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-subj", "/CN=localhost", "-keyout", key, "-out", cert],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return cert, key
    pytest.importorskip("cryptography", reason="neither the openssl CLI nor cryptography")
    raise AssertionError("unreachable")  # pragma: no cover


def test_tls(host_factory: Any, targets: Any, tmp_path: Any) -> None:
    if not shutil.which("openssl"):
        pytest.skip("the openssl command line is needed to make a certificate")
    cert, key = _self_signed(tmp_path)
    host = host_factory(
        [targets["loop"].path, "-1"], f"tcp:port=0,password={PASSWORD}", "--tls", cert, key
    )
    client = host.connect(extra=f",tls,cafile={cert}")
    _works(client)
    # A client without TLS gets nowhere (its clear-text frames are no TLS handshake).
    with pytest.raises((RemoteDisconnectedError, OSError)):
        pydbg.connect(host.options())
    _works(client)


def test_tls_carries_heavy_output_to_two_clients_while_their_readers_wait(
    host_factory: Any, targets: Any, tmp_path: Any
) -> None:
    """Each TLS connection is read by a thread blocked in recv while the engine thread
    writes output to it (pydbg.hostengine.tls_stream): 200 commands of 64 output lines
    each, to two clients at once (ALL_CLIENTS), arrive whole and in order."""
    if not shutil.which("openssl"):
        pytest.skip("the openssl command line is needed to make a certificate")
    cert, key = _self_signed(tmp_path)
    host = host_factory(
        [targets["loop"].path, "-1"], f"tcp:port=0,password={PASSWORD}", "--tls", cert, key
    )
    a = host.connect(extra=f",tls,cafile={cert}")
    b = host.connect(extra=f",tls,cafile={cert}")
    heard: dict[str, list[str]] = {"a": [], "b": []}
    a.set_output_callbacks(lambda mask, text: heard["a"].append(text))
    b.set_output_callbacks(lambda mask, text: heard["b"].append(text))
    expected = []
    for i in range(200):
        a.control.execute(f".echo line {i}; db @rsp L0n1024", DEBUG_OUTCTL_ALL_CLIENTS)
        expected.append(f"line {i}")

    def echoed(name: str) -> list[str]:
        text = "".join(heard[name])
        return [line for line in text.splitlines() if line.startswith("line ")]

    # a's execute returns with a's answer; what went to b may still be on its way.
    for name in ("a", "b"):
        assert wait_until(lambda name=name: len(echoed(name)) >= len(expected), timeout=30)
        assert echoed(name) == expected, name
        assert "".join(heard[name]).count("\n") >= 200 * 65
    _works(a)
    _works(b)
