"""Fixtures for tests that call ``setup_tracing()``: no tracing variables from the
caller's shell, and every handle a test makes shut down after it.

Use with ``pytest_plugins = ["support.setup_fixtures"]`` (``clean_env`` is autouse).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import lk_otel

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = ("OTEL_", "LANGFUSE_", "LIVEKIT_TELEMETRY_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(os.environ):
        if var.startswith(PREFIXES):
            monkeypatch.delenv(var)


@pytest.fixture
def handles() -> Iterator[list[lk_otel.TracingHandle]]:
    """Handles made by the test, shut down after it."""
    made: list[lk_otel.TracingHandle] = []
    yield made
    for h in made:
        h.shutdown(2)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child Python process that imports this checkout's lk_otel."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}
