"""Turns and sessions summarised once their spans, and a turn's tool follow-ups, have ended."""

from __future__ import annotations

from .. import semconv as sc
from . import follow_up
from .extract import Tally
from .held import HeldUserTurns
from .placement import Node, Releaser, SpanTree
from .records import Output, Release, SpanEnded, TurnDone
from .session import add_turn, session_attributes
from .state import FeedState, SessionState, TurnState
from .turn import build_timeline, summarize_turn, turn_attributes
from .waterfall import path_stages


class Finisher:
    """Writes the figures gathered on the turn and session spans as those end.

    ``sibling_follow_ups``: livekit 1.3-1.7 runs a tool's follow-up as the next turn span
    of the session, not one nested in the turn.
    """

    def __init__(
        self,
        spans: SpanTree,
        sessions: dict[int, SessionState],
        turns: dict[int, TurnState],
        feeds: dict[int, FeedState],
        held: HeldUserTurns,
        tally: Tally,
        release: Releaser,
        *,
        sibling_follow_ups: bool,
    ) -> None:
        self._open = spans.open
        self._turn_name = spans.turn_name
        self._sessions = sessions
        self._turns = turns
        self._feeds = feeds
        self._held = held
        self._tally = tally
        self._release = release
        self._sibling_follow_ups = sibling_follow_ups

    def turn_ended(
        self, rec: SpanEnded, node: Node, state: SessionState | None, now: float
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
            tally=self._tally,
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

    def session_ended(
        self, rec: SpanEnded, node: Node, state: SessionState | None, now: float
    ) -> list[Output]:
        """An ``agent_session`` ended: its waiting turns finished, its held user turns
        released, then its totals."""
        state = self._sessions.pop(rec.span_id, None)
        if state is None:
            # unreachable: start() makes the state of every agent_session it opens
            return [self._release(rec.span_id, node, None, {})]  # pragma: no mutate
        out: list[Output] = []
        for root in [r for r, t in self._turns.items() if t.root_ended]:
            o = self._open.get(root)
            if o is not None and o.session == rec.span_id:  # a follow-up that never came
                out += self._finish_turn(root, state)
        out += self._held.release_session(rec.span_id)
        feed = self._feeds.pop(state.feed_key, None) if state.feed_key is not None else None
        added = session_attributes(
            state, rec.end_ns, state.prices, feed.usage_rows if feed else (), self._tally
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
