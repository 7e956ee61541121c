"""Moved to ``lk_otel.tracing`` (the composition root).

Kept only until ``lk_otel/cli/demo.py`` imports ``from ..tracing import setup_tracing``; this
lazy alias is the one upward import left in ``configure/`` and goes with that change.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from .. import tracing

    return getattr(tracing, name)
