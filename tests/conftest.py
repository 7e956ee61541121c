"""Shared fixtures. ``simulated_call``: a real, offline livekit AgentSession, traced in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from support.simulated import SimulatedCall, simulate


@pytest.fixture(scope="session")
def simulated_call() -> Callable[..., Awaitable[SimulatedCall]]:
    """``await simulated_call(scenario=None, speed=4.0, **kw)``: a SimulatedCall."""
    return simulate
