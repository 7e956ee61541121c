"""The instruments and their bucket boundaries (views)."""

from __future__ import annotations

from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View

from .. import semconv as sc

# voice latency lives between ~50 ms and a few seconds; finer where the p50/p95 usually are
VOICE_LATENCY_BUCKETS = (
    0.05,
    0.1,
    0.15,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.75,
    1.0,
    1.25,
    1.5,
    2.0,
    2.5,
    3.0,
    4.0,
    5.0,
    7.5,
    10.0,
)
# OTel GenAI semantic conventions' advice
GENAI_DURATION_BUCKETS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
GENAI_TOKEN_BUCKETS = tuple(float(4**i) for i in range(14))  # 1, 4, 16 … 67108864

METER = "lk_otel"  # views apply to our instruments only (livekit has same-named ones)

TURN_HISTOGRAMS = (
    sc.METRIC_TURN_E2E,
    sc.METRIC_TURN_EOT,
    sc.METRIC_TURN_LLM_TTFT,
    sc.METRIC_TURN_TTS_TTFB,
)


def views() -> list[View]:
    """Bucket boundaries for every lk_otel and GenAI histogram."""
    out = [
        View(
            meter_name=METER,
            instrument_name=name,
            aggregation=ExplicitBucketHistogramAggregation(VOICE_LATENCY_BUCKETS),
        )
        for name in TURN_HISTOGRAMS
    ]
    out.append(
        View(
            meter_name=METER,
            instrument_name=sc.METRIC_GENAI_DURATION,
            aggregation=ExplicitBucketHistogramAggregation(GENAI_DURATION_BUCKETS),
        )
    )
    out.append(
        View(
            meter_name=METER,
            instrument_name=sc.METRIC_GENAI_TTFC,
            aggregation=ExplicitBucketHistogramAggregation(GENAI_DURATION_BUCKETS),
        )
    )
    out.append(
        View(
            meter_name=METER,
            instrument_name=sc.METRIC_GENAI_TOKENS,
            aggregation=ExplicitBucketHistogramAggregation(GENAI_TOKEN_BUCKETS),
        )
    )
    return out
