"""The agent turn: its latency breakdown and usage, from its children and the session feed."""

from __future__ import annotations

from typing import Any

from .. import semconv as sc
from ..collect.feed import EouTiming
from .cost import PriceTable
from .extract import Attrs, _num
from .state import TurnState, TurnSummary


def summarize_turn(
    attrs: Attrs,
    state: TurnState,
    *,
    eou: EouTiming | None,
    user_turns_before: int,
    agent_name: str | None,
    prices: PriceTable | None,
) -> TurnSummary:
    """Everything known about a turn when its span ends.

    Latencies come from the turn span (livekit >= 1.3) or from the EOU metrics (1.2);
    on 1.2, end-to-end is the agent's first audio minus the user's last speech.
    """
    e2e = _num(attrs.get(sc.LK_E2E_LATENCY))
    eot = _num(attrs.get(sc.LK_END_OF_TURN_DELAY))
    transcription = _num(attrs.get(sc.LK_TRANSCRIPTION_DELAY))
    on_utc = _num(attrs.get(sc.LK_ON_USER_TURN_COMPLETED_DELAY))
    if eou is not None:
        eot = eot if eot is not None else eou.end_of_turn_delay
        transcription = transcription if transcription is not None else eou.transcription_delay
        on_utc = on_utc if on_utc is not None else eou.on_user_turn_completed_delay
        if e2e is None and eou.last_speaking_time and state.speaking_start_ns:
            e2e = state.speaking_start_ns / 1e9 - eou.last_speaking_time
    llm = sorted(state.llm, key=lambda c: c.start_ns)
    tts = sorted(state.tts, key=lambda c: c.start_ns)
    # the first call that produced output (a tool-call-only step speaks nothing on 1.2)
    llm_ttft = next((c.ttft for c in llm if c.ttft is not None), None)
    tts_ttfb = next((c.ttfb for c in tts if c.ttfb is not None), None)
    latency_sum = None
    if eot is not None and llm_ttft is not None and tts_ttfb is not None:
        latency_sum = eot + llm_ttft + tts_ttfb
    if eot is not None or e2e is not None:
        kind = "reply"
    else:
        kind = "greeting" if user_turns_before == 0 else "say"
    cost = None
    if prices is not None:
        cost = sum(
            prices.llm(c.provider, c.model, c.input_tokens, c.output_tokens, c.cached_input_tokens)
            for c in llm
        ) + sum(prices.tts(c.provider, c.model, c.characters) for c in tts)
    return TurnSummary(
        index=state.index,
        kind=kind,
        agent_name=agent_name,
        e2e_latency=e2e,
        end_of_turn_delay=eot,
        transcription_delay=transcription,
        on_user_turn_completed_delay=on_utc,
        llm_ttft=llm_ttft,
        tts_ttfb=tts_ttfb,
        latency_sum=latency_sum,
        llm_calls=len(llm),
        tool_calls=state.tool_calls,
        input_tokens=sum(c.input_tokens for c in llm),
        output_tokens=sum(c.output_tokens for c in llm),
        cached_input_tokens=sum(c.cached_input_tokens for c in llm),
        tts_characters=sum(c.characters for c in tts),
        tts_audio_duration=sum(c.audio_duration for c in tts),
        interrupted=bool(attrs.get(sc.LK_INTERRUPTED, False)),
        cost=cost,
        llm=tuple(llm),
        tts=tuple(tts),
    )


def turn_attributes(s: TurnSummary, session_id: str) -> dict[str, Any]:
    """``lk_otel.turn.*`` (and the session id) for the turn span."""
    out: dict[str, Any] = {
        sc.TURN_SESSION_ID: session_id,
        sc.TURN_INDEX: s.index,
        sc.TURN_KIND: s.kind,
        sc.TURN_LLM_CALLS: s.llm_calls,
        sc.TURN_TOOL_CALLS: s.tool_calls,
        sc.TURN_INPUT_TOKENS: s.input_tokens,
        sc.TURN_OUTPUT_TOKENS: s.output_tokens,
        sc.TURN_CACHED_INPUT_TOKENS: s.cached_input_tokens,
        sc.TURN_TTS_CHARACTERS: s.tts_characters,
        sc.TURN_TTS_AUDIO_DURATION: s.tts_audio_duration,
        sc.TURN_INTERRUPTED: s.interrupted,
    }
    optional = {
        sc.TURN_E2E_LATENCY: s.e2e_latency,
        sc.TURN_END_OF_TURN_DELAY: s.end_of_turn_delay,
        sc.TURN_TRANSCRIPTION_DELAY: s.transcription_delay,
        sc.TURN_ON_USER_TURN_COMPLETED_DELAY: s.on_user_turn_completed_delay,
        sc.TURN_LLM_TTFT: s.llm_ttft,
        sc.TURN_TTS_TTFB: s.tts_ttfb,
        sc.TURN_LATENCY_SUM: s.latency_sum,
        sc.TURN_COST: s.cost,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out
