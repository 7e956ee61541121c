"""Pytest plugin: the session-scoped ``phoenix`` fixture (a running Arize Phoenix).

Load it with ``pytest_plugins = ["phoenix_fixtures"]`` in tests/conftest.py or in a test
module. Phoenix is found via $PHOENIX_BIN, else <repo>/.venv-phoenix/bin/phoenix. When it
is missing, tests using the fixture are skipped, except on CI (CI=true) where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support.phoenix_server import PhoenixNotFoundError, PhoenixServer, find_phoenix_executable


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def phoenix() -> Iterator[PhoenixServer]:
    """A Phoenix server shared by the session; give each test its own project name."""
    try:
        executable = find_phoenix_executable()
    except PhoenixNotFoundError as exc:
        if _on_ci():
            pytest.fail(f"CI=true and Phoenix is missing: {exc}", pytrace=False)
        pytest.skip(str(exc))
    server = PhoenixServer(executable)
    server.start()
    try:
        yield server
    finally:
        server.stop()
