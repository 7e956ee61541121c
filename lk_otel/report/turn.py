"""One agent turn (``agent_turn`` / ``assistant_turn``) read from its lk_otel attributes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from lk_otel import semconv as sc
from lk_otel.report.path import TurnPath
from lk_otel.report.records import SpanRecord
from lk_otel.report.values import flag, integer, number, text

# the user's words on the turn span (only with PII allowed); not (yet) in lk_otel.semconv
_T = TypeVar("_T")
USER_INPUT_KEYS = ("lk.pii.user_input", "lk.user_input")  # livekit 1.8, livekit 1.2

# every lk_otel.turn.* name; a turn span carrying none of them was not enriched
TURN_KEYS = frozenset(
    value for name, value in vars(sc).items() if name.startswith("TURN_") and isinstance(value, str)
)


def is_enriched_turn(record: SpanRecord) -> bool:
    """An agent turn span carrying at least one ``lk_otel.turn.*`` attribute, and not a tool
    follow-up (livekit 1.3-1.7: its figures are on the turn it continues)."""
    return (
        record.name in sc.TURN_SPAN_NAMES
        and sc.TURN_FOLLOW_UP_OF not in record.attributes
        and not TURN_KEYS.isdisjoint(record.attributes)
    )


@dataclass(frozen=True)
class TurnReport:
    """One agent turn. Latencies and durations in seconds; ``None`` when not recorded."""

    trace_id: str
    span_id: str
    start_ns: int
    index: int | None
    kind: str | None
    user_text: str | None
    e2e_latency: float | None
    end_of_turn_delay: float | None
    transcription_delay: float | None
    on_user_turn_completed_delay: float | None
    llm_ttft: float | None
    tts_ttfb: float | None
    latency_sum: float | None
    llm_calls: int | None
    tool_calls: int | None
    input_tokens: int | None
    output_tokens: int | None
    cached_input_tokens: int | None
    tts_characters: int | None
    tts_audio_duration: float | None
    interrupted: bool | None
    cost: float | None
    spoken_llm_ttft: float | None = None
    llm_rounds: int | None = None
    slowest_stage: str | None = None
    path: TurnPath | None = None

    def with_path(self, path: TurnPath | None) -> TurnReport:
        """This turn with its critical path; figures the span lacks come from the path."""
        if path is None:
            return self
        f = path.figures
        return replace(
            self,
            path=path,
            spoken_llm_ttft=_pick(self.spoken_llm_ttft, number(f, sc.TURN_SPOKEN_LLM_TTFT)),
            llm_rounds=_pick(self.llm_rounds, integer(f, sc.TURN_LLM_ROUNDS)),
            slowest_stage=_pick(self.slowest_stage, text(f, sc.TURN_SLOWEST_STAGE)),
        )

    @classmethod
    def from_record(cls, rec: SpanRecord) -> TurnReport:
        """Read the lk_otel turn attributes of an agent turn span."""
        a = rec.attributes
        return cls(
            trace_id=rec.trace_id,
            span_id=rec.span_id,
            start_ns=rec.start_ns,
            index=integer(a, sc.TURN_INDEX),
            kind=text(a, sc.TURN_KIND),
            user_text=text(a, *USER_INPUT_KEYS),
            e2e_latency=number(a, sc.TURN_E2E_LATENCY),
            end_of_turn_delay=number(a, sc.TURN_END_OF_TURN_DELAY),
            transcription_delay=number(a, sc.TURN_TRANSCRIPTION_DELAY),
            on_user_turn_completed_delay=number(a, sc.TURN_ON_USER_TURN_COMPLETED_DELAY),
            llm_ttft=number(a, sc.TURN_LLM_TTFT),
            tts_ttfb=number(a, sc.TURN_TTS_TTFB),
            latency_sum=number(a, sc.TURN_LATENCY_SUM),
            llm_calls=integer(a, sc.TURN_LLM_CALLS),
            tool_calls=integer(a, sc.TURN_TOOL_CALLS),
            input_tokens=integer(a, sc.TURN_INPUT_TOKENS),
            output_tokens=integer(a, sc.TURN_OUTPUT_TOKENS),
            cached_input_tokens=integer(a, sc.TURN_CACHED_INPUT_TOKENS),
            tts_characters=integer(a, sc.TURN_TTS_CHARACTERS),
            tts_audio_duration=number(a, sc.TURN_TTS_AUDIO_DURATION),
            interrupted=flag(a, sc.TURN_INTERRUPTED),
            cost=number(a, sc.TURN_COST),
            spoken_llm_ttft=number(a, sc.TURN_SPOKEN_LLM_TTFT),
            llm_rounds=integer(a, sc.TURN_LLM_ROUNDS),
            slowest_stage=text(a, sc.TURN_SLOWEST_STAGE),
        )


def _pick(own: _T | None, computed: _T | None) -> _T | None:
    return own if own is not None else computed
