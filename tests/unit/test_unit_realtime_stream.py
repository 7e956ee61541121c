"""The realtime tracker (``RealtimeTracker``) on hand-built records, exact values: which
agent a turn belongs to, the reply kind and e2e of server-side turn detection, barge-in
of 1.2's realtime turns, the user starts it keeps, handoffs, and the session merge with
livekit's usage rows."""

from __future__ import annotations

import json
from typing import Any

from lk_otel import semconv as sc
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.realtime import parse_realtime_metrics
from lk_otel.enrich.realtime_stream import RealtimeTracker
from lk_otel.enrich.records import (
    FalseInterruption,
    FalseInterruptionReported,
    HandoffDone,
    InterruptedTurn,
    Output,
    Release,
    ResponseDone,
    SpanEnded,
    UsageUpdated,
)

S = 1_000_000_000
SESSION, FEED = 1, 9
PRICES = PriceTable.parse(
    {
        "openai/rt": {
            "input_per_1m": 1.0,
            "cached_input_per_1m": 0.5,
            "output_per_1m": 2.0,
            "output_audio_per_1m": 10.0,
        },
        "cartesia/tts": {"characters_per_1k": 1.0},
    }
)


def metrics(request_id: str = "r1", audio_out: int = 100, text_in: int = 40) -> str:
    return json.dumps(
        {
            "type": "realtime_model_metrics",
            "request_id": request_id,
            "ttft": 0.25,
            "duration": 1.0,
            "input_tokens": text_in,
            "output_tokens": audio_out,
            "input_token_details": {"text_tokens": text_in},
            "output_token_details": {"audio_tokens": audio_out},
            "metadata": {"model_name": "rt", "model_provider": "openai"},
        }
    )


class Call:
    """One session on a tracker; span ids are handed out in order."""

    def __init__(self, prices: PriceTable | None = None, feed: int | None = FEED) -> None:
        self.t = RealtimeTracker()
        self.t.started(SESSION, sc.SPAN_AGENT_SESSION, 0, None, None, prices=prices, feed_key=feed)
        self._next = 100

    def start(self, name: str, at: float, *, turn: bool = False, session: int = SESSION) -> int:
        sid = self._next
        self._next += 1
        self.t.started(sid, name, round(at * S), session, sid if turn else None)
        return sid

    def end(  # type: ignore[no-untyped-def]
        self, sid, name, start, stop, turn=None, added=None, session=SESSION, **attrs
    ) -> list[Output]:
        rec = SpanEnded(sid, name, round(start * S), round(stop * S), attrs)
        return self.t.ended(rec, session, turn, [Release(sid, added or {}, 0)])

    def span(self, name: str, start: float, stop: float, turn=None, **attrs: Any) -> list[Output]:  # type: ignore[no-untyped-def]
        return self.end(self.start(name, start), name, start, stop, turn, **attrs)

    def user(self, start: float, stop: float) -> None:
        self.span(sc.SPAN_USER_SPEAKING, start, stop)

    def response(self, turn: int, start: float, stop: float) -> list[Output]:
        attrs = {sc.LK_REALTIME_MODEL_METRICS: metrics()}
        return self.span(sc.SPAN_REALTIME_INFERENCE, start, stop, turn, **attrs)

    def close(self, added: dict[str, Any] | None = None) -> list[Output]:
        rec = SpanEnded(SESSION, sc.SPAN_AGENT_SESSION, 0, 100 * S, {})
        return self.t.ended(rec, SESSION, None, [Release(SESSION, added or {}, 0)])


def turn_end(  # type: ignore[no-untyped-def]
    call: Call, turn: int, start: float, stop: float, added=None, name="agent_turn", **attrs
) -> tuple[dict[str, Any], list[Output]]:
    (release, *notices) = call.end(turn, name, start, stop, turn, added, **attrs)
    return dict(release.added), notices


def activity(call: Call, label: object, at: float) -> None:
    call.span(sc.SPAN_START_AGENT_ACTIVITY, at, at + 0.01, **{sc.LK_AGENT_LABEL: label})


# --- which agent ------------------------------------------------------------------------
def test_a_turn_belongs_to_the_agent_active_when_it_started() -> None:
    c = Call()
    activity(c, "front", 0.5)
    turn = c.start("agent_turn", 2.0, turn=True)
    activity(c, "back", 2.5)  # a handoff during the turn: the next turns are back's
    added, _ = turn_end(c, turn, 2.0, 3.0)
    assert added == {sc.TURN_AGENT: "front"}


def test_an_activity_starting_with_the_turn_is_the_turns_agent() -> None:
    c = Call()
    activity(c, "front", 0.5)
    activity(c, "back", 2.0)
    turn = c.start("agent_turn", 2.0, turn=True)
    added, _ = turn_end(c, turn, 2.0, 3.0)
    assert added == {sc.TURN_AGENT: "back"}


def test_an_activity_label_that_is_no_text_names_no_agent() -> None:
    c = Call()
    activity(c, 5, 0.5)
    turn = c.start("agent_turn", 2.0, turn=True)
    (notice,) = c.response(turn, 2.0, 3.0)[1:]
    assert notice == ResponseDone(parse_realtime_metrics(metrics()), None)
    added, _ = turn_end(c, turn, 2.0, 3.0)
    assert sc.TURN_AGENT not in added


# --- reply kind, e2e ----------------------------------------------------------------------
def test_a_response_turn_without_user_speech_keeps_its_kind_and_has_no_e2e() -> None:
    c = Call()  # no agent_speaking: no first audio
    turn = c.start("agent_turn", 1.0, turn=True)
    c.response(turn, 1.0, 2.0)
    added, notices = turn_end(c, turn, 1.0, 2.5, {sc.TURN_KIND: "greeting", sc.TURN_COST: 0.5})
    assert added[sc.TURN_KIND] == "greeting"
    assert added[sc.TURN_COST] == 0.5  # no prices: the pipeline's cost, nothing added
    assert sc.TURN_E2E_LATENCY not in added and notices == []


def test_a_user_end_at_the_previous_response_turns_start_belongs_to_that_turn() -> None:
    c = Call()
    c.user(1.0, 2.0)
    first = c.start("agent_turn", 2.0, turn=True)
    c.response(first, 2.0, 3.0)
    added, _ = turn_end(c, first, 2.0, 3.5)
    assert added[sc.TURN_KIND] == "reply"
    second = c.start("agent_turn", 4.0, turn=True)  # e.g. after a tool, nobody spoke
    c.response(second, 4.0, 5.0)
    added, _ = turn_end(c, second, 4.0, 5.5)
    assert sc.TURN_KIND not in added


def test_e2e_is_from_the_last_user_end_before_the_first_audio() -> None:
    c = Call()
    c.user(1.0, 2.0)
    turn = c.start("agent_turn", 2.0, turn=True)
    c.response(turn, 2.0, 3.0)
    c.span(sc.SPAN_AGENT_SPEAKING, 2.3, 3.2, turn)
    c.user(2.4, 2.5)  # ended after the audio began: answered by no audio of this turn
    added, _ = turn_end(c, turn, 2.0, 3.3)
    assert added[sc.TURN_E2E_LATENCY] == 2.3 - 2.0


def test_a_user_end_at_the_first_audio_gives_an_e2e_of_zero() -> None:
    c = Call()
    c.user(1.0, 2.0)
    c.user(2.1, 2.3)
    turn = c.start("agent_turn", 2.0, turn=True)
    c.response(turn, 2.0, 3.0)
    c.span(sc.SPAN_AGENT_SPEAKING, 2.3, 3.2, turn)
    added, _ = turn_end(c, turn, 2.0, 3.3)
    assert added[sc.TURN_E2E_LATENCY] == 0.0


def test_livekits_own_e2e_wins_over_the_span_times() -> None:
    c = Call()
    c.user(1.0, 2.0)
    turn = c.start("agent_turn", 2.0, turn=True)
    c.response(turn, 2.0, 3.0)
    c.span(sc.SPAN_AGENT_SPEAKING, 2.3, 3.2, turn)
    added, _ = turn_end(c, turn, 2.0, 3.3, **{sc.LK_E2E_LATENCY: 0.42})
    assert added[sc.TURN_E2E_LATENCY] == 0.42


# --- barge-in -----------------------------------------------------------------------------
def test_a_pipeline_turn_not_marked_interrupted_has_no_barge_in() -> None:
    c = Call()
    turn = c.start("agent_turn", 2.0, turn=True)
    c.start(sc.SPAN_USER_SPEAKING, 3.0)  # the user speaks over the audio
    c.span(sc.SPAN_AGENT_SPEAKING, 2.3, 3.2, turn)
    added, notices = turn_end(c, turn, 2.0, 3.3)
    assert added == {} and notices == []


def test_a_realtime_turn_cut_by_the_user_is_interrupted_without_livekits_flag() -> None:
    c = Call()
    activity(c, "front", 0.5)
    turn = c.start(sc.SPAN_REALTIME_ASSISTANT_TURN, 2.0, turn=True)
    c.start(sc.SPAN_USER_SPEAKING, 3.0)
    c.span(sc.SPAN_AGENT_SPEAKING, 2.3, 3.2, turn)
    added, notices = turn_end(c, turn, 2.0, 3.3, name=sc.SPAN_REALTIME_ASSISTANT_TURN)
    cut = {
        sc.TURN_BARGE_IN_STOP_LATENCY: 3.2 - 3.0,
        sc.TURN_PLAYED_DURATION: (3.2 - 2.3) - (3.2 - 3.0),
    }
    assert added == {sc.TURN_AGENT: "front", **cut}
    assert notices == [InterruptedTurn(cut, "front")]


def test_the_playout_position_is_what_played_of_an_interrupted_turn() -> None:
    c = Call()
    turn = c.start("agent_turn", 2.0, turn=True)
    c.start(sc.SPAN_USER_SPEAKING, 3.0)
    c.span(sc.SPAN_AGENT_SPEAKING, 2.3, 3.2, turn)
    attrs = {sc.LK_INTERRUPTED: True, sc.LK_PLAYOUT_POSITION: 0.5}
    added, _ = turn_end(c, turn, 2.0, 3.3, **attrs)
    assert added[sc.TURN_PLAYED_DURATION] == 0.5 - (3.2 - 3.0)


def test_an_open_turn_keeps_the_user_starts_it_can_still_be_cut_by() -> None:
    c = Call()
    c.user(0.5, 0.9)  # before every open turn: forgotten when a turn ends
    a = c.start("agent_turn", 1.0, turn=True)
    b = c.start("agent_turn", 2.0, turn=True)
    c.start(sc.SPAN_USER_SPEAKING, 2.0)  # at b's start (and its first audio)
    turn_end(c, a, 1.0, 2.5)
    c.span(sc.SPAN_AGENT_SPEAKING, 2.0, 3.0, b)
    added, _ = turn_end(c, b, 2.0, 3.1, **{sc.LK_INTERRUPTED: True})
    assert added == {sc.TURN_BARGE_IN_STOP_LATENCY: 1.0, sc.TURN_PLAYED_DURATION: 0.0}


def test_a_long_session_keeps_only_the_speech_an_open_turn_can_still_read() -> None:
    c = Call()
    for n in range(200):  # server-side turn detection: the user speaks, the model answers
        at = 10.0 * n
        c.user(at + 1.0, at + 2.0)
        turn = c.start("agent_turn", at + 2.0, turn=True)
        c.response(turn, at + 2.0, at + 3.0)
        c.span(sc.SPAN_AGENT_SPEAKING, at + 2.4, at + 3.2, turn)
        added, _ = turn_end(c, turn, at + 2.0, at + 3.3)
        assert added[sc.TURN_KIND] == "reply"
        assert added[sc.TURN_E2E_LATENCY] == (at + 2.4) - (at + 2.0)
    assert c.t.tracked()["realtime_speech"] <= 3
    nobody = c.start("agent_turn", 2004.0, turn=True)  # e.g. after a tool: nobody spoke
    c.response(nobody, 2004.0, 2005.0)
    c.span(sc.SPAN_AGENT_SPEAKING, 2004.4, 2005.2, nobody)
    added, _ = turn_end(c, nobody, 2004.0, 2005.3)
    assert sc.TURN_KIND not in added and sc.TURN_E2E_LATENCY not in added
    (session,) = c.close()
    assert session.added[sc.SESSION_OUTPUT_TOKENS] == 201 * 100
    assert session.added[sc.SESSION_INPUT_TOKENS] == 201 * 40


def test_an_answered_user_end_after_the_last_response_turns_start_still_marks_a_reply() -> None:
    c = Call()
    first = c.start("agent_turn", 1.0, turn=True)
    c.user(1.1, 1.3)  # after the turn's start, before its audio: answered by it
    c.response(first, 1.0, 2.0)
    c.span(sc.SPAN_AGENT_SPEAKING, 1.5, 2.2, first)
    added, _ = turn_end(c, first, 1.0, 2.3)
    assert added[sc.TURN_E2E_LATENCY] == 1.5 - 1.3
    assert c.t.tracked()["realtime_speech"] == 2  # the end 1.3, kept, and answered
    second = c.start("agent_turn", 4.0, turn=True)
    c.response(second, 4.0, 5.0)
    added, _ = turn_end(c, second, 4.0, 5.3)
    assert added[sc.TURN_KIND] == "reply"


def test_an_unanswered_user_end_is_kept_for_the_next_audio() -> None:
    c = Call()
    first = c.start("agent_turn", 1.0, turn=True)
    c.response(first, 1.0, 2.0)  # no audio: answers nobody
    c.user(2.5, 3.0)
    turn_end(c, first, 1.0, 2.1)
    turn_end(c, c.start("agent_turn", 3.1, turn=True), 3.1, 3.2)  # no response: no e2e
    assert c.t.tracked()["realtime_speech"] == 1  # the end 3.0, not answered yet
    second = c.start("agent_turn", 4.0, turn=True)
    c.response(second, 4.0, 5.0)
    c.span(sc.SPAN_AGENT_SPEAKING, 4.5, 5.2, second)
    added, _ = turn_end(c, second, 4.0, 5.3)
    assert added[sc.TURN_E2E_LATENCY] == 4.5 - 3.0


# --- handoffs -----------------------------------------------------------------------------
def test_a_tool_ending_at_the_update_agent_start_is_the_handoffs_tool() -> None:
    c = Call()
    c.span(sc.SPAN_FUNCTION_TOOL, 3.0, 3.6, **{"gen_ai.tool.name": "to_back"})
    (_, notice) = c.span(sc.SPAN_UPDATE_AGENT, 3.6, 3.7, **{sc.LK_AGENT_LABEL: "back"})
    assert isinstance(notice, HandoffDone) and notice.handoff.tool == "to_back"


def test_a_handoff_without_a_tool_before_it_names_none() -> None:
    c = Call()
    c.span(sc.SPAN_FUNCTION_TOOL, 4.0, 4.5, **{"gen_ai.tool.name": "later"})
    (_, notice) = c.span(sc.SPAN_UPDATE_AGENT, 3.6, 3.7, **{sc.LK_AGENT_LABEL: "back"})
    assert isinstance(notice, HandoffDone) and notice.handoff.tool is None


def test_a_tool_name_that_is_no_text_falls_back_to_livekit_1_2s_key() -> None:
    c = Call()
    attrs = {"gen_ai.tool.name": 7, "lk.function_tool.name": "to_back"}
    c.span(sc.SPAN_FUNCTION_TOOL, 3.0, 3.5, **attrs)
    (_, notice) = c.span(sc.SPAN_UPDATE_AGENT, 3.6, 3.7, **{sc.LK_AGENT_LABEL: "back"})
    assert isinstance(notice, HandoffDone) and notice.handoff.tool == "to_back"


def tool(c: Call, name: str, start: float, stop: float) -> None:
    c.span(sc.SPAN_FUNCTION_TOOL, start, stop, **{"gen_ai.tool.name": name})


def test_a_tool_ending_while_the_update_agent_span_is_open_is_not_its_tool() -> None:
    c = Call()
    tool(c, "lookup", 1.0, 2.0)
    tool(c, "to_back", 3.0, 3.6)  # ends as the update_agent span starts: still its tool
    update = c.start(sc.SPAN_UPDATE_AGENT, 3.6)
    for n in range(3):  # end inside the open span: kept beside the one before it
        tool(c, f"late{n}", 3.61, 3.62 + n / 100)
    assert c.t.tracked()["realtime_tools"] == 4
    (_, notice) = c.end(update, sc.SPAN_UPDATE_AGENT, 3.6, 3.7, **{sc.LK_AGENT_LABEL: "back"})
    assert isinstance(notice, HandoffDone) and notice.handoff.tool == "to_back"
    assert c.t.tracked()["realtime_tools"] == 1  # late2: a later handoff may still name it


def test_two_open_handoff_spans_each_keep_the_tool_they_may_name() -> None:
    c = Call()
    first = c.start(sc.SPAN_START_AGENT_ACTIVITY, 3.0)
    tool(c, "a", 3.1, 3.2)
    tool(c, "b", 3.3, 3.6)  # ends as the update_agent span starts
    update = c.start(sc.SPAN_UPDATE_AGENT, 3.6)
    c.end(first, sc.SPAN_START_AGENT_ACTIVITY, 3.0, 3.7, **{sc.LK_AGENT_LABEL: "front"})
    assert c.t.tracked()["realtime_tools"] == 1  # "a" is before every open span's tool
    (_, notice) = c.end(update, sc.SPAN_UPDATE_AGENT, 3.6, 3.8, **{sc.LK_AGENT_LABEL: "back"})
    assert isinstance(notice, HandoffDone) and notice.handoff.tool == "b"


def test_a_long_session_keeps_only_the_tool_a_handoff_could_still_name() -> None:
    """1.2 (no update_agent span): each handoff names the last tool before its activity,
    read as the activity ends; the tools before that are not kept for the session's end."""
    c = Call()
    activity(c, "front", 0.5)
    for n in range(300):
        tool(c, f"t{n}", 1.0 + n, 1.5 + n)
        assert c.t.tracked()["realtime_tools"] == 1
    activity(c, "back", 400.0)
    tool(c, "after", 401.0, 401.5)
    activity(c, "front", 402.0)
    (session, *notices) = c.close()
    assert [(h.handoff.from_agent, h.handoff.to_agent, h.handoff.tool) for h in notices] == [
        ("front", "back", "t299"),
        ("back", "front", "after"),
    ]
    assert session.added[sc.SESSION_HANDOFFS] == 2


def test_with_update_agent_spans_the_activities_add_no_handoff_at_the_end() -> None:
    c = Call()
    activity(c, "front", 0.5)
    c.span(sc.SPAN_UPDATE_AGENT, 3.6, 3.7, **{sc.LK_AGENT_LABEL: "back"})
    activity(c, "back", 3.65)
    (session,) = c.close()
    assert session.added == {
        sc.SESSION_HANDOFFS: 1,
        sc.SESSION_AGENTS: ("front", "back"),
        sc.SESSION_FALSE_INTERRUPTIONS: 0,
        sc.SESSION_RESUMED_INTERRUPTIONS: 0,
    }
    assert session.events == ((sc.EVENT_HANDOFF, round(3.6 * S), {sc.HANDOFF_TO: "back"}),)


def test_the_session_agents_are_the_first_agent_and_the_handoff_targets() -> None:
    c = Call(feed=None)
    activity(c, "front", 0.5)
    c.span(sc.SPAN_UPDATE_AGENT, 3.6, 3.7)  # no target label: no handoff
    activity(c, "back", 3.65)
    (session,) = c.close()
    assert session.added == {sc.SESSION_HANDOFFS: 0, sc.SESSION_AGENTS: ("front",)}


# --- per-agent usage ----------------------------------------------------------------------
def test_the_session_sums_each_agents_turns() -> None:
    c = Call(PRICES)
    activity(c, "front", 0.5)
    one = c.start("agent_turn", 1.0, turn=True)
    c.response(one, 1.0, 2.0)
    turn_end(c, one, 1.0, 2.5, {sc.TURN_TTS_CHARACTERS: 10})
    activity(c, "back", 3.0)
    two = c.start("agent_turn", 3.5, turn=True)
    turn_end(c, two, 3.5, 4.0, {sc.TURN_INPUT_TOKENS: 7, sc.TURN_COST: 0.25})
    (session, _handoff) = c.close()
    cost = (100 * 10.0 + 40 * 1.0) / 1e6
    assert json.loads(session.added[sc.SESSION_AGENT_USAGE]) == [
        {
            "agent": "front",
            "turns": 1,
            "input_tokens": 40,
            "output_tokens": 100,
            "cached_input_tokens": 0,
            "input_audio_tokens": 0,
            "input_text_tokens": 40,
            "output_audio_tokens": 100,
            "output_text_tokens": 0,
            "tts_characters": 10,
            "cost": cost,
        },
        {"agent": "back", "turns": 1, "input_tokens": 7, "cost": 0.25},
    ]


# --- the session's end ------------------------------------------------------------------
def test_an_ended_sessions_feed_reaches_no_later_session() -> None:
    c = Call()
    c.close()
    c.t.started(SESSION, sc.SPAN_AGENT_SESSION, 200 * S, None, None)  # same id, no feed
    assert c.t.feed(FalseInterruptionReported(FEED, True)) == []
    (session,) = c.close()
    assert session.added == {sc.SESSION_HANDOFFS: 0}


def test_an_ended_session_drops_only_its_own_open_turns() -> None:
    c = Call()
    c.t.started(2, sc.SPAN_AGENT_SESSION, 0, None, None, feed_key=8)
    activity(c, "front", 0.5)
    c.end(
        c.start(sc.SPAN_START_AGENT_ACTIVITY, 0.5),
        sc.SPAN_START_AGENT_ACTIVITY,
        0.5,
        0.6,
        session=2,
        **{sc.LK_AGENT_LABEL: "other"},
    )
    c.start("agent_turn", 1.0, turn=True)  # never ends
    kept = c.start("agent_turn", 1.0, turn=True, session=2)
    c.close()
    assert c.t.tracked() == {
        "realtime_calls": 1,
        "realtime_turns": 1,
        "realtime_pending": 0,
        "realtime_speech": 0,
        "realtime_tools": 0,
    }
    added, _ = turn_end(c, kept, 1.0, 2.0, session=2)
    assert added == {sc.TURN_AGENT: "other"}
    assert c.t.feed(FalseInterruptionReported(8, False)) == [FalseInterruption(False, "other")]


# --- the session merge with livekit's usage rows ----------------------------------------
def row(provider: str, model: str, inp: int, out: int, cached: int) -> dict[str, Any]:
    return {
        "type": "llm_usage",
        "provider": provider,
        "model": model,
        "input_tokens": inp,
        "output_tokens": out,
        "input_cached_tokens": cached,
    }


def answered(prices: PriceTable | None = PRICES) -> Call:
    c = Call(prices)
    turn = c.start("agent_turn", 1.0, turn=True)
    c.response(turn, 1.0, 2.0)
    turn_end(c, turn, 1.0, 2.5)
    return c


RT_COST = (100 * 10.0 + 40 * 1.0) / 1e6


def test_only_the_realtime_models_rows_are_replaced() -> None:
    c = answered()
    rows = (
        row("openai", "rt", 40, 100, 0),
        row("azure", "rt", 5, 6, 2),  # same model name, another provider
        row("openai", "mini", 3, 4, 1),  # same provider, another model
        {"type": "tts_usage", "provider": "openai", "model": "rt", "input_tokens": 9},
    )
    c.t.feed(UsageUpdated(FEED, rows))
    pipeline = {
        sc.SESSION_INPUT_TOKENS: 40 + 5 + 3,
        sc.SESSION_OUTPUT_TOKENS: 100 + 6 + 4,
        sc.SESSION_CACHED_INPUT_TOKENS: 2 + 1,
        sc.SESSION_COST: PRICES.llm("openai", "rt", 40, 100, 0) + 0.125,
    }
    (session,) = c.close(pipeline)
    s = session.added
    assert s[sc.SESSION_INPUT_TOKENS] == 5 + 3 + 40
    assert s[sc.SESSION_OUTPUT_TOKENS] == 6 + 4 + 100
    assert s[sc.SESSION_CACHED_INPUT_TOKENS] == 3
    assert abs(s[sc.SESSION_COST] - (0.125 + RT_COST)) < 1e-15


def test_a_rows_cached_tokens_are_priced_as_cached() -> None:
    c = answered()
    c.t.feed(UsageUpdated(FEED, (row("openai", "rt", 40, 100, 30),)))
    pipeline_cost = (10 * 1.0 + 30 * 0.5 + 100 * 2.0) / 1e6 + 0.125
    (session,) = c.close({sc.SESSION_COST: pipeline_cost})
    assert abs(session.added[sc.SESSION_COST] - (0.125 + RT_COST)) < 1e-15


def test_a_row_missing_a_count_counts_none_of_it() -> None:
    c = answered()
    sparse = {"type": "llm_usage", "provider": "openai", "model": "rt", "input_tokens": 40}
    c.t.feed(UsageUpdated(FEED, (sparse,)))
    pipeline_cost = 40 * 1.0 / 1e6 + 0.125
    (session,) = c.close({sc.SESSION_OUTPUT_TOKENS: 3, sc.SESSION_COST: pipeline_cost})
    s = session.added
    assert s[sc.SESSION_OUTPUT_TOKENS] == 3 + 100  # the row counted none of the 100
    assert s[sc.SESSION_INPUT_TOKENS] == 40  # no pipeline figure: the responses' alone
    assert abs(s[sc.SESSION_COST] - (0.125 + RT_COST)) < 1e-15


def test_without_pipeline_totals_the_session_has_the_responses_figures() -> None:
    (session,) = answered().close()
    s = session.added
    assert (s[sc.SESSION_INPUT_TOKENS], s[sc.SESSION_OUTPUT_TOKENS]) == (40, 100)
    assert s[sc.SESSION_CACHED_INPUT_TOKENS] == 0
    assert s[sc.SESSION_COST] == RT_COST


def test_a_realtime_model_without_a_price_leaves_the_pipelines_cost() -> None:
    tts_only = PriceTable.parse({"cartesia/tts": {"characters_per_1k": 1.0}})
    (session,) = answered(tts_only).close({sc.SESSION_COST: 0.01})
    assert session.added[sc.SESSION_COST] == 0.01


def test_a_response_outside_any_turn_counts_in_no_turn() -> None:
    t = RealtimeTracker()
    t.started(2, sc.SPAN_AGENT_SESSION, 0, None, None)
    t.started(1, "agent_turn", S, 2, 1)  # a turn whose span id is 1
    attrs = {sc.LK_REALTIME_MODEL_METRICS: metrics()}
    rec = SpanEnded(5, sc.SPAN_REALTIME_INFERENCE, S, 2 * S, attrs)
    t.ended(rec, 2, None, [Release(5, {}, 0)])  # placed in the session, in no turn
    (release,) = t.ended(SpanEnded(1, "agent_turn", S, 3 * S, {}), 2, 1, [Release(1, {}, 0)])
    assert release.added == {}
