"""The export layer's pure decisions: split / drop / hold, halves, the drop warning, and the
plain-words cause of an exporter's log line (moved from tests/test_export_backend.py)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from lk_otel.export import policy
from lk_otel.export.diagnostics import Cause, classify

REFUSED = "Failed to export span batch due to ConnectionError: connection refused"
TOO_LARGE = "Failed to export span batch code: 413, reason: Request Entity Too Large"


def spans(*names: str) -> list[ReadableSpan]:
    return [
        ReadableSpan(
            name=n,
            context=SpanContext(
                trace_id=1, span_id=i + 1, is_remote=False, trace_flags=TraceFlags(1)
            ),
        )
        for i, n in enumerate(names)
    ]


def test_halves_keep_order_and_put_the_odd_one_first() -> None:
    assert policy.halves([1, 2, 3, 4, 5]) == ([1, 2, 3], [4, 5])
    assert policy.halves([1, 2]) == ([1], [2])
    assert policy.halves([1]) == ([1], [])


@pytest.mark.parametrize(
    ("kind", "size", "expected"),
    [
        ("too_large", 2, policy.Verdict.SPLIT),
        ("too_large", 1, policy.Verdict.DROP),
        ("rejected", 3, policy.Verdict.SPLIT),
        ("rejected", 1, policy.Verdict.DROP),
        ("refused", 1, policy.Verdict.HOLD),
        ("unavailable", 5, policy.Verdict.HOLD),
        ("auth", 1, policy.Verdict.HOLD),
    ],
)
def test_verdict(kind: str, size: int, expected: policy.Verdict) -> None:
    assert policy.verdict(Cause(kind, ""), size) is expected


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (TOO_LARGE, "too_large"),
        ("Failed to export span batch code: 400, reason: Bad Request", "rejected"),
        (
            "Failed to export traces to x, error code: StatusCode.RESOURCE_EXHAUSTED, error "
            "details: Received message larger than max (5243000 vs. 4194304)",
            "too_large",
        ),
        (
            "Failed to export traces to x, error code: StatusCode.RESOURCE_EXHAUSTED, error "
            "details: rate limited",
            "unavailable",
        ),
        ("Failed to export traces, error code: StatusCode.INVALID_ARGUMENT", "rejected"),
        (REFUSED, "refused"),
    ],
)
def test_classify(line: str, kind: str) -> None:
    assert classify([line]).kind == kind


def test_drop_warning_names_the_span_and_its_size() -> None:
    (big,) = spans("function_tool")
    text = policy.drop_warning("otlp", big, Cause("too_large", "HTTP 413"))
    assert text.startswith("lk_otel: export to otlp: a span of 0.0 MB is over the backend's")
    assert "'function_tool'" in text
