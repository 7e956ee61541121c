"""Which backend mappings ``resolve_config`` turns on for the configured backends."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lk_otel import OTLP, Console, File, Jaeger, Langfuse
from lk_otel.configure.config import backend_mappings, resolve_config
from lk_otel.errors import ConfigError

ALL = frozenset({"langfuse", "openinference", "mlflow"})
LF = Langfuse(public_key="pk", secret_key="sk")


def switches(backend: Any, **kwargs: Any) -> tuple[bool, bool, bool]:
    o = resolve_config(backend, env={}, **kwargs).options
    return o.langfuse, o.openinference, o.mlflow


@pytest.mark.parametrize(
    ("backends", "expected"),
    [
        ([LF], frozenset({"langfuse"})),
        ([Jaeger()], frozenset()),
        ([OTLP()], ALL),
        ([Console()], ALL),
        ([File(path="t.jsonl")], ALL),
        ([InMemorySpanExporter()], ALL),
        ([LF, Jaeger()], frozenset({"langfuse"})),
        ([Jaeger(), OTLP(endpoint="http://localhost:4319")], ALL),
        ([], frozenset()),
    ],
)
def test_backend_mappings_are_the_union_of_what_the_backends_read(
    backends: list[Any], expected: frozenset[str]
) -> None:
    assert backend_mappings(backends) == expected


def test_unset_switches_follow_the_backends() -> None:
    assert switches(LF) == (True, False, False)
    assert switches(Jaeger()) == (False, False, False)
    assert switches(OTLP()) == (True, True, True)
    assert switches("jaeger") == (False, False, False)


def test_an_explicit_switch_wins() -> None:
    assert switches(Jaeger(), langfuse=True) == (True, False, False)
    assert switches(LF, langfuse=False, mlflow="true") == (False, False, True)
    assert switches(OTLP(), openinference="false") == (True, False, True)


def test_a_bad_switch_names_the_argument() -> None:
    with pytest.raises(ConfigError, match=r"^openinference must be True or False, got int$"):
        resolve_config(Jaeger(), env={}, openinference=1)
