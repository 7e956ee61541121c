"""Langfuse keys for one span: observation type and level, usage, cost, content, metadata.

Langfuse's OTLP ingestion guesses a type for every span (``langfuse.observation.type`` first,
then OpenInference, then ``gen_ai.operation.name``, then "any model key makes a generation")
and hides livekit's ``tts_*`` spans at DEBUG. lk_otel says what each livekit span is: a
generation only for a model call with usage (``llm_request`` tokens, ``tts_request``
characters, ``user_turn`` STT audio), priced on that leaf alone, so the trace's cost (the
sum over its observations) is the call's.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .. import semconv as sc
from .map_facts import LlmUsage, RealtimeUsage, SpanFacts, SttUsage, TtsUsage, has_model
from .view import SpanView

SPAN, GENERATION, AGENT, TOOL, CHAIN = "span", "generation", "agent", "tool", "chain"
TYPE_BY_NAME = {
    sc.SPAN_AGENT_SESSION: CHAIN,
    sc.SPAN_AGENT_TURN: AGENT,
    sc.SPAN_ASSISTANT_TURN: AGENT,  # 1.2's turn is in none of Langfuse's livekit rules
    sc.SPAN_FUNCTION_TOOL: TOOL,
    sc.SPAN_LLM_NODE: SPAN,
    sc.SPAN_TTS_NODE: SPAN,
    sc.SPAN_LLM_REQUEST_RUN: SPAN,
    sc.SPAN_TTS_REQUEST_RUN: SPAN,
    sc.SPAN_START_AGENT_ACTIVITY: SPAN,
    # a model call's span when it carries no usage (cancelled, nothing said or heard)
    sc.SPAN_LLM_REQUEST: SPAN,
    sc.SPAN_TTS_REQUEST: SPAN,
    sc.SPAN_USER_TURN: SPAN,
}
# operations Langfuse turns into a generation or an agent
_GUESSED_OPERATIONS = frozenset(
    {"chat", "completion", "text_completion", "generate_content", "generate", "create_agent"}
)
# livekit spans Langfuse hides at DEBUG that carry what a user looks for: TTS figures, TTS cost
_SHOWN = frozenset({sc.SPAN_TTS_NODE, sc.SPAN_TTS_REQUEST})


def observation_type(span: SpanView, facts: SpanFacts) -> str | None:
    """The type to set, or None where Langfuse's own guess is right (a plain span)."""
    if sc.STAGE_NAME in span.added:
        return SPAN
    if facts.usage is not None:
        return GENERATION
    if (kind := TYPE_BY_NAME.get(span.name)) is not None:
        return kind
    a = span.attributes
    if has_model(a) or a.get(sc.GEN_AI_OPERATION_NAME) in _GUESSED_OPERATIONS:
        return SPAN  # a model key without usage: not a generation
    return None


def usage_details(u: LlmUsage | TtsUsage | SttUsage | RealtimeUsage) -> dict[str, Any]:
    """``usage_details`` in Langfuse's key names, whole numbers (Langfuse rejects others).

    LLM ``input`` excludes the cached tokens (Langfuse prices ``input`` and
    ``input_cached_tokens`` separately); TTS ``total`` is the characters, not their sum with
    the audio milliseconds.
    """
    if isinstance(u, LlmUsage):
        return {
            sc.LANGFUSE_USAGE_INPUT: max(u.input_tokens - u.cached_input_tokens, 0),
            sc.LANGFUSE_USAGE_CACHED: u.cached_input_tokens,
            sc.LANGFUSE_USAGE_OUTPUT: u.output_tokens,
        }
    if isinstance(u, TtsUsage):
        return {
            sc.LANGFUSE_USAGE_CHARACTERS: u.characters,
            sc.LANGFUSE_USAGE_AUDIO_MS: round(u.audio_seconds * 1000),
            sc.LANGFUSE_USAGE_TOTAL: u.characters,
        }
    if isinstance(u, RealtimeUsage):
        # each key priced on its own: the input counts exclude their cached part
        return {
            sc.LANGFUSE_USAGE_INPUT_TEXT: max(u.input_text - u.cached_text, 0),
            sc.LANGFUSE_USAGE_CACHED_TEXT: u.cached_text,
            sc.LANGFUSE_USAGE_INPUT_AUDIO: max(u.input_audio - u.cached_audio, 0),
            sc.LANGFUSE_USAGE_CACHED_AUDIO: u.cached_audio,
            sc.LANGFUSE_USAGE_INPUT_IMAGE: u.input_image,
            sc.LANGFUSE_USAGE_OUTPUT_TEXT: u.output_text,
            sc.LANGFUSE_USAGE_OUTPUT_AUDIO: u.output_audio,
            sc.LANGFUSE_USAGE_TOTAL: u.input_tokens + u.output_tokens,
        }
    return {sc.LANGFUSE_USAGE_AUDIO_MS: round(u.audio_seconds * 1000)}


def iso_time(ns: int) -> str:
    """An ISO 8601 UTC time with milliseconds, as JavaScript's ``Date`` parses it."""
    ms = ns // 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def observation_attributes(span: SpanView, facts: SpanFacts) -> dict[str, Any]:
    """Every ``langfuse.observation.*`` key for ``span``; the trace's on ``agent_session``
    (Langfuse takes trace keys from any span, so this holds when a job span is the root)."""
    out: dict[str, Any] = {}
    if (kind := observation_type(span, facts)) is not None:
        out[sc.LANGFUSE_OBSERVATION_TYPE] = kind
    if span.name in _SHOWN:
        out[sc.LANGFUSE_OBSERVATION_LEVEL] = "DEFAULT"
    u = facts.usage
    if u is not None:
        out[sc.LANGFUSE_USAGE_DETAILS] = json.dumps(usage_details(u))
        if u.model:
            out[sc.LANGFUSE_OBSERVATION_MODEL] = u.model
        if isinstance(u, TtsUsage) and u.ttfb is not None and span.start_ns:
            out[sc.LANGFUSE_COMPLETION_START_TIME] = iso_time(span.start_ns + round(u.ttfb * 1e9))
    if facts.cost is not None:
        out[sc.LANGFUSE_COST_DETAILS] = json.dumps({"total": facts.cost})
    if facts.input is not None:
        out[sc.LANGFUSE_OBSERVATION_INPUT] = facts.input
    if facts.output is not None:
        out[sc.LANGFUSE_OBSERVATION_OUTPUT] = facts.output
    for key, value in (facts.figures or {}).items():
        out[sc.LANGFUSE_OBSERVATION_METADATA + key] = value
    if span.is_root or span.name == sc.SPAN_AGENT_SESSION:
        out.update(_trace_attributes(facts))
    return out


def _trace_attributes(facts: SpanFacts) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if facts.input is not None:
        out[sc.LANGFUSE_TRACE_INPUT] = facts.input
    if facts.output is not None:
        out[sc.LANGFUSE_TRACE_OUTPUT] = facts.output
    for key, value in (facts.figures or {}).items():
        out[sc.LANGFUSE_TRACE_METADATA + key] = value
    return out
