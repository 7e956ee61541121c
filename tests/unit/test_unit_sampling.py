"""``configure.sampling``: the sampler chosen from the argument or the standard variables."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    DEFAULT_OFF,
    DEFAULT_ON,
    ParentBased,
    TraceIdRatioBased,
)
from unit_helpers import error

from lk_otel.configure.sampling import build_sampler, validate_sample_rate


def _ratio_of(sampler: object) -> float:
    assert isinstance(sampler, TraceIdRatioBased)
    return sampler.rate


def _root_of(sampler: object) -> str:
    """The root sampler's description, read from the parent-based sampler's own."""
    assert isinstance(sampler, ParentBased)
    text = sampler.get_description()
    assert text.startswith("ParentBased{root:")
    return text.removeprefix("ParentBased{root:").partition(",")[0]


def test_a_rate_argument_is_parent_based_ratio_and_wins_over_the_environment() -> None:
    sampler = build_sampler({"OTEL_TRACES_SAMPLER": "always_off"}, 0.25)
    assert isinstance(sampler, ParentBased)
    assert _root_of(sampler) == "TraceIdRatioBased{0.25}"


def test_nothing_set_is_parent_based_always_on() -> None:
    assert build_sampler({}, None) is DEFAULT_ON


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("always_on", ALWAYS_ON),
        ("ALWAYS_OFF", ALWAYS_OFF),
        ("parentbased_always_on", DEFAULT_ON),
        ("parentbased_always_off", DEFAULT_OFF),
    ],
)
def test_named_samplers(name: str, expected: object) -> None:
    assert build_sampler({"OTEL_TRACES_SAMPLER": name}, None) is expected


def test_traceidratio_with_and_without_an_argument() -> None:
    plain = build_sampler(
        {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}, None
    )
    assert _ratio_of(plain) == 0.1
    default = build_sampler({"OTEL_TRACES_SAMPLER": "traceidratio"}, None)
    assert _ratio_of(default) == 1.0
    parent = build_sampler(
        {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, None
    )
    assert isinstance(parent, ParentBased)
    assert _root_of(parent) == "TraceIdRatioBased{0.0}"


def test_sampler_errors() -> None:
    assert error(build_sampler, {"OTEL_TRACES_SAMPLER": "Sometimes"}, None) == (
        "OTEL_TRACES_SAMPLER: unsupported value 'Sometimes'; use one of always_on, always_off, "
        "parentbased_always_on, parentbased_always_off, traceidratio, parentbased_traceidratio"
    )
    env = {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}
    assert error(build_sampler, env, None) == (
        "OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1, got 'half'"
    )
    env["OTEL_TRACES_SAMPLER_ARG"] = "1.5"
    assert error(build_sampler, env, None) == (
        "OTEL_TRACES_SAMPLER_ARG must be between 0 and 1, got '1.5'"
    )


def test_validate_sample_rate() -> None:
    assert validate_sample_rate(None) is None
    assert validate_sample_rate(0) == 0.0
    assert validate_sample_rate(1) == 1.0
    assert validate_sample_rate(0.5) == 0.5
    assert error(validate_sample_rate, True) == (
        "sample_rate must be a number between 0 and 1, got bool"
    )
    assert error(validate_sample_rate, "0.5") == (
        "sample_rate must be a number between 0 and 1, got str"
    )
    assert error(validate_sample_rate, -0.01) == "sample_rate must be between 0 and 1, got -0.01"
    assert error(validate_sample_rate, 1.01) == "sample_rate must be between 0 and 1, got 1.01"
