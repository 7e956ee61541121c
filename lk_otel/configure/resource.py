"""The OpenTelemetry resource: who is sending."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.resources import OTELResourceDetector, Resource

from .. import _compat
from ..errors import ConfigError
from ..semconv import DEPLOYMENT_ENVIRONMENT, SERVICE_NAME, SERVICE_VERSION
from .env import Environ, first_env

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
    detected = _from_env(env)
    attrs: dict[str, Any] = dict(detected)
    for key, value in (extra or {}).items():
        if not isinstance(value, str | bool | int | float):
            raise ConfigError(f"resource_attributes[{key!r}] must be a str, bool, int or float")
        attrs[key] = value
    if service_name is not None:
        if not isinstance(service_name, str) or not service_name.strip():
            raise ConfigError("service_name must be a non-empty string")
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
        if item.strip() and "=" not in item:
            raise ConfigError(f"OTEL_RESOURCE_ATTRIBUTES: entry {position} is not key=value")
    return dict(OTELResourceDetector().detect().attributes)


def _agent_name() -> str | None:
    job = _compat.current_job_context()
    return _compat.job_identity(job).get("agent_name") if job is not None else None
