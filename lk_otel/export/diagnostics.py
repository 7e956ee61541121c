"""Turn the OTLP exporters' log lines into one plain-words cause per failure.

The official exporters report a failed batch only through their loggers, once per batch
and once per retry. While one of our exports runs, those records are captured on the
calling thread instead of printed, so the caller can say once, in plain words, what is
wrong.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# loggers the official OTLP exporters write their per-batch failures to
EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.common.http",
)

_local = threading.local()


class _CaptureFilter(logging.Filter):
    """Diverts records to the capture active on this thread, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        sink: list[str] | None = getattr(_local, "sink", None)
        if sink is None:
            return True
        sink.append(record.getMessage())
        return False


_FILTER = _CaptureFilter()


def install() -> None:
    """Put the capture filter first on the exporters' loggers (idempotent).

    First: the gRPC exporter's logger carries the SDK's ``DuplicateFilter``, which drops a
    record equal to the one before it (same message, same 20 s); behind it, a backend that
    failed twice the same way would leave the second failure with no cause at all.
    """
    for name in EXPORTER_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.filters.insert(0, _FILTER)


@contextmanager
def capture() -> Iterator[list[str]]:
    """Collect, instead of printing, what the exporters log on this thread."""
    previous = getattr(_local, "sink", None)
    sink: list[str] = []
    _local.sink = sink
    try:
        yield sink
    finally:
        _local.sink = previous


_HTTP_CODE = re.compile(r"code: (\d{3})")
_GRPC_CODE = re.compile(r"StatusCode\.([A-Z_]+)|error code: ([A-Z_]+)\b")
# the reason phrase of an HTTP status the exporter kept retrying ("Service Unavailable")
_HTTP_RETRIED = re.compile(r"Transient error ([A-Z][A-Za-z ]+?) encountered")
# what gRPC says when a message is over the receiver's max_receive_message_length
_TOO_LARGE = ("larger than max", "message too large", "exceeds the maximum")
_DNS = (
    "failed to resolve",
    "name or service not known",
    "nodename nor servname",
    "errors resolving",
    "domain name not found",
    "name resolution",
)


@dataclass(frozen=True)
class Cause:
    """The likely cause of a failed export: a short ``kind`` and one plain sentence.

    ``kind`` is one of auth, not_found, too_large, rejected, tls, dns, refused, unavailable,
    timeout, status, unknown.
    """

    kind: str
    text: str


def classify(messages: list[str], *, auth_hint: str | None = None) -> Cause:
    """The likely cause of a failed export, from the exporters' log lines."""
    text = " ".join(messages)
    lowered = text.lower()
    status = _HTTP_CODE.search(text)
    code = int(status.group(1)) if status else None
    grpc = _GRPC_CODE.search(text)
    grpc_code = (grpc.group(1) or grpc.group(2)) if grpc else None
    retried = _HTTP_RETRIED.search(text)
    hint = f"; check {auth_hint}" if auth_hint else "; check the headers"
    if code in (401, 403) or grpc_code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        what = f"HTTP {code}" if code else grpc_code
        return Cause("auth", f"the backend rejected the credentials ({what}){hint}")
    if code == 404 or grpc_code == "UNIMPLEMENTED":
        what = "HTTP 404" if code == 404 else "gRPC UNIMPLEMENTED"
        return Cause(
            "not_found",
            f"the endpoint path does not exist ({what}): check the endpoint URL and protocol",
        )
    if code == 413:
        return Cause("too_large", "the backend refused the request as too large (HTTP 413)")
    if "exceeds max_request_size" in lowered:  # the HTTP exporter's own limit, before sending
        return Cause("too_large", "the request is over the exporter's max_request_size")
    if grpc_code == "RESOURCE_EXHAUSTED" and any(m in lowered for m in _TOO_LARGE):
        return Cause("too_large", "the request is over the backend's message size limit (gRPC)")
    if code == 400 or grpc_code == "INVALID_ARGUMENT":
        what = "HTTP 400" if code == 400 else "gRPC INVALID_ARGUMENT"
        return Cause("rejected", f"the backend rejected the request as malformed ({what})")
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered or "handshake" in lowered:
        return Cause(
            "tls", "the TLS handshake failed: check https/http, the certificate and insecure="
        )
    if any(marker in lowered for marker in _DNS):
        return Cause("dns", "the host name does not resolve (DNS): check the endpoint host")
    if "refused" in lowered or "failed to connect" in lowered or "connection" in lowered:
        return Cause(
            "refused", "connection refused or dropped: is the backend running and reachable?"
        )
    if retried or grpc_code in ("UNAVAILABLE", "RESOURCE_EXHAUSTED"):
        what = repr(retried.group(1)) if retried else f"gRPC {grpc_code}"
        return Cause(
            "unavailable",
            f"the backend kept answering {what} until the time ran out "
            "(overloaded, starting up or rate-limiting)",
        )
    if "timeout" in lowered or "timed out" in lowered or "deadline" in lowered:
        return Cause("timeout", "the backend did not answer in time (timeout)")
    if code:
        return Cause("status", f"the backend answered HTTP {code}")
    if grpc_code:
        return Cause("status", f"the backend answered gRPC {grpc_code}")
    return Cause("unknown", text[:200] or "the export failed for an unknown reason")


def describe(messages: list[str], *, auth_hint: str | None = None) -> str:
    """One sentence naming the likely cause of a failed export."""
    return classify(messages, auth_hint=auth_hint).text
