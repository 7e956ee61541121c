"""Small helpers for the unit tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lk_otel.errors import ConfigError


def error(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The message of the ``ConfigError`` that ``fn(*args, **kwargs)`` raises."""
    with pytest.raises(ConfigError) as caught:
        fn(*args, **kwargs)
    return str(caught.value)
