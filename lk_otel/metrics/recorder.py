"""Records each finished turn on the instruments, as it ends (not at session end).

The recorder is an :class:`~lk_otel.enrich.observer.EnrichmentObserver`: the span
processor calls it on its worker thread (``processor.add_observer(recorder)``).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import Meter

from .. import semconv as sc
from ..enrich.extract import LlmCall, TtsCall
from ..enrich.observer import EnrichmentObserver
from ..enrich.state import TurnSummary


class TurnMetricsRecorder(EnrichmentObserver):
    """Low-cardinality attributes only: agent name, provider, model; never a session id."""

    def __init__(self, meter: Meter, *, genai: bool = True) -> None:
        self._genai = genai  # False where livekit records the GenAI instruments itself

        def hist(name: str, unit: str, desc: str) -> Any:
            return meter.create_histogram(name, unit=unit, description=desc)

        self._e2e = hist(sc.METRIC_TURN_E2E, "s", "User stopped speaking to agent audio started")
        self._eot = hist(sc.METRIC_TURN_EOT, "s", "End-of-turn detection delay")
        self._ttft = hist(sc.METRIC_TURN_LLM_TTFT, "s", "First LLM call's time to first token")
        self._ttfb = hist(sc.METRIC_TURN_TTS_TTFB, "s", "First speech's TTS time to first byte")
        self._tokens = meter.create_counter(
            sc.METRIC_TOKENS, unit="{token}", description="LLM tokens"
        )
        self._chars = meter.create_counter(
            sc.METRIC_TTS_CHARACTERS, unit="{character}", description="Characters sent to TTS"
        )
        self._tts_audio = meter.create_counter(
            sc.METRIC_TTS_AUDIO, unit="s", description="Audio synthesised by TTS"
        )
        self._stt_audio = meter.create_counter(
            sc.METRIC_STT_AUDIO, unit="s", description="Audio sent to STT"
        )
        self._interruptions = meter.create_counter(
            sc.METRIC_INTERRUPTIONS, unit="{turn}", description="Agent turns the user interrupted"
        )
        if genai:
            self._op_duration = hist(sc.METRIC_GENAI_DURATION, "s", "GenAI operation duration")
            self._op_ttfc = hist(sc.METRIC_GENAI_TTFC, "s", "GenAI time to first chunk")
            self._token_usage = hist(sc.METRIC_GENAI_TOKENS, "{token}", "GenAI tokens used")

    def on_turn(self, turn: TurnSummary) -> None:
        """Record one finished agent turn's latencies (its calls are recorded as they end)."""
        agent = _agent(turn.agent_name)
        first_llm = turn.llm[0] if turn.llm else None
        turn_attrs = {
            **agent,
            **_model(
                first_llm.provider if first_llm else None, first_llm.model if first_llm else None
            ),
        }
        for instrument, value in (
            (self._e2e, turn.e2e_latency),
            (self._eot, turn.end_of_turn_delay),
            (self._ttft, turn.llm_ttft),
            (self._ttfb, turn.tts_ttfb),
        ):
            if value is not None:
                instrument.record(value, turn_attrs)
        if turn.interrupted:
            self._interruptions.add(1, turn_attrs)

    def on_llm(self, call: LlmCall, agent_name: str | None) -> None:
        """Record one LLM call (tokens, GenAI duration and time to first chunk)."""
        attrs = {**_agent(agent_name), **_model(call.provider, call.model)}
        genai = {sc.GEN_AI_OPERATION_NAME: "chat", **_model(call.provider, call.model)}
        for kind, count in (
            ("input", call.input_tokens),
            ("output", call.output_tokens),
            ("cached_input", call.cached_input_tokens),
        ):
            self._tokens.add(count, {**attrs, sc.GEN_AI_TOKEN_TYPE: kind})
        if not self._genai:
            return
        self._token_usage.record(call.input_tokens, {**genai, sc.GEN_AI_TOKEN_TYPE: "input"})
        self._token_usage.record(call.output_tokens, {**genai, sc.GEN_AI_TOKEN_TYPE: "output"})
        if call.duration is not None:
            self._op_duration.record(call.duration, genai)
        if call.ttft is not None:
            self._op_ttfc.record(call.ttft, genai)

    def on_tts(self, call: TtsCall, agent_name: str | None) -> None:
        """Record one synthesis (characters and audio seconds)."""
        attrs = {**_agent(agent_name), **_model(call.provider, call.model)}
        self._chars.add(call.characters, attrs)
        self._tts_audio.add(call.audio_duration, attrs)

    def on_user_turn(self, stt_audio_seconds: float, agent_name: str | None) -> None:
        """Record the STT audio of one user turn."""
        if stt_audio_seconds > 0:
            self._stt_audio.add(
                stt_audio_seconds, {sc.AGENT_NAME: agent_name} if agent_name else {}
            )


def _model(provider: str | None, model: str | None) -> dict[str, str]:
    out = {}
    if provider:
        out[sc.GEN_AI_PROVIDER_NAME] = provider
    if model:
        out[sc.GEN_AI_REQUEST_MODEL] = model
    return out


def _agent(agent_name: str | None) -> dict[str, str]:
    return {sc.AGENT_NAME: agent_name} if agent_name else {}
