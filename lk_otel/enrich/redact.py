"""PII stripping for livekit releases whose ``set_tracer_provider`` has no ``allow_pii`` (1.2).

Newer releases strip content themselves, before any processor of ours sees the span. The keys
are those of ``lk_otel.content_keys`` for every supported release (a key that is content on one
release is content on all), the same list the gateway collector's strip rules are checked
against.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import Event

from ..content_keys import CONTENT_EVENT_NAMES, CONTENT_KEY_PREFIXES, all_content_keys

CONTENT_KEYS = all_content_keys()


def is_content_key(key: str) -> bool:
    """True for any attribute that carries what a person said, a model wrote, or who they are."""
    return key in CONTENT_KEYS or "pii" in key.split(".") or key.startswith(CONTENT_KEY_PREFIXES)


def strip_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    """``attrs`` without content keys."""
    return {k: v for k, v in attrs.items() if not is_content_key(k)}


def strip_events(events: tuple[Event, ...]) -> tuple[Event, ...]:
    """Events without content: GenAI message events go whole, others lose content keys."""
    out = []
    for event in events:
        if event.name in CONTENT_EVENT_NAMES or event.name.startswith("gen_ai."):
            continue
        attrs = dict(event.attributes or {})
        clean = strip_attributes(attrs)
        out.append(event if len(clean) == len(attrs) else Event(event.name, clean, event.timestamp))
    return tuple(out)
