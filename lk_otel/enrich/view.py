"""What a backend mapping sees of one span on its way out (a value type, no SDK objects)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SpanView:
    """One outgoing span as the backend mappings read it.

    ``attributes`` are livekit's own (already stripped of content when PII is off);
    ``added`` are the ``lk_otel.*`` attributes the enrichment writes on this span.
    """

    name: str
    attributes: Mapping[str, Any]
    added: Mapping[str, Any]
    is_root: bool
    start_ns: int
    end_ns: int
    service_name: str
    session_id: str | None = None
    participant_identity: str | None = None  # set only when PII is allowed
