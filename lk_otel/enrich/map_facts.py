"""What the backend mappings need to know about one span, read off its attributes.

Pure extraction, no backend key names: usage of the one model call a span stands for
(``llm_request``: tokens, ``tts_request``: characters, ``user_turn``: STT audio seconds), its
cost with ``prices=``, the text said (content, read only when the caller allows PII), and the
scalar ``lk_otel.*`` figures. Each backend module turns these into its own keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import semconv as sc
from . import realtime
from .cost import PriceTable
from .extract import json_object as _json
from .view import SpanView

_NUMBER = (int, float)  # tuples: isinstance with a union type is ~5x slower
_SCALAR = (int, float, str)
MODEL_KEYS = (sc.GEN_AI_REQUEST_MODEL, sc.GEN_AI_RESPONSE_MODEL, "llm.model_name", "model")


@dataclass(frozen=True, slots=True)
class LlmUsage:
    """Tokens of one LLM request; ``input_tokens`` includes the cached ones."""

    provider: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int


@dataclass(frozen=True, slots=True)
class TtsUsage:
    """One synthesis request: characters in, audio seconds out, first audio byte after ``ttfb``."""

    provider: str | None
    model: str | None
    characters: int
    audio_seconds: float
    ttfb: float | None


@dataclass(frozen=True, slots=True)
class SttUsage:
    """Audio seconds transcribed during one user turn."""

    provider: str | None
    model: str | None
    audio_seconds: float


@dataclass(frozen=True, slots=True)
class RealtimeUsage:
    """Tokens of one realtime response by modality; inputs include their cached part."""

    provider: str | None
    model: str | None
    input_audio: int
    input_text: int
    input_image: int
    cached_audio: int
    cached_text: int
    cached_image: int
    output_audio: int
    output_text: int
    session_seconds: float

    @property
    def input_tokens(self) -> int:
        return self.input_audio + self.input_text + self.input_image

    @property
    def cached_tokens(self) -> int:
        return self.cached_audio + self.cached_text + self.cached_image

    @property
    def output_tokens(self) -> int:
        return self.output_audio + self.output_text


Usage = LlmUsage | TtsUsage | SttUsage | RealtimeUsage


@dataclass(frozen=True, slots=True)
class SpanFacts:
    """Everything a backend mapping writes from: usage, cost, content, figures."""

    usage: Usage | None = None
    cost: float | None = None  # only with prices= and a price for the model
    input: str | None = None  # only when PII is allowed
    output: str | None = None
    figures: Mapping[str, Any] | None = None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, _NUMBER):
        return None
    return int(value)


def _text(attrs: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def has_model(attrs: Mapping[str, Any]) -> bool:
    """True if a backend's model-name fallback would treat the span as a model call."""
    return any(attrs.get(k) for k in MODEL_KEYS)


def llm_usage(attrs: Mapping[str, Any]) -> LlmUsage | None:
    """Tokens of an ``llm_request``: ``gen_ai.usage.*``, else its ``lk.llm_metrics`` (1.2 has
    the cached count only there). None when the span carries no usage at all."""
    metrics = _json(attrs.get(sc.LK_LLM_METRICS))
    inp = _int(attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS))
    out = _int(attrs.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS))
    cached = _int(attrs.get(sc.GEN_AI_USAGE_CACHE_READ))
    inp = inp if inp is not None else _int(metrics.get("prompt_tokens"))
    out = out if out is not None else _int(metrics.get("completion_tokens"))
    cached = cached if cached is not None else _int(metrics.get("prompt_cached_tokens"))
    if inp is None and out is None:
        return None
    meta = metrics.get("metadata") or {}
    return LlmUsage(
        provider=attrs.get(sc.GEN_AI_PROVIDER_NAME) or meta.get("model_provider"),
        model=attrs.get(sc.GEN_AI_REQUEST_MODEL) or meta.get("model_name"),
        input_tokens=inp or 0,
        output_tokens=out or 0,
        cached_input_tokens=cached or 0,
    )


def tts_usage(attrs: Mapping[str, Any]) -> TtsUsage | None:
    """A ``tts_request``'s ``lk.tts_metrics`` (TTSMetrics); None without them."""
    metrics = _json(attrs.get(sc.LK_TTS_METRICS))
    characters = _int(metrics.get("characters_count"))
    if characters is None:
        return None
    meta = metrics.get("metadata") or {}
    audio = metrics.get("audio_duration")
    ttfb = metrics.get("ttfb")
    return TtsUsage(
        provider=attrs.get(sc.GEN_AI_PROVIDER_NAME) or meta.get("model_provider"),
        model=attrs.get(sc.GEN_AI_REQUEST_MODEL) or meta.get("model_name"),
        characters=characters,
        audio_seconds=float(audio) if isinstance(audio, _NUMBER) else 0.0,
        ttfb=float(ttfb) if isinstance(ttfb, _NUMBER) and ttfb >= 0 else None,
    )


def stt_usage(attrs: Mapping[str, Any], added: Mapping[str, Any]) -> SttUsage | None:
    """A ``user_turn``'s STT audio seconds (from the enrichment); None when nothing was heard."""
    seconds = added.get(sc.USER_STT_AUDIO_DURATION)
    if isinstance(seconds, bool) or not isinstance(seconds, _NUMBER) or seconds <= 0:
        return None
    return SttUsage(
        provider=attrs.get(sc.GEN_AI_PROVIDER_NAME) or added.get(sc.USER_STT_PROVIDER),
        model=attrs.get(sc.GEN_AI_REQUEST_MODEL) or added.get(sc.USER_STT_MODEL),
        audio_seconds=float(seconds),
    )


# the spans livekit writes a realtime response's metrics on (1.2: the realtime turn itself)
_REALTIME_RESPONSE_SPANS = frozenset(
    {sc.SPAN_REALTIME_INFERENCE, sc.SPAN_REALTIME_METRICS, sc.SPAN_REALTIME_ASSISTANT_TURN}
)


def realtime_usage(attrs: Mapping[str, Any]) -> RealtimeUsage | None:
    """A realtime response's tokens from ``lk.realtime_model_metrics`` (on
    ``realtime_inference``, or livekit's ``realtime_metrics`` child when they came late)."""
    r = realtime.parse_realtime_metrics(attrs.get(sc.LK_REALTIME_MODEL_METRICS))
    if r is None or r.is_connection_report:
        return None
    return RealtimeUsage(
        provider=attrs.get(sc.GEN_AI_PROVIDER_NAME) or r.provider,
        model=attrs.get(sc.GEN_AI_REQUEST_MODEL) or r.model,
        input_audio=r.input_audio,
        input_text=r.input_text,
        input_image=r.input_image,
        cached_audio=r.cached_audio,
        cached_text=r.cached_text,
        cached_image=r.cached_image,
        output_audio=r.output_audio,
        output_text=r.output_text,
        session_seconds=r.session_duration,
    )


# the only spans usage() / content() read (mappings.BackendMapper caches every other
# span's keys per name): a name they handle must be in these sets, or it is never read
USAGE_SPAN_NAMES = frozenset(
    {sc.SPAN_LLM_REQUEST, sc.SPAN_TTS_REQUEST, sc.SPAN_USER_TURN, *_REALTIME_RESPONSE_SPANS}
)
CONTENT_SPAN_NAMES = frozenset(
    {
        *sc.TURN_SPAN_NAMES,
        sc.SPAN_USER_TURN,
        sc.SPAN_LLM_NODE,
        sc.SPAN_TTS_REQUEST,
        sc.SPAN_FUNCTION_TOOL,
        sc.SPAN_AGENT_SESSION,
        sc.SPAN_REALTIME_ASSISTANT_TURN,
    }
)


def usage(span: SpanView) -> Usage | None:
    """The usage of the one model call ``span`` stands for, if any."""
    if span.name not in USAGE_SPAN_NAMES:
        return None
    if span.name in _REALTIME_RESPONSE_SPANS:
        return realtime_usage(span.attributes)
    if span.name == sc.SPAN_LLM_REQUEST:
        return llm_usage(span.attributes)
    if span.name == sc.SPAN_TTS_REQUEST:
        return tts_usage(span.attributes)
    if span.name == sc.SPAN_USER_TURN:
        return stt_usage(span.attributes, span.added)
    return None


def cost(u: Usage | None, prices: PriceTable | None) -> float | None:
    """Cost of one model call, with the same prices as the session's; None without a price."""
    if u is None or prices is None or prices.find(u.provider, u.model) is None:
        return None
    if isinstance(u, LlmUsage):
        return prices.llm(
            u.provider, u.model, u.input_tokens, u.output_tokens, u.cached_input_tokens
        )
    if isinstance(u, TtsUsage):
        return prices.tts(u.provider, u.model, u.characters)
    if isinstance(u, RealtimeUsage):
        return prices.realtime_response(u, u.session_seconds)
    return prices.stt(u.provider, u.model, u.audio_seconds)


def content(span: SpanView) -> tuple[str | None, str | None]:
    """What was said in or to the span (input, output), from livekit's keys of any release.

    Content: call it only when PII is allowed.
    """
    a, name = span.attributes, span.name
    if name not in CONTENT_SPAN_NAMES:
        return None, None
    if name in sc.TURN_SPAN_NAMES:
        return _text(a, sc.LK_USER_INPUT_KEYS), _text(a, sc.LK_RESPONSE_TEXT_KEYS)
    if name == sc.SPAN_USER_TURN:
        return _text(a, sc.LK_USER_TRANSCRIPT_KEYS), None
    if name == sc.SPAN_LLM_NODE:
        return _text(a, sc.LK_CHAT_CTX_KEYS), _text(a, sc.LK_RESPONSE_TEXT_KEYS)
    if name == sc.SPAN_TTS_REQUEST:
        return _text(a, sc.LK_INPUT_TEXT_KEYS), None
    if name == sc.SPAN_FUNCTION_TOOL:
        return _text(a, sc.LK_TOOL_ARGUMENTS_KEYS), _text(a, sc.LK_TOOL_OUTPUT_KEYS)
    if name == sc.SPAN_AGENT_SESSION:
        added = span.added
        return _text(added, (sc.SESSION_FIRST_USER_TEXT,)), _text(
            added, (sc.SESSION_LAST_AGENT_TEXT,)
        )
    return None, None


def figures(added: Mapping[str, Any]) -> dict[str, Any]:
    """The scalar ``lk_otel.*`` figures of a span (no JSON blobs, no content)."""
    return {
        k: v
        for k, v in added.items()
        if isinstance(v, _SCALAR) and k != sc.SESSION_USAGE and not _has_pii_part(k)
    }


def _has_pii_part(key: str) -> bool:
    """``"pii" in key.split(".")``, without building the list."""
    return "pii" in key and (
        key == "pii" or key.startswith("pii.") or key.endswith(".pii") or ".pii." in key
    )


def facts(span: SpanView, *, allow_pii: bool, prices: PriceTable | None) -> SpanFacts:
    """All facts of ``span``; content only when ``allow_pii``."""
    u = usage(span)
    inp, out = content(span) if allow_pii else (None, None)
    return SpanFacts(
        usage=u, cost=cost(u, prices), input=inp, output=out, figures=figures(span.added)
    )
