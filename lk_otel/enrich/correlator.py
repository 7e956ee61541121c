"""The turn correlator: livekit's span stream in, the lk_otel schema out. Pure and single-threaded.

It reads plain records (:mod:`.records`) in the order livekit produced them — span
starts, span ends and session events interleaved — and answers each with what is ready
to go out: :class:`~.records.Release` (an ended span and the attributes to add) and
notices for the metrics. Children end before their parents, so figures are gathered as
``llm_request``, ``llm_node``, ``tts_node``, ``function_tool`` … end, and written on the
turn and session spans when those end. It holds no SDK object, takes no lock and reads
no clock (callers pass ``now``); release differences come from the profile it is built
with.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import semconv as sc
from .._compat import LivekitProfile
from . import follow_up
from .cost import PriceTable
from .extract import (
    Tally,
    first_text,
    llm_attributes,
    llm_call,
    llm_request_figures,
    number,
    stt_model,
    tts_attributes,
    tts_call,
    tts_request_figures,
)
from .realtime_stream import RealtimeTracker
from .records import (
    EouReported,
    FeedEvent,
    IdentityKnown,
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
from .session import add_turn, session_attributes
from .state import FeedState, SessionState, ToolSpan, TurnState, UserTurnFacts
from .turn import build_timeline, summarize_turn, turn_attributes
from .waterfall import path_stages

RECENT_PARENTS = 64  # ended spans kept for placing a child that starts after its parent ended
HOLD_SECONDS = 10.0  # how long a user turn waits for its late EOU metrics (livekit 1.2)
MAX_HELD = 256


@dataclass(slots=True)
class _Node:
    name: str
    parent: int | None
    session: int | None
    turn: int | None
    user: int | None
    is_root: bool = False
    job_session_id: str | None = None
    ended: bool = False


@dataclass(slots=True)
class _Held:
    span_id: int
    added: dict[str, Any]
    session: int | None
    deadline: float
    release: Callable[[dict[str, Any]], Release] = field(repr=False)


_Handler = Callable[[SpanEnded, _Node, Any, float], "list[Output] | None"]


def _new_session_id() -> str:
    return f"lk-{uuid.uuid4().hex[:20]}"


class TurnCorrelator:
    """Turns, user turns and sessions of every call in one stream, correlated.

    ``route`` tags the sessions that start from now on (``set_route``): a session keeps
    the route, and prices, it started under until it ends.
    """

    def __init__(
        self,
        profile: LivekitProfile,
        *,
        route: int = 0,
        prices: PriceTable | None = None,
        new_session_id: Callable[[], str] = _new_session_id,
        hold_seconds: float = HOLD_SECONDS,
        max_held: int = MAX_HELD,
    ) -> None:
        self.profile = profile
        self.tally = Tally()  # non-finite numbers skipped so far
        self._turn_name = profile.turn_span_name
        # issue 13: realtime responses, handoffs, barge-in (1.2's realtime turn is a turn)
        self._realtime = RealtimeTracker()
        self._turn_aliases = dict.fromkeys(sc.REALTIME_TURN_SPAN_NAMES, self._turn_name)
        self._nested_follow_ups = profile.nested_follow_up_turns
        self._sibling_follow_ups = profile.sibling_follow_up_turns
        self._hold_user_turns = profile.eou_after_user_turn
        self._route = route
        self._prices = prices
        self._new_session_id = new_session_id
        self._hold_seconds = hold_seconds
        self._max_held = max_held
        self._open: dict[int, _Node] = {}
        # livekit 1.2 starts a realtime greeting's turn after its parent on_enter ended
        self._ended: dict[int, _Node] = {}
        self._sessions: dict[int, SessionState] = {}
        self._turns: dict[int, TurnState] = {}
        self._requests: dict[int, list[dict[str, Any]]] = {}
        self._users: dict[int, tuple[UserTurnFacts, list[float]]] = {}
        self._feeds: dict[int, FeedState] = {}
        self._held: deque[_Held] = deque()
        self._on_end: dict[
            str, Callable[[SpanEnded, _Node, SessionState | None, float], list[Output]]
        ] = {
            sc.SPAN_LLM_REQUEST: self._llm_request,
            sc.SPAN_TTS_REQUEST: self._tts_request,
            sc.SPAN_LLM_NODE: self._llm_node,
            sc.SPAN_TTS_NODE: self._tts_node,
            sc.SPAN_FUNCTION_TOOL: self._function_tool,
            sc.SPAN_AGENT_SPEAKING: self._agent_speaking,
            sc.SPAN_USER_SPEAKING: self._user_speaking,
            sc.SPAN_ON_USER_TURN_COMPLETED: self._on_user_turn_completed,
            sc.SPAN_USER_TURN: self._user_turn,
            sc.SPAN_AGENT_SESSION: self._session,
            self._turn_name: self._turn_ended,
        }

    # --- routes (reconfiguration) -----------------------------------------------------
    def set_route(self, route: int, prices: PriceTable | None) -> None:
        """Sessions that start from now on belong to ``route`` and use ``prices``."""
        self._route, self._prices = route, prices

    def route_of(self, span_id: int) -> int:
        """The route of the session the open span ``span_id`` is in (the current route for
        a span outside any session): where what its end tells goes."""
        node = self._open.get(span_id)
        state = self._sessions.get(node.session) if node and node.session is not None else None
        return self._route if state is None else state.route

    def route_of_feed(self, feed_key: int) -> int:
        """The route of the open session whose events come under ``feed_key``."""
        for state in self._sessions.values():
            if state.feed_key == feed_key:
                return state.route
        return self._route

    def sessions_on(self, route: int) -> int:
        """How many open sessions belong to ``route``."""
        return sum(1 for s in self._sessions.values() if s.route == route)

    def reroute(self, old: int, new: int) -> int:
        """Move the open sessions of ``old`` to ``new``; returns how many moved."""
        moved = 0
        for s in self._sessions.values():
            if s.route == old:
                s.route = new
                moved += 1
        return moved

    def tracked(self) -> dict[str, int]:
        """Sizes of the state kept between records (what a leak would grow)."""
        return {
            "open_spans": len(self._open),
            "sessions": len(self._sessions),
            "turns": len(self._turns),
            "requests": len(self._requests),
            "user_turns": len(self._users),
            "feeds": len(self._feeds),
            "held": len(self._held),
            **self._realtime.tracked(),
        }

    # --- input ------------------------------------------------------------------------
    def start(self, rec: SpanStarted) -> None:
        """A span started: place it in its session, turn and user turn."""
        sid, name = rec.span_id, self._turn_aliases.get(rec.name, rec.name)
        p = self._open.get(rec.parent_id) if rec.parent_id is not None else None
        if p is None and rec.parent_id is not None:
            p = self._ended.get(rec.parent_id)
        if p is not None and name != sc.SPAN_AGENT_SESSION:
            session, turn, user = p.session, p.turn, p.user
        else:
            session = turn = user = None
        if name == sc.SPAN_AGENT_SESSION:
            session = sid
        elif name == self._turn_name and turn is None:
            turn = sid
        elif name == sc.SPAN_USER_TURN:
            user = sid
        self._open[sid] = _Node(
            name, rec.parent_id, session, turn, user, rec.is_root, rec.job_session_id
        )
        self._realtime.started(
            sid, rec.name, rec.start_ns, session, turn, prices=self._prices, feed_key=rec.feed_key
        )
        state = self._sessions.get(session) if session is not None else None
        if name == sc.SPAN_AGENT_SESSION:
            self._sessions[sid] = SessionState(
                session_id=rec.job_session_id or self._new_session_id(),
                start_ns=rec.start_ns,
                route=self._route,
                prices=self._prices,
                feed_key=rec.feed_key,
            )
            if rec.feed_key is not None:
                self._feeds.setdefault(rec.feed_key, FeedState())
        elif state is None:
            return
        elif name == self._turn_name and turn == sid:
            # 1.3-1.7: the next turn after one that ran a tool may be its follow-up
            # (confirmed when it ends); it gets an index only if it is not
            of, state.follow_up_root = state.follow_up_root, None
            if of is None:
                state.turns_started += 1
            self._turns[sid] = TurnState(
                index=state.turns_started if of is None else 0,
                start_ns=rec.start_ns,
                user=state.user,
                follow_up_of=of,
            )
        elif name == self._turn_name and turn in self._turns:
            self._turns[turn].awaiting_follow_up = False
        elif name == sc.SPAN_FUNCTION_TOOL and turn in self._turns:
            # a tool call's answer comes in a follow-up turn that starts after the tool
            self._turns[turn].awaiting_follow_up = self._nested_follow_ups
        elif name == sc.SPAN_USER_TURN:
            facts = UserTurnFacts()
            state.user = facts
            self._users[sid] = (facts, [])

    def end(self, rec: SpanEnded, now: float = 0.0) -> list[Output]:
        """A span ended: what is ready to go out now (this span or others it completed)."""
        node = self._open.get(rec.span_id)
        if node is None:  # started before this correlator, or never seen
            return [Release(rec.span_id, {}, self._route)]
        if node.name != self._turn_name or node.turn not in self._turns:
            del self._open[rec.span_id]
            if node.session is not None and node.session != rec.span_id:
                self._ended[rec.span_id] = node
                if len(self._ended) > RECENT_PARENTS:
                    del self._ended[next(iter(self._ended))]
        state = self._sessions.get(node.session) if node.session is not None else None
        handler = self._on_end.get(node.name)
        out = handler(rec, node, state, now) if handler is not None else None
        if out is None:
            out = [self._release(rec.span_id, node, state, {})]
        out = self._realtime.ended(rec, node.session, node.turn, out)
        return out + self.expire(now) if self._held else out

    def feed(self, event: FeedEvent, now: float = 0.0) -> list[Output]:
        """A session event, in stream order."""
        feed = self._feeds.setdefault(event.feed_key, FeedState())
        realtime_out = self._realtime.feed(event)
        if isinstance(event, UsageUpdated):
            feed.usage_rows = event.rows
            feed.stt_reported = sum(
                number(r.get("audio_duration"), self.tally) or 0.0
                for r in event.rows
                if r.get("type") == "stt_usage"
            )
        elif isinstance(event, IdentityKnown):
            feed.identity = event.identity
        elif isinstance(event, MessageE2e):
            feed.message_e2e[event.turn_span_id] = event.e2e_latency
        elif isinstance(event, EouReported):
            if event.timing.speech_id:
                feed.eou[event.timing.speech_id] = event.timing
            if self._hold_user_turns:
                return self._late_eou(event)
        return realtime_out

    def expire(self, now: float) -> list[Output]:
        """User turns whose wait for late EOU metrics is over."""
        out: list[Output] = []
        while self._held and self._held[0].deadline <= now:
            h = self._held.popleft()
            out.append(h.release(h.added))
        return out

    def release_all(self) -> list[Output]:
        """Everything held (a flush): user turns still waiting for EOU metrics."""
        out: list[Output] = [h.release(h.added) for h in self._held]
        self._held.clear()
        return out

    # --- helpers ----------------------------------------------------------------------
    def _release(
        self,
        span_id: int,
        node: _Node,
        state: SessionState | None,
        added: dict[str, Any],
        **extra: Any,
    ) -> Release:
        if state is not None:
            return Release(span_id, added, state.route, node.is_root, state.session_id, **extra)
        return Release(span_id, added, self._route, node.is_root, node.job_session_id, **extra)

    def _turn_of(self, node: _Node) -> TurnState | None:
        return self._turns.get(node.turn) if node.turn is not None else None

    # --- per span name ----------------------------------------------------------------
    def _llm_request(self, rec: SpanEnded, node: _Node, state: Any, now: float) -> list[Output]:
        figures = llm_request_figures(rec.attributes, self.tally)
        figures["start_ns"] = rec.start_ns
        if node.parent is not None:
            self._requests.setdefault(node.parent, []).append(figures)
        added = {sc.LLM_PROVIDER: figures["provider"]} if figures["provider"] else {}
        return [self._release(rec.span_id, node, state, added)]

    def _tts_request(self, rec: SpanEnded, node: _Node, state: Any, now: float) -> list[Output]:
        figures = tts_request_figures(rec.attributes, self.tally)
        figures["start_ns"] = rec.start_ns
        if node.parent is not None:
            self._requests.setdefault(node.parent, []).append(figures)
        return [self._release(rec.span_id, node, state, {})]

    def _llm_node(
        self, rec: SpanEnded, node: _Node, state: SessionState | None, now: float
    ) -> list[Output]:
        requests = self._requests.pop(rec.span_id, [])
        call = llm_call(rec.attributes, rec.start_ns, rec.end_ns, requests, self.tally)
        if (turn := self._turn_of(node)) is not None:
            turn.llm.append(call)
        return [
            LlmDone(call, state.agent_name if state else None),
            self._release(rec.span_id, node, state, llm_attributes(call)),
        ]

    def _tts_node(
        self, rec: SpanEnded, node: _Node, state: SessionState | None, now: float
    ) -> list[Output]:
        requests = self._requests.pop(rec.span_id, [])
        call = tts_call(rec.attributes, rec.start_ns, rec.end_ns, requests, self.tally)
        if (turn := self._turn_of(node)) is not None:
            turn.tts.append(call)
        return [
            TtsDone(call, state.agent_name if state else None),
            self._release(rec.span_id, node, state, tts_attributes(call)),
        ]

    def _function_tool(self, rec: SpanEnded, node: _Node, state: Any, now: float) -> None:
        if (turn := self._turn_of(node)) is not None:
            turn.tool_calls += 1
            name = rec.attributes.get(sc.GEN_AI_TOOL_NAME) or rec.attributes.get(
                sc.LK_FUNCTION_TOOL_NAME
            )
            turn.tools.append(ToolSpan(str(name or ""), rec.start_ns, rec.end_ns))
        return None

    def _agent_speaking(
        self, rec: SpanEnded, node: _Node, state: SessionState | None, now: float
    ) -> None:
        if (turn := self._turn_of(node)) is not None:
            if turn.speaking_start_ns is None:
                turn.speaking_start_ns = rec.start_ns
        elif state is not None and rec.start_ns:
            # livekit 1.2 starts agent_speaking outside the turn span; matched at turn end
            state.speaking_starts.append(rec.start_ns)
        return None

    def _user_speaking(
        self, rec: SpanEnded, node: _Node, state: SessionState | None, now: float
    ) -> None:
        seconds = (rec.end_ns - rec.start_ns) / 1e9
        user = self._users.get(node.user) if node.user is not None else None
        if user is not None:
            user[0].speech_end_ns = rec.end_ns
            user[1].append(seconds)
        elif state is not None:  # livekit 1.2: outside the user turn
            state.speech_segments.append(seconds)
            state.speech_end_ns = rec.end_ns
        return None

    def _on_user_turn_completed(self, rec: SpanEnded, node: _Node, state: Any, now: float) -> None:
        user = self._users.get(node.user) if node.user is not None else None
        if user is not None:
            user[0].on_user_turn_completed = (rec.start_ns, rec.end_ns)
        return None

    def _user_turn(
        self, rec: SpanEnded, node: _Node, state: SessionState | None, now: float
    ) -> list[Output]:
        attrs = rec.attributes
        added: dict[str, Any] = {}
        eot = number(
            attrs.get(sc.LK_END_OF_TURN_DELAY, attrs.get(sc.LK_END_OF_UTTERANCE_DELAY)),
            self.tally,
        )
        transcription = number(attrs.get(sc.LK_TRANSCRIPTION_DELAY), self.tally)
        if eot is not None:
            added[sc.USER_END_OF_TURN_DELAY] = eot
        if transcription is not None:
            added[sc.USER_TRANSCRIPTION_DELAY] = transcription
        facts, segments = self._users.pop(rec.span_id, (None, []))
        if not segments and state is not None and state.speech_segments:
            segments, state.speech_segments = state.speech_segments, []
            if facts is not None:
                facts.speech_end_ns = state.speech_end_ns
        if segments:
            added[sc.USER_SPEECH_DURATION] = segments[-1]
            added[sc.USER_SPEECH_TOTAL] = sum(segments)
            added[sc.USER_SPEECH_SEGMENTS] = len(segments)
        if state is None:
            return [self._release(rec.span_id, node, state, added)]
        # only ever compared with 0 (greeting or say): +=2, -=1 and =1 read the same
        state.user_turns_ended += 1  # pragma: no mutate
        if state.first_user_text is None:
            state.first_user_text = first_text(attrs, sc.LK_USER_TRANSCRIPT_KEYS)
        feed = self._feeds.get(state.feed_key) if state.feed_key is not None else None
        if feed is None:
            return [self._release(rec.span_id, node, state, added)]
        if sc.GEN_AI_REQUEST_MODEL not in attrs:  # livekit 1.2 names no STT model on the span
            added.update(stt_model(feed.usage_rows))
        stt_audio = feed.take_stt_audio()
        added[sc.USER_STT_AUDIO_DURATION] = stt_audio
        out: list[Output] = [UserTurnDone(stt_audio, state.agent_name)]
        if transcription is None and self._hold_user_turns:
            # livekit 1.2 reports this turn's EOU metrics only after the span ended
            def release(extra: dict[str, Any], sid: int = rec.span_id) -> Release:
                return self._release(sid, node, state, extra)

            self._held.append(
                _Held(rec.span_id, added, node.session, now + self._hold_seconds, release)
            )
            if len(self._held) > self._max_held:
                h = self._held.popleft()
                out.append(h.release(h.added))
            return out
        out.append(self._release(rec.span_id, node, state, added))
        return out

    def _late_eou(self, event: EouReported) -> list[Output]:
        session = next((k for k, s in self._sessions.items() if s.feed_key == event.feed_key), None)
        held = next((h for h in self._held if h.session == session), None)
        if held is None:
            return []
        self._held.remove(held)
        timing = event.timing
        for key, value in (
            (sc.USER_END_OF_TURN_DELAY, timing.end_of_turn_delay),
            (sc.USER_TRANSCRIPTION_DELAY, timing.transcription_delay),
        ):
            if (v := number(value, self.tally)) is not None:
                held.added[key] = v
        return [held.release(held.added)]

    def _turn_ended(
        self, rec: SpanEnded, node: _Node, state: SessionState | None, now: float
    ) -> list[Output]:
        """A turn is summarised once it and its tool follow-ups have ended. livekit 1.2 runs
        a follow-up as a nested turn that starts, and ends, after its parent."""
        root = node.turn
        turn = self._turns.get(root) if root is not None else None
        if turn is None or root is None:
            return [self._release(rec.span_id, node, state, {})]
        node.ended = True
        if root == rec.span_id:
            turn.root_ended = True
            turn.root_attributes = rec.attributes
            turn.root_end_ns = rec.end_ns
            if self._sibling_follow_ups and state is not None:
                return self._generation_ended(root, turn, state)
        if not turn.root_ended or turn.awaiting_follow_up or self._open_nested(root):
            return [] if root == rec.span_id else [self._release(rec.span_id, node, state, {})]
        out = self._finish_turn(root, state)
        if root != rec.span_id:
            out.insert(0, self._release(rec.span_id, node, state, {}))
        return out

    def _generation_ended(self, sid: int, turn: TurnState, state: SessionState) -> list[Output]:
        """livekit 1.3-1.7: a turn span ended. A tool follow-up is merged into the turn it
        continues; a turn that ran a tool waits for its follow-up (the next turn span of
        the session); otherwise the (logical) turn is summarised now."""
        out: list[Output] = []
        ran_tools = turn.tool_calls > 0
        of = turn.follow_up_of
        chain = self._turns.get(of) if of is not None else None
        attrs = turn.root_attributes
        if of is not None and chain is not None and follow_up.continues(chain, attrs):
            follow_up.merge(chain, self._turns.pop(sid), attrs, sid)
            added = dict(follow_up.follow_up_attributes(chain, state.session_id))
            out.append(self._release(sid, self._open.pop(sid), state, added))
            sid, turn = of, chain
        else:
            if of is not None and chain is not None:  # the turn that waited got no follow-up
                out += self._finish_turn(of, state)
            if of is not None:  # and this one is a turn of its own
                state.turns_started += 1
                turn.index, turn.follow_up_of = state.turns_started, None
            turn.generations.append(attrs)
            turn.generation_spans.append(sid)
        if ran_tools:
            state.follow_up_root = sid
            return out
        return out + self._finish_turn(sid, state)

    def _open_nested(self, root: int) -> bool:
        return any(
            o.turn == root and o.name == self._turn_name and not o.ended
            for o in self._open.values()
        )

    def _finish_turn(self, root: int, state: SessionState | None) -> list[Output]:
        turn = self._turns.pop(root)
        node = self._open.pop(root)
        for key in [k for k, o in self._open.items() if o.turn == root and o.ended]:
            del self._open[key]
        if state is None:
            return [self._release(root, node, state, {})]
        if turn.speaking_start_ns is None:
            turn.speaking_start_ns = next(
                (t for t in state.speaking_starts if t >= turn.start_ns), None
            )
        feed = self._feeds.get(state.feed_key) if state.feed_key is not None else None
        generations = turn.generations or [turn.root_attributes or {}]
        e2e = feed.message_e2e if feed is not None else {}
        attrs = follow_up.logical_attributes(
            generations, [e2e.pop(s, None) for s in turn.generation_spans or (root,)] if e2e else ()
        )
        speech_id = attrs.get(sc.LK_SPEECH_ID)
        eou = feed.eou.pop(speech_id, None) if feed is not None and speech_id else None
        agent = attrs.get(sc.GEN_AI_AGENT_NAME) or attrs.get(sc.LK_AGENT_LABEL) or state.agent_name
        state.agent_name = str(agent) if agent else None
        summary = summarize_turn(
            attrs,
            turn,
            eou=eou,
            user_turns_before=state.user_turns_ended,
            agent_name=state.agent_name,
            prices=state.prices,
            tally=self.tally,
        )
        add_turn(state, summary)
        state.last_agent_text = follow_up.last_response_text(generations) or state.last_agent_text
        added, stages = path_stages(build_timeline(summary, turn))
        added.update(follow_up.turn_follow_up_attributes(turn))
        return [
            TurnDone(summary),
            self._release(
                root,
                node,
                state,
                {**turn_attributes(summary, state.session_id), **added},
                stages=stages,
            ),
        ]

    def _session(
        self, rec: SpanEnded, node: _Node, state: SessionState | None, now: float
    ) -> list[Output]:
        state = self._sessions.pop(rec.span_id, None)
        if state is None:
            # unreachable: start() makes the state of every agent_session it opens
            return [self._release(rec.span_id, node, None, {})]  # pragma: no mutate
        out: list[Output] = []
        for root in [r for r, t in self._turns.items() if t.root_ended]:
            o = self._open.get(root)
            if o is not None and o.session == rec.span_id:  # a follow-up that never came
                out += self._finish_turn(root, state)
        for h in [h for h in self._held if h.session == rec.span_id]:
            self._held.remove(h)
            out.append(h.release(h.added))
        feed = self._feeds.pop(state.feed_key, None) if state.feed_key is not None else None
        added = session_attributes(
            state, rec.end_ns, state.prices, feed.usage_rows if feed else (), self.tally
        )
        identity = feed.identity if feed is not None else None
        content = {
            k: v
            for k, v in (
                (sc.SESSION_FIRST_USER_TEXT, state.first_user_text),
                (sc.SESSION_LAST_AGENT_TEXT, state.last_agent_text),
            )
            if v
        }
        out.append(
            Release(
                rec.span_id,
                added,
                state.route,
                node.is_root,
                state.session_id,
                identity=identity,
                content=content or None,
            )
        )
        return out
