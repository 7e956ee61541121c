"""OpenInference keys (Arize Phoenix) for one span: span kind, model and tokens, content.

Phoenix turns GenAI keys into OpenInference ones when a span sets none: any span with
``gen_ai.request.model`` becomes an LLM span (livekit's ``tts_request``, ``llm_request_run``,
nodes, user turns) and ``start_agent_activity`` an AGENT. lk_otel sets the kind of every
livekit span that carries a model key, so only ``llm_request`` is an LLM span.
"""

from __future__ import annotations

from typing import Any

from .. import semconv as sc
from .map_facts import LlmUsage, RealtimeUsage, SpanFacts, has_model
from .view import SpanView

LLM, AGENT, TOOL, CHAIN = "LLM", "AGENT", "TOOL", "CHAIN"
KIND_BY_NAME = {
    sc.SPAN_LLM_REQUEST: LLM,
    sc.SPAN_AGENT_TURN: AGENT,
    sc.SPAN_ASSISTANT_TURN: AGENT,
    sc.SPAN_FUNCTION_TOOL: TOOL,
    sc.SPAN_AGENT_SESSION: CHAIN,
    sc.SPAN_USER_TURN: CHAIN,
    sc.SPAN_LLM_NODE: CHAIN,
    sc.SPAN_TTS_NODE: CHAIN,
    sc.SPAN_TTS_REQUEST: CHAIN,
    sc.SPAN_TTS_REQUEST_RUN: CHAIN,
    sc.SPAN_LLM_REQUEST_RUN: CHAIN,
    sc.SPAN_START_AGENT_ACTIVITY: CHAIN,
    # a realtime response is the model call of a realtime turn (no llm_request there)
    sc.SPAN_REALTIME_INFERENCE: LLM,
    sc.SPAN_REALTIME_METRICS: LLM,
    sc.SPAN_REALTIME_ASSISTANT_TURN: LLM,  # 1.2: the realtime turn is its response's span
}


def span_kind(span: SpanView) -> str | None:
    """``openinference.span.kind``, or None where Phoenix's own guess is right."""
    if sc.STAGE_NAME in span.added:
        return CHAIN
    kind = KIND_BY_NAME.get(span.name)
    if kind is None and has_model(span.attributes):
        return CHAIN  # a model key on a span that is no model call
    return kind


def span_attributes(span: SpanView, facts: SpanFacts) -> dict[str, Any]:
    """Every OpenInference key for ``span``."""
    out: dict[str, Any] = {}
    if (kind := span_kind(span)) is not None:
        out[sc.OPENINFERENCE_SPAN_KIND] = kind
    u = facts.usage
    if isinstance(u, LlmUsage):
        if u.model:
            out[sc.OI_LLM_MODEL_NAME] = u.model
        if u.provider:
            out[sc.OI_LLM_PROVIDER] = u.provider
        out[sc.OI_TOKEN_PROMPT] = u.input_tokens
        out[sc.OI_TOKEN_COMPLETION] = u.output_tokens
        out[sc.OI_TOKEN_TOTAL] = u.input_tokens + u.output_tokens
        out[sc.OI_TOKEN_CACHE_READ] = u.cached_input_tokens
    if isinstance(u, RealtimeUsage):
        if u.model:
            out[sc.OI_LLM_MODEL_NAME] = u.model
        if u.provider:
            out[sc.OI_LLM_PROVIDER] = u.provider
        out[sc.OI_TOKEN_PROMPT] = u.input_tokens
        out[sc.OI_TOKEN_COMPLETION] = u.output_tokens
        out[sc.OI_TOKEN_TOTAL] = u.input_tokens + u.output_tokens
        out[sc.OI_TOKEN_CACHE_READ] = u.cached_tokens
        out[sc.OI_TOKEN_PROMPT_AUDIO] = u.input_audio
        out[sc.OI_TOKEN_COMPLETION_AUDIO] = u.output_audio
    if facts.input is not None:
        out[sc.OI_INPUT_VALUE] = facts.input
    if facts.output is not None:
        out[sc.OI_OUTPUT_VALUE] = facts.output
    return out
