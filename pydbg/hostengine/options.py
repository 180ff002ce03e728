"""Transport strings, as cdb's `-server` and `-remote` take them (spec §7.2).

    server:  tcp:port=N[,password=P][,bind=ADDR]
    client:  tcp:server=HOST,port=N[,password=P][,tls][,cafile=PATH]
             ssl:server=HOST,port=N,...      (the same as tcp:...,tls)

Keys are case-insensitive (dbgeng.h spells them `Server=`, `Port=`).  `port=0` asks the
system for a free port (the server prints the one it got).  `bind=` is pydbg's: DbgEng's
tcp server listens on every interface; pydbg listens on the loopback (127.0.0.1) unless
told otherwise, and refuses to listen anywhere else without a password.  TLS on the
server side is the CLI's `--tls CERT KEY`; a client given `tls` checks the server's
certificate against `cafile` (then not its host name: a self-signed server certificate
is the common case) or against the system's trusted certificates and the host name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pydbg.errors import PydbgError

__all__ = [
    "ConnectOptions",
    "OptionsError",
    "ServeOptions",
    "is_loopback",
    "parse_connect",
    "parse_serve",
]


class OptionsError(PydbgError, ValueError):
    """A transport string pydbg cannot use."""


@dataclass(frozen=True)
class ServeOptions:
    port: int
    password: str | None = None
    bind: str = "127.0.0.1"


@dataclass(frozen=True)
class ConnectOptions:
    server: str
    port: int
    password: str | None = None
    tls: bool = False
    cafile: str | None = None


def _fields(text: str, allowed: set[str]) -> tuple[str, dict[str, str]]:
    transport, sep, rest = text.partition(":")
    transport = transport.strip().lower()
    if not sep or transport not in ("tcp", "ssl"):
        raise OptionsError(f"{text!r}: pydbg's host engine speaks tcp:... (or ssl:...)")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        if not part.strip():
            continue
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key not in allowed:
            raise OptionsError(
                f"{text!r}: unknown key {key!r} (known: {', '.join(sorted(allowed))})"
            )
        fields[key] = value.strip()
    return transport, fields


def _port(text: str, fields: dict[str, str]) -> int:
    try:
        port = int(fields["port"])
    except KeyError:
        raise OptionsError(f"{text!r}: port=N is missing") from None
    except ValueError:
        raise OptionsError(f"{text!r}: port must be a number") from None
    if not 0 <= port <= 65535:
        raise OptionsError(f"{text!r}: port {port} is out of range")
    return port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_serve(text: str) -> ServeOptions:
    """`tcp:port=N[,password=P][,bind=ADDR]`; OptionsError for a non-loopback address
    without a password."""
    _, fields = _fields(text, {"port", "password", "bind"})
    bind = fields.get("bind") or "127.0.0.1"
    password = fields.get("password") or None
    if not is_loopback(bind) and password is None:
        raise OptionsError(
            f"{text!r}: a server on {bind} (not the loopback) needs password=... "
            "(and --tls CERT KEY, or the password travels in clear)"
        )
    return ServeOptions(_port(text, fields), password, bind)


def parse_connect(text: str) -> ConnectOptions:
    """`tcp:server=HOST,port=N[,password=P][,tls][,cafile=PATH]` (or `ssl:...`)."""
    transport, fields = _fields(text, {"server", "port", "password", "tls", "cafile"})
    server = fields.get("server")
    if not server:
        raise OptionsError(f"{text!r}: server=HOST is missing")
    return ConnectOptions(
        server,
        _port(text, fields),
        fields.get("password") or None,
        tls=transport == "ssl" or "tls" in fields or "cafile" in fields,
        cafile=fields.get("cafile") or None,
    )
