"""Issue-13 figures as spans end: realtime responses, handoffs and barge-in.

The streaming form of :func:`.realtime_call.call_figures` (the reference composition),
run inside the turn correlator: it hears span starts and ends and session events in
stream order, and adds its keys to the correlator's releases of the response, turn and
session spans. Plain values only; times are converted to seconds as the reference does.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import semconv as sc
from . import barge_in, handoff, realtime
from .cost import PriceTable
from .records import (
    FalseInterruption,
    FalseInterruptionReported,
    FeedEvent,
    HandoffDone,
    InterruptedTurn,
    Output,
    Release,
    ResponseDone,
    SpanEnded,
    SpanEvent,
    UsageUpdated,
)
from .turn import REPLY

_RESPONSE_SPANS = frozenset(
    {sc.SPAN_REALTIME_INFERENCE, sc.SPAN_REALTIME_METRICS, *sc.REALTIME_TURN_SPAN_NAMES}
)
_GATHERED = _RESPONSE_SPANS | {
    sc.SPAN_AGENT_SPEAKING,
    sc.SPAN_USER_SPEAKING,
    sc.SPAN_FUNCTION_TOOL,
    sc.SPAN_START_AGENT_ACTIVITY,
    sc.SPAN_UPDATE_AGENT,
}
_SWITCH_SPANS = frozenset({sc.SPAN_START_AGENT_ACTIVITY, sc.SPAN_UPDATE_AGENT})
_UNKNOWN = "unknown"
# session totals that livekit's usage rows (1.8) already count for a realtime model
_TOTALS = (
    (sc.SESSION_INPUT_TOKENS, "input_tokens"),
    (sc.SESSION_OUTPUT_TOKENS, "output_tokens"),
    (sc.SESSION_CACHED_INPUT_TOKENS, "input_cached_tokens"),
)


@dataclass
class _Turn:
    session: int | None
    start: float
    realtime_span: bool  # 1.2's realtime_assistant_turn
    responses: list[realtime.RealtimeResponse] = field(default_factory=list)
    speaking: list[tuple[float, float]] = field(default_factory=list)
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Call:
    prices: PriceTable | None
    feed_key: int | None
    user_starts: list[float] = field(default_factory=list)
    user_ends: list[float] = field(default_factory=list)
    answered: set[float] = field(default_factory=set)
    # (tool name, end) of the tools a handoff span still open or to come may name: the last
    # one ended before the oldest open handoff span started, and every later one
    tools: list[tuple[str | None, float]] = field(default_factory=list)
    switches: dict[int, float] = field(default_factory=dict)  # open handoff span -> start
    activities: list[tuple[str, float, str | None]] = field(default_factory=list)  # + tool
    active: str | None = None
    update_agents: int = 0
    handoffs: list[handoff.Handoff] = field(default_factory=list)
    realtime: realtime.RealtimeTotals = field(default_factory=realtime.RealtimeTotals)
    models: set[tuple[str, str]] = field(default_factory=set)  # of the realtime responses
    agent_totals: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-agent usage
    last_realtime_turn: float = float("-inf")  # start of the previous turn with responses
    false_interruptions: list[bool] = field(default_factory=list)
    usage_rows: tuple[Mapping[str, Any], ...] = ()


def _seconds(ns: int) -> float:
    return ns / 1e9


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _last_tool_before(call: _Call, start: float) -> str | None:
    """The last tool that ended by ``start`` (a handoff's tool): every such tool has ended
    by the time the handoff span does, since spans end in time order."""
    done = [tool for tool, end in call.tools if end <= start]
    return done[-1] if done else None


def _forget_past_tools(call: _Call) -> None:
    """Keep only the tools a handoff span may still name: a span not yet started starts
    after every tool seen so far ended, an open one after its own start."""
    horizon = min(call.switches.values(), default=float("inf"))
    before = [k for k, (_, end) in enumerate(call.tools) if end <= horizon]
    if before and before[-1] > 0:
        del call.tools[: before[-1]]


def _tool_name(attributes: Mapping[str, Any]) -> str | None:
    for key in sc.TOOL_NAME_KEYS:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


class RealtimeTracker:
    """Per session and per turn: what the issue-13 functions need, gathered as spans end."""

    def __init__(self) -> None:
        self._calls: dict[int, _Call] = {}
        self._by_feed: dict[int, int] = {}
        self._turns: dict[int, _Turn] = {}
        self._extra: dict[int, dict[str, Any]] = {}  # span id -> keys for its release

    def tracked(self) -> dict[str, int]:
        """Sizes of the state kept between records."""
        return {
            "realtime_calls": len(self._calls),
            "realtime_turns": len(self._turns),
            "realtime_pending": len(self._extra),
            "realtime_speech": sum(
                len(c.user_starts) + len(c.user_ends) + len(c.answered)
                for c in self._calls.values()
            ),
            "realtime_tools": sum(len(c.tools) for c in self._calls.values()),
        }

    # --- input --------------------------------------------------------------------------
    def started(
        self,
        span_id: int,
        name: str,
        start_ns: int,
        session: int | None,
        turn: int | None,
        *,
        prices: PriceTable | None = None,
        feed_key: int | None = None,
    ) -> None:
        """A span started; ``session`` / ``turn`` are the correlator's placement."""
        if name == sc.SPAN_AGENT_SESSION:
            self._calls[span_id] = _Call(prices, feed_key, realtime=realtime.RealtimeTotals(prices))
            if feed_key is not None:
                self._by_feed[feed_key] = span_id
            return
        call = self._calls.get(session) if session is not None else None
        if call is None:
            return
        if turn == span_id:
            self._turns[span_id] = _Turn(
                session, _seconds(start_ns), name in sc.REALTIME_TURN_SPAN_NAMES
            )
        elif name == sc.SPAN_USER_SPEAKING:
            # the user speech that barges in is still open when the agent's turn ends
            call.user_starts.append(_seconds(start_ns))
        elif name in _SWITCH_SPANS:
            call.switches[span_id] = _seconds(start_ns)

    def feed(self, event: FeedEvent) -> list[Output]:
        """A session event: usage rows are kept, a false interruption is counted."""
        session = self._by_feed.get(event.feed_key)
        call = self._calls.get(session) if session is not None else None
        if call is None:
            return []
        if isinstance(event, UsageUpdated):
            call.usage_rows = event.rows
        elif isinstance(event, FalseInterruptionReported):
            call.false_interruptions.append(event.resumed)
            return [FalseInterruption(event.resumed, call.active)]
        return []

    def ended(
        self, rec: SpanEnded, session: int | None, turn: int | None, out: list[Output]
    ) -> list[Output]:
        """A span ended; ``out`` is what the correlator releases for it. Returns ``out``
        with this module's keys added to the releases and its notices appended."""
        notices: list[Output] = []
        sid = rec.span_id
        if sid in self._turns:  # a root turn: its own keys, read when it finishes
            self._turns[sid].attributes = rec.attributes
        if rec.name in _GATHERED and session in self._calls:
            notices += self._gather(rec, self._calls[session], self._turns.get(turn or -1))
        extra, turns, calls = self._extra, self._turns, self._calls
        for o in out:
            if type(o) is Release and (
                o.span_id in extra or o.span_id in turns or o.span_id in calls
            ):
                notices += self._complete(o)
        return out + notices if notices else out

    # --- gathering ----------------------------------------------------------------------
    def _gather(self, rec: SpanEnded, call: _Call, turn: _Turn | None) -> list[Output]:
        name, attrs = rec.name, rec.attributes
        start, end = _seconds(rec.start_ns), _seconds(rec.end_ns)
        out: list[Output] = []
        if name in _RESPONSE_SPANS:
            r = realtime.parse_realtime_metrics(attrs.get(sc.LK_REALTIME_MODEL_METRICS))
            if r is not None:
                self._extra.setdefault(rec.span_id, {}).update(
                    realtime.response_attributes(r, call.prices)
                )
                if turn is not None:
                    turn.responses.append(r)
                call.realtime.add(r)
                if not r.is_connection_report:
                    call.models.add(_model_key(r.provider, r.model))
                out.append(ResponseDone(r, call.active))
        elif name == sc.SPAN_AGENT_SPEAKING:
            if turn is not None:
                turn.speaking.append((start, end))
        elif name == sc.SPAN_USER_SPEAKING:
            call.user_ends.append(end)
        elif name == sc.SPAN_FUNCTION_TOOL:
            call.tools.append((_tool_name(attrs), end))
            _forget_past_tools(call)
        elif name == sc.SPAN_START_AGENT_ACTIVITY:
            label = attrs.get(sc.LK_AGENT_LABEL)
            if isinstance(label, str) and label:
                call.activities.append((label, start, _last_tool_before(call, start)))
                call.active = label
        elif name == sc.SPAN_UPDATE_AGENT:
            call.update_agents += 1
            found = handoff.handoff_from_span(attrs, start, _last_tool_before(call, start))
            if found is not None:
                call.handoffs.append(found)
                out.append(HandoffDone(found))
        if call.switches.pop(rec.span_id, None) is not None:
            _forget_past_tools(call)
        return out

    # --- completing releases ------------------------------------------------------------
    def _complete(self, release: Release) -> list[Output]:
        sid = release.span_id
        notices: list[Output] = []
        extra = self._extra.pop(sid, None) or {}
        turn = self._turns.pop(sid, None)
        if turn is not None:
            call = self._calls.get(turn.session) if turn.session is not None else None
            if call is not None:
                figures, notices = self._turn_figures(turn, call, {**release.added, **extra})
                extra.update(figures)
        call = self._calls.pop(sid, None)
        if call is not None:
            if call.feed_key is not None:
                self._by_feed.pop(call.feed_key, None)
            for key in [k for k, t in self._turns.items() if t.session == sid]:
                del self._turns[key]  # a turn that never ended
            figures, events, notices = self._session_figures(call, release.added)
            extra.update(figures)
            if events:
                release.events = (*release.events, *events)
        if extra:
            release.added = {**release.added, **extra}
        return notices

    def _turn_figures(
        self, turn: _Turn, call: _Call, added: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Output]]:
        attrs = turn.attributes
        figures: dict[str, Any] = {}
        active = [label for label, start, _ in call.activities if start <= turn.start]
        figures.update(handoff.turn_attributes(attrs, active[-1] if active else call.active))
        agent = figures.get(sc.TURN_AGENT)
        speaking = sorted(turn.speaking)
        if turn.responses:
            rt = realtime.turn_attributes(turn.responses, call.prices)
            pipeline_cost = _number(added.get(sc.TURN_COST))
            if sc.TURN_COST in rt and pipeline_cost:  # e.g. a separate TTS's characters
                rt[sc.TURN_COST] += pipeline_cost
            figures.update(rt)
            if added.get(sc.TURN_KIND) != REPLY and any(
                call.last_realtime_turn < t <= turn.start for t in call.user_ends
            ):
                # server-side turn detection: no user_turn span, but the user spoke since
                # the previous response turn and this turn answers it
                figures[sc.TURN_KIND] = REPLY
            call.last_realtime_turn = turn.start
            first_audio = speaking[0][0] if speaking else None
            user_end = None
            if first_audio is not None:
                before = [
                    t for t in sorted(call.user_ends) if t <= first_audio and t not in call.answered
                ]
                if before:
                    user_end = before[-1]
                    call.answered.update(before)
            e2e = realtime.e2e_latency(_number(attrs.get(sc.LK_E2E_LATENCY)), user_end, first_audio)
            if e2e is not None:
                figures[sc.TURN_E2E_LATENCY] = e2e
        interrupted = bool(attrs.get(sc.LK_INTERRUPTED))
        if turn.realtime_span and not interrupted:
            # 1.2 writes lk.interrupted before the realtime audio has played out
            interrupted = barge_in.barge_in_stop_latency(speaking, call.user_starts) is not None
        cut = barge_in.turn_attributes(
            interrupted=interrupted,
            playout_position=_number(attrs.get(sc.LK_PLAYOUT_POSITION)),
            agent_speaking=speaking,
            user_speech_starts=call.user_starts,
        )
        figures.update(cut)
        handoff.add_agent_usage(call.agent_totals, {**added, **figures})
        self._forget_past_speech(call, turn.session)
        notices: list[Output] = [InterruptedTurn(cut, agent)] if cut else []
        return figures, notices

    def _forget_past_speech(self, call: _Call, session: int | None) -> None:
        """Drop the user speech no open turn of the call can still read, so a long session
        keeps bounded lists: starts before every open turn (a barge-in starts while the
        turn's agent speaks, after the turn started), and ends already answered that are
        before every open turn and the last response turn (no e2e takes an answered end, and
        the reply kind looks only at ends after the last response turn)."""
        opened = [t.start for t in self._turns.values() if t.session == session]
        oldest = min(opened) if opened else float("inf")
        if call.user_starts and call.user_starts[0] < oldest:
            call.user_starts = [t for t in call.user_starts if t >= oldest]
        spent = {t for t in call.answered if t < oldest and t <= call.last_realtime_turn}
        if spent:
            call.user_ends = [t for t in call.user_ends if t not in spent]
            call.answered -= spent

    def _session_figures(
        self, call: _Call, added: Mapping[str, Any]
    ) -> tuple[dict[str, Any], tuple[SpanEvent, ...], list[Output]]:
        figures: dict[str, Any] = {}
        notices: list[Output] = []
        if call.realtime.responses:
            figures.update(_session_realtime(call, added))
        handoffs = call.handoffs
        if not call.update_agents and len(call.activities) > 1:  # 1.2: no update_agent span
            handoffs = [  # each tool was read as its activity ended: the same as the reference
                handoff.Handoff(previous, label, tool, start)
                for (previous, _, _), (label, start, tool) in itertools.pairwise(call.activities)
            ]
            notices += [HandoffDone(h) for h in handoffs]
        first = [label for label, _, _ in call.activities[:1]]
        figures.update(handoff.session_attributes(first, handoffs))
        figures.update(handoff.usage_attributes(list(call.agent_totals.values())))
        if call.feed_key is not None:  # the session's events were watched
            figures.update(barge_in.session_attributes(call.false_interruptions))
        events = tuple(
            (sc.EVENT_HANDOFF, round(h.at * 1e9), h.event_attributes()) for h in handoffs
        )
        return figures, events, notices


def _model_key(provider: Any, model: Any) -> tuple[str, str]:
    return (str(provider or _UNKNOWN), str(model or _UNKNOWN))


def _session_realtime(call: _Call, added: Mapping[str, Any]) -> dict[str, Any]:
    """The realtime session figures, merged with the pipeline's: livekit's usage rows (1.8)
    already count the realtime model's tokens, so its row is replaced by the responses'
    sums (one source); its cost is added to the rest of the pipeline's."""
    figures = call.realtime.attributes()
    rows = [
        r
        for r in call.usage_rows
        if r.get("type") == "llm_usage"
        and _model_key(r.get("provider"), r.get("model")) in call.models
    ]
    for key, row_key in _TOTALS:
        pipeline = _number(added.get(key))
        if pipeline is None or key not in figures:
            continue
        counted = sum(int(_number(r.get(row_key)) or 0) for r in rows)
        figures[key] = int(pipeline) - counted + figures[key]
    pipeline_cost = _number(added.get(sc.SESSION_COST))
    if sc.SESSION_COST in figures and pipeline_cost is not None and call.prices is not None:
        counted_cost = sum(_row_cost(call.prices, r) for r in rows)
        figures[sc.SESSION_COST] = pipeline_cost - counted_cost + figures[sc.SESSION_COST]
    return figures


def _row_cost(prices: PriceTable, row: Mapping[str, Any]) -> float:
    def n(key: str) -> int:
        return int(_number(row.get(key)) or 0)

    return prices.llm(
        row.get("provider"),
        row.get("model"),
        n("input_tokens"),
        n("output_tokens"),
        n("input_cached_tokens"),
    )


__all__: Sequence[str] = ("RealtimeTracker",)
