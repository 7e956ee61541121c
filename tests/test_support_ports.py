"""The test servers' port picker stays out of the kernel's ephemeral range (the CI flake)."""

from __future__ import annotations

import socket

import pytest

from support import ports


def test_ports_are_below_the_ephemeral_range_distinct_and_bindable() -> None:
    low = ports._ephemeral_low()
    got = [ports.free_port() for _ in range(50)] + [ports.free_port(all_interfaces=True)]
    assert len(set(got)) == len(got)
    assert all(1_024 <= port < low for port in got), (low, got)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", got[0]))


def test_a_port_in_use_or_given_before_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    given, spare = ports.free_port(), ports.free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        choices = iter([taken, given, taken, spare])
        ports._given.discard(spare)
        monkeypatch.setattr(ports, "_ephemeral_low", lambda: 65_000)
        monkeypatch.setattr(ports.random, "randrange", lambda low, high: next(choices))
        assert ports.free_port() == spare
