"""The agent turn: its kind, latency breakdown, usage and timeline (pure functions)."""

from __future__ import annotations

from typing import Any

from .. import semconv as sc
from .cost import PriceTable
from .extract import Attrs, Tally, number
from .records import EouTiming
from .state import TurnState, TurnSummary
from .timeline import LlmRound, ToolRun, TtsRun, TurnTimeline

REPLY, GREETING, SAY = "reply", "greeting", "say"


def turn_kind(*, answers_user: bool, user_turns_before: int) -> str:
    """What the turn is: it answers a user turn, greets before any, or speaks on its own."""
    if answers_user:
        return REPLY
    return GREETING if user_turns_before == 0 else SAY


def answers_user(attrs: Attrs, eou: EouTiming | None) -> bool:
    """Whether a turn answers a user turn: livekit reported that user turn's end-of-turn
    (EOUMetrics joined by speech id), or wrote its latencies or its input on the turn."""
    return (
        eou is not None
        or sc.LK_END_OF_TURN_DELAY in attrs
        or sc.LK_E2E_LATENCY in attrs
        or any(k in attrs for k in sc.LK_USER_INPUT_KEYS)
    )


def summarize_turn(
    attrs: Attrs,
    state: TurnState,
    *,
    eou: EouTiming | None,
    user_turns_before: int,
    agent_name: str | None,
    prices: PriceTable | None,
    tally: Tally | None = None,
) -> TurnSummary:
    """Everything known about a turn when its span ends.

    Latencies come from the turn span (livekit >= 1.3) or, where it has none (1.2, or a
    reply interrupted before its first audio), from the EOU metrics; on 1.2, end-to-end is
    the agent's first audio minus the user's last speech.
    """
    e2e = number(attrs.get(sc.LK_E2E_LATENCY), tally)
    eot = number(attrs.get(sc.LK_END_OF_TURN_DELAY), tally)
    transcription = number(attrs.get(sc.LK_TRANSCRIPTION_DELAY), tally)
    on_utc = number(attrs.get(sc.LK_ON_USER_TURN_COMPLETED_DELAY), tally)
    if eou is not None:
        eot = eot if eot is not None else number(eou.end_of_turn_delay, tally)
        if transcription is None:
            transcription = number(eou.transcription_delay, tally)
        if on_utc is None:
            on_utc = number(eou.on_user_turn_completed_delay, tally)
        last = number(eou.last_speaking_time, tally)
        if e2e is None and last and state.speaking_start_ns:
            e2e = state.speaking_start_ns / 1e9 - last
    llm = sorted(state.llm, key=lambda c: c.start_ns)
    tts = sorted(state.tts, key=lambda c: c.start_ns)
    # the first call that produced output (a tool-call-only step speaks nothing on 1.2)
    llm_ttft = next((c.ttft for c in llm if c.ttft is not None), None)
    tts_ttfb = next((c.ttfb for c in tts if c.ttfb is not None), None)
    latency_sum = None
    if eot is not None and llm_ttft is not None and tts_ttfb is not None:
        latency_sum = eot + llm_ttft + tts_ttfb
    cost = None
    if prices is not None:
        cost = sum(
            prices.llm(c.provider, c.model, c.input_tokens, c.output_tokens, c.cached_input_tokens)
            for c in llm
        ) + sum(prices.tts(c.provider, c.model, c.characters) for c in tts)
    return TurnSummary(
        index=state.index,
        kind=turn_kind(answers_user=answers_user(attrs, eou), user_turns_before=user_turns_before),
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
        produced_audio=state.speaking_start_ns is not None,
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
        sc.TURN_PRODUCED_AUDIO: s.produced_audio,
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


def _at(start_ns: int | None, seconds: float | None) -> int | None:
    if start_ns is None or seconds is None:
        return None
    return start_ns + int(seconds * 1e9)


def build_timeline(summary: TurnSummary, state: TurnState) -> TurnTimeline:
    """The answering turn's instants, from livekit's own timestamps.

    ``user_stop_ns`` is the agent's first audio minus livekit's end-to-end latency (the
    same instant livekit measured from); without audio, the end of the user's last speech
    segment. Rounds and runs are in start order, tools assigned to the round before them.
    This is where ``critical_path`` reads a turn.
    """
    audio = state.speaking_start_ns
    user = state.user
    if audio is not None and summary.e2e_latency is not None:
        user_stop: int | None = audio - int(summary.e2e_latency * 1e9)
    else:
        user_stop = user.speech_end_ns if user is not None else None
    tools = tuple(
        ToolRun(t.name, t.start_ns, t.end_ns) for t in sorted(state.tools, key=lambda t: t.start_ns)
    )
    llm = summary.llm
    tts = summary.tts
    spoken_tts = None
    if audio is not None:
        spoken_tts = max(
            (i for i, c in enumerate(tts) if c.start_ns <= audio and c.ttfb is not None),
            default=None,
        )
    spoken_llm = None
    if spoken_tts is not None:
        start = tts[spoken_tts].start_ns
        spoken_llm = max((i for i, c in enumerate(llm) if c.start_ns <= start), default=None)
    rounds = []
    for i, c in enumerate(llm):
        nxt = llm[i + 1].start_ns if i + 1 < len(llm) else None
        names = tuple(
            t.name for t in tools if t.start_ns >= c.start_ns and (nxt is None or t.start_ns < nxt)
        )
        base = c.request_start_ns if c.request_start_ns is not None else c.start_ns
        rounds.append(
            LlmRound(
                start_ns=c.start_ns,
                end_ns=c.end_ns,
                first_token_ns=_at(base, c.ttft),
                tool_calls=names,
                spoken=i == spoken_llm,
                cancelled=c.cancelled,
            )
        )
    runs = tuple(
        TtsRun(
            start_ns=c.start_ns,
            end_ns=c.end_ns,
            first_byte_ns=_at(c.request_start_ns or c.start_ns, c.ttfb),
            spoken=i == spoken_tts,
        )
        for i, c in enumerate(tts)
    )
    return TurnTimeline(
        user_stop_ns=user_stop,
        audio_start_ns=audio,
        end_of_turn_ns=_at(user_stop, summary.end_of_turn_delay),
        transcript_ns=_at(user_stop, summary.transcription_delay),
        on_user_turn_completed_ns=user.on_user_turn_completed if user is not None else None,
        llm=tuple(rounds),
        tools=tools,
        tts=runs,
    )
