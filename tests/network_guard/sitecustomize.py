"""Loaded at interpreter start when this directory is on PYTHONPATH (tests only).

Refuses, and records in $TABPIPE_NETWORK_LOG, every socket connection to an address that
is not loopback, so a test can assert that a run opened none.
"""

import ipaddress
import os
import socket

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _remote(sock: socket.socket, address: object) -> bool:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    host = address[0] if isinstance(address, tuple) else str(address)
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: resolving it would already be network traffic
        return host != "localhost"


def _refuse(address: object) -> None:
    with open(os.environ["TABPIPE_NETWORK_LOG"], "a") as log:
        log.write(f"{address!r}\n")
    raise OSError(f"network disabled by the test guard: {address!r}")


def connect(self: socket.socket, address: object) -> None:
    if _remote(self, address):
        _refuse(address)
    return _connect(self, address)


def connect_ex(self: socket.socket, address: object) -> int:
    if _remote(self, address):
        _refuse(address)
    return _connect_ex(self, address)


if os.environ.get("TABPIPE_NETWORK_LOG"):
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
