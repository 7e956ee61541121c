"""The whole call: usage totals, per-model usage and a latency summary."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .. import semconv as sc
from .cost import PriceTable
from .extract import Tally, count, number, percentile
from .state import SessionState, TurnSummary


def add_turn(state: SessionState, turn: TurnSummary) -> None:
    """Fold a finished turn into the session's totals (the summary itself is not kept)."""
    state.turns += 1
    state.interruptions += bool(turn.interrupted)
    state.tool_calls += turn.tool_calls
    for values, value in (
        (state.e2e_latencies, turn.e2e_latency),
        (state.llm_ttfts, turn.llm_ttft),
        (state.tts_ttfbs, turn.tts_ttfb),
    ):
        if value is not None:
            values.append(value)
    rows = state.turn_usage
    for c in turn.llm:
        row = rows.setdefault(("llm_usage", c.provider or "unknown", c.model or "unknown"), {})
        row["input_tokens"] = row.get("input_tokens", 0) + c.input_tokens
        row["input_cached_tokens"] = row.get("input_cached_tokens", 0) + c.cached_input_tokens
        row["output_tokens"] = row.get("output_tokens", 0) + c.output_tokens
    for t in turn.tts:
        row = rows.setdefault(("tts_usage", t.provider or "unknown", t.model or "unknown"), {})
        row["characters_count"] = row.get("characters_count", 0) + t.characters
        row["audio_duration"] = row.get("audio_duration", 0.0) + t.audio_duration


def usage_rows(state: SessionState, reported: Sequence[Mapping[str, Any]] = ()) -> list[Any]:
    """Per-model usage from livekit's own accounting (``reported``), else from the turns."""
    if reported:
        return [dict(r) for r in reported]
    return [
        {"type": k[0], "provider": k[1], "model": k[2], **v} for k, v in state.turn_usage.items()
    ]


def session_attributes(
    state: SessionState,
    end_ns: int,
    prices: PriceTable | None,
    reported: Sequence[Mapping[str, Any]] = (),
    tally: Tally | None = None,
) -> dict[str, Any]:
    """``lk_otel.session.*`` for the ``agent_session`` span.

    Counts are summed as Python ints (exact at any size); a value that is not a finite
    number is left out of its total and counted in ``tally``.
    """
    rows = usage_rows(state, reported)

    def values(kind: str, key: str) -> list[Any]:
        return [r.get(key) for r in rows if r.get("type") == kind and r.get(key) is not None]

    def total(kind: str, key: str) -> float:
        return sum((number(v, tally) or 0.0 for v in values(kind, key)), 0.0)

    def total_count(kind: str, key: str) -> int:
        return sum((count(v, tally) or 0 for v in values(kind, key)), 0)

    out: dict[str, Any] = {
        sc.SESSION_ID: state.session_id,
        sc.SESSION_TURNS: state.turns,
        sc.SESSION_DURATION: (end_ns - state.start_ns) / 1e9,
        sc.SESSION_INPUT_TOKENS: total_count("llm_usage", "input_tokens"),
        sc.SESSION_OUTPUT_TOKENS: total_count("llm_usage", "output_tokens"),
        sc.SESSION_CACHED_INPUT_TOKENS: total_count("llm_usage", "input_cached_tokens"),
        sc.SESSION_TTS_CHARACTERS: total_count("tts_usage", "characters_count"),
        sc.SESSION_TTS_AUDIO_DURATION: total("tts_usage", "audio_duration"),
        sc.SESSION_INTERRUPTIONS: state.interruptions,
        sc.SESSION_TOOL_CALLS: state.tool_calls,
        sc.SESSION_USAGE: json.dumps(rows, sort_keys=True),
    }
    if any(r.get("type") == "stt_usage" for r in rows):  # on no span: unknown without events
        out[sc.SESSION_STT_AUDIO_DURATION] = total("stt_usage", "audio_duration")
    out.update(_latency_summary(state))
    if prices is not None:
        out[sc.SESSION_COST] = _cost(rows, prices, tally)
    return out


def _latency_summary(state: SessionState) -> dict[str, float]:
    out: dict[str, float] = {}
    e2e, ttft, ttfb = state.e2e_latencies, state.llm_ttfts, state.tts_ttfbs
    if e2e:
        out[sc.SESSION_E2E_P50] = percentile(e2e, 50)
        out[sc.SESSION_E2E_P95] = percentile(e2e, 95)
        out[sc.SESSION_E2E_MAX] = max(e2e)
    if ttft:
        out[sc.SESSION_LLM_TTFT_P50] = percentile(ttft, 50)
        out[sc.SESSION_LLM_TTFT_P95] = percentile(ttft, 95)
    if ttfb:
        out[sc.SESSION_TTS_TTFB_P50] = percentile(ttfb, 50)
        out[sc.SESSION_TTS_TTFB_P95] = percentile(ttfb, 95)
    return out


def _cost(rows: list[Any], prices: PriceTable, tally: Tally | None) -> float:
    def n(r: Any, key: str) -> int:
        return count(r.get(key, 0), tally) or 0

    cost = 0.0
    for r in rows:
        provider, model = r.get("provider"), r.get("model")
        if r.get("type") == "llm_usage":
            cost += prices.llm(
                provider,
                model,
                n(r, "input_tokens"),
                n(r, "output_tokens"),
                n(r, "input_cached_tokens"),
            )
        elif r.get("type") == "tts_usage":
            cost += prices.tts(provider, model, n(r, "characters_count"))
        elif r.get("type") == "stt_usage":
            cost += prices.stt(provider, model, number(r.get("audio_duration"), tally) or 0.0)
    return cost
