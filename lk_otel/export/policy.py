"""What to do with a batch the backend did not take: pure decisions, no threads, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TypeVar

from opentelemetry.sdk.trace import ReadableSpan

from .diagnostics import Cause

T = TypeVar("T")
# causes the backend gives for this request's content, not for its own state: sending the
# same batch again can never succeed, so it is split, and a span that alone fails is dropped
UNSENDABLE = frozenset({"too_large", "rejected"})
# causes that say what to fix; any other (refused, timeout, unavailable, unknown) is the
# backend being away, already warned about when the outage began
ACTIONABLE = frozenset({"auth", "not_found", "tls", "dns", "status"})
MIB = 1024 * 1024


class Verdict(Enum):
    """The fate of a failed batch."""

    SPLIT = "split"  # the content cannot go as one request: send each half on its own
    DROP = "drop"  # one span the backend can never take: drop it, count it, go on
    HOLD = "hold"  # the backend is away: keep the batch and try again later


def verdict(cause: Cause, size: int) -> Verdict:
    """What to do with a failed batch of ``size`` spans that failed for ``cause``."""
    if cause.kind not in UNSENDABLE:
        return Verdict.HOLD
    return Verdict.SPLIT if size > 1 else Verdict.DROP


def halves(batch: Sequence[T]) -> tuple[list[T], list[T]]:
    """``batch`` cut in two, the first half the larger by at most one; order kept."""
    middle = (len(batch) + 1) // 2
    return list(batch[:middle]), list(batch[middle:])


def encoded_size(span: ReadableSpan) -> int:
    """Bytes ``span`` takes in an OTLP/protobuf request (its JSON length if that fails)."""
    try:
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        return encode_spans([span]).ByteSize()
    except Exception:  # the encoder is an optional dependency of the exporters
        return len(span.to_json(indent=None))


def drop_warning(label: str, span: ReadableSpan, cause: Cause) -> str:
    """The one warning naming a span the backend can never take."""
    size = encoded_size(span)
    what = "over the backend's limit" if cause.kind == "too_large" else "refused by the backend"
    return (
        f"lk_otel: export to {label}: a span of {size / MIB:.1f} MB is {what} "
        f"({span.name!r}: {cause.text}); it was dropped, the spans behind it go on"
    )
