"""The script of a simulated realtime (speech-to-speech) call, with optional agent handoffs.

Plain frozen dataclasses read from a JSON-like mapping (:func:`realtime_script_from_dict`);
every duration is in seconds and is divided by the run's ``speed`` (:meth:`scaled`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from .scenario import ScenarioError


@dataclass(frozen=True)
class RealtimeUsage:
    """Token counts of one realtime response, by modality (RealtimeModelMetrics' details)."""

    input_audio: int = 0
    input_text: int = 0
    input_image: int = 0
    cached_audio: int = 0
    cached_text: int = 0
    cached_image: int = 0
    output_audio: int = 0
    output_text: int = 0

    @property
    def input_tokens(self) -> int:
        return self.input_audio + self.input_text + self.input_image

    @property
    def output_tokens(self) -> int:
        return self.output_audio + self.output_text

    @property
    def cached_tokens(self) -> int:
        return self.cached_audio + self.cached_text + self.cached_image


@dataclass(frozen=True)
class RealtimeToolCall:
    """A function call the model makes; ``handoff_to`` names the agent the tool returns."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    result: str = ""
    handoff_to: str | None = None


@dataclass(frozen=True)
class RealtimeResponse:
    """One model response: first audio at ``ttft``, generation done at ``duration``."""

    text: str = ""
    ttft: float = 0.3
    duration: float = 0.6
    audio_duration: float = 1.0
    tool_call: RealtimeToolCall | None = None
    usage: RealtimeUsage = field(default_factory=RealtimeUsage)

    @property
    def has_audio(self) -> bool:
        return bool(self.text) and self.audio_duration > 0


@dataclass(frozen=True)
class RealtimeTurn:
    """A user utterance and the responses that follow it (a tool call's follow-up, a handoff's
    greeting by the next agent); ``interrupt_after``: the next user turn starts that many
    seconds into the agent's audio."""

    text: str
    speech_duration: float
    responses: tuple[RealtimeResponse, ...]
    interrupt_after: float | None = None


@dataclass(frozen=True)
class RealtimeAgentSpec:
    name: str
    instructions: str
    greets_on_enter: bool = False


@dataclass(frozen=True)
class RealtimeScript:
    """A whole realtime call. ``agents[0]`` starts; a handoff tool switches to another."""

    turns: tuple[RealtimeTurn, ...]
    agents: tuple[RealtimeAgentSpec, ...] = (RealtimeAgentSpec("assistant", "Be helpful."),)
    greeting: RealtimeResponse | None = None
    model: str = "sim-realtime-1"
    provider: str = "lk-otel-sim"
    silence_duration: float = 0.3
    """server VAD: silence after speech before it reports the end of speech"""
    transcription_delay: float = 0.2
    """input transcript arrives this long after the end of speech"""
    turn_detection: str = "server"
    """``server``: the model's own VAD ends turns; ``vad``: livekit's VAD (the scripted one)
    ends them and asks the model for the reply (client-side turn detection)"""
    endpointing_delay: float = 0.5
    """``vad`` turn detection: livekit's silence delay before the end of the turn"""
    session_billed: bool = False
    """report ``session_duration`` (connection time) in the metrics, as session-billed models"""

    def scaled(self, speed: float) -> RealtimeScript:
        def resp(r: RealtimeResponse) -> RealtimeResponse:
            return replace(
                r,
                ttft=r.ttft / speed,
                duration=r.duration / speed,
                audio_duration=r.audio_duration / speed,
            )

        turns = tuple(
            replace(
                t,
                speech_duration=t.speech_duration / speed,
                responses=tuple(resp(r) for r in t.responses),
                interrupt_after=None if t.interrupt_after is None else t.interrupt_after / speed,
            )
            for t in self.turns
        )
        return replace(
            self,
            turns=turns,
            greeting=None if self.greeting is None else resp(self.greeting),
            silence_duration=self.silence_duration / speed,
            endpointing_delay=self.endpointing_delay / speed,
            transcription_delay=self.transcription_delay / speed,
        )

    def agent(self, name: str) -> RealtimeAgentSpec:
        for spec in self.agents:
            if spec.name == name:
                return spec
        raise ScenarioError(f"no agent named {name!r} in the script")

    def responses(self) -> list[RealtimeResponse]:
        """Every response in the order the model plays them."""
        out = [] if self.greeting is None else [self.greeting]
        for turn in self.turns:
            out.extend(turn.responses)
        return out


def _response(data: Mapping[str, Any]) -> RealtimeResponse:
    tool = data.get("tool_call")
    return RealtimeResponse(
        text=str(data.get("text", "")),
        ttft=float(data.get("ttft", 0.3)),
        duration=float(data.get("duration", 0.6)),
        audio_duration=float(data.get("audio_duration", 1.0 if data.get("text") else 0.0)),
        tool_call=None if tool is None else RealtimeToolCall(**tool),
        usage=RealtimeUsage(**data.get("usage", {})),
    )


def realtime_script_from_dict(data: Mapping[str, Any]) -> RealtimeScript:
    """A script from its JSON form (see ``scenarios/realtime/realtime.json``)."""
    try:
        turns = tuple(
            RealtimeTurn(
                text=str(t["text"]),
                speech_duration=float(t["speech_duration"]),
                responses=tuple(_response(r) for r in t["responses"]),
                interrupt_after=t.get("interrupt_after"),
            )
            for t in data["turns"]
        )
        agents: Sequence[Mapping[str, Any]] = data.get(
            "agents", [{"name": "assistant", "instructions": "Be helpful."}]
        )
        greeting = data.get("greeting")
        opts = {
            k: data[k]
            for k in (
                "model",
                "provider",
                "silence_duration",
                "transcription_delay",
                "session_billed",
                "turn_detection",
                "endpointing_delay",
            )
            if k in data
        }
        script = RealtimeScript(
            turns=turns,
            agents=tuple(RealtimeAgentSpec(**a) for a in agents),
            greeting=None if greeting is None else _response(greeting),
            **opts,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(f"bad realtime script: {exc}") from exc
    if script.turn_detection not in ("server", "vad"):
        raise ScenarioError("turn_detection must be 'server' or 'vad'")
    if any(not turn.responses for turn in script.turns):
        raise ScenarioError("every user turn needs at least one response")
    for response in script.responses():
        if response.tool_call and response.tool_call.handoff_to:
            script.agent(response.tool_call.handoff_to)
        if response.duration < response.ttft:
            raise ScenarioError("a response's duration is shorter than its ttft")
        u = response.usage
        if u.cached_audio > u.input_audio or u.cached_text > u.input_text:
            raise ScenarioError("a response caches more input tokens than it has")
    return script


def load_realtime_script(name: str = "realtime") -> RealtimeScript:
    """A built-in realtime script (``scenarios/realtime/``): ``realtime`` or ``handoff``."""
    text = (
        resources.files(__package__).joinpath("scenarios", "realtime", f"{name}.json").read_text()
    )
    return realtime_script_from_dict(json.loads(text))
