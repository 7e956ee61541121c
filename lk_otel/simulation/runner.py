"""Run a scenario through a real AgentSession, offline, and record what livekit reports."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import AgentSession, __version__, metrics
from livekit.agents.voice.transcription.synchronizer import TranscriptSynchronizer

from .. import _compat
from .agent import SimAgent
from .audio import SimAudioInput, SimAudioOutput, SimTextOutput
from .cues import ScriptCues
from .llm import ScriptedLLM
from .scenario import MIN_INTERRUPTION_DURATION, Scenario, Turn
from .stt import ScriptedSTT
from .tts import ScriptedTTS
from .vad import ScriptedVAD

# how long the simulated user waits after the agent stops talking before speaking (s)
USER_RESPONSE_GAP = 0.4
# livekit's default false-interruption timeout (s), scaled by speed like the script
FALSE_INTERRUPTION_TIMEOUT = 2.0
# slack added to every wait for the agent, so a stuck session fails instead of hanging
_WAIT_SLACK = 15.0


class SimulationError(RuntimeError):
    """The simulated session did not behave as scripted (e.g. the agent never answered)."""


@dataclass
class SimulationResult:
    """What livekit reported during one simulated call."""

    scenario: Scenario
    """The scenario as given (unscaled); ``scenario.scaled(speed)`` is what was injected."""
    speed: float
    session_id: str
    agent_name: str
    livekit_version: str
    metrics: list[Any] = field(default_factory=list)
    """Every ``metrics_collected`` metrics object, in order, copied as the session emitted it
    (so with the speech_id the session filled in)."""
    usage: Any = None
    """1.8: the final ``session.usage`` (``.model_usage``); 1.2: a ``UsageCollector`` summary."""
    chat_items: list[Any] = field(default_factory=list)
    """Items of every ``conversation_item_added`` event, in order."""
    agent_transcripts: list[str] = field(default_factory=list)
    """The agent's text per played segment, as synchronised with playout (cut if interrupted)."""
    interrupted_segments: int = 0
    anomalies: list[str] = field(default_factory=list)
    """Requests the script did not foresee; empty for a run that followed the script."""
    started_at: float = 0.0
    ended_at: float = 0.0

    @property
    def injected(self) -> Scenario:
        """The scenario with the durations that were actually injected (scaled by speed)."""
        return self.scenario.scaled(self.speed)

    def metrics_of(self, kind: type | str) -> list[Any]:
        """The recorded metrics of one type (class or name, e.g. ``"LLMMetrics"``)."""
        return [
            m
            for m in self.metrics
            if (type(m).__name__ == kind if isinstance(kind, str) else isinstance(m, kind))
        ]


class _Recorder:
    """Collects session events into a SimulationResult."""

    def __init__(self, result: SimulationResult) -> None:
        self.result = result
        # 1.8 keeps its own totals (session.usage) and deprecates this collector
        self.usage_collector = None if _compat.has_session_usage() else metrics.UsageCollector()
        self.agent_state = "initializing"
        self._state_waiters: list[asyncio.Future[None]] = []

    def on_metrics(self, event: Any) -> None:
        if self.usage_collector is not None:
            self.usage_collector.collect(event.metrics)
        self.result.metrics.append(event.metrics.model_copy(deep=True))

    def on_item(self, event: Any) -> None:
        self.result.chat_items.append(event.item)

    def on_agent_state(self, event: Any) -> None:
        self.agent_state = event.new_state
        for waiter in self._state_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._state_waiters.clear()

    async def wait_agent_state(self, state: str) -> None:
        loop = asyncio.get_running_loop()
        while self.agent_state != state:
            waiter: asyncio.Future[None] = loop.create_future()
            self._state_waiters.append(waiter)
            await waiter


class _Call:
    """One simulated call: the session, its fake devices and the script being played."""

    def __init__(self, script: Scenario, speed: float, recorder: _Recorder) -> None:
        self.script = script
        self.speed = speed
        self.recorder = recorder
        self.microphone = SimAudioInput()
        self.speaker = SimAudioOutput()
        self.transcript = SimTextOutput()

    def _timeout(self, seconds: float) -> float:
        return seconds + _WAIT_SLACK

    async def _wait(self, what: str, awaitable: Any, seconds: float) -> None:
        try:
            await asyncio.wait_for(awaitable, self._timeout(seconds))
        except asyncio.TimeoutError:
            raise SimulationError(f"timed out waiting for {what}") from None

    async def _agent_done(
        self, what: str, first_segment: int, segments: int, budget: float
    ) -> None:
        """Wait until ``segments`` agent segments from ``first_segment`` on have played."""
        speaker = self.speaker

        def played() -> bool:
            return speaker.segments_started >= first_segment + segments and not speaker.playing

        await self._wait(what, speaker.wait_until(played), budget)
        await self._wait(
            f"{what} (agent back to listening)", self.recorder.wait_agent_state("listening"), 0
        )

    async def _agent_started(self, first_segment: int) -> None:
        """Wait until the agent starts playing a segment after ``first_segment``."""
        speaker = self.speaker
        await speaker.wait_until(lambda: speaker.segments_started > first_segment)

    @staticmethod
    def _turn_budget(turn: Turn, endpointing_delay: float) -> float:
        llm = sum(call.duration for call in turn.llm)
        tts = sum(entry.ttfb + entry.audio_duration for entry in turn.tts)
        return turn.user.stt_delay + endpointing_delay + llm + tts

    async def play(self) -> None:
        script = self.script
        loop = asyncio.get_running_loop()
        greeting = script.greeting
        if greeting is not None:
            llm_time = greeting.llm.duration if greeting.llm else 0.0
            budget = llm_time + greeting.tts.ttfb + greeting.tts.audio_duration
            await self._agent_done("the greeting", 0, 1, budget)
            await asyncio.sleep(USER_RESPONSE_GAP / self.speed)

        speaking: asyncio.Task[None] | None = None
        for i, turn in enumerate(script.turns):
            what = f"the agent's reply to turn {i}"
            if speaking is None:
                await self._wait(
                    f"user speech of turn {i}",
                    self.microphone.speak(i + 1, turn.user.speech_duration),
                    turn.user.speech_duration,
                )
            else:  # started while the agent was talking (interruption)
                await self._wait(f"user speech of turn {i}", speaking, turn.user.speech_duration)
                speaking = None
            first_segment = self.speaker.segments_started
            budget = self._turn_budget(turn, script.endpointing_delay)

            if turn.interrupt_after is None:
                await self._agent_done(what, first_segment, len(turn.tts), budget)
                if i + 1 < len(script.turns):
                    await asyncio.sleep(USER_RESPONSE_GAP / self.speed)
                continue

            # the user talks over the agent interrupt_after seconds into its speech
            await self._wait(f"{what} to start", self._agent_started(first_segment), budget)
            started = loop.time()
            await asyncio.sleep(max(0.0, started + turn.interrupt_after - loop.time()))
            following = script.turns[i + 1]
            speaking = asyncio.ensure_future(
                self.microphone.speak(i + 2, following.user.speech_duration)
            )


async def run_scenario(
    scenario: Scenario,
    *,
    speed: float = 1.0,
    agent_name: str = "lk-otel-sim",
    on_session: Callable[[AgentSession], None] | None = None,
) -> SimulationResult:
    """Play ``scenario`` through a real AgentSession with scripted plugins; no network.

    ``speed`` divides every scripted delay and duration (4.0: four times faster). Spans go
    to whatever tracer provider was given to ``livekit.agents.telemetry``; this sets none.
    ``on_session`` is called with the session before it starts, to subscribe to events.
    """
    # livekit attaches the agent_session span to the context that calls start() and never
    # detaches it; a task of its own keeps that from leaking into the caller's context
    return await asyncio.ensure_future(
        _run_call(scenario, speed=speed, agent_name=agent_name, on_session=on_session)
    )


async def _run_call(
    scenario: Scenario,
    *,
    speed: float,
    agent_name: str,
    on_session: Callable[[AgentSession], None] | None,
) -> SimulationResult:
    script = scenario.scaled(speed)
    # a process that just imported livekit runs its first full garbage collection some
    # seconds later, stalling the event loop ~0.1 s mid-call (and every latency livekit
    # measures then); collecting now moves that work before the call
    gc.collect()
    result = SimulationResult(
        scenario=scenario,
        speed=speed,
        session_id=f"sim-{uuid.uuid4().hex}",
        agent_name=agent_name,
        livekit_version=__version__,
    )
    recorder = _Recorder(result)
    cues = ScriptCues(script)
    call = _Call(script, speed, recorder)
    models = script.models

    vad = ScriptedVAD(min_silence_duration=script.endpointing_delay / 2)
    stt = ScriptedSTT(utterances=[t.user for t in script.turns], model=models.stt)
    llm = ScriptedLLM(cues=cues, model=models.llm)
    tts = ScriptedTTS(cues=cues, model=models.tts)
    session: AgentSession = AgentSession(
        vad=vad,
        stt=stt,
        llm=llm,
        tts=tts,
        **_compat.vad_endpointing_session_options(
            endpointing_delay=script.endpointing_delay,
            min_interruption_duration=MIN_INTERRUPTION_DURATION / speed,
            false_interruption_timeout=FALSE_INTERRUPTION_TIMEOUT / speed,
        ),
    )
    synchronizer = TranscriptSynchronizer(
        next_in_chain_audio=call.speaker, next_in_chain_text=call.transcript
    )
    session.input.audio = call.microphone
    session.output.audio = synchronizer.audio_output
    session.output.transcription = synchronizer.text_output

    _compat.on_metrics_collected(session, recorder.on_metrics)
    session.on("conversation_item_added", recorder.on_item)
    session.on("agent_state_changed", recorder.on_agent_state)
    if on_session is not None:
        on_session(session)

    result.started_at = time.time()
    try:
        await session.start(SimAgent(script=script, cues=cues, agent_name=agent_name))
        await call.play()
    finally:
        try:
            await session.aclose()
        finally:
            call.microphone.close()
            await synchronizer.aclose()
            for plugin in (llm, tts, stt):
                await plugin.aclose()
    result.ended_at = time.time()
    result.usage = _compat.session_usage(session, recorder.usage_collector)
    result.agent_transcripts = list(call.transcript.segments)
    result.interrupted_segments = call.speaker.interrupted_segments
    result.anomalies = list(cues.anomalies)
    return result
