"""The correlator on the recorded span streams of four livekit releases: every release's
route, session, root flag and keys, the notices' agent, costs and content, each checked
against the raw records of the same stream (not against the correlator's own output)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from lk_otel import semconv as sc
from lk_otel._compat import LivekitProfile
from lk_otel.enrich.correlator import TurnCorrelator
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.extract import first_text
from lk_otel.enrich.records import (
    LlmDone,
    Output,
    Release,
    SpanEnded,
    SpanStarted,
    TtsDone,
    TurnDone,
    UserTurnDone,
)
from support.record_stream import load

RECORDINGS = Path(__file__).parent.parent / "support" / "recordings"
RELEASES = ["1.2.18", "1.3.12", "1.6.10", "1.8.9"]
PRICES = {
    "openai/gpt-4o-mini": {"input_per_1m": 0.15, "output_per_1m": 0.6, "cached_input_per_1m": 0.075}
}
ROUTE = 7
# spans the correlator reads but writes nothing on
PLAIN = {"function_tool", "agent_speaking", "user_speaking", "on_user_turn_completed"}


@functools.cache
def _load(release: str) -> tuple[LivekitProfile, list[Any]]:
    return load(RECORDINGS / f"default_call_lk{release}.jsonl")


class Replayed:
    def __init__(self, release: str) -> None:
        self.release = release
        self.profile: LivekitProfile
        self.profile, self.records = _load(release)
        self.correlator = TurnCorrelator(
            self.profile,
            route=ROUTE,
            prices=PriceTable.parse(PRICES),
            new_session_id=lambda: "sess-1",
        )
        self.outputs: list[Output] = []
        for r in self.records:
            if isinstance(r, SpanStarted):
                self.correlator.start(r)
            elif isinstance(r, SpanEnded):
                self.outputs += self.correlator.end(r)
            else:
                self.outputs += self.correlator.feed(r)
        self.outputs += self.correlator.release_all()
        self.started = {r.span_id: r for r in self.records if isinstance(r, SpanStarted)}
        self.ended = {r.span_id: r for r in self.records if isinstance(r, SpanEnded)}

    def name(self, o: Release) -> str:
        return self.started[o.span_id].name

    def releases(self, *names: str) -> list[Release]:
        return [o for o in self.outputs if isinstance(o, Release) and self.name(o) in names]

    def children(self, parent: int, name: str) -> list[int]:
        return [s for s, r in self.started.items() if r.parent_id == parent and r.name == name]


# per test, not per module: mutmut runs only the tests it saw calling the mutated function,
# and it would credit a module fixture's replay to the first test alone
@pytest.fixture(params=RELEASES)
def run(request: pytest.FixtureRequest) -> Replayed:
    return Replayed(request.param)


def test_every_release_names_its_route_session_and_root(run: Replayed) -> None:
    releases = [o for o in run.outputs if isinstance(o, Release)]
    assert sorted(o.span_id for o in releases) == sorted(run.ended)
    for o in releases:
        assert (o.route, o.session_id) == (ROUTE, "sess-1"), run.name(o)
        assert o.is_root is run.started[o.span_id].is_root
        assert isinstance(o.added, dict)
    assert [run.name(o) for o in releases if o.is_root] == ["agent_session"]
    for o in run.releases(*PLAIN):
        assert (o.added, o.stages, o.content, o.identity) == ({}, (), None, None)


def test_requests_carry_only_their_provider(run: Replayed) -> None:
    for o in run.releases("llm_request"):
        meta = json.loads(run.ended[o.span_id].attributes[sc.LK_LLM_METRICS])["metadata"]
        assert o.added == {sc.LLM_PROVIDER: meta["model_provider"]} == {sc.LLM_PROVIDER: "openai"}
    assert [o.added for o in run.releases("tts_request")] == [{}] * len(run.releases("tts_request"))


def test_a_node_reports_its_first_requests_figures(run: Replayed) -> None:
    for name, key, figure in (
        ("llm_node", sc.LLM_TTFT, "ttft"),
        ("tts_node", sc.TTS_TTFB, "ttfb"),
    ):
        request = name.replace("_node", "_request")
        metrics_key = sc.LK_LLM_METRICS if name == "llm_node" else sc.LK_TTS_METRICS
        for o in run.releases(name):
            reqs = sorted(
                (run.ended[r] for r in run.children(o.span_id, request)), key=lambda r: r.start_ns
            )
            if metrics_key in reqs[0].attributes:  # else cancelled: the node's own figure
                assert o.added[key] == json.loads(reqs[0].attributes[metrics_key])[figure]
    for o in run.releases("tts_node"):
        (req,) = [run.ended[r] for r in run.children(o.span_id, "tts_request")]
        m = json.loads(req.attributes.get(sc.LK_TTS_METRICS, "{}"))
        assert o.added[sc.TTS_CHARACTERS] == m.get("characters_count", 0)
        assert o.added[sc.TTS_AUDIO_DURATION] == m.get("audio_duration", 0.0)
        assert o.added[sc.TTS_CANCELLED] is (not m)


def test_notices_name_the_agent_known_when_they_were_made(run: Replayed) -> None:
    agent: str | None = None
    turn_name = run.profile.turn_span_name
    raw_turns = {s: r.attributes for s, r in run.ended.items() if r.name == turn_name}
    seen = 0
    for o in run.outputs:
        if isinstance(o, LlmDone | TtsDone | UserTurnDone):
            assert o.agent_name == agent
            seen += 1
        elif isinstance(o, TurnDone):
            raw = raw_turns[
                next(
                    r.span_id for r in run.outputs[run.outputs.index(o) :] if isinstance(r, Release)
                )
            ]
            agent = raw.get(sc.GEN_AI_AGENT_NAME) or raw.get(sc.LK_AGENT_LABEL) or agent
            assert o.summary.agent_name == agent
    assert seen > 10
    named = [a.get(sc.GEN_AI_AGENT_NAME) or a.get(sc.LK_AGENT_LABEL) for a in raw_turns.values()]
    # only 1.8 names the agent on its turn spans (lk.agent_label / gen_ai.agent.name)
    assert set(named) - {None} == ({"lk-otel-sim"} if run.release == "1.8.9" else set())
    assert agent == ("lk-otel-sim" if run.release == "1.8.9" else None)


def test_llm_done_carries_the_call_written_on_the_node(run: Replayed) -> None:
    calls = [o.call for o in run.outputs if isinstance(o, LlmDone)]
    nodes = run.releases("llm_node")
    assert [(c.ttft, c.input_tokens, c.model) for c in calls] == [
        (n.added[sc.LLM_TTFT], n.added[sc.LLM_INPUT_TOKENS], n.added[sc.LLM_MODEL]) for n in nodes
    ]
    tts_calls = [o.call for o in run.outputs if isinstance(o, TtsDone)]
    assert [c.characters for c in tts_calls] == [
        n.added[sc.TTS_CHARACTERS] for n in run.releases("tts_node")
    ]


def _cost(node: dict[str, Any]) -> float:
    p = PRICES["openai/gpt-4o-mini"]
    cached = node[sc.LLM_CACHED_INPUT_TOKENS]
    return (
        (node[sc.LLM_INPUT_TOKENS] - cached) * p["input_per_1m"]
        + cached * p["cached_input_per_1m"]
        + node[sc.LLM_OUTPUT_TOKENS] * p["output_per_1m"]
    ) / 1e6


def test_turn_and_session_costs_from_the_prices_they_started_with(run: Replayed) -> None:
    nodes = run.releases("llm_node")
    total = sum(_cost(n.added) for n in nodes)
    turns = [t for t in run.releases(run.profile.turn_span_name) if sc.TURN_INDEX in t.added]
    assert abs(sum(t.added[sc.TURN_COST] for t in turns) - total) < 1e-12
    (session,) = run.releases("agent_session")
    assert abs(session.added[sc.SESSION_COST] - total) < 1e-9  # livekit's usage rows: same counts
    assert total > 0


def test_session_content_is_the_first_user_text_and_the_last_agent_text(run: Replayed) -> None:
    (session,) = run.releases("agent_session")
    users = sorted(
        (r for r in run.ended.values() if r.name == "user_turn"), key=lambda r: r.start_ns
    )
    first = next(t for r in users if (t := first_text(r.attributes, sc.LK_USER_TRANSCRIPT_KEYS)))
    turns = sorted(
        (r for r in run.ended.values() if r.name == run.profile.turn_span_name),
        key=lambda r: r.start_ns,
    )
    last = [t for r in turns if (t := first_text(r.attributes, sc.LK_RESPONSE_TEXT_KEYS))][-1]
    assert session.content == {
        sc.SESSION_FIRST_USER_TEXT: first,
        sc.SESSION_LAST_AGENT_TEXT: last,
    }
    assert first.startswith("Hi, I'd like to book") and last.startswith("You're welcome")


def test_user_turns_name_the_stt_model_only_where_the_span_does_not(run: Replayed) -> None:
    for o in run.releases("user_turn"):
        raw = run.ended[o.span_id].attributes
        if sc.GEN_AI_REQUEST_MODEL in raw:
            assert sc.USER_STT_MODEL not in o.added
        else:
            assert (o.added[sc.USER_STT_PROVIDER], o.added[sc.USER_STT_MODEL]) == (
                "deepgram",
                "nova-3",
            )


def test_nothing_is_tracked_after_the_session(run: Replayed) -> None:
    assert run.correlator.tracked() == {
        "open_spans": 0,
        "sessions": 0,
        "turns": 0,
        "requests": 0,
        "user_turns": 0,
        "feeds": 0,
        "held": 0,
        "realtime_calls": 0,
        "realtime_turns": 0,
        "realtime_pending": 0,
        "realtime_speech": 0,
        "realtime_tools": 0,
    }
