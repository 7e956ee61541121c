"""The critical path of an answering turn: what the caller waited for, stage by stage.

Pure functions over a :class:`~lk_otel.enrich.timeline.TurnTimeline` (no SDK objects).
:func:`critical_path` walks forward from the user's end of speech (``user_stop_ns``) to the
agent's first audio (``audio_start_ns``). Each piece of work that the reply waited for
becomes a *critical* stage from where the path stood to where that work ended, so the
critical stages are consecutive, never overlap, and tile the whole interval (the turn's
``e2e_latency``). Work that ran in parallel is returned too, with ``critical=False``:
transcription inside endpointing, the part of a preemptive LLM round (or TTS) that ran
before the path reached it, LLM rounds and TTS runs whose output was not what the caller
heard. Stage names are constants ``STAGE_*`` of :mod:`lk_otel.semconv`; path order::

    end_of_turn (transcription off the path inside it) → on_user_turn_completed
    → per tool round: llm (to its tool call) → tool … → llm_finish → tool_handoff
    → llm (the spoken round, to its first token) → tts (to the first audio byte) → playout

A gap between two known timestamps that no span or metric explains is an ``untracked``
stage. A stage whose timestamps livekit did not give is left out (its time then shows as
``untracked``) and named by :func:`path_missing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .. import semconv as sc
from .timeline import LlmRound, ToolRun, TtsRun, TurnTimeline

_NS = 1e9
_LABELS = {
    sc.STAGE_END_OF_TURN: "end of turn",
    sc.STAGE_TRANSCRIPTION: "transcription",
    sc.STAGE_ON_USER_TURN_COMPLETED: "on_user_turn_completed (hook)",  # not livekit's span name
    sc.STAGE_PREEMPTIVE_LLM: "preemptive llm",
    sc.STAGE_LLM: "llm",
    sc.STAGE_TOOL_RUN: "tool",
    sc.STAGE_LLM_FINISH: "llm finish",
    sc.STAGE_TOOL_HANDOFF: "tool handoff",
    sc.STAGE_PREEMPTIVE_TTS: "preemptive tts",
    sc.STAGE_TTS: "tts",
    sc.STAGE_PLAYOUT: "playout",
    sc.STAGE_UNTRACKED: "untracked",
}
# off-path stages whose name already says why they are off the path
_PARALLEL_BY_NAME = frozenset(
    {sc.STAGE_TRANSCRIPTION, sc.STAGE_PREEMPTIVE_LLM, sc.STAGE_PREEMPTIVE_TTS}
)


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a turn, at its real timestamps (epoch ns).

    ``round`` is the 1-based LLM round of the turn (LLM stages), ``tool`` the tool's name.
    """

    name: str
    start_ns: int
    end_ns: int
    critical: bool = True
    round: int | None = None
    tool: str | None = None

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def seconds(self) -> float:
        return self.duration_ns / _NS

    @property
    def span_name(self) -> str:
        """A readable span name: ``tool check_availability``, ``llm round 2`` …"""
        label = _LABELS.get(self.name, self.name)
        if self.tool is not None:
            label = f"{label} {self.tool}"
        if self.round is not None:
            label = f"{label} round {self.round}"
        if not self.critical and self.name not in _PARALLEL_BY_NAME:
            label += " (off path)"
        return label


@dataclass(frozen=True, slots=True)
class _Plan:
    """Which rounds the caller waited for: indexes into ``timeline.llm`` (start order)."""

    spoken: int | None
    chain: tuple[int, ...]  # the tool rounds leading to the spoken one, then the spoken one
    tts: TtsRun | None


def _rounds_before(timeline: TurnTimeline, audio_ns: int) -> list[int]:
    return [i for i, r in enumerate(timeline.llm) if r.start_ns < audio_ns]


def _spoken_round(timeline: TurnTimeline, candidates: list[int], audio_ns: int) -> int | None:
    """The flagged spoken round; else the last uncancelled round with a token before audio."""
    flagged = [i for i in candidates if timeline.llm[i].spoken]
    if flagged:
        return flagged[-1]
    heard = [
        i
        for i in candidates
        if not timeline.llm[i].cancelled
        and timeline.llm[i].first_token_ns is not None
        and timeline.llm[i].first_token_ns <= audio_ns  # type: ignore[operator]
    ]
    return heard[-1] if heard else None


def _tools_between(tools: Iterable[ToolRun], start_ns: int, end_ns: int) -> list[ToolRun]:
    return [t for t in tools if start_ns <= t.start_ns < end_ns]


def _chain(timeline: TurnTimeline, spoken: int) -> tuple[int, ...]:
    """The spoken round and, walking back, each tool round that finished before the next."""
    chain = [spoken]
    for i in range(spoken - 1, -1, -1):
        r, nxt = timeline.llm[i], timeline.llm[chain[0]]
        called = r.tool_calls or _tools_between(timeline.tools, r.start_ns, nxt.start_ns)
        if r.cancelled or not called or r.end_ns > nxt.start_ns:
            break
        chain.insert(0, i)
    return tuple(chain)


def _spoken_tts(timeline: TurnTimeline, audio_ns: int) -> TtsRun | None:
    """The flagged spoken TTS run; else the last with a first byte (before audio if any)."""
    runs = [t for t in timeline.tts if t.start_ns < audio_ns]
    flagged = [t for t in runs if t.spoken]
    if flagged:
        return flagged[-1]
    timed = [t for t in runs if t.first_byte_ns is not None]
    heard = [t for t in timed if t.first_byte_ns <= audio_ns]  # type: ignore[operator]
    return (heard or timed or [None])[-1]


def _plan(timeline: TurnTimeline, audio_ns: int) -> _Plan:
    spoken = _spoken_round(timeline, _rounds_before(timeline, audio_ns), audio_ns)
    chain = _chain(timeline, spoken) if spoken is not None else ()
    return _Plan(spoken=spoken, chain=chain, tts=_spoken_tts(timeline, audio_ns))


def _tool_chain(tools: Sequence[ToolRun]) -> list[ToolRun]:
    """Of tools that may run in parallel, the sequence the path waits for (backwards by end)."""
    chain: list[ToolRun] = []
    pending = sorted(tools, key=lambda t: (t.end_ns, t.start_ns))
    while pending:
        last = pending.pop()
        if chain and last.end_ns > chain[0].start_ns:
            continue
        chain.insert(0, last)
    return chain


def _tts_text(run: TtsRun, token_ns: int | None, audio_ns: int) -> int | None:
    """When the spoken TTS run got its first text; its first byte is that + TTSMetrics.ttfb.

    ``first_byte_ns - start_ns`` is the ttfb, which livekit measures from the first text
    pushed: the later of the run's start and the spoken round's first token (livekit 1.2
    starts the node with the LLM), yet no later than first audio - ttfb (audio does not
    play before its first byte; the token, read from LLMMetrics, can lag the stream).
    """
    if run.first_byte_ns is None:
        return None
    ttfb = run.first_byte_ns - run.start_ns
    text = max(run.start_ns, token_ns or run.start_ns)
    return max(run.start_ns, min(text, audio_ns - ttfb))


class _Walk:
    """The forward walk: ``at`` is where the critical path has got to."""

    def __init__(self, start_ns: int, end_ns: int) -> None:
        self.at = start_ns
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.stages: list[Stage] = []

    def off(self, name: str, start_ns: int, end_ns: int, **kw: object) -> None:
        """Off-path work, clipped to the turn's interval (nothing outside it is shown)."""
        start, end = max(start_ns, self.start_ns), min(end_ns, self.end_ns)
        if end >= start and start < self.end_ns:
            self.stages.append(Stage(name, start, end, False, **kw))  # type: ignore[arg-type]

    def gap_to(self, ns: int, name: str = sc.STAGE_UNTRACKED) -> None:
        end = min(ns, self.end_ns)
        if end > self.at:
            self.stages.append(Stage(name, self.at, end))
            self.at = end

    def on(
        self,
        name: str,
        start_ns: int,
        end_ns: int,
        *,
        before: str | None = None,
        gap: str = sc.STAGE_UNTRACKED,
        **kw: object,
    ) -> None:
        """Work the path waited for; the part that ran before the path got there is off it.

        ``before`` names that earlier part (default: the same name), ``gap`` the wait from
        the path's position to the work's start.
        """
        done = end_ns < self.at or (end_ns == self.at and start_ns < self.at)
        if done or self.at >= self.end_ns:  # finished before the path got there
            self.off(before or name, start_ns, end_ns, **kw)
            return
        if start_ns > self.at:
            self.gap_to(start_ns, gap)
        elif start_ns < self.at:
            self.off(before or name, start_ns, self.at, **kw)
        end = min(end_ns, self.end_ns)
        self.stages.append(Stage(name, self.at, end, True, **kw))  # type: ignore[arg-type]
        self.at = end


def _walk_round(
    walk: _Walk, timeline: TurnTimeline, i: int, next_start: int | None, tts_text: int | None
) -> None:
    """One round of the chain: a tool round if ``next_start`` is given, else the spoken one
    (to its first token, which came no later than the TTS's first text)."""
    r: LlmRound = timeline.llm[i]
    n = i + 1
    if next_start is None:
        if r.first_token_ns is not None:
            token = r.first_token_ns
            if tts_text is not None and r.start_ns <= tts_text < token:
                token = tts_text
            walk.on(sc.STAGE_LLM, r.start_ns, token, before=sc.STAGE_PREEMPTIVE_LLM, round=n)
        return
    tools = _tools_between(timeline.tools, r.start_ns, next_start)
    on_path = _tool_chain(tools)
    call_done = min([r.end_ns, *(t.start_ns for t in on_path)])
    walk.on(sc.STAGE_LLM, r.start_ns, call_done, before=sc.STAGE_PREEMPTIVE_LLM, round=n)
    for tool in tools:
        if tool not in on_path:
            walk.off(sc.STAGE_TOOL_RUN, tool.start_ns, tool.end_ns, tool=tool.name)
    for tool in on_path:
        walk.on(sc.STAGE_TOOL_RUN, tool.start_ns, tool.end_ns, tool=tool.name)
    if r.end_ns > walk.at:
        walk.on(sc.STAGE_LLM_FINISH, walk.at, r.end_ns, round=n)
    walk.gap_to(next_start, sc.STAGE_TOOL_HANDOFF)


def critical_path(timeline: TurnTimeline) -> list[Stage]:
    """The turn's stages, ordered by start (critical before off-path at the same instant).

    Empty when the user's stop or the agent's first audio is unknown (a greeting, ``say()``,
    a reply interrupted before any audio) or when the audio came before the stop.
    """
    stop, audio = timeline.user_stop_ns, timeline.audio_start_ns
    if stop is None or audio is None or audio < stop:
        return []
    walk = _Walk(stop, audio)
    eot = timeline.end_of_turn_ns
    if eot is not None:
        walk.on(sc.STAGE_END_OF_TURN, stop, eot)
    if timeline.transcript_ns is not None:
        walk.on(sc.STAGE_TRANSCRIPTION, stop, timeline.transcript_ns)
    if timeline.on_user_turn_completed_ns is not None:
        walk.on(sc.STAGE_ON_USER_TURN_COMPLETED, *timeline.on_user_turn_completed_ns)

    plan = _plan(timeline, audio)
    spoken_token = timeline.llm[plan.spoken].first_token_ns if plan.spoken is not None else None
    tts_text = _tts_text(plan.tts, spoken_token, audio) if plan.tts is not None else None
    for pos, i in enumerate(plan.chain):
        nxt = plan.chain[pos + 1] if pos + 1 < len(plan.chain) else None
        next_start = timeline.llm[nxt].start_ns if nxt is not None else None
        _walk_round(walk, timeline, i, next_start, tts_text)
    for i in _rounds_before(timeline, audio):
        if i not in plan.chain:
            r = timeline.llm[i]
            walk.off(sc.STAGE_LLM, r.start_ns, r.end_ns, round=i + 1)
    chained = set(plan.chain[:-1])
    for tool in timeline.tools:
        owner = [
            i
            for i in chained
            if timeline.llm[i].start_ns <= tool.start_ns < timeline.llm[i + 1].start_ns
        ]
        if not owner and tool.start_ns < audio:
            walk.off(sc.STAGE_TOOL_RUN, tool.start_ns, tool.end_ns, tool=tool.name)

    last_gap = sc.STAGE_UNTRACKED  # playout only once the first byte is placed
    for run in timeline.tts:
        if run.start_ns >= audio:
            continue
        if run is plan.tts and tts_text is not None:
            first = tts_text + run.first_byte_ns - run.start_ns  # type: ignore[operator]
            walk.on(sc.STAGE_TTS, tts_text, first, before=sc.STAGE_PREEMPTIVE_TTS)
            last_gap = sc.STAGE_PLAYOUT
            continue
        walk.off(sc.STAGE_TTS, run.start_ns, run.end_ns)
    walk.gap_to(audio, last_gap)
    return sorted(walk.stages, key=lambda s: (s.start_ns, not s.critical, s.end_ns))


def path_missing(timeline: TurnTimeline) -> tuple[str, ...]:
    """Names of the path's stages that livekit gave no timestamp for (their time is
    ``untracked``); empty when the turn has no path at all."""
    stop, audio = timeline.user_stop_ns, timeline.audio_start_ns
    if stop is None or audio is None or audio < stop:
        return ()
    plan = _plan(timeline, audio)
    spoken = timeline.llm[plan.spoken] if plan.spoken is not None else None
    missing = [
        (sc.STAGE_END_OF_TURN, timeline.end_of_turn_ns is None),
        (sc.STAGE_TRANSCRIPTION, timeline.transcript_ns is None),
        (sc.STAGE_ON_USER_TURN_COMPLETED, timeline.on_user_turn_completed_ns is None),
        (sc.STAGE_LLM, spoken is None or spoken.first_token_ns is None),
        (sc.STAGE_TTS, plan.tts is None or plan.tts.first_byte_ns is None),
    ]
    return tuple(name for name, absent in missing if absent)


def stage_attributes(stage: Stage) -> dict[str, object]:
    """Attributes of the stage's span (its name is :attr:`Stage.span_name`)."""
    attrs: dict[str, object] = {
        sc.STAGE_NAME: stage.name,
        sc.STAGE_DURATION: stage.seconds,
        sc.STAGE_CRITICAL: stage.critical,
    }
    if stage.tool is not None:
        attrs[sc.STAGE_TOOL] = stage.tool
    if stage.round is not None:
        attrs[sc.STAGE_ROUND] = stage.round
    return attrs


def response_latency_attributes(timeline: TurnTimeline) -> dict[str, object]:
    """Attributes of the ``response_latency`` span (user stop → first audio); ``{}`` if none."""
    stop, audio = timeline.user_stop_ns, timeline.audio_start_ns
    if stop is None or audio is None or audio < stop:
        return {}
    attrs: dict[str, object] = {
        sc.STAGE_NAME: sc.SPAN_RESPONSE_LATENCY,
        sc.STAGE_DURATION: (audio - stop) / _NS,
    }
    if missing := path_missing(timeline):
        attrs[sc.STAGE_MISSING] = missing
    return attrs


def stage_totals(stages: Iterable[Stage]) -> dict[str, float]:
    """Seconds on the critical path per stage name (rounds and tools summed), path order."""
    totals: dict[str, float] = {}
    for stage in stages:
        if stage.critical:
            totals[stage.name] = totals.get(stage.name, 0.0) + stage.seconds
    return totals


def turn_path_attributes(stages: Sequence[Stage], timeline: TurnTimeline) -> dict[str, object]:
    """Flat figures of the path for the turn span; ``{}`` when the turn has no path.

    ``lk_otel.turn.stage.<name>`` (s, summed over rounds and tools), ``.critical_path``
    (s, their sum), ``.spoken_llm_ttft`` (s), ``.llm_rounds``, ``.slowest_stage`` (the
    name with the most path time; first in path order on a tie), ``.path_missing``.
    """
    totals = stage_totals(stages)
    audio = timeline.audio_start_ns
    if not totals or audio is None:
        return {}
    attrs: dict[str, object] = {sc.TURN_STAGE_PREFIX + k: v for k, v in totals.items()}
    attrs[sc.TURN_CRITICAL_PATH] = sum(s.duration_ns for s in stages if s.critical) / _NS
    plan = _plan(timeline, audio)
    attrs[sc.TURN_LLM_ROUNDS] = len(plan.chain)
    if plan.spoken is not None:
        spoken = timeline.llm[plan.spoken]
        if spoken.first_token_ns is not None:
            attrs[sc.TURN_SPOKEN_LLM_TTFT] = (spoken.first_token_ns - spoken.start_ns) / _NS
    attrs[sc.TURN_SLOWEST_STAGE] = max(totals, key=lambda k: totals[k])
    if missing := path_missing(timeline):
        attrs[sc.TURN_PATH_MISSING] = missing
    return attrs
