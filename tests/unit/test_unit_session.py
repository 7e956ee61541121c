"""Session totals (enrich/session.py): turns folded in, usage rows, percentiles, cost.

Exact values; each percentile is checked at a rank where p50, p95 and max all differ."""

from __future__ import annotations

import json
from typing import Any

from lk_otel import semconv as sc
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.extract import LlmCall, Tally, TtsCall
from lk_otel.enrich.session import add_turn, session_attributes, usage_rows
from lk_otel.enrich.state import SessionState, TurnSummary

S = 1_000_000_000


def llm(provider: str | None, model: str | None, inp: int, out: int, cached: int) -> LlmCall:
    return LlmCall(0, None, None, inp, out, cached, None, model, provider)


def tts(provider: str | None, model: str | None, chars: int, audio: float) -> TtsCall:
    return TtsCall(0, None, None, chars, audio, None, model, provider)


def summary(**kw: Any) -> TurnSummary:
    base: dict[str, Any] = {
        "index": 1,
        "kind": "reply",
        "agent_name": None,
        "e2e_latency": None,
        "end_of_turn_delay": None,
        "transcription_delay": None,
        "on_user_turn_completed_delay": None,
        "llm_ttft": None,
        "tts_ttfb": None,
        "latency_sum": None,
        "llm_calls": 0,
        "tool_calls": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_input_tokens": 0,
        "tts_characters": 0,
        "tts_audio_duration": 0.0,
        "interrupted": False,
        "cost": None,
    }
    base.update(kw)
    return TurnSummary(**base)


def test_add_turn_counts_interruptions_tools_and_keeps_only_known_latencies() -> None:
    state = SessionState("s", 0)
    add_turn(state, summary(interrupted=True, tool_calls=2, e2e_latency=1.5, llm_ttft=0.25))
    add_turn(state, summary(interrupted=True, tool_calls=3, tts_ttfb=0.125))
    add_turn(state, summary(interrupted=False, tool_calls=0))
    assert (state.turns, state.interruptions, state.tool_calls) == (3, 2, 5)
    assert (list(state.e2e_latencies), list(state.llm_ttfts), list(state.tts_ttfbs)) == (
        [1.5],
        [0.25],
        [0.125],
    )


def test_add_turn_sums_usage_per_model_in_first_seen_order() -> None:
    state = SessionState("s", 0)
    add_turn(
        state,
        summary(
            llm=(llm("openai", "mini", 100, 10, 40), llm(None, None, 7, 1, 0)),
            tts=(tts("cartesia", "sonic", 30, 1.5),),
        ),
    )
    add_turn(
        state,
        summary(
            llm=(llm("openai", "mini", 50, 5, 20),),
            tts=(tts("cartesia", "sonic", 12, 0.5), tts(None, None, 3, 0.25)),
        ),
    )
    assert list(state.turn_usage.items()) == [
        (
            ("llm_usage", "openai", "mini"),
            {"input_tokens": 150, "input_cached_tokens": 60, "output_tokens": 15},
        ),
        (
            ("llm_usage", "unknown", "unknown"),
            {"input_tokens": 7, "input_cached_tokens": 0, "output_tokens": 1},
        ),
        (("tts_usage", "cartesia", "sonic"), {"characters_count": 42, "audio_duration": 2.0}),
        (("tts_usage", "unknown", "unknown"), {"characters_count": 3, "audio_duration": 0.25}),
    ]
    assert usage_rows(state)[0] == {
        "type": "llm_usage",
        "provider": "openai",
        "model": "mini",
        "input_tokens": 150,
        "input_cached_tokens": 60,
        "output_tokens": 15,
    }
    assert usage_rows(state)[2] == {
        "type": "tts_usage",
        "provider": "cartesia",
        "model": "sonic",
        "characters_count": 42,
        "audio_duration": 2.0,
    }


def test_usage_rows_prefer_livekits_own_accounting() -> None:
    state = SessionState("s", 0)
    add_turn(state, summary(llm=(llm("a", "b", 1, 1, 0),)))
    reported = ({"type": "llm_usage", "provider": "x", "model": "y", "input_tokens": 9},)
    rows = usage_rows(state, reported)
    assert rows == [dict(reported[0])] and rows[0] is not reported[0]


def _session_with_latencies() -> SessionState:
    state = SessionState("sess-9", 2 * S)
    # five values: p50 is the middle one, p95 interpolates between the 4th and 5th (rank 3.8)
    for e2e, ttft, ttfb in (
        (1.0, 0.10, 0.010),
        (5.0, 0.50, 0.050),
        (2.0, 0.20, 0.020),
        (4.0, 0.40, 0.040),
        (3.0, 0.30, 0.030),
    ):
        add_turn(state, summary(e2e_latency=e2e, llm_ttft=ttft, tts_ttfb=ttfb))
    return state


def test_session_percentiles_use_their_exact_ranks() -> None:
    a = session_attributes(_session_with_latencies(), 7 * S, None)
    assert a[sc.SESSION_E2E_P50] == 3.0
    assert a[sc.SESSION_E2E_P95] == 1.0 * 4.0 + 0.8 * (5.0 - 4.0)  # 4.8
    assert a[sc.SESSION_E2E_MAX] == 5.0
    assert abs(a[sc.SESSION_LLM_TTFT_P50] - 0.30) < 1e-12
    assert abs(a[sc.SESSION_LLM_TTFT_P95] - 0.48) < 1e-12
    assert abs(a[sc.SESSION_TTS_TTFB_P50] - 0.030) < 1e-12
    assert abs(a[sc.SESSION_TTS_TTFB_P95] - 0.048) < 1e-12
    assert (a[sc.SESSION_ID], a[sc.SESSION_TURNS], a[sc.SESSION_DURATION]) == ("sess-9", 5, 5.0)


def test_session_without_latencies_has_no_percentile_keys_and_no_cost() -> None:
    a = session_attributes(SessionState("s", 0), S // 2, None)
    assert a == {
        sc.SESSION_ID: "s",
        sc.SESSION_TURNS: 0,
        sc.SESSION_DURATION: 0.5,
        sc.SESSION_INPUT_TOKENS: 0,
        sc.SESSION_OUTPUT_TOKENS: 0,
        sc.SESSION_CACHED_INPUT_TOKENS: 0,
        sc.SESSION_TTS_CHARACTERS: 0,
        sc.SESSION_TTS_AUDIO_DURATION: 0.0,
        sc.SESSION_INTERRUPTIONS: 0,
        sc.SESSION_TOOL_CALLS: 0,
        sc.SESSION_USAGE: "[]",
    }
    assert type(a[sc.SESSION_TTS_AUDIO_DURATION]) is float


REPORTED = (
    {"type": "llm_usage", "provider": "openai", "model": "mini", "input_tokens": 1000,
     "output_tokens": 200, "input_cached_tokens": 400},
    {"type": "llm_usage", "provider": "openai", "model": "big", "input_tokens": 10,
     "output_tokens": 2, "input_cached_tokens": None},
    {"type": "tts_usage", "provider": "cartesia", "model": "sonic", "characters_count": 300,
     "audio_duration": 4.5},
    {"type": "stt_usage", "provider": "deepgram", "model": "nova", "audio_duration": 90.0},
    {"type": "stt_usage", "provider": "deepgram", "model": "nova", "audio_duration": 30.0},
)  # fmt: skip


def test_session_totals_from_reported_rows_by_type_and_key() -> None:
    state = SessionState("s", 0)
    state.interruptions, state.tool_calls = 2, 3
    a = session_attributes(state, S, None, REPORTED)
    assert a[sc.SESSION_INPUT_TOKENS] == 1010
    assert a[sc.SESSION_OUTPUT_TOKENS] == 202
    assert a[sc.SESSION_CACHED_INPUT_TOKENS] == 400
    assert a[sc.SESSION_TTS_CHARACTERS] == 300
    assert a[sc.SESSION_TTS_AUDIO_DURATION] == 4.5
    assert a[sc.SESSION_STT_AUDIO_DURATION] == 120.0
    assert (a[sc.SESSION_INTERRUPTIONS], a[sc.SESSION_TOOL_CALLS]) == (2, 3)
    assert a[sc.SESSION_USAGE] == json.dumps([dict(r) for r in REPORTED], sort_keys=True)
    assert a[sc.SESSION_USAGE].startswith('[{"input_cached_tokens": 400, "input_tokens": 1000,')
    assert sc.SESSION_COST not in a


def test_no_stt_row_means_no_stt_duration() -> None:
    a = session_attributes(SessionState("s", 0), S, None, REPORTED[:3])
    assert sc.SESSION_STT_AUDIO_DURATION not in a


def test_a_count_that_is_not_finite_is_left_out_and_tallied() -> None:
    rows = (
        {"type": "llm_usage", "input_tokens": float("nan"), "output_tokens": 3.0},
        {"type": "llm_usage", "input_tokens": 5, "output_tokens": 2},
        {"type": "tts_usage", "characters_count": 7, "audio_duration": float("inf")},
        {"type": "tts_usage", "characters_count": 1, "audio_duration": 0.5},
    )
    tally = Tally()
    a = session_attributes(SessionState("s", 0), S, None, rows, tally)
    assert (a[sc.SESSION_INPUT_TOKENS], a[sc.SESSION_OUTPUT_TOKENS]) == (5, 5)
    assert (a[sc.SESSION_TTS_CHARACTERS], a[sc.SESSION_TTS_AUDIO_DURATION]) == (8, 0.5)
    assert type(a[sc.SESSION_OUTPUT_TOKENS]) is int
    assert tally.nonfinite == 2


PRICES = PriceTable.parse(
    {
        "openai/mini": {"input_per_1m": 1.0, "output_per_1m": 4.0, "cached_input_per_1m": 0.5},
        "sonic": {"characters_per_1k": 0.03},
        "deepgram/nova": {"stt_per_minute": 0.006},
    }
)


def test_session_cost_from_each_row_type() -> None:
    rows = (
        {"type": "llm_usage", "provider": "openai", "model": "mini", "input_tokens": 1000,
         "output_tokens": 200, "input_cached_tokens": 400},
        {"type": "tts_usage", "provider": "cartesia", "model": "sonic", "characters_count": 300},
        {"type": "stt_usage", "provider": "deepgram", "model": "nova", "audio_duration": 120.0},
        {"type": "vad_usage", "provider": "openai", "model": "mini", "input_tokens": 10**9},
    )  # fmt: skip
    a = session_attributes(SessionState("s", 0), S, PRICES, rows)
    llm_cost = (600 * 1.0 + 400 * 0.5 + 200 * 4.0) / 1e6
    tts_cost = 300 * 0.03 / 1e3
    stt_cost = 2 * 0.006
    assert abs(a[sc.SESSION_COST] - (llm_cost + tts_cost + stt_cost)) < 1e-15
    assert a[sc.SESSION_COST] > llm_cost + tts_cost  # each part counts


def test_session_cost_counts_missing_or_bad_figures_as_zero_and_tallies() -> None:
    rows = (
        {"type": "llm_usage", "provider": "openai", "model": "mini", "output_tokens": 1000},
        {"type": "stt_usage", "provider": "deepgram", "model": "nova",
         "audio_duration": float("nan")},
        {"type": "tts_usage", "provider": "x", "model": "sonic",
         "characters_count": float("inf")},
    )  # fmt: skip
    tally = Tally()
    a = session_attributes(SessionState("s", 0), S, PRICES, rows, tally)
    assert a[sc.SESSION_COST] == 1000 * 4.0 / 1e6
    assert tally.nonfinite == 4  # audio and characters, each in its total and in the cost


def test_session_cost_adds_every_row_and_prices_speech_by_provider_and_model() -> None:
    prices = PriceTable.parse(
        {
            "openai/mini": {"input_per_1m": 1.0},
            "cartesia/sonic": {"characters_per_1k": 2.0},
        }
    )
    rows = (
        {"type": "llm_usage", "provider": "openai", "model": "mini", "input_tokens": 1000},
        {"type": "llm_usage", "provider": "openai", "model": "mini", "input_tokens": 3000},
        {"type": "tts_usage", "provider": "cartesia", "model": "sonic", "characters_count": 500},
    )
    a = session_attributes(SessionState("s", 0), S, prices, rows)
    assert a[sc.SESSION_COST] == 4000 / 1e6 + 500 * 2.0 / 1e3
