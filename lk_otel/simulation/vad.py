"""A VAD that hears the simulated microphone: any non-zero frame is speech.

It reports like livekit's own VADs: one ``INFERENCE_DONE`` per 10 ms frame,
``START_OF_SPEECH`` after ``min_speech_duration`` of speech and ``END_OF_SPEECH`` after
``min_silence_duration`` of silence, with durations counted in audio samples so livekit
back-dates the end of speech exactly (``now - silence_duration``).
"""

from __future__ import annotations

import time

from livekit import rtc
from livekit.agents import vad

from .. import _compat
from .audio import FRAME_DURATION, utterance_code


class ScriptedVAD(vad.VAD):
    """Energy VAD for the simulation's synthetic audio."""

    def __init__(self, *, min_speech_duration: float = 0.05, min_silence_duration: float) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=FRAME_DURATION))
        self.min_speech_duration = min_speech_duration
        self.min_silence_duration = min_silence_duration

    @property
    def model(self) -> str:
        return "energy"

    @property
    def provider(self) -> str:
        return "lk-otel-sim"

    def stream(self) -> ScriptedVADStream:
        return ScriptedVADStream(self)


class ScriptedVADStream(vad.VADStream):
    def __init__(self, owner: ScriptedVAD) -> None:
        super().__init__(owner)
        self._owner = owner
        self._reset()

    def _reset(self) -> None:
        self._speaking = False
        self._speech_run = 0.0  # raw: consecutive speech, 0 during silence
        self._silence_run = 0.0  # raw: consecutive silence, 0 during speech
        self._speech_duration = 0.0  # published: length of the current speech segment
        self._silence_duration = 0.0  # published: silence since speech last ended
        self._speech_frames: list[rtc.AudioFrame] = []

    async def _main_task(self) -> None:
        samples_index = 0
        async for item in _compat.stream_input(self):
            if _compat.is_flush_sentinel(item):
                self._reset()
                continue
            frame: rtc.AudioFrame = item
            started = time.perf_counter()
            samples_index += frame.samples_per_channel
            is_speech = utterance_code(frame) > 0
            duration = frame.duration
            event_type: vad.VADEventType | None = None

            if is_speech:
                self._speech_run += duration
                self._silence_run = 0.0
                self._silence_duration = 0.0
                self._speech_frames.append(frame)
                if self._speaking:
                    self._speech_duration += duration
                elif self._speech_run >= self._owner.min_speech_duration:
                    self._speaking = True
                    self._speech_duration = self._speech_run
                    event_type = vad.VADEventType.START_OF_SPEECH
            else:
                self._silence_run += duration
                self._speech_run = 0.0
                self._silence_duration += duration
                if not self._speaking:
                    self._speech_frames.clear()
                elif self._silence_run >= self._owner.min_silence_duration:
                    event_type = vad.VADEventType.END_OF_SPEECH

            inference_duration = time.perf_counter() - started
            timestamp = samples_index / frame.sample_rate
            _compat.send_event(
                self,
                vad.VADEvent(
                    type=vad.VADEventType.INFERENCE_DONE,
                    samples_index=samples_index,
                    timestamp=timestamp,
                    speech_duration=self._speech_duration,
                    silence_duration=self._silence_duration,
                    frames=[frame],
                    probability=1.0 if is_speech else 0.0,
                    inference_duration=inference_duration,
                    speaking=self._speaking,
                    raw_accumulated_silence=self._silence_run,
                    raw_accumulated_speech=self._speech_run,
                ),
            )
            if event_type is None:
                continue
            _compat.send_event(
                self,
                vad.VADEvent(
                    type=event_type,
                    samples_index=samples_index,
                    timestamp=timestamp,
                    speech_duration=self._speech_duration,
                    silence_duration=self._silence_duration,
                    frames=list(self._speech_frames),
                    inference_duration=inference_duration,
                    speaking=event_type == vad.VADEventType.START_OF_SPEECH,
                ),
            )
            if event_type == vad.VADEventType.END_OF_SPEECH:
                self._speaking = False
                self._speech_duration = 0.0
                self._speech_frames.clear()
