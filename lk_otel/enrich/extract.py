"""Pure functions: livekit span attributes in, lk_otel figures out. No wiring, no state.

A number that is not finite (NaN, inf) is never passed on: it is skipped and counted in
the :class:`Tally` given, so the caller can say so once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import semconv as sc

Attrs = Mapping[str, Any]
_NUMBER = (int, float)  # a tuple: isinstance with a union type is ~5x slower


@dataclass
class Tally:
    """Values skipped because they were not finite numbers."""

    nonfinite: int = 0


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
    end_ns: int = 0
    cancelled: bool = False  # no LLMMetrics: the request was cancelled or failed
    request_start_ns: int | None = None  # the first llm_request's start


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
    end_ns: int = 0
    cancelled: bool = False  # no TTSMetrics: the synthesis was cancelled or failed
    request_start_ns: int | None = None


def json_object(value: Any) -> dict[str, Any]:
    """``value`` parsed as a JSON object, else {} (read-only: results are shared).

    livekit's ``lk.llm_metrics`` / ``lk.tts_metrics`` are read by the correlator and again
    by the backend mappings of the same span; the few latest texts are parsed once.
    """
    return _parse_object(value) if isinstance(value, str) else _EMPTY


@lru_cache(maxsize=32)
def _parse_object(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except ValueError:
        return _EMPTY
    return parsed if isinstance(parsed, dict) else _EMPTY


_EMPTY: dict[str, Any] = {}
_json = json_object


def number(value: Any, tally: Tally | None = None) -> float | None:
    """``value`` as a float if it is a finite number (not a bool); NaN/inf are counted."""
    if not isinstance(value, _NUMBER) or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        if tally is not None:
            tally.nonfinite += 1
        return None
    return float(value)


_num = number  # the old private name, used by turn.py's callers


def count(value: Any, tally: Tally | None = None) -> int | None:
    """``value`` as a Python int if it is a finite whole count; floats are not summed as such."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    f = number(value, tally)
    return int(f) if f is not None else None


def _first_count(tally: Tally, *values: Any) -> int:
    """The first value that is a count, else 0 (a missing count adds nothing)."""
    for v in values:
        if v is None:
            continue
        c = count(v, tally)
        if c is not None:
            return c
    return 0


def llm_request_figures(attrs: Attrs, tally: Tally | None = None) -> dict[str, Any]:
    """Figures of one ``llm_request`` span: its ``lk.llm_metrics`` JSON and ``gen_ai.usage``."""
    t = tally if tally is not None else Tally()
    raw = attrs.get(sc.LK_LLM_METRICS)
    m = _json(raw)
    meta = m.get("metadata") or {}
    return {
        "metrics": bool(m),
        "ttft": number(m.get("ttft"), t),
        "duration": number(m.get("duration"), t),
        "input_tokens": _first_count(
            t, attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS), m.get("prompt_tokens")
        ),
        "output_tokens": _first_count(
            t, attrs.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS), m.get("completion_tokens")
        ),
        # LLMMetrics' count on every release (``gen_ai.usage.cache_read`` only from 1.7)
        "cached_input_tokens": _first_count(
            t, m.get("prompt_cached_tokens"), attrs.get(sc.GEN_AI_USAGE_CACHE_READ)
        ),
        "tokens_per_second": number(m.get("tokens_per_second"), t),
        "model": attrs.get(sc.GEN_AI_REQUEST_MODEL) or meta.get("model_name"),
        "provider": meta.get("model_provider"),
    }


def _durations(requests: Sequence[dict[str, Any]]) -> float | None:
    """Sum of the requests' own durations, None when no request reported one."""
    known = [r["duration"] for r in requests if r.get("duration") is not None]
    return sum(known) if known else None


def llm_call(
    node_attrs: Attrs,
    start_ns: int,
    end_ns: int,
    requests: Sequence[dict[str, Any]],
    tally: Tally | None = None,
) -> LlmCall:
    """An ``llm_node`` and the figures of its requests, combined.

    Without LLMMetrics (a cancelled or failed request) the duration is the node's own and
    the call says ``cancelled``; a missing figure is never summed to 0.
    """
    first = requests[0] if requests else {}
    ttft = first.get("ttft")  # LLMMetrics' own figure; the node's adds livekit overhead
    if ttft is None:
        ttft = number(node_attrs.get(sc.LK_RESPONSE_TTFT), tally)
    duration = _durations(requests)
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
        end_ns=end_ns,
        cancelled=not any(r.get("metrics") for r in requests),
        request_start_ns=first.get("start_ns"),
    )


def llm_attributes(call: LlmCall) -> dict[str, Any]:
    """``lk_otel.llm.*`` for an ``llm_node``."""
    out: dict[str, Any] = {
        sc.LLM_INPUT_TOKENS: call.input_tokens,
        sc.LLM_OUTPUT_TOKENS: call.output_tokens,
        sc.LLM_CACHED_INPUT_TOKENS: call.cached_input_tokens,
        sc.LLM_CANCELLED: call.cancelled,
    }
    _put(out, sc.LLM_TTFT, call.ttft)
    _put(out, sc.LLM_DURATION, call.duration)
    _put(out, sc.LLM_TOKENS_PER_SECOND, call.tokens_per_second)
    _put(out, sc.LLM_MODEL, call.model)
    _put(out, sc.LLM_PROVIDER, call.provider)
    return out


def tts_request_figures(attrs: Attrs, tally: Tally | None = None) -> dict[str, Any]:
    """Figures of one ``tts_request`` span, from its ``lk.tts_metrics`` JSON."""
    t = tally if tally is not None else Tally()
    m = _json(attrs.get(sc.LK_TTS_METRICS))
    meta = m.get("metadata") or {}
    streamed = attrs.get(sc.LK_TTS_STREAMING, m.get("streamed"))
    return {
        "metrics": bool(m),
        "ttfb": number(m.get("ttfb"), t),
        "duration": number(m.get("duration"), t),
        "characters": _first_count(t, m.get("characters_count")),
        "audio_duration": number(m.get("audio_duration"), t) or 0.0,
        "streamed": bool(streamed) if streamed is not None else None,
        "model": meta.get("model_name"),
        "provider": meta.get("model_provider"),
    }


def tts_call(
    node_attrs: Attrs,
    start_ns: int,
    end_ns: int,
    requests: Sequence[dict[str, Any]],
    tally: Tally | None = None,
) -> TtsCall:
    """A ``tts_node`` and the figures of its requests, combined (fallbacks as ``llm_call``)."""
    first = requests[0] if requests else {}
    ttfb = first.get("ttfb")  # TTSMetrics' own figure
    if ttfb is None:
        ttfb = number(node_attrs.get(sc.LK_RESPONSE_TTFB), tally)
    duration = _durations(requests)
    return TtsCall(
        start_ns=start_ns,
        ttfb=ttfb,
        duration=duration if duration is not None else (end_ns - start_ns) / 1e9,
        characters=sum(r["characters"] for r in requests),
        audio_duration=sum(r["audio_duration"] for r in requests),
        streamed=first.get("streamed"),
        model=node_attrs.get(sc.GEN_AI_REQUEST_MODEL) or first.get("model"),
        provider=node_attrs.get(sc.GEN_AI_PROVIDER_NAME) or first.get("provider"),
        end_ns=end_ns,
        cancelled=not any(r.get("metrics") for r in requests),
        request_start_ns=first.get("start_ns"),
    )


def tts_attributes(call: TtsCall) -> dict[str, Any]:
    """``lk_otel.tts.*`` for a ``tts_node``."""
    out: dict[str, Any] = {
        sc.TTS_CHARACTERS: call.characters,
        sc.TTS_AUDIO_DURATION: call.audio_duration,
        sc.TTS_CANCELLED: call.cancelled,
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


def first_text(attrs: Attrs, keys: Sequence[str]) -> str | None:
    """The first non-empty string among ``keys`` (livekit's content keys, newest first)."""
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def stt_model(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``lk_otel.user.stt_provider`` / ``.stt_model`` from the session's STT usage row, for
    releases whose ``user_turn`` names no STT model (1.2); ``{}`` when there is none."""
    for row in rows:
        if row.get("type") == "stt_usage":
            return {
                sc.USER_STT_PROVIDER: str(row.get("provider")),
                sc.USER_STT_MODEL: str(row.get("model")),
            }
    return {}
