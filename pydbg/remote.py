"""`pydbg.connect`: one entry point for the two kinds of remote session, told apart by the
address's scheme, as DebugConnect takes one transport string.

* "tcp:server=HOST,port=N[,password=P]" (DbgEng's own transport): join the session a
  host engine (`pydbg -server`) holds; the result is a `RemoteClient`
  (pydbg.hostengine.remote_client), whose calls run in the host's engine.
* "gdbserver:HOST:PORT" (or "gdb:HOST:PORT"): a local session whose target is served by
  a GDB-remote server (gdbserver, lldb-server); the result is an ordinary `DebugClient`
  whose engine drives the server through the RSP backend (pydbg.client.connect_gdbserver).

Anything else is a ValueError that names both forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydbg.client import DebugClient
    from pydbg.hostengine.remote_client import RemoteClient

__all__ = ["connect"]

_GDB_SCHEMES = ("gdbserver", "gdb")


def connect(
    address: str, *, timeout: float | None = None, files: str = "local"
) -> DebugClient | RemoteClient:
    """DebugConnect (module docstring).  `timeout`: seconds to wait for the connection
    (each kind's own default when None).  `files` (GDB-remote servers only): "local"
    (the server's /proc is ours, loopback only) or "remote" (modules and files fetched
    from the server, any host; pydbg.client.connect_gdbserver)."""
    scheme = address.partition(":")[0].strip().lower()
    if scheme in _GDB_SCHEMES:
        from pydbg.client import connect_gdbserver

        if timeout is None:
            return connect_gdbserver(address, files=files)
        return connect_gdbserver(address, timeout=timeout, files=files)
    if scheme == "tcp":
        from pydbg.hostengine.remote_client import connect as connect_host

        if timeout is None:
            return connect_host(address)
        return connect_host(address, timeout=timeout)
    raise ValueError(
        f"{address!r}: connect to a host engine with tcp:server=HOST,port=N[,password=P] "
        "or to a GDB-remote server with gdbserver:HOST:PORT"
    )
