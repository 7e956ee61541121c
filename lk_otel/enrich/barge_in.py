"""Barge-in figures of an interrupted agent turn, and false interruptions of a session.

Pure functions of span timestamps (seconds) and livekit's own keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .. import semconv as sc

Interval = tuple[float, float]


def audio_played(
    playout_position: float | None, agent_speaking: Sequence[Interval]
) -> float | None:
    """Seconds of the turn's audio that played out, overlap with the user included.

    livekit's ``lk.playout.position`` (the speaker's playback position when the reply was
    cut; 1.8 pipeline turns) when present; otherwise (realtime turns, 1.2) the summed length
    of the turn's ``agent_speaking`` spans, which run from the first played frame to the
    moment the audio stopped. None when the turn played nothing.
    """
    if playout_position is not None:
        return max(0.0, playout_position)
    if not agent_speaking:
        return None
    return sum(max(0.0, end - start) for start, end in agent_speaking)


def barge_in_stop_latency(
    agent_speaking: Sequence[Interval], user_speech_starts: Iterable[float]
) -> float | None:
    """Seconds from the user starting to speak over the agent to the agent's audio stopping.

    The user start is the first ``user_speaking`` start inside the turn's audio (between
    the first ``agent_speaking`` start and the last one's end); the stop is that last end.
    None when the user did not start while the agent was audible.
    """
    if not agent_speaking:
        return None
    first = min(start for start, _ in agent_speaking)
    stop = max(end for _, end in agent_speaking)
    inside = [t for t in user_speech_starts if first <= t <= stop]
    if not inside:
        return None
    return stop - min(inside)


def turn_attributes(
    *,
    interrupted: bool,
    playout_position: float | None,
    agent_speaking: Sequence[Interval],
    user_speech_starts: Iterable[float],
) -> dict[str, float]:
    """Figures of an interrupted turn.

    ``lk_otel.turn.played_duration``: the reply's audio heard before the user cut in (all
    that played, minus what played over the user); ``.barge_in_stop_latency``: how long
    the agent went on over the user. Interrupted without the user speaking over the audio
    (e.g. ``session.interrupt()``): all that played, and no latency.
    """
    if not interrupted:
        return {}
    attrs: dict[str, float] = {}
    played = audio_played(playout_position, agent_speaking)
    latency = barge_in_stop_latency(agent_speaking, user_speech_starts)
    if latency is not None:
        attrs[sc.TURN_BARGE_IN_STOP_LATENCY] = latency
    if played is not None:
        attrs[sc.TURN_PLAYED_DURATION] = max(0.0, played - (latency or 0.0))
    return attrs


def session_attributes(false_interruptions: Iterable[bool]) -> dict[str, int]:
    """Counts from the session's ``agent_false_interruption`` events (``resumed`` flags).

    Empty when the caller has no event source (livekit releases without the event): a
    count of zero is written only when the events were watched.
    """
    flags = list(false_interruptions)
    return {
        sc.SESSION_FALSE_INTERRUPTIONS: len(flags),
        sc.SESSION_RESUMED_INTERRUPTIONS: sum(1 for resumed in flags if resumed),
    }
