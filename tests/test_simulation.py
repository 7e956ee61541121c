"""lk_otel.simulation: a real AgentSession, offline, reporting the latencies it was given."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lk_otel import _compat
from lk_otel.simulation import (
    Scenario,
    ScenarioError,
    load_scenario,
    run_scenario,
)
from support.simulated import SimulatedCall, make_tracer_provider

TURN_SPAN = _compat.agent_turn_span_name()
TOLERANCE = 0.020  # livekit's metric vs the injected value, seconds


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        chain.append(by_id[parent.span_id])
        parent = by_id[parent.span_id].parent
    return chain


def _expected_llm_calls(scenario: Scenario) -> list[Any]:
    calls = [scenario.greeting.llm] if scenario.greeting and scenario.greeting.llm else []
    return calls + [call for turn in scenario.turns for call in turn.llm]


def _expected_tts(scenario: Scenario) -> list[Any]:
    entries = [scenario.greeting.tts] if scenario.greeting else []
    return entries + [entry for turn in scenario.turns for entry in turn.tts]


# --- the default scenario, run once for the span-tree and token tests -------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def default_call(simulated_call: Any) -> SimulatedCall:
    return await simulated_call(speed=4.0)


def test_default_scenario_runs_as_scripted(default_call: SimulatedCall) -> None:
    result = default_call.result
    scenario = result.scenario
    assert result.anomalies == []
    assert len(scenario.turns) >= 4 and scenario.greeting is not None
    assert any(t.interrupt_after for t in scenario.turns)
    assert any(c.tool_call for t in scenario.turns for c in t.llm)
    assert result.session_id.startswith("sim-") and len(result.session_id) == 36
    assert result.agent_name == "lk-otel-sim"

    user_texts = [i.text_content for i in result.chat_items if getattr(i, "role", "") == "user"]
    assert user_texts == [t.user.text for t in scenario.turns]


def test_default_scenario_span_tree(default_call: SimulatedCall) -> None:
    spans = default_call.spans
    by_id = {s.context.span_id: s for s in spans}
    roots = [s for s in spans if s.parent is None]
    assert [s.name for s in roots] == ["agent_session"]
    root = roots[0]
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}
    # the root span ends inside aclose(), after everything else
    assert root.end_time >= max(s.end_time for s in spans)

    scenario = default_call.result.scenario
    counts = Counter(s.name for s in spans)
    user_turns = default_call.spans_named("user_turn")
    heard = [s for s in user_turns if "lk.transcript_confidence" in s.attributes]
    assert len(heard) == len(scenario.turns)
    facts = _compat.release_facts()
    # 1.8 opens one more, empty, user_turn when aclose() commits the (silent) user turn
    assert len(user_turns) - len(heard) == (1 if facts.closing_user_turn else 0)
    assert counts["llm_node"] == len(_expected_llm_calls(scenario))
    assert counts["tts_node"] >= len(_expected_tts(scenario))
    tools = default_call.spans_named("function_tool")
    scripted_tools = [c.tool_call.name for t in scenario.turns for c in t.llm if c.tool_call]
    assert [s.attributes["lk.function_tool.name"] for s in tools] == scripted_tools

    turns = default_call.spans_named(TURN_SPAN)
    replies = [s for s in turns if not any(a.name == TURN_SPAN for a in _ancestors(s, by_id))]
    # 1.3+: the greeting is a turn span (1.2: it runs under on_enter); a tool follow-up is
    # a nested turn (1.2), a sibling turn (1.3-1.7) or a second generation of the same (1.8)
    tool_rounds = sum(1 for t in scenario.turns for c in t.llm if c.tool_call)
    expected_replies = (
        len(scenario.turns)
        + (1 if facts.greeting_turn_span else 0)
        + (tool_rounds if facts.follow_up == "sibling_turn" else 0)
    )
    assert len(replies) == expected_replies
    assert sum(bool(s.attributes.get("lk.interrupted")) for s in replies) == 1

    for span in [*default_call.spans_named("llm_node"), *tools]:
        assert any(a.name == TURN_SPAN for a in _ancestors(span, by_id)), span.name
    for span in default_call.spans_named("user_turn"):
        assert span.parent is not None and by_id[span.parent.span_id] is root

    # LLM/TTS/EOU metrics carry the speech id of the turn span they belong to
    turn_ids = {s.attributes.get("lk.speech_id") for s in turns}
    metric_ids = {
        m.speech_id
        for m in default_call.result.metrics
        if type(m).__name__ in ("LLMMetrics", "EOUMetrics")
    }
    assert metric_ids and metric_ids <= turn_ids


def test_default_scenario_tokens_and_usage_are_exact(default_call: SimulatedCall) -> None:
    result = default_call.result
    scenario = result.scenario
    expected = _expected_llm_calls(scenario)
    llm_metrics = result.metrics_of("LLMMetrics")
    assert [
        (m.prompt_tokens, m.completion_tokens, m.prompt_cached_tokens) for m in llm_metrics
    ] == [(c.input_tokens, c.output_tokens, c.cached_input_tokens) for c in expected]
    assert {(m.metadata.model_provider, m.metadata.model_name) for m in llm_metrics} == {
        (scenario.models.llm.provider, scenario.models.llm.model)
    }

    injected = result.injected
    tts_metrics = result.metrics_of("TTSMetrics")
    assert [round(m.audio_duration, 3) for m in tts_metrics] == [
        round(e.audio_duration, 3) for e in _expected_tts(injected)
    ]
    stt_metrics = result.metrics_of("STTMetrics")
    assert len(stt_metrics) == len(scenario.turns)
    speech = sum(t.user.speech_duration for t in injected.turns)
    assert sum(m.audio_duration for m in stt_metrics) >= speech

    in_tokens = sum(c.input_tokens for c in expected)
    out_tokens = sum(c.output_tokens for c in expected)
    cached = sum(c.cached_input_tokens for c in expected)
    audio = sum(e.audio_duration for e in _expected_tts(injected))
    usage = result.usage
    if _compat.has_session_usage():
        by_kind = {type(u).__name__: u for u in usage.model_usage}
        llm_usage, tts_usage = by_kind["LLMModelUsage"], by_kind["TTSModelUsage"]
        assert (llm_usage.provider, llm_usage.model) == ("openai", "gpt-4o-mini")
        assert (llm_usage.input_tokens, llm_usage.output_tokens) == (in_tokens, out_tokens)
        assert llm_usage.input_cached_tokens == cached
        assert (tts_usage.provider, tts_usage.model) == ("cartesia", "sonic-2")
        assert tts_usage.audio_duration == pytest.approx(audio, abs=1e-3)
        stt_usage = by_kind["STTModelUsage"]
        assert (stt_usage.provider, stt_usage.model) == ("deepgram", "nova-3")
        assert stt_usage.audio_duration >= speech
    else:
        assert (usage.llm_prompt_tokens, usage.llm_completion_tokens) == (in_tokens, out_tokens)
        assert usage.llm_prompt_cached_tokens == cached
        assert usage.tts_audio_duration == pytest.approx(audio, abs=1e-3)
        assert usage.stt_audio_duration >= speech


def test_default_scenario_interruption(default_call: SimulatedCall) -> None:
    result = default_call.result
    scenario = result.scenario
    index = next(i for i, t in enumerate(scenario.turns) if t.interrupt_after)
    full_text = scenario.turns[index].llm[-1].text
    assistant = [i for i in result.chat_items if getattr(i, "role", "") == "assistant"]
    interrupted = [i for i in assistant if i.interrupted]
    assert len(interrupted) == 1
    said = interrupted[0].text_content
    assert said and full_text.startswith(said) and len(said) < len(full_text)
    assert result.interrupted_segments == 1


def test_message_metrics_where_livekit_has_them(default_call: SimulatedCall) -> None:
    if not _compat.has_message_metrics():
        pytest.skip("ChatMessage.metrics arrived after livekit-agents 1.2")
    items = default_call.result.chat_items
    users = [i for i in items if getattr(i, "role", "") == "user"]
    replies = [i for i in items if getattr(i, "role", "") == "assistant"]
    assert all("end_of_turn_delay" in i.metrics for i in users)
    assert all("tts_node_ttfb" in i.metrics for i in replies)


# --- injected latencies vs livekit's own metrics, at speed 1 -----------------------------

TIMING_SCENARIO: dict[str, Any] = {
    "greeting": {
        "text": "Hello, this is the test line.",
        "mode": "generate",
        "llm": {"ttft": 0.35, "duration": 0.6, "input_tokens": 210, "output_tokens": 9},
        "tts": {"ttfb": 0.18, "audio_duration": 0.9},
    },
    "endpointing_delay": 0.6,
    "turns": [
        {
            "user": {
                "text": "What is the weather in Paris?",
                "speech_duration": 1.2,
                "stt_delay": 0.3,
            },
            "llm": [
                {
                    "ttft": 0.45,
                    "duration": 0.7,
                    "tool_call": {
                        "name": "get_weather",
                        "arguments": {"city": "Paris"},
                        "result": "sunny",
                    },
                    "input_tokens": 320,
                    "output_tokens": 18,
                    "cached_input_tokens": 256,
                },
                {
                    "ttft": 0.5,
                    "duration": 0.9,
                    "text": "It is sunny in Paris today.",
                    "input_tokens": 360,
                    "output_tokens": 8,
                    "cached_input_tokens": 320,
                },
            ],
            "tts": {"ttfb": 0.25, "audio_duration": 1.4},
        },
        {
            "user": {"text": "Thanks, bye.", "speech_duration": 0.8, "stt_delay": 0.2},
            "llm": [{"ttft": 0.4, "duration": 0.55, "text": "Goodbye!"}],
            "tts": {"ttfb": 0.3, "audio_duration": 0.7},
        },
    ],
}


async def test_livekit_metrics_equal_injected_latencies(simulated_call: Any) -> None:
    call = await simulated_call(TIMING_SCENARIO, speed=1.0)
    result = call.result
    scenario = result.scenario
    assert result.anomalies == []

    # livekit's figures against what the plugins really did (the truth: a sleep that woke
    # late on a loaded machine shows there), and that against the script: never early
    llm_metrics = result.metrics_of("LLMMetrics")
    expected_llm = _expected_llm_calls(scenario)
    requests = result.truth.of("llm_request")
    assert len(llm_metrics) == len(expected_llm) == len(requests) == 4
    for metric, call_, done in zip(llm_metrics, expected_llm, requests, strict=True):
        assert done.end is not None
        injected_ttft = done.detail["first_chunk_at"] - done.start
        assert metric.ttft == pytest.approx(injected_ttft, abs=TOLERANCE)
        assert metric.duration == pytest.approx(done.end - done.start, abs=TOLERANCE)
        assert injected_ttft >= call_.ttft - TOLERANCE
        assert done.end - done.start >= call_.duration - TOLERANCE
        assert (metric.prompt_tokens, metric.completion_tokens) == (
            call_.input_tokens,
            call_.output_tokens,
        )

    tts_metrics = result.metrics_of("TTSMetrics")
    expected_tts = _expected_tts(scenario)
    syntheses = result.truth.of("tts_request")
    assert len(tts_metrics) == len(expected_tts) == len(syntheses) == 3
    for metric, entry, synth in zip(tts_metrics, expected_tts, syntheses, strict=True):
        injected_ttfb = synth.detail["first_audio_at"] - synth.start
        assert metric.ttfb == pytest.approx(injected_ttfb, abs=TOLERANCE)
        assert injected_ttfb >= entry.ttfb - TOLERANCE
        assert metric.audio_duration == pytest.approx(entry.audio_duration, abs=1e-3)

    eou_metrics = result.metrics_of("EOUMetrics")
    assert len(eou_metrics) == len(scenario.turns)
    for metric, turn in zip(eou_metrics, scenario.turns, strict=True):
        assert metric.end_of_utterance_delay == pytest.approx(
            scenario.endpointing_delay, abs=TOLERANCE
        )
        assert metric.transcription_delay == pytest.approx(turn.user.stt_delay, abs=TOLERANCE)

    tools = call.spans_named("function_tool")
    assert [
        s.attributes.get("gen_ai.tool.name", s.attributes.get("lk.function_tool.name"))
        for s in tools
    ] == ["get_weather"]


# --- scenario data ------------------------------------------------------------------------


def _minimal() -> dict[str, Any]:
    return {"turns": [{"user": {"text": "Hi there"}, "llm": [{"text": "Hello!"}]}]}


def _with(path: str, value: Any) -> dict[str, Any]:
    """The minimal scenario with ``value`` set at a dotted path (``[n]`` indexes lists)."""
    data = _minimal()
    node: Any = data
    keys = path.replace("[", ".").replace("]", "").split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
    last = keys[-1]
    node[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (_with("turns[0].llm[0].ttfx", 0.4), "turns[0].llm[0].ttfx"),
        (_with("turns[0].user.speech_duraton", 1.0), "turns[0].user.speech_duraton"),
        (_with("greeting", {"text": "Hi", "voice": "x"}), "greeting.voice"),
        (_with("models.llm.name", "gpt"), "models.llm.name"),
        (_with("speed", 2), "speed"),
        (_with("turns[0].llm[0].ttft", -1), "turns[0].llm[0].ttft"),
        (_with("turns[0].llm[0].ttft", "fast"), "turns[0].llm[0].ttft"),
        (_with("turns[0].llm[0].input_tokens", 1.5), "turns[0].llm[0].input_tokens"),
        (_with("turns[0].llm[0].cached_input_tokens", 900), "turns[0].llm[0].cached_input_tokens"),
        (_with("turns[0].llm[0].duration", 0.1), "turns[0].llm[0].duration"),
        (_with("turns[0].tts", [{}, {}]), "turns[0].tts"),
        (_with("turns[0].tts.ttfb2", 1), "turns[0].tts.ttfb2"),
        (_with("turns[0].interrupt_after", 0.2), "turns[0].interrupt_after"),
        (_with("greeting", {"text": "Hi", "mode": "sing"}), "greeting.mode"),
        (_with("greeting", {"text": "Hi", "llm": {}}), "greeting.llm"),
        (_with("turns[0].llm[0].tool_call", {"name": "f"}), "turns[0].llm[0].tool_call"),
        (
            _with("turns[0].llm[0].tool_call", {"name": "f", "args": {}}),
            "turns[0].llm[0].tool_call.args",
        ),
        (_with("turns[0].user.text", ""), "turns[0].user.text"),
        ({"turns": []}, "turns"),
    ],
)
def test_scenario_errors_name_the_key(data: dict[str, Any], named: str) -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario(data)
    assert str(error.value).startswith(named + ":"), str(error.value)
    assert isinstance(error.value, ValueError)


def test_interrupting_speech_must_outlast_the_minimum_interruption() -> None:
    data = _minimal()
    data["turns"][0]["tts"] = {"audio_duration": 3.0}
    data["turns"][0]["interrupt_after"] = 1.0
    data["turns"].append(
        {"user": {"text": "Wait", "speech_duration": 0.3}, "llm": [{"text": "Ok"}]}
    )
    with pytest.raises(ScenarioError, match=r"^turns\[1\]\.user\.speech_duration:"):
        load_scenario(data)
    data["turns"][1]["user"]["speech_duration"] = 0.8
    assert load_scenario(data).turns[0].interrupt_after == 1.0


def test_missing_optional_keys_get_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(_minimal())
    turn = scenario.turns[0]
    assert scenario.greeting is None and scenario.endpointing_delay == 0.5
    assert turn.user.speech_duration > 0 and turn.user.stt_delay == 0.25
    (call,) = turn.llm
    assert call.ttft <= call.duration and call.output_tokens > 0 and call.cached_input_tokens == 0
    assert len(turn.tts) == 1 and turn.tts[0].audio_duration > 0
    assert scenario.models.llm.model == "scripted-llm"

    path = tmp_path / "s.json"
    path.write_text(json.dumps(_minimal()))
    assert load_scenario(path) == scenario == load_scenario(json.dumps(_minimal()))
    assert load_scenario(scenario.to_dict()) == scenario
    with pytest.raises(ScenarioError, match="invalid JSON"):
        load_scenario("{not json")


def test_speed_scales_every_duration_and_nothing_else() -> None:
    scenario = load_scenario()
    fast = scenario.scaled(4.0)
    assert fast.endpointing_delay == scenario.endpointing_delay / 4
    for slow_turn, fast_turn in zip(scenario.turns, fast.turns, strict=True):
        assert fast_turn.user.speech_duration == slow_turn.user.speech_duration / 4
        assert fast_turn.user.stt_delay == slow_turn.user.stt_delay / 4
        assert fast_turn.user.text == slow_turn.user.text
        for a, b in zip(slow_turn.llm, fast_turn.llm, strict=True):
            assert (b.ttft, b.duration) == (a.ttft / 4, a.duration / 4)
            assert (b.input_tokens, b.output_tokens) == (a.input_tokens, a.output_tokens)
        for a, b in zip(slow_turn.tts, fast_turn.tts, strict=True):
            assert (b.ttfb, b.audio_duration) == (a.ttfb / 4, a.audio_duration / 4)
        if slow_turn.interrupt_after:
            assert fast_turn.interrupt_after == slow_turn.interrupt_after / 4
    with pytest.raises(ValueError):
        scenario.scaled(0)


# --- two calls in one process ---------------------------------------------------------------


def _small(word: str, tokens: int) -> dict[str, Any]:
    return {
        "greeting": {"text": f"Hello from {word}."},
        "turns": [
            {
                "user": {"text": f"Tell me about {word}.", "speech_duration": 1.0},
                "llm": [
                    {
                        "text": f"{word} is great.",
                        "input_tokens": tokens,
                        "output_tokens": tokens // 10,
                    }
                ],
            },
            {
                "user": {"text": "Thanks.", "speech_duration": 0.8},
                "llm": [{"text": "Bye.", "input_tokens": tokens + 1, "output_tokens": 3}],
            },
        ],
    }


async def test_concurrent_sessions_keep_their_own_metrics() -> None:
    exporter = InMemorySpanExporter()
    provider = make_tracer_provider(exporter)
    try:
        scenarios = [load_scenario(_small("apples", 400)), load_scenario(_small("pears", 700))]
        results = await asyncio.gather(
            *(run_scenario(s, speed=4.0, agent_name=f"agent-{i}") for i, s in enumerate(scenarios))
        )
        provider.force_flush()
        spans = exporter.get_finished_spans()
    finally:
        provider.shutdown()

    assert results[0].session_id != results[1].session_id
    for scenario, result in zip(scenarios, results, strict=True):
        assert result.anomalies == []
        tokens = [m.prompt_tokens for m in result.metrics_of("LLMMetrics")]
        assert tokens == [c.input_tokens for t in scenario.turns for c in t.llm]
        texts = [i.text_content for i in result.chat_items if getattr(i, "role", "") == "user"]
        assert texts == [t.user.text for t in scenario.turns]

    speech_ids = [
        {m.speech_id for m in r.metrics if type(m).__name__ in ("LLMMetrics", "EOUMetrics")}
        for r in results
    ]
    assert speech_ids[0] and speech_ids[1] and not speech_ids[0] & speech_ids[1]

    # each call is its own trace, and its turn spans carry exactly its speech ids
    roots = [s for s in spans if s.name == "agent_session"]
    assert len(roots) == 2 and len({s.context.trace_id for s in roots}) == 2
    for root in roots:
        turn_ids = {
            s.attributes.get("lk.speech_id")
            for s in spans
            if s.name == TURN_SPAN and s.context.trace_id == root.context.trace_id
        }
        assert any(ids <= turn_ids for ids in speech_ids)


async def test_the_session_span_does_not_leak_into_the_caller(simulated_call: Any) -> None:
    # livekit attaches agent_session to the context calling start() and never detaches it
    heard: list[str] = []

    def subscribe(session: Any) -> None:  # called before start(): sees every event
        session.on(
            "user_input_transcribed",
            lambda ev: heard.append(ev.transcript) if ev.is_final and ev.transcript else None,
        )

    call = await simulated_call(_small("plums", 300), speed=4.0, on_session=subscribe)
    assert call.result.anomalies == []
    assert heard == [t.user.text for t in call.result.scenario.turns]
    assert not trace.get_current_span().get_span_context().is_valid
