"""PII stripping for livekit releases whose ``set_tracer_provider`` has no ``allow_pii`` (1.2).

Newer releases strip content themselves, before any processor of ours sees the span.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import Event

# content keys of livekit 1.2, which predate the ``lk.pii.`` marker
LEGACY_CONTENT_KEYS = frozenset(
    {
        "lk.user_input",
        "lk.user_transcript",
        "lk.response.text",
        "lk.response.function_calls",
        "lk.chat_ctx",
        "lk.input_text",
        "lk.instructions",
        "lk.function_tool.arguments",
        "lk.function_tool.output",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "input.value",
        "output.value",
    }
)


def is_content_key(key: str) -> bool:
    """True for any attribute that carries what a person said or a model wrote."""
    return key in LEGACY_CONTENT_KEYS or "pii" in key.split(".") or key.startswith("gen_ai.prompt")


def strip_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    """``attrs`` without content keys."""
    return {k: v for k, v in attrs.items() if not is_content_key(k)}


def strip_events(events: tuple[Event, ...]) -> tuple[Event, ...]:
    """Events without content: GenAI message events go whole, others lose content keys."""
    out = []
    for event in events:
        if event.name.startswith("gen_ai."):
            continue
        attrs = dict(event.attributes or {})
        clean = strip_attributes(attrs)
        out.append(event if len(clean) == len(attrs) else Event(event.name, clean, event.timestamp))
    return tuple(out)
