"""Realtime (speech-to-speech) model figures, from livekit's ``RealtimeModelMetrics``.

Pure functions of plain values: the metrics as a mapping (``lk.realtime_model_metrics``
JSON on ``realtime_inference``/``realtime_metrics`` spans, or ``model_dump()`` of the
event), span timestamps in seconds. They return ``lk_otel.*`` attribute dicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .. import semconv as sc
from .cost import PriceTable


@dataclass(frozen=True)
class RealtimeResponse:
    """One realtime response's figures (``RealtimeModelMetrics``), by modality."""

    request_id: str
    ttft: float | None  # first audio, s after the response was created; None: no audio
    duration: float
    session_duration: float
    input_audio: int
    input_text: int
    input_image: int
    cached_audio: int
    cached_text: int
    cached_image: int
    cached_total: int
    output_audio: int
    output_text: int
    input_tokens: int
    output_tokens: int
    model: str | None = None
    provider: str | None = None

    @property
    def is_connection_report(self) -> bool:
        """livekit's zero-usage report of a connection's setup time, not a response."""
        return not self.request_id


def _int(mapping: Mapping[str, Any] | None, key: str) -> int:
    if not mapping:
        return 0
    value = mapping.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _float(mapping: Mapping[str, Any], key: str) -> float:
    value = mapping.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def parse_realtime_metrics(value: str | Mapping[str, Any] | None) -> RealtimeResponse | None:
    """A response from livekit's JSON string or dict; None if it is not realtime metrics."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, Mapping) or value.get("type") != "realtime_model_metrics":
        return None
    inp = value.get("input_token_details") or {}
    out = value.get("output_token_details") or {}
    cached = inp.get("cached_tokens_details") or {}
    meta = value.get("metadata") or {}
    ttft = _float(value, "ttft") if "ttft" in value else -1.0
    return RealtimeResponse(
        request_id=str(value.get("request_id") or ""),
        ttft=ttft if ttft >= 0 else None,
        duration=_float(value, "duration"),
        session_duration=_float(value, "session_duration"),
        input_audio=_int(inp, "audio_tokens"),
        input_text=_int(inp, "text_tokens"),
        input_image=_int(inp, "image_tokens"),
        cached_audio=_int(cached, "audio_tokens"),
        cached_text=_int(cached, "text_tokens"),
        cached_image=_int(cached, "image_tokens"),
        cached_total=_int(inp, "cached_tokens"),
        output_audio=_int(out, "audio_tokens"),
        output_text=_int(out, "text_tokens"),
        input_tokens=_int(value, "input_tokens"),
        output_tokens=_int(value, "output_tokens"),
        model=meta.get("model_name"),
        provider=meta.get("model_provider"),
    )


# (response field, turn key, session key)
_TOKEN_KEYS: tuple[tuple[str, str, str], ...] = (
    ("input_tokens", sc.TURN_INPUT_TOKENS, sc.SESSION_INPUT_TOKENS),
    ("output_tokens", sc.TURN_OUTPUT_TOKENS, sc.SESSION_OUTPUT_TOKENS),
    ("cached_total", sc.TURN_CACHED_INPUT_TOKENS, sc.SESSION_CACHED_INPUT_TOKENS),
    ("input_audio", sc.TURN_INPUT_AUDIO_TOKENS, sc.SESSION_INPUT_AUDIO_TOKENS),
    ("input_text", sc.TURN_INPUT_TEXT_TOKENS, sc.SESSION_INPUT_TEXT_TOKENS),
    ("input_image", sc.TURN_INPUT_IMAGE_TOKENS, sc.SESSION_INPUT_IMAGE_TOKENS),
    ("cached_audio", sc.TURN_CACHED_INPUT_AUDIO_TOKENS, sc.SESSION_CACHED_INPUT_AUDIO_TOKENS),
    ("cached_text", sc.TURN_CACHED_INPUT_TEXT_TOKENS, sc.SESSION_CACHED_INPUT_TEXT_TOKENS),
    ("output_audio", sc.TURN_OUTPUT_AUDIO_TOKENS, sc.SESSION_OUTPUT_AUDIO_TOKENS),
    ("output_text", sc.TURN_OUTPUT_TEXT_TOKENS, sc.SESSION_OUTPUT_TEXT_TOKENS),
)
_TOKEN_NAMES = tuple(name for name, _, _ in _TOKEN_KEYS)
_INT_FIELDS = tuple(f.name for f in fields(RealtimeResponse) if f.type == "int")


def response_attributes(
    response: RealtimeResponse, prices: PriceTable | None = None
) -> dict[str, Any]:
    """Keys for the response's own span (``realtime_inference`` / ``realtime_metrics``)."""
    attrs: dict[str, Any] = {sc.REALTIME_DURATION: response.duration}
    if response.ttft is not None:
        attrs[sc.REALTIME_TTFT] = response.ttft
    if prices is not None:
        cost = realtime_cost(prices, response)
        if cost is not None:
            attrs[sc.REALTIME_COST] = cost
    return attrs


def turn_attributes(
    responses: Sequence[RealtimeResponse], prices: PriceTable | None = None
) -> dict[str, Any]:
    """A turn's realtime figures: tokens summed by modality over its responses (a tool
    call's follow-up included), ``llm_ttft`` = the first response that produced audio."""
    real = [r for r in responses if not r.is_connection_report]
    if not real:
        return {}
    attrs: dict[str, Any] = {
        turn_key: sum(getattr(r, name) for r in real) for name, turn_key, _ in _TOKEN_KEYS
    }
    attrs[sc.TURN_REALTIME_RESPONSES] = len(real)
    attrs[sc.TURN_REALTIME_DURATION] = sum(r.duration for r in real)
    first_audio = next((r.ttft for r in real if r.ttft is not None), None)
    if first_audio is not None:
        attrs[sc.TURN_LLM_TTFT] = first_audio
    if prices is not None:
        costs = [realtime_cost(prices, r) for r in real]
        priced = [c for c in costs if c is not None]
        if priced:
            attrs[sc.TURN_COST] = sum(priced)
    return attrs


@dataclass
class RealtimeTotals:
    """A session's responses folded as each completes, so a long call keeps no list of them:
    the token sums by modality, the billed connection time and the cost."""

    prices: PriceTable | None = None
    responses: int = 0  # connection reports included
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_TOKEN_NAMES, 0))
    billed: float = 0.0
    cost: float | None = None

    def add(self, response: RealtimeResponse) -> None:
        """Count one response (a connection report adds only its billed time and cost)."""
        self.responses += 1
        if not response.is_connection_report:
            for name in self.tokens:
                self.tokens[name] += getattr(response, name)
        self.billed += response.session_duration
        if self.prices is not None:
            cost = realtime_cost(self.prices, response)
            if cost is not None:
                self.cost = cost if self.cost is None else self.cost + cost

    def attributes(self) -> dict[str, Any]:
        """The session keys: empty before any response."""
        if not self.responses:
            return {}
        attrs: dict[str, Any] = {key: self.tokens[name] for name, _, key in _TOKEN_KEYS}
        if self.billed > 0:
            attrs[sc.SESSION_REALTIME_SESSION_DURATION] = self.billed
        if self.cost is not None:
            attrs[sc.SESSION_COST] = self.cost
        return attrs


def session_attributes(
    responses: Iterable[RealtimeResponse], prices: PriceTable | None = None
) -> dict[str, Any]:
    """Session totals by modality over every response (connection reports add only their
    billed ``session_duration``), and the billed connection time when the model reports it."""
    totals = RealtimeTotals(prices)
    for response in responses:
        totals.add(response)
    return totals.attributes()


def e2e_latency(
    livekit_e2e: float | None,
    user_speech_end: float | None,
    first_agent_audio: float | None,
) -> float | None:
    """End-to-end latency of a realtime reply, in seconds.

    livekit's ``lk.e2e_latency`` when it wrote one (client-side VAD turn detection);
    with server-side turn detection livekit writes none, and this is the agent's first
    audio (``agent_speaking`` start) minus the end of the user's speech as the server
    reported it (``user_speaking`` end, stamped when ``input_speech_stopped`` arrived).
    """
    if livekit_e2e is not None:
        return livekit_e2e
    if user_speech_end is None or first_agent_audio is None:
        return None
    latency = first_agent_audio - user_speech_end
    return latency if latency >= 0 else None


def realtime_cost(prices: PriceTable, response: RealtimeResponse) -> float | None:
    """Cost of one response at the model's audio/text token rates; None: no price."""
    return prices.realtime_response(response, response.session_duration)


def usage_totals(responses: Iterable[RealtimeResponse]) -> dict[str, int]:
    """Per-field token sums, for comparing with livekit's ``LLMModelUsage``."""
    real = [r for r in responses if not r.is_connection_report]
    return {name: sum(getattr(r, name) for r in real) for name in _INT_FIELDS}
