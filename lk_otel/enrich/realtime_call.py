"""Issue-13 figures of a whole finished call, from its plain span records.

The reference composition of :mod:`.realtime`, :mod:`.handoff` and :mod:`.barge_in`: which
span's keys and timestamps feed which function. The streaming correlator makes the same
calls as spans end; this batch form serves tests and offline reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import semconv as sc
from . import barge_in, handoff, realtime
from .cost import PriceTable

_ACTIVITY_SPANS = frozenset({sc.SPAN_START_AGENT_ACTIVITY, sc.SPAN_UPDATE_AGENT})
_TURN_NAMES = sc.TURN_SPAN_NAMES | sc.REALTIME_TURN_SPAN_NAMES


@dataclass(frozen=True)
class PlainSpan:
    """A finished span: ids as any hashable, times in seconds."""

    name: str
    span_id: Any
    parent_id: Any
    start: float
    end: float
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class CallFigures:
    """The ``lk_otel.*`` keys to add, per span id, and the handoff events of the session."""

    attributes: dict[Any, dict[str, Any]]
    handoffs: list[handoff.Handoff]


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def call_figures(
    spans: Iterable[PlainSpan],
    *,
    prices: PriceTable | None = None,
    false_interruptions: Sequence[bool] | None = None,
) -> CallFigures:
    """Per-turn, per-response and session figures of one session's spans.

    ``false_interruptions``: the ``resumed`` flag of each ``agent_false_interruption``
    session event (on no span); None when the events were not watched.
    """
    spans = sorted(spans, key=lambda s: s.start)
    by_parent: dict[Any, list[PlainSpan]] = {}
    for s in spans:
        by_parent.setdefault(s.parent_id, []).append(s)

    def descendants(root: PlainSpan) -> list[PlainSpan]:
        out, stack = [], list(by_parent.get(root.span_id, []))
        while stack:
            s = stack.pop()
            out.append(s)
            stack.extend(by_parent.get(s.span_id, []))
        return sorted(out, key=lambda s: s.start)

    by_id = {s.span_id: s for s in spans}
    out: dict[Any, dict[str, Any]] = {}
    sessions = [s for s in spans if s.name == sc.SPAN_AGENT_SESSION]
    turns = [
        s
        for s in spans
        if s.name in _TURN_NAMES and not any(p.name in _TURN_NAMES for p in _ancestors(s, by_id))
    ]
    user_speaking = [s for s in spans if s.name == sc.SPAN_USER_SPEAKING]
    user_ends = sorted(s.end for s in user_speaking)
    user_starts = [s.start for s in user_speaking]
    activities = [s for s in spans if s.name in _ACTIVITY_SPANS]

    # every realtime response, on its inference span or livekit's late realtime_metrics child
    responses: dict[Any, realtime.RealtimeResponse] = {}
    for s in spans:
        parsed = realtime.parse_realtime_metrics(s.attributes.get(sc.LK_REALTIME_MODEL_METRICS))
        if parsed is not None:
            responses[s.span_id] = parsed
            out.setdefault(s.span_id, {}).update(realtime.response_attributes(parsed, prices))

    answered: set[float] = set()
    turn_figures: list[dict[str, Any]] = []
    for turn in turns:
        inner = [turn, *descendants(turn)]  # 1.2's realtime turn carries its metrics itself
        attrs: dict[str, Any] = {}
        active = [a for a in activities if a.start <= turn.start]
        fallback = active[-1].attributes.get(sc.LK_AGENT_LABEL) if active else None
        attrs.update(handoff.turn_attributes(turn.attributes, fallback))

        turn_responses = [responses[s.span_id] for s in inner if s.span_id in responses]
        attrs.update(realtime.turn_attributes(turn_responses, prices))

        speaking = [(s.start, s.end) for s in inner if s.name == sc.SPAN_AGENT_SPEAKING]
        if turn_responses:
            first_audio = speaking[0][0] if speaking else None
            # the user's last speech end before this audio, unless an earlier turn's audio
            # already answered it
            user_end = None
            if first_audio is not None:
                before = [t for t in user_ends if t <= first_audio and t not in answered]
                if before:
                    user_end = before[-1]
                    answered.update(before)
            e2e = realtime.e2e_latency(
                _number(turn.attributes.get(sc.LK_E2E_LATENCY)), user_end, first_audio
            )
            if e2e is not None:
                attrs[sc.TURN_E2E_LATENCY] = e2e

        interrupted = bool(turn.attributes.get(sc.LK_INTERRUPTED))
        if turn.name in sc.REALTIME_TURN_SPAN_NAMES and not interrupted:
            # 1.2 writes lk.interrupted before the realtime audio has played out: a reply cut
            # during playout says False; the user starting inside its audio tells
            interrupted = barge_in.barge_in_stop_latency(speaking, user_starts) is not None
        attrs.update(
            barge_in.turn_attributes(
                interrupted=interrupted,
                playout_position=_number(turn.attributes.get(sc.LK_PLAYOUT_POSITION)),
                agent_speaking=speaking,
                user_speech_starts=user_starts,
            )
        )
        out.setdefault(turn.span_id, {}).update(attrs)
        turn_figures.append(attrs)

    tools = sorted(
        ((_tool_name(s), s.end) for s in spans if s.name == sc.SPAN_FUNCTION_TOOL),
        key=lambda t: t[1],
    )
    handoffs: list[handoff.Handoff] = []
    for s in spans:
        if s.name != sc.SPAN_UPDATE_AGENT:
            continue
        done = [name for name, end in tools if end <= s.start]
        found = handoff.handoff_from_span(s.attributes, s.start, done[-1] if done else None)
        if found is not None:
            handoffs.append(found)
    if not any(s.name == sc.SPAN_UPDATE_AGENT for s in spans):  # 1.2: activities in turn
        started = [
            (a.attributes[sc.LK_AGENT_LABEL], a.start)
            for a in activities
            if a.name == sc.SPAN_START_AGENT_ACTIVITY and sc.LK_AGENT_LABEL in a.attributes
        ]
        handoffs = handoff.handoffs_from_activities(started, tools)

    for session in sessions:
        attrs = realtime.session_attributes(responses.values(), prices)
        first_agents = [
            a.attributes[sc.LK_AGENT_LABEL]
            for a in activities
            if a.name == sc.SPAN_START_AGENT_ACTIVITY and sc.LK_AGENT_LABEL in a.attributes
        ][:1]
        attrs.update(handoff.session_attributes(first_agents, handoffs))
        attrs.update(handoff.agent_usage_attributes(turn_figures))
        if false_interruptions is not None:
            attrs.update(barge_in.session_attributes(false_interruptions))
        out.setdefault(session.span_id, {}).update(attrs)
    return CallFigures(attributes=out, handoffs=handoffs)


def _tool_name(span: PlainSpan) -> str | None:
    for key in sc.TOOL_NAME_KEYS:
        value = span.attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _ancestors(span: PlainSpan, by_id: Mapping[Any, PlainSpan]) -> list[PlainSpan]:
    out = []
    parent = by_id.get(span.parent_id)
    while parent is not None:
        out.append(parent)
        parent = by_id.get(parent.parent_id)
    return out
