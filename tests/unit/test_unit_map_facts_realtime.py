"""Realtime usage and cost as the backend mappings read them (enrich/map_facts.py): one
response's tokens by modality from ``lk.realtime_model_metrics``, and its exact cost."""

from __future__ import annotations

import json

from unit_helpers import view

from lk_otel import semconv as sc
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.map_facts import RealtimeUsage, cost, realtime_usage, usage

METRICS = json.dumps(
    {
        "type": "realtime_model_metrics",
        "request_id": "r1",
        "ttft": 0.2,
        "duration": 1.0,
        "session_duration": 30.0,
        "input_token_details": {
            "audio_tokens": 100,
            "text_tokens": 20,
            "image_tokens": 3,
            "cached_tokens": 44,
            "cached_tokens_details": {"audio_tokens": 40, "text_tokens": 4, "image_tokens": 1},
        },
        "output_token_details": {"audio_tokens": 50, "text_tokens": 7},
        "metadata": {"model_name": "rt", "model_provider": "openai"},
    }
)
EXPECTED = RealtimeUsage(
    provider="openai",
    model="rt",
    input_audio=100,
    input_text=20,
    input_image=3,
    cached_audio=40,
    cached_text=4,
    cached_image=1,
    output_audio=50,
    output_text=7,
    session_seconds=30.0,
)


def test_realtime_usage_by_modality() -> None:
    assert realtime_usage({sc.LK_REALTIME_MODEL_METRICS: METRICS}) == EXPECTED
    named = realtime_usage(
        {
            sc.LK_REALTIME_MODEL_METRICS: METRICS,
            sc.GEN_AI_PROVIDER_NAME: "azure",
            sc.GEN_AI_REQUEST_MODEL: "rt-2",
        }
    )
    assert named is not None and (named.provider, named.model) == ("azure", "rt-2")
    assert realtime_usage({}) is None
    report = json.dumps({"type": "realtime_model_metrics", "request_id": ""})  # connection
    assert realtime_usage({sc.LK_REALTIME_MODEL_METRICS: report}) is None


def test_usage_of_each_realtime_response_span() -> None:
    for name in (sc.SPAN_REALTIME_INFERENCE, sc.SPAN_REALTIME_METRICS):
        assert usage(view(name, {sc.LK_REALTIME_MODEL_METRICS: METRICS})) == EXPECTED


def test_realtime_cost_bills_images_as_text_and_cached_parts_at_their_rates() -> None:
    prices = PriceTable.parse(
        {
            "openai/rt": {
                "input_per_1m": 1.0,
                "cached_input_per_1m": 0.5,
                "input_audio_per_1m": 10.0,
                "cached_input_audio_per_1m": 2.0,
                "output_per_1m": 4.0,
                "output_audio_per_1m": 20.0,
                "session_per_minute": 0.06,
            }
        }
    )
    text_in, cached_text = 20 + 3, 4 + 1
    expected = (
        (text_in - cached_text) * 1.0
        + cached_text * 0.5
        + (100 - 40) * 10.0
        + 40 * 2.0
        + 7 * 4.0
        + 50 * 20.0
    ) / 1e6 + 30.0 / 60.0 * 0.06
    got = cost(EXPECTED, prices)
    assert got is not None and abs(got - expected) < 1e-15
    assert cost(EXPECTED, PriceTable.parse({"other": {"input_per_1m": 1.0}})) is None


def test_langfuse_usage_of_a_realtime_response_prices_each_modality() -> None:
    from lk_otel.enrich import map_langfuse as lf

    assert lf.usage_details(EXPECTED) == {
        sc.LANGFUSE_USAGE_INPUT_TEXT: 16,
        sc.LANGFUSE_USAGE_CACHED_TEXT: 4,
        sc.LANGFUSE_USAGE_INPUT_AUDIO: 60,
        sc.LANGFUSE_USAGE_CACHED_AUDIO: 40,
        sc.LANGFUSE_USAGE_INPUT_IMAGE: 3,
        sc.LANGFUSE_USAGE_OUTPUT_TEXT: 7,
        sc.LANGFUSE_USAGE_OUTPUT_AUDIO: 50,
        sc.LANGFUSE_USAGE_TOTAL: 123 + 57,
    }
    odd = RealtimeUsage("p", "m", 1, 2, 0, 5, 9, 0, 0, 0, 0.0)  # more cached than counted
    details = lf.usage_details(odd)
    assert (details[sc.LANGFUSE_USAGE_INPUT_TEXT], details[sc.LANGFUSE_USAGE_INPUT_AUDIO]) == (0, 0)


def test_openinference_keys_of_a_realtime_response() -> None:
    from lk_otel.enrich import map_openinference as oi
    from lk_otel.enrich.map_facts import SpanFacts

    got = oi.span_attributes(view(sc.SPAN_REALTIME_INFERENCE), SpanFacts(usage=EXPECTED))
    assert {k: v for k, v in got.items() if k != sc.OPENINFERENCE_SPAN_KIND} == {
        sc.OI_LLM_MODEL_NAME: "rt",
        sc.OI_LLM_PROVIDER: "openai",
        sc.OI_TOKEN_PROMPT: 123,
        sc.OI_TOKEN_COMPLETION: 57,
        sc.OI_TOKEN_TOTAL: 180,
        sc.OI_TOKEN_CACHE_READ: 45,
        sc.OI_TOKEN_PROMPT_AUDIO: 100,
        sc.OI_TOKEN_COMPLETION_AUDIO: 50,
    }


def test_a_realtime_price_without_session_time_charges_no_session() -> None:
    p = PriceTable.parse({"rt": {"session_per_minute": 6.0, "output_per_1m": 1e6}})
    got = p.realtime(
        None,
        "rt",
        input_audio=0,
        input_text=0,
        cached_audio=0,
        cached_text=0,
        output_audio=0,
        output_text=1,
    )
    assert got == 1.0


def test_mlflow_keeps_json_text_that_starts_after_json_whitespace() -> None:
    from lk_otel.enrich import map_mlflow as ml
    from lk_otel.enrich.map_facts import SpanFacts

    got = ml.span_attributes(view("x"), SpanFacts(input=" \n[1, 2]", output="\t{}"))
    assert got == {"mlflow.spanInputs": " \n[1, 2]", "mlflow.spanOutputs": "\t{}"}
    # whitespace JSON does not know is not skipped: the text is encoded as a string
    assert ml.span_attributes(view("x"), SpanFacts(input="\f[1]")) == {
        "mlflow.spanInputs": '"\\f[1]"'
    }
    assert ml.span_attributes(view("x"), SpanFacts(input="é")) == {"mlflow.spanInputs": '"é"'}


def test_figures_leave_out_every_key_with_a_pii_part() -> None:
    from lk_otel.enrich.map_facts import figures

    added = {
        "pii": "x",
        "pii.text": "x",
        "lk_otel.session.pii": "x",
        "lk_otel.session.pii.first_user_text": "x",
        "lk_otel.pii_like": 1,  # "pii" inside a part is no pii part
        "piinote": 2,
        "lk_otel.turn.index": 3,
    }
    assert figures(added) == {"lk_otel.pii_like": 1, "piinote": 2, "lk_otel.turn.index": 3}
