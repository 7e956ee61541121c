"""diagnostics: the plain-words cause of an OTLP exporter's log lines, and their capture."""

from __future__ import annotations

import logging

import pytest

from lk_otel.export import diagnostics
from lk_otel.export.diagnostics import Cause, classify, describe

UNAVAILABLE = (
    "the backend kept answering {} until the time ran out "
    "(overloaded, starting up or rate-limiting)"
)
REFUSED = "connection refused or dropped: is the backend running and reachable?"
TLS = "the TLS handshake failed: check https/http, the certificate and insecure="
DNS = "the host name does not resolve (DNS): check the endpoint host"


@pytest.mark.parametrize(
    ("lines", "kind", "text"),
    [
        (
            ["x code: 401, reason: no"],
            "auth",
            "the backend rejected the credentials (HTTP 401); check the headers",
        ),
        (
            ["x code: 403"],
            "auth",
            "the backend rejected the credentials (HTTP 403); check the headers",
        ),
        (
            ["error code: StatusCode.UNAUTHENTICATED"],
            "auth",
            "the backend rejected the credentials (UNAUTHENTICATED); check the headers",
        ),
        (
            ["error code: PERMISSION_DENIED"],
            "auth",
            "the backend rejected the credentials (PERMISSION_DENIED); check the headers",
        ),
        (
            ["x code: 404"],
            "not_found",
            "the endpoint path does not exist (HTTP 404): check the endpoint URL and protocol",
        ),
        (
            ["StatusCode.UNIMPLEMENTED"],
            "not_found",
            "the endpoint path does not exist (gRPC UNIMPLEMENTED): check the endpoint URL "
            "and protocol",
        ),
        (
            ["x code: 413"],
            "too_large",
            "the backend refused the request as too large (HTTP 413)",
        ),
        (
            ["Request EXCEEDS MAX_REQUEST_SIZE"],
            "too_large",
            "the request is over the exporter's max_request_size",
        ),
        *[
            (
                [f"StatusCode.RESOURCE_EXHAUSTED details: {m.upper()}"],
                "too_large",
                "the request is over the backend's message size limit (gRPC)",
            )
            for m in ("larger than max", "message too large", "exceeds the maximum")
        ],
        (
            ["x code: 400"],
            "rejected",
            "the backend rejected the request as malformed (HTTP 400)",
        ),
        (
            ["StatusCode.INVALID_ARGUMENT"],
            "rejected",
            "the backend rejected the request as malformed (gRPC INVALID_ARGUMENT)",
        ),
        *[(["x " + m], "tls", TLS) for m in ("SSL error", "bad Certificate", "TLS", "Handshake")],
        *[
            ([m.upper()], "dns", DNS)
            for m in (
                "failed to resolve",
                "name or service not known",
                "nodename nor servname",
                "errors resolving",
                "domain name not found",
                "name resolution",
            )
        ],
        *[(["a", m], "refused", REFUSED) for m in ("Refused", "Failed to connect", "Connection")],
        (
            ["Transient error Service Unavailable encountered while exporting"],
            "unavailable",
            UNAVAILABLE.format("'Service Unavailable'"),
        ),
        (["StatusCode.UNAVAILABLE"], "unavailable", UNAVAILABLE.format("gRPC UNAVAILABLE")),
        (
            ["StatusCode.RESOURCE_EXHAUSTED rate"],
            "unavailable",
            UNAVAILABLE.format("gRPC RESOURCE_EXHAUSTED"),
        ),
        *[
            ([m], "timeout", "the backend did not answer in time (timeout)")
            for m in ("Timeout", "it TIMED OUT", "Deadline exceeded")
        ],
        (["x code: 502"], "status", "the backend answered HTTP 502"),
        (["error code: DATA_LOSS"], "status", "the backend answered gRPC DATA_LOSS"),
        (["something", "odd"], "unknown", "something odd"),
        (["y" * 250], "unknown", "y" * 200),
        ([], "unknown", "the export failed for an unknown reason"),
    ],
)
def test_classify_exactly(lines: list[str], kind: str, text: str) -> None:
    assert classify(lines) == Cause(kind, text)
    assert describe(lines) == text


def test_auth_names_the_hint_or_the_headers() -> None:
    assert classify(["code: 401"], auth_hint="LANGFUSE_SECRET_KEY").text == (
        "the backend rejected the credentials (HTTP 401); check LANGFUSE_SECRET_KEY"
    )
    assert describe(["code: 401"], auth_hint="X").endswith("(HTTP 401); check X")
    assert classify(["code: 401"]).text.endswith("(HTTP 401); check the headers")


def test_the_first_cause_in_order_wins() -> None:
    # auth before not_found before too_large before rejected before tls ... before status
    assert classify(["code: 401", "StatusCode.UNIMPLEMENTED"]).kind == "auth"
    assert classify(["code: 404 ssl"]).kind == "not_found"
    assert classify(["code: 413 ssl"]).kind == "too_large"
    assert classify(["code: 400 ssl"]).kind == "rejected"
    assert classify(["ssl name resolution"]).kind == "tls"
    assert classify(["name resolution refused"]).kind == "dns"
    assert classify(["refused StatusCode.UNAVAILABLE"]).kind == "refused"
    assert classify(["StatusCode.UNAVAILABLE timeout"]).kind == "unavailable"
    assert classify(["code: 500 timeout"]).kind == "timeout"
    assert classify(["code: 500 StatusCode.INTERNAL"]).kind == "status"
    assert classify(["code: 500 StatusCode.INTERNAL"]).text == "the backend answered HTTP 500"
    assert classify(["error code: INTERNAL"]).text == "the backend answered gRPC INTERNAL"


def test_codes_need_their_exact_form() -> None:
    assert classify(["code: 4011"]).kind == "auth"  # three digits after "code: "
    assert classify(["code 401"]).kind == "unknown"
    assert classify(["error code: lower"]).kind == "unknown"
    assert classify(["Transient error service unavailable encountered"]).kind == "unknown"


def test_capture_collects_this_threads_records_and_restores_the_previous_sink() -> None:
    diagnostics.install()
    diagnostics.install()
    for name in diagnostics.EXPORTER_LOGGERS:
        filters = logging.getLogger(name).filters
        assert filters[0] is diagnostics._FILTER
        assert filters.count(diagnostics._FILTER) == 1
    logger = logging.getLogger(diagnostics.EXPORTER_LOGGERS[0])
    with diagnostics.capture() as outer:
        logger.error("one %s", "a")
        with diagnostics.capture() as inner:
            logger.error("two")
        logger.error("three")
    assert outer == ["one a", "three"]
    assert inner == ["two"]
    assert diagnostics._FILTER.filter(logging.makeLogRecord({"msg": "free"})) is True
    assert getattr(diagnostics._local, "sink", None) is None


def test_install_puts_the_filter_before_existing_ones() -> None:
    logger = logging.getLogger(diagnostics.EXPORTER_LOGGERS[-1])
    other = logging.Filter("x")
    logger.filters.remove(diagnostics._FILTER) if diagnostics._FILTER in logger.filters else None
    logger.addFilter(other)
    try:
        diagnostics.install()
        assert logger.filters[:2] == [diagnostics._FILTER, other]
    finally:
        logger.removeFilter(other)


def test_the_exporter_loggers() -> None:
    assert diagnostics.EXPORTER_LOGGERS == (
        "opentelemetry.exporter.otlp.proto.grpc.exporter",
        "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
        "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "opentelemetry.exporter.otlp.proto.http.metric_exporter",
        "opentelemetry.exporter.otlp.proto.http._common",
        "opentelemetry.exporter.otlp.common.http",
    )


def test_a_captured_record_is_not_printed_and_a_fresh_thread_prints() -> None:
    import threading

    diagnostics.install()
    logger = logging.getLogger(diagnostics.EXPORTER_LOGGERS[1])
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        with diagnostics.capture() as sink:
            logger.error("captured")
        results: list[bool] = []
        record = logging.makeLogRecord({"msg": "other thread"})
        worker = threading.Thread(target=lambda: results.append(diagnostics._FILTER.filter(record)))
        worker.start()
        worker.join()
    finally:
        logger.removeHandler(handler)
    assert sink == ["captured"] and seen == []
    assert results == [True]
