"""What a subscriber to the enrichment hears (the metrics recorder is one).

Observers are called on the enrichment worker thread, in stream order; an observer that
raises is logged once and does not cost any span its attributes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .extract import LlmCall, TtsCall
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
