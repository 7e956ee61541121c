"""Backends: what the user names, validated into concrete export targets.

A backend is chosen by name (``"langfuse"``, ``"jaeger"``, ``"otlp"``, ``"console"``,
``"file"``), by object (the classes below), or is any SDK ``SpanExporter``. ``resolve()``
reads arguments first, then the standard environment variables, and raises ``ConfigError``
naming the argument or variable at fault. Nothing here opens a connection.
"""

from __future__ import annotations

import base64
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from ..errors import ConfigError
from .env import (
    Environ,
    first_env,
    parse_bool,
    parse_flag,
    parse_positive_float,
    parse_text,
)
from .headers import parse_headers, validate_headers
from .redaction import fingerprint, redact_url
from .urls import is_loopback, validate_endpoint, with_path_suffix, with_signal_path

Protocol = Literal["grpc", "http/protobuf"]
MAPPINGS: frozenset[str] = frozenset({"langfuse", "openinference", "mlflow"})
Signal = Literal["traces", "metrics"]
PROTOCOLS: tuple[str, ...] = ("grpc", "http/protobuf")
COMPRESSIONS: tuple[str, ...] = ("gzip", "deflate", "none")
LANGFUSE_DEFAULT_HOST = "https://cloud.langfuse.com"
LANGFUSE_OTLP_PATH = "/api/public/otel/v1/traces"
DEFAULT_GRPC_ENDPOINT = "http://localhost:4317"
DEFAULT_HTTP_BASE = "http://localhost:4318"


@dataclass(frozen=True)
class ExportTarget:
    """A validated destination; the real endpoint (with any credentials in it) is only for
    the exporter. ``repr()`` and ``describe()`` show it redacted, and no header value."""

    label: str
    kind: Literal["otlp", "console", "file"]
    protocol: Protocol | None = None
    endpoint: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    compression: str | None = None
    timeout: float | None = None
    insecure: bool | None = None
    path: str | None = None
    auth_hint: str | None = None  # what to check when the backend answers 401/403

    def describe(self) -> str:
        """``label (where)`` for log lines: ``otlp (https://***@h/v1/traces?api_key=***)``."""
        if self.kind == "console":
            return f"{self.label} (stdout)"
        if self.kind == "file":
            return f"{self.label} ({self.path})"
        return f"{self.label} ({redact_url(self.endpoint or '')}, {self.protocol})"

    def __repr__(self) -> str:
        fields = [f"label={self.label!r}", f"kind={self.kind!r}"]
        if self.kind == "otlp":
            fields += [
                f"protocol={self.protocol!r}",
                f"endpoint={redact_url(self.endpoint or '')!r}",
                f"headers={sorted(self.headers)!r}",  # names only
                f"compression={self.compression!r}",
                f"timeout={self.timeout!r}",
                f"insecure={self.insecure!r}",
            ]
            endpoint = self.endpoint or ""
            if redact_url(endpoint) != endpoint:  # so that equal reprs mean equal URLs
                fields.append(f"url_credentials={fingerprint([endpoint])!r}")
        elif self.kind == "file":
            fields.append(f"path={self.path!r}")
        return f"ExportTarget({', '.join(fields)})"

    def same_destination(self, other: ExportTarget) -> bool:
        """True when both send the same data to the same place (kind, protocol, endpoint,
        headers; for files the same path)."""
        if self.kind != other.kind:
            return False
        if self.kind == "file":
            return os.path.abspath(self.path or "") == os.path.abspath(other.path or "")
        return (self.protocol, self.endpoint, self.headers) == (
            other.protocol,
            other.endpoint,
            other.headers,
        )


class Backend(ABC):
    """Something traces (and maybe metrics) can be exported to."""

    name: str
    # the backend-mapping keys it reads (``setup_tracing``'s default writes their union);
    # an OTLP endpoint, a file or a console may be read by anything: all of them
    reads: ClassVar[frozenset[str]] = MAPPINGS

    @abstractmethod
    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget | None:
        """The validated target for ``signal``, or None when this backend does not take it."""

    def _label(self) -> str:
        return parse_text(self.name, f"{type(self).__name__}(name=)", optional=False) or ""


@dataclass(frozen=True, repr=False)
class OTLP(Backend):
    """Any OTLP backend. Unset arguments come from ``OTEL_EXPORTER_OTLP_*``."""

    endpoint: str | None = None
    protocol: Protocol | None = None
    headers: dict[str, str] | str | None = None
    compression: str | None = None
    timeout: float | None = None
    insecure: bool | str | None = None
    name: str = "otlp"
    read_env: bool = True

    def __repr__(self) -> str:
        endpoint = redact_url(self.endpoint) if isinstance(self.endpoint, str) else self.endpoint
        return f"{type(self).__name__}(endpoint={endpoint!r}, protocol={self.protocol!r})"

    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget:
        label = self._label()
        sig = signal.upper()
        env = env if parse_flag(self.read_env, f"{label}: read_env") else {}
        protocol = self._protocol(env, sig)
        endpoint = self._endpoint(env, sig, protocol, signal)
        source, headers = "headers", {}
        if self.headers is not None:
            headers = parse_headers(self.headers, "headers")
        elif found := first_env(
            env, f"OTEL_EXPORTER_OTLP_{sig}_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"
        ):
            source, headers = found[0], parse_headers(found[1], found[0])
        validate_headers(headers, protocol, source)
        if "@" in urlsplit(endpoint).netloc and "authorization" in headers:
            raise ConfigError(
                f"{label}: the endpoint has user:password and {source} has 'authorization'; "
                "the URL's would replace the header: keep one"
            )
        return ExportTarget(
            label=label,
            kind="otlp",
            protocol=protocol,
            endpoint=endpoint,
            headers=headers,
            compression=self._compression(env, sig, protocol),
            timeout=self._timeout(env, sig),
            insecure=self._insecure(env, sig, endpoint, label),
        )

    def _protocol(self, env: Environ, sig: str) -> Protocol:
        source, value = "protocol", self.protocol
        if value is None:
            found = first_env(
                env, f"OTEL_EXPORTER_OTLP_{sig}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"
            )
            source, value = found if found else ("protocol", self.default_protocol())
        if value not in PROTOCOLS:
            raise ConfigError(f"{source} must be one of {', '.join(PROTOCOLS)}, got {value!r}")
        return value  # type: ignore[return-value]

    def default_protocol(self) -> Protocol:
        """The protocol used when neither argument nor environment names one."""
        return "grpc"

    def _endpoint(self, env: Environ, sig: str, protocol: Protocol, signal: Signal) -> str:
        if self.endpoint is not None:
            source, url = "endpoint", validate_endpoint(self.endpoint, "endpoint")
            if protocol != "grpc":
                url = with_signal_path(url, signal)
        elif found := first_env(env, f"OTEL_EXPORTER_OTLP_{sig}_ENDPOINT"):
            source, url = found[0], validate_endpoint(found[1], found[0])
        elif found := first_env(env, "OTEL_EXPORTER_OTLP_ENDPOINT"):
            source, url = found[0], validate_endpoint(found[1], found[0])
            if protocol != "grpc":
                url = with_signal_path(url, signal)
        else:
            return self.default_endpoint(protocol, signal)
        if protocol == "grpc":
            _check_grpc_url(url, source)
        return url

    def default_endpoint(self, protocol: Protocol, signal: Signal) -> str:
        """The endpoint used when neither argument nor environment names one."""
        if protocol == "grpc":
            return DEFAULT_GRPC_ENDPOINT
        return f"{DEFAULT_HTTP_BASE}/v1/{signal}"

    def _compression(self, env: Environ, sig: str, protocol: Protocol) -> str | None:
        source, value = "compression", self.compression
        if value is None:
            found = first_env(
                env, f"OTEL_EXPORTER_OTLP_{sig}_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"
            )
            if not found:
                return None
            source, value = found
        return check_compression(value, source, protocol)

    def _timeout(self, env: Environ, sig: str) -> float | None:
        if self.timeout is not None:
            return parse_positive_float(self.timeout, "timeout")
        if found := first_env(
            env, f"OTEL_EXPORTER_OTLP_{sig}_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"
        ):
            # read again by the official exporter itself, in the unit it uses (seconds)
            parse_positive_float(found[1], found[0])
        return None

    def _insecure(self, env: Environ, sig: str, endpoint: str, label: str) -> bool:
        source = "insecure"
        insecure = None if self.insecure is None else parse_flag(self.insecure, source)
        if insecure is None:
            found = first_env(
                env, f"OTEL_EXPORTER_OTLP_{sig}_INSECURE", "OTEL_EXPORTER_OTLP_INSECURE"
            )
            if found:
                source = found[0]
                insecure = parse_bool(found[1], found[0])
        if endpoint.startswith("https://"):
            return False
        if not insecure and not is_loopback(endpoint):
            raise ConfigError(
                f"{label}: endpoint {redact_url(endpoint)!r} would send telemetry "
                f"unencrypted to a remote host; use https:// or set {source}=True "
                f"(or OTEL_EXPORTER_OTLP_INSECURE=true) if that is intended"
            )
        return True


@dataclass(frozen=True, repr=False)
class Jaeger(OTLP):
    """A Jaeger collector over OTLP: gRPC on :4317 by default, HTTP on :4318 on request."""

    name: str = "jaeger"
    read_env: bool = False
    reads: ClassVar[frozenset[str]] = frozenset()  # shows livekit's and lk_otel's keys as they are

    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget | None:  # type: ignore[override]
        return None if signal == "metrics" else super().resolve(env, signal)  # traces only


@dataclass(frozen=True, repr=False)
class Langfuse(Backend):
    """Langfuse's OTLP/HTTP endpoint with Basic auth. Keys never show in ``repr()``."""

    public_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    host: str | None = None
    protocol: Protocol | None = None
    timeout: float | None = None
    compression: str = "gzip"
    name: str = "langfuse"
    reads: ClassVar[frozenset[str]] = frozenset({"langfuse"})

    def __repr__(self) -> str:
        host = redact_url(self.host) if isinstance(self.host, str) else self.host
        return f"Langfuse(host={host!r}, public_key=***, secret_key=***)"

    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget | None:
        if signal != "traces":
            return None  # Langfuse ingests traces only
        label = self._label()
        if self.protocol not in (None, "http/protobuf"):
            raise ConfigError(
                f"langfuse accepts OTLP over HTTP only; protocol={self.protocol!r} is not "
                "supported (use 'http/protobuf' or leave it unset)"
            )
        public = _key(self.public_key, "public_key", env, "LANGFUSE_PUBLIC_KEY")
        secret = _key(self.secret_key, "secret_key", env, "LANGFUSE_SECRET_KEY")
        if ":" in public:
            raise ConfigError("langfuse: public_key cannot contain ':' (Basic auth splits there)")
        source = "host"
        if self.host is not None:
            host = validate_endpoint(self.host, "host")
        elif found := first_env(env, "LANGFUSE_HOST", "LANGFUSE_BASE_URL"):
            source, host = found[0], validate_endpoint(found[1], found[0])
        else:
            host = LANGFUSE_DEFAULT_HOST
        if host.startswith("http://") and not is_loopback(host):
            raise ConfigError(
                f"langfuse host {redact_url(host)!r} is plain http to a remote host: "
                "the keys would travel unencrypted; use https://"
            )
        parts = urlsplit(host)
        if parts.username is not None or parts.query:
            raise ConfigError(
                f"langfuse: {source} must be the base URL, without user:password or a "
                f"?query (the keys go in public_key/secret_key), got {redact_url(host)!r}"
            )
        token = base64.b64encode(f"{public}:{secret}".encode()).decode()
        return ExportTarget(
            label=label,
            kind="otlp",
            protocol="http/protobuf",
            endpoint=langfuse_endpoint(host),
            headers={"authorization": f"Basic {token}", "x-langfuse-ingestion-version": "4"},
            compression=check_compression(self.compression, "compression", "http/protobuf"),
            timeout=None if self.timeout is None else parse_positive_float(self.timeout, "timeout"),
            insecure=host.startswith("http://"),
            auth_hint="LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY and LANGFUSE_HOST (region)",
        )


@dataclass(frozen=True)
class Console(Backend):
    """One human-readable line per span on stdout."""

    name: str = "console"

    # equivalent mutant: a console target ignores the signal
    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget:  # pragma: no mutate
        return ExportTarget(label=self._label(), kind="console")


@dataclass(frozen=True)
class File(Backend):
    """OTLP/JSON lines, one ``ExportTraceServiceRequest`` per line (Collector file format)."""

    path: str | os.PathLike[str] = "lk-otel-traces.jsonl"
    name: str = "file"

    # equivalent mutant: the default signal is only ever compared with "metrics"
    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget:  # pragma: no mutate
        label = self._label()
        if not isinstance(self.path, str | os.PathLike):
            raise ConfigError(f"file backend: path must be a str or a path, got {self.path!r}")
        path = os.fspath(self.path)
        if not isinstance(path, str) or not path.strip():
            raise ConfigError("file backend: path must not be empty")
        if signal == "metrics":
            path = path[:-6] + ".metrics.jsonl" if path.endswith(".jsonl") else path + ".metrics"
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise ConfigError(f"file backend: path {path!r} is a folder; name a file in it")
        if not os.path.isdir(folder):
            raise ConfigError(f"file backend: the folder of path {path!r} does not exist")
        if os.path.exists(path) and not os.access(path, os.W_OK):
            raise ConfigError(f"file backend: path {path!r} is not writable")
        if not os.path.exists(path) and not os.access(folder, os.W_OK | os.X_OK):
            raise ConfigError(f"file backend: the folder of path {path!r} is not writable")
        return ExportTarget(label=label, kind="file", path=path)


def check_compression(value: object, source: str, protocol: Protocol) -> str:
    """``gzip``, ``none`` or (HTTP only) ``deflate``, any case; else a ``ConfigError``."""
    allowed = COMPRESSIONS if protocol != "grpc" else ("gzip", "none")
    lowered = value.strip().lower() if isinstance(value, str) else None
    if lowered not in allowed:
        raise ConfigError(f"{source} must be one of {', '.join(allowed)}, got {value!r}")
    return lowered  # type: ignore[return-value]


def langfuse_endpoint(host: str) -> str:
    """Langfuse's OTLP traces URL under ``host`` (which may already end in part of it)."""
    base = LANGFUSE_OTLP_PATH.removesuffix("/v1/traces")
    if urlsplit(host).path.rstrip("/").endswith(base):
        return with_path_suffix(host, "/v1/traces")
    return with_path_suffix(host, LANGFUSE_OTLP_PATH)


def _check_grpc_url(url: str, source: str) -> None:
    """gRPC sends no URL credentials and no query string: refuse to drop them silently."""
    parts = urlsplit(url)
    if parts.username is not None:
        raise ConfigError(
            f"{source}: gRPC cannot send user:password from the URL; put credentials in "
            f"headers (got {redact_url(url)!r})"
        )
    if parts.query:
        raise ConfigError(
            f"{source}: gRPC cannot send a ?query; put it in headers (got {redact_url(url)!r})"
        )


def _key(value: object, arg: str, env: Environ, var: str) -> str:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"langfuse: {arg} must be a string, got {type(value).__name__}")
    if value is None:
        found = first_env(env, var)
        value = found[1] if found else None
    if not value or not value.strip():
        raise ConfigError(f"langfuse: missing {arg} (pass {arg}= or set {var})")
    return value.strip()
