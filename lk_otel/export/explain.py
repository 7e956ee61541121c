"""What went wrong with a check export, in plain words.

Pure: the exporter's log lines, the HTTP answer (when there is one) and the target in, a
:class:`lk_otel.export.diagnostics.Cause` out. Matched to what the backend said (a gRPC
status, an error body), with secrets redacted and the backend's words bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status as RpcStatus

from ..configure.backends import ExportTarget
from ..configure.redaction import header_secrets, redact_text, redact_url, url_secrets
from . import diagnostics

BODY_LIMIT = 200  # characters of a response body (or gRPC details) shown
READ_LIMIT = 64 * 1024  # bytes of a response body kept for that
# ports where a refused gRPC connection suggests OTLP/HTTP, and the other way round
KNOWN_HTTP_PORTS: dict[int, str] = {
    4318: "the OTLP/HTTP port",
    6006: "Arize Phoenix's OTLP/HTTP port",
    3000: "self-hosted Langfuse's port (OTLP/HTTP only)",
    5000: "MLflow's port (OTLP/HTTP)",
}
KNOWN_GRPC_PORTS: dict[int, str] = {4317: "the OTLP/gRPC port"}


@dataclass(frozen=True)
class HttpAnswer:
    """What an HTTP backend answered: status, reason phrase, content type, body (bounded)."""

    status: int
    reason: str = ""
    content_type: str = ""
    body: bytes = b""
    location: str | None = None


def target_secrets(target: ExportTarget) -> set[str]:
    """What must never be printed for ``target``: header values and URL credentials."""
    return header_secrets(target.headers) | url_secrets(target.endpoint or "")


_GRPC_FAILED = re.compile(r"error code: StatusCode\.([A-Z_]+), error details: (.*)", re.S)
_GRPC_RETRIED = re.compile(
    r"Transient error StatusCode\.([A-Z_]+) encountered.*?Error details: (.*)", re.S
)
_GRPC_CLIENT = (
    "invalid metadata",
    "illegal header",
    "exception serializing request",
    "exception iterating requests",
    "exception deserializing response",
)
_GRPC_TO_HTTP1 = ("failed parsing http/2", "http1.x server")
_HTTP_CLIENT = re.compile(r"batch code: None, reason: (.*)", re.S)
_MISSING_HEADER = (
    re.compile(
        r"\bheader\s+['\"`]?([A-Za-z0-9][\w.-]*)['\"`]?\s*(?::|is|was)?\s*(?:field\s+)?"
        r"(?:missing|required|not\s+(?:set|provided|present|found))",
        re.I,
    ),
    re.compile(
        r"\b(?:missing|required|no)\s+(?:request\s+)?header\s*[:=]?\s*['\"`]?"
        r"([A-Za-z0-9][\w.-]*)",
        re.I,
    ),
)
# words of a plain "no such path" answer: a 404 saying only these is about the URL's path
_ROUTE_WORDS = frozenset(
    {
        *("404", "not", "found", "page", "cannot", "post", "no", "route", "matches"),
        *("matched", "the", "requested", "url", "was", "on", "this", "server", "error"),
        *("http", "path", "unknown", "endpoint", "handler", "for", "method", "a", "an"),
        *("file", "or", "directory", "does", "exist", "status", "code", "resource"),
        *("detail", "nginx", "apache"),
    }
)
_NAME_NOISE = frozenset(
    {
        *("x", "api", "key", "id", "ids", "token", "auth", "authorization", "bearer"),
        *("header", "otel", "otlp", "version"),
    }
)


def explain(
    messages: list[str], target: ExportTarget, answer: HttpAnswer | None
) -> diagnostics.Cause:
    """The cause of a failed check export: from the HTTP answer when there is one, else
    from the exporter's log lines (gRPC status and details, connection errors)."""
    hint = f"; check {target.auth_hint}" if target.auth_hint else "; check the headers"
    if answer is not None and not 200 <= answer.status < 300:
        return http_cause(answer, target, hint)
    text = " ".join(messages)
    lowered = text.lower()
    if target.protocol == "grpc" and any(m in lowered for m in _GRPC_TO_HTTP1):
        return diagnostics.Cause(
            "protocol",
            f"{_host_port(target)} answered in HTTP/1.1, not gRPC: it is likely an OTLP/HTTP "
            "endpoint; set protocol http/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)",
        )
    if target.protocol == "http/protobuf" and "badstatusline" in lowered:
        return diagnostics.Cause(
            "protocol",
            f"{_host_port(target)} did not answer in HTTP/1.1 (an OTLP/gRPC port?): set "
            "protocol grpc (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)",
        )
    base = diagnostics.classify(messages, auth_hint=target.auth_hint)
    if base.kind == "refused":
        return refused_cause(target)
    if base.kind in ("tls", "dns"):
        return base
    status = grpc_status(messages) if target.protocol == "grpc" else None
    if status is not None and status[0] not in ("DEADLINE_EXCEEDED", "CANCELLED"):
        return grpc_cause(*status, target, hint)
    if base.kind == "unknown" and (client := _HTTP_CLIENT.search(text)):
        reason = bounded(redact_text(client.group(1), target_secrets(target)))
        return diagnostics.Cause(
            "client",
            f"the HTTP client could not send the request ({reason}): "
            "nothing reached the backend; check the endpoint and headers",
        )
    return base


def http_cause(answer: HttpAnswer, target: ExportTarget, hint: str) -> diagnostics.Cause:
    """Plain words for an HTTP error answer, matched to what its body says."""
    status = answer.status
    # redacted before it is cut: a secret cut in two would not be found any more
    whole = body_summary(answer.content_type, answer.body, limit=READ_LIMIT)
    said = bounded(redact_text(whole, target_secrets(target)))
    tail = f' — the backend said: "{said}"' if said else ""
    what = f"HTTP {status}"
    if 300 <= status < 400:
        where = redact_url(answer.location) if answer.location else "another URL"
        return diagnostics.Cause(
            "redirect",
            f"the endpoint redirects ({what}) to {where}: use that URL (OTLP exporters do "
            "not follow redirects)",
        )
    if status in (401, 403):
        return diagnostics.Cause(
            "auth", f"the backend rejected the credentials ({what}){hint}{tail}"
        )
    missing = missing_header(said)
    if missing is not None and 400 <= status < 500:
        if missing in target.headers:
            return diagnostics.Cause(
                "rejected",
                f"the backend rejected header {missing!r} ({what}): check its value{tail}",
            )
        return diagnostics.Cause(
            "rejected",
            f"the backend says header {missing!r} is missing ({what}): add it (headers= or "
            f"OTEL_EXPORTER_OTLP_HEADERS){tail}",
        )
    if status == 404:
        if is_route_not_found(said, urlsplit(target.endpoint or "").path):
            return diagnostics.Cause(
                "not_found",
                f"the endpoint path does not exist ({what}): check the endpoint URL and "
                f"protocol{tail}",
            )
        related = related_headers(said, target.headers)
        check = (
            f"check header {', '.join(related)}" if related else "check the ids the headers carry"
        )
        return diagnostics.Cause(
            "rejected",
            f"the endpoint exists but the backend did not find something the request names "
            f"({what}): {check}{tail}",
        )
    if status == 405:
        return diagnostics.Cause(
            "not_found",
            f"the URL does not take POST ({what}): it is not an OTLP/HTTP traces endpoint; "
            "check the path (usually …/v1/traces)",
        )
    if status == 413:
        return diagnostics.Cause(
            "too_large", f"the backend refused the batch as too large ({what})"
        )
    if status == 415:
        return diagnostics.Cause(
            "rejected",
            f"the backend does not take OTLP/protobuf at this URL ({what}): check the "
            f"endpoint path{tail}",
        )
    if status in (429, 502, 503, 504):
        reason = answer.reason or _phrase(status)
        return diagnostics.Cause(
            "unavailable",
            f"the backend kept answering {reason!r} ({what}) until the time ran out "
            f"(overloaded, starting up or rate-limiting){tail}",
        )
    if 400 <= status < 500:
        return diagnostics.Cause("rejected", f"the backend rejected the request ({what}){tail}")
    if status >= 500:
        return diagnostics.Cause("server_error", f"the backend failed ({what}){tail}")
    return diagnostics.Cause("status", f"the backend answered {what}{tail}")


def grpc_status(messages: list[str]) -> tuple[str, str] | None:
    """``(code name, details)`` of the last gRPC failure the exporter logged."""
    for message in reversed(messages):
        found = _GRPC_FAILED.search(message) or _GRPC_RETRIED.search(message)
        if found:
            return found.group(1), found.group(2).strip()
    return None


def grpc_cause(code: str, details: str, target: ExportTarget, hint: str) -> diagnostics.Cause:
    """Plain words for a gRPC status and its details."""
    said = bounded(redact_text(details, target_secrets(target)))
    tail = f' — the backend said: "{said}"' if said else ""
    if code in ("INTERNAL", "UNKNOWN") and any(m in details.lower() for m in _GRPC_CLIENT):
        return diagnostics.Cause(
            "client",
            f"the gRPC client could not send the request ({said}): nothing reached the "
            "backend; check the headers (gRPC metadata: lower-case ASCII names, printable "
            "ASCII values)",
        )
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return diagnostics.Cause(
            "auth", f"the backend rejected the credentials ({code}){hint}{tail}"
        )
    if code == "UNIMPLEMENTED":
        return diagnostics.Cause(
            "not_found",
            "the endpoint path does not exist (gRPC UNIMPLEMENTED): check the endpoint URL "
            f"and protocol (is it an OTLP/gRPC endpoint?){tail}",
        )
    if code == "RESOURCE_EXHAUSTED" and "metadata" in details.lower():
        return diagnostics.Cause(
            "too_large",
            f"the backend refused the headers as too large (gRPC {code}): gRPC servers "
            f"accept 8 KiB of metadata by default{tail}",
        )
    if code in ("UNAVAILABLE", "RESOURCE_EXHAUSTED"):
        return diagnostics.Cause(
            "unavailable",
            f"the backend kept answering gRPC {code} until the time ran out (overloaded, "
            f"starting up or rate-limiting){tail}",
        )
    missing = missing_header(said)
    if missing is not None and missing not in target.headers:
        return diagnostics.Cause(
            "rejected",
            f"the backend says header {missing!r} is missing (gRPC {code}): add it (headers= "
            f"or OTEL_EXPORTER_OTLP_HEADERS){tail}",
        )
    if code in ("INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND"):
        return diagnostics.Cause(
            "rejected", f"the backend rejected the request (gRPC {code}){tail}"
        )
    return diagnostics.Cause("status", f"the backend answered gRPC {code}{tail}")


def refused_cause(target: ExportTarget) -> diagnostics.Cause:
    """Connection refused: where and over what, and the other protocol when the port is
    one that protocol usually has."""
    grpc = target.protocol == "grpc"
    port = _port(target)
    text = (
        f"connection refused by {_host_port(target)} (tried OTLP/{'gRPC' if grpc else 'HTTP'}): "
        "is the backend running and reachable?"
    )
    if grpc and port in KNOWN_HTTP_PORTS:
        text += (
            f" Port {port} is {KNOWN_HTTP_PORTS[port]}: if that is what listens there, set "
            "protocol http/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)"
        )
    elif not grpc and port in KNOWN_GRPC_PORTS:
        text += (
            f" Port {port} is {KNOWN_GRPC_PORTS[port]}: if that is what listens there, set "
            "protocol grpc (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)"
        )
    return diagnostics.Cause("refused", text)


def body_summary(content_type: str, body: bytes, limit: int = BODY_LIMIT) -> str:
    """The first meaningful part of a response body, on one line, at most ``limit`` chars:
    a ``google.rpc.Status`` message (OTLP's error body), a JSON error's message, an HTML
    page's title or text, or the text itself."""
    mime = content_type.partition(";")[0].strip().lower()
    text = ""
    if "protobuf" in mime or "grpc" in mime:
        text = _status_message(body)
    elif "json" in mime or body.lstrip()[:1] in (b"{", b"["):
        text = _json_message(body)
    if not text and "protobuf" not in mime:
        decoded = body.decode("utf-8", errors="replace")
        text = _html_text(decoded) if "html" in mime or decoded.lstrip()[:1] == "<" else decoded
    return bounded(text, limit)


def bounded(text: str, limit: int = BODY_LIMIT) -> str:
    """``text`` on one line, printable characters only, cut to ``limit`` with ``…``."""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def missing_header(text: str) -> str | None:
    """The header a backend's message says is missing or required, lower-cased."""
    for pattern in _MISSING_HEADER:
        found = pattern.search(text)
        if found:
            return found.group(1).lower()
    return None


def is_route_not_found(said: str, path: str) -> bool:
    """True when a 404's message is about the URL path (empty, generic, or naming the
    path), not about something the request names."""
    lowered = said.lower()
    if path and path.lower() in lowered:
        return True
    return set(re.findall(r"[a-z0-9]+", lowered)) <= _ROUTE_WORDS


def related_headers(said: str, headers: Collection[str]) -> list[str]:
    """Header names sharing a word with the message (``x-mlflow-experiment-id`` for
    "No Experiment with id=999 exists")."""
    words = set(re.findall(r"[a-z0-9]+", said.lower()))
    related = []
    for name in sorted(headers):
        parts = {p for p in re.split(r"[-_.]", name) if len(p) >= 3 and p not in _NAME_NOISE}
        if any(p in words or f"{p}s" in words for p in parts):
            related.append(name)
    return related


def _status_message(body: bytes) -> str:
    status = RpcStatus()
    try:
        status.ParseFromString(body)
    except DecodeError:
        return ""
    return status.message


def _json_message(body: bytes) -> str:
    try:
        node = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    return _message_of(node)


def _message_of(node: object, depth: int = 0) -> str:
    """The human message of a JSON error (``message``, ``detail``, ``error`` …)."""
    if depth > 4 or node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "; ".join(m for m in (_message_of(i, depth + 1) for i in node[:3]) if m)
    if isinstance(node, dict):
        if "loc" in node and "msg" in node:  # a FastAPI / pydantic validation error
            loc = node["loc"] if isinstance(node["loc"], list) else [node["loc"]]
            return f"{' '.join(map(str, loc))}: {node['msg']}"
        for key in ("message", "error_description", "detail", "error", "errors", "msg", "title"):
            if key in node and (found := _message_of(node[key], depth + 1)):
                return found
        return json.dumps(node)
    return str(node)


def _html_text(html: str) -> str:
    title = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
    if title and title.group(1).strip():
        return title.group(1)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.I | re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _port(target: ExportTarget) -> int | None:
    parts = urlsplit(target.endpoint or "")
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


def _host_port(target: ExportTarget) -> str:
    host = urlsplit(target.endpoint or "").hostname or "?"
    host = f"[{host}]" if ":" in host else host
    port = _port(target)
    return f"{host}:{port}" if port else host
