"""Build the official SDK exporters for a validated ``ExportTarget``."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter

from .. import _compat
from ..configure.backends import ExportTarget
from .console import Stdout, format_span
from .otlp_json_file import OTLPJsonFileMetricExporter, OTLPJsonFileSpanExporter


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


def _otlp(target: ExportTarget, grpc_cls: type, http_cls: type, **grpc_only: Any) -> Any:
    """An OTLP exporter of the target's protocol, with its endpoint, headers and options."""
    grpc = target.protocol == "grpc"
    kwargs: dict[str, Any] = {
        "endpoint": target.endpoint,
        "headers": dict(target.headers),
        "timeout": target.timeout,
        "compression": _compression(target.compression, grpc=grpc),
    }
    if grpc:
        kwargs["insecure"] = target.insecure
        kwargs.update(grpc_only)
    return (grpc_cls if grpc else http_cls)(**kwargs)


def create_span_exporter(target: ExportTarget) -> SpanExporter:
    """The official exporter for ``target`` (OTLP gRPC/HTTP, OTLP/JSON file or console)."""
    if target.kind == "console":
        return ConsoleSpanExporter(out=Stdout(), formatter=format_span)
    if target.kind == "file":
        return OTLPJsonFileSpanExporter(target.path)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    # BackendExporter is the one place spans are retried (every 50 ms while a flush waits);
    # the gRPC exporter's own exponential back-off (1, 2, 4 s inside one export() call) would
    # hold the worker while a flapping backend is up; off where the SDK lets us (see _compat)
    return _otlp(target, Grpc, Http, **_compat.grpc_exporter_without_retry(Grpc))


def create_metric_exporter(target: ExportTarget) -> MetricExporter:
    """The official metric exporter for ``target``."""
    if target.kind == "console":
        return ConsoleMetricExporter()
    if target.kind == "file":
        return OTLPJsonFileMetricExporter(target.path)
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as Http

    return _otlp(target, Grpc, Http)
