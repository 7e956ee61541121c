"""A streaming STT that transcribes the simulated microphone from a script.

It recognises which scripted utterance it hears from the audio (see ``audio.py``), sends
its scripted interim transcripts as the speech reaches them, the final transcript
``stt_delay`` after the speech ends (an empty one for unscripted sound, a blip), then a
``RECOGNITION_USAGE`` event billing the audio streamed since the previous one (hence
livekit's STTMetrics and STT usage). A flush is answered by the
pending final transcript, or by an empty final one when nothing is pending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from livekit import rtc
from livekit.agents import APIConnectOptions, stt
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer

from .. import _compat
from .audio import utterance_code
from .scenario import ModelRef, ReportsModel, UserSpeech
from .truth import GroundTruth

LANGUAGE = "en"


class ScriptedSTT(ReportsModel, stt.STT):
    """Streaming STT whose transcripts and delays come from the scenario's user turns."""

    def __init__(
        self,
        *,
        utterances: Sequence[UserSpeech],
        model: ModelRef,
        truth: GroundTruth | None = None,
    ) -> None:
        super().__init__(capabilities=_compat.streaming_stt_capabilities())
        self._utterances = tuple(utterances)
        self.truth = truth or GroundTruth()
        self._model = model
        self._request_count = 0

    def utterance(self, code: int) -> UserSpeech | None:
        """The scripted utterance carried by audio ``code`` (1-based), if any."""
        return self._utterances[code - 1] if 0 < code <= len(self._utterances) else None

    def next_request_id(self) -> str:
        self._request_count += 1
        return f"sim-stt-{self._request_count}"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        frames = buffer if isinstance(buffer, list) else [buffer]
        codes = [code for code in map(utterance_code, frames) if code]
        utterance = self.utterance(max(set(codes), key=codes.count)) if codes else None
        if utterance is not None:
            await asyncio.sleep(utterance.stt_delay)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=self.next_request_id(),
            alternatives=[_speech_data(utterance.text if utterance else "")],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> ScriptedSTTStream:
        return ScriptedSTTStream(stt=self, conn_options=conn_options)


def _speech_data(text: str) -> stt.SpeechData:
    return stt.SpeechData(language=LANGUAGE, text=text, confidence=1.0 if text else 0.0)


@dataclass
class _Heard:
    """An utterance being heard or awaiting its final transcript."""

    code: int
    request_id: str
    speech: float = 0.0
    interims_sent: int = 0
    final: asyncio.TimerHandle | None = field(default=None, repr=False)


class ScriptedSTTStream(stt.RecognizeStream):
    def __init__(self, *, stt: ScriptedSTT, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=stt, conn_options=conn_options)
        self._scripted = stt
        self._current: _Heard | None = None
        self._pending: list[_Heard] = []
        self._unbilled_audio = 0.0

    def _send(self, kind: stt.SpeechEventType, heard: _Heard | None, text: str = "") -> None:
        _compat.send_event(
            self,
            stt.SpeechEvent(
                type=kind,
                request_id=heard.request_id if heard else self._scripted.next_request_id(),
                alternatives=[_speech_data(text)]
                if kind != stt.SpeechEventType.START_OF_SPEECH
                else [],
            ),
        )

    def _send_final(self, heard: _Heard | None) -> None:
        if heard is not None:
            self._pending.remove(heard)
            utterance = self._scripted.utterance(heard.code)
            text = utterance.text if utterance else ""
        else:
            text = ""
        self._send(stt.SpeechEventType.FINAL_TRANSCRIPT, heard, text)
        if heard is not None and text:
            self._scripted.truth.instant("stt_final", heard.code - 1, text=text)
        if heard is not None and self._unbilled_audio > 0:
            _compat.send_event(
                self,
                stt.SpeechEvent(
                    type=stt.SpeechEventType.RECOGNITION_USAGE,
                    request_id=heard.request_id,
                    recognition_usage=stt.RecognitionUsage(audio_duration=self._unbilled_audio),
                ),
            )
            self._unbilled_audio = 0.0

    def _on_frame(self, frame: rtc.AudioFrame) -> None:
        self._unbilled_audio += frame.duration
        code = utterance_code(frame)
        current = self._current
        if current is not None and code != current.code:
            self._end_of_speech(current, ended_ago=frame.duration)
            current = None
        if code == 0:
            return
        if current is None:
            current = self._current = _Heard(code=code, request_id=self._scripted.next_request_id())
            self._send(stt.SpeechEventType.START_OF_SPEECH, current)
        current.speech += frame.duration
        utterance = self._scripted.utterance(code)
        interims = utterance.interim_results if utterance else ()
        # an interim at ``at`` goes out with the first frame that ends at or after it
        while current.interims_sent < len(interims) and (
            interims[current.interims_sent].at <= current.speech + 1e-9
        ):
            interim = interims[current.interims_sent]
            current.interims_sent += 1
            self._send(stt.SpeechEventType.INTERIM_TRANSCRIPT, current, interim.text)
            self._scripted.truth.instant("stt_interim", code - 1, text=interim.text)

    def _end_of_speech(self, heard: _Heard, *, ended_ago: float) -> None:
        self._current = None
        utterance = self._scripted.utterance(heard.code)
        delay = max(0.0, (utterance.stt_delay if utterance else 0.0) - ended_ago)
        self._pending.append(heard)
        heard.final = asyncio.get_running_loop().call_later(delay, self._send_final, heard)

    def _on_flush(self) -> None:
        if self._current is None and not self._pending:
            self._send_final(None)

    async def _run(self) -> None:
        try:
            async for item in _compat.stream_input(self):
                if _compat.is_flush_sentinel(item):
                    self._on_flush()
                else:
                    self._on_frame(item)
            # input ended: finish what was heard, as a provider does on end of stream
            if self._current is not None:
                self._end_of_speech(self._current, ended_ago=0.0)
            while self._pending:
                heard = self._pending[0]
                assert heard.final is not None
                heard.final.cancel()
                self._send_final(heard)
        finally:
            for heard in self._pending:
                if heard.final is not None:
                    heard.final.cancel()
