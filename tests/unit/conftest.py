"""Fast pure unit tests: no simulated call, no network, no sleep; exact values.

Everything under ``tests/unit/`` is marked ``unit`` and is what ``make mutation`` runs
against each mutant (``[tool.mutmut]`` in pyproject.toml), so keep each test quick.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unit: fast pure unit test (tests/unit/, make mutation)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.unit)
