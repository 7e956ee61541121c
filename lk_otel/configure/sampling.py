"""Head sampling: parent-based ratio from the argument or ``OTEL_TRACES_SAMPLER``."""

from __future__ import annotations

from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    DEFAULT_OFF,
    DEFAULT_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from ..errors import ConfigError
from .env import Environ, first_env

_NAMED = {
    "always_on": ALWAYS_ON,
    "always_off": ALWAYS_OFF,
    "parentbased_always_on": DEFAULT_ON,
    "parentbased_always_off": DEFAULT_OFF,
}


def build_sampler(env: Environ, sample_rate: float | None) -> Sampler:
    """``sample_rate`` → ``ParentBased(TraceIdRatioBased(rate))``; else the standard variables."""
    rate = validate_sample_rate(sample_rate)
    if rate is not None:
        return ParentBased(TraceIdRatioBased(rate))
    found = first_env(env, "OTEL_TRACES_SAMPLER")
    if not found:
        return DEFAULT_ON
    name = found[1].lower()
    if name in _NAMED:
        return _NAMED[name]
    if name in ("traceidratio", "parentbased_traceidratio"):
        arg = first_env(env, "OTEL_TRACES_SAMPLER_ARG")
        ratio = _ratio(arg[1], arg[0]) if arg else 1.0
        inner = TraceIdRatioBased(ratio)
        return ParentBased(inner) if name.startswith("parentbased") else inner
    raise ConfigError(
        f"OTEL_TRACES_SAMPLER: unsupported value {found[1]!r}; use one of "
        f"{', '.join([*_NAMED, 'traceidratio', 'parentbased_traceidratio'])}"
    )


def validate_sample_rate(value: object) -> float | None:
    """``sample_rate``: None, or a number from 0 to 1 (not a bool); else a ``ConfigError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"sample_rate must be a number between 0 and 1, got {type(value).__name__}"
        )
    return _ratio(value, "sample_rate")


def _ratio(value: object, source: str) -> float:
    try:
        ratio = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{source} must be a number between 0 and 1, got {value!r}") from None
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"{source} must be between 0 and 1, got {value!r}")
    return ratio
