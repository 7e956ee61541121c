"""``setup_tracing()``: one call in the entrypoint, traces to every configured backend."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from .. import _compat
from ..enrich.options import EnrichOptions
from ..enrich.pipeline import build_span_pipeline
from ..errors import ConfigError
from ..export.factory import create_span_exporter
from ..export.resilient import ResilientSpanExporter
from .backends import Backend, BackendArg, ExportTarget, coerce_backends
from .env import Environ, environ, first_env, parse_bool, parse_positive_float
from .lifecycle import at_exit, cancel_at_exit, register_job_flush, run_bounded
from .resource import build_resource
from .sampling import build_sampler

logger = logging.getLogger("lk_otel")

DEFAULT_FLUSH_TIMEOUT = 5.0
DEFAULT_RETRY_INTERVAL = 5.0
_MAX_EXPORT_BATCH = 512  # the SDK's default batch size; never more than the queue holds
# The batch processor's queue is only a hand-off to the exporter's held buffer, drained every
# schedule_delay; ``max_queue_size`` bounds the held buffer, where every drop is counted.
_HANDOFF_QUEUE = 2048


@dataclass
class TracingHandle:
    """What ``setup_tracing()`` installed. Flush and shutdown are bounded and never raise."""

    provider: TracerProvider | None
    targets: list[ExportTarget] = field(default_factory=list)
    exporters: list[ResilientSpanExporter] = field(default_factory=list)
    flush_timeout: float = DEFAULT_FLUSH_TIMEOUT
    meter_provider: Any | None = None
    processor: Any | None = None
    _closed: bool = False

    @property
    def enabled(self) -> bool:
        """False when ``OTEL_SDK_DISABLED=true`` turned tracing off."""
        return self.provider is not None

    def force_flush(self, timeout: float | None = None) -> bool:
        """Export everything ended so far; waits at most ``timeout`` seconds."""
        if self.provider is None or self._closed:
            return True
        bound = self.flush_timeout if timeout is None else timeout
        provider, meters = self.provider, self.meter_provider

        def flush() -> bool:
            ok = provider.force_flush(int(bound * 1000))
            ok = all([e.force_flush() for e in self.exporters]) and ok
            if meters is not None:
                ok = meters.force_flush(int(bound * 1000)) and ok
            return ok

        return run_bounded("flush", flush, bound)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop the exporters; waits at most ``timeout`` seconds."""
        if self.provider is None or self._closed:
            return True
        self._closed = True
        cancel_at_exit(self._exit_hook)
        bound = self.flush_timeout if timeout is None else timeout
        provider, meters = self.provider, self.meter_provider

        def stop() -> bool:
            provider.shutdown()
            if meters is not None:
                meters.shutdown(timeout_millis=bound * 1000)
            return True

        return run_bounded("shutdown", stop, bound)

    def _exit_hook(self) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        labels = ", ".join(t.label for t in self.targets) or "disabled"
        return f"TracingHandle(backends=[{labels}])"


_lock = threading.Lock()
_active: tuple[tuple[Any, ...], TracingHandle] | None = None


def setup_tracing(
    backend: BackendArg = None,
    *,
    service_name: str | None = None,
    service_version: str | None = None,
    environment: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    sample_rate: float | None = None,
    allow_pii: bool | None = None,
    metadata: Mapping[str, Any] | None = None,
    langfuse: bool = True,
    openinference: bool = True,
    tags: Sequence[str] | None = None,
    prices: Mapping[str, Any] | None = None,
    metrics: bool = False,
    flush_timeout: float = DEFAULT_FLUSH_TIMEOUT,
    max_queue_size: int = 2048,
    schedule_delay: float = 1.0,
    retry_interval: float = DEFAULT_RETRY_INTERVAL,
) -> TracingHandle:
    """Configure OpenTelemetry for a LiveKit agent and install it in livekit-agents.

    Call once in the entrypoint. ``backend`` is a name (``"langfuse"``, ``"jaeger"``,
    ``"otlp"``, ``"console"``, ``"file"``), a backend object, an SDK ``SpanExporter``, or a
    list of them; unset, it is chosen from the environment. A second call with the same
    arguments (a reused worker process) returns the installed handle instead of stacking
    exporters. Raises ``ConfigError`` naming the argument or variable at fault.

    Export never blocks the call: spans go out in batches every ``schedule_delay`` seconds.
    While a backend is down, each exporter holds up to ``2 * max_queue_size`` spans (the
    oldest beyond that are dropped, counted in ``exporter.dropped`` and logged once) and
    tries the backend again at most every ``retry_interval`` seconds. ``flush_timeout``
    bounds every flush and shutdown, the one at job end and at process exit included.
    """
    global _active
    env_map: Environ = environ()
    if (found := first_env(env_map, "OTEL_SDK_DISABLED")) and parse_bool(found[1], found[0]):
        logger.info("lk_otel: OTEL_SDK_DISABLED=true, tracing is off")
        return TracingHandle(provider=None)
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
    if parse_positive_float(schedule_delay, "schedule_delay") < 0.001:
        raise ConfigError(f"schedule_delay must be at least 0.001 s, got {schedule_delay!r}")
    retry_interval = parse_positive_float(retry_interval, "retry_interval")
    _check_attributes(metadata, "metadata")
    _check_attributes(resource_attributes, "resource_attributes")
    backends = coerce_backends(backend, env_map)
    targets = [(b, b.resolve(env_map)) for b in backends if isinstance(b, Backend)]
    options = EnrichOptions.build(
        allow_pii=_allow_pii(allow_pii, env_map),
        langfuse=langfuse,
        openinference=openinference,
        tags=tags,
        environment=environment,
        release=service_version,
        prices=prices,
    )
    resource = build_resource(
        env_map,
        service_name=service_name,
        service_version=service_version,
        environment=environment,
        extra=resource_attributes,
    )
    sampler = build_sampler(env_map, sample_rate)
    key = (
        tuple(repr(t) + repr(sorted(t.headers.items())) for _, t in targets),
        tuple(id(b) for b in backends if not isinstance(b, Backend)),
        options,
        resource.attributes.items().__repr__(),
        repr(sampler),
        repr(sorted((metadata or {}).items())),
        metrics,
    )
    with _lock:
        if _active is not None and _active[0] == key and not _active[1]._closed:
            handle = _active[1]
            register_job_flush(handle.force_flush, flush_timeout)
            return handle
        previous = _active[1] if _active is not None else None
        handle = _build(
            backends,
            targets,
            options,
            resource,
            sampler,
            metadata,
            flush_timeout,
            max_queue_size,
            schedule_delay,
            retry_interval,
        )
        if metrics:
            from ..metrics.setup import attach_metrics

            attach_metrics(handle, backends, env_map, resource)
        _active = (key, handle)
        if previous is not None:  # only once the new pipeline is installed: never none at all
            previous.shutdown()
    register_job_flush(handle.force_flush, flush_timeout)
    at_exit(handle._exit_hook)
    return handle


def _build(
    backends: list[Backend | SpanExporter],
    targets: list[tuple[Backend, ExportTarget]],
    options: EnrichOptions,
    resource: Any,
    sampler: Any,
    metadata: Mapping[str, Any] | None,
    flush_timeout: float,
    max_queue_size: int,
    schedule_delay: float,
    retry_interval: float,
) -> TracingHandle:
    # shut down by lk_otel with a bound, not by the SDK's unbounded atexit hook
    provider = TracerProvider(resource=resource, sampler=sampler, shutdown_on_exit=False)
    exporters: list[ResilientSpanExporter] = []
    downstream: list[BatchSpanProcessor] = []
    raw = [(t.label, t.auth_hint, create_span_exporter(t)) for _, t in targets]
    raw += [(type(b).__name__, None, b) for b in backends if isinstance(b, SpanExporter)]
    for label, hint, exporter in raw:
        resilient = ResilientSpanExporter(
            exporter,
            label=label,
            max_held=max_queue_size * 2,
            retry_interval=retry_interval,
            auth_hint=hint,
        )
        exporters.append(resilient)
        downstream.append(
            BatchSpanProcessor(
                resilient,
                max_queue_size=max(max_queue_size, _HANDOFF_QUEUE),
                max_export_batch_size=min(_MAX_EXPORT_BATCH, max_queue_size),
                schedule_delay_millis=int(schedule_delay * 1000),
                export_timeout_millis=int(flush_timeout * 1000),
            )
        )
    processor = build_span_pipeline(downstream, options)
    provider.add_span_processor(processor)
    _compat.set_tracer_provider(
        provider, metadata=dict(metadata) if metadata else None, allow_pii=options.allow_pii
    )
    logger.info(
        "lk_otel: exporting traces to %s",
        ", ".join(f"{t.label} ({t.endpoint or t.path or t.kind})" for _, t in targets)
        or ", ".join(label for label, _, _ in raw),
    )
    return TracingHandle(
        provider=provider,
        targets=[t for _, t in targets],
        exporters=exporters,
        flush_timeout=flush_timeout,
        processor=processor,
    )


def _check_attributes(value: Mapping[str, Any] | None, source: str) -> None:
    """``value`` must be None or a mapping of str keys to OpenTelemetry attribute values."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source} must be a mapping of str keys to attribute values")
    for key, item in value.items():
        items = item if isinstance(item, list | tuple) else [item]
        if not isinstance(key, str) or not all(
            isinstance(i, str | bool | int | float) for i in items
        ):
            raise ConfigError(
                f"{source}[{key!r}] must be a str, bool, int or float (or a list of them)"
            )


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
