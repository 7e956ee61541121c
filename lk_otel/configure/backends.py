"""Backends: what the user names, validated into concrete export targets.

A backend is chosen by name (``"langfuse"``, ``"jaeger"``, ``"otlp"``, ``"console"``,
``"file"``), by object (the classes below), or is any SDK ``SpanExporter``. ``resolve()``
reads arguments first, then the standard environment variables, and raises ``ConfigError``
naming the argument or variable at fault. Nothing here opens a connection.
"""

from __future__ import annotations

import base64
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from opentelemetry.sdk.trace.export import SpanExporter

from ..errors import ConfigError
from .env import (
    Environ,
    first_env,
    is_loopback,
    parse_bool,
    parse_headers,
    parse_positive_float,
    validate_endpoint,
    without_userinfo,
)

Protocol = Literal["grpc", "http/protobuf"]
Signal = Literal["traces", "metrics"]
PROTOCOLS: tuple[str, ...] = ("grpc", "http/protobuf")
COMPRESSIONS: tuple[str, ...] = ("gzip", "deflate", "none")
LANGFUSE_DEFAULT_HOST = "https://cloud.langfuse.com"
LANGFUSE_OTLP_PATH = "/api/public/otel/v1/traces"
DEFAULT_GRPC_ENDPOINT = "http://localhost:4317"
DEFAULT_HTTP_BASE = "http://localhost:4318"


@dataclass(frozen=True)
class ExportTarget:
    """A validated destination. ``headers`` never shows in ``repr()``."""

    label: str
    kind: Literal["otlp", "console", "file"]
    protocol: Protocol | None = None
    endpoint: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    compression: str | None = None
    timeout: float | None = None
    insecure: bool | None = None
    path: str | None = None
    auth_hint: str | None = None  # what to check when the backend answers 401/403


class Backend(ABC):
    """Something traces (and maybe metrics) can be exported to."""

    name: str

    @abstractmethod
    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget | None:
        """The validated target for ``signal``, or None when this backend does not take it."""


@dataclass(frozen=True, repr=False)
class OTLP(Backend):
    """Any OTLP backend. Unset arguments come from ``OTEL_EXPORTER_OTLP_*``."""

    endpoint: str | None = None
    protocol: Protocol | None = None
    headers: dict[str, str] | str | None = None
    compression: str | None = None
    timeout: float | None = None
    insecure: bool | None = None
    name: str = "otlp"
    read_env: bool = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, protocol={self.protocol!r})"

    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget:
        sig = signal.upper()
        env = env if self.read_env else {}
        protocol = self._protocol(env, sig)
        endpoint = self._endpoint(env, sig, protocol, signal)
        headers: dict[str, str] = {}
        if self.headers is not None:
            headers = parse_headers(self.headers, "headers")
        elif found := first_env(
            env, f"OTEL_EXPORTER_OTLP_{sig}_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"
        ):
            headers = parse_headers(found[1], found[0])
        return ExportTarget(
            label=self.name,
            kind="otlp",
            protocol=protocol,
            endpoint=endpoint,
            headers=headers,
            compression=self._compression(env, sig, protocol),
            timeout=self._timeout(env, sig),
            insecure=self._insecure(env, sig, endpoint),
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
            url = validate_endpoint(self.endpoint, "endpoint")
            return _with_signal_path(url, protocol, signal)
        if found := first_env(env, f"OTEL_EXPORTER_OTLP_{sig}_ENDPOINT"):
            return validate_endpoint(found[1], found[0])
        if found := first_env(env, "OTEL_EXPORTER_OTLP_ENDPOINT"):
            return _with_signal_path(validate_endpoint(found[1], found[0]), protocol, signal)
        return self.default_endpoint(protocol, signal)

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
        value = value.lower()
        if value not in COMPRESSIONS or (value == "deflate" and protocol == "grpc"):
            allowed = COMPRESSIONS if protocol != "grpc" else ("gzip", "none")
            raise ConfigError(f"{source} must be one of {', '.join(allowed)}, got {value!r}")
        return value

    def _timeout(self, env: Environ, sig: str) -> float | None:
        if self.timeout is not None:
            return parse_positive_float(self.timeout, "timeout")
        if found := first_env(
            env, f"OTEL_EXPORTER_OTLP_{sig}_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"
        ):
            # read again by the official exporter itself, in the unit it uses (seconds)
            parse_positive_float(found[1], found[0])
        return None

    def _insecure(self, env: Environ, sig: str, endpoint: str) -> bool:
        insecure = self.insecure
        source = "insecure"
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
                f"{self.name}: endpoint {without_userinfo(endpoint)!r} would send telemetry "
                f"unencrypted to a remote host; use https:// or set {source}=True "
                f"(or OTEL_EXPORTER_OTLP_INSECURE=true) if that is intended"
            )
        return True


@dataclass(frozen=True, repr=False)
class Jaeger(OTLP):
    """A Jaeger collector over OTLP: gRPC on :4317 by default, HTTP on :4318 on request."""

    name: str = "jaeger"
    read_env: bool = False

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

    def __repr__(self) -> str:
        return f"Langfuse(host={self.host!r}, public_key=***, secret_key=***)"

    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget | None:
        if signal != "traces":
            return None  # Langfuse ingests traces only
        if self.protocol not in (None, "http/protobuf"):
            raise ConfigError(
                f"langfuse accepts OTLP over HTTP only; protocol={self.protocol!r} is not "
                "supported (use 'http/protobuf' or leave it unset)"
            )
        public = _key(self.public_key, "public_key", env, "LANGFUSE_PUBLIC_KEY")
        secret = _key(self.secret_key, "secret_key", env, "LANGFUSE_SECRET_KEY")
        if self.host is not None:
            host = validate_endpoint(self.host, "host")
        elif found := first_env(env, "LANGFUSE_HOST", "LANGFUSE_BASE_URL"):
            host = validate_endpoint(found[1], found[0])
        else:
            host = LANGFUSE_DEFAULT_HOST
        host = host.rstrip("/")
        if host.startswith("http://") and not is_loopback(host):
            raise ConfigError(
                f"langfuse host {without_userinfo(host)!r} is plain http to a remote host: "
                "the keys would travel unencrypted; use https://"
            )
        token = base64.b64encode(f"{public}:{secret}".encode()).decode()
        return ExportTarget(
            label=self.name,
            kind="otlp",
            protocol="http/protobuf",
            endpoint=host + LANGFUSE_OTLP_PATH,
            headers={"authorization": f"Basic {token}", "x-langfuse-ingestion-version": "4"},
            compression=self.compression,
            timeout=parse_positive_float(self.timeout, "timeout") if self.timeout else None,
            insecure=host.startswith("http://"),
            auth_hint="LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY and LANGFUSE_HOST (region)",
        )


@dataclass(frozen=True)
class Console(Backend):
    """One human-readable line per span on stdout."""

    name: str = "console"

    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget:
        return ExportTarget(label=self.name, kind="console")


@dataclass(frozen=True)
class File(Backend):
    """OTLP/JSON lines, one ``ExportTraceServiceRequest`` per line (Collector file format)."""

    path: str = "lk-otel-traces.jsonl"
    name: str = "file"

    def resolve(self, env: Environ, signal: Signal = "traces") -> ExportTarget:
        if not str(self.path).strip():
            raise ConfigError("file backend: path must not be empty")
        path = str(self.path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ConfigError(f"file backend: the folder of path {path!r} does not exist")
        if signal == "metrics":
            path = path[:-6] + ".metrics.jsonl" if path.endswith(".jsonl") else path + ".metrics"
        return ExportTarget(label=self.name, kind="file", path=path)


BY_NAME: dict[str, type[Backend]] = {
    "otlp": OTLP,
    "jaeger": Jaeger,
    "langfuse": Langfuse,
    "console": Console,
    "file": File,
}


def backend_from_name(name: str) -> Backend:
    """The backend registered under ``name``, or a ``ConfigError`` listing the names."""
    cls = BY_NAME.get(name.strip().lower())
    if cls is None:
        raise ConfigError(f"backend: unknown name {name!r}; choose from {', '.join(BY_NAME)}")
    return cls()


def backends_from_env(env: Environ) -> list[Backend]:
    """Langfuse when its keys are set, OTLP when an OTLP traces endpoint is set."""
    chosen: list[Backend] = []
    if first_env(env, "LANGFUSE_PUBLIC_KEY") or first_env(env, "LANGFUSE_SECRET_KEY"):
        chosen.append(Langfuse())
    if first_env(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        chosen.append(OTLP())
    return chosen


def _with_signal_path(url: str, protocol: Protocol, signal: Signal) -> str:
    """OTLP/HTTP base URL → signal URL (``/v1/traces``); gRPC URLs are used as given."""
    suffix = f"/v1/{signal}"
    if protocol == "grpc" or url.endswith(suffix):
        return url
    return url.rstrip("/") + suffix


def _key(value: str | None, arg: str, env: Environ, var: str) -> str:
    if value is None:
        found = first_env(env, var)
        value = found[1] if found else None
    if not value:
        raise ConfigError(f"langfuse: missing {arg} (pass {arg}= or set {var})")
    return value.strip()


BackendArg = str | Backend | SpanExporter | Sequence[str | Backend | SpanExporter] | None


def coerce_backends(backend: BackendArg, env: Environ) -> list[Backend | SpanExporter]:
    """The ``backend=`` argument as a list; unset, chosen from the environment."""
    if backend is None:
        chosen: list[Backend | SpanExporter] = list(backends_from_env(env))
        if not chosen:
            logging.getLogger("lk_otel").info(
                "lk_otel: no backend configured; exporting OTLP/gRPC to localhost:4317 "
                "(set LANGFUSE_* or OTEL_EXPORTER_OTLP_ENDPOINT, or pass backend=)"
            )
            chosen = [OTLP()]
        return chosen
    items = [backend] if isinstance(backend, str | Backend | SpanExporter) else list(backend)
    if not items:
        raise ConfigError("backend: the list is empty")
    out: list[Backend | SpanExporter] = []
    for item in items:
        if isinstance(item, str):
            out.append(backend_from_name(item))
        elif isinstance(item, Backend | SpanExporter):
            out.append(item)
        else:
            raise ConfigError(
                "backend: expected a name, a backend object or a SpanExporter, "
                f"got {type(item).__name__}"
            )
    return out
