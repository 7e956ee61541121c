"""Peers measured beside lk_otel on the same replayed call, when they are installed.

``traceai-livekit`` (Future AGI) maps livekit's attributes in an exporter,
``BaseMappedSpanExporter``, that ``enable_fi_attribute_mapping()`` swaps in under the SDK's
``BatchSpanProcessor``. The benchmark puts that same mapping in front of the same exporter
lk_otel and the bare SDK get (a counting one, or the official OTLP/gRPC exporter), so only
the mapping differs. It is installed only in the benchmark's own venv (``make bench``).
"""

from __future__ import annotations


def traceai_exporter_class(kind: str) -> type | str:
    """An exporter class with traceai-livekit's mapping before ``kind``'s exporter, or why
    it is unavailable."""
    try:
        from traceai_livekit import BaseMappedSpanExporter
    except Exception as exc:  # not installed, or does not import with this livekit
        return f"traceai-livekit does not import ({type(exc).__name__}: {exc})"[:160]
    if kind == "counting":
        from span_replay import CountingExporter as Inner
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Inner

    return type("TraceAIMapped", (BaseMappedSpanExporter, Inner), {})
