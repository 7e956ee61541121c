"""Pure functions: livekit span attributes in, lk_otel figures out. No wiring, no state."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import semconv as sc

Attrs = Mapping[str, Any]


@dataclass(frozen=True)
class LlmCall:
    """One LLM generation (an ``llm_node`` with its ``llm_request``)."""

    start_ns: int
    ttft: float | None
    duration: float | None
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    tokens_per_second: float | None
    model: str | None
    provider: str | None


@dataclass(frozen=True)
class TtsCall:
    """One synthesis (a ``tts_node`` with its ``tts_request``)."""

    start_ns: int
    ttfb: float | None
    duration: float | None
    characters: int
    audio_duration: float
    streamed: bool | None
    model: str | None
    provider: str | None


def _json(value: Any) -> dict[str, Any]:
    if not isinstance(value, str):
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def llm_request_figures(attrs: Attrs) -> dict[str, Any]:
    """Figures of one ``llm_request`` span: its ``lk.llm_metrics`` JSON and ``gen_ai.usage``."""
    m = _json(attrs.get(sc.LK_LLM_METRICS))
    meta = m.get("metadata") or {}
    return {
        "ttft": _num(m.get("ttft")),
        "duration": _num(m.get("duration")),
        "input_tokens": int(
            attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS, m.get("prompt_tokens", 0)) or 0
        ),
        "output_tokens": int(
            attrs.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS, m.get("completion_tokens", 0)) or 0
        ),
        "cached_input_tokens": int(
            attrs.get(sc.GEN_AI_USAGE_CACHE_READ, m.get("prompt_cached_tokens", 0)) or 0
        ),
        "tokens_per_second": _num(m.get("tokens_per_second")),
        "model": attrs.get(sc.GEN_AI_REQUEST_MODEL) or meta.get("model_name"),
        "provider": meta.get("model_provider"),
    }


def llm_call(
    node_attrs: Attrs, start_ns: int, end_ns: int, requests: Sequence[dict[str, Any]]
) -> LlmCall:
    """An ``llm_node`` and the figures of its requests, combined."""
    first = requests[0] if requests else {}
    ttft = first.get("ttft")  # LLMMetrics' own figure; the node's adds livekit overhead
    if ttft is None:
        ttft = _num(node_attrs.get(sc.LK_RESPONSE_TTFT))
    duration = (
        sum(r["duration"] for r in requests if r.get("duration") is not None) if requests else None
    )
    return LlmCall(
        start_ns=start_ns,
        ttft=ttft,
        duration=duration if duration is not None else (end_ns - start_ns) / 1e9,
        input_tokens=sum(r["input_tokens"] for r in requests),
        output_tokens=sum(r["output_tokens"] for r in requests),
        cached_input_tokens=sum(r["cached_input_tokens"] for r in requests),
        tokens_per_second=first.get("tokens_per_second"),
        model=node_attrs.get(sc.GEN_AI_REQUEST_MODEL) or first.get("model"),
        provider=node_attrs.get(sc.GEN_AI_PROVIDER_NAME) or first.get("provider"),
    )


def llm_attributes(call: LlmCall) -> dict[str, Any]:
    """``lk_otel.llm.*`` for an ``llm_node``."""
    out: dict[str, Any] = {
        sc.LLM_INPUT_TOKENS: call.input_tokens,
        sc.LLM_OUTPUT_TOKENS: call.output_tokens,
        sc.LLM_CACHED_INPUT_TOKENS: call.cached_input_tokens,
    }
    _put(out, sc.LLM_TTFT, call.ttft)
    _put(out, sc.LLM_DURATION, call.duration)
    _put(out, sc.LLM_TOKENS_PER_SECOND, call.tokens_per_second)
    _put(out, sc.LLM_MODEL, call.model)
    _put(out, sc.LLM_PROVIDER, call.provider)
    return out


def tts_request_figures(attrs: Attrs) -> dict[str, Any]:
    """Figures of one ``tts_request`` span, from its ``lk.tts_metrics`` JSON."""
    m = _json(attrs.get(sc.LK_TTS_METRICS))
    meta = m.get("metadata") or {}
    streamed = attrs.get(sc.LK_TTS_STREAMING, m.get("streamed"))
    return {
        "ttfb": _num(m.get("ttfb")),
        "duration": _num(m.get("duration")),
        "characters": int(m.get("characters_count", 0) or 0),
        "audio_duration": float(m.get("audio_duration", 0.0) or 0.0),
        "streamed": bool(streamed) if streamed is not None else None,
        "model": meta.get("model_name"),
        "provider": meta.get("model_provider"),
    }


def tts_call(
    node_attrs: Attrs, start_ns: int, end_ns: int, requests: Sequence[dict[str, Any]]
) -> TtsCall:
    """A ``tts_node`` and the figures of its requests, combined."""
    first = requests[0] if requests else {}
    ttfb = first.get("ttfb")  # TTSMetrics' own figure
    if ttfb is None:
        ttfb = _num(node_attrs.get(sc.LK_RESPONSE_TTFB))
    duration = (
        sum(r["duration"] for r in requests if r.get("duration") is not None) if requests else None
    )
    return TtsCall(
        start_ns=start_ns,
        ttfb=ttfb,
        duration=duration if duration is not None else (end_ns - start_ns) / 1e9,
        characters=sum(r["characters"] for r in requests),
        audio_duration=sum(r["audio_duration"] for r in requests),
        streamed=first.get("streamed"),
        model=node_attrs.get(sc.GEN_AI_REQUEST_MODEL) or first.get("model"),
        provider=node_attrs.get(sc.GEN_AI_PROVIDER_NAME) or first.get("provider"),
    )


def tts_attributes(call: TtsCall) -> dict[str, Any]:
    """``lk_otel.tts.*`` for a ``tts_node``."""
    out: dict[str, Any] = {
        sc.TTS_CHARACTERS: call.characters,
        sc.TTS_AUDIO_DURATION: call.audio_duration,
    }
    _put(out, sc.TTS_TTFB, call.ttfb)
    _put(out, sc.TTS_DURATION, call.duration)
    _put(out, sc.TTS_STREAMED, call.streamed)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0 to 100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value
