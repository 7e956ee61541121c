"""Typed readers for span attribute values (unusable ones read as ``None``) and ms rounding."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Attrs = Mapping[str, Any]


def number(attrs: Attrs, key: str) -> float | None:
    """A finite numeric attribute as float (bools, strings, NaN and infinities are absent)."""
    value = attrs.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def integer(attrs: Attrs, key: str) -> int | None:
    """A numeric attribute rounded to int."""
    value = number(attrs, key)
    return round(value) if value is not None else None


def flag(attrs: Attrs, key: str) -> bool | None:
    """A bool attribute; also accepts 0/1 and "true"/"false"."""
    value = attrs.get(key)
    if isinstance(value, (bool, int)):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def text(attrs: Attrs, *keys: str) -> str | None:
    """The first non-blank string attribute among ``keys``."""
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def milliseconds(seconds: float) -> int:
    """Seconds to whole milliseconds, rounded half up on the decimal value as written.

    ``repr`` gives the shortest decimal that round-trips the float, so 0.4125 s is 413 ms
    (plain float arithmetic would give 412.4999… and round down).
    """
    exact = Decimal(repr(seconds)) * 1000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
