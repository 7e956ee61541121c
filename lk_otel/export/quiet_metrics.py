"""A metric exporter wrapper: one warning when it starts failing, one info on recovery."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData

from .. import _compat
from . import diagnostics

logger = logging.getLogger("lk_otel.export")


class QuietMetricExporter(MetricExporter):
    """Wraps a metric exporter: one warning when it starts failing, one info on recovery,
    instead of the official exporter's line per attempt. Never raises."""

    def __init__(self, inner: MetricExporter, *, label: str, auth_hint: str | None = None) -> None:
        super().__init__(**_compat.metric_exporter_preferences(inner))
        self._inner = inner
        self._label = label
        self._auth_hint = auth_hint
        self._failing = False
        diagnostics.install()

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        with diagnostics.capture() as messages:
            try:
                result = self._inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            except Exception as exc:
                messages.append(f"{type(exc).__name__}: {exc}")
                result = MetricExportResult.FAILURE
        if result is MetricExportResult.SUCCESS:
            if self._failing:
                logger.info("lk_otel: metrics export to %s recovered", self._label)
            self._failing = False
        elif not self._failing:
            self._failing = True
            cause = diagnostics.describe(messages, auth_hint=self._auth_hint)
            logger.warning("lk_otel: metrics export to %s failing: %s", self._label, cause)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)
