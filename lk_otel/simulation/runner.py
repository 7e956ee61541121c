"""Run a scenario through a real AgentSession, offline, and record what livekit reports."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import Agent, AgentSession, __version__, metrics
from livekit.agents.voice.transcription.synchronizer import TranscriptSynchronizer

from .. import _compat
from .agent import SimAgent, speak_greeting
from .audio import SimAudioInput, SimAudioOutput, SimTextOutput
from .closing import close_session
from .cues import ScriptCues
from .llm import ScriptedLLM
from .own_agent import AgentSource, build_agent, check_tools
from .scenario import (
    MIN_INTERRUPTION_DURATION,
    USER_RESPONSE_GAP,
    Blip,
    Scenario,
    SpeechStart,
    Turn,
)
from .stt import ScriptedSTT
from .truth import GroundTruth, TruthEvent
from .tts import ScriptedTTS
from .vad import ScriptedVAD

# livekit's default false-interruption timeout (s), scaled by speed like the script
FALSE_INTERRUPTION_TIMEOUT = 2.0
# slack added to every wait for the agent, so a stuck session fails instead of hanging
_WAIT_SLACK = 15.0
_POLL = 0.002  # s between checks of the ground truth for an anchor event
_SETTLE = 0.5  # s a user's agent gets to start a greeting of its own (scaled by speed)


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
    truth: GroundTruth = field(default_factory=GroundTruth)
    """The injected ground truth: every scripted user utterance, blip, interim and final
    transcript, LLM request, synthesis and built-in tool run, with wall-clock times and
    outcomes (done / error / cancelled)."""

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


@dataclass
class _Reply:
    """The agent's answer to one user turn (``turn`` None: the greeting) being awaited."""

    turn: int | None
    first_segment: int  # speaker segments started before it
    segments: int  # segments it plays (TTS entries that do not fail)
    budget: float  # scripted seconds it takes at most, before the slack


class _Call:
    """One simulated call: the session, its fake devices and the script being played."""

    def __init__(
        self, script: Scenario, speed: float, recorder: _Recorder, cues: ScriptCues
    ) -> None:
        self.script = script
        self.speed = speed
        self.recorder = recorder
        self.cues = cues
        self.truth = cues.truth
        self.microphone = SimAudioInput()
        self.speaker = SimAudioOutput()
        self.transcript = SimTextOutput()
        self._background: list[asyncio.Task[None]] = []

    async def _wait(self, what: str, awaitable: Any, seconds: float) -> Any:
        try:
            return await asyncio.wait_for(awaitable, seconds + _WAIT_SLACK)
        except asyncio.TimeoutError:
            raise SimulationError(f"timed out waiting for {what}") from None

    async def _until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await asyncio.sleep(_POLL)

    @staticmethod
    async def _sleep_until(wall_time: float) -> None:
        await asyncio.sleep(max(0.0, wall_time - time.time()))

    def _reply(self, turn: int | None) -> _Reply:
        if turn is None:
            greeting = self.script.greeting
            assert greeting is not None
            llm_time = greeting.llm.duration if greeting.llm else 0.0
            budget = llm_time + greeting.tts.ttfb + (greeting.tts.audio_duration or 0.0)
            segments = 1 if greeting.tts.error is None else 0
        else:
            script_turn = self.script.turns[turn]
            budget = self._turn_budget(script_turn, self.script.endpointing_delay)
            segments = sum(1 for entry in script_turn.tts if entry.error is None)
        return _Reply(turn, self.speaker.segments_started, segments, budget)

    @staticmethod
    def _turn_budget(turn: Turn, endpointing_delay: float) -> float:
        llm = sum(call.duration + sum(t.duration for t in call.tools) for call in turn.llm)
        tts = sum(entry.ttfb + (entry.audio_duration or 0.0) for entry in turn.tts)
        return turn.user.stt_delay + endpointing_delay + llm + tts

    def _what(self, reply: _Reply) -> str:
        return "the greeting" if reply.turn is None else f"the agent's reply to turn {reply.turn}"

    async def _reply_done(self, reply: _Reply) -> None:
        """Wait until ``reply`` has played all its audio (or, silent, ended its LLM calls)
        and the agent listens again."""
        speaker = self.speaker
        what = self._what(reply)
        if reply.segments:
            # audio of an earlier, interrupted reply may reach the speaker too: count only
            # this reply's syntheses, and the segments that started after their audio
            def synthesized() -> bool:
                return len(self._syntheses(reply)) >= reply.segments

            await self._wait(what, self._until(synthesized), reply.budget)
            last_audio = self._syntheses(reply)[reply.segments - 1].detail["first_audio_at"]

            def played() -> bool:
                heard = speaker.segment_started_at[reply.first_segment :]
                return any(t >= last_audio for t in heard) and not speaker.playing

            await self._wait(what, speaker.wait_until(played), reply.budget)
        else:
            calls = (
                self.script.turns[reply.turn].llm
                if reply.turn is not None
                else ([self.script.greeting.llm] if self.script.greeting.llm else [])  # type: ignore[union-attr]
            )
            last = len(calls) - 1

            def answered() -> bool:
                return any(
                    e.end is not None for e in self.truth.of("llm_request", reply.turn, index=last)
                )

            if calls:
                await self._wait(what, self._until(answered), reply.budget)
        await self._wait(
            f"{what} (agent back to listening)", self.recorder.wait_agent_state("listening"), 0
        )

    def _syntheses(self, reply: _Reply) -> list[TruthEvent]:
        """The syntheses of ``reply`` that produced audio, in order."""
        return [e for e in self.truth.of("tts_request", reply.turn) if "first_audio_at" in e.detail]

    def _first_played(self, reply: _Reply) -> float | None:
        syntheses = self._syntheses(reply)
        if not syntheses:
            return None
        first_audio = syntheses[0].detail["first_audio_at"]
        heard = self.speaker.segment_started_at[reply.first_segment :]
        return next((t for t in heard if t >= first_audio), None)

    async def _audio_started(self, reply: _Reply) -> float:
        """Wait for the first audio of ``reply`` to play; its wall-clock time."""
        await self._wait(
            f"{self._what(reply)} to start playing",
            self._until(lambda: self._first_played(reply) is not None),
            reply.budget,
        )
        started = self._first_played(reply)
        assert started is not None
        return started

    async def _llm_started(self, reply: _Reply, call: int) -> float:
        """Wait for LLM request ``call`` of ``reply``; its wall-clock start."""

        def requested() -> bool:
            return bool(self.truth.of("llm_request", reply.turn, index=call))

        await self._wait(f"{self._what(reply)}'s LLM request", self._until(requested), reply.budget)
        return self.truth.of("llm_request", reply.turn, index=call)[0].start

    def _start_of(self, index: int) -> SpeechStart:
        previous = self.script.turns[index - 1] if index > 0 else None
        if previous is not None and previous.interrupt_after is not None:
            return SpeechStart(after="agent_audio_start", offset=previous.interrupt_after)
        start = self.script.turns[index].user.start
        return start if start is not None else SpeechStart(offset=USER_RESPONSE_GAP / self.speed)

    async def _wait_for_start(self, start: SpeechStart, reply: _Reply | None) -> float:
        """Wait until the user is to speak; the wall-clock time of the anchor event."""
        if reply is None:
            anchor = time.time()
        elif start.after == "agent_audio_end":
            await self._reply_done(reply)
            anchor = time.time()
        elif start.after == "agent_audio_start":
            anchor = await self._audio_started(reply)
        else:
            anchor = await self._llm_started(reply, start.call)
        await self._sleep_until(anchor + start.offset)
        return anchor

    async def _blips(self, reply: _Reply, blips: tuple[Blip, ...]) -> None:
        audio_start = await self._audio_started(reply)
        for k, blip in enumerate(blips):
            await self._sleep_until(audio_start + blip.at)
            if self.microphone.speaking:
                self.cues.anomalies.append(f"turn {reply.turn}: blip {k} while the user speaks")
                continue
            code = len(self.script.turns) + 1 + k
            started, ended = await self.microphone.speak(code, blip.duration)
            event = self.truth.instant("blip", reply.turn, index=k, at=blip.at)
            event.start, event.end = started, ended

    async def _settle(self) -> None:
        """Let an unscripted greeting (a user's agent greeting from on_enter) finish."""
        speaker = self.speaker
        await asyncio.sleep(_SETTLE / self.speed)
        await self._wait(
            "the agent's own greeting",
            self._until(lambda: not speaker.playing and self.recorder.agent_state == "listening"),
            0,
        )

    async def play(self) -> None:
        script = self.script
        reply = self._reply(None) if script.greeting is not None else None
        if reply is None and self.cues.improvises_greeting:
            await self._settle()
        try:
            for i, turn in enumerate(script.turns):
                start = self._start_of(i)
                anchor = await self._wait_for_start(start, reply)
                event = self.truth.begin(
                    "user_speech", i, after=start.after, offset=start.offset, anchor_at=anchor
                )
                started, ended = await self._wait(
                    f"user speech of turn {i}",
                    self.microphone.speak(i + 1, turn.user.speech_duration),
                    turn.user.speech_duration,
                )
                event.start, event.end = started, ended
                self.cues.spoken_turns = i + 1
                reply = self._reply(i)
                if turn.blips:
                    self._background.append(asyncio.ensure_future(self._blips(reply, turn.blips)))
            assert reply is not None
            await self._reply_done(reply)
            for task in self._background:
                await self._wait("the blips", task, 0)
        finally:
            for task in self._background:
                task.cancel()


async def run_scenario(
    scenario: Scenario,
    *,
    speed: float = 1.0,
    agent_name: str = "lk-otel-sim",
    agent: AgentSource | None = None,
    on_session: Callable[[AgentSession], None] | None = None,
    preemptive_generation: bool | None = None,
) -> SimulationResult:
    """Play ``scenario`` through a real AgentSession with scripted plugins; no network.

    ``speed`` divides every scripted delay and duration (4.0: four times faster). Spans go
    to whatever tracer provider was given to ``livekit.agents.telemetry``; this sets none.
    ``agent``: your own Agent (an instance, its class, or a factory returning one) instead
    of the built-in one; its instructions, tools and hooks really run (the scripted tool
    calls must name its tools), only the VAD/STT/LLM/TTS are scripted.
    ``on_session`` is called with the session before it starts, to subscribe to events.
    ``preemptive_generation``: on or off; None keeps the installed release's default.
    """
    # livekit attaches the agent_session span to the context that calls start() and never
    # detaches it; a task of its own keeps that from leaking into the caller's context
    return await asyncio.ensure_future(
        _run_call(
            scenario,
            speed=speed,
            agent_name=agent_name,
            agent=agent,
            on_session=on_session,
            preemptive_generation=preemptive_generation,
        )
    )


async def _run_call(
    scenario: Scenario,
    *,
    speed: float,
    agent_name: str,
    agent: AgentSource | None,
    on_session: Callable[[AgentSession], None] | None,
    preemptive_generation: bool | None,
) -> SimulationResult:
    script = scenario.scaled(speed)
    truth = GroundTruth()
    cues = ScriptCues(script, truth, improvise_greeting=agent is not None)
    if agent is None:
        the_agent: Agent = SimAgent(script=script, cues=cues, agent_name=agent_name)
    else:
        the_agent = build_agent(agent)
        check_tools(script, the_agent)
        agent_name = type(the_agent).__name__
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
        truth=truth,
    )
    recorder = _Recorder(result)
    call = _Call(script, speed, recorder, cues)
    models = script.models

    vad = ScriptedVAD(min_silence_duration=script.endpointing_delay / 2)
    stt = ScriptedSTT(utterances=[t.user for t in script.turns], model=models.stt, truth=truth)
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
            preemptive_generation=preemptive_generation,
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

    greeting = script.greeting
    if agent is not None and greeting is not None and greeting.by_agent and greeting.mode == "say":
        cues.offer_tts(greeting.tts, None)  # for what the agent's on_enter says first
    result.started_at = time.time()
    cancelled = False
    try:
        await session.start(the_agent)
        if agent is not None:
            speak_greeting(session, script, cues)
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
            for plugin in (llm, tts, stt):
                await plugin.aclose()
    result.ended_at = time.time()
    result.usage = _compat.session_usage(session, recorder.usage_collector)
    result.agent_transcripts = list(call.transcript.segments)
    result.interrupted_segments = call.speaker.interrupted_segments
    result.anomalies = list(cues.anomalies)
    return result
