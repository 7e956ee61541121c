"""Who spoke when: the whole call from ``user_speaking`` and ``agent_speaking`` spans.

Overlaps are the times both spoke; a barge-in is the user starting to speak while the agent
is speaking; silences are the gaps (at least :data:`MIN_SILENCE_S`) when neither did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lk_otel import semconv as sc
from lk_otel.report.records import SpanRecord

Interval = tuple[int, int]  # start, end (epoch ns)
MIN_SILENCE_S = 0.2


@dataclass(frozen=True)
class CallSpeech:
    """Speech intervals of one session, and what follows from them (all epoch ns)."""

    start_ns: int
    end_ns: int
    user: tuple[Interval, ...]
    agent: tuple[Interval, ...]
    overlaps: tuple[Interval, ...]
    barge_ins: tuple[int, ...]
    silences: tuple[Interval, ...]

    @property
    def empty(self) -> bool:
        return not self.user and not self.agent


def _intervals(records: Iterable[SpanRecord], name: str) -> tuple[Interval, ...]:
    return tuple(
        sorted((r.start_ns, r.end_ns) for r in records if r.name == name and r.end_ns is not None)
    )


def _overlaps(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> tuple[Interval, ...]:
    out = [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b]
    return tuple(sorted((s, e) for s, e in out if e > s))


def _silences(
    speech: Iterable[Interval], start_ns: int, end_ns: int, min_ns: int
) -> tuple[Interval, ...]:
    out, at = [], start_ns
    for s, e in sorted(speech):
        if s - at >= min_ns:
            out.append((at, s))
        at = max(at, e)
    if end_ns - at >= min_ns:
        out.append((at, end_ns))
    return tuple(out)


def call_speech(records: Iterable[SpanRecord], start_ns: int, end_ns: int | None) -> CallSpeech:
    """The speech of the spans in ``records`` that start in ``[start_ns, end_ns]``.

    Silences run from the first speech to the last (not the session's idle ends).
    """
    inside = [
        r for r in records if r.start_ns >= start_ns and (end_ns is None or r.start_ns <= end_ns)
    ]
    user = _intervals(inside, sc.SPAN_USER_SPEAKING)
    agent = _intervals(inside, sc.SPAN_AGENT_SPEAKING)
    every = user + agent
    first = min((s for s, _ in every), default=start_ns)
    last = max((e for _, e in every), default=first)
    barge = tuple(s for s, _ in user if any(a0 < s < a1 for a0, a1 in agent))
    return CallSpeech(
        start_ns=first,
        end_ns=last,
        user=user,
        agent=agent,
        overlaps=_overlaps(user, agent),
        barge_ins=barge,
        silences=_silences(every, first, last, round(MIN_SILENCE_S * 1e9)),
    )
