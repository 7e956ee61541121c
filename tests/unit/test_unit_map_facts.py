"""``enrich.map_facts``: usage, cost, content and figures read off one span, exactly."""

from __future__ import annotations

import json

import pytest
from unit_helpers import view

from lk_otel import semconv as sc
from lk_otel.enrich import map_facts as f
from lk_otel.enrich.cost import PriceTable


def test_has_model() -> None:
    assert f.has_model({"gen_ai.request.model": "m"})
    assert f.has_model({"gen_ai.response.model": "m"})
    assert f.has_model({"llm.model_name": "m"})
    assert f.has_model({"model": "m"})
    assert not f.has_model({"model": ""})
    assert not f.has_model({"other": "m"})


def test_llm_usage_from_gen_ai_keys() -> None:
    attrs = {
        sc.GEN_AI_USAGE_INPUT_TOKENS: 100,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 20.0,
        sc.GEN_AI_USAGE_CACHE_READ: 40,
        sc.GEN_AI_PROVIDER_NAME: "openai",
        sc.GEN_AI_REQUEST_MODEL: "gpt",
        sc.LK_LLM_METRICS: json.dumps(
            {
                "prompt_tokens": 1,
                "completion_tokens": 2,
                "prompt_cached_tokens": 3,
                "metadata": {"model_provider": "p2", "model_name": "m2"},
            }
        ),
    }
    assert f.llm_usage(attrs) == f.LlmUsage("openai", "gpt", 100, 20, 40)


def test_llm_usage_from_llm_metrics() -> None:
    attrs = {
        sc.LK_LLM_METRICS: json.dumps(
            {
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "prompt_cached_tokens": 4,
                "metadata": {"model_provider": "p2", "model_name": "m2"},
            }
        ),
    }
    assert f.llm_usage(attrs) == f.LlmUsage("p2", "m2", 10, 5, 4)
    only_out = {sc.LK_LLM_METRICS: json.dumps({"completion_tokens": 5})}
    assert f.llm_usage(only_out) == f.LlmUsage(None, None, 0, 5, 0)
    only_in = {sc.GEN_AI_USAGE_INPUT_TOKENS: 7}
    assert f.llm_usage(only_in) == f.LlmUsage(None, None, 7, 0, 0)


@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {sc.LK_LLM_METRICS: "not json"},
        {sc.LK_LLM_METRICS: "[1, 2]"},
        {sc.LK_LLM_METRICS: 5},
        {sc.GEN_AI_USAGE_INPUT_TOKENS: True, sc.GEN_AI_USAGE_OUTPUT_TOKENS: "3"},
        {sc.GEN_AI_USAGE_CACHE_READ: 4},
    ],
)
def test_no_llm_usage(attrs: dict) -> None:
    assert f.llm_usage(attrs) is None


def test_tts_usage() -> None:
    metrics = {
        "characters_count": 42,
        "audio_duration": 1.5,
        "ttfb": 0.25,
        "metadata": {"model_provider": "cartesia", "model_name": "sonic"},
    }
    attrs = {sc.LK_TTS_METRICS: json.dumps(metrics)}
    assert f.tts_usage(attrs) == f.TtsUsage("cartesia", "sonic", 42, 1.5, 0.25)
    attrs[sc.GEN_AI_PROVIDER_NAME] = "p"
    attrs[sc.GEN_AI_REQUEST_MODEL] = "m"
    assert f.tts_usage(attrs) == f.TtsUsage("p", "m", 42, 1.5, 0.25)
    bare = {
        sc.LK_TTS_METRICS: json.dumps({"characters_count": 3.0, "audio_duration": "x", "ttfb": -1})
    }
    assert f.tts_usage(bare) == f.TtsUsage(None, None, 3, 0.0, None)
    zero = {sc.LK_TTS_METRICS: json.dumps({"characters_count": 0, "audio_duration": 2, "ttfb": 0})}
    assert f.tts_usage(zero) == f.TtsUsage(None, None, 0, 2.0, 0.0)
    assert f.tts_usage({sc.LK_TTS_METRICS: json.dumps({"ttfb": 1})}) is None
    assert f.tts_usage({}) is None


def test_stt_usage() -> None:
    added = {
        sc.USER_STT_AUDIO_DURATION: 2,
        sc.USER_STT_PROVIDER: "deepgram",
        sc.USER_STT_MODEL: "nova",
    }
    assert f.stt_usage({}, added) == f.SttUsage("deepgram", "nova", 2.0)
    attrs = {sc.GEN_AI_PROVIDER_NAME: "p", sc.GEN_AI_REQUEST_MODEL: "m"}
    assert f.stt_usage(attrs, added) == f.SttUsage("p", "m", 2.0)
    short = {sc.USER_STT_AUDIO_DURATION: 0.5}
    assert f.stt_usage({}, short) == f.SttUsage(None, None, 0.5)
    for seconds in (0, -1.0, True, "3", None):
        assert f.stt_usage({}, {sc.USER_STT_AUDIO_DURATION: seconds}) is None


def test_usage_by_span_name() -> None:
    llm = {sc.GEN_AI_USAGE_INPUT_TOKENS: 1}
    assert f.usage(view(sc.SPAN_LLM_REQUEST, llm)) == f.LlmUsage(None, None, 1, 0, 0)
    assert f.usage(view(sc.SPAN_LLM_NODE, llm)) is None
    tts = {sc.LK_TTS_METRICS: json.dumps({"characters_count": 2})}
    assert f.usage(view(sc.SPAN_TTS_REQUEST, tts)) == f.TtsUsage(None, None, 2, 0.0, None)
    added = {sc.USER_STT_AUDIO_DURATION: 1.5}
    assert f.usage(view(sc.SPAN_USER_TURN, added=added)) == f.SttUsage(None, None, 1.5)
    assert f.usage(view(sc.SPAN_AGENT_TURN, llm, added)) is None


PRICES = PriceTable.parse(
    {
        "openai/gpt": {"input_per_1m": 1.0, "output_per_1m": 2.0, "cached_input_per_1m": 0.5},
        "sonic": {"characters_per_1k": 0.05},
        "nova": {"stt_per_minute": 0.6},
    }
)


def test_cost() -> None:
    assert f.cost(f.LlmUsage("openai", "gpt", 1000, 100, 200), PRICES) == pytest.approx(
        (800 * 1.0 + 200 * 0.5 + 100 * 2.0) / 1e6, rel=1e-12
    )
    assert f.cost(f.TtsUsage(None, "sonic", 1000, 1.0, None), PRICES) == pytest.approx(0.05)
    assert f.cost(f.SttUsage("dg", "nova", 30.0), PRICES) == pytest.approx(0.3)
    assert f.cost(f.LlmUsage("azure", "other", 1, 1, 0), PRICES) is None
    assert f.cost(None, PRICES) is None
    assert f.cost(f.SttUsage(None, "nova", 30.0), None) is None
    assert f.cost(f.LlmUsage("x", "gpt", 1, 1, 0), PRICES) is None  # only openai/gpt is priced


def test_content_per_span_kind() -> None:
    a = {
        "lk.user_input": "u-old",
        "lk.pii.user_input": "u",
        "lk.response.text": "r",
        "lk.user_transcript": "t",
        "lk.chat_ctx": "ctx",
        "lk.input_text": "in",
        "gen_ai.tool.call.arguments": "{}",
        "lk.function_tool.output": "out",
    }
    assert f.content(view(sc.SPAN_AGENT_TURN, a)) == ("u", "r")
    assert f.content(view(sc.SPAN_ASSISTANT_TURN, {"lk.user_input": "u-old"})) == ("u-old", None)
    assert f.content(view(sc.SPAN_USER_TURN, a)) == ("t", None)
    assert f.content(view(sc.SPAN_LLM_NODE, a)) == ("ctx", "r")
    assert f.content(view(sc.SPAN_TTS_REQUEST, a)) == ("in", None)
    assert f.content(view(sc.SPAN_FUNCTION_TOOL, a)) == ("{}", "out")
    added = {sc.SESSION_FIRST_USER_TEXT: "first", sc.SESSION_LAST_AGENT_TEXT: "last"}
    assert f.content(view(sc.SPAN_AGENT_SESSION, a, added)) == ("first", "last")
    assert f.content(view(sc.SPAN_AGENT_SESSION, a)) == (None, None)
    assert f.content(view(sc.SPAN_TTS_NODE, a)) == (None, None)
    assert f.content(view(sc.SPAN_AGENT_TURN, {"lk.pii.user_input": "", "lk.user_input": 3})) == (
        None,
        None,
    )


def test_figures_keep_scalars_only() -> None:
    added = {
        "lk_otel.turn.index": 2,
        "lk_otel.turn.e2e_latency": 1.25,
        "lk_otel.turn.kind": "reply",
        "lk_otel.turn.interrupted": False,
        sc.SESSION_USAGE: "[]",
        sc.SESSION_FIRST_USER_TEXT: "secret text",
        "lk_otel.x.pii": "y",
        "lk_otel.pii_like": 1,
        "lk_otel.list": [1, 2],
        "lk_otel.none": None,
    }
    assert f.figures(added) == {
        "lk_otel.turn.index": 2,
        "lk_otel.turn.e2e_latency": 1.25,
        "lk_otel.turn.kind": "reply",
        "lk_otel.turn.interrupted": False,
        "lk_otel.pii_like": 1,
    }


def test_facts() -> None:
    attrs = {
        sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 100,
        sc.GEN_AI_PROVIDER_NAME: "openai",
        sc.GEN_AI_REQUEST_MODEL: "gpt",
        "lk.pii.chat_ctx": "hi",
    }
    span = view(sc.SPAN_LLM_REQUEST, attrs, {"lk_otel.a": 1})
    got = f.facts(span, allow_pii=True, prices=PRICES)
    assert got == f.SpanFacts(
        usage=f.LlmUsage("openai", "gpt", 1000, 100, 0),
        cost=pytest.approx(1200e-6, rel=1e-12),
        input=None,
        output=None,
        figures={"lk_otel.a": 1},
    )
    node = view(sc.SPAN_LLM_NODE, {"lk.pii.chat_ctx": "hi", "lk.response.text": "yo"})
    assert f.facts(node, allow_pii=True, prices=None) == f.SpanFacts(
        input="hi", output="yo", figures={}
    )
    assert f.facts(node, allow_pii=False, prices=None) == f.SpanFacts(figures={})
    assert f.SpanFacts() == f.SpanFacts(None, None, None, None, None)
