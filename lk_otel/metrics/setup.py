"""``setup_metrics()``: a MeterProvider exporting over OTLP, fed live by the enrichment."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import metrics as metrics_api
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from .. import _compat
from ..configure.backends import Backend, ExportTarget
from ..configure.config import TracingConfig
from ..configure.env import environ
from ..configure.resource import build_resource
from ..configure.selection import BackendArg, coerce_backends
from ..export.factory import create_metric_exporter
from ..export.quiet_metrics import QuietMetricExporter
from . import realtime
from .instruments import METER, views
from .realtime import RealtimeMetricsRecorder
from .recorder import TurnMetricsRecorder

logger = logging.getLogger("lk_otel")
_lock = threading.Lock()
_global_set = False


def build_meter_provider(
    targets: Sequence[ExportTarget], resource: Resource, export_interval: float | None = None
) -> tuple[MeterProvider, TurnMetricsRecorder]:
    """A MeterProvider with one periodic reader per target.

    ``OTEL_METRIC_EXPORT_INTERVAL`` applies when ``export_interval`` is None.
    """
    readers = [
        PeriodicExportingMetricReader(
            QuietMetricExporter(
                create_metric_exporter(target), label=target.label, auth_hint=target.auth_hint
            ),
            export_interval_millis=export_interval * 1000 if export_interval else None,
        )
        for target in targets
    ]
    # shut down by lk_otel with a bound, not by the SDK's unbounded atexit hook
    provider = MeterProvider(
        resource=resource,
        metric_readers=readers,
        views=[*views(), *realtime.views()],
        shutdown_on_exit=False,
    )
    recorder = TurnMetricsRecorder(
        provider.get_meter(METER), genai=not _compat.livekit_records_genai_metrics()
    )
    return provider, recorder


def _note_traces_only(names: Sequence[str]) -> None:
    """Backends that take traces only (Langfuse, Jaeger) are skipped with a one-line note."""
    for name in names:
        logger.info("lk_otel: %s takes traces only; metrics are not sent there", name)


def install_global(provider: MeterProvider) -> bool:
    """Make ``provider`` the global one, so livekit's own ``lk.agents.*`` instruments (on
    ``get_meter("livekit-agents")``) reach the same backends. OpenTelemetry allows this once
    per process; returns False (and logs once) when another provider was set first."""
    global _global_set
    with _lock:
        if _global_set:
            logger.info(
                "lk_otel: a global MeterProvider is already set; livekit's own "
                "lk.agents.* metrics keep going to the first one"
            )
            return False
        metrics_api.set_meter_provider(provider)
        _global_set = True
        return True


def setup_metrics(
    backend: BackendArg = None,
    *,
    service_name: str | None = None,
    service_version: str | None = None,
    environment: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    export_interval: float | None = None,
) -> MeterProvider:
    """Metrics without tracing: livekit's ``lk.agents.*`` instruments to the backends.

    The per-turn ``lk_otel.*`` instruments need the span enrichment: use
    ``setup_tracing(metrics=True)`` for those.
    """
    env = environ()
    backends = coerce_backends(backend, env)
    resource = build_resource(
        env,
        service_name=service_name,
        service_version=service_version,
        environment=environment,
        extra=resource_attributes,
    )
    targets = []
    traces_only = []
    for b in backends:
        if isinstance(b, Backend):  # a SpanExporter instance carries traces only
            found = b.resolve(env, "metrics")
            (targets.append(found) if found else traces_only.append(b.name))
    _note_traces_only(traces_only)
    provider, _ = build_meter_provider(targets, resource, export_interval)
    install_global(provider)
    return provider


def attach_metrics(handle: Any, config: TracingConfig) -> None:
    """Give a tracing handle a MeterProvider whose recorder hears every enriched turn."""
    _note_traces_only(config.traces_only)
    provider, recorder = build_meter_provider(config.metric_targets, config.resource)
    install_global(provider)
    handle.meter_provider = provider
    if handle.processor is not None:
        handle.processor.add_observer(recorder)
        # issue 13: realtime responses, barge-in, handoffs, false interruptions
        handle.processor.add_observer(
            _RealtimeNotices(RealtimeMetricsRecorder(provider.get_meter(METER)))
        )


class _RealtimeNotices:
    """The realtime recorder as an enrichment observer: the pipeline notices are not its."""

    def __init__(self, recorder: RealtimeMetricsRecorder) -> None:
        self._recorder = recorder
        self.on_response = recorder.on_response
        self.on_interrupted_turn = recorder.on_interrupted_turn
        self.on_handoff = recorder.on_handoff
        self.on_false_interruption = recorder.on_false_interruption

    def on_turn(self, turn: Any) -> None:
        """Recorded by :class:`TurnMetricsRecorder`."""

    def on_user_turn(self, stt_audio_seconds: float, agent_name: str | None) -> None:
        """Recorded by :class:`TurnMetricsRecorder`."""

    def on_llm(self, call: Any, agent_name: str | None) -> None:
        """Recorded by :class:`TurnMetricsRecorder`."""

    def on_tts(self, call: Any, agent_name: str | None) -> None:
        """Recorded by :class:`TurnMetricsRecorder`."""
