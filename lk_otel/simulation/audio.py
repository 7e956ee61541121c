"""Fake microphone and speaker for a simulated call.

The microphone produces 10 ms frames in real time. Silence is zeros; while the user
speaks, every sample holds ``utterance_code * CODE_STEP``, so the fake VAD hears speech
and the fake STT can tell which scripted utterance it is hearing, from the audio alone.

The speaker plays captured audio in real time, can pause (as livekit's room output does,
so interruptions take livekit's pause / false-interruption path) and reports playback to
livekit, which is what ends ``agent_speaking`` and the agent turn and adds the assistant
message.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from livekit import rtc
from livekit.agents.voice import io

from .. import _compat

SAMPLE_RATE = 16000
FRAME_DURATION = 0.01
SAMPLES_PER_FRAME = int(SAMPLE_RATE * FRAME_DURATION)
CODE_STEP = 256  # sample value per utterance code; int16 leaves room for 127 utterances


def audio_frame(code: int, samples: int = SAMPLES_PER_FRAME) -> rtc.AudioFrame:
    """A mono frame carrying utterance ``code`` (0 = silence)."""
    data = array("h", [code * CODE_STEP]) * samples
    return rtc.AudioFrame(
        data=data.tobytes(), sample_rate=SAMPLE_RATE, num_channels=1, samples_per_channel=samples
    )


def utterance_code(frame: rtc.AudioFrame) -> int:
    """The utterance code an audio frame carries (0 = silence)."""
    samples = frame.data
    if len(samples) == 0:
        return 0
    mean_abs = sum(abs(s) for s in samples) / len(samples)
    return round(mean_abs / CODE_STEP)


@dataclass
class _Utterance:
    code: int
    frames_left: int
    done: asyncio.Future[None]
    started_at: float | None = None  # wall clock: the start of its first frame's audio
    ended_at: float | None = None  # wall clock: the end of its last frame's audio


class SimAudioInput(io.AudioInput):
    """A real-time microphone: silence, or the utterance the runner asks for."""

    def __init__(self) -> None:
        super().__init__(label="lk-otel-sim-microphone")
        self._origin: float | None = None
        self._frames_sent = 0
        self._utterance: _Utterance | None = None
        self._closed = False

    @property
    def speaking(self) -> bool:
        """Whether an utterance is being spoken."""
        return self._utterance is not None

    async def speak(self, code: int, duration: float) -> tuple[float, float]:
        """Speak utterance ``code`` for ``duration`` seconds; returns when speech ends, with
        the wall-clock start and end of the audio it produced."""
        if self._utterance is not None:
            raise RuntimeError("the simulated user is already speaking")
        frames = max(1, round(duration / FRAME_DURATION))
        utterance = _Utterance(code, frames, asyncio.get_running_loop().create_future())
        self._utterance = utterance
        await utterance.done
        now = time.time()
        return (utterance.started_at or now, utterance.ended_at or now)

    async def __anext__(self) -> rtc.AudioFrame:
        if self._closed:
            raise StopAsyncIteration
        loop = asyncio.get_running_loop()
        if self._origin is None:
            self._origin = loop.time()
        # a microphone delivers a frame when its 10 ms are over; pace on absolute deadlines
        delay = self._origin + (self._frames_sent + 1) * FRAME_DURATION - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if self._closed:
            raise StopAsyncIteration
        self._frames_sent += 1
        utterance = self._utterance
        if utterance is None:
            return audio_frame(0)
        if utterance.started_at is None:
            utterance.started_at = time.time() - FRAME_DURATION
        utterance.frames_left -= 1
        if utterance.frames_left <= 0:
            utterance.ended_at = time.time()
            self._utterance = None
            if not utterance.done.done():
                utterance.done.set_result(None)
        return audio_frame(utterance.code)

    def close(self) -> None:
        """Stop producing frames (and release a pending ``speak``)."""
        self._closed = True
        if self._utterance is not None and not self._utterance.done.done():
            self._utterance.done.set_result(None)
        self._utterance = None


@dataclass
class _Segment:
    """One flush-delimited stretch of agent audio and how far it has played."""

    pushed: float = 0.0
    played: float = 0.0  # played before the current run
    run_started_at: float | None = None  # loop time the current run began; None: not playing
    announced: bool = False  # playback_started reported
    flushed: bool = False
    playout: asyncio.Task[None] | None = field(default=None, repr=False)

    def position(self, now: float) -> float:
        running = 0.0 if self.run_started_at is None else now - self.run_started_at
        return min(self.pushed, self.played + running)


class SimAudioOutput(io.AudioOutput):
    """A real-time speaker that can pause, like livekit's room output.

    Playout starts at the first frame of a segment (or on resume), never runs ahead of the
    audio received, and ends once everything pushed before the flush has played.
    """

    def __init__(self) -> None:
        super().__init__(
            label="lk-otel-sim-speaker",
            capabilities=io.AudioOutputCapabilities(pause=True),
            sample_rate=None,
        )
        self._segment: _Segment | None = None
        self._capturing = False
        self._paused = False
        self._waiters: list[asyncio.Future[None]] = []
        self.segments_started = 0
        self.segment_started_at: list[float] = []  # wall clock of each segment's first frame
        self.segments_finished = 0
        self.interrupted_segments = 0

    @property
    def playing(self) -> bool:
        """Whether a segment is under way (first frame received, playback not finished)."""
        return self._segment is not None

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _start_run(self, segment: _Segment) -> None:
        segment.run_started_at = self._now()
        if not segment.announced:
            segment.announced = True
            _compat.notify_playback_started(self, time.time())
        if segment.flushed and segment.playout is None:
            segment.playout = asyncio.ensure_future(self._play_out(segment))

    def _stop_run(self, segment: _Segment) -> None:
        segment.played = segment.position(self._now())
        segment.run_started_at = None
        if segment.playout is not None:
            segment.playout.cancel()
            segment.playout = None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._capturing:
            self._capturing = True
            self._segment = _Segment()
            self.segments_started += 1
            self.segment_started_at.append(time.time())
            self._notify()
        segment = self._segment
        if segment is None:  # cleared: frames until the flush are dropped
            return
        if segment.run_started_at is not None and segment.position(self._now()) >= segment.pushed:
            self._stop_run(segment)  # ran dry: the new audio starts a new run
        segment.pushed += frame.duration
        if segment.run_started_at is None and not self._paused:
            self._start_run(segment)

    def flush(self) -> None:
        super().flush()
        self._capturing = False
        segment = self._segment
        if segment is None or segment.flushed:
            return
        segment.flushed = True
        if segment.run_started_at is not None:
            segment.playout = asyncio.ensure_future(self._play_out(segment))

    async def _play_out(self, segment: _Segment) -> None:
        await asyncio.sleep(max(0.0, segment.pushed - segment.position(self._now())))
        self._finish(segment, position=segment.pushed, interrupted=False)

    def pause(self) -> None:
        super().pause()
        self._paused = True
        if self._segment is not None and self._segment.run_started_at is not None:
            self._stop_run(self._segment)

    def resume(self) -> None:
        super().resume()
        self._paused = False
        segment = self._segment
        if segment is not None and segment.run_started_at is None and segment.pushed > 0:
            self._start_run(segment)

    def clear_buffer(self) -> None:
        segment = self._segment
        if segment is None:
            return
        self._stop_run(segment)
        self._finish(segment, position=segment.played, interrupted=True)

    def _finish(self, segment: _Segment, *, position: float, interrupted: bool) -> None:
        if self._segment is not segment:
            return
        self._segment = None
        self.segments_finished += 1
        if interrupted:
            self.interrupted_segments += 1
        self.on_playback_finished(playback_position=position, interrupted=interrupted)
        self._notify()

    def _notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; it is checked after every segment start or end."""
        loop = asyncio.get_running_loop()
        while not predicate():
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            await waiter


class SimTextOutput(io.TextOutput):
    """End of the transcript chain: keeps each agent segment's text as it was played."""

    def __init__(self) -> None:
        super().__init__(label="lk-otel-sim-transcript", next_in_chain=None)
        self.segments: list[str] = []
        self._current: list[str] = []

    async def capture_text(self, text: str) -> None:
        self._current.append(text)

    def flush(self) -> None:
        if self._current:
            self.segments.append("".join(self._current))
            self._current = []
