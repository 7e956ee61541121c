"""The timestamps of one answering turn, from which its critical path is drawn.

Value types only: the enrichment fills a :class:`TurnTimeline` from livekit's spans and
metrics; ``critical_path`` turns it into stages. All times are epoch nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LlmRound:
    """One LLM call of the turn (``llm_node``), in start order."""

    start_ns: int
    end_ns: int
    first_token_ns: int | None  # request start + LLMMetrics.ttft; None when none came
    tool_calls: tuple[str, ...] = ()  # names of the tools this round asked for
    spoken: bool = False  # its text is what the agent said (the round the TTS read)
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class ToolRun:
    """One ``function_tool`` execution."""

    name: str
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class TtsRun:
    """One TTS synthesis (``tts_node``) of the turn, in start order."""

    start_ns: int
    end_ns: int
    first_byte_ns: int | None  # start + TTSMetrics.ttfb; None when no audio came
    spoken: bool = False  # the segment whose audio started playout


@dataclass(frozen=True, slots=True)
class TurnTimeline:
    """Everything known about when the parts of one answering turn happened.

    ``user_stop_ns`` is the end of the user's speech (the start of ``e2e_latency``) and
    ``audio_start_ns`` the agent's first audio (its end); either may be unknown.
    """

    user_stop_ns: int | None
    audio_start_ns: int | None
    end_of_turn_ns: int | None = None  # user_stop + end_of_turn_delay
    transcript_ns: int | None = None  # user_stop + transcription_delay
    on_user_turn_completed_ns: tuple[int, int] | None = None  # (start, end)
    llm: tuple[LlmRound, ...] = ()
    tools: tuple[ToolRun, ...] = ()
    tts: tuple[TtsRun, ...] = ()
