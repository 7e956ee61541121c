"""Every argument and variable of ``setup_tracing()``, resolved once into one frozen value.

Nothing here builds a pipeline: the composition root (``lk_otel.tracing``) builds it from a
``TracingConfig``. Two equal configs mean "the same pipeline" (a reused worker process).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import Sampler

from ..enrich.options import EnrichOptions
from ..errors import ConfigError
from .backends import MAPPINGS, Backend, ExportTarget
from .env import Environ, environ, first_env, parse_bool, parse_flag, parse_positive_float
from .resource import build_resource, check_attributes
from .sampling import build_sampler
from .selection import BackendArg, coerce_backends

DEFAULT_FLUSH_TIMEOUT = 5.0
DEFAULT_RETRY_INTERVAL = 5.0
DEFAULT_MAX_QUEUE_SIZE = 2048
DEFAULT_SCHEDULE_DELAY = 1.0
# Longest attribute value kept on a span (characters of a str, items of a list), unless
# OTEL_(SPAN_)ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise: a 5 MB tool result or transcript
# would make its span too large for any backend (gRPC takes 4 MB per request by default).
DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT = 64 * 1024
MAX_EXPORT_BATCH = 512  # spans per request: the SDK's default batch size
_LIMIT_VARS = ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")


@dataclass(frozen=True)
class ExportSettings:
    """How each backend's exporter queues, batches and retries."""

    capacity: int  # spans held per backend (waiting + in flight); the oldest go beyond it
    batch_size: int
    schedule_delay: float  # s
    retry_interval: float  # s
    flush_timeout: float  # s: the bound of every flush and shutdown


@dataclass(frozen=True)
class TracingConfig:
    """What ``setup_tracing()`` resolved. ``sampler`` compares by its description."""

    targets: tuple[ExportTarget, ...]
    exporters: tuple[SpanExporter, ...]  # SDK exporters given as they are (compared by identity)
    options: EnrichOptions
    resource: Resource
    sampler: Sampler = field(compare=False)
    sampler_description: str
    metadata: tuple[tuple[str, Any], ...]
    attribute_value_length_limit: int
    export: ExportSettings
    metrics: bool
    metric_targets: tuple[ExportTarget, ...]
    traces_only: tuple[str, ...]  # backend names that take no metrics

    @property
    def metadata_dict(self) -> dict[str, Any] | None:
        return dict(self.metadata) or None


def tracing_disabled(env: Environ | None = None) -> bool:
    """``OTEL_SDK_DISABLED=true``."""
    env = environ() if env is None else env
    found = first_env(env, "OTEL_SDK_DISABLED")
    return bool(found) and parse_bool(found[1], found[0])  # type: ignore[index]


def resolve_config(
    backend: BackendArg = None,
    *,
    service_name: str | None = None,
    service_version: str | None = None,
    environment: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    sample_rate: float | None = None,
    allow_pii: bool | None = None,
    metadata: Mapping[str, Any] | None = None,
    langfuse: bool | None = None,
    openinference: bool | None = None,
    mlflow: bool | None = None,
    tags: Sequence[str] | None = None,
    prices: Mapping[str, Any] | None = None,
    metrics: bool = False,
    flush_timeout: float = DEFAULT_FLUSH_TIMEOUT,
    max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
    schedule_delay: float = DEFAULT_SCHEDULE_DELAY,
    retry_interval: float = DEFAULT_RETRY_INTERVAL,
    env: Environ | None = None,
) -> TracingConfig:
    """The ``TracingConfig`` of ``setup_tracing()``'s arguments and the environment.

    Raises ``ConfigError`` naming the argument or variable at fault."""
    env = environ() if env is None else env
    export = _export_settings(flush_timeout, max_queue_size, schedule_delay, retry_interval)
    check_attributes(metadata, "metadata")
    check_attributes(resource_attributes, "resource_attributes")
    metrics = parse_flag(metrics, "metrics")
    backends = coerce_backends(backend, env)
    targets = tuple(t for b in backends if isinstance(b, Backend) if (t := b.resolve(env)))
    metric_targets: list[ExportTarget] = []
    traces_only: list[str] = []
    if metrics:
        for b in backends:
            if isinstance(b, Backend):
                found = b.resolve(env, "metrics")
                (metric_targets.append(found) if found else traces_only.append(b.name))
    read = backend_mappings(backends)
    options = EnrichOptions.build(
        allow_pii=_allow_pii(allow_pii, env),
        langfuse=_mapping(langfuse, "langfuse", read),
        openinference=_mapping(openinference, "openinference", read),
        mlflow=_mapping(mlflow, "mlflow", read),
        tags=tags,
        environment=environment,
        release=service_version,
        prices=prices,
        value_length_limit=(limit := _attribute_limit(env)),
    )
    resource = build_resource(
        env,
        service_name=service_name,
        service_version=service_version,
        environment=environment,
        extra=resource_attributes,
    )
    sampler = build_sampler(env, sample_rate)
    return TracingConfig(
        targets=targets,
        exporters=tuple(b for b in backends if isinstance(b, SpanExporter)),
        options=options,
        resource=resource,
        sampler=sampler,
        sampler_description=sampler.get_description(),
        metadata=tuple(sorted((metadata or {}).items())),
        attribute_value_length_limit=limit,
        export=export,
        metrics=metrics,
        metric_targets=tuple(metric_targets),
        traces_only=tuple(traces_only),
    )


def backend_mappings(backends: Sequence[object]) -> frozenset[str]:
    """The backend mappings the backends read: a ``Langfuse`` only Langfuse's, a ``Jaeger``
    none, any other backend or exporter (which may be read by anything) all of them."""
    read: frozenset[str] = frozenset()
    for b in backends:
        read |= b.reads if isinstance(b, Backend) else MAPPINGS
    return read


def _mapping(value: object, name: str, read: frozenset[str]) -> bool:
    """A mapping switch: the argument when given, else on when a backend reads it."""
    return name in read if value is None else parse_flag(value, name)


def _export_settings(
    flush_timeout: float, max_queue_size: int, schedule_delay: float, retry_interval: float
) -> ExportSettings:
    flush_timeout = parse_positive_float(flush_timeout, "flush_timeout")
    if flush_timeout > threading.TIMEOUT_MAX:
        raise ConfigError(f"flush_timeout must be at most {threading.TIMEOUT_MAX:g} s")
    if (
        isinstance(max_queue_size, bool)
        or not isinstance(max_queue_size, int)
        or max_queue_size < 1
    ):
        raise ConfigError(
            f"max_queue_size must be an integer of at least 1, got {max_queue_size!r}"
        )
    schedule_delay = parse_positive_float(schedule_delay, "schedule_delay")
    if schedule_delay < 0.001:
        raise ConfigError(f"schedule_delay must be at least 0.001 s, got {schedule_delay!r}")
    return ExportSettings(
        capacity=2 * max_queue_size,
        batch_size=min(MAX_EXPORT_BATCH, max_queue_size),
        schedule_delay=float(schedule_delay),
        retry_interval=parse_positive_float(retry_interval, "retry_interval"),
        flush_timeout=flush_timeout,
    )


def _attribute_limit(env: Environ) -> int:
    """``OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`` (or the general ``OTEL_ATTRIBUTE_…``), else
    ``DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT``."""
    found = first_env(env, *_LIMIT_VARS)
    if not found:
        return DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT
    name, value = found
    try:
        limit = int(value.strip())
    except ValueError:
        limit = -1
    if limit < 1:
        raise ConfigError(f"{name} must be a positive integer (characters), got {value!r}")
    return limit


def _allow_pii(allow_pii: bool | None, env: Environ) -> bool:
    """The argument, else ``LIVEKIT_TELEMETRY_ALLOW_PII``, else livekit's default (True).

    A string is read as the variable is (``"false"`` is False); anything else but a bool is
    an error, so that no truthy value turns PII on by accident."""
    if isinstance(allow_pii, str):
        return parse_bool(allow_pii, "allow_pii")
    if allow_pii is not None and not isinstance(allow_pii, bool):
        raise ConfigError(f"allow_pii must be True or False, got {allow_pii!r}")
    if allow_pii is not None:
        return allow_pii
    if found := first_env(env, "LIVEKIT_TELEMETRY_ALLOW_PII"):
        return parse_bool(found[1], found[0])
    return True
