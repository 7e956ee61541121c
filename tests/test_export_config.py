"""TracingConfig: every argument and variable resolved once; the composition root builds
from it; the handover processor is one object on every provider lk_otel makes."""

from __future__ import annotations

import os

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import lk_otel
from lk_otel import ConfigError
from lk_otel.configure.config import (
    DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    ExportSettings,
    resolve_config,
)
from lk_otel.routing import handover_processor


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(os.environ):
        if var.startswith(("OTEL_", "LANGFUSE_", "LIVEKIT_TELEMETRY_")):
            monkeypatch.delenv(var)


def test_the_attribute_value_limit_defaults_to_64_kib() -> None:
    assert resolve_config("console").attribute_value_length_limit == 65536
    assert DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT == 64 * 1024


def test_the_attribute_value_limit_follows_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100")
    assert resolve_config("console").attribute_value_length_limit == 100
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "7")  # the span-specific one wins
    assert resolve_config("console").attribute_value_length_limit == 7


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_a_bad_attribute_value_limit_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", value)
    with pytest.raises(ConfigError, match="OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"):
        resolve_config("console")


def test_export_settings_are_resolved_with_exact_values() -> None:
    config = resolve_config("console", max_queue_size=8, schedule_delay=0.25, retry_interval=2)
    assert config.export == ExportSettings(
        capacity=16, batch_size=8, schedule_delay=0.25, retry_interval=2.0, flush_timeout=5.0
    )
    assert resolve_config("console").export.batch_size == 512


def test_equal_arguments_resolve_to_equal_configs() -> None:
    args = {"sample_rate": 0.5, "metadata": {"team": "voice"}, "tags": ["a"]}
    assert resolve_config("console", **args) == resolve_config("console", **args)
    assert resolve_config("console", **args) != resolve_config("console", sample_rate=0.25)
    assert resolve_config("console", metadata={"job": "1"}) != resolve_config(
        "console", metadata={"job": "2"}
    )
    memory = InMemorySpanExporter()
    assert resolve_config(memory) == resolve_config(memory)
    assert resolve_config(memory) != resolve_config(InMemorySpanExporter())


def test_a_repeat_setup_returns_the_same_handle_and_another_one_a_new_provider() -> None:
    memory = InMemorySpanExporter()
    first = lk_otel.setup_tracing(memory, sample_rate=0.5)
    try:
        assert lk_otel.setup_tracing(memory, sample_rate=0.5) is first
        second = lk_otel.setup_tracing(memory, sample_rate=0.5, metadata={"job": "2"})
        assert second is not first and second.provider is not first.provider
        assert second.exporters[0] is first.exporters[0]  # the same backend: handed over
        assert first.processor is second.processor  # one enrichment; each session keeps its route
        assert handover_processor().current is second.processor  # new sessions go there
    finally:
        lk_otel.setup_tracing(memory).shutdown(2)


def test_the_handle_repr_names_backends_without_secrets() -> None:
    handle = lk_otel.setup_tracing(
        lk_otel.OTLP(endpoint="http://localhost:4317", headers={"api-key": "s3cr3t-value"})
    )
    try:
        assert "s3cr3t-value" not in repr(handle) and "otlp" in repr(handle)
    finally:
        handle.shutdown(1)
