"""How stages read in the report: labels, colours, a turn's path in one line, "why slow"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lk_otel import semconv as sc
from lk_otel.enrich.critical_path import Stage, stage_totals
from lk_otel.report.turn import TurnReport
from lk_otel.report.values import milliseconds

SHOWN_MIN_MS = 1  # critical stages shorter than this are left out of the one-line path


@dataclass(frozen=True)
class StageKind:
    """Label and colour of a stage name (Okabe-Ito palette, colour-blind safe)."""

    key: str
    label: str
    color: str


STAGE_KINDS = (
    StageKind(sc.STAGE_END_OF_TURN, "end of turn", "#CC79A7"),
    StageKind(sc.STAGE_TRANSCRIPTION, "transcription", "#F0E442"),
    StageKind(sc.STAGE_ON_USER_TURN_COMPLETED, "on_user_turn_completed", "#D55E00"),
    StageKind(sc.STAGE_PREEMPTIVE_LLM, "preemptive LLM", "#56B4E9"),
    StageKind(sc.STAGE_LLM, "LLM", "#0072B2"),
    StageKind(sc.STAGE_TOOL_RUN, "tool", "#009E73"),
    StageKind(sc.STAGE_LLM_FINISH, "LLM finish", "#56B4E9"),
    StageKind(sc.STAGE_TOOL_HANDOFF, "tool handoff", "#999933"),
    StageKind(sc.STAGE_PREEMPTIVE_TTS, "preemptive TTS", "#F5C26B"),
    StageKind(sc.STAGE_TTS, "TTS", "#E69F00"),
    StageKind(sc.STAGE_PLAYOUT, "playout", "#882255"),
    StageKind(sc.STAGE_UNTRACKED, "untracked", "#BBBBBB"),
)
_BY_KEY = {k.key: k for k in STAGE_KINDS}
_OTHER = StageKind("other", "other", "#777777")


def kind_of(name: str) -> StageKind:
    return _BY_KEY.get(name, StageKind(name, name.replace("_", " "), _OTHER.color))


def stage_label(stage: Stage) -> str:
    """``check_availability`` for a tool, ``LLM`` … for the rest."""
    if stage.name == sc.STAGE_TOOL_RUN and stage.tool:
        return stage.tool
    return kind_of(stage.name).label


def path_line(stages: Sequence[Stage]) -> str:
    """``end of turn 501 ms → LLM 420 ms → check_availability 2 ms → LLM 550 ms → …``.

    Stages under :data:`SHOWN_MIN_MS` but tools are left out; untracked neighbours merge.
    """
    shown: list[tuple[str, float]] = []
    for s in stages:
        tiny = milliseconds(s.seconds) < SHOWN_MIN_MS and s.name != sc.STAGE_TOOL_RUN
        if not s.critical or tiny:
            continue
        label = stage_label(s)
        if shown and shown[-1][0] == label and s.name == sc.STAGE_UNTRACKED:
            shown[-1] = (label, shown[-1][1] + s.seconds)
        else:
            shown.append((label, s.seconds))
    return " → ".join(f"{label} {milliseconds(sec)} ms" for label, sec in shown)


def off_path_line(stages: Sequence[Stage]) -> str:
    """The parallel work: ``transcription 280 ms, preemptive LLM round 1 61 ms`` (or empty)."""
    return ", ".join(
        f"{stage_label(s)}{f' round {s.round}' if s.round else ''} {milliseconds(s.seconds)} ms"
        for s in stages
        if not s.critical
    )


def is_slow(turn: TurnReport, p95: float | None, threshold: float | None) -> bool:
    """Above the threshold (s), or at/above the session's p95 when the session has one."""
    e2e = turn.e2e_latency
    if e2e is None:
        return False
    return (threshold is not None and e2e > threshold) or (p95 is not None and e2e >= p95)


def why_slow(turn: TurnReport) -> str | None:
    """One line naming where the turn's time went, from its critical path."""
    path = turn.path
    if path is None or not path.critical:
        return None
    totals = stage_totals(path.stages)
    name = max(totals, key=lambda k: totals[k])
    total = turn.e2e_latency if turn.e2e_latency is not None else path.seconds
    share = totals[name] / total * 100 if total > 0 else 0.0
    rounds = [s for s in path.critical if s.name == sc.STAGE_LLM]
    detail = ""
    if name in (sc.STAGE_LLM, sc.STAGE_LLM_FINISH) and len({s.round for s in rounds}) > 1:
        detail = f" over {len({s.round for s in rounds})} LLM rounds"
    tools = [s for s in path.critical if s.name == sc.STAGE_TOOL_RUN]
    line = (
        f"{kind_of(name).label} {milliseconds(totals[name])} ms{detail} "
        f"({share:.0f}% of {milliseconds(total)} ms)"
    )
    if tools:
        waited = sum(
            s.seconds
            for s in path.critical
            if s.name in (sc.STAGE_TOOL_RUN, sc.STAGE_LLM_FINISH, sc.STAGE_TOOL_HANDOFF)
            or (s.name == sc.STAGE_LLM and s.round != rounds[-1].round)
        )
        names = ", ".join(dict.fromkeys(s.tool or "tool" for s in tools))
        line += f"; the tool round ({names}) cost {milliseconds(waited)} ms before the answer"
    if path.missing:
        line += f"; not timed by this livekit: {', '.join(path.missing)}"
    return line
