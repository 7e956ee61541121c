"""User turns: their speech segments and callback gathered, their attributes at the end."""

from __future__ import annotations

from typing import Any

from .. import semconv as sc
from .extract import Tally, first_text, number, stt_model
from .held import HeldUserTurns
from .placement import Node, Releaser
from .records import Output, Release, SpanEnded, UserTurnDone
from .state import FeedState, SessionState, UserTurnFacts


class UserTurns:
    """The open ``user_turn`` spans; ``hold``: wait for EOU metrics reported after the end."""

    def __init__(
        self,
        feeds: dict[int, FeedState],
        held: HeldUserTurns,
        tally: Tally,
        release: Releaser,
        *,
        hold: bool,
    ) -> None:
        self._users: dict[int, tuple[UserTurnFacts, list[float]]] = {}
        self._feeds = feeds
        self._held = held
        self._tally = tally
        self._release = release
        self._hold_user_turns = hold

    def __len__(self) -> int:
        return len(self._users)

    def forget(self, span_ids: list[int]) -> None:
        """Drop the facts of user turns whose session ended before they did."""
        for sid in span_ids:
            self._users.pop(sid, None)

    def started(self, span_id: int, state: SessionState) -> None:
        """A user turn started in ``state``'s session: the session's latest from now on."""
        facts = UserTurnFacts()
        state.user = facts
        self._users[span_id] = (facts, [])

    def user_speaking(
        self, rec: SpanEnded, node: Node, state: SessionState | None, now: float
    ) -> None:
        """A ``user_speaking`` segment ended."""
        seconds = (rec.end_ns - rec.start_ns) / 1e9
        user = self._users.get(node.user) if node.user is not None else None
        if user is not None:
            user[0].speech_end_ns = rec.end_ns
            user[1].append(seconds)
        elif state is not None:  # livekit 1.2: outside the user turn
            state.speech_segments.append(seconds)
            state.speech_end_ns = rec.end_ns
        return None

    def on_user_turn_completed(self, rec: SpanEnded, node: Node, state: Any, now: float) -> None:
        """The ``on_user_turn_completed`` callback ended (livekit >= 1.3)."""
        user = self._users.get(node.user) if node.user is not None else None
        if user is not None:
            user[0].on_user_turn_completed = (rec.start_ns, rec.end_ns)
        return None

    def user_turn(
        self, rec: SpanEnded, node: Node, state: SessionState | None, now: float
    ) -> list[Output]:
        """A ``user_turn`` ended: its delays, speech, STT audio (released now, or held)."""
        attrs = rec.attributes
        added: dict[str, Any] = {}
        eot = number(
            attrs.get(sc.LK_END_OF_TURN_DELAY, attrs.get(sc.LK_END_OF_UTTERANCE_DELAY)),
            self._tally,
        )
        transcription = number(attrs.get(sc.LK_TRANSCRIPTION_DELAY), self._tally)
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

            return out + self._held.hold(added, node.session, now, release)
        out.append(self._release(rec.span_id, node, state, added))
        return out
