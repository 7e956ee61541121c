"""The flat span record every report module works on, and its conversion from SDK spans."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan


@dataclass(frozen=True)
class SpanRecord:
    """One finished span, decoupled from the SDK and from the file format.

    Ids are lowercase hex (32 chars for traces, 16 for spans); ``parent_id`` is ``None``
    for a root span. Attribute values keep their OTLP type: ``str``, ``bool``, ``int``,
    ``float``, ``bytes``, ``tuple`` (arrays) or ``dict`` (key/value lists).
    """

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int | None
    attributes: Mapping[str, Any] = field(default_factory=dict, hash=False)
    resource: Mapping[str, Any] = field(default_factory=dict, hash=False)


def _plain(value: Any) -> Any:
    """SDK attribute value as a record value (sequences become tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def records_from_spans(spans: Iterable[ReadableSpan]) -> list[SpanRecord]:
    """Convert SDK spans (e.g. from an in-memory exporter) into :class:`SpanRecord` s."""
    records: list[SpanRecord] = []
    for span in spans:
        ctx = span.context
        if ctx is None:
            continue
        parent = span.parent
        resource = span.resource.attributes if span.resource is not None else {}
        records.append(
            SpanRecord(
                trace_id=format(ctx.trace_id, "032x"),
                span_id=format(ctx.span_id, "016x"),
                parent_id=format(parent.span_id, "016x") if parent is not None else None,
                name=span.name,
                start_ns=span.start_time or 0,
                end_ns=span.end_time,
                attributes={k: _plain(v) for k, v in (span.attributes or {}).items()},
                resource={k: _plain(v) for k, v in resource.items()},
            )
        )
    return records
