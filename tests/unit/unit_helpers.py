"""Small helpers for the unit tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lk_otel.enrich.view import SpanView
from lk_otel.errors import ConfigError


def error(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The message of the ``ConfigError`` that ``fn(*args, **kwargs)`` raises."""
    with pytest.raises(ConfigError) as caught:
        fn(*args, **kwargs)
    return str(caught.value)


def view(  # a SpanView with defaults; ``kw`` overrides them
    name: str,
    attributes: dict[str, Any] | None = None,
    added: dict[str, Any] | None = None,
    **kw: Any,
) -> SpanView:
    args: dict[str, Any] = {
        "name": name,
        "attributes": attributes or {},
        "added": added or {},
        "is_root": False,
        "start_ns": 1_000_000_000,
        "end_ns": 2_000_000_000,
        "service_name": "svc",
    }
    args.update(kw)
    return SpanView(**args)
