"""The correlator on small hand-built streams: placement of late children, livekit 1.2's
spans outside their turn, held user turns, feeds, identity, routes. Exact values."""

from __future__ import annotations

import json
import re
from typing import Any

from lk_otel import semconv as sc
from lk_otel._compat import LivekitProfile
from lk_otel.enrich.correlator import RECENT_PARENTS, TurnCorrelator, _new_session_id
from lk_otel.enrich.records import (
    EouReported,
    EouTiming,
    FalseInterruption,
    FalseInterruptionReported,
    HandoffDone,
    IdentityKnown,
    InterruptedTurn,
    LlmDone,
    MessageE2e,
    Output,
    Release,
    ResponseDone,
    SpanEnded,
    SpanStarted,
    TtsDone,
    TurnDone,
    UsageUpdated,
    UserTurnDone,
)

S = 1_000_000_000
NEW = LivekitProfile("agent_turn", False, False, True, True)
OLD = LivekitProfile("assistant_turn", True, True, False, False)
SIBLING = LivekitProfile("agent_turn", False, False, True, False, sibling_follow_up_turns=True)


class Run:
    """Feeds records to one correlator as they are written; outputs collected in order."""

    def __init__(self, profile: LivekitProfile = NEW, **kw: Any) -> None:
        kw.setdefault("new_session_id", lambda: "sid")
        self.c = TurnCorrelator(profile, **kw)
        self.out: list[Output] = []
        self._next = 1

    def start(self, name: str, parent: int | None, t: int, **kw: Any) -> int:
        sid = self._next
        self._next += 1
        self.c.start(SpanStarted(sid, parent, name, t, is_root=parent is None, **kw))
        return sid

    def end(self, sid: int, name: str, start: int, end: int, now: float = 0.0, **attrs: Any):  # type: ignore[no-untyped-def]
        got = self.c.end(SpanEnded(sid, name, start, end, attrs), now)
        self.out += got
        return got

    def span(self, name: str, parent: int | None, start: int, end: int, **attrs: Any) -> int:
        sid = self.start(name, parent, start)
        self.end(sid, name, start, end, **attrs)
        return sid

    def feed(self, event: Any, now: float = 0.0) -> list[Output]:
        got = self.c.feed(event, now)
        self.out += got
        return got

    def released(self, sid: int) -> Release:
        (r,) = [o for o in self.out if isinstance(o, Release) and o.span_id == sid]
        return r

    def kinds(self) -> list[str]:
        return [type(o).__name__ for o in self.out]


def llm_metrics(**kw: Any) -> str:
    base = {"ttft": 0.3, "duration": 0.6, "prompt_tokens": 10, "completion_tokens": 2}
    return json.dumps({**base, **kw, "metadata": {"model_provider": "openai", "model_name": "m"}})


def test_new_session_ids_are_lk_and_twenty_hex_digits() -> None:
    assert re.fullmatch(r"lk-[0-9a-f]{20}", _new_session_id())
    c = TurnCorrelator(NEW)
    c.start(SpanStarted(1, None, "agent_session", 0, is_root=True))
    (r,) = c.end(SpanEnded(1, "agent_session", 0, S, {}))
    assert re.fullmatch(r"lk-[0-9a-f]{20}", r.session_id or "")


def test_the_jobs_session_id_names_the_session_and_root_spans_outside_it() -> None:
    r = Run()
    session = r.start("agent_session", None, 0, job_session_id="job-1")
    job = r.start("job_entrypoint", None, 0, job_session_id="job-1")
    r.end(job, "job_entrypoint", 0, S)
    r.end(session, "agent_session", 0, S)
    assert (r.released(job).session_id, r.released(job).is_root) == ("job-1", True)
    assert r.released(session).session_id == "job-1"
    assert r.released(session).added[sc.SESSION_ID] == "job-1"


def test_a_span_never_started_here_goes_out_untouched_on_the_current_route() -> None:
    c = TurnCorrelator(NEW, route=4)
    (r,) = c.end(SpanEnded(99, "x", 0, 1, {"a": 1}))
    assert (r.span_id, r.added, r.route, r.is_root, r.session_id) == (99, {}, 4, False, None)


def test_routes_count_and_move_every_matching_session() -> None:
    c = TurnCorrelator(NEW, route=1)
    for sid in (1, 2, 3):
        c.start(SpanStarted(sid, None, "agent_session", 0, is_root=True))
    assert (c.sessions_on(1), c.reroute(1, 2), c.sessions_on(2), c.sessions_on(1)) == (3, 3, 3, 0)


def test_a_child_started_after_its_parent_ended_joins_the_parents_turn() -> None:
    """livekit 1.2 starts a realtime greeting's turn after its parent (on_enter) ended; the
    last RECENT_PARENTS ended spans are kept for that."""
    r = Run()
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S)
    holder = r.span("on_enter", turn, S, S + 1)
    node = r.start("llm_node", holder, 2 * S)  # parent already ended
    req = r.start("llm_request", node, 2 * S)
    r.end(req, "llm_request", 2 * S, 3 * S, **{"lk.llm_metrics": llm_metrics()})
    r.end(node, "llm_node", 2 * S, 3 * S)
    r.end(turn, "agent_turn", S, 4 * S)
    assert r.released(turn).added[sc.TURN_LLM_CALLS] == 1
    assert r.released(holder).session_id == "sid"


def test_ended_parents_are_kept_up_to_the_bound_oldest_first() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S)
    ended = [r.span("on_enter", turn, S, S + 1) for _ in range(RECENT_PARENTS + 1)]
    late_old = r.start("llm_node", ended[0], 2 * S)  # evicted: no turn
    r.end(late_old, "llm_node", 2 * S, 3 * S)
    late_new = r.start("llm_node", ended[1], 2 * S)  # kept
    r.end(late_new, "llm_node", 2 * S, 3 * S)
    r.end(turn, "agent_turn", S, 4 * S)
    assert r.released(turn).added[sc.TURN_LLM_CALLS] == 1
    assert r.released(late_old).session_id is None  # not placed in the session
    assert r.released(late_new).session_id == "sid"


def test_tools_are_counted_and_named_from_either_attribute() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S)
    r.span("llm_node", turn, S, 2 * S)
    r.span("function_tool", turn, 2 * S, 3 * S, **{"gen_ai.tool.name": "book"})
    r.span("function_tool", turn, 3 * S, 4 * S, **{"lk.function_tool.name": "pay"})
    r.span("function_tool", turn, 4 * S, 5 * S)
    r.span("agent_speaking", turn, 6 * S, 7 * S)
    r.end(turn, "agent_turn", S, 8 * S, **{"lk.e2e_latency": 7.0})
    ((done,),) = [[o for o in r.out if isinstance(o, TurnDone)]]
    assert done.summary.tool_calls == 3
    stages = r.released(turn).stages
    tools = [s[3].get(sc.STAGE_TOOL) for s in stages if s[3][sc.STAGE_NAME] == sc.STAGE_TOOL_RUN]
    assert tools == ["book", "pay", ""]
    assert r.released(turn).added[sc.TURN_TOOL_CALLS] == 3


def test_livekit_12_speech_outside_the_turn_is_matched_by_time() -> None:
    """1.2: agent_speaking and user_speaking start outside their turn spans."""
    r = Run(OLD)
    session = r.start("agent_session", None, 0, feed_key=1)
    r.span("agent_speaking", session, 2 * S - 1, 3 * S)  # before the turn: not its audio
    r.span("user_speaking", session, S, int(1.5 * S))
    r.span("user_speaking", session, int(1.75 * S), 2 * S)
    user = r.span(
        "user_turn", session, S, 2 * S,
        **{"lk.end_of_utterance_delay": 0.25, "lk.transcription_delay": 0.125},
    )  # fmt: skip
    u = r.released(user).added
    assert (u[sc.USER_SPEECH_DURATION], u[sc.USER_SPEECH_TOTAL], u[sc.USER_SPEECH_SEGMENTS]) == (
        0.25,
        0.75,
        2,
    )
    assert u[sc.USER_END_OF_TURN_DELAY] == 0.25
    r.feed(EouReported(1, EouTiming(0.25, 0.125, 0.0, "sp-1", 1.5)))  # last speech at 1.5 s
    turn = r.start("assistant_turn", session, 2 * S)
    r.span("agent_speaking", session, 2 * S, 4 * S)  # starts with the turn: its audio
    r.end(turn, "assistant_turn", 2 * S, 5 * S, **{"lk.speech_id": "sp-1"})
    t = r.released(turn)
    assert t.added[sc.TURN_PRODUCED_AUDIO] is True
    assert t.added[sc.TURN_E2E_LATENCY] == 0.5  # first audio (2 s) - last speech (1.5 s)
    assert t.stages[0][1:3] == (int(1.5 * S), 2 * S)


def test_agent_speaking_inside_the_turn_keeps_the_first_start() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S)
    r.span("agent_speaking", turn, 2 * S, 3 * S)
    r.span("agent_speaking", turn, 4 * S, 5 * S)
    r.end(turn, "agent_turn", S, 6 * S, **{"lk.e2e_latency": 1.0, "lk.end_of_turn_delay": 0.5})
    root = r.released(turn).stages[0]
    assert (root[1], root[2]) == (S, 2 * S)


def test_user_turn_callback_and_speech_land_in_the_answering_turns_timeline() -> None:
    r = Run()
    session = r.start("agent_session", None, 0, feed_key=2)
    user = r.start("user_turn", session, S)
    r.span("user_speaking", user, S, 2 * S)
    r.span("on_user_turn_completed", user, int(2.2 * S), int(2.3 * S))
    r.end(user, "user_turn", S, int(2.5 * S), **{"lk.transcription_delay": 0.1})
    assert r.released(user).added[sc.USER_TRANSCRIPTION_DELAY] == 0.1
    turn = r.start("agent_turn", session, int(2.5 * S))
    r.span("agent_speaking", turn, int(2.75 * S), 3 * S)
    r.end(turn, "agent_turn", int(2.5 * S), 3 * S, **{"lk.end_of_turn_delay": 0.5})
    stages = {s[3][sc.STAGE_NAME]: (s[1], s[2]) for s in r.released(turn).stages}
    assert stages[sc.STAGE_END_OF_TURN] == (2 * S, int(2.5 * S))  # from the speech end
    assert stages[sc.STAGE_ON_USER_TURN_COMPLETED] == (int(2.2 * S), int(2.3 * S))


def test_user_turn_counts_text_and_stt_model() -> None:
    r = Run()
    session = r.start("agent_session", None, 0, feed_key=3)
    rows = (
        {"type": "stt_usage", "provider": "deepgram", "model": "nova", "audio_duration": 2.0},
        {"type": "stt_usage", "provider": "deepgram", "model": "nova", "audio_duration": 0.5},
        {"type": "llm_usage", "provider": "openai", "model": "m", "audio_duration": 9.0},
    )
    r.feed(UsageUpdated(3, rows))
    first = r.span("user_turn", session, S, 2 * S, **{"lk.user_transcript": "hello"})
    second = r.span(
        "user_turn",
        session,
        3 * S,
        4 * S,
        **{"lk.user_transcript": "again", "gen_ai.request.model": "x"},
    )
    a, b = r.released(first).added, r.released(second).added
    assert (a[sc.USER_STT_PROVIDER], a[sc.USER_STT_MODEL]) == ("deepgram", "nova")
    assert a[sc.USER_STT_AUDIO_DURATION] == 2.5 and b[sc.USER_STT_AUDIO_DURATION] == 0.0
    assert sc.USER_STT_MODEL not in b
    turn = r.span("agent_turn", session, 5 * S, 6 * S)
    assert r.released(turn).added[sc.TURN_KIND] == "say"  # two user turns before, none answered
    r.end(session, "agent_session", 0, 7 * S)
    assert r.released(session).content == {sc.SESSION_FIRST_USER_TEXT: "hello"}
    done = [o for o in r.out if isinstance(o, UserTurnDone)]
    assert [d.stt_audio for d in done] == [2.5, 0.0]


def test_stt_audio_that_is_not_finite_is_tallied() -> None:
    r = Run()
    r.start("agent_session", None, 0, feed_key=3)
    rows = ({"type": "stt_usage", "audio_duration": float("nan")},)
    r.feed(UsageUpdated(3, rows))
    assert r.c.tally.nonfinite == 1


def test_a_user_turn_outside_a_session_or_without_a_feed() -> None:
    r = Run()
    lone = r.span("user_turn", None, S, 2 * S, **{"lk.end_of_turn_delay": 0.5})
    assert r.released(lone).added == {sc.USER_END_OF_TURN_DELAY: 0.5}
    session = r.start("agent_session", None, 0)  # no feed key
    user = r.span("user_turn", session, S, 2 * S, **{"lk.transcription_delay": float("nan")})
    assert r.released(user).added == {}
    assert r.released(user).session_id == "sid"
    assert r.c.tally.nonfinite == 1
    assert not [o for o in r.out if isinstance(o, UserTurnDone)]


def _held_run(max_held: int = 256) -> tuple[Run, int]:
    r = Run(OLD, hold_seconds=5.0, max_held=max_held)
    session = r.start("agent_session", None, 0, feed_key=1)
    return r, session


def test_held_user_turns_overflow_oldest_first() -> None:
    r, session = _held_run(max_held=1)
    a = r.span("user_turn", session, S, 2 * S)
    assert [o for o in r.out if isinstance(o, Release)] == []  # held
    b = r.span("user_turn", session, 3 * S, 4 * S)
    assert [o.span_id for o in r.out if isinstance(o, Release)] == [a]
    assert r.c.tracked()["held"] == 1
    (late,) = r.c.release_all()
    assert late.span_id == b and late.added[sc.USER_STT_AUDIO_DURATION] == 0.0
    assert r.c.tracked()["held"] == 0


def test_held_user_turns_expire_on_a_later_end() -> None:
    r, session = _held_run()
    a = r.span("user_turn", session, S, 2 * S)  # held until now + 5
    other = r.start("x", session, 0)
    got = r.end(other, "x", 0, S, now=5.0)
    assert [o.span_id for o in got if isinstance(o, Release)] == [other, a]


def test_a_late_eou_completes_its_sessions_held_turn_and_is_tallied() -> None:
    r = Run(OLD)
    s1 = r.start("agent_session", None, 0, feed_key=1)
    s2 = r.start("agent_session", None, 0, feed_key=2)
    u1 = r.span("user_turn", s1, S, 2 * S)
    u2 = r.span("user_turn", s2, S, 2 * S)
    got = r.feed(EouReported(2, EouTiming(0.5, float("nan"), 0.0, None, None)))
    (rel,) = got
    assert rel.span_id == u2 and rel.added[sc.USER_END_OF_TURN_DELAY] == 0.5
    assert sc.USER_TRANSCRIPTION_DELAY not in rel.added and r.c.tally.nonfinite == 1
    assert r.feed(EouReported(3, EouTiming(0.5, 0.1, 0.0, None, None))) == []
    got = r.end(s2, "agent_session", 0, 3 * S)
    assert [o.span_id for o in got] == [s2]  # s1's held turn stays held
    got = r.end(s1, "agent_session", 0, 3 * S)
    assert [o.span_id for o in got] == [u1, s1]
    assert r.released(u1).added[sc.USER_STT_AUDIO_DURATION] == 0.0


def test_identity_and_message_e2e_from_the_feed() -> None:
    r = Run()
    session = r.start("agent_session", None, 0, feed_key=4)
    r.feed(IdentityKnown(4, "caller-7"))
    turn = r.start("agent_turn", session, S)
    r.feed(MessageE2e(4, turn, 0.875))
    r.end(turn, "agent_turn", S, 2 * S)
    assert r.released(turn).added[sc.TURN_E2E_LATENCY] == 0.875
    r.end(session, "agent_session", 0, 3 * S)
    s = r.released(session)
    assert (s.identity, s.content, s.route, s.is_root) == ("caller-7", None, 0, True)


def test_a_session_outside_the_correlator_and_prices_per_session() -> None:
    from lk_otel.enrich.cost import PriceTable

    prices = PriceTable.parse({"m": {"input_per_1m": 1e6}})
    r = Run(prices=prices)
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S)
    node = r.start("llm_node", turn, S)
    r.span("llm_request", node, S, 2 * S, **{"lk.llm_metrics": llm_metrics()})
    r.end(node, "llm_node", S, 2 * S)
    r.end(turn, "agent_turn", S, 3 * S)
    r.end(session, "agent_session", 0, 4 * S)
    assert r.released(turn).added[sc.TURN_COST] == 10.0
    assert r.released(session).added[sc.SESSION_COST] == 10.0


def test_nested_follow_up_release_order_and_open_nested_turns() -> None:
    """1.2: the parent turn waits while a nested follow-up is open; the nested span goes
    out first, then the summary, then the parent."""
    r = Run(OLD)
    session = r.start("agent_session", None, 0)
    turn = r.start("assistant_turn", session, S)
    r.span("function_tool", turn, S, 2 * S)
    nested = r.start("assistant_turn", turn, 2 * S)
    other = r.start("assistant_turn", session, 2 * S)  # another root: does not block
    r.end(turn, "assistant_turn", S, 3 * S)
    assert r.out[-1:] != [] and not [o for o in r.out if isinstance(o, TurnDone)]
    got = r.end(nested, "assistant_turn", 2 * S, 4 * S)
    assert [type(o).__name__ for o in got] == ["Release", "TurnDone", "Release"]
    assert [o.span_id for o in got if isinstance(o, Release)] == [nested, turn]
    assert r.released(nested).session_id == "sid"
    r.end(other, "assistant_turn", 2 * S, 5 * S)
    assert r.released(other).added[sc.TURN_INDEX] == 2


def test_a_turn_outside_any_session_is_released_bare() -> None:
    r = Run()
    turn = r.start("agent_turn", None, 0, job_session_id="j")
    got = r.end(turn, "agent_turn", 0, S)
    assert [(o.span_id, o.added, o.session_id) for o in got] == [(turn, {}, "j")]


def test_sibling_turn_without_tools_is_summarised_at_its_end() -> None:
    r = Run(SIBLING)
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S)
    got = r.end(turn, "agent_turn", S, 2 * S, **{"lk.generation_id": "g1"})
    assert [type(o).__name__ for o in got] == ["TurnDone", "Release"]


def test_sibling_follow_up_gets_the_session_and_its_chain() -> None:
    r = Run(SIBLING)
    session = r.start("agent_session", None, 0)
    first = r.start("agent_turn", session, S)
    r.span("function_tool", first, S, 2 * S)
    r.end(first, "agent_turn", S, 2 * S, **{"lk.generation_id": "g1", "lk.speech_id": "sp"})
    follow = r.start("agent_turn", session, 2 * S)
    got = r.end(
        follow, "agent_turn", 2 * S, 3 * S,
        **{"lk.generation_id": "g2", "lk.parent_generation_id": "g1", "lk.e2e_latency": 0.75},
    )  # fmt: skip
    assert [o.span_id for o in got if isinstance(o, Release)] == [follow, first]
    f = r.released(follow)
    assert (f.session_id, f.added[sc.TURN_SESSION_ID], f.added[sc.TURN_FOLLOW_UP_OF]) == (
        "sid",
        "sid",
        1,
    )
    assert r.released(first).added[sc.TURN_E2E_LATENCY] == 0.75
    assert r.released(first).added[sc.TURN_FOLLOW_UPS] == 1


def test_sibling_tool_turn_then_an_unrelated_turn_flushes_the_first() -> None:
    r = Run(SIBLING)
    session = r.start("agent_session", None, 0)
    first = r.start("agent_turn", session, S)
    tool = r.span("function_tool", first, S, 2 * S)
    r.end(first, "agent_turn", S, 2 * S, **{"lk.generation_id": "g1"})
    assert [o.span_id for o in r.out] == [tool]  # the turn waits for a follow-up
    other = r.start("agent_turn", session, 3 * S)
    got = r.end(other, "agent_turn", 3 * S, 4 * S, **{"lk.generation_id": "h1"})
    assert [(type(o).__name__, getattr(o, "span_id", None)) for o in got] == [
        ("TurnDone", None),
        ("Release", first),
        ("TurnDone", None),
        ("Release", other),
    ]
    assert r.released(other).added[sc.TURN_INDEX] == 2


class Everything:
    def __init__(self) -> None:
        self.heard: list[tuple[str, Any]] = []

    def on_response(self, response: Any, agent: Any) -> None:
        self.heard.append(("response", (response, agent)))

    def on_interrupted_turn(self, figures: Any, agent: Any) -> None:
        self.heard.append(("interrupted", (figures, agent)))

    def on_handoff(self, handoff: Any) -> None:
        self.heard.append(("handoff", handoff))

    def on_false_interruption(self, resumed: bool, agent: Any) -> None:
        self.heard.append(("false", (resumed, agent)))


def test_notices_reach_only_observers_with_the_method() -> None:
    notices = [
        ResponseDone("resp", "a"),  # type: ignore[arg-type]
        InterruptedTurn({"k": 1}, "b"),
        HandoffDone("h"),  # type: ignore[arg-type]
        FalseInterruption(True, "c"),
    ]
    o = Everything()
    for n in notices:
        n.deliver(o)
        n.deliver(object())  # no such method: skipped
    assert o.heard == [
        ("response", ("resp", "a")),
        ("interrupted", ({"k": 1}, "b")),
        ("handoff", "h"),
        ("false", (True, "c")),
    ]
    assert LlmDone and TtsDone  # the pipeline notices are plain values (see recorded tests)


def test_non_finite_node_and_request_figures_are_tallied_by_the_correlator() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S)
    r.span("llm_node", turn, S, 2 * S, **{"lk.response.ttft": float("nan")})
    node = r.start("tts_node", turn, 2 * S)
    bad = json.dumps({"ttfb": float("nan"), "characters_count": 3})
    r.span("tts_request", node, 2 * S, 3 * S, **{"lk.tts_metrics": bad})
    r.end(node, "tts_node", 2 * S, 3 * S, **{"lk.response.ttfb": float("nan")})
    assert r.c.tally.nonfinite == 3  # node ttft, request ttfb, node ttfb (its fallback)
    user = r.span("user_turn", session, 4 * S, 5 * S, **{"lk.end_of_turn_delay": float("nan")})
    assert r.c.tally.nonfinite == 4 and r.released(user).added == {}


def test_calls_keep_their_first_requests_start() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S)
    node = r.start("llm_node", turn, S)
    r.span("llm_request", node, S + 5, 2 * S, **{"lk.llm_metrics": llm_metrics()})
    r.end(node, "llm_node", S, 2 * S)
    tts = r.start("tts_node", turn, 2 * S)
    r.span("tts_request", tts, 2 * S + 7, 3 * S, **{"lk.tts_metrics": json.dumps({"ttfb": 0.1})})
    r.end(tts, "tts_node", 2 * S, 3 * S)
    r.end(turn, "agent_turn", S, 4 * S)
    (done,) = [o for o in r.out if isinstance(o, TurnDone)]
    assert done.summary.llm[0].request_start_ns == S + 5
    assert done.summary.tts[0].request_start_ns == 2 * S + 7
    notices = [
        (type(o).__name__, o.call.start_ns) for o in r.out if isinstance(o, LlmDone | TtsDone)
    ]
    assert notices == [("LlmDone", S), ("TtsDone", 2 * S)]


def test_a_turn_ending_after_its_session_goes_out_bare() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", session, S, job_session_id=None)
    r.end(session, "agent_session", 0, 2 * S)
    got = r.end(turn, "agent_turn", S, 3 * S)
    assert [(o.span_id, o.added, o.route, o.session_id) for o in got] == [(turn, {}, 0, None)]
    assert r.c.tracked()["turns"] == 0 and r.c.tracked()["open_spans"] == 0


def test_a_span_left_open_by_its_ended_session_leaves_no_state() -> None:
    """livekit 1.2 under load leaves a session's last user_turn open for good."""
    r = Run()
    session = r.start("agent_session", None, 0)
    r.start("user_turn", session, S)  # never ends
    r.end(session, "agent_session", 0, 2 * S)
    tracked = r.c.tracked()
    assert (tracked["open_spans"], tracked["user_turns"], tracked["sessions"]) == (0, 0, 0)


def test_a_user_turn_ending_after_its_session_keeps_its_own_delays() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    user = r.start("user_turn", session, S)
    r.end(session, "agent_session", 0, 2 * S)
    attrs = {"lk.end_of_turn_delay": 0.5, "lk.transcription_delay": 0.2}
    (release,) = r.end(user, "user_turn", S, 3 * S, **attrs)
    assert release.added[sc.USER_END_OF_TURN_DELAY] == 0.5
    assert r.c.tracked()["open_spans"] == 0


def test_only_the_latest_spans_left_open_are_kept() -> None:
    r = Run()
    sessions = [r.start("agent_session", None, 0) for _ in range(RECENT_PARENTS + 1)]
    users = [r.start("user_turn", s, S) for s in sessions]
    for s in sessions:
        r.end(s, "agent_session", 0, 2 * S)
    eot = {"lk.end_of_turn_delay": 0.5}
    (first,) = r.end(users[0], "user_turn", S, 3 * S, **eot)  # the oldest: forgotten
    (last,) = r.end(users[-1], "user_turn", S, 3 * S, **eot)
    assert first.added == {} and last.added[sc.USER_END_OF_TURN_DELAY] == 0.5


def test_the_profile_is_kept_and_a_realtime_turn_is_a_turn() -> None:
    """livekit 1.2's realtime_assistant_turn is the turn span of a realtime agent."""
    r = Run(OLD)
    assert r.c.profile is OLD
    session = r.start("agent_session", None, 0)
    turn = r.start("realtime_assistant_turn", session, S)
    r.span("agent_speaking", turn, 2 * S, 3 * S)
    r.end(turn, "realtime_assistant_turn", S, 4 * S)
    a = r.released(turn).added
    assert (a[sc.TURN_INDEX], a[sc.TURN_KIND], a[sc.TURN_PRODUCED_AUDIO]) == (1, "greeting", True)


def test_speech_outside_any_session_is_released_untouched() -> None:
    r = Run()
    lone = r.span("agent_speaking", None, S, 2 * S)
    assert r.released(lone).added == {}


def test_realtime_figures_see_the_session_turn_feed_and_prices() -> None:
    """The correlator hands the realtime tracker every span's session, turn, prices and
    feed: agent label, barge-in, false interruptions all land."""
    from lk_otel.enrich.cost import PriceTable

    prices = PriceTable.parse({"openai/rt": {"output_audio_per_1m": 1e6}})
    r = Run(prices=prices)
    session = r.start("agent_session", None, 0, feed_key=6)
    r.span("start_agent_activity", session, 0, S // 10, **{"lk.agent_label": "front"})
    turn = r.start("agent_turn", session, S)
    metrics = json.dumps(
        {
            "type": "realtime_model_metrics",
            "request_id": "r1",
            "ttft": 0.25,
            "duration": 1.0,
            "output_tokens": 2,
            "output_token_details": {"audio_tokens": 2},
            "metadata": {"model_name": "rt", "model_provider": "openai"},
        }
    )
    rt = r.span("realtime_inference", turn, S, 2 * S, **{"lk.realtime_model_metrics": metrics})
    assert r.released(rt).added[sc.REALTIME_COST] == 2.0
    r.span("agent_speaking", turn, 2 * S, 3 * S)
    r.start("user_speaking", session, int(2.5 * S))  # barges in, still open
    r.end(turn, "agent_turn", S, 3 * S, **{"lk.interrupted": True})
    a = r.released(turn).added
    assert a[sc.TURN_AGENT] == "front"
    # heard until the user cut in at 2.5 s; the audio stopped 0.5 s after that
    assert (a[sc.TURN_PLAYED_DURATION], a[sc.TURN_BARGE_IN_STOP_LATENCY]) == (0.5, 0.5)
    (fi,) = r.feed(FalseInterruptionReported(6, False))
    assert (fi.resumed, fi.agent_name) == (False, "front")
    r.end(session, "agent_session", 0, 4 * S)
    assert r.released(session).added[sc.SESSION_FALSE_INTERRUPTIONS] == 1


def test_an_llm_request_without_a_provider_adds_nothing() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    req = r.span("llm_request", session, 0, S)
    assert r.released(req).added == {}


def test_a_tts_node_without_requests_uses_its_own_figures() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    node = r.span("tts_node", session, 0, S // 4, **{"lk.response.ttfb": 0.125})
    a = r.released(node).added
    assert (a[sc.TTS_TTFB], a[sc.TTS_DURATION], a[sc.TTS_CANCELLED]) == (0.125, 0.25, True)


def test_a_root_waiting_for_a_follow_up_in_another_session_is_not_finished() -> None:
    r = Run(SIBLING)
    one = r.start("agent_session", None, 0)
    two = r.start("agent_session", None, 0)
    turn = r.start("agent_turn", one, S)
    r.span("function_tool", turn, S, 2 * S)
    r.end(turn, "agent_turn", S, 3 * S, **{"lk.generation_id": "g1"})
    r.end(two, "agent_session", 0, 4 * S)
    assert not [o for o in r.out if isinstance(o, TurnDone)]
    r.end(one, "agent_session", 0, 5 * S)
    assert [type(o).__name__ for o in r.out[-3:]] == ["TurnDone", "Release", "Release"]


def test_every_follow_up_that_never_came_is_flushed_at_session_end() -> None:
    r = Run(OLD)
    session = r.start("agent_session", None, 0)
    turns = []
    for t in (1, 3):
        turn = r.start("assistant_turn", session, t * S)
        r.span("function_tool", turn, t * S, t * S + S // 2)
        r.end(turn, "assistant_turn", t * S, (t + 1) * S)
        turns.append(turn)
    assert not [o for o in r.out if isinstance(o, TurnDone)]
    got = r.end(session, "agent_session", 0, 5 * S)
    assert [o.span_id for o in got if isinstance(o, Release)] == [*turns, session]
    assert [type(o).__name__ for o in got].count("TurnDone") == 2
    assert r.released(session).added[sc.SESSION_TURNS] == 2


def test_a_turn_without_a_tool_does_not_wait_for_a_follow_up() -> None:
    r = Run(OLD)
    session = r.start("agent_session", None, 0)
    turn = r.start("assistant_turn", session, S)
    r.span("llm_node", turn, S, 2 * S)
    got = r.end(turn, "assistant_turn", S, 3 * S)
    assert [type(o).__name__ for o in got] == ["TurnDone", "Release"]


def test_a_nested_turn_ending_inside_its_open_parent_goes_out_at_once() -> None:
    r = Run(OLD)
    session = r.start("agent_session", None, 0)
    turn = r.start("assistant_turn", session, S)
    nested = r.start("assistant_turn", turn, S)
    got = r.end(nested, "assistant_turn", S, 2 * S)
    assert [(o.span_id, o.added, o.session_id) for o in got] == [(nested, {}, "sid")]


def test_user_speech_inside_a_user_turn_stays_its_own() -> None:
    """1.2 speech outside a user turn is kept for the next one that has none."""
    r = Run(OLD)
    session = r.start("agent_session", None, 0)
    r.span("user_speaking", session, 0, S // 2)  # outside: kept aside
    user = r.start("user_turn", session, S)
    r.span("user_speaking", user, S, 2 * S)
    r.end(user, "user_turn", S, 3 * S, **{"lk.transcription_delay": 0.1})
    a = r.released(user).added
    assert (a[sc.USER_SPEECH_SEGMENTS], a[sc.USER_SPEECH_TOTAL]) == (1, 1.0)


def test_without_e2e_the_user_stop_is_the_end_of_speech_outside_the_user_turn() -> None:
    r = Run(OLD)
    session = r.start("agent_session", None, 0, feed_key=1)
    r.span("user_speaking", session, S, 2 * S)
    r.span("user_turn", session, S, int(2.5 * S), **{"lk.transcription_delay": 0.1})
    turn = r.start("assistant_turn", session, int(2.5 * S))
    r.span("agent_speaking", turn, 3 * S, 4 * S)
    r.end(turn, "assistant_turn", int(2.5 * S), 4 * S, **{"lk.end_of_turn_delay": 0.25})
    assert r.released(turn).stages[0][1:3] == (2 * S, 3 * S)


def test_overflowing_held_turns_go_out_whole_and_in_their_session() -> None:
    r, session = _held_run(max_held=1)
    a = r.span("user_turn", session, S, 2 * S, **{"lk.end_of_turn_delay": 0.5})
    r.span("user_turn", session, 3 * S, 4 * S)
    rel = r.released(a)
    assert rel.added[sc.USER_END_OF_TURN_DELAY] == 0.5 and rel.session_id == "sid"
    (late,) = r.c.release_all()
    assert late.session_id == "sid"


def test_end_without_now_expires_at_time_zero() -> None:
    r = Run(OLD, hold_seconds=1.0)
    session = r.start("agent_session", None, 0, feed_key=1)
    user = r.span("user_turn", session, S, 2 * S)  # held until now (0) + 1 s
    other = r.start("x", session, 0)
    got = r.c.end(SpanEnded(other, "x", 0, S, {}))
    assert [o.span_id for o in got] == [other]
    assert [o.span_id for o in r.c.expire(1.0)] == [user]


def test_events_before_the_session_span_are_kept_for_it() -> None:
    r = Run()
    r.feed(IdentityKnown(8, "early"))  # the feed exists before its agent_session starts
    rows = ({"type": "stt_usage", "provider": "d", "model": "n"},)  # no audio figure yet
    r.feed(UsageUpdated(8, rows))
    session = r.start("agent_session", None, 0, feed_key=8)
    user = r.span("user_turn", session, S, 2 * S, **{"lk.transcription_delay": 0.1})
    assert r.released(user).added[sc.USER_STT_AUDIO_DURATION] == 0.0
    r.end(session, "agent_session", 0, 3 * S)
    assert r.released(session).identity == "early"


def test_two_sessions_on_one_feed_end_one_after_the_other() -> None:
    r = Run()
    one = r.start("agent_session", None, 0, feed_key=5)
    two = r.start("agent_session", None, 0, feed_key=5)
    r.feed(IdentityKnown(5, "who"))
    r.end(one, "agent_session", 0, S)
    r.end(two, "agent_session", 0, 2 * S)
    assert (r.released(one).identity, r.released(two).identity) == ("who", None)


def test_message_e2e_of_sibling_generations_in_order() -> None:
    """1.3/1.4: livekit's e2e is on the assistant message of a generation; the chain's is
    that of its first generation that has one."""
    for root_e2e, follow_e2e, expected in ((0.5, 0.9, 0.5), (None, 0.9, 0.9)):
        r = Run(SIBLING)
        session = r.start("agent_session", None, 0, feed_key=2)
        first = r.start("agent_turn", session, S)
        r.span("function_tool", first, S, 2 * S)
        if root_e2e is not None:
            r.feed(MessageE2e(2, first, root_e2e))
        r.end(first, "agent_turn", S, 2 * S, **{"lk.generation_id": "g1"})
        follow = r.start("agent_turn", session, 2 * S)
        r.feed(MessageE2e(2, follow, follow_e2e))
        attrs = {"lk.generation_id": "g2", "lk.parent_generation_id": "g1"}
        r.end(follow, "agent_turn", 2 * S, 3 * S, **attrs)
        assert r.released(first).added[sc.TURN_E2E_LATENCY] == expected


def test_the_turns_agent_is_its_label_else_the_one_before() -> None:
    r = Run()
    session = r.start("agent_session", None, 0)
    first = r.span("agent_turn", session, S, 2 * S, **{"lk.agent_label": "front"})
    second = r.span("agent_turn", session, 3 * S, 4 * S)
    third = r.span("agent_turn", session, 5 * S, 6 * S, **{"gen_ai.agent.name": "back"})
    done = [o.summary.agent_name for o in r.out if isinstance(o, TurnDone)]
    assert done == ["front", "front", "back"]
    assert [r.released(t).added[sc.TURN_SESSION_ID] for t in (first, second, third)] == ["sid"] * 3


def test_a_tts_node_outside_any_session_names_no_agent() -> None:
    r = Run()
    r.span("tts_node", None, 0, S)
    (done,) = [o for o in r.out if isinstance(o, TtsDone)]
    assert done.agent_name is None
