"""DbgEng's host engine: one process holds the session, remote clients share it (spec §7).

    pydbg -server tcp:port=5005,password=secret -- ./prog        # the host (server.py)
    pydbg -remote tcp:server=HOST,port=5005,password=secret      # a cdb-like client (cli.py)
    client = pydbg.connect("tcp:server=HOST,port=5005,password=secret")   # remote_client.py

Modules, by concept: wire (JSON-RPC 2.0 in length-prefixed frames), options (the
transport strings), server (the host side: connections, marshalling onto the engine
thread, votes and output of remote clients), remote_client (DebugConnect's client object),
cli (the `-server` / `-remote` front ends).
"""

from __future__ import annotations

from pydbg.hostengine.remote_client import (
    RemoteAuthenticationError,
    RemoteBreakpoint,
    RemoteCallError,
    RemoteClient,
    RemoteDisconnectedError,
    connect,
)

__all__ = [
    "RemoteAuthenticationError",
    "RemoteBreakpoint",
    "RemoteCallError",
    "RemoteClient",
    "RemoteDisconnectedError",
    "connect",
]
