"""Per-session data that is on no span: STT usage, EOU timing, usage totals, identity.

A ``SessionFeed`` subscribes to one ``AgentSession``'s events and keeps what the span
enrichment needs. It is filled on the agent's event loop and read from whichever thread
ends a span, so every access holds the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EouTiming:
    """End-of-turn figures of one user turn, from livekit's ``EOUMetrics``."""

    end_of_turn_delay: float
    transcription_delay: float
    on_user_turn_completed_delay: float
    speech_id: str | None
    last_speaking_time: float | None  # epoch seconds; 1.2 only


@dataclass
class SessionFeed:
    """What one AgentSession's events told us."""

    stt_audio_unassigned: float = 0.0
    eou: dict[str, EouTiming] = field(default_factory=dict)
    eou_listeners: list[Callable[[EouTiming], None]] = field(default_factory=list)
    usage_summary: Callable[[], list[dict[str, Any]]] | None = None
    participant_identity: str | None = None
    identity_source: Callable[[], str | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_stt(self, audio_duration: float) -> None:
        """STT audio reported by an ``STTMetrics`` or usage event."""
        with self.lock:
            self.stt_audio_unassigned += audio_duration

    def take_stt_audio(self) -> float:
        """STT audio seconds reported since the previous call (one user turn's worth)."""
        with self.lock:
            value, self.stt_audio_unassigned = self.stt_audio_unassigned, 0.0
            return value

    def on_eou(self, timing: EouTiming) -> None:
        """An ``EOUMetrics`` event; listeners hear it after it is stored."""
        with self.lock:
            if timing.speech_id:
                self.eou[timing.speech_id] = timing
            listeners = list(self.eou_listeners)
        for listener in listeners:
            listener(timing)

    def eou_for(self, speech_id: str | None) -> EouTiming | None:
        """The EOU timing of the user turn answered by ``speech_id``."""
        if not speech_id:
            return None
        with self.lock:
            return self.eou.get(speech_id)

    def identity(self) -> str | None:
        """The remote participant's identity (PII: used only when allowed)."""
        if self.participant_identity is None and self.identity_source is not None:
            self.participant_identity = self.identity_source()
        return self.participant_identity

    def usage(self) -> list[dict[str, Any]]:
        """Per-model usage as plain dicts, from livekit's own accounting."""
        return self.usage_summary() if self.usage_summary else []
