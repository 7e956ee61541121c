"""Where what a span's end (or a session event) tells goes: the route of its session, kept
across a reconfiguration, or the current route outside any session. Exact values."""

from __future__ import annotations

from lk_otel._compat import LivekitProfile
from lk_otel.enrich.correlator import TurnCorrelator
from lk_otel.enrich.records import SpanEnded, SpanStarted

NEW = LivekitProfile("agent_turn", False, False, True, True)


def start(c: TurnCorrelator, sid: int, parent: int | None, name: str, **kw: object) -> None:
    c.start(SpanStarted(sid, parent, name, 0, is_root=parent is None, **kw))  # type: ignore[arg-type]


def test_an_open_span_is_on_its_sessions_route_after_a_reconfiguration() -> None:
    c = TurnCorrelator(NEW, route=3)
    start(c, 1, None, "agent_session")
    start(c, 2, 1, "agent_turn")
    start(c, 3, 2, "llm_node")
    c.set_route(4, None)
    start(c, 10, None, "agent_session")
    start(c, 11, 10, "agent_turn")
    start(c, 20, None, "job_entrypoint")  # a root outside any session
    assert [c.route_of(s) for s in (1, 2, 3, 10, 11, 20, 99)] == [3, 3, 3, 4, 4, 4, 4]
    c.end(SpanEnded(3, "llm_node", 0, 1, {}))
    assert c.route_of(3) == 4  # no longer open: the current route


def test_a_feed_is_on_its_sessions_route() -> None:
    c = TurnCorrelator(NEW, route=3)
    start(c, 1, None, "agent_session", feed_key=5)
    c.set_route(4, None)
    start(c, 10, None, "agent_session", feed_key=6)
    start(c, 12, None, "agent_session")  # no feed
    c.set_route(7, None)
    assert [c.route_of_feed(k) for k in (6, 5, 8)] == [4, 3, 7]
    c.end(SpanEnded(1, "agent_session", 0, 1, {}))
    assert c.route_of_feed(5) == 7
