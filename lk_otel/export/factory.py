"""Build the official SDK exporters for a validated ``ExportTarget``."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter

from ..configure.backends import ExportTarget
from .console import Stdout, format_span


def _compression(name: str | None, *, grpc: bool) -> object | None:
    if name is None:
        return None
    if grpc:
        from grpc import Compression

        return {"gzip": Compression.Gzip, "none": Compression.NoCompression}[name]
    from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression

    return {
        "gzip": HttpCompression.Gzip,
        "deflate": HttpCompression.Deflate,
        "none": HttpCompression.NoCompression,
    }[name]


def create_span_exporter(target: ExportTarget) -> SpanExporter:
    """The official exporter for ``target`` (OTLP gRPC/HTTP, OTLP/JSON file or console)."""
    if target.kind == "console":
        return ConsoleSpanExporter(out=Stdout(), formatter=format_span)
    if target.kind == "file":
        from opentelemetry.exporter.otlp.json.file import FileSpanExporter

        return FileSpanExporter(target.path)
    if target.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(
            endpoint=target.endpoint,
            insecure=target.insecure,
            headers=dict(target.headers),
            timeout=target.timeout,
            compression=_compression(target.compression, grpc=True),  # type: ignore[arg-type]
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter(
        endpoint=target.endpoint,
        headers=dict(target.headers),
        timeout=target.timeout,
        compression=_compression(target.compression, grpc=False),  # type: ignore[arg-type]
    )


def create_metric_exporter(target: ExportTarget) -> MetricExporter:
    """The official metric exporter for ``target``."""
    if target.kind == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return ConsoleMetricExporter()
    if target.kind == "file":
        from opentelemetry.exporter.otlp.json.file import FileMetricExporter

        return FileMetricExporter(target.path)
    if target.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(
            endpoint=target.endpoint,
            insecure=target.insecure,
            headers=dict(target.headers),
            timeout=target.timeout,
            compression=_compression(target.compression, grpc=True),  # type: ignore[arg-type]
        )
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter as HttpMetricExporter,
    )

    return HttpMetricExporter(
        endpoint=target.endpoint,
        headers=dict(target.headers),
        timeout=target.timeout,
        compression=_compression(target.compression, grpc=False),  # type: ignore[arg-type]
    )
