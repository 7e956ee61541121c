"""The value records the turn correlator reads and writes: no SDK objects, no livekit objects.

In: a span started or ended, and what a session's events reported (usage, end-of-turn
timing, participant identity), all in the order they happened on livekit's thread.
Out: per ended span the attributes to add (a :class:`Release`), plus notices for metrics.
Records are never modified after they are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .extract import LlmCall, TtsCall
from .handoff import Handoff
from .realtime import RealtimeResponse
from .state import TurnSummary

Stage = tuple[str, int, int, Mapping[str, Any]]  # span name, start ns, end ns, lk_otel attributes
SpanEvent = tuple[str, int, Mapping[str, Any]]  # event name, time ns, attributes


@dataclass(slots=True)  # not frozen: built for every span, and a frozen init costs ~3x
class SpanStarted:
    """A span started (``on_start``)."""

    span_id: int
    parent_id: int | None
    name: str
    start_ns: int
    is_root: bool = False  # no parent, or a remote one
    feed_key: int | None = None  # agent_session: the session feed made current by start()
    job_session_id: str | None = None  # root spans: the job id when inside a job


@dataclass(slots=True)  # not frozen: built for every span, and a frozen init costs ~3x
class SpanEnded:
    """A span ended (``on_end``), with every attribute it has."""

    span_id: int
    name: str
    start_ns: int
    end_ns: int
    attributes: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EouTiming:
    """End-of-turn figures of one user turn, from livekit's ``EOUMetrics``."""

    end_of_turn_delay: float
    transcription_delay: float
    on_user_turn_completed_delay: float
    speech_id: str | None
    last_speaking_time: float | None  # epoch seconds; 1.2 only


@dataclass(frozen=True, slots=True)
class EouReported:
    """A session's ``EOUMetrics`` event."""

    feed_key: int
    timing: EouTiming


@dataclass(frozen=True, slots=True)
class UsageUpdated:
    """A session's per-model usage so far (livekit's ``model_usage`` rows, as dicts)."""

    feed_key: int
    rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class IdentityKnown:
    """The remote participant's identity (PII: written only when allowed)."""

    feed_key: int
    identity: str


@dataclass(frozen=True, slots=True)
class MessageE2e:
    """livekit's end-to-end latency of one reply, from its assistant ``ChatMessage.metrics``
    (1.3, 1.4: on no span); ``turn_span_id`` is the generation's turn span, still open."""

    feed_key: int
    turn_span_id: int
    e2e_latency: float


@dataclass(frozen=True, slots=True)
class FalseInterruptionReported:
    """A session's ``agent_false_interruption`` event (``resumed``: the agent went on)."""

    feed_key: int
    resumed: bool


FeedEvent = EouReported | UsageUpdated | IdentityKnown | MessageE2e | FalseInterruptionReported


@dataclass(slots=True)  # not frozen: built for every span, and a frozen init costs ~3x
class Release:
    """An ended span is ready to go out with ``added`` (lk_otel.*) attributes.

    ``route`` names the configuration its session started under; ``session_id`` is the
    session's (for root spans outside a session, the job's) id; ``stages`` the waterfall
    under a turn span (response_latency first).
    """

    span_id: int
    added: Mapping[str, Any]
    route: int
    is_root: bool = False
    session_id: str | None = None
    identity: str | None = None
    stages: tuple[Stage, ...] = ()
    content: Mapping[str, Any] | None = None  # lk_otel.*.pii.* keys: added only if PII allowed
    events: tuple[SpanEvent, ...] = ()  # span events to add (agent_session: the handoffs)


@dataclass(frozen=True, slots=True)
class TurnDone:
    """An agent turn was summarised."""

    summary: TurnSummary


@dataclass(frozen=True, slots=True)
class LlmDone:
    """An ``llm_node`` ended."""

    call: LlmCall
    agent_name: str | None


@dataclass(frozen=True, slots=True)
class TtsDone:
    """A ``tts_node`` ended."""

    call: TtsCall
    agent_name: str | None


@dataclass(frozen=True, slots=True)
class UserTurnDone:
    """A user turn ended; ``stt_audio`` is the STT audio reported during it (s)."""

    stt_audio: float
    agent_name: str | None


# issue-13 notices: each tells an observer that has the matching optional method
# (``RealtimeObserver``); observers without it are skipped


@dataclass(frozen=True, slots=True)
class ResponseDone:
    """A realtime model response's metrics arrived (on its span's end)."""

    response: RealtimeResponse
    agent_name: str | None

    def deliver(self, observer: Any) -> None:
        if (f := getattr(observer, "on_response", None)) is not None:
            f(self.response, self.agent_name)


@dataclass(frozen=True, slots=True)
class InterruptedTurn:
    """An interrupted turn's barge-in figures (``lk_otel.turn.played_duration`` …)."""

    figures: Mapping[str, Any]
    agent_name: str | None

    def deliver(self, observer: Any) -> None:
        if (f := getattr(observer, "on_interrupted_turn", None)) is not None:
            f(self.figures, self.agent_name)


@dataclass(frozen=True, slots=True)
class HandoffDone:
    """The active agent switched."""

    handoff: Handoff

    def deliver(self, observer: Any) -> None:
        if (f := getattr(observer, "on_handoff", None)) is not None:
            f(self.handoff)


@dataclass(frozen=True, slots=True)
class FalseInterruption:
    """livekit judged an interruption false (``resumed``: the agent went on)."""

    resumed: bool
    agent_name: str | None

    def deliver(self, observer: Any) -> None:
        if (f := getattr(observer, "on_false_interruption", None)) is not None:
            f(self.resumed, self.agent_name)


RealtimeNotice = ResponseDone | InterruptedTurn | HandoffDone | FalseInterruption
Notice = TurnDone | LlmDone | TtsDone | UserTurnDone | RealtimeNotice
Output = Release | Notice
