"""The injected ground truth of a simulated call: what the script made happen, and when.

The fake plugins, the microphone and the built-in tools record each scripted event with
wall-clock times (``time.time()``, the clock of span timestamps), so a test can compare
livekit's spans and metrics with what was actually injected, event by event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any, Literal

EventKind = Literal[
    "user_speech",  # the simulated user spoke (start..end of the utterance's audio)
    "blip",  # a short noise during the agent's speech
    "stt_interim",  # an interim transcript was sent (start = end = when)
    "stt_final",  # the final transcript was sent
    "llm_request",  # a scripted LLM request (outcome: done, error, cancelled)
    "tts_request",  # a scripted synthesis (first_audio_at; outcome: done, error, cancelled)
    "tool",  # a built-in tool ran
    "handoff",  # a built-in tool handed the call to another agent (to, tool)
]


@dataclass
class TruthEvent:
    """One injected event. ``turn`` is the 0-based user turn (None: the greeting)."""

    kind: EventKind
    turn: int | None
    start: float
    end: float | None = None
    outcome: str = "done"
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        return None if self.end is None else self.end - self.start


class GroundTruth:
    """The events of one call, in the order they started."""

    def __init__(self) -> None:
        self.events: list[TruthEvent] = []

    def begin(self, kind: EventKind, turn: int | None, **detail: Any) -> TruthEvent:
        event = TruthEvent(kind=kind, turn=turn, start=time.time(), detail=detail)
        self.events.append(event)
        return event

    @staticmethod
    def finish(event: TruthEvent, outcome: str = "done", **detail: Any) -> None:
        if event.end is None:
            event.end = time.time()
            event.outcome = outcome
        event.detail.update(detail)

    def instant(self, kind: EventKind, turn: int | None, **detail: Any) -> TruthEvent:
        event = self.begin(kind, turn, **detail)
        event.end = event.start
        return event

    def of(
        self, kind: EventKind, turn: int | EllipsisType | None = ..., **detail: Any
    ) -> list[TruthEvent]:
        """The events of one kind (and, if given, one turn and detail values)."""
        return [
            e
            for e in self.events
            if e.kind == kind
            and (turn is ... or e.turn == turn)
            and all(e.detail.get(k) == v for k, v in detail.items())
        ]
