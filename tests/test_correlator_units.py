"""Pure parts of the enrichment: extractors, percentiles, kinds, fallbacks, timeline.

Exact values (mutation testing runs over enrich/)."""

from __future__ import annotations

import itertools
import json

from lk_otel import semconv as sc
from lk_otel.enrich.extract import (
    Tally,
    count,
    llm_attributes,
    llm_call,
    llm_request_figures,
    number,
    percentile,
    tts_call,
    tts_request_figures,
)
from lk_otel.enrich.state import ToolSpan, TurnState, UserTurnFacts
from lk_otel.enrich.turn import answers_user, build_timeline, summarize_turn, turn_kind
from lk_otel.enrich.waterfall import path_stages

S = 1_000_000_000


def test_number_and_count() -> None:
    t = Tally()
    assert number(1) == 1.0 and type(number(1)) is float
    assert number(True) is None and number("1") is None and number(None) is None
    assert number(float("nan"), t) is None and number(float("-inf"), t) is None
    assert t.nonfinite == 2
    assert count(2**60 + 1) == 2**60 + 1
    assert count(3.0) == 3 and type(count(3.0)) is int
    assert count(False) is None and count(float("inf"), t) is None and t.nonfinite == 3


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([5.0], 95) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == 4.8
    assert percentile([1.0, 2.0], 0) == 1.0 and percentile([1.0, 2.0], 100) == 2.0


def test_llm_request_figures_prefer_gen_ai_usage_then_metrics() -> None:
    m = {
        "ttft": 0.25,
        "duration": 0.75,
        "prompt_tokens": 11,
        "completion_tokens": 3,
        "prompt_cached_tokens": 4,
        "tokens_per_second": 12.5,
        "metadata": {"model_provider": "openai", "model_name": "mini"},
    }
    f = llm_request_figures({sc.LK_LLM_METRICS: json.dumps(m), sc.GEN_AI_USAGE_INPUT_TOKENS: 20})
    assert f == {
        "metrics": True,
        "ttft": 0.25,
        "duration": 0.75,
        "input_tokens": 20,
        "output_tokens": 3,
        "cached_input_tokens": 4,
        "tokens_per_second": 12.5,
        "model": "mini",
        "provider": "openai",
    }
    empty = llm_request_figures({sc.LK_LLM_METRICS: "not json"})
    assert (empty["metrics"], empty["ttft"], empty["input_tokens"]) == (False, None, 0)


def test_llm_call_sums_requests_and_falls_back_when_cancelled() -> None:
    r1 = {**llm_request_figures({}), "metrics": True, "duration": 0.5, "ttft": 0.1}
    r1.update(input_tokens=5, output_tokens=1, cached_input_tokens=2, start_ns=7)
    r2 = {**llm_request_figures({}), "metrics": True, "duration": 0.25}
    r2.update(input_tokens=6, output_tokens=2, cached_input_tokens=0)
    call = llm_call({sc.GEN_AI_REQUEST_MODEL: "m"}, 0, 2 * S, [r1, r2])
    assert (call.duration, call.ttft, call.input_tokens, call.output_tokens) == (0.75, 0.1, 11, 3)
    assert (call.cached_input_tokens, call.cancelled, call.request_start_ns) == (2, False, 7)
    assert (call.model, call.end_ns) == ("m", 2 * S)
    none = llm_call({sc.LK_RESPONSE_TTFT: 0.4}, S, 3 * S, [])
    assert (none.duration, none.ttft, none.cancelled) == (2.0, 0.4, True)
    a = llm_attributes(none)
    assert a[sc.LLM_CANCELLED] is True and a[sc.LLM_DURATION] == 2.0
    assert sc.LLM_TOKENS_PER_SECOND not in a


def test_tts_figures_and_fallback() -> None:
    m = {"ttfb": 0.2, "duration": 0.3, "characters_count": 9, "audio_duration": 1.5}
    f = tts_request_figures({sc.LK_TTS_METRICS: json.dumps(m), sc.LK_TTS_STREAMING: True})
    assert (f["ttfb"], f["characters"], f["audio_duration"], f["streamed"]) == (0.2, 9, 1.5, True)
    call = tts_call({}, 0, S, [f])
    assert (call.duration, call.cancelled) == (0.3, False)
    cut = tts_call({sc.LK_RESPONSE_TTFB: 0.05}, 0, S // 2, [tts_request_figures({})])
    assert (cut.duration, cut.ttfb, cut.cancelled, cut.characters) == (0.5, 0.05, True, 0)


def test_kinds() -> None:
    assert turn_kind(answers_user=True, user_turns_before=0) == "reply"
    assert turn_kind(answers_user=False, user_turns_before=0) == "greeting"
    assert turn_kind(answers_user=False, user_turns_before=2) == "say"
    assert answers_user({}, None) is False
    assert answers_user({sc.LK_E2E_LATENCY: 0.1}, None) is True
    assert answers_user({sc.LK_END_OF_TURN_DELAY: 0.1}, None) is True
    assert answers_user({"lk.user_input": "hi"}, None) is True


def _turn_with_calls() -> TurnState:
    r = {**llm_request_figures({}), "metrics": True, "ttft": 0.2, "duration": 0.5}
    r["start_ns"] = int(1.1 * S)
    t = {**tts_request_figures({}), "metrics": True, "ttfb": 0.1, "characters": 4}
    t["start_ns"] = int(2.2 * S)
    state = TurnState(index=2, start_ns=S, speaking_start_ns=int(2.5 * S))
    state.llm.append(llm_call({}, S, int(1.7 * S), [r]))
    state.llm.append(llm_call({}, 2 * S, int(2.4 * S), []))
    state.tts.append(tts_call({}, int(2.2 * S), 3 * S, [t]))
    state.tools.append(ToolSpan("book", int(1.7 * S), int(1.9 * S)))
    state.tool_calls = 1
    state.user = UserTurnFacts(speech_end_ns=int(0.4 * S), on_user_turn_completed=(S, S + 5))
    return state


def test_summary_and_timeline_of_a_tool_turn() -> None:
    state = _turn_with_calls()
    attrs = {sc.LK_E2E_LATENCY: 2.0, sc.LK_END_OF_TURN_DELAY: 0.5, sc.LK_TRANSCRIPTION_DELAY: 0.25}
    s = summarize_turn(attrs, state, eou=None, user_turns_before=1, agent_name="a", prices=None)
    assert (s.kind, s.llm_ttft, s.tts_ttfb, s.latency_sum) == ("reply", 0.2, 0.1, 0.5 + 0.2 + 0.1)
    assert (s.llm_calls, s.tool_calls, s.tts_characters, s.produced_audio) == (2, 1, 4, True)
    tl = build_timeline(s, state)
    assert (tl.user_stop_ns, tl.audio_start_ns) == (int(0.5 * S), int(2.5 * S))
    assert (tl.end_of_turn_ns, tl.transcript_ns) == (S, int(0.75 * S))
    assert tl.on_user_turn_completed_ns == (S, S + 5)
    assert [
        (r.start_ns, r.first_token_ns, r.tool_calls, r.spoken, r.cancelled) for r in tl.llm
    ] == [
        (S, int(1.3 * S), ("book",), False, False),
        (2 * S, None, (), True, True),
    ]
    assert [(t.name, t.start_ns, t.end_ns) for t in tl.tools] == [
        ("book", int(1.7 * S), int(1.9 * S))
    ]
    assert [(r.first_byte_ns, r.spoken) for r in tl.tts] == [(int(2.3 * S), True)]
    added, stages = path_stages(tl)
    assert stages[0][:3] == (sc.SPAN_RESPONSE_LATENCY, int(0.5 * S), int(2.5 * S))
    spans = {(a[sc.STAGE_NAME], a[sc.STAGE_CRITICAL]): (b, c) for _, b, c, a in stages[1:]}
    assert spans[(sc.STAGE_END_OF_TURN, True)] == (int(0.5 * S), S)
    assert spans[(sc.STAGE_TRANSCRIPTION, False)] == (int(0.5 * S), int(0.75 * S))
    assert spans[(sc.STAGE_TOOL_RUN, True)] == (int(1.7 * S), int(1.9 * S))
    critical = [(b, c) for _, b, c, a in stages[1:] if a[sc.STAGE_CRITICAL]]
    assert critical[0][0] == int(0.5 * S) and critical[-1][1] == int(2.5 * S)
    assert all(x[1] == y[0] for x, y in itertools.pairwise(critical))
    assert abs(added[sc.TURN_CRITICAL_PATH] - 2.0) < 1e-9


def test_timeline_without_audio_uses_the_users_last_speech() -> None:
    state = _turn_with_calls()
    state.speaking_start_ns = None
    s = summarize_turn({}, state, eou=None, user_turns_before=1, agent_name=None, prices=None)
    tl = build_timeline(s, state)
    assert (tl.user_stop_ns, tl.audio_start_ns, s.produced_audio) == (int(0.4 * S), None, False)
    assert not any(r.spoken for r in tl.tts) and not any(r.spoken for r in tl.llm)
    assert path_stages(tl) == ({}, ())
    assert s.kind == "say"
