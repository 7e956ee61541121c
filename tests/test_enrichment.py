"""The lk_otel schema on a real AgentSession's spans, against livekit's raw metrics of the
same run and the scenario's injected latencies. Runs on every installed livekit version."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import Counter

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import lk_otel
from lk_otel import _compat
from lk_otel import semconv as sc
from lk_otel.enrich import gather
from lk_otel.simulation import load_scenario, run_scenario
from support.tracing_helpers import TracedCall, all_attribute_text, traced_call

TOL = 0.020  # injected vs measured, seconds
NEWER = _compat.has_session_usage()  # livekit >= 1.3 (1.8.9 here)


@pytest.fixture(scope="module")
def call() -> TracedCall:
    return asyncio.run(traced_call(speed=4.0))


def _attrs(span) -> dict:
    return dict(span.attributes or {})


def reply_turns(call: TracedCall) -> list:
    return [t for t in call.turns() if t.attributes[sc.TURN_KIND] == "reply"]


def test_every_documented_attribute_is_present(call: TracedCall) -> None:
    always = [
        sc.TURN_INDEX,
        sc.TURN_LLM_CALLS,
        sc.TURN_TOOL_CALLS,
        sc.TURN_INPUT_TOKENS,
        sc.TURN_OUTPUT_TOKENS,
        sc.TURN_CACHED_INPUT_TOKENS,
        sc.TURN_TTS_CHARACTERS,
        sc.TURN_TTS_AUDIO_DURATION,
        sc.TURN_INTERRUPTED,
    ]
    reply = [
        sc.TURN_E2E_LATENCY,
        sc.TURN_END_OF_TURN_DELAY,
        sc.TURN_TRANSCRIPTION_DELAY,
        sc.TURN_ON_USER_TURN_COMPLETED_DELAY,
        sc.TURN_LLM_TTFT,
        sc.TURN_TTS_TTFB,
        sc.TURN_LATENCY_SUM,
    ]
    replies = reply_turns(call)
    assert len(replies) == len(call.result.scenario.turns)
    for turn in replies:
        missing = [k for k in always + reply if k not in turn.attributes]
        assert not missing, (turn.attributes[sc.TURN_INDEX], missing)
    for node in call.named(sc.SPAN_LLM_NODE):
        for key in (
            sc.LLM_TTFT,
            sc.LLM_DURATION,
            sc.LLM_INPUT_TOKENS,
            sc.LLM_OUTPUT_TOKENS,
            sc.LLM_CACHED_INPUT_TOKENS,
            sc.LLM_TOKENS_PER_SECOND,
            sc.LLM_MODEL,
        ):
            assert key in node.attributes, key
    spoken = [n for n in call.named(sc.SPAN_TTS_NODE) if n.attributes[sc.TTS_CHARACTERS]]
    assert spoken
    for node in spoken:
        for key in (
            sc.TTS_TTFB,
            sc.TTS_DURATION,
            sc.TTS_CHARACTERS,
            sc.TTS_AUDIO_DURATION,
            sc.TTS_STREAMED,
        ):
            assert key in node.attributes, key
    users = [u for u in call.named(sc.SPAN_USER_TURN) if sc.USER_SPEECH_DURATION in u.attributes]
    assert len(users) == len(call.result.scenario.turns)
    for user in users:
        for key in (
            sc.USER_TRANSCRIPTION_DELAY,
            sc.USER_END_OF_TURN_DELAY,
            sc.USER_STT_AUDIO_DURATION,
        ):
            assert key in user.attributes, key
    session = _attrs(call.session())
    for key in (
        sc.SESSION_TURNS,
        sc.SESSION_DURATION,
        sc.SESSION_INPUT_TOKENS,
        sc.SESSION_OUTPUT_TOKENS,
        sc.SESSION_CACHED_INPUT_TOKENS,
        sc.SESSION_TTS_CHARACTERS,
        sc.SESSION_TTS_AUDIO_DURATION,
        sc.SESSION_STT_AUDIO_DURATION,
        sc.SESSION_INTERRUPTIONS,
        sc.SESSION_TOOL_CALLS,
        sc.SESSION_USAGE,
        sc.SESSION_E2E_P50,
        sc.SESSION_E2E_P95,
        sc.SESSION_E2E_MAX,
        sc.SESSION_LLM_TTFT_P50,
        sc.SESSION_LLM_TTFT_P95,
        sc.SESSION_TTS_TTFB_P50,
        sc.SESSION_TTS_TTFB_P95,
    ):
        assert key in session, key


def test_llm_and_tts_nodes_equal_raw_metrics_exactly(call: TracedCall) -> None:
    llm = call.result.metrics_of("LLMMetrics")
    raw = Counter(
        (m.ttft, m.duration, m.prompt_tokens, m.completion_tokens, m.prompt_cached_tokens)
        for m in llm
    )
    ours = Counter(
        (
            a[sc.LLM_TTFT],
            a[sc.LLM_DURATION],
            a[sc.LLM_INPUT_TOKENS],
            a[sc.LLM_OUTPUT_TOKENS],
            a[sc.LLM_CACHED_INPUT_TOKENS],
        )
        for a in map(_attrs, call.named(sc.SPAN_LLM_NODE))
    )
    assert ours == raw
    tts = call.result.metrics_of("TTSMetrics")
    raw_tts = Counter((m.ttfb, m.characters_count, m.audio_duration) for m in tts)
    ours_tts = Counter(
        (a[sc.TTS_TTFB], a[sc.TTS_CHARACTERS], a[sc.TTS_AUDIO_DURATION])
        for a in map(_attrs, call.named(sc.SPAN_TTS_NODE))
        if sc.TTS_TTFB in a
    )
    assert ours_tts == raw_tts


def test_turn_latencies_equal_eou_metrics_and_injected_values(call: TracedCall) -> None:
    eou = {m.speech_id: m for m in call.result.metrics_of("EOUMetrics")}
    injected = call.result.injected
    for turn, script in zip(reply_turns(call), injected.turns, strict=True):
        a = _attrs(turn)
        m = eou[a[sc.LK_SPEECH_ID]]
        assert a[sc.TURN_END_OF_TURN_DELAY] == m.end_of_utterance_delay
        assert a[sc.TURN_TRANSCRIPTION_DELAY] == m.transcription_delay
        assert a[sc.TURN_ON_USER_TURN_COMPLETED_DELAY] == m.on_user_turn_completed_delay
        assert a[sc.TURN_END_OF_TURN_DELAY] == pytest.approx(injected.endpointing_delay, abs=TOL)
        assert a[sc.TURN_TRANSCRIPTION_DELAY] == pytest.approx(script.user.stt_delay, abs=TOL)
        assert a[sc.TURN_LLM_TTFT] == pytest.approx(script.llm[0].ttft, abs=TOL)
        assert a[sc.TURN_TTS_TTFB] == pytest.approx(script.tts[0].ttfb, abs=TOL)
        assert a[sc.TURN_LATENCY_SUM] == pytest.approx(
            a[sc.TURN_END_OF_TURN_DELAY] + a[sc.TURN_LLM_TTFT] + a[sc.TURN_TTS_TTFB], abs=1e-12
        )
        assert a[sc.TURN_E2E_LATENCY] >= a[sc.TURN_END_OF_TURN_DELAY]
        nodes = call.turn_spans(turn, sc.SPAN_LLM_NODE)
        assert [n.attributes[sc.LLM_TTFT] for n in nodes] == pytest.approx(
            [c.ttft for c in script.llm], abs=TOL
        )
        assert a[sc.TURN_INTERRUPTED] == (script.interrupt_after is not None)


def test_turn_totals_are_sums_over_the_turns_calls(call: TracedCall) -> None:
    for turn in call.turns():
        a = _attrs(turn)
        # a tool follow-up: a nested turn under this one (1.2), a sibling turn (1.3-1.7)
        nodes = call.turn_spans(turn, sc.SPAN_LLM_NODE)
        assert a[sc.TURN_LLM_CALLS] == len(nodes)
        for key, node_key in (
            (sc.TURN_INPUT_TOKENS, sc.LLM_INPUT_TOKENS),
            (sc.TURN_OUTPUT_TOKENS, sc.LLM_OUTPUT_TOKENS),
            (sc.TURN_CACHED_INPUT_TOKENS, sc.LLM_CACHED_INPUT_TOKENS),
        ):
            assert a[key] == sum(n.attributes[node_key] for n in nodes)
        tts = call.turn_spans(turn, sc.SPAN_TTS_NODE)
        assert a[sc.TURN_TTS_CHARACTERS] == sum(n.attributes[sc.TTS_CHARACTERS] for n in tts)
        assert a[sc.TURN_TOOL_CALLS] == len(call.turn_spans(turn, sc.SPAN_FUNCTION_TOOL))
    script = call.result.scenario.turns
    assert [t.attributes[sc.TURN_LLM_CALLS] for t in reply_turns(call)] == [
        len(s.llm) for s in script
    ]


def test_a_sibling_follow_up_is_marked_and_counted_once(call: TracedCall) -> None:
    """livekit 1.3-1.7 answer a tool call in a sibling turn span: it names the turn it
    continues and carries no figures of its own; elsewhere there is no such span."""
    facts = _compat.release_facts()
    follow_ups = [
        (turn, g, i)
        for turn in call.turns()
        for i, g in enumerate(call.generations(turn)[1:], start=1)
    ]
    tool_rounds = sum(1 for t in call.result.scenario.turns for c in t.llm if c.tool_call)
    assert len(follow_ups) == (tool_rounds if facts.follow_up == "sibling_turn" else 0)
    session_id = call.session().attributes[sc.SESSION_ID]
    for turn, span, position in follow_ups:
        a = _attrs(span)
        assert a[sc.TURN_FOLLOW_UP_OF] == turn.attributes[sc.TURN_INDEX]
        assert a[sc.TURN_FOLLOW_UP_INDEX] == position
        assert a[sc.TURN_SESSION_ID] == session_id
        assert turn.attributes[sc.TURN_FOLLOW_UPS] == len(call.generations(turn)) - 1
        own = {k for k in a if k.startswith("lk_otel.turn.")}
        # its place and the agent speaking, never a total (counted once, on the turn)
        assert own - {sc.TURN_AGENT} == {sc.TURN_FOLLOW_UP_OF, sc.TURN_FOLLOW_UP_INDEX}
        assert a[sc.LK_SPEECH_ID] == turn.attributes[sc.LK_SPEECH_ID]
    marked = [t for t in call.named(*sc.TURN_SPAN_NAMES) if sc.TURN_FOLLOW_UP_OF in t.attributes]
    assert len(marked) == len(follow_ups)
    assert all(
        sc.TURN_FOLLOW_UPS not in t.attributes
        for t in call.turns()
        if t not in {f[0] for f in follow_ups}
    )


def test_session_totals_equal_livekit_usage(call: TracedCall) -> None:
    a = _attrs(call.session())
    usage = call.result.usage
    if NEWER:
        rows = {u.type: u for u in usage.model_usage}
        llm, tts, stt = rows["llm_usage"], rows["tts_usage"], rows["stt_usage"]
        expected = (
            llm.input_tokens,
            llm.output_tokens,
            llm.input_cached_tokens,
            tts.characters_count,
            tts.audio_duration,
            stt.audio_duration,
        )
    else:
        expected = (
            usage.llm_prompt_tokens,
            usage.llm_completion_tokens,
            usage.llm_prompt_cached_tokens,
            usage.tts_characters_count,
            usage.tts_audio_duration,
            usage.stt_audio_duration,
        )
    got = (
        a[sc.SESSION_INPUT_TOKENS],
        a[sc.SESSION_OUTPUT_TOKENS],
        a[sc.SESSION_CACHED_INPUT_TOKENS],
        a[sc.SESSION_TTS_CHARACTERS],
        a[sc.SESSION_TTS_AUDIO_DURATION],
        a[sc.SESSION_STT_AUDIO_DURATION],
    )
    assert got == pytest.approx(expected, rel=1e-9)
    per_model = {(r["type"], r["provider"], r["model"]) for r in json.loads(a[sc.SESSION_USAGE])}
    models = call.result.scenario.models
    assert ("llm_usage", models.llm.provider, models.llm.model) in per_model
    assert ("stt_usage", models.stt.provider, models.stt.model) in per_model
    assert a[sc.SESSION_TURNS] == len(call.turns())
    assert a[sc.SESSION_TOOL_CALLS] == sum(
        1 for t in call.result.scenario.turns for c in t.llm if c.tool_call
    )
    assert a[sc.SESSION_INTERRUPTIONS] == sum(
        1 for t in call.result.scenario.turns if t.interrupt_after is not None
    )
    e2e = [t.attributes[sc.TURN_E2E_LATENCY] for t in reply_turns(call)]
    assert a[sc.SESSION_E2E_MAX] == max(e2e)
    assert min(e2e) <= a[sc.SESSION_E2E_P50] <= a[sc.SESSION_E2E_P95] <= max(e2e)


def test_user_turns_carry_stt_audio_and_speech(call: TracedCall) -> None:
    users = [u for u in call.named(sc.SPAN_USER_TURN) if sc.USER_SPEECH_DURATION in u.attributes]
    for user, script in zip(users, call.result.injected.turns, strict=True):
        assert user.attributes[sc.USER_SPEECH_DURATION] == pytest.approx(
            script.user.speech_duration, abs=0.1
        )
        assert user.attributes[sc.USER_TRANSCRIPTION_DELAY] == pytest.approx(
            script.user.stt_delay, abs=TOL
        )
    stt_total = sum(
        u.attributes.get(sc.USER_STT_AUDIO_DURATION, 0.0) for u in call.named(sc.SPAN_USER_TURN)
    )
    assert stt_total == pytest.approx(call.session().attributes[sc.SESSION_STT_AUDIO_DURATION])


def test_no_usage_rollup_under_gen_ai_on_parents(call: TracedCall) -> None:
    for span in call.named(*sc.TURN_SPAN_NAMES, sc.SPAN_LLM_NODE, sc.SPAN_AGENT_SESSION):
        assert not [k for k in span.attributes if k.startswith("gen_ai.usage")], span.name


def test_critical_path_tiles_the_response_latency(call: TracedCall) -> None:
    """Every answering turn's critical stages, read back from the exported spans, tile
    ``response_latency`` (user stop -> first audio) end to end and add up to e2e."""
    tol = 5_000_000  # 5 ms
    tool_turns = 0
    for turn in reply_turns(call):
        a = _attrs(turn)
        (root,) = call.children(turn, sc.SPAN_RESPONSE_LATENCY)
        e2e = a[sc.TURN_E2E_LATENCY]
        assert (root.end_time - root.start_time) / 1e9 == pytest.approx(e2e, abs=1e-8)
        pid = root.context.span_id
        stages = sorted(
            (s for s in call.spans if s.parent is not None and s.parent.span_id == pid),
            key=lambda s: (s.start_time, s.end_time),
        )
        critical = [s for s in stages if s.attributes[sc.STAGE_CRITICAL]]
        assert critical, turn.name
        assert abs(critical[0].start_time - root.start_time) <= tol
        assert abs(critical[-1].end_time - root.end_time) <= tol
        for before, after in itertools.pairwise(critical):
            assert abs(after.start_time - before.end_time) <= tol, (before.name, after.name)
        seconds = [(s.end_time - s.start_time) / 1e9 for s in critical]
        assert sum(seconds) == pytest.approx(e2e, abs=0.02)
        for s in stages:
            assert s.attributes[sc.STAGE_DURATION] == pytest.approx(
                (s.end_time - s.start_time) / 1e9, abs=1e-9
            )
        assert all(
            sec <= 0.02
            for s, sec in zip(critical, seconds, strict=True)
            if s.attributes[sc.STAGE_NAME] == sc.STAGE_UNTRACKED
        )
        per_name: dict[str, float] = {}
        for s, sec in zip(critical, seconds, strict=True):
            name = s.attributes[sc.STAGE_NAME]
            per_name[name] = per_name.get(name, 0.0) + sec
        flat = {
            k.removeprefix(sc.TURN_STAGE_PREFIX): v
            for k, v in a.items()
            if k.startswith(sc.TURN_STAGE_PREFIX)
        }
        assert flat == pytest.approx(per_name, abs=1e-6)
        assert a[sc.TURN_SLOWEST_STAGE] == max(per_name, key=lambda k: per_name[k])
        heard_after = [  # tools that ran before the caller heard anything: on the path
            t.attributes.get(sc.GEN_AI_TOOL_NAME) or t.attributes.get(sc.LK_FUNCTION_TOOL_NAME)
            for t in call.turn_spans(turn, sc.SPAN_FUNCTION_TOOL)
            if t.start_time < root.end_time
        ]
        if heard_after:
            tool_turns += 1
            names = [s.attributes[sc.STAGE_NAME] for s in critical]
            assert names.count(sc.STAGE_LLM) >= 2
            assert a[sc.TURN_LLM_ROUNDS] >= 2
            tools = [s.attributes[sc.STAGE_TOOL] for s in critical if sc.STAGE_TOOL in s.attributes]
            assert tools == heard_after
    assert tool_turns >= 1


def test_backend_mappings(call: TracedCall) -> None:
    session = call.session()
    session_id = session.attributes[sc.SESSION_ID]
    roots = [s for s in call.spans if s.parent is None]
    assert roots and all(r.attributes[sc.LANGFUSE_SESSION_ID] == session_id for r in roots)
    assert all(r.attributes[sc.OI_SESSION_ID] == session_id for r in roots)
    assert all(t.attributes[sc.TURN_SESSION_ID] == session_id for t in call.turns())
    kinds = {s.name: s.attributes.get(sc.OPENINFERENCE_SPAN_KIND) for s in call.spans}
    assert kinds[sc.SPAN_LLM_REQUEST] == "LLM"
    assert kinds[sc.SPAN_FUNCTION_TOOL] == "TOOL"
    assert kinds[_compat.agent_turn_span_name()] == "AGENT"


async def test_pii_switch_keeps_content_out_of_every_attribute() -> None:
    call = await traced_call(speed=8.0, allow_pii=False, langfuse=True)
    scenario = call.result.scenario
    texts = [t.user.text for t in scenario.turns] + [scenario.instructions]
    texts += [c.text for t in scenario.turns for c in t.llm if c.text]
    texts += [
        json.dumps(c.tool_call.arguments) for t in scenario.turns for c in t.llm if c.tool_call
    ]
    dump = all_attribute_text(call.spans)
    leaked = [t for t in texts if t and t[:30] in dump]
    assert not leaked
    assert reply_turns(call), "the call was enriched"


async def test_prices_add_turn_and_session_cost() -> None:
    prices = {
        "openai/gpt-4o-mini": {
            "input_per_1m": 0.15,
            "cached_input_per_1m": 0.075,
            "output_per_1m": 0.6,
        },
        "sonic-2": {"characters_per_1k": 0.05},
        "deepgram/nova-3": {"stt_per_minute": 0.0043},
    }
    call = await traced_call(speed=8.0, prices=prices)
    for turn in call.turns():
        a = _attrs(turn)
        expected = (
            (a[sc.TURN_INPUT_TOKENS] - a[sc.TURN_CACHED_INPUT_TOKENS]) * 0.15
            + a[sc.TURN_CACHED_INPUT_TOKENS] * 0.075
            + a[sc.TURN_OUTPUT_TOKENS] * 0.6
        ) / 1e6 + a[sc.TURN_TTS_CHARACTERS] * 0.05e-3
        assert a[sc.TURN_COST] == pytest.approx(expected)
    s = _attrs(call.session())
    expected = (
        (
            (s[sc.SESSION_INPUT_TOKENS] - s[sc.SESSION_CACHED_INPUT_TOKENS]) * 0.15
            + s[sc.SESSION_CACHED_INPUT_TOKENS] * 0.075
            + s[sc.SESSION_OUTPUT_TOKENS] * 0.6
        )
        / 1e6
        + s[sc.SESSION_TTS_CHARACTERS] * 0.05e-3
        + s[sc.SESSION_STT_AUDIO_DURATION] / 60 * 0.0043
    )
    assert s[sc.SESSION_COST] == pytest.approx(expected)


async def test_failing_enrichment_exports_the_span_and_logs_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(gather, "llm_call", broken)
    with caplog.at_level(logging.WARNING, logger="lk_otel"):
        call = await traced_call(speed=8.0)
    nodes = call.named(sc.SPAN_LLM_NODE)
    assert nodes and all(sc.LLM_TTFT not in n.attributes for n in nodes)
    assert all(sc.TURN_INDEX in t.attributes for t in call.turns())  # the rest still enriched
    failures = [r for r in caplog.records if "enrichment" in r.getMessage()]
    assert len(failures) == 1, [r.getMessage() for r in failures]


async def test_concurrent_sessions_keep_their_own_numbers() -> None:
    """Two calls in one process under one pipeline: no attribute crosses sessions."""

    memory = InMemorySpanExporter()
    handle = lk_otel.setup_tracing(memory, schedule_delay=0.05)
    short = {
        "turns": [
            {
                "user": {"text": "hello there", "speech_duration": 1.0, "stt_delay": 0.2},
                "llm": [
                    {
                        "ttft": 0.3,
                        "duration": 0.6,
                        "text": "Hi!",
                        "input_tokens": 100,
                        "output_tokens": 5,
                        "cached_input_tokens": 0,
                    }
                ],
                "tts": {"ttfb": 0.2, "audio_duration": 1.0},
            }
        ]
    }
    try:
        results = await asyncio.gather(
            run_scenario(load_scenario(None), speed=6.0),
            run_scenario(load_scenario(short), speed=6.0),
        )
        handle.force_flush(10)
    finally:
        handle.shutdown(5)
    call = TracedCall(list(memory.get_finished_spans()), results[0])
    sessions = call.named(sc.SPAN_AGENT_SESSION)
    assert len(sessions) == 2
    by_trace = {s.context.trace_id: s for s in sessions}
    inputs = set()
    for session in sessions:
        turns = [
            t
            for t in call.descendants(session, *sc.TURN_SPAN_NAMES)
            if sc.TURN_INDEX in t.attributes
        ]
        assert turns
        assert {t.attributes[sc.TURN_SESSION_ID] for t in turns} == {
            session.attributes[sc.SESSION_ID]
        }
        assert {t.context.trace_id for t in turns} == {session.context.trace_id}
        assert session.attributes[sc.SESSION_INPUT_TOKENS] == sum(
            t.attributes[sc.TURN_INPUT_TOKENS] for t in turns
        )
        inputs.add(session.attributes[sc.SESSION_INPUT_TOKENS])
    assert len(by_trace) == 2 and inputs == {100, 8212}


@pytest.mark.parametrize("allow_pii", [True, False])
async def test_participant_identity_only_when_pii_is_allowed(
    monkeypatch: pytest.MonkeyPatch, allow_pii: bool
) -> None:
    # a simulated call has no room; stand in for the room's linked participant
    monkeypatch.setattr(_compat, "participant_identity", lambda session: "caller-42")
    call = await traced_call(speed=8.0, allow_pii=allow_pii)
    attrs = _attrs(call.session())
    expected = "caller-42" if allow_pii else None
    assert attrs.get(sc.LANGFUSE_USER_ID) == expected
    assert attrs.get(sc.OI_USER_ID) == expected
    assert ("caller-42" in all_attribute_text(call.spans)) == allow_pii
