"""The OpenTelemetry resource: who is sending."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.resources import OTELResourceDetector, Resource

from .. import _compat
from ..errors import ConfigError
from ..semconv import DEPLOYMENT_ENVIRONMENT, SERVICE_NAME, SERVICE_VERSION
from .env import Environ, first_env, parse_text

DEFAULT_SERVICE_NAME = "livekit-agent"


def build_resource(
    env: Environ,
    *,
    service_name: str | None,
    service_version: str | None,
    environment: str | None,
    extra: Mapping[str, Any] | None,
) -> Resource:
    """Arguments win over ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``, which win over
    the job's agent name, which wins over ``livekit-agent``."""
    check_attributes(extra, "resource_attributes")
    service_name = parse_text(service_name, "service_name")
    service_version = parse_text(service_version, "service_version")
    environment = parse_text(environment, "environment")
    attrs: dict[str, Any] = dict(_from_env(env))
    attrs.update(extra or {})
    if service_name is not None:
        attrs[SERVICE_NAME] = service_name
    elif found := first_env(env, "OTEL_SERVICE_NAME"):
        attrs[SERVICE_NAME] = found[1]
    elif SERVICE_NAME not in attrs:
        attrs[SERVICE_NAME] = _agent_name() or DEFAULT_SERVICE_NAME
    if service_version is not None:
        attrs[SERVICE_VERSION] = service_version
    if environment is not None:
        attrs[DEPLOYMENT_ENVIRONMENT] = environment
    attrs.setdefault("telemetry.distro.name", "lk_otel")
    return Resource.create(attrs)


def _from_env(env: Environ) -> dict[str, Any]:
    """``OTEL_RESOURCE_ATTRIBUTES`` (format-checked, then parsed by the SDK's own detector)."""
    found = first_env(env, "OTEL_RESOURCE_ATTRIBUTES")
    if not found:
        return {}
    for position, item in enumerate(found[1].split(","), start=1):
        if item.strip() and ("=" not in item or not item.partition("=")[0].strip()):
            raise ConfigError(f"OTEL_RESOURCE_ATTRIBUTES: entry {position} is not key=value")
    return dict(OTELResourceDetector().detect().attributes)


def check_attributes(value: object, source: str) -> None:
    """``value`` must be None or a mapping of non-empty str keys to OpenTelemetry attribute
    values (str, bool, int, float, or a list of one of them); else a ``ConfigError``."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source} must be a mapping of str keys to attribute values")
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f"{source}: every key must be a non-empty string, got {key!r}")
        items = item if isinstance(item, list | tuple) else [item]
        kinds = {_kind(i) for i in items}
        if None in kinds or len(kinds) > 1:
            raise ConfigError(
                f"{source}[{key!r}] must be a str, bool, int or float (or a list of one of them)"
            )


def _kind(value: object) -> type | None:
    """The attribute type of ``value`` (bool before int: True is an int), None if none."""
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind
    return None


def _agent_name() -> str | None:
    job = _compat.current_job_context()
    return _compat.job_identity(job).get("agent_name") if job is not None else None
