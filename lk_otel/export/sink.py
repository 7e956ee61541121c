"""What the enrichment hands finished spans to: one per backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from opentelemetry.sdk.trace import ReadableSpan


class SpanSink(Protocol):
    """Takes finished (enriched) spans for one backend; never blocks, never raises."""

    def offer(self, spans: Sequence[ReadableSpan]) -> None:
        """Queue ``spans`` for export; over the bound the oldest are dropped and counted."""
        ...
