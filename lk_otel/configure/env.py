"""Typed, validated reads of arguments and environment variables."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from ..errors import ConfigError

Environ = Mapping[str, str]
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def first_env(env: Environ, *names: str) -> tuple[str, str] | None:
    """The first of ``names`` set to a non-empty value, as ``(name, value)``."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def parse_bool(value: str, source: str) -> bool:
    """``true``/``false`` (any case, also 1/0, yes/no, on/off) or a ``ConfigError``."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{source} must be true or false, got {value!r}")


def parse_flag(value: object, source: str) -> bool:
    """An argument that is a bool, or a string read as the environment variables are
    (``"false"`` is False); anything else is a ``ConfigError`` naming ``source``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return parse_bool(value, source)
    raise ConfigError(f"{source} must be True or False, got {type(value).__name__}")


def parse_positive_float(
    value: object, source: str, *, at_least: float | None = None, at_most: float | None = None
) -> float:
    """A finite number > 0 (a number or a numeric string; not a bool), within the bounds."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f"{source} must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{source} must be a number, got {value!r}") from None
    if not number > 0 or not math.isfinite(number):
        raise ConfigError(f"{source} must be a finite number greater than 0, got {value!r}")
    if at_least is not None and number < at_least:
        raise ConfigError(f"{source} must be at least {at_least:g}, got {value!r}")
    if at_most is not None and number > at_most:
        raise ConfigError(f"{source} must be at most {at_most:g}, got {value!r}")
    return number


def parse_count(value: object, source: str, *, at_least: int = 1) -> int:
    """An int (not a bool) of at least ``at_least``, or a ``ConfigError`` naming ``source``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < at_least:
        raise ConfigError(f"{source} must be an integer of at least {at_least}, got {value!r}")
    return value


def parse_text(value: object, source: str, *, optional: bool = True) -> str | None:
    """A non-empty string (or None when ``optional``), or a ``ConfigError`` naming ``source``."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{source} must be a non-empty string, got {value!r}")
    return value


def environ() -> Environ:
    """A snapshot of the process environment."""
    return dict(os.environ)
