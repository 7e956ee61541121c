"""Extractors (enrich/extract.py): which figure wins, what is tallied, exact outputs."""

from __future__ import annotations

import json
from typing import Any

from lk_otel import semconv as sc
from lk_otel.enrich.extract import (
    LlmCall,
    Tally,
    TtsCall,
    first_text,
    llm_attributes,
    llm_call,
    llm_request_figures,
    stt_model,
    tts_attributes,
    tts_call,
    tts_request_figures,
)
from lk_otel.enrich.state import FeedState

NAN = float("nan")
S = 1_000_000_000


def metrics(**kw: Any) -> str:
    return json.dumps(kw)


def test_first_text_takes_the_first_non_empty_string_in_key_order() -> None:
    attrs = {"a": "", "b": 3, "c": "third", "d": "fourth"}
    assert first_text(attrs, ("a", "b", "c", "d")) == "third"
    assert first_text(attrs, ("d", "c")) == "fourth"
    assert first_text({"a": 0, "b": ""}, ("a", "b")) is None


def test_llm_request_figures_usage_attributes_win_over_metrics() -> None:
    m = metrics(prompt_tokens=1, completion_tokens=2, prompt_cached_tokens=3)
    f = llm_request_figures(
        {
            sc.LK_LLM_METRICS: m,
            sc.GEN_AI_USAGE_INPUT_TOKENS: 10,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: 20,
            sc.GEN_AI_USAGE_CACHE_READ: 30,
            sc.GEN_AI_REQUEST_MODEL: "on-span",
        }
    )
    # cached: LLMMetrics' count first (gen_ai.usage.cache_read exists only from 1.7)
    assert (f["input_tokens"], f["output_tokens"], f["cached_input_tokens"]) == (10, 20, 3)
    assert f["model"] == "on-span"
    g = llm_request_figures({sc.LK_LLM_METRICS: metrics(), sc.GEN_AI_USAGE_CACHE_READ: 30})
    assert (g["cached_input_tokens"], g["output_tokens"], g["model"]) == (30, 0, None)


def test_llm_request_figures_tally_every_non_finite_figure() -> None:
    t = Tally()
    m = metrics(ttft=NAN, duration=NAN, tokens_per_second=NAN, prompt_cached_tokens=NAN)
    f = llm_request_figures(
        {sc.LK_LLM_METRICS: m, sc.GEN_AI_USAGE_OUTPUT_TOKENS: NAN, sc.GEN_AI_USAGE_CACHE_READ: 4},
        t,
    )
    assert (f["ttft"], f["duration"], f["tokens_per_second"]) == (None, None, None)
    assert (f["output_tokens"], f["cached_input_tokens"]) == (0, 4)
    assert t.nonfinite == 5


def test_tts_request_figures_read_metrics_and_metadata() -> None:
    m = metrics(
        ttfb=0.1,
        duration=0.4,
        characters_count=12,
        audio_duration=0.75,
        streamed=False,
        metadata={"model_name": "sonic", "model_provider": "cartesia"},
    )
    f = tts_request_figures({sc.LK_TTS_METRICS: m})
    assert f == {
        "metrics": True,
        "ttfb": 0.1,
        "duration": 0.4,
        "characters": 12,
        "audio_duration": 0.75,
        "streamed": False,
        "model": "sonic",
        "provider": "cartesia",
    }
    assert tts_request_figures({sc.LK_TTS_METRICS: m, sc.LK_TTS_STREAMING: 1})["streamed"] is True
    bare = tts_request_figures({sc.LK_TTS_METRICS: metrics(ttfb=0.1)})
    assert (bare["audio_duration"], bare["streamed"], bare["characters"]) == (0.0, None, 0)


def test_tts_request_figures_tally_every_non_finite_figure() -> None:
    t = Tally()
    m = metrics(ttfb=NAN, duration=NAN, characters_count=NAN, audio_duration=NAN)
    f = tts_request_figures({sc.LK_TTS_METRICS: m}, t)
    assert (f["ttfb"], f["duration"], f["characters"], f["audio_duration"]) == (None, None, 0, 0.0)
    assert t.nonfinite == 4


def _llm_req(**kw: Any) -> dict[str, Any]:
    r = {**llm_request_figures({}), "metrics": True}
    r.update(kw)
    return r


def test_llm_call_takes_the_first_requests_figures_and_the_nodes_names() -> None:
    r1 = _llm_req(ttft=0.2, tokens_per_second=40.0, model="m1", provider="p1", start_ns=5)
    r2 = _llm_req(ttft=0.9, tokens_per_second=90.0, model="m2", provider="p2", start_ns=6)
    call = llm_call({}, 1, 2, [r1, r2])
    assert (call.ttft, call.tokens_per_second, call.model, call.provider) == (0.2, 40.0, "m1", "p1")
    assert call.request_start_ns == 5
    named = llm_call({sc.GEN_AI_REQUEST_MODEL: "nm", sc.GEN_AI_PROVIDER_NAME: "np"}, 1, 2, [r1])
    assert (named.model, named.provider) == ("nm", "np")


def test_llm_call_tallies_a_non_finite_node_ttft() -> None:
    t = Tally()
    call = llm_call({sc.LK_RESPONSE_TTFT: NAN}, 0, S, [], t)
    assert (call.ttft, t.nonfinite) == (None, 1)


def test_llm_attributes_name_every_figure() -> None:
    call = LlmCall(0, 0.1, 0.5, 10, 2, 4, 20.0, "m", "p", end_ns=9, cancelled=False)
    assert llm_attributes(call) == {
        sc.LLM_INPUT_TOKENS: 10,
        sc.LLM_OUTPUT_TOKENS: 2,
        sc.LLM_CACHED_INPUT_TOKENS: 4,
        sc.LLM_CANCELLED: False,
        sc.LLM_TTFT: 0.1,
        sc.LLM_DURATION: 0.5,
        sc.LLM_TOKENS_PER_SECOND: 20.0,
        sc.LLM_MODEL: "m",
        sc.LLM_PROVIDER: "p",
    }


def test_tts_call_takes_the_first_requests_figures_and_the_nodes_names() -> None:
    t1 = {**tts_request_figures({}), "metrics": True, "ttfb": 0.1, "duration": 0.2}
    t1.update(streamed=True, model="m1", provider="p1", start_ns=7, characters=3)
    t2 = {**tts_request_figures({}), "metrics": True, "ttfb": 0.5, "duration": 0.3}
    t2.update(streamed=False, model="m2", provider="p2", start_ns=8, characters=4)
    t2["audio_duration"] = 1.25
    call = tts_call({}, 1, 2 * S, [t1, t2])
    assert call == TtsCall(
        start_ns=1,
        ttfb=0.1,
        duration=0.5,
        characters=7,
        audio_duration=1.25,
        streamed=True,
        model="m1",
        provider="p1",
        end_ns=2 * S,
        cancelled=False,
        request_start_ns=7,
    )
    named = tts_call({sc.GEN_AI_REQUEST_MODEL: "nm", sc.GEN_AI_PROVIDER_NAME: "np"}, 1, 2, [t1])
    assert (named.model, named.provider) == ("nm", "np")


def test_tts_call_without_requests_uses_the_node() -> None:
    t = Tally()
    call = tts_call({sc.LK_RESPONSE_TTFB: NAN}, S, 3 * S, [], t)
    assert (call.ttfb, call.duration, call.cancelled, call.request_start_ns) == (
        None,
        2.0,
        True,
        None,
    )
    assert t.nonfinite == 1
    assert tts_call({sc.LK_RESPONSE_TTFB: 0.25}, 0, S, []).ttfb == 0.25


def test_tts_attributes_name_every_figure() -> None:
    call = TtsCall(0, 0.1, 0.3, 5, 0.5, False, "m", "p")
    assert tts_attributes(call) == {
        sc.TTS_CHARACTERS: 5,
        sc.TTS_AUDIO_DURATION: 0.5,
        sc.TTS_CANCELLED: False,
        sc.TTS_TTFB: 0.1,
        sc.TTS_DURATION: 0.3,
        sc.TTS_STREAMED: False,
    }


def test_stt_model_from_the_first_stt_row() -> None:
    rows = (
        {"type": "llm_usage", "provider": "openai", "model": "mini"},
        {"type": "stt_usage", "provider": "deepgram", "model": "nova-3"},
        {"type": "stt_usage", "provider": "other", "model": "x"},
    )
    assert stt_model(rows) == {sc.USER_STT_PROVIDER: "deepgram", sc.USER_STT_MODEL: "nova-3"}
    assert stt_model(rows[:1]) == {}


def test_stt_audio_is_taken_once_per_report() -> None:
    feed = FeedState(stt_reported=2.5)
    assert feed.take_stt_audio() == 2.5
    feed.stt_reported = 4.0
    assert feed.take_stt_audio() == 1.5
    assert feed.take_stt_audio() == 0.0
