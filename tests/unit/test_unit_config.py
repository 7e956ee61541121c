"""``resolve_config`` (configure/config.py): every argument and variable into one frozen
``TracingConfig``, called directly with an explicit environment (no setup, no provider)."""

from __future__ import annotations

import threading

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from unit_helpers import error

from lk_otel.configure.backends import OTLP, Jaeger
from lk_otel.configure.config import ExportSettings, resolve_config, tracing_disabled
from lk_otel.enrich.cost import PriceTable


def resolve(backend: object = "console", env: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return resolve_config(backend, env=env or {}, **kw)  # type: ignore[arg-type]


def test_tracing_disabled_reads_otel_sdk_disabled() -> None:
    assert tracing_disabled({"OTEL_SDK_DISABLED": "true"}) is True
    assert tracing_disabled({"OTEL_SDK_DISABLED": " False "}) is False
    assert tracing_disabled({}) is False
    assert "OTEL_SDK_DISABLED" in error(tracing_disabled, {"OTEL_SDK_DISABLED": "maybe"})


def test_export_settings_exact_values() -> None:
    c = resolve(max_queue_size=1000, schedule_delay=2, retry_interval="3", flush_timeout=0.5)
    assert c.export == ExportSettings(
        capacity=2000, batch_size=512, schedule_delay=2.0, retry_interval=3.0, flush_timeout=0.5
    )
    assert type(c.export.schedule_delay) is float
    assert resolve(max_queue_size=1, schedule_delay=0.001).export.batch_size == 1


def test_export_settings_errors_name_the_argument() -> None:
    too_long = threading.TIMEOUT_MAX * 2
    assert error(resolve, flush_timeout=too_long) == (
        f"flush_timeout must be at most {threading.TIMEOUT_MAX:g} s"
    )
    for bad in (True, "8", 0, 2.0):
        assert error(resolve, max_queue_size=bad) == (
            f"max_queue_size must be an integer of at least 1, got {bad!r}"
        )
    assert error(resolve, schedule_delay=0.0005) == (
        "schedule_delay must be at least 0.001 s, got 0.0005"
    )
    assert "retry_interval" in error(resolve, retry_interval=0)
    assert "flush_timeout" in error(resolve, flush_timeout=-1)


def test_attribute_value_limit_variables() -> None:
    assert resolve().attribute_value_length_limit == 64 * 1024
    env = {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": " 100 "}
    assert resolve(env=env).attribute_value_length_limit == 100
    env["OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT"] = "1"
    c = resolve(env=env)
    assert c.attribute_value_length_limit == 1 and c.options.value_length_limit == 1
    for value in ("0", "x"):
        assert error(resolve, env={"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": value}) == (
            "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT must be a positive integer (characters), "
            f"got {value!r}"
        )


def test_allow_pii_argument_then_variable_then_true() -> None:
    off = {"LIVEKIT_TELEMETRY_ALLOW_PII": "false"}
    assert resolve().options.allow_pii is True
    assert resolve(env=off).options.allow_pii is False
    assert resolve(env={"LIVEKIT_TELEMETRY_ALLOW_PII": "on"}).options.allow_pii is True
    assert resolve(env=off, allow_pii=True).options.allow_pii is True
    assert resolve(allow_pii=False).options.allow_pii is False
    assert resolve(allow_pii="no").options.allow_pii is False
    assert resolve(env=off, allow_pii="yes").options.allow_pii is True
    assert error(resolve, allow_pii=1) == "allow_pii must be True or False, got 1"
    assert "allow_pii" in error(resolve, allow_pii="perhaps")
    assert "LIVEKIT_TELEMETRY_ALLOW_PII" in error(
        resolve, env={"LIVEKIT_TELEMETRY_ALLOW_PII": "perhaps"}
    )


def test_options_carry_every_switch_and_value() -> None:
    c = resolve(
        langfuse="false",
        openinference=False,
        mlflow="off",
        tags=["a", "b"],
        environment="staging",
        service_version="1.2.3",
        prices={"m": {"input_per_1m": 1.0}},
    )
    o = c.options
    assert (o.langfuse, o.openinference, o.mlflow) == (False, False, False)
    assert (o.tags, o.environment, o.release) == (("a", "b"), "staging", "1.2.3")
    assert o.prices == PriceTable.parse({"m": {"input_per_1m": 1.0}})
    d = resolve().options
    assert (d.langfuse, d.openinference, d.mlflow) == (True, True, True)
    for name in ("langfuse", "openinference", "mlflow", "metrics"):
        assert name in error(resolve, **{name: 1})


def test_resource_metadata_and_sampler() -> None:
    c = resolve(
        service_name="bot",
        environment="prod",
        resource_attributes={"team": "voice"},
        metadata={"b": 1, "a": "x"},
        sample_rate=0.25,
    )
    attrs = dict(c.resource.attributes)
    assert (attrs["service.name"], attrs["team"]) == ("bot", "voice")
    assert c.metadata == (("a", "x"), ("b", 1)) and c.metadata_dict == {"a": "x", "b": 1}
    assert "0.25" in c.sampler_description
    assert c.sampler_description == c.sampler.get_description()
    assert resolve().metadata == () and resolve().metadata_dict is None
    assert "metadata" in error(resolve, metadata={"k": object()})
    assert "resource_attributes" in error(resolve, resource_attributes={"k": object()})


def test_targets_exporters_and_metric_targets() -> None:
    memory = InMemorySpanExporter()
    otlp = OTLP(endpoint="https://collector.example:4317")
    c = resolve([otlp, Jaeger(), memory])
    assert [t.label for t in c.targets] == ["otlp", "jaeger"]
    assert c.exporters == (memory,)
    assert (c.metrics, c.metric_targets, c.traces_only) == (False, (), ())
    m = resolve([otlp, Jaeger()], metrics="true")
    assert m.metrics is True
    assert [(t.label, t.endpoint) for t in m.metric_targets] == [
        ("otlp", "https://collector.example:4317")
    ]
    assert m.traces_only == ("jaeger",)


def test_the_environment_chooses_the_backend_when_none_is_given() -> None:
    c = resolve(None, env={"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example:4317"})
    assert [(t.label, t.endpoint) for t in c.targets] == [("otlp", "https://otel.example:4317")]


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_limit_variable_is_unset(value: str) -> None:
    env = {
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": value,
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "9",
    }
    assert resolve(env=env).attribute_value_length_limit == 9


def test_each_error_names_its_argument_exactly() -> None:
    kinds = "must be a str, bool, int or float (or a list of one of them)"
    assert error(resolve, metadata={"k": object()}) == f"metadata['k'] {kinds}"
    assert error(resolve, resource_attributes={"k": object()}) == (
        f"resource_attributes['k'] {kinds}"
    )
    for name in ("metrics", "langfuse", "openinference", "mlflow"):
        assert error(resolve, **{name: 1}) == f"{name} must be True or False, got int"
    for name in ("schedule_delay", "retry_interval", "flush_timeout"):
        assert error(resolve, **{name: "x"}) == f"{name} must be a number, got 'x'"
    assert error(resolve, allow_pii="perhaps") == "allow_pii must be true or false, got 'perhaps'"


def test_the_longest_flush_timeout_is_allowed() -> None:
    c = resolve(flush_timeout=threading.TIMEOUT_MAX)
    assert c.export.flush_timeout == threading.TIMEOUT_MAX


def test_the_resource_names_the_version_and_environment() -> None:
    attrs = dict(resolve(service_version="9.9", environment="stg").resource.attributes)
    assert (attrs["service.version"], attrs["deployment.environment.name"]) == ("9.9", "stg")


def test_without_an_environment_argument_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "77")
    assert tracing_disabled() is True
    assert resolve_config("console").attribute_value_length_limit == 77
