"""A one-line-per-span formatter for the SDK's ``ConsoleSpanExporter``."""

from __future__ import annotations

import sys

from opentelemetry.sdk.trace import ReadableSpan

# the attributes worth a glance, in the order printed
_SHOWN = (
    "lk_otel.turn.index",
    "lk_otel.turn.e2e_latency",
    "lk_otel.turn.end_of_turn_delay",
    "lk_otel.turn.llm_ttft",
    "lk_otel.turn.tts_ttfb",
    "lk_otel.llm.ttft",
    "lk_otel.llm.input_tokens",
    "lk_otel.llm.output_tokens",
    "lk_otel.tts.ttfb",
    "lk_otel.tts.characters",
    "lk_otel.session.turns",
    "lk_otel.stage.duration",
)


def format_span(span: ReadableSpan) -> str:
    """``name  12.3 ms  trace=… span=…  key=value …`` and a newline."""
    duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    ctx = span.get_span_context()
    trace_id = f"{ctx.trace_id:032x}" if ctx else "-"
    span_id = f"{ctx.span_id:016x}" if ctx else "-"
    attrs = span.attributes or {}
    shown = " ".join(
        f"{key.removeprefix('lk_otel.')}={_fmt(attrs[key])}" for key in _SHOWN if key in attrs
    )
    return f"{span.name:<22} {duration_ms:9.1f} ms  trace={trace_id} span={span_id}  {shown}\n"


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


class Stdout:
    """Writes to whatever ``sys.stdout`` is at the time (the SDK binds it at import)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()
