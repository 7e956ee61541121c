"""Run a realtime script (optionally with agent handoffs) through a real AgentSession."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import Agent, AgentSession, __version__, llm, metrics
from livekit.agents.voice.transcription.synchronizer import TranscriptSynchronizer

from .. import _compat
from .agent import _json_type
from .audio import SimAudioInput, SimAudioOutput, SimTextOutput
from .closing import close_session
from .realtime import ScriptCursor, ScriptedRealtimeModel
from .realtime_script import RealtimeAgentSpec, RealtimeScript, RealtimeToolCall
from .runner import FALSE_INTERRUPTION_TIMEOUT, SimulationError
from .scenario import MIN_INTERRUPTION_DURATION
from .vad import ScriptedVAD

USER_RESPONSE_GAP = 0.4
_WAIT_SLACK = 15.0


@dataclass
class RealtimeResult:
    """What livekit reported during one simulated realtime call."""

    script: RealtimeScript
    speed: float
    session_id: str
    livekit_version: str
    metrics: list[Any] = field(default_factory=list)
    usage: Any = None
    chat_items: list[Any] = field(default_factory=list)
    events: list[tuple[str, float, Any]] = field(default_factory=list)
    """``(event name, time.time(), event)`` of agent_state/user_state/false interruption/
    agent handoff session events, in order."""
    truncations: list[tuple[str, int]] = field(default_factory=list)
    speech_started_at: list[float] = field(default_factory=list)
    interrupted_at: list[float] = field(default_factory=list)
    """wall-clock time the scripted barge-in was injected (user audio starts)"""
    anomalies: list[str] = field(default_factory=list)

    @property
    def injected(self) -> RealtimeScript:
        return self.script.scaled(self.speed)

    def realtime_metrics(self, *, with_usage: bool = True) -> list[Any]:
        """RealtimeModelMetrics of the responses (not the zero-usage connection report)."""
        return [
            m
            for m in self.metrics
            if type(m).__name__ == "RealtimeModelMetrics" and (m.request_id or not with_usage)
        ]


class RealtimeSimAgent(Agent):
    """An agent of the script: its own instructions and every scripted tool."""

    def __init__(self, spec: RealtimeAgentSpec, call: _RealtimeCall, *, greets: bool) -> None:
        super().__init__(
            instructions=spec.instructions,
            tools=call.tools(),
            **_compat.agent_name_kwargs(spec.name),
        )
        self.spec = spec
        self._greets = greets or spec.greets_on_enter

    async def on_enter(self) -> None:
        if self._greets:
            self.session.generate_reply()


def _agent(spec: RealtimeAgentSpec, call: _RealtimeCall, *, greets: bool) -> RealtimeSimAgent:
    """An agent named after ``spec``: 1.8 takes the name (``id=``); 1.2 labels an agent by
    its class path, so each scripted agent gets a subclass named after it."""
    cls = _AGENT_CLASSES.get(spec.name)
    if cls is None:
        cls = type(spec.name, (RealtimeSimAgent,), {"__module__": "lk_otel.agents"})
        _AGENT_CLASSES[spec.name] = cls
    return cls(spec, call, greets=greets)


_AGENT_CLASSES: dict[str, type[RealtimeSimAgent]] = {}


class _RealtimeCall:
    def __init__(self, script: RealtimeScript, result: RealtimeResult) -> None:
        self.script = script
        self.result = result
        self.microphone = SimAudioInput()
        self.speaker = SimAudioOutput()
        self.transcript = SimTextOutput()
        self.agent_state = "initializing"
        self._waiters: list[asyncio.Future[None]] = []

    def tools(self) -> list[Any]:
        calls: dict[str, RealtimeToolCall] = {}
        for response in self.script.responses():
            if response.tool_call is not None:
                calls.setdefault(response.tool_call.name, response.tool_call)
        return [self._tool(call) for call in calls.values()]

    def _tool(self, call: RealtimeToolCall) -> Any:
        schema = {
            "name": call.name,
            "description": f"Simulated tool {call.name}.",
            "parameters": {
                "type": "object",
                "properties": {k: {"type": _json_type(v)} for k, v in call.arguments.items()},
                "required": list(call.arguments),
            },
        }

        async def tool(raw_arguments: dict[str, object]) -> Any:
            if call.handoff_to is not None:
                return _agent(self.script.agent(call.handoff_to), self, greets=False)
            return call.result

        return llm.function_tool(tool, raw_schema=schema)

    def on_event(self, name: str) -> Callable[[Any], None]:
        def record(event: Any) -> None:
            self.result.events.append((name, time.time(), event))
            if name == "agent_state_changed":
                self.agent_state = event.new_state
                for waiter in self._waiters:
                    if not waiter.done():
                        waiter.set_result(None)
                self._waiters.clear()

        return record

    async def wait_listening(self) -> None:
        loop = asyncio.get_running_loop()
        while self.agent_state != "listening":
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            await waiter

    async def _wait(self, what: str, awaitable: Any, seconds: float) -> None:
        try:
            await asyncio.wait_for(awaitable, seconds + _WAIT_SLACK)
        except asyncio.TimeoutError:
            raise SimulationError(f"timed out waiting for {what}") from None

    async def _played(self, what: str, first: int, segments: int, budget: float) -> None:
        speaker = self.speaker

        def done() -> bool:
            return speaker.segments_started >= first + segments and not speaker.playing

        await self._wait(what, speaker.wait_until(done), budget)
        await self._wait(f"{what} (listening)", self.wait_listening(), 0)

    async def _started(self, first: int) -> None:
        speaker = self.speaker
        await speaker.wait_until(lambda: speaker.segments_started > first)

    async def play(self) -> None:
        script = self.script
        if script.greeting is not None:
            g = script.greeting
            await self._played("the greeting", 0, 1, g.duration + g.audio_duration)
            await asyncio.sleep(USER_RESPONSE_GAP)
        speaking: asyncio.Future[None] | None = None
        for i, turn in enumerate(script.turns):
            if speaking is None:
                await self._wait(
                    f"user speech {i}",
                    self.microphone.speak(i + 1, turn.speech_duration),
                    turn.speech_duration,
                )
            else:
                await self._wait(f"user speech {i}", speaking, turn.speech_duration)
                speaking = None
            first = self.speaker.segments_started
            spoken = [r for r in turn.responses if r.has_audio]
            budget = script.silence_duration + sum(r.duration + r.audio_duration for r in spoken)
            if turn.interrupt_after is None:
                await self._played(f"the reply to turn {i}", first, len(spoken), budget)
                if i + 1 < len(script.turns):
                    await asyncio.sleep(USER_RESPONSE_GAP)
                continue
            await self._wait(f"the reply to turn {i} to start", self._started(first), budget)
            await asyncio.sleep(turn.interrupt_after)
            following = script.turns[i + 1]
            self.result.interrupted_at.append(time.time())
            speaking = asyncio.ensure_future(
                self.microphone.speak(i + 2, following.speech_duration)
            )


def realtime_session_options(script: RealtimeScript, speed: float) -> dict[str, Any]:
    """AgentSession keywords for a realtime model's own (server-side) turn detection.

    The release differences (``turn_handling`` or flat keywords, AEC warm-up) are
    ``_compat``'s.
    """
    if script.turn_detection == "vad":
        opts: dict[str, Any] = _compat.vad_endpointing_session_options(
            endpointing_delay=script.endpointing_delay,
            min_interruption_duration=MIN_INTERRUPTION_DURATION / speed,
            false_interruption_timeout=FALSE_INTERRUPTION_TIMEOUT / speed,
        )
        opts["vad"] = ScriptedVAD(min_silence_duration=script.endpointing_delay / 2)
        return opts
    return _compat.realtime_turn_detection_options()


async def run_realtime_script(
    script: RealtimeScript,
    *,
    speed: float = 1.0,
    on_session: Callable[[AgentSession], None] | None = None,
) -> RealtimeResult:
    """Play ``script`` through a real AgentSession with the scripted realtime model."""
    return await asyncio.ensure_future(_run(script, speed=speed, on_session=on_session))


async def _run(
    script: RealtimeScript, *, speed: float, on_session: Callable[[AgentSession], None] | None
) -> RealtimeResult:
    injected = script.scaled(speed)
    gc.collect()
    result = RealtimeResult(
        script=script,
        speed=speed,
        session_id=f"sim-{uuid.uuid4().hex}",
        livekit_version=__version__,
    )
    call = _RealtimeCall(injected, result)
    cursor = ScriptCursor(injected)
    model = ScriptedRealtimeModel(cursor)
    session: AgentSession = AgentSession(llm=model, **realtime_session_options(injected, speed))
    synchronizer = TranscriptSynchronizer(
        next_in_chain_audio=call.speaker, next_in_chain_text=call.transcript
    )
    session.input.audio = call.microphone
    session.output.audio = synchronizer.audio_output
    session.output.transcription = synchronizer.text_output

    collector = None if _compat.has_session_usage() else metrics.UsageCollector()

    def on_metrics(ev: Any) -> None:
        result.metrics.append(ev.metrics)
        if collector is not None:
            collector.collect(ev.metrics)

    _compat.on_metrics_collected(session, on_metrics)
    session.on("conversation_item_added", lambda ev: result.chat_items.append(ev.item))
    for name in ("agent_state_changed", "user_state_changed", "agent_false_interruption"):
        session.on(name, call.on_event(name))
    if on_session is not None:
        on_session(session)

    cancelled = False
    try:
        first = _agent(injected.agents[0], call, greets=injected.greeting is not None)
        await session.start(first)
        await call.play()
    except asyncio.CancelledError:
        cancelled = True
        raise
    finally:
        try:
            await close_session(session, cancelled=cancelled)
        finally:
            call.microphone.close()
            await synchronizer.aclose()
            await model.aclose()
    result.usage = _compat.session_usage(session, collector)
    result.truncations = list(cursor.truncations)
    result.speech_started_at = list(cursor.speech_started_at)
    result.anomalies = list(cursor.anomalies)
    return result
