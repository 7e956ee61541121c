"""Per-session and per-turn accumulators, filled as child spans end (plain values)."""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .cost import PriceTable
from .extract import LlmCall, TtsCall


@dataclass(frozen=True)
class TurnSummary:
    """The numbers of one finished agent turn (also what the metrics record)."""

    index: int
    kind: str
    agent_name: str | None
    e2e_latency: float | None
    end_of_turn_delay: float | None
    transcription_delay: float | None
    on_user_turn_completed_delay: float | None
    llm_ttft: float | None
    tts_ttfb: float | None
    latency_sum: float | None
    llm_calls: int
    tool_calls: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    tts_characters: int
    tts_audio_duration: float
    interrupted: bool
    cost: float | None
    llm: tuple[LlmCall, ...] = ()
    tts: tuple[TtsCall, ...] = ()
    produced_audio: bool = True  # False: no agent audio played (interrupted before it)


@dataclass(frozen=True, slots=True)
class ToolSpan:
    """A ``function_tool`` run of a turn."""

    name: str
    start_ns: int
    end_ns: int


@dataclass
class TurnState:
    """An agent turn still open."""

    index: int
    start_ns: int
    llm: list[LlmCall] = field(default_factory=list)
    tts: list[TtsCall] = field(default_factory=list)
    tools: list[ToolSpan] = field(default_factory=list)
    tool_calls: int = 0
    speaking_start_ns: int | None = None
    awaiting_follow_up: bool = False
    root_ended: bool = False
    root_attributes: Any = None  # the root turn span's attributes once it ended
    root_end_ns: int = 0
    user: UserTurnFacts | None = None  # the user turn open or last ended at its start
    # livekit 1.3-1.7 sibling follow-ups (see .follow_up): for a follow-up, the root turn
    # span it continues; for a root, its generations' attributes and span ids so far
    follow_up_of: int | None = None
    generations: list[Any] = field(default_factory=list)
    generation_spans: list[int] = field(default_factory=list)


@dataclass
class UserTurnFacts:
    """What lk_otel saw of one user turn, for the agent turn that answers it."""

    speech_end_ns: int | None = None  # end of its last user_speaking segment
    on_user_turn_completed: tuple[int, int] | None = None  # callback span (>= 1.3)


@dataclass
class SessionState:
    """An ``agent_session`` still open.

    Finished turns are folded into the totals below (``session.add_turn``), not kept: a
    long session holds three floats per turn for its percentiles, not every TurnSummary.
    """

    session_id: str
    start_ns: int
    route: int = 0
    prices: PriceTable | None = None
    feed_key: int | None = None
    agent_name: str | None = None
    turns_started: int = 0
    user_turns_ended: int = 0
    speech_segments: list[float] = field(default_factory=list)  # user_speaking outside a turn
    speech_end_ns: int | None = None
    user: UserTurnFacts | None = None  # the latest user turn (open or ended)
    follow_up_root: int | None = None  # a root turn span waiting for its sibling follow-up
    speaking_starts: deque[int] = field(default_factory=lambda: deque(maxlen=16))
    turns: int = 0
    interruptions: int = 0
    tool_calls: int = 0
    e2e_latencies: array[float] = field(default_factory=lambda: array("d"))
    llm_ttfts: array[float] = field(default_factory=lambda: array("d"))
    tts_ttfbs: array[float] = field(default_factory=lambda: array("d"))
    turn_usage: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    """Per-model usage added up from the turns' LLM and TTS calls, in first-seen order."""
    first_user_text: str | None = None  # content: exported only when PII is allowed
    last_agent_text: str | None = None


@dataclass
class FeedState:
    """What one session's events reported so far, in event order."""

    usage_rows: tuple[Any, ...] = ()
    stt_reported: float = 0.0  # STT audio seconds in the latest usage rows
    stt_taken: float = 0.0  # of which already assigned to a user turn
    eou: dict[str, Any] = field(default_factory=dict)  # speech_id -> EouTiming
    message_e2e: dict[int, float] = field(default_factory=dict)  # turn span id -> e2e (1.3, 1.4)
    identity: str | None = None

    def take_stt_audio(self) -> float:
        """STT audio seconds reported since the previous call (one user turn's worth)."""
        value = self.stt_reported - self.stt_taken
        self.stt_taken = self.stt_reported
        return value
