"""Session roll-ups: per-model usage from ``lk_otel.session.usage`` and session totals."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lk_otel import semconv as sc
from lk_otel.report.turn import TurnReport
from lk_otel.report.values import Attrs, integer, number

_USAGE_ORDER = {"llm_usage": 0, "tts_usage": 1, "stt_usage": 2}
_USAGE_LABELS = ("type", "provider", "model")


@dataclass(frozen=True)
class UsageLine:
    """One (type, provider, model) entry of ``lk_otel.session.usage`` with its numbers."""

    type: str
    provider: str
    model: str
    fields: Mapping[str, float] = field(hash=False)


@dataclass(frozen=True)
class SessionTotals:
    """Session roll-up (seconds): agent_session attributes, else derived from its turns."""

    duration: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    tts_characters: int | None = None
    tts_audio_duration: float | None = None
    stt_audio_duration: float | None = None
    interruptions: int | None = None
    tool_calls: int | None = None
    cost: float | None = None
    e2e_p50: float | None = None
    e2e_p95: float | None = None
    e2e_max: float | None = None
    llm_ttft_p50: float | None = None
    llm_ttft_p95: float | None = None
    tts_ttfb_p50: float | None = None
    tts_ttfb_p95: float | None = None


def parse_usage(attrs: Attrs) -> tuple[UsageLine, ...]:
    """``lk_otel.session.usage`` (a JSON list) as lines, LLM then TTS then STT."""
    raw = attrs.get(sc.SESSION_USAGE)
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return ()
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, (list, tuple)):
        return ()
    lines = [
        UsageLine(
            type=str(item.get("type", "")),
            provider=str(item.get("provider", "")),
            model=str(item.get("model", "")),
            fields={k: float(v) for k, v in item.items() if k not in _USAGE_LABELS and _is_num(v)},
        )
        for item in items
        if isinstance(item, Mapping)
    ]
    lines.sort(key=lambda u: (_USAGE_ORDER.get(u.type, len(_USAGE_ORDER)), u.provider, u.model))
    return tuple(lines)


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def percentile(values: list[float], q: float) -> float | None:
    """Linearly interpolated percentile (``q`` in 0..1); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _sum(values: Iterable[float | None]) -> Any:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _pick(attrs: Attrs, key: str, fallback: Any, as_int: bool = False) -> Any:
    value = integer(attrs, key) if as_int else number(attrs, key)
    return fallback if value is None else value


def session_totals(
    attrs: Attrs, span_duration: float | None, turns: list[TurnReport]
) -> SessionTotals:
    """Totals from the agent_session attributes; missing ones are derived from ``turns``."""
    flags = [t.interrupted for t in turns if t.interrupted is not None]
    e2e = [t.e2e_latency for t in turns if t.e2e_latency is not None]
    ttft = [t.llm_ttft for t in turns if t.llm_ttft is not None]
    ttfb = [t.tts_ttfb for t in turns if t.tts_ttfb is not None]

    def total(key: str, values: Iterable[float | None], as_int: bool = True) -> Any:
        return _pick(attrs, key, _sum(values), as_int)

    return SessionTotals(
        duration=_pick(attrs, sc.SESSION_DURATION, span_duration),
        input_tokens=total(sc.SESSION_INPUT_TOKENS, (t.input_tokens for t in turns)),
        output_tokens=total(sc.SESSION_OUTPUT_TOKENS, (t.output_tokens for t in turns)),
        cached_input_tokens=total(
            sc.SESSION_CACHED_INPUT_TOKENS, (t.cached_input_tokens for t in turns)
        ),
        tts_characters=total(sc.SESSION_TTS_CHARACTERS, (t.tts_characters for t in turns)),
        tts_audio_duration=total(
            sc.SESSION_TTS_AUDIO_DURATION, (t.tts_audio_duration for t in turns), False
        ),
        stt_audio_duration=_pick(attrs, sc.SESSION_STT_AUDIO_DURATION, None),
        interruptions=_pick(attrs, sc.SESSION_INTERRUPTIONS, sum(flags) if flags else None, True),
        tool_calls=total(sc.SESSION_TOOL_CALLS, (t.tool_calls for t in turns)),
        cost=total(sc.SESSION_COST, (t.cost for t in turns), False),
        e2e_p50=_pick(attrs, sc.SESSION_E2E_P50, percentile(e2e, 0.5)),
        e2e_p95=_pick(attrs, sc.SESSION_E2E_P95, percentile(e2e, 0.95)),
        e2e_max=_pick(attrs, sc.SESSION_E2E_MAX, max(e2e, default=None)),
        llm_ttft_p50=_pick(attrs, sc.SESSION_LLM_TTFT_P50, percentile(ttft, 0.5)),
        llm_ttft_p95=_pick(attrs, sc.SESSION_LLM_TTFT_P95, percentile(ttft, 0.95)),
        tts_ttfb_p50=_pick(attrs, sc.SESSION_TTS_TTFB_P50, percentile(ttfb, 0.5)),
        tts_ttfb_p95=_pick(attrs, sc.SESSION_TTS_TTFB_P95, percentile(ttfb, 0.95)),
    )
