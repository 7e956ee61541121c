"""``enrich.cost`` and ``enrich.options``: prices parsed, looked up and applied exactly."""

from __future__ import annotations

import math

import pytest
from unit_helpers import error

from lk_otel.enrich.cost import Price, PriceTable
from lk_otel.enrich.options import EnrichOptions

PRICES = {
    "openai/gpt-4o-mini": {
        "input_per_1m": 0.15,
        "cached_input_per_1m": 0.075,
        "output_per_1m": 0.6,
    },
    "gpt-4o-mini": {"input_per_1m": 1.0, "output_per_1m": 2.0},
    "cartesia/sonic-2": {"characters_per_1k": 0.05},
    "nova-3": {"stt_per_minute": 0.0043},
}


def test_parse() -> None:
    table = PriceTable.parse({"m": {"input_per_1m": "2", "stt_per_minute": 1}, 7: {}})
    assert table.entries == (("m", Price(input_per_1m=2.0, stt_per_minute=1.0)), ("7", Price()))
    assert Price() == Price(0.0, 0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ({"m": 1}, "prices['m'] must be a mapping of price fields"),
        (
            {"m": {"input": 1, "zzz": 2}},
            "prices['m']: unknown field 'input'; use cached_input_audio_per_1m, "
            "cached_input_per_1m, characters_per_1k, input_audio_per_1m, input_per_1m, "
            "output_audio_per_1m, output_per_1m, session_per_minute, stt_per_minute",
        ),
        ({"m": {"input_per_1m": "x"}}, "prices['m']: every price must be a number"),
        ({"m": {"input_per_1m": None}}, "prices['m']: every price must be a number"),
        ({"m": {"output_per_1m": -0.1}}, "prices['m']: prices must be finite and not negative"),
        (
            {"m": {"characters_per_1k": math.inf}},
            "prices['m']: prices must be finite and not negative",
        ),
        ({"m": {"stt_per_minute": "nan"}}, "prices['m']: prices must be finite and not negative"),
        ({"m": {"cached_input_per_1m": -1}}, "prices['m']: prices must be finite and not negative"),
    ],
)
def test_parse_errors(prices: dict, message: str) -> None:
    assert error(PriceTable.parse, prices) == message


def test_zero_price_is_allowed() -> None:
    assert PriceTable.parse({"m": {"input_per_1m": 0}}).entries == (("m", Price()),)


def test_find_prefers_provider_slash_model() -> None:
    table = PriceTable.parse(PRICES)
    assert table.find("openai", "gpt-4o-mini") == Price(0.15, 0.6, 0.075)
    assert table.find("azure", "gpt-4o-mini") == Price(1.0, 2.0)
    assert table.find(None, "gpt-4o-mini") == Price(1.0, 2.0)
    assert table.find("openai", None) is None
    assert table.find(None, None) is None
    assert table.find("deepgram", "nova-3") == Price(stt_per_minute=0.0043)
    assert PriceTable.parse({"": {"input_per_1m": 1}}).find(None, None) == Price(input_per_1m=1.0)


def test_llm_cost_with_and_without_a_cached_price() -> None:
    table = PriceTable.parse(PRICES)
    # (1000 - 400) * 0.15 + 400 * 0.075 + 50 * 0.6 = 90 + 30 + 30 = 150 per 1e6
    assert table.llm("openai", "gpt-4o-mini", 1000, 50, 400) == pytest.approx(150e-6, rel=1e-12)
    # no cached price: cached tokens at the input price: 1000 * 1.0 + 50 * 2.0 = 1100 per 1e6
    assert table.llm(None, "gpt-4o-mini", 1000, 50, 400) == pytest.approx(1100e-6, rel=1e-12)
    assert table.llm(None, "unknown", 1000, 50, 0) == 0.0


def test_tts_and_stt_cost() -> None:
    table = PriceTable.parse(PRICES)
    assert table.tts("cartesia", "sonic-2", 2000) == pytest.approx(0.1, rel=1e-12)
    assert table.tts("cartesia", "unknown", 2000) == 0.0
    assert table.stt(None, "nova-3", 90.0) == pytest.approx(0.00645, rel=1e-12)
    assert table.stt(None, "unknown", 90.0) == 0.0


# --- options ------------------------------------------------------------------------------


def _build(**kw: object) -> EnrichOptions:
    args: dict = {
        "allow_pii": True,
        "langfuse": True,
        "openinference": True,
        "tags": None,
        "environment": None,
        "release": None,
        "prices": None,
    }
    args.update(kw)
    return EnrichOptions.build(**args)


def test_options_defaults() -> None:
    assert EnrichOptions() == EnrichOptions(True, True, True, True, (), None, None, None)
    assert _build() == EnrichOptions()


def test_options_build() -> None:
    options = _build(
        allow_pii=False,
        langfuse=False,
        openinference=False,
        mlflow=False,
        tags=["a", "b"],
        environment="prod",
        release="1.0",
        prices={"m": {"input_per_1m": 1}},
    )
    assert options == EnrichOptions(
        allow_pii=False,
        langfuse=False,
        openinference=False,
        mlflow=False,
        tags=("a", "b"),
        environment="prod",
        release="1.0",
        prices=PriceTable((("m", Price(input_per_1m=1.0)),)),
    )
    assert hash(options) == hash(
        _build(
            allow_pii=False,
            langfuse=False,
            openinference=False,
            mlflow=False,
            tags=("a", "b"),
            environment="prod",
            release="1.0",
            prices={"m": {"input_per_1m": 1}},
        )
    )
    assert _build(prices={}).prices is None
    assert _build(tags=()).tags == ()
    assert _build(tags=iter(["x"])).tags == ("x",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tags": "a"}, "tags must be a list of strings"),
        ({"tags": {"a": 1}}, "tags must be a list of strings"),
        ({"tags": 3}, "tags must be a list of strings"),
        ({"tags": ["a", 1]}, "tags must be a list of strings"),
        (
            {"prices": [("m", {})]},
            'prices must be a mapping like {"openai/gpt-4o-mini": {"input_per_1m": 0.15}}',
        ),
        ({"prices": {"m": 1}}, "prices['m'] must be a mapping of price fields"),
    ],
)
def test_options_errors(kwargs: dict, message: str) -> None:
    assert error(_build, **kwargs) == message
