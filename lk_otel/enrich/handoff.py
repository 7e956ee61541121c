"""Which agent answered each turn, and the handoffs between agents of a session.

Pure functions of span attribute mappings (livekit's ``agent_turn``, ``update_agent``,
``function_tool``) and per-turn figure dicts.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import semconv as sc


@dataclass(frozen=True)
class Handoff:
    """One switch of the active agent (livekit's ``update_agent`` span)."""

    from_agent: str | None
    to_agent: str
    tool: str | None
    at: float  # s, the update_agent span's start

    def event_attributes(self) -> dict[str, str]:
        attrs = {sc.HANDOFF_TO: self.to_agent}
        if self.from_agent is not None:
            attrs[sc.HANDOFF_FROM] = self.from_agent
        if self.tool is not None:
            attrs[sc.HANDOFF_TOOL] = self.tool
        return attrs


def turn_agent(turn: Mapping[str, Any]) -> str | None:
    """The active agent of a turn span: ``gen_ai.agent.name`` (1.8), else ``lk.agent_label``."""
    for key in (sc.GEN_AI_AGENT_NAME, sc.LK_AGENT_LABEL):
        value = turn.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def turn_attributes(turn: Mapping[str, Any], fallback_agent: str | None) -> dict[str, str]:
    """``lk_otel.turn.agent``: the span's own agent, else the session's active agent (1.2
    writes no agent on its turn spans: the caller passes the last ``start_agent_activity``
    / ``update_agent`` label)."""
    agent = turn_agent(turn) or fallback_agent
    return {} if agent is None else {sc.TURN_AGENT: agent}


def handoff_from_span(
    update_agent: Mapping[str, Any], start: float, tool: str | None
) -> Handoff | None:
    """A handoff from an ``update_agent`` span's keys and start time; ``tool`` is the last
    ``function_tool`` (``gen_ai.tool.name``) that ended before it, if any."""
    to_agent = update_agent.get(sc.LK_AGENT_LABEL)
    if not isinstance(to_agent, str) or not to_agent:
        return None
    previous = update_agent.get(sc.LK_PREVIOUS_AGENT_LABEL)
    return Handoff(
        from_agent=previous if isinstance(previous, str) and previous else None,
        to_agent=to_agent,
        tool=tool,
        at=start,
    )


def handoffs_from_activities(
    activities: Sequence[tuple[str, float]], tools: Sequence[tuple[str | None, float]]
) -> list[Handoff]:
    """Handoffs on releases without ``update_agent`` (1.2): every ``start_agent_activity``
    ``(label, start)`` after the first switches from the previous one's agent; the tool is
    the last ``(tool name, end)`` that ended before it."""
    out: list[Handoff] = []
    for (previous, _), (label, start) in itertools.pairwise(activities):
        done = [name for name, end in tools if end <= start]
        out.append(Handoff(previous, label, done[-1] if done else None, start))
    return out


def session_attributes(
    agents_in_order: Iterable[str], handoffs: Sequence[Handoff]
) -> dict[str, Any]:
    """``lk_otel.session.handoffs`` and ``.agents`` (each agent once, in order of first
    activity: the first agent, then every handoff's target)."""
    seen: list[str] = []
    for agent in agents_in_order:
        if agent not in seen:
            seen.append(agent)
    for handoff in handoffs:
        for agent in (handoff.from_agent, handoff.to_agent):
            if agent is not None and agent not in seen:
                seen.append(agent)
    attrs: dict[str, Any] = {sc.SESSION_HANDOFFS: len(handoffs)}
    if seen:
        attrs[sc.SESSION_AGENTS] = tuple(seen)
    return attrs


# per-turn keys summed per agent
_AGENT_TOTAL_KEYS: tuple[tuple[str, str], ...] = (
    (sc.TURN_INPUT_TOKENS, "input_tokens"),
    (sc.TURN_OUTPUT_TOKENS, "output_tokens"),
    (sc.TURN_CACHED_INPUT_TOKENS, "cached_input_tokens"),
    (sc.TURN_INPUT_AUDIO_TOKENS, "input_audio_tokens"),
    (sc.TURN_INPUT_TEXT_TOKENS, "input_text_tokens"),
    (sc.TURN_OUTPUT_AUDIO_TOKENS, "output_audio_tokens"),
    (sc.TURN_OUTPUT_TEXT_TOKENS, "output_text_tokens"),
    (sc.TURN_TTS_CHARACTERS, "tts_characters"),
    (sc.TURN_COST, "cost"),
)


def add_agent_usage(totals: dict[str, dict[str, Any]], turn: Mapping[str, Any]) -> None:
    """Add one turn's ``lk_otel.turn.*`` figures to its agent's entry in ``totals``
    (``turn.agent`` set; keys the turn lacks are not summed): a session keeps totals, not
    its turns."""
    agent = turn.get(sc.TURN_AGENT)
    if not isinstance(agent, str):
        return
    entry = totals.setdefault(agent, {"agent": agent, "turns": 0})
    entry["turns"] += 1
    for key, name in _AGENT_TOTAL_KEYS:
        value = turn.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            entry[name] = entry.get(name, 0) + value


def agent_usage(turns: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per-agent totals of the turns' ``lk_otel.turn.*`` figures, in order of first turn."""
    totals: dict[str, dict[str, Any]] = {}
    for turn in turns:
        add_agent_usage(totals, turn)
    return list(totals.values())


def agent_usage_attributes(turns: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``lk_otel.session.agent_usage`` (JSON) when more than one agent answered."""
    return usage_attributes(agent_usage(turns))


def usage_attributes(usage: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``lk_otel.session.agent_usage`` (JSON) of per-agent totals, when there are two or more."""
    if len(usage) < 2:
        return {}
    return {sc.SESSION_AGENT_USAGE: json.dumps(usage, separators=(",", ":"))}
