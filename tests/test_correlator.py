"""The turn correlator on recorded span streams of real calls (livekit 1.8.9 and 1.2.18) and
on small hand-built streams; exact values, no SDK objects."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from lk_otel import semconv as sc
from lk_otel._compat import LivekitProfile
from lk_otel.enrich.correlator import TurnCorrelator
from lk_otel.enrich.records import (
    EouReported,
    EouTiming,
    LlmDone,
    MessageE2e,
    Output,
    Release,
    SpanEnded,
    SpanStarted,
    TtsDone,
    TurnDone,
    UsageUpdated,
    UserTurnDone,
)
from support.record_stream import Record, load

RECORDINGS = Path(__file__).parent / "support" / "recordings"
NEW = LivekitProfile("agent_turn", False, False, True, True)
OLD = LivekitProfile("assistant_turn", True, True, False, False)


def replay(profile: LivekitProfile, records: Iterable[Record], now: float = 0.0) -> list[Output]:
    c = TurnCorrelator(profile, new_session_id=lambda: "sess-1")
    out: list[Output] = []
    for r in records:
        if isinstance(r, SpanStarted):
            c.start(r)
        elif isinstance(r, SpanEnded):
            out += c.end(r, now)
        else:
            out += c.feed(r, now)
    out += c.release_all()
    assert c.tracked() == dict.fromkeys(c.tracked(), 0), "state left after the session"
    return out


class Recorded:
    """One recorded call replayed: outputs by span name, raw records by name."""

    def __init__(self, name: str) -> None:
        self.profile, self.records = load(RECORDINGS / name)
        self.outputs = replay(self.profile, self.records)
        self.names = {r.span_id: r.name for r in self.records if isinstance(r, SpanStarted)}
        self.ended = {r.span_id: r for r in self.records if isinstance(r, SpanEnded)}

    def released(self, *names: str) -> list[Release]:
        return [
            o for o in self.outputs if isinstance(o, Release) and self.names[o.span_id] in names
        ]

    def raw(self, *names: str) -> list[SpanEnded]:
        return [r for r in self.records if isinstance(r, SpanEnded) and r.name in names]

    def turns(self) -> list[Release]:
        return [t for t in self.released(self.profile.turn_span_name) if sc.TURN_INDEX in t.added]


@pytest.fixture(
    scope="module",
    params=[
        "default_call_lk1.8.9.jsonl",
        "default_call_lk1.2.18.jsonl",
        "default_call_lk1.3.12.jsonl",  # e2e in message metrics, sibling follow-ups
        "default_call_lk1.6.10.jsonl",  # e2e on the follow-up turn span, sibling follow-ups
    ],
)
def rec(request: pytest.FixtureRequest) -> Recorded:
    return Recorded(request.param)


def test_every_span_is_released_exactly_once(rec: Recorded) -> None:
    released = [o.span_id for o in rec.outputs if isinstance(o, Release)]
    assert sorted(released) == sorted(rec.ended)


def test_turn_kinds_and_counts(rec: Recorded) -> None:
    turns = rec.turns()
    got = [
        (t.added[sc.TURN_INDEX], t.added[sc.TURN_KIND], t.added[sc.TURN_LLM_CALLS]) for t in turns
    ]
    if rec.profile.turn_span_name == "agent_turn":  # 1.3+: the greeting has its own turn
        assert got == [
            (1, "greeting", 0),
            (2, "reply", 2),
            (3, "reply", 1),
            (4, "reply", 2),
            (5, "reply", 1),
        ]
    else:  # 1.2: say() makes no turn span; tool follow-ups are nested turns, folded in
        # (1.3-1.7: sibling turns, folded in too)
        assert got == [(1, "reply", 2), (2, "reply", 1), (3, "reply", 2), (4, "reply", 1)]
    assert [t.added[sc.TURN_TOOL_CALLS] for t in turns if t.added[sc.TURN_KIND] == "reply"] == [
        1,
        0,
        1,
        0,
    ]
    assert [t.added[sc.TURN_INTERRUPTED] for t in turns][-3:] == [True, False, False]
    assert {t.session_id for t in turns} == {"sess-1"}


def test_turn_latencies_are_livekits_own_values(rec: Recorded) -> None:
    eou = {r.timing.speech_id: r.timing for r in rec.records if isinstance(r, EouReported)}
    raw = {r.span_id: r.attributes for r in rec.raw(rec.profile.turn_span_name)}
    replies = [t for t in rec.turns() if t.added[sc.TURN_KIND] == "reply"]
    assert len(replies) == 4
    for t in replies:
        attrs = raw[t.span_id]
        timing = eou[attrs[sc.LK_SPEECH_ID]]
        assert t.added[sc.TURN_END_OF_TURN_DELAY] == timing.end_of_turn_delay
        assert t.added[sc.TURN_TRANSCRIPTION_DELAY] == timing.transcription_delay
        assert t.added[sc.TURN_ON_USER_TURN_COMPLETED_DELAY] == timing.on_user_turn_completed_delay
        if sc.LK_E2E_LATENCY in attrs:  # 1.8
            assert t.added[sc.TURN_E2E_LATENCY] == attrs[sc.LK_E2E_LATENCY]
        assert t.added[sc.TURN_LATENCY_SUM] == (
            t.added[sc.TURN_END_OF_TURN_DELAY]
            + t.added[sc.TURN_LLM_TTFT]
            + t.added[sc.TURN_TTS_TTFB]
        )
        names = [s[3][sc.STAGE_NAME] for s in t.stages]
        assert names[0] == sc.SPAN_RESPONSE_LATENCY
        assert {sc.STAGE_END_OF_TURN, sc.STAGE_TRANSCRIPTION, sc.STAGE_LLM, sc.STAGE_TTS} <= set(
            names
        )
        root = t.stages[0]
        assert root[2] - root[1] == int(t.added[sc.TURN_E2E_LATENCY] * 1e9)


def test_every_reply_has_livekits_e2e_from_the_generation_that_has_it(rec: Recorded) -> None:
    """1.3-1.7: e2e is on the follow-up's span (1.5+) or its assistant message (1.3, 1.4),
    a sibling follow-up names the turn it continues and carries no turn figures."""
    turn_name = rec.profile.turn_span_name
    raw = {r.span_id: r.attributes for r in rec.raw(turn_name)}
    messages = {r.turn_span_id: r.e2e_latency for r in rec.records if isinstance(r, MessageE2e)}
    follow_ups = [t for t in rec.released(turn_name) if sc.TURN_FOLLOW_UP_OF in t.added]
    replies = [t for t in rec.turns() if t.added[sc.TURN_KIND] == "reply"]
    assert len(follow_ups) == (2 if rec.profile.sibling_follow_up_turns else 0)
    by_index = {t.added[sc.TURN_INDEX]: t for t in rec.turns()}
    for f in follow_ups:
        root = by_index[f.added[sc.TURN_FOLLOW_UP_OF]]
        assert raw[f.span_id][sc.LK_PARENT_GENERATION_ID] == raw[root.span_id][sc.LK_GENERATION_ID]
        assert f.added[sc.TURN_FOLLOW_UP_INDEX] == 1 and root.added[sc.TURN_FOLLOW_UPS] == 1
        # a follow-up names its place and the agent speaking, never totals (no double count)
        assert not {k for k in f.added if k.startswith("lk_otel.turn.")} - {
            sc.TURN_AGENT,
            sc.TURN_FOLLOW_UP_OF,
            sc.TURN_FOLLOW_UP_INDEX,
        }
        assert f.stages == ()
    for t in replies:
        chain = [t.span_id] + [
            f.span_id for f in follow_ups if f.added[sc.TURN_FOLLOW_UP_OF] == t.added[sc.TURN_INDEX]
        ]
        livekit = [raw[s][sc.LK_E2E_LATENCY] for s in chain if sc.LK_E2E_LATENCY in raw[s]]
        livekit += [messages[s] for s in chain if s in messages]
        if livekit:  # 1.3-1.8 (1.2: first audio - EOUMetrics.last_speaking_time)
            assert t.added[sc.TURN_E2E_LATENCY] == livekit[0]
        assert t.added[sc.TURN_E2E_LATENCY] > 0


def test_llm_nodes_equal_their_requests(rec: Recorded) -> None:
    nodes = rec.released(sc.SPAN_LLM_NODE)
    metrics = [json.loads(r.attributes[sc.LK_LLM_METRICS]) for r in rec.raw(sc.SPAN_LLM_REQUEST)]
    assert sorted(n.added[sc.LLM_TTFT] for n in nodes) == sorted(m["ttft"] for m in metrics)
    assert sorted(n.added[sc.LLM_DURATION] for n in nodes) == sorted(m["duration"] for m in metrics)
    # the default scenario's injected counts
    assert sorted(n.added[sc.LLM_INPUT_TOKENS] for n in nodes) == [
        1180,
        1262,
        1340,
        1421,
        1489,
        1520,
    ]
    assert all(n.added[sc.LLM_CANCELLED] is False for n in nodes)
    assert all(n.added[sc.LLM_MODEL] == "gpt-4o-mini" for n in nodes)


def test_session_totals_are_exact_ints(rec: Recorded) -> None:
    (session,) = rec.released(sc.SPAN_AGENT_SESSION)
    a = session.added
    got = {
        k: a[k]
        for k in (
            sc.SESSION_INPUT_TOKENS,
            sc.SESSION_OUTPUT_TOKENS,
            sc.SESSION_CACHED_INPUT_TOKENS,
            sc.SESSION_TTS_CHARACTERS,
        )
    }
    assert got == {
        sc.SESSION_INPUT_TOKENS: 8212,
        sc.SESSION_OUTPUT_TOKENS: 151,
        sc.SESSION_CACHED_INPUT_TOKENS: 7552,
        sc.SESSION_TTS_CHARACTERS: 446,
    }
    assert all(type(v) is int for v in got.values())
    assert a[sc.SESSION_TOOL_CALLS] == 2 and a[sc.SESSION_INTERRUPTIONS] == 1
    assert a[sc.SESSION_TURNS] == len(rec.turns())
    e2e = sorted(
        t.added[sc.TURN_E2E_LATENCY] for t in rec.turns() if sc.TURN_E2E_LATENCY in t.added
    )
    assert a[sc.SESSION_E2E_MAX] == e2e[-1]
    assert a[sc.SESSION_E2E_P50] == (e2e[1] + e2e[2]) / 2  # four replies
    users = rec.released(sc.SPAN_USER_TURN)
    assert math.isclose(
        sum(u.added.get(sc.USER_STT_AUDIO_DURATION, 0.0) for u in users),
        a[sc.SESSION_STT_AUDIO_DURATION],
    )


def test_user_turns_carry_speech_from_their_segments(rec: Recorded) -> None:
    heard = [u.added for u in rec.released(sc.SPAN_USER_TURN) if sc.USER_SPEECH_DURATION in u.added]
    speaking = [(r.end_ns - r.start_ns) / 1e9 for r in rec.raw(sc.SPAN_USER_SPEAKING)]
    assert [u[sc.USER_SPEECH_DURATION] for u in heard] == speaking
    assert [u[sc.USER_SPEECH_SEGMENTS] for u in heard] == [1, 1, 1, 1]
    assert all(sc.USER_END_OF_TURN_DELAY in u for u in heard)  # 1.2: from the late EOU


def test_notices_for_metrics(rec: Recorded) -> None:
    kinds = [type(o).__name__ for o in rec.outputs if not isinstance(o, Release)]
    assert kinds.count("LlmDone") == 6
    assert kinds.count("TurnDone") == len(rec.turns())
    assert kinds.count("UserTurnDone") == len(rec.released(sc.SPAN_USER_TURN))
    assert kinds.count("TtsDone") == len(rec.raw(sc.SPAN_TTS_NODE))


# --- hand-built streams ---------------------------------------------------------------


class Stream:
    """Builds records for a small session, with made-up ids and times (ns)."""

    def __init__(self, turn: str = "agent_turn") -> None:
        self.turn = turn
        self.records: list[Record] = []
        self._next = 1

    def start(self, name: str, parent: int | None, t: int, **kw: Any) -> int:
        sid = self._next
        self._next += 1
        self.records.append(SpanStarted(sid, parent, name, t, is_root=parent is None, **kw))
        return sid

    def end(self, sid: int, name: str, start: int, end: int, **attrs: Any) -> None:
        self.records.append(SpanEnded(sid, name, start, end, attrs))

    def span(self, name: str, parent: int | None, start: int, end: int, **attrs: Any) -> int:
        sid = self.start(name, parent, start)
        self.end(sid, name, start, end, **attrs)
        return sid


def llm_metrics(**kw: Any) -> str:
    base = {"ttft": 0.3, "duration": 0.6, "prompt_tokens": 10, "completion_tokens": 2}
    return json.dumps({**base, **kw, "metadata": {"model_provider": "openai", "model_name": "m"}})


def released(outputs: Sequence[Output], sid: int) -> Release:
    (r,) = [o for o in outputs if isinstance(o, Release) and o.span_id == sid]
    return r


S = 1_000_000_000  # one second in ns


def test_cancelled_llm_request_falls_back_to_the_nodes_own_duration() -> None:
    s = Stream()
    session = s.start("agent_session", None, 0, feed_key=7)
    turn = s.start("agent_turn", session, 1 * S)
    node = s.start("llm_node", turn, 1 * S)
    s.span("llm_request", node, 1 * S, 2 * S)  # no lk.llm_metrics: cancelled
    s.end(node, "llm_node", 1 * S, int(1.25 * S))
    s.end(turn, "agent_turn", 1 * S, 3 * S)
    s.end(session, "agent_session", 0, 4 * S)
    out = replay(NEW, s.records)
    a = released(out, node).added
    assert a[sc.LLM_DURATION] == 0.25
    assert a[sc.LLM_CANCELLED] is True
    assert sc.LLM_TTFT not in a
    assert (a[sc.LLM_INPUT_TOKENS], a[sc.LLM_OUTPUT_TOKENS]) == (0, 0)


def test_cancelled_tts_request_falls_back_to_the_nodes_own_duration() -> None:
    s = Stream()
    session = s.start("agent_session", None, 0)
    turn = s.start("agent_turn", session, 1 * S)
    node = s.start("tts_node", turn, 1 * S)
    s.span("tts_request", node, 1 * S, 2 * S)
    s.end(node, "tts_node", 1 * S, int(1.5 * S))
    s.end(turn, "agent_turn", 1 * S, 3 * S)
    s.end(session, "agent_session", 0, 4 * S)
    a = released(replay(NEW, s.records), node).added
    assert (a[sc.TTS_DURATION], a[sc.TTS_CANCELLED], a[sc.TTS_CHARACTERS]) == (0.5, True, 0)


def test_reply_interrupted_before_audio_keeps_its_user_side_latencies() -> None:
    """livekit writes no latency on a reply cut before its first audio; its EOU still says
    which user turn it answers."""
    s = Stream()
    session = s.start("agent_session", None, 0, feed_key=3)
    user = s.start("user_turn", session, 1 * S)
    s.span("user_speaking", user, 1 * S, 2 * S)
    s.records.append(EouReported(3, EouTiming(0.5, 0.2, 0.01, "sp-1", None)))
    s.end(user, "user_turn", 1 * S, int(2.6 * S))
    turn = s.start("agent_turn", session, int(2.6 * S))
    node = s.start("llm_node", turn, int(2.6 * S))
    s.end(node, "llm_node", int(2.6 * S), 3 * S)
    s.end(
        turn, "agent_turn", int(2.6 * S), 3 * S, **{"lk.speech_id": "sp-1", "lk.interrupted": True}
    )
    s.end(session, "agent_session", 0, 4 * S)
    out = replay(NEW, s.records)
    a = released(out, turn).added
    assert a[sc.TURN_KIND] == "reply"
    assert (a[sc.TURN_END_OF_TURN_DELAY], a[sc.TURN_TRANSCRIPTION_DELAY]) == (0.5, 0.2)
    assert a[sc.TURN_ON_USER_TURN_COMPLETED_DELAY] == 0.01
    assert (a[sc.TURN_PRODUCED_AUDIO], a[sc.TURN_INTERRUPTED]) == (False, True)
    assert sc.TURN_E2E_LATENCY not in a and released(out, turn).stages == ()


def test_turn_kinds_greeting_then_say() -> None:
    s = Stream()
    session = s.start("agent_session", None, 0)
    greet = s.span("agent_turn", session, 1 * S, 2 * S)
    user = s.span("user_turn", session, 3 * S, 4 * S)  # no answer: a turn on its own
    said = s.span("agent_turn", session, 5 * S, 6 * S)
    s.end(session, "agent_session", 0, 7 * S)
    out = replay(NEW, s.records)
    assert released(out, greet).added[sc.TURN_KIND] == "greeting"
    assert released(out, said).added[sc.TURN_KIND] == "say"
    assert user


def test_merged_user_turn_gives_total_and_last_segment() -> None:
    s = Stream()
    session = s.start("agent_session", None, 0)
    user = s.start("user_turn", session, 1 * S)
    s.span("user_speaking", user, 1 * S, int(1.25 * S))  # a blip
    s.span("user_speaking", user, 2 * S, int(3.5 * S))  # the utterance
    s.end(user, "user_turn", 1 * S, 4 * S, **{"lk.end_of_turn_delay": 0.5})
    s.end(session, "agent_session", 0, 5 * S)
    a = released(replay(NEW, s.records), user).added
    assert a[sc.USER_SPEECH_DURATION] == 1.5
    assert a[sc.USER_SPEECH_TOTAL] == 1.75
    assert a[sc.USER_SPEECH_SEGMENTS] == 2
    assert a[sc.USER_END_OF_TURN_DELAY] == 0.5


def test_non_finite_values_are_skipped_and_counted() -> None:
    s = Stream()
    session = s.start("agent_session", None, 0, feed_key=1)
    turn = s.start("agent_turn", session, 1 * S)
    node = s.start("llm_node", turn, 1 * S)
    s.span(
        "llm_request",
        node,
        1 * S,
        2 * S,
        **{
            "lk.llm_metrics": llm_metrics(ttft=float("nan"), duration=float("inf")),
            "gen_ai.usage.input_tokens": float("nan"),
        },
    )
    s.end(node, "llm_node", 1 * S, 2 * S)
    s.end(turn, "agent_turn", 1 * S, 3 * S, **{"lk.e2e_latency": float("nan")})
    rows = (
        {
            "type": "tts_usage",
            "provider": "p",
            "model": "m",
            "characters_count": 5,
            "audio_duration": float("nan"),
        },
    )
    s.records.append(UsageUpdated(1, rows))
    s.end(session, "agent_session", 0, 4 * S)
    c = TurnCorrelator(NEW, new_session_id=lambda: "x")
    out: list[Output] = []
    for r in s.records:
        if isinstance(r, SpanStarted):
            c.start(r)
        elif isinstance(r, SpanEnded):
            out += c.end(r)
        else:
            out += c.feed(r)
    node_attrs = released(out, node).added
    assert sc.LLM_TTFT not in node_attrs
    assert node_attrs[sc.LLM_DURATION] == 1.0  # the node's own: the metric's was not finite
    assert node_attrs[sc.LLM_INPUT_TOKENS] == 10  # lk.llm_metrics' count, the other was NaN
    assert sc.TURN_E2E_LATENCY not in released(out, turn).added
    session_attrs = released(out, session).added
    assert session_attrs[sc.SESSION_TTS_AUDIO_DURATION] == 0.0
    assert session_attrs[sc.SESSION_TTS_CHARACTERS] == 5
    assert sc.SESSION_E2E_MAX not in session_attrs
    assert c.tally.nonfinite == 5  # ttft, duration, input tokens, e2e, audio duration
    for o in out:
        if isinstance(o, Release):
            assert not any(isinstance(v, float) and not math.isfinite(v) for v in o.added.values())


def test_integer_totals_stay_exact_above_two_to_the_53() -> None:
    big = 2**53 + 1
    s = Stream()
    session = s.start("agent_session", None, 0, feed_key=1)
    rows = (
        {
            "type": "llm_usage",
            "provider": "p",
            "model": "a",
            "input_tokens": big,
            "output_tokens": 1,
            "input_cached_tokens": 0,
        },
        {
            "type": "llm_usage",
            "provider": "p",
            "model": "b",
            "input_tokens": big,
            "output_tokens": 1,
            "input_cached_tokens": 0,
        },
    )
    s.records.append(UsageUpdated(1, rows))
    s.end(session, "agent_session", 0, S)
    a = released(replay(NEW, s.records), session).added
    assert a[sc.SESSION_INPUT_TOKENS] == 2 * big
    assert type(a[sc.SESSION_INPUT_TOKENS]) is int


def test_late_eou_is_written_on_the_held_user_turn_and_expiry_releases_it() -> None:
    s = Stream("assistant_turn")
    session = s.start("agent_session", None, 0, feed_key=2)
    first = s.span("user_turn", session, 1 * S, 2 * S)
    s.records.append(EouReported(2, EouTiming(0.4, 0.1, 0.0, "sp", 1.9)))
    second = s.span("user_turn", session, 3 * S, 4 * S)
    c = TurnCorrelator(OLD, hold_seconds=10.0)
    out: list[Output] = []
    for r in s.records:
        if isinstance(r, SpanStarted):
            c.start(r)
        elif isinstance(r, SpanEnded):
            out += c.end(r, now=100.0)
        else:
            out += c.feed(r, now=100.0)
    a = released(out, first).added
    assert (a[sc.USER_END_OF_TURN_DELAY], a[sc.USER_TRANSCRIPTION_DELAY]) == (0.4, 0.1)
    assert [o for o in out if isinstance(o, Release) and o.span_id == second] == []  # held
    assert c.expire(109.9) == []
    (late,) = c.expire(110.0)
    assert late.span_id == second and sc.USER_END_OF_TURN_DELAY not in late.added


def test_nested_follow_up_turn_is_folded_into_its_parent() -> None:
    """livekit 1.2: the tool follow-up is a nested turn that starts after its parent ended."""
    s = Stream("assistant_turn")
    session = s.start("agent_session", None, 0)
    turn = s.start("assistant_turn", session, 1 * S)
    n1 = s.start("llm_node", turn, 1 * S)
    s.span("llm_request", n1, 1 * S, 2 * S, **{"lk.llm_metrics": llm_metrics()})
    s.end(n1, "llm_node", 1 * S, 2 * S)
    s.span("function_tool", turn, 2 * S, 3 * S, **{"gen_ai.tool.name": "book"})
    s.end(turn, "assistant_turn", 1 * S, int(3.1 * S))
    nested = s.start("assistant_turn", turn, int(3.2 * S))
    n2 = s.start("llm_node", nested, int(3.2 * S))
    s.span(
        "llm_request", n2, int(3.2 * S), 4 * S, **{"lk.llm_metrics": llm_metrics(prompt_tokens=20)}
    )
    s.end(n2, "llm_node", int(3.2 * S), 4 * S)
    s.end(nested, "assistant_turn", int(3.2 * S), 5 * S)
    s.end(session, "agent_session", 0, 6 * S)
    out = replay(OLD, s.records)
    a = released(out, turn).added
    assert (a[sc.TURN_LLM_CALLS], a[sc.TURN_TOOL_CALLS], a[sc.TURN_INPUT_TOKENS]) == (2, 1, 30)
    assert sc.TURN_INDEX not in released(out, nested).added
    order = [o.span_id for o in out if isinstance(o, Release)]
    assert order.index(nested) < order.index(turn)  # the parent waits for its follow-up
    (done,) = [o for o in out if isinstance(o, TurnDone)]
    assert [c.input_tokens for c in done.summary.llm] == [10, 20]


def test_sessions_keep_their_route_and_reroute_moves_them() -> None:
    c = TurnCorrelator(NEW)
    c.start(SpanStarted(1, None, "agent_session", 0, is_root=True))
    c.set_route(1, None)
    c.start(SpanStarted(2, None, "agent_session", 0, is_root=True))
    assert (c.sessions_on(0), c.sessions_on(1)) == (1, 1)
    (r,) = c.end(SpanEnded(3, "stray", 0, 1, {}))  # outside any session: the current route
    assert r.route == 1
    assert c.reroute(0, 1) == 1 and c.sessions_on(0) == 0
    (s1,) = c.end(SpanEnded(1, "agent_session", 0, S, {}))
    assert (s1.route, s1.is_root) == (1, True)


def test_notice_kinds() -> None:
    s = Stream()
    session = s.start("agent_session", None, 0, feed_key=5)
    s.records.append(
        UsageUpdated(
            5, ({"type": "stt_usage", "provider": "d", "model": "n", "audio_duration": 1.5},)
        )
    )
    user = s.span("user_turn", session, 1 * S, 2 * S)
    turn = s.start("agent_turn", session, 2 * S)
    tts = s.start("tts_node", turn, 2 * S)
    s.span(
        "tts_request",
        tts,
        2 * S,
        3 * S,
        **{
            "lk.tts_metrics": json.dumps(
                {"ttfb": 0.2, "characters_count": 4, "audio_duration": 0.5}
            )
        },
    )
    s.end(tts, "tts_node", 2 * S, 3 * S)
    s.end(turn, "agent_turn", 2 * S, 4 * S)
    s.end(session, "agent_session", 0, 5 * S)
    out = replay(NEW, s.records)
    (u,) = [o for o in out if isinstance(o, UserTurnDone)]
    assert u.stt_audio == 1.5
    assert released(out, user).added[sc.USER_STT_AUDIO_DURATION] == 1.5
    (t,) = [o for o in out if isinstance(o, TtsDone)]
    assert (t.call.ttfb, t.call.characters, t.call.audio_duration) == (0.2, 4, 0.5)
    assert not [o for o in out if isinstance(o, LlmDone)]


SIBLING = LivekitProfile("agent_turn", False, False, True, False, sibling_follow_up_turns=True)


def _tool_turn(s: Stream, session: int, t: int, generation: str, **attrs: Any) -> int:
    turn = s.start("agent_turn", session, t * S)
    node = s.start("llm_node", turn, t * S)
    s.span("llm_request", node, t * S, t * S + S // 2, **{"lk.llm_metrics": llm_metrics()})
    s.end(node, "llm_node", t * S, t * S + S // 2)
    s.span("function_tool", turn, t * S + S // 2, t * S + S, **{"gen_ai.tool.name": "f"})
    s.end(turn, "agent_turn", t * S, t * S + S, **{"lk.generation_id": generation, **attrs})
    return turn


def test_a_tool_turn_whose_next_turn_is_no_follow_up_ends_on_its_own() -> None:
    """1.3-1.7: the next turn span after a tool turn is a follow-up only if its
    lk.parent_generation_id says so; otherwise both are turns of their own."""
    s = Stream()
    session = s.start("agent_session", None, 0)
    first = _tool_turn(s, session, 1, "sp_1_1", **{"lk.speech_id": "sp_1"})
    other = s.span(
        "agent_turn",
        session,
        3 * S,
        4 * S,
        **{"lk.generation_id": "sp_2_1", "lk.speech_id": "sp_2"},
    )
    s.end(session, "agent_session", 0, 5 * S)
    out = replay(SIBLING, s.records)
    a, b = released(out, first).added, released(out, other).added
    assert (a[sc.TURN_INDEX], a[sc.TURN_LLM_CALLS], a[sc.TURN_TOOL_CALLS]) == (1, 1, 1)
    assert (b[sc.TURN_INDEX], b[sc.TURN_LLM_CALLS], b[sc.TURN_TOOL_CALLS]) == (2, 0, 0)
    assert sc.TURN_FOLLOW_UPS not in a and sc.TURN_FOLLOW_UP_OF not in b
    assert released(out, session).added[sc.SESSION_TURNS] == 2


def test_a_chain_of_tool_rounds_is_one_turn_and_a_missing_follow_up_flushes_at_session_end() -> (
    None
):
    s = Stream()
    session = s.start("agent_session", None, 0)
    speech = {"lk.speech_id": "sp_1"}
    first = _tool_turn(s, session, 1, "sp_1_1", **speech)
    second = _tool_turn(s, session, 2, "sp_1_2", **speech, **{"lk.parent_generation_id": "sp_1_1"})
    third = _tool_turn(  # asks for a tool again; its answer never comes
        s, session, 3, "sp_1_3", **speech, **{"lk.parent_generation_id": "sp_1_2"}
    )
    s.end(session, "agent_session", 0, 5 * S)
    out = replay(SIBLING, s.records)
    a = released(out, first).added
    assert (a[sc.TURN_LLM_CALLS], a[sc.TURN_TOOL_CALLS], a[sc.TURN_FOLLOW_UPS]) == (3, 3, 2)
    assert a[sc.TURN_INPUT_TOKENS] == 30
    for sid, position in ((second, 1), (third, 2)):
        f = released(out, sid).added
        assert (f[sc.TURN_FOLLOW_UP_OF], f[sc.TURN_FOLLOW_UP_INDEX]) == (1, position)
    session_attrs = released(out, session).added
    assert (session_attrs[sc.SESSION_TURNS], session_attrs[sc.SESSION_TOOL_CALLS]) == (1, 3)
    assert [type(o).__name__ for o in out].count("TurnDone") == 1
