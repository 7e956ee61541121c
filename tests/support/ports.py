"""Ports for servers the tests start (the collector, Jaeger, Phoenix).

A port from ``bind(0)`` is taken from the kernel's ephemeral range, the range every outgoing
connection also takes its local port from. Between the moment the test closes its probe and the
moment the server binds, any connection (Jaeger's own clients, a gRPC exporter, pip) can take it:
CI lost a run that way ("bind: address already in use"). So ``free_port()`` picks below that
range, where the kernel never hands ports out by itself, and never the same port twice in one
process.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000
_given: set[int] = set()


def _ephemeral_low() -> int:
    """The lowest port of the kernel's ephemeral range (32768 where it cannot be read)."""
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bindable(port: int, host: str, all_interfaces: bool) -> bool:
    families = [(socket.AF_INET, "0.0.0.0" if all_interfaces else host)]
    if all_interfaces and socket.has_ipv6:
        families.insert(0, (socket.AF_INET6, "::"))
    for family, address in families:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                sock.bind((address, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", *, all_interfaces: bool = False) -> int:
    """A TCP port free now on ``host`` (or on every interface, IPv4 and IPv6), outside the
    ephemeral range and not given out before by this process."""
    high = _ephemeral_low()
    low = _LOWEST if high > _LOWEST + 1_000 else 1_024
    for _ in range(200):
        port = random.randrange(low, high)
        if port not in _given and _bindable(port, host, all_interfaces):
            _given.add(port)
            return port
    raise RuntimeError(f"no free TCP port in {low}..{high - 1} after 200 tries")
