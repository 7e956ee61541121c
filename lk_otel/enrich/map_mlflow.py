"""MLflow 3.x keys for one span: span type and inputs/outputs.

MLflow's OTLP ingestion types livekit spans by their keys: any ``gen_ai.request.model`` (or
``lk.retry_count``) makes an LLM span, so ``tts_request`` and ``tts_request_run`` show as LLM
calls; and its trace list shows the root span's ``mlflow.spanInputs`` / ``spanOutputs``,
which livekit never sets. MLflow stores its own attributes JSON-encoded; lk_otel does too.
"""

from __future__ import annotations

import json
from typing import Any

from .. import semconv as sc
from .map_facts import SpanFacts, has_model
from .view import SpanView

LLM, AGENT, TOOL, CHAIN, UNKNOWN = "LLM", "AGENT", "TOOL", "CHAIN", "UNKNOWN"
TYPE_BY_NAME = {
    sc.SPAN_LLM_REQUEST: LLM,
    sc.SPAN_AGENT_TURN: AGENT,
    sc.SPAN_ASSISTANT_TURN: AGENT,
    sc.SPAN_FUNCTION_TOOL: TOOL,
    sc.SPAN_AGENT_SESSION: CHAIN,
    sc.SPAN_USER_TURN: CHAIN,
    sc.SPAN_LLM_NODE: CHAIN,
    sc.SPAN_TTS_NODE: CHAIN,
    sc.SPAN_TTS_REQUEST: UNKNOWN,  # MLflow has no speech type; not an LLM
    sc.SPAN_TTS_REQUEST_RUN: UNKNOWN,
    sc.SPAN_LLM_REQUEST_RUN: UNKNOWN,  # the retry loop inside llm_request, not a second call
    sc.SPAN_START_AGENT_ACTIVITY: UNKNOWN,
    sc.SPAN_REALTIME_INFERENCE: LLM,
    sc.SPAN_REALTIME_METRICS: LLM,
    sc.SPAN_REALTIME_ASSISTANT_TURN: LLM,  # 1.2: the realtime turn is its response's span
}

_ENCODED_TYPES = {kind: json.dumps(kind) for kind in (LLM, AGENT, TOOL, CHAIN, UNKNOWN)}


def span_type(span: SpanView) -> str | None:
    """``mlflow.spanType`` (unencoded), or None where MLflow's own guess is right."""
    if sc.STAGE_NAME in span.added:
        return CHAIN
    kind = TYPE_BY_NAME.get(span.name)
    if kind is None and has_model(span.attributes):
        return UNKNOWN
    return kind


_OPENERS = ("{", "[")


def _encoded(text: str) -> str:
    """A value as MLflow stores it: JSON. Text that already is a JSON object/list stays."""
    # only text that starts (after JSON whitespace) with { or [ can parse to an object/list
    if text.lstrip(" \t\n\r")[:1] in _OPENERS:
        try:
            if isinstance(json.loads(text), (dict, list)):
                return text
        except ValueError:
            pass
    return json.dumps(text, ensure_ascii=False)


def span_attributes(span: SpanView, facts: SpanFacts) -> dict[str, Any]:
    """Every MLflow key for ``span``."""
    out: dict[str, Any] = {}
    if (kind := span_type(span)) is not None:
        out[sc.MLFLOW_SPAN_TYPE] = _ENCODED_TYPES.get(kind) or json.dumps(kind)
    if facts.input is not None:
        out[sc.MLFLOW_SPAN_INPUTS] = _encoded(facts.input)
    if facts.output is not None:
        out[sc.MLFLOW_SPAN_OUTPUTS] = _encoded(facts.output)
    return out
