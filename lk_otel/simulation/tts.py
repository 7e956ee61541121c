"""A TTS that produces the scripted amount of audio after the scripted time to first byte.

Streaming synthesis starts its clock (livekit's TTSMetrics.ttfb) at the first text it
receives, sends the whole ``audio_duration`` of audio ``ttfb`` later (faster than real
time, as providers do) and ends its segment when the text input ends. A scripted
``error`` raises a non-retryable APIError ``error.at`` after the first text, before audio.
"""

from __future__ import annotations

import asyncio
import time

from livekit.agents import APIConnectOptions, APIError, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS

from .. import _compat
from .cues import ScriptCues, TTSCue
from .scenario import ModelRef, ReportsModel

SAMPLE_RATE = 24000
NUM_CHANNELS = 1
# livekit's AudioEmitter holds back its last frame until the next one or the end of the
# segment (1.2: a whole frame); small frames let the first audio out at ttfb
FRAME_SIZE_MS = 20
# audio is pushed in chunks, yielding in between: framing seconds of audio at once would
# stall the event loop for milliseconds, delaying the first frame (ttfb) with it
FIRST_CHUNK = 0.1
CHUNK = 0.5


def _pcm_silence(samples: int) -> bytes:
    return b"\x00\x00" * (samples * NUM_CHANNELS)


async def _push_audio(emitter: tts.AudioEmitter, duration: float) -> None:
    """Push ``duration`` seconds of audio: a short first chunk, then larger ones."""
    remaining = round(duration * SAMPLE_RATE)
    chunk = round(FIRST_CHUNK * SAMPLE_RATE)
    while remaining > 0:
        samples = min(chunk, remaining)
        emitter.push(_pcm_silence(samples))
        remaining -= samples
        chunk = round(CHUNK * SAMPLE_RATE)
        await asyncio.sleep(0)


class ScriptedTTS(ReportsModel, tts.TTS):
    """TTS plugin whose latency and audio length come from the scenario."""

    def __init__(self, *, cues: ScriptCues, model: ModelRef) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=True),
            sample_rate=SAMPLE_RATE,
            num_channels=NUM_CHANNELS,
        )
        self.cues = cues
        self._model = model
        self._request_count = 0

    def next_request_id(self) -> str:
        self._request_count += 1
        return f"sim-tts-{self._request_count}"

    def entry_for(self, text: str) -> TTSCue:
        """The scripted timing for a synthesis starting with ``text``."""
        cue = self.cues.take_tts(text)
        if cue is None:
            raise APIError("lk_otel simulation: no scripted TTS entry", retryable=False)
        return cue

    async def play(self, emitter: tts.AudioEmitter, cue: TTSCue, *, started: float) -> None:
        """First audio ``ttfb`` after ``started`` (perf_counter), or the scripted error."""
        truth = self.cues.truth
        event = truth.begin("tts_request", cue.turn)
        event.start -= time.perf_counter() - started
        entry = cue.entry
        try:
            if entry.error is not None:
                await asyncio.sleep(max(0.0, started + entry.error.at - time.perf_counter()))
                raise APIError(f"lk_otel simulation: {entry.error.message}", retryable=False)
            await asyncio.sleep(max(0.0, started + entry.ttfb - time.perf_counter()))
            event.detail["first_audio_at"] = time.time()
            assert entry.audio_duration is not None
            await _push_audio(emitter, entry.audio_duration)
        except asyncio.CancelledError:
            truth.finish(event, "cancelled")
            raise
        except APIError:
            truth.finish(event, "error")
            raise
        truth.finish(event)

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> ScriptedChunkedStream:
        return ScriptedChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> ScriptedSynthesizeStream:
        return ScriptedSynthesizeStream(tts=self, conn_options=conn_options)


class ScriptedChunkedStream(tts.ChunkedStream):
    """One-shot synthesis of a whole text (``TTS.synthesize``)."""

    def __init__(
        self, *, tts: ScriptedTTS, input_text: str, conn_options: APIConnectOptions
    ) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._scripted = tts
        self._cue: TTSCue | None = None

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        started = time.perf_counter()
        # livekit retries a failed synthesis on the same stream (1.2 even a non-retryable
        # error): the retry replays the same entry
        cue = self._cue = self._cue or self._scripted.entry_for(self.input_text)
        output_emitter.initialize(
            request_id=self._scripted.next_request_id(),
            sample_rate=SAMPLE_RATE,
            num_channels=NUM_CHANNELS,
            mime_type="audio/pcm",
            frame_size_ms=FRAME_SIZE_MS,
        )
        await self._scripted.play(output_emitter, cue, started=started)
        output_emitter.flush()


class ScriptedSynthesizeStream(tts.SynthesizeStream):
    """Streaming synthesis of text pushed as the LLM produces it."""

    def __init__(self, *, tts: ScriptedTTS, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._scripted = tts
        self._cue: TTSCue | None = None

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        request_id = self._scripted.next_request_id()
        output_emitter.initialize(
            request_id=request_id,
            sample_rate=SAMPLE_RATE,
            num_channels=NUM_CHANNELS,
            mime_type="audio/pcm",
            frame_size_ms=FRAME_SIZE_MS,
            stream=True,
        )
        output_emitter.start_segment(segment_id=f"{request_id}-s0")
        audio: asyncio.Task[None] | None = None
        try:
            async for data in _compat.stream_input(self):
                if _compat.is_flush_sentinel(data) or audio is not None or not data.strip():
                    continue
                _compat.mark_tts_started(self)
                cue = self._cue = self._cue or self._scripted.entry_for(data)
                audio = asyncio.create_task(
                    self._scripted.play(output_emitter, cue, started=time.perf_counter())
                )
                if cue.entry.error is not None:
                    await audio  # the error ends the stream, as a provider's would
            if audio is not None:
                await audio
        finally:
            if audio is not None and not audio.done():
                audio.cancel()
        output_emitter.end_segment()
