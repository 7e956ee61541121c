"""OTLP/JSON lines files: one export request per line, as the Collector's ``file`` exporter writes.

The encoding is the official one: the SDK's OTLP protobuf encoders
(``opentelemetry-exporter-otlp-proto-common``: ``encode_spans``, ``encode_metrics``) and
protobuf's own JSON printer (``json_format.MessageToDict``: lowerCamelCase keys, 64-bit
integers as decimal strings, enums as integers with ``use_integers_for_enums``). The one
rule OTLP/JSON adds to protobuf's JSON mapping is applied after it: trace and span ids are
hex strings, not base64 (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).

Unlike ``opentelemetry-exporter-otlp-json-file``, which pins one SDK minor per release, this
works with every SDK from 1.34 on, so with every livekit-agents release lk_otel supports.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Sequence
from typing import IO, Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_log = logging.getLogger(__name__)

# The OTLP fields that hold trace/span ids (spans, links, exemplars); every other ``bytes``
# field (``bytesValue``) keeps protobuf's base64, as OTLP/JSON says.
ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})


def _hex_ids(node: Any) -> Any:
    """Rewrite, in place, every id field of a ``MessageToDict`` result from base64 to hex."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_FIELDS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            elif isinstance(value, dict | list):
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)
    return node


def to_otlp_json(message: Message) -> dict[str, Any]:
    """An OTLP protobuf message (e.g. ``ExportTraceServiceRequest``) as an OTLP/JSON object."""
    return _hex_ids(MessageToDict(message, use_integers_for_enums=True))


def spans_to_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """SDK spans as one OTLP/JSON ``ExportTraceServiceRequest`` object."""
    return to_otlp_json(encode_spans(spans))


class _JsonLines:
    """An append-only JSON Lines file shared by export threads; one flushed line per write."""

    def __init__(self, path: str | os.PathLike[str] | None, stream: IO[str] | None) -> None:
        if (path is None) == (stream is None):
            raise ValueError("give exactly one of path or stream")
        self._stream: IO[str] = stream if stream is not None else open(path, "a", encoding="utf-8")  # noqa: SIM115
        self._owned = stream is None
        self._lock = threading.Lock()
        self._closed = False

    def write(self, obj: dict[str, Any]) -> bool:
        line = json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            if self._closed:
                return False
            self._stream.write(line)
            self._stream.flush()
        return True

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._owned:
                self._stream.close()


class OTLPJsonFileSpanExporter(SpanExporter):
    """Writes each batch of spans as one OTLP/JSON ``ExportTraceServiceRequest`` line."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, stream: IO[str] | None = None
    ) -> None:
        self._out = _JsonLines(path, stream)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        try:
            written = self._out.write(spans_to_otlp_json(spans))
        except (OSError, ValueError) as exc:
            _log.warning("could not write spans to the OTLP/JSON file: %s", exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS if written else SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # every line is flushed when written

    def shutdown(self) -> None:
        self._out.close()


class OTLPJsonFileMetricExporter(MetricExporter):
    """Writes each metrics collection as one OTLP/JSON ``ExportMetricsServiceRequest`` line.

    Temporality and aggregation are the SDK's defaults unless given.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        stream: IO[str] | None = None,
        preferred_temporality: dict[type, Any] | None = None,
        preferred_aggregation: dict[type, Any] | None = None,
    ) -> None:
        super().__init__(
            preferred_temporality=preferred_temporality,
            preferred_aggregation=preferred_aggregation,
        )
        self._out = _JsonLines(path, stream)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        request = encode_metrics(metrics_data)
        if not request.resource_metrics:
            return MetricExportResult.SUCCESS
        try:
            written = self._out.write(to_otlp_json(request))
        except (OSError, ValueError) as exc:
            _log.warning("could not write metrics to the OTLP/JSON file: %s", exc)
            return MetricExportResult.FAILURE
        return MetricExportResult.SUCCESS if written else MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._out.close()
