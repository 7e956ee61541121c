"""Instruments for the issue-13 figures: realtime tokens by modality, first audio, barge-in,
handoffs, false interruptions. Attributes: agent, provider, model, token type/modality only
(never a session, room or user id). ``views()`` gives their bucket boundaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View

from .. import semconv as sc
from ..enrich.handoff import Handoff
from ..enrich.realtime import RealtimeResponse
from .instruments import METER, VOICE_LATENCY_BUCKETS

# how much of a reply is heard before a barge-in: a fraction of a second to a long answer
PLAYED_DURATION_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0)


def views() -> list[View]:
    """Bucket boundaries of the histograms below (add them to the MeterProvider's views)."""
    latency = ExplicitBucketHistogramAggregation(VOICE_LATENCY_BUCKETS)
    return [
        View(meter_name=METER, instrument_name=sc.METRIC_REALTIME_TTFT, aggregation=latency),
        View(
            meter_name=METER,
            instrument_name=sc.METRIC_TURN_BARGE_IN_STOP_LATENCY,
            aggregation=latency,
        ),
        View(
            meter_name=METER,
            instrument_name=sc.METRIC_TURN_PLAYED_DURATION,
            aggregation=ExplicitBucketHistogramAggregation(PLAYED_DURATION_BUCKETS),
        ),
    ]


class RealtimeMetricsRecorder:
    """Records each finished response, interrupted turn, handoff and false interruption."""

    def __init__(self, meter: Meter) -> None:
        self._ttft = meter.create_histogram(
            sc.METRIC_REALTIME_TTFT, unit="s", description="Realtime model's first audio"
        )
        self._tokens = meter.create_counter(
            sc.METRIC_REALTIME_TOKENS, unit="{token}", description="Realtime model tokens"
        )
        self._played = meter.create_histogram(
            sc.METRIC_TURN_PLAYED_DURATION,
            unit="s",
            description="Agent audio heard before the user cut in",
        )
        self._stop = meter.create_histogram(
            sc.METRIC_TURN_BARGE_IN_STOP_LATENCY,
            unit="s",
            description="User started speaking over the agent to the agent's audio stopping",
        )
        self._handoffs = meter.create_counter(
            sc.METRIC_HANDOFFS, unit="{handoff}", description="Switches of the active agent"
        )
        self._false = meter.create_counter(
            sc.METRIC_FALSE_INTERRUPTIONS,
            unit="{interruption}",
            description="Interruptions livekit judged false (no words followed)",
        )

    def on_response(self, response: RealtimeResponse, agent_name: str | None) -> None:
        """One realtime response (skip livekit's zero-usage connection reports)."""
        if response.is_connection_report:
            return
        base = {**_agent(agent_name), **_model(response.provider, response.model)}
        if response.ttft is not None:
            self._ttft.record(response.ttft, base)
        for kind, modality, count in (
            ("input", "audio", response.input_audio - response.cached_audio),
            ("input", "text", response.input_text - response.cached_text),
            ("input", "image", response.input_image - response.cached_image),
            ("cached_input", "audio", response.cached_audio),
            ("cached_input", "text", response.cached_text),
            ("cached_input", "image", response.cached_image),
            ("output", "audio", response.output_audio),
            ("output", "text", response.output_text),
        ):
            if count > 0:
                attrs = {**base, sc.GEN_AI_TOKEN_TYPE: kind, sc.TOKEN_MODALITY: modality}
                self._tokens.add(count, attrs)

    def on_interrupted_turn(self, figures: Mapping[str, Any], agent_name: str | None) -> None:
        """An interrupted turn's ``lk_otel.turn.played_duration`` / ``.barge_in_stop_latency``."""
        attrs = _agent(agent_name)
        played = figures.get(sc.TURN_PLAYED_DURATION)
        if isinstance(played, int | float):
            self._played.record(played, attrs)
        stop = figures.get(sc.TURN_BARGE_IN_STOP_LATENCY)
        if isinstance(stop, int | float):
            self._stop.record(stop, attrs)

    def on_handoff(self, handoff: Handoff) -> None:
        attrs = {sc.AGENT_NAME: handoff.to_agent}
        if handoff.from_agent is not None:
            attrs[sc.HANDOFF_FROM] = handoff.from_agent
        self._handoffs.add(1, attrs)

    def on_false_interruption(self, resumed: bool, agent_name: str | None) -> None:
        self._false.add(1, {**_agent(agent_name), sc.INTERRUPTION_RESUMED: resumed})


def _model(provider: str | None, model: str | None) -> dict[str, str]:
    out = {}
    if provider:
        out[sc.GEN_AI_PROVIDER_NAME] = provider
    if model:
        out[sc.GEN_AI_REQUEST_MODEL] = model
    return out


def _agent(agent_name: str | None) -> dict[str, str]:
    return {sc.AGENT_NAME: agent_name} if agent_name else {}
