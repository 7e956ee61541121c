"""Per-session and per-turn accumulators, filled as child spans end."""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from ..collect.feed import SessionFeed
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


@dataclass
class TurnState:
    """An agent turn still open."""

    index: int
    start_ns: int
    llm: list[LlmCall] = field(default_factory=list)
    tts: list[TtsCall] = field(default_factory=list)
    tool_calls: int = 0
    speaking_start_ns: int | None = None
    awaiting_follow_up: bool = False
    root_span: ReadableSpan | None = None


@dataclass
class SessionState:
    """An ``agent_session`` still open.

    Finished turns are folded into the totals below (``session.add_turn``), not kept: a
    long session holds three floats per turn for its percentiles, not every TurnSummary.
    """

    session_id: str
    start_ns: int
    feed: SessionFeed | None
    agent_name: str | None = None
    turns_started: int = 0
    user_turns_ended: int = 0
    last_user_speaking: float | None = None
    speaking_starts: deque[int] = field(default_factory=lambda: deque(maxlen=16))
    turns: int = 0
    interruptions: int = 0
    tool_calls: int = 0
    e2e_latencies: array[float] = field(default_factory=lambda: array("d"))
    llm_ttfts: array[float] = field(default_factory=lambda: array("d"))
    tts_ttfbs: array[float] = field(default_factory=lambda: array("d"))
    turn_usage: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    """Per-model usage added up from the turns' LLM and TTS calls, in first-seen order."""
