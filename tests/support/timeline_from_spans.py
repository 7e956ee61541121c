"""A TurnTimeline per answering turn of a simulated call, from livekit's raw SDK spans."""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.sdk.trace import ReadableSpan

from lk_otel.enrich.timeline import TurnTimeline
from lk_otel.report.records import records_from_spans
from lk_otel.report.timeline import timelines_from_records


def timelines_from_spans(spans: Iterable[ReadableSpan]) -> dict[int, TurnTimeline]:
    """Turn span id → its timeline, for every turn that answers a user turn."""
    return {
        int(span_id, 16): timeline
        for (_, span_id), timeline in timelines_from_records(records_from_spans(spans)).items()
    }
