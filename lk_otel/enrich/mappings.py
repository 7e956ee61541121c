"""Backend mappings: the keys Langfuse and OpenInference (Phoenix) read."""

from __future__ import annotations

from typing import Any

from .. import semconv as sc
from .options import EnrichOptions
from .view import SpanView

KINDS = (
    sc.SPAN_LLM_REQUEST,
    sc.SPAN_AGENT_TURN,
    sc.SPAN_ASSISTANT_TURN,
    sc.SPAN_FUNCTION_TOOL,
    sc.SPAN_AGENT_SESSION,
    sc.SPAN_USER_TURN,
    sc.SPAN_LLM_NODE,
    sc.SPAN_TTS_NODE,
)
_OI_KIND = {
    sc.SPAN_LLM_REQUEST: "LLM",
    sc.SPAN_AGENT_TURN: "AGENT",
    sc.SPAN_ASSISTANT_TURN: "AGENT",
    sc.SPAN_FUNCTION_TOOL: "TOOL",
    sc.SPAN_AGENT_SESSION: "CHAIN",
    sc.SPAN_USER_TURN: "CHAIN",
    sc.SPAN_LLM_NODE: "CHAIN",
    sc.SPAN_TTS_NODE: "CHAIN",
}


def root_attributes(options: EnrichOptions, session_id: str, trace_name: str) -> dict[str, Any]:
    """Set on every root span at start, so one call is one Langfuse / Phoenix session."""
    out: dict[str, Any] = {}
    if options.langfuse:
        out[sc.LANGFUSE_SESSION_ID] = session_id
        out[sc.LANGFUSE_TRACE_NAME] = trace_name
        if options.tags:
            out[sc.LANGFUSE_TRACE_TAGS] = list(options.tags)
        if options.environment:
            out[sc.LANGFUSE_ENVIRONMENT] = options.environment
        if options.release:
            out[sc.LANGFUSE_RELEASE] = options.release
    if options.openinference:
        out[sc.OI_SESSION_ID] = session_id
    return out


def span_kind_attributes(options: EnrichOptions, name: str) -> dict[str, Any]:
    """``openinference.span.kind`` for the spans Phoenix should classify."""
    if not options.openinference or name not in _OI_KIND:
        return {}
    return {sc.OPENINFERENCE_SPAN_KIND: _OI_KIND[name]}


def llm_model_attributes(
    options: EnrichOptions, attrs: Any, provider: str | None
) -> dict[str, Any]:
    """OpenInference model keys on ``llm_request`` (token counts stay on ``gen_ai.usage``)."""
    if not options.openinference:
        return {}
    out: dict[str, Any] = {}
    if model := attrs.get(sc.GEN_AI_REQUEST_MODEL):
        out[sc.OI_LLM_MODEL_NAME] = model
    if provider:
        out[sc.OI_LLM_PROVIDER] = provider
    return out


def user_attributes(options: EnrichOptions, identity: str | None) -> dict[str, Any]:
    """The participant identity, only when PII is allowed."""
    if not identity or not options.allow_pii:
        return {}
    out: dict[str, Any] = {}
    if options.langfuse:
        out[sc.LANGFUSE_USER_ID] = identity
    if options.openinference:
        out[sc.OI_USER_ID] = identity
    return out


def stage_attributes(options: EnrichOptions) -> dict[str, Any]:
    """Mapping keys on the waterfall's spans: plain spans, not generations."""
    out: dict[str, Any] = {}
    if options.langfuse:
        out[sc.LANGFUSE_OBSERVATION_TYPE] = "span"
    if options.openinference:
        out[sc.OPENINFERENCE_SPAN_KIND] = "CHAIN"
    return out


def backend_attributes(options: EnrichOptions, span: SpanView) -> dict[str, Any]:
    """Every backend-mapping key for one outgoing span (merged over its attributes).

    The one entry point the enrichment calls, once per exported span.
    """
    out: dict[str, Any] = {}
    if sc.STAGE_NAME in span.added:
        return stage_attributes(options)
    out.update(span_kind_attributes(options, span.name))
    if span.name == sc.SPAN_LLM_REQUEST:
        provider = span.attributes.get(sc.GEN_AI_PROVIDER_NAME) or span.added.get(sc.LLM_PROVIDER)
        out.update(llm_model_attributes(options, span.attributes, provider))
    if span.is_root and span.session_id is not None:
        out.update(root_attributes(options, span.session_id, span.service_name))
    if span.name == sc.SPAN_AGENT_SESSION:
        out.update(user_attributes(options, span.participant_identity))
    return out
