"""``setup_tracing()``: the composition root. It resolves its arguments once into a
``TracingConfig`` and builds the pipeline from it:

livekit's spans → TracerProvider (one per configuration, with SpanLimits) → the process-wide
``HandoverProcessor`` (the enrichment, off the event loop) → one ``BackendExporter`` per
backend → official exporter.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import SpanLimits, TracerProvider

from . import _compat
from .configure.backends import ExportTarget
from .configure.config import (
    DEFAULT_FLUSH_TIMEOUT,
    DEFAULT_MAX_QUEUE_SIZE,
    DEFAULT_RETRY_INTERVAL,
    DEFAULT_SCHEDULE_DELAY,
    TracingConfig,
    resolve_config,
    tracing_disabled,
)
from .configure.lifecycle import (
    at_exit,
    cancel_at_exit,
    in_parallel,
    register_job_flush,
    run_bounded,
)
from .configure.selection import BackendArg
from .export.backend import BackendExporter
from .export.factory import create_span_exporter
from .routing import handover_processor

logger = logging.getLogger("lk_otel")
_GRACE = 0.5  # s past its bound before a flush that bounds itself counts as stuck
__all__ = ["DEFAULT_FLUSH_TIMEOUT", "TracingHandle", "setup_tracing"]


@dataclass(eq=False)
class TracingHandle:
    """What ``setup_tracing()`` installed. Flush and shutdown are bounded and never raise."""

    provider: TracerProvider | None
    targets: list[ExportTarget] = field(default_factory=list)
    exporters: list[BackendExporter] = field(default_factory=list)
    flush_timeout: float = DEFAULT_FLUSH_TIMEOUT
    meter_provider: Any | None = None
    processor: Any | None = None  # the enrichment of this handle's sessions
    config: TracingConfig | None = field(default=None, repr=False)
    _closed: bool = False

    @property
    def enabled(self) -> bool:
        """False when ``OTEL_SDK_DISABLED=true`` turned tracing off."""
        return self.provider is not None

    def force_flush(self, timeout: float | None = None) -> bool:
        """Export everything ended so far, retrying until ``timeout`` seconds are spent."""
        if self.provider is None or self._closed:
            return True
        bound = self.flush_timeout if timeout is None else timeout
        handover_processor().force_flush()  # what the enrichment holds goes out now
        calls = [lambda e=e: e.force_flush(bound) for e in self.exporters]
        if self.meter_provider is not None:
            meters = self.meter_provider
            calls.append(lambda: meters.force_flush(int(bound * 1000)))
        return in_parallel("flush", calls, bound + _GRACE)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop this handle's exporters; waits at most ``timeout`` seconds."""
        if self.provider is None or self._closed:
            return True
        self._closed = True
        cancel_at_exit(self._exit_hook)
        bound = self.flush_timeout if timeout is None else timeout
        with _lock:
            if _live and _live[-1] is self:  # the current one: new sessions go nowhere
                handover_processor().close()
            if self in _live:
                _live.remove(self)
            shared = {id(e) for h in _live for e in h.exporters}
        handover_processor().force_flush()
        calls = [lambda e=e: e.shutdown(bound) for e in self.exporters if id(e) not in shared]
        if self.meter_provider is not None:
            meters = self.meter_provider
            calls.append(
                lambda: run_bounded(
                    "metrics shutdown", lambda: meters.shutdown(timeout_millis=bound * 1000), bound
                )
            )
        return in_parallel("shutdown", calls, bound + _GRACE)

    def _released(self) -> None:
        """The sessions begun under this handle have ended after a reconfiguration."""
        threading.Thread(target=self.shutdown, name="lk_otel-handover", daemon=True).start()

    def _exit_hook(self) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        labels = ", ".join(_describe(t) for t in self.targets) or (
            "disabled" if self.provider is None else ", ".join(e.label for e in self.exporters)
        )
        return f"TracingHandle(backends=[{labels}])"


_lock = threading.Lock()
_live: list[TracingHandle] = []  # handles not shut down, the current one last


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
) -> TracingHandle:
    """Configure OpenTelemetry for a LiveKit agent and install it in livekit-agents.

    Call once in the entrypoint. ``backend`` is a name (``"langfuse"``, ``"jaeger"``,
    ``"otlp"``, ``"console"``, ``"file"``), a backend object, an SDK ``SpanExporter``, or a
    list of them; unset, it is chosen from the environment. A second call with the same
    arguments (a reused worker process) returns the installed handle; with other arguments
    it installs a new pipeline, and the sessions still open keep exporting through the old
    one until they end. Raises ``ConfigError`` naming the argument or variable at fault.

    ``langfuse`` / ``openinference`` / ``mlflow`` switch the backend-mapping keys; unset, a
    mapping is written when a backend reads it (a ``Langfuse`` backend Langfuse's, a
    ``Jaeger`` none, any other backend or exporter all three).

    Export never blocks the call: spans go out in batches every ``schedule_delay`` seconds.
    While a backend is down, up to ``2 * max_queue_size`` spans are held per backend (the
    oldest beyond that are dropped, counted in ``exporter.dropped`` and logged once) and the
    backend is tried again every ``retry_interval`` seconds. ``flush_timeout`` bounds every
    flush and shutdown, which keep retrying until it is spent.
    """
    if tracing_disabled():
        logger.info("lk_otel: OTEL_SDK_DISABLED=true, tracing is off")
        return TracingHandle(provider=None)
    config = resolve_config(
        backend,
        service_name=service_name,
        service_version=service_version,
        environment=environment,
        resource_attributes=resource_attributes,
        sample_rate=sample_rate,
        allow_pii=allow_pii,
        metadata=metadata,
        langfuse=langfuse,
        openinference=openinference,
        mlflow=mlflow,
        tags=tags,
        prices=prices,
        metrics=metrics,
        flush_timeout=flush_timeout,
        max_queue_size=max_queue_size,
        schedule_delay=schedule_delay,
        retry_interval=retry_interval,
    )
    _compat.note_untested_release(logger)
    with _lock:
        current = _live[-1] if _live else None
        if current is not None and current.config == config:
            handle = current
        else:
            handle = _build(config, current)
            _live.append(handle)
    register_job_flush(handle.force_flush, config.export.flush_timeout)
    at_exit(handle._exit_hook)
    return handle


def _build(config: TracingConfig, previous: TracingHandle | None) -> TracingHandle:
    """The pipeline of ``config``; the sessions open under ``previous`` stay with it."""
    provider = TracerProvider(
        resource=config.resource,
        sampler=config.sampler,
        # span, event and link attributes alike (livekit 1.2 puts content in span events)
        span_limits=SpanLimits(
            max_attribute_length=config.attribute_value_length_limit,
            max_span_attribute_length=config.attribute_value_length_limit,
        ),
        shutdown_on_exit=False,  # shut down by lk_otel with a bound, not by the SDK's atexit
    )
    exporters = _exporters(config, previous)
    handle = TracingHandle(
        provider=provider,
        targets=list(config.targets),
        exporters=exporters,
        flush_timeout=config.export.flush_timeout,
        config=config,
    )
    router = handover_processor(
        exporters, config.options, schedule_delay=config.export.schedule_delay
    )
    provider.add_span_processor(router)
    router.use(exporters, config.options, previous._released if previous is not None else _nothing)
    handle.processor = router.current
    if config.metrics:
        from .metrics.setup import attach_metrics

        attach_metrics(handle, config)
    _compat.set_tracer_provider(
        provider, metadata=config.metadata_dict, allow_pii=config.options.allow_pii
    )
    logger.info(
        "lk_otel: exporting traces to %s",
        ", ".join(_describe(t) for t in config.targets) or ", ".join(e.label for e in exporters),
    )
    return handle


def _exporters(config: TracingConfig, previous: TracingHandle | None) -> list[BackendExporter]:
    """One ``BackendExporter`` per backend; the previous handle's exporter of an equal
    backend with equal settings is taken over as it is (its queue and connection kept)."""
    reusable: dict[Any, BackendExporter] = {}
    if previous is not None and previous.config is not None:
        same = previous.config.export == config.export
        old = previous.config
        for key, exporter in zip(
            [*_keys(old.targets), *old.exporters], previous.exporters, strict=False
        ):
            if same:
                reusable[key] = exporter
    out: list[BackendExporter] = []
    for target, key in zip(config.targets, _keys(config.targets), strict=True):
        out.append(
            reusable.get(key)
            or _backend_exporter(
                create_span_exporter(target), config, target.label, target.auth_hint
            )
        )
    for inner in config.exporters:
        found = reusable.get(inner)
        out.append(found or _backend_exporter(inner, config, type(inner).__name__, None))
    return out


def _keys(targets: Sequence[ExportTarget]) -> list[Any]:
    """A hashable identity of each target (its headers included, never shown)."""
    return [(repr(t), tuple(sorted(t.headers.items()))) for t in targets]


def _backend_exporter(
    inner: Any, config: TracingConfig, label: str, auth_hint: str | None
) -> BackendExporter:
    settings = config.export
    return BackendExporter(
        inner,
        label=label,
        capacity=settings.capacity,
        batch_size=settings.batch_size,
        schedule_delay=settings.schedule_delay,
        retry_interval=settings.retry_interval,
        auth_hint=auth_hint,
    )


def _describe(target: ExportTarget) -> str:
    """A secret-free label for logs and reprs."""
    describe = getattr(target, "describe", None)
    return describe() if callable(describe) else target.label


def _nothing() -> None:
    pass
