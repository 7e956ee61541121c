"""What a subscriber to the enrichment hears (the metrics recorder is one).

Observers are called on the enrichment worker thread, in stream order; an observer that
raises is logged once and does not cost any span its attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from .extract import LlmCall, TtsCall
from .handoff import Handoff
from .realtime import RealtimeResponse
from .state import TurnSummary


@runtime_checkable
class EnrichmentObserver(Protocol):
    """Hears each finished agent turn, user turn, LLM call and synthesis."""

    def on_turn(self, turn: TurnSummary) -> None:
        """An agent turn was summarised (its calls were reported as they ended)."""

    def on_user_turn(self, stt_audio_seconds: float, agent_name: str | None) -> None:
        """A user turn ended, with the STT audio reported during it."""

    def on_llm(self, call: LlmCall, agent_name: str | None) -> None:
        """An ``llm_node`` ended."""

    def on_tts(self, call: TtsCall, agent_name: str | None) -> None:
        """A ``tts_node`` ended."""


@runtime_checkable
class RealtimeObserver(Protocol):
    """Issue-13 notices, heard by observers that define these methods (each optional: an
    :class:`EnrichmentObserver` without them is skipped for these notices)."""

    def on_response(self, response: RealtimeResponse, agent_name: str | None) -> None:
        """A realtime model response's metrics arrived."""

    def on_interrupted_turn(self, figures: Mapping[str, Any], agent_name: str | None) -> None:
        """An interrupted turn's played duration / barge-in stop latency."""

    def on_handoff(self, handoff: Handoff) -> None:
        """The active agent switched."""

    def on_false_interruption(self, resumed: bool, agent_name: str | None) -> None:
        """livekit judged an interruption false."""
