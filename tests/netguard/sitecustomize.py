"""Network guard for the test suite: refuse, and record, any connection or lookup beyond loopback.

Python imports ``sitecustomize`` at start-up from ``PYTHONPATH``: ``session.py`` (imported by the root
``conftest.py``) puts this folder there, so every Python process the tests start (``assistant serve``, ``chroma run``,
``llama_cpp.server``…) is guarded, and it installs the guard in pytest itself. Attempts are
appended to ``$ASSISTANT_NET_GUARD_LOG``; the session fails if that file is not empty.
Code below Python (C libraries) is not seen here: ``tests/system/test_offline.py`` also runs the CLI in
a network namespace with no network at all.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

_LOCAL_NAMES = {"localhost", "", None}
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _is_local(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified  # the latter only ever names a local bind


def _allowed(address: Any) -> bool:
    # Unix sockets (str / bytes paths) never leave the machine.
    return isinstance(address, str | bytes) or _is_local(address[0])


def _record(what: str) -> None:
    log = os.environ.get("ASSISTANT_NET_GUARD_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"pid {os.getpid()}: {what}\n")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
        _record(f"connect {address!r}")
        raise ConnectionRefusedError(f"network guard: connection to {address!r} refused (tests run offline)")
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
        _record(f"connect_ex {address!r}")
        return 111  # ECONNREFUSED
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_local(host):
        _record(f"getaddrinfo {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, f"network guard: lookup of {host!r} refused (tests run offline)")
    return _getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


if os.environ.get("ASSISTANT_NET_GUARD_LOG"):
    install()
