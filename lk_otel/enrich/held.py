"""Ended user turns held for their EOU metrics, which livekit 1.2 reports only afterwards."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import semconv as sc
from .extract import Tally, number
from .records import EouTiming, Output, Release


@dataclass(slots=True)
class Held:
    """A held user turn: the attributes it goes out with, and by when at the latest."""

    added: dict[str, Any]
    session: int | None
    deadline: float
    release: Callable[[dict[str, Any]], Release] = field(repr=False)


class HeldUserTurns:
    """Held user turns, oldest first: each waits ``seconds`` at most, ``most`` at a time."""

    def __init__(self, seconds: float, most: int, tally: Tally) -> None:
        self._seconds = seconds
        self._most = most
        self._tally = tally
        self._held: deque[Held] = deque()

    def __len__(self) -> int:
        return len(self._held)

    def hold(
        self,
        added: dict[str, Any],
        session: int | None,
        now: float,
        release: Callable[[dict[str, Any]], Release],
    ) -> list[Output]:
        """Hold a user turn; the oldest one is released if that makes too many."""
        self._held.append(Held(added, session, now + self._seconds, release))
        if len(self._held) > self._most:
            h = self._held.popleft()
            return [h.release(h.added)]
        return []

    def late_eou(self, session: int | None, timing: EouTiming) -> list[Output]:
        """The EOU metrics of ``session``'s oldest held user turn: released with them."""
        held = next((h for h in self._held if h.session == session), None)
        if held is None:
            return []
        self._held.remove(held)
        for key, value in (
            (sc.USER_END_OF_TURN_DELAY, timing.end_of_turn_delay),
            (sc.USER_TRANSCRIPTION_DELAY, timing.transcription_delay),
        ):
            if (v := number(value, self._tally)) is not None:
                held.added[key] = v
        return [held.release(held.added)]

    def expire(self, now: float) -> list[Output]:
        """The user turns whose wait is over at ``now``, released without the metrics."""
        out: list[Output] = []
        while self._held and self._held[0].deadline <= now:
            h = self._held.popleft()
            out.append(h.release(h.added))
        return out

    def release_session(self, session: int) -> list[Output]:
        """The user turns of a session that ended, released without the metrics."""
        out: list[Output] = []
        for h in [h for h in self._held if h.session == session]:
            self._held.remove(h)
            out.append(h.release(h.added))
        return out

    def release_all(self) -> list[Output]:
        """Every held user turn, released (a flush)."""
        out: list[Output] = [h.release(h.added) for h in self._held]
        self._held.clear()
        return out
