"""Configuration mistakes fail at setup with a ConfigError naming the culprit, and never
show a secret: argument types, URL building, headers, duplicates, redaction."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator

import pytest
from livekit.agents.telemetry import tracer as lk_tracer
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import lk_otel
from lk_otel import OTLP, ConfigError, Console, File, Jaeger, Langfuse, setup_tracing
from lk_otel.configure.backends import ExportTarget
from lk_otel.configure.env import parse_count, parse_flag, parse_positive_float, parse_text
from lk_otel.configure.headers import (
    GRPC_HEADERS_BUDGET,
    grpc_metadata_size,
    parse_headers,
    validate_headers,
)
from lk_otel.configure.redaction import (
    header_secrets,
    is_secret_name,
    redact_query,
    redact_text,
    redact_url,
    url_secrets,
)
from lk_otel.configure.resource import check_attributes
from lk_otel.configure.sampling import validate_sample_rate
from lk_otel.configure.selection import coerce_backends
from lk_otel.configure.urls import (
    is_loopback,
    validate_endpoint,
    validate_host,
    with_signal_path,
)
from support.otlp_receiver import OtlpReceiver

pytest_plugins = ["support.receiver_fixtures"]
PK, SK = "pk-lf-conf-1234", "sk-lf-conf-secret-5678"
SECRET = "s3cr3t-VALUE-42"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in list(os.environ):
        if var.startswith(("OTEL_", "LANGFUSE_", "LIVEKIT_TELEMETRY")):
            monkeypatch.delenv(var)
    yield


@pytest.fixture
def handles() -> Iterator[list[lk_otel.TracingHandle]]:
    made: list[lk_otel.TracingHandle] = []
    yield made
    for h in made:
        h.shutdown(2)


def config_error(*args: object, **kwargs: object) -> str:
    """The message of the ConfigError ``setup_tracing(*args, **kwargs)`` raises."""
    with pytest.raises(ConfigError) as err:
        setup_tracing(*args, **kwargs)  # type: ignore[arg-type]
    return str(err.value)


def emit_and_wait(receiver: OtlpReceiver, handle: lk_otel.TracingHandle) -> None:
    with lk_tracer.start_as_current_span("agent_session") as span:
        span_id = f"{span.get_span_context().span_id:016x}"
    handle.force_flush(5)
    deadline = time.monotonic() + 10
    while span_id not in {s.span_id for s in receiver.spans()}:
        assert time.monotonic() < deadline, f"not delivered; requests: {receiver.requests}"
        time.sleep(0.02)


# --- the cases of the issue -------------------------------------------------------------


def test_langfuse_compression_brotli_is_a_config_error() -> None:
    message = config_error(Langfuse(public_key=PK, secret_key=SK, compression="brotli"))
    assert message == "compression must be one of gzip, deflate, none, got 'brotli'"


def test_a_backend_class_instead_of_an_instance() -> None:
    assert config_error(Jaeger) == ("backend: got the class Jaeger, not an instance; pass Jaeger()")
    assert "item 2" in config_error(["console", OTLP])


def test_file_path_that_is_a_folder(tmp_path) -> None:
    message = config_error(File(path=str(tmp_path)))
    assert message == f"file backend: path {str(tmp_path)!r} is a folder; name a file in it"


def test_zero_timeout_is_an_error_for_langfuse_as_for_otlp() -> None:
    expected = "timeout must be a finite number greater than 0, got 0"
    assert config_error(Langfuse(public_key=PK, secret_key=SK, timeout=0)) == expected
    assert config_error(OTLP(timeout=0)) == expected
    target = Langfuse(public_key=PK, secret_key=SK, timeout=2).resolve({})
    assert target is not None and target.timeout == 2.0


def test_sample_rate_true_is_rejected() -> None:
    assert config_error("console", sample_rate=True) == (
        "sample_rate must be a number between 0 and 1, got bool"
    )


def test_resource_attribute_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "team=voice,=v")
    assert config_error("console") == "OTEL_RESOURCE_ATTRIBUTES: entry 2 is not key=value"


@pytest.mark.parametrize(
    ("insecure", "expected"), [("true", True), ("False", None), (True, True), ("0", None)]
)
def test_insecure_from_a_string_is_parsed_like_the_variable(
    insecure: str | bool, expected: bool | None
) -> None:
    backend = OTLP(endpoint="http://collector.example.com:4317", insecure=insecure)
    if expected is None:
        with pytest.raises(ConfigError, match="unencrypted to a remote host; use https:// or set"):
            backend.resolve({})
    else:
        assert backend.resolve({}).insecure is expected


@pytest.mark.parametrize("insecure", ["maybe", 1, 0.0])
def test_insecure_that_is_no_boolean_is_rejected(insecure: object) -> None:
    with pytest.raises(ConfigError, match=r"^insecure must be"):
        OTLP(endpoint="http://collector.example.com:4317", insecure=insecure).resolve({})  # type: ignore[arg-type]


# --- every argument type-checked ---------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "named"),
    [
        (OTLP(endpoint=4317), "endpoint must be a URL string, got int"),  # type: ignore[arg-type]
        (OTLP(headers=["x-k=v"]), "headers must be a mapping"),  # type: ignore[arg-type]
        (OTLP(headers={"x-k": 1}), "headers: header 'x-k' must have a string value, got int"),  # type: ignore[dict-item]
        (OTLP(compression=1), "compression must be one of gzip, none, got 1"),  # type: ignore[arg-type]
        (OTLP(timeout=True), "timeout must be a number, got bool"),
        (OTLP(timeout="soon"), "timeout must be a number, got 'soon'"),  # type: ignore[arg-type]
        (OTLP(protocol=1), "protocol must be one of grpc, http/protobuf, got 1"),  # type: ignore[arg-type]
        (OTLP(name=""), "OTLP(name=) must be a non-empty string"),
        (OTLP(read_env="nope"), "otlp: read_env must be true or false"),  # type: ignore[arg-type]
        (Langfuse(public_key=123, secret_key=SK), "langfuse: public_key must be a string, got int"),  # type: ignore[arg-type]
        (Langfuse(public_key="pk:x", secret_key=SK), "public_key cannot contain ':'"),
        (File(path=123), "file backend: path must be a str or a path, got 123"),  # type: ignore[arg-type]
        (File(path=""), "file backend: path must not be empty"),
        (Langfuse(public_key=PK, secret_key=SK, host=3000), "host must be a URL string, got int"),  # type: ignore[arg-type]
        (Langfuse(public_key=PK, secret_key=SK, protocol=1), "protocol=1 is not supported"),  # type: ignore[arg-type]
        (Langfuse(public_key=PK, secret_key=" "), "langfuse: missing secret_key"),
        (Console(name=None), "Console(name=) must be a non-empty string, got None"),  # type: ignore[arg-type]
    ],
)
def test_backend_arguments_are_type_checked(backend: object, named: str) -> None:
    assert named in config_error(backend)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"flush_timeout": True}, "flush_timeout must be a number, got bool"),
        ({"schedule_delay": True}, "schedule_delay must be a number, got bool"),
        ({"retry_interval": None}, "retry_interval must be a number, got NoneType"),
        ({"service_name": 5}, "service_name must be a non-empty string, got 5"),
        ({"service_version": 2}, "service_version must be a non-empty string, got 2"),
        ({"environment": ""}, "environment must be a non-empty string, got ''"),
        ({"resource_attributes": {"": "x"}}, "resource_attributes: every key must be a non-empty"),
        ({"resource_attributes": {"k": [1, "a"]}}, "resource_attributes['k'] must be a str"),
        ({"sample_rate": "0.5"}, "sample_rate must be a number between 0 and 1, got str"),
        ({"sample_rate": float("nan")}, "sample_rate must be between 0 and 1, got nan"),
    ],
)
def test_setup_tracing_arguments_are_type_checked(kwargs: dict, expected: str) -> None:
    assert expected in config_error("console", **kwargs)


@pytest.mark.parametrize("backend", [123, {"otlp": {}}, b"otlp", [["otlp"]], [None]])
def test_a_backend_argument_of_the_wrong_type(backend: object) -> None:
    assert "expected a name, a backend object or a SpanExporter" in config_error(backend)


def test_validators_the_composition_root_calls() -> None:
    assert parse_flag("FALSE", "metrics") is False and parse_flag(True, "metrics") is True
    for bad in (1, None, "maybe"):
        with pytest.raises(ConfigError, match=r"^metrics must be"):
            parse_flag(bad, "metrics")
    assert parse_positive_float("2.5", "flush_timeout", at_most=10) == 2.5
    with pytest.raises(ConfigError, match=r"^flush_timeout must be at most 10, got 11"):
        parse_positive_float(11, "flush_timeout", at_most=10)
    with pytest.raises(ConfigError, match=r"^x must be at least 0.5, got 0.25"):
        parse_positive_float(0.25, "x", at_least=0.5)
    assert parse_count(3, "max_queue_size") == 3
    for bad in (True, 0, 1.5, "3"):
        with pytest.raises(ConfigError, match=r"^max_queue_size must be an integer of at least 1"):
            parse_count(bad, "max_queue_size")
    assert parse_text(None, "service_version") is None
    with pytest.raises(ConfigError, match=r"^tag must be a non-empty string, got None"):
        parse_text(None, "tag", optional=False)
    assert validate_sample_rate(None) is None and validate_sample_rate(1) == 1.0
    assert validate_sample_rate(0.25) == 0.25
    check_attributes({"a": [1, 2], "b": True, "c": 1.5}, "metadata")
    with pytest.raises(ConfigError, match=r"^metadata\['a'\] must be"):
        check_attributes({"a": [True, 1]}, "metadata")  # bool and int do not mix
    with pytest.raises(ConfigError, match=r"^metadata must be a mapping"):
        check_attributes([("a", 1)], "metadata")


# --- URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "signal", "expected"),
    [
        ("https://h.example.com", "traces", "https://h.example.com/v1/traces"),
        ("https://h.example.com/", "traces", "https://h.example.com/v1/traces"),
        ("https://h.example.com/otlp//", "traces", "https://h.example.com/otlp/v1/traces"),
        ("https://h.example.com/v1/traces/", "traces", "https://h.example.com/v1/traces"),
        ("https://h.example.com/v1/traces", "metrics", "https://h.example.com/v1/metrics"),
        (
            "https://h.example.com/otlp?tenant=a&x=1",
            "traces",
            "https://h.example.com/otlp/v1/traces?tenant=a&x=1",
        ),
        ("http://[::1]:4318/?t=a", "metrics", "http://[::1]:4318/v1/metrics?t=a"),
    ],
)
def test_signal_path_joined_before_the_query(base: str, signal: str, expected: str) -> None:
    assert with_signal_path(base, signal) == expected


@pytest.mark.parametrize(
    ("endpoint", "env", "expected"),
    [
        (
            "https://h.example.com/otlp?tenant=a",
            {},
            "https://h.example.com/otlp/v1/traces?tenant=a",
        ),
        ("https://h.example.com/v1/traces/", {}, "https://h.example.com/v1/traces"),
        (
            None,
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://h.example.com/otlp/"},
            "https://h.example.com/otlp/v1/traces",
        ),
        (
            None,
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://h.example.com/custom?t=1"},
            "https://h.example.com/custom?t=1",  # the signal's own variable is used as given
        ),
    ],
)
def test_http_endpoints(endpoint: str | None, env: dict, expected: str) -> None:
    target = OTLP(endpoint=endpoint, protocol="http/protobuf").resolve(env)
    assert target.endpoint == expected


def test_langfuse_host_paths() -> None:
    def endpoint(host: str) -> str | None:
        target = Langfuse(public_key=PK, secret_key=SK, host=host).resolve({})
        return target.endpoint if target else None

    full = "https://lf.example.com/api/public/otel/v1/traces"
    assert endpoint("https://lf.example.com/") == full
    assert endpoint("https://lf.example.com/api/public/otel") == full
    assert endpoint(full) == full
    assert endpoint("https://x.example.com/lf//") == (
        "https://x.example.com/lf/api/public/otel/v1/traces"
    )
    with pytest.raises(ConfigError, match="host must be the base URL, without user:password"):
        endpoint(f"https://pk:{SK}@lf.example.com")
    with pytest.raises(ConfigError, match=r"\?query"):
        endpoint("https://lf.example.com?x=1")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://exa mple.com", "endpoint contains a space or control character"),
        ("https://example.com/a b", "endpoint contains a space or control character"),
        ("https://exam\nple.com", "endpoint contains a space or control character"),
        ("https://exa_mple-.com", "endpoint has an invalid host name"),
        ("https://-x.example.com", "endpoint has an invalid host name"),
        ("https://300.1.1.1", "endpoint has an invalid host name"),
        ("https://a..b", "endpoint has an invalid host name"),
        ("https://example.com:99999", "endpoint is not a valid URL"),
        ("https://example.com:0", "endpoint has port 0"),
        ("https://example.com/v1/traces#frag", "endpoint must not have a #fragment"),
        ("localhost:4317", "endpoint must be an http:// or https:// URL with a host"),
    ],
)
def test_bad_endpoints(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate_endpoint(url, "endpoint")
    assert str(err.value).startswith(message)


def test_endpoint_errors_are_redacted() -> None:
    with pytest.raises(ConfigError) as err:
        validate_endpoint(f"https://u:{SECRET}@exa mple.com/?api_key={SECRET}", "endpoint")
    assert SECRET not in str(err.value)
    assert "'https://***@exa mple.com/?api_key=***'" in str(err.value)
    with pytest.raises(ConfigError) as err:
        OTLP(endpoint=f"http://u:{SECRET}@collector.example.com:4318/?token={SECRET}").resolve({})
    assert SECRET not in str(err.value)


def test_valid_hosts() -> None:
    for host in ("localhost", "127.0.0.1", "::1", "fe80::1%eth0", "otel_collector", "a.b-c.d."):
        assert validate_host(host), host
    assert validate_host("bücher.example")  # IDNA
    for host in ("", "a b", "x" * 64 + ".com", ("a." * 127) + "com", "1234", "a/b"):
        assert not validate_host(host), host
    assert validate_endpoint("https://h.example.com/", "e") == "https://h.example.com"
    assert validate_endpoint(" https://h.example.com/p?q=1 ", "e") == "https://h.example.com/p?q=1"


def test_grpc_cannot_carry_url_credentials_or_a_query() -> None:
    with pytest.raises(ConfigError) as err:
        OTLP(endpoint=f"https://user:{SECRET}@h.example.com:4317").resolve({})
    assert "gRPC cannot send user:password" in str(err.value) and SECRET not in str(err.value)
    with pytest.raises(ConfigError, match=r"^endpoint: gRPC cannot send a \?query"):
        OTLP(endpoint="https://h.example.com:4317?api_key=x").resolve({})
    with pytest.raises(ConfigError, match=r"^OTEL_EXPORTER_OTLP_ENDPOINT: gRPC cannot send"):
        OTLP().resolve({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://h.example.com?t=1"})


def test_userinfo_with_an_authorization_header_is_ambiguous() -> None:
    with pytest.raises(ConfigError, match="the URL's would replace the header"):
        OTLP(
            endpoint="https://u:p@h.example.com",
            protocol="http/protobuf",
            headers={"Authorization": "Bearer x"},
        ).resolve({})


def test_query_is_sent_after_the_signal_path(otlp_receiver: OtlpReceiver, handles: list) -> None:
    endpoint = otlp_receiver.http_url("/otlp/?tenant=a&x=1")
    h = setup_tracing(OTLP(endpoint=endpoint, protocol="http/protobuf"), schedule_delay=0.05)
    handles.append(h)
    emit_and_wait(otlp_receiver, h)
    request = next(r for r in otlp_receiver.requests if r.accepted)
    assert (request.path, request.query) == ("/otlp/v1/traces", "tenant=a&x=1")


# --- headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "protocol", "message"),
    [
        ({"x-ké": SECRET}, "grpc", "headers: entry 1 has no valid header name"),
        ({"x-ké": SECRET}, "http/protobuf", "headers: entry 1 has no valid header name"),
        ({"x(key)": SECRET}, "http/protobuf", "headers: entry 1 has no valid header name"),
        ({"ok": "1", f"Authorization: Basic {SECRET}": ""}, "grpc", "headers: entry 2 has no"),
        ({"x-k": f"{SECRET}€"}, "http/protobuf", "headers: header 'x-k' has a non-ASCII value"),
        ({"x-k": f"{SECRET}é"}, "grpc", "headers: header 'x-k' has a non-ASCII value"),
        ({"x-k": f"{SECRET}\x00"}, "http/protobuf", "headers: header 'x-k' has a control char"),
        ({"x-k": f"a\t{SECRET}"}, "grpc", "headers: header 'x-k' has a control character"),
        ({"x-k": f" {SECRET}"}, "http/protobuf", "headers: header 'x-k' has a value starting"),
        ({"x-k": f"{SECRET}\t"}, "http/protobuf", "headers: header 'x-k' has a value starting"),
        ({"x-k": f"{SECRET} "}, "grpc", "headers: header 'x-k' has a value starting or ending"),
        ({"x-k": f"{SECRET}\x7f"}, "grpc", "headers: header 'x-k' has a control character"),
        ({"x-k": f"{SECRET}\r\n"}, "http/protobuf", "headers: header 'x-k' has a control"),
        ({"x~k": SECRET}, "grpc", "headers: header 'x~k' cannot be sent over gRPC: metadata"),
        ({"grpc-timeout": "1S"}, "grpc", "headers: header 'grpc-timeout' cannot be sent over"),
        ({"x-bin": SECRET}, "grpc", "headers: header 'x-bin' cannot be sent over gRPC: '-bin'"),
        ({"Content-Type": "a/b"}, "http/protobuf", "headers: header 'content-type' is set by"),
        ({"te": "x"}, "grpc", "headers: header 'te' is set by the exporter itself"),
        ({"X-K": "a", "x-k": SECRET}, "grpc", "headers: header 'x-k' is given twice"),
        ({"x-k": "a" * 20_000}, "grpc", "headers: the headers take 20035 bytes of gRPC metadata"),
        ({"x-k": "a" * 1_000_000}, "grpc", "headers: the headers take 1000035 bytes"),
    ],
)
def test_headers_that_cannot_be_sent_fail_at_setup(
    headers: dict[str, str], protocol: str, message: str
) -> None:
    endpoint = "https://h.example.com"
    text = config_error(OTLP(endpoint=endpoint, protocol=protocol, headers=headers))  # type: ignore[arg-type]
    assert text.startswith(message), text
    assert SECRET not in text


def test_header_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://h.example.com")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", f"x-k=%E2%82%AC{SECRET}")
    text = config_error("otlp")
    assert text == (
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS: header 'x-k' has a non-ASCII value; percent-encode it"
    )


def test_grpc_metadata_size_is_counted_as_http2_does() -> None:
    assert grpc_metadata_size({"ab": "xyz", "c": ""}) == (2 + 3 + 32) + (1 + 0 + 32)
    assert GRPC_HEADERS_BUDGET == 8192 - 1024
    validate_headers({"x-k": "a" * (GRPC_HEADERS_BUDGET - 3 - 32)}, "grpc", "headers")
    with pytest.raises(ConfigError, match="take 7169 bytes"):
        validate_headers({"x-k": "a" * (GRPC_HEADERS_BUDGET - 3 - 31)}, "grpc", "headers")
    # HTTP has no such limit here (servers differ); what it cannot carry is checked
    validate_headers({"x-k": "a" * 20_000}, "http/protobuf", "headers")


def test_header_string_parsing() -> None:
    assert parse_headers("A=1, b = x%20y ,,c=", "h") == {"a": "1", "b": "x y", "c": ""}
    assert parse_headers({"X-Tenant": "v"}, "h") == {"x-tenant": "v"}
    with pytest.raises(ConfigError, match=r"^h: entry 2 is not 'key=value'"):
        parse_headers("a=1,b", "h")


# printable ASCII, as each protocol allows it in a value
GRPC_VALUE = "".join(chr(c) for c in range(0x21, 0x7F)) + " !"
HTTP_VALUE = "a\tb " + GRPC_VALUE


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_every_header_that_passes_setup_is_delivered(
    otlp_receiver: OtlpReceiver, handles: list, transport: str
) -> None:
    """Over the real wire: the widest names and values setup lets through, and headers
    filling gRPC's whole budget, arrive (they used to pass setup and fail every export,
    or now fail at setup)."""
    if transport == "grpc":
        endpoint, protocol, value = otlp_receiver.grpc_endpoint, "grpc", GRPC_VALUE
        name = "a-z_0.9"
    else:
        endpoint, protocol, value = otlp_receiver.http_endpoint, "http/protobuf", HTTP_VALUE
        name = "x!#$%&'*+-.^_`|~9"
    headers = {name: value}
    if transport == "grpc":  # fill the metadata budget to the byte
        rest = GRPC_HEADERS_BUDGET - grpc_metadata_size(headers) - len("x-fill") - 32
        headers["x-fill"] = "f" * rest
        assert grpc_metadata_size(headers) == GRPC_HEADERS_BUDGET
    h = setup_tracing(
        OTLP(endpoint=endpoint, protocol=protocol, headers=headers),  # type: ignore[arg-type]
        schedule_delay=0.05,
    )
    handles.append(h)
    emit_and_wait(otlp_receiver, h)
    request = next(r for r in otlp_receiver.requests if r.accepted)
    assert request.headers[name] == value
    if transport == "grpc":
        assert request.headers["x-fill"] == headers["x-fill"]


@pytest.mark.parametrize(
    ("headers", "protocol"),
    [({"x-k": "v€"}, "http/protobuf"), ({"X(k)": "v"}, "grpc"), ({"x-k": "a" * 20_000}, "grpc")],
)
def test_headers_that_used_to_lose_every_span_now_fail_at_setup(
    otlp_receiver: OtlpReceiver, headers: dict[str, str], protocol: str
) -> None:
    endpoint = otlp_receiver.grpc_endpoint if protocol == "grpc" else otlp_receiver.http_endpoint
    with pytest.raises(ConfigError, match=r"^headers: "):
        setup_tracing(OTLP(endpoint=endpoint, protocol=protocol, headers=headers))  # type: ignore[arg-type]
    assert otlp_receiver.requests == []


# --- duplicates ----------------------------------------------------------------------------


class _Counting(SpanExporter):
    def export(self, spans: object) -> SpanExportResult:
        return SpanExportResult.SUCCESS


@pytest.mark.parametrize(
    "backends",
    [
        ["jaeger", Jaeger()],
        [Jaeger(), OTLP()],  # both gRPC to localhost:4317, no headers
        [OTLP(endpoint="https://h.example.com/"), OTLP(endpoint="https://h.example.com")],
        [
            OTLP(endpoint="https://h.example.com", headers={"X-K": "v"}),
            OTLP(endpoint="https://h.example.com", headers="x-k=v"),
        ],
        ["console", Console()],
    ],
)
def test_duplicate_backends_are_rejected(backends: list) -> None:
    message = config_error(backends)
    assert message.startswith("backend: items 1 and 2 both export to ")
    assert message.endswith("(same kind, endpoint and headers); remove one")


def test_duplicate_files_and_exporters(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    assert "items 1 and 3" in config_error(
        [File(path=str(path)), "console", File(path=os.path.relpath(path))]
    )
    exporter = _Counting()
    assert "items 1 and 2" in config_error([exporter, exporter])


def test_similar_backends_are_not_duplicates() -> None:
    items = coerce_backends(
        [
            OTLP(endpoint="https://h.example.com", headers={"x-tenant": "a"}),
            OTLP(endpoint="https://h.example.com", headers={"x-tenant": "b"}),
            OTLP(endpoint="https://h.example.com", protocol="http/protobuf"),
            _Counting(),
            _Counting(),
            Langfuse(),  # no keys: not comparable here, reported when resolved
        ],
        {},
    )
    assert len(items) == 6


# --- redaction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h.example.com/v1/traces", "https://h.example.com/v1/traces"),
        ("https://user:pw@h.example.com:443/p", "https://***@h.example.com:443/p"),
        ("https://token@h.example.com", "https://***@h.example.com"),
        (
            "https://h.example.com/p?tenant=a&api_key=s&sig=t&X-Amz-Signature=u&code=v",
            "https://h.example.com/p?tenant=a&api_key=***&sig=***&X-Amz-Signature=***&code=***",
        ),
        ("https://h.example.com/?access_token=", "https://h.example.com/?access_token="),
        ("https://h.example.com/?naked&k=v", "https://h.example.com/?***&k=v"),
        ("https://h.example.com/#frag", "https://h.example.com/#***"),
        ("http://u:p@[::1", "http://***@[::1"),
        ("u:p@h.example.com:4317", "***@h.example.com:4317"),
        ("https://a@b@h.example.com/x@y", "https://***@h.example.com/x@y"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_secret_parameter_names() -> None:
    secret = ["api_key", "apikey", "API-KEY", "token", "access_token", "client_secret"]
    secret += ["signature", "sig", "password", "pwd", "pass", "auth", "Authorization"]
    secret += ["credential", "sessionid", "jwt", "x-amz-security-token", "code", "sas"]
    for name in secret:
        assert is_secret_name(name), name
    for name in ("tenant", "project", "region", "v", "dataset", "service", "passage"):
        assert not is_secret_name(name), name
    assert redact_query("a=1&token=x&&b") == "a=1&token=***&&***"


def test_secret_values_for_text_redaction() -> None:
    import base64

    basic = base64.b64encode(f"{PK}:{SK}".encode()).decode()
    assert header_secrets({"authorization": f"Basic {basic}", "x": "abc"}) == {
        f"Basic {basic}",
        basic,
        PK,
        SK,
    }
    assert url_secrets(f"https://al:{SECRET}@h/p?api_key=a%2Fbcd&t=tenant1") == {
        f"al:{SECRET}",
        SECRET,
        "a%2Fbcd",
        "a/bcd",
    }
    assert redact_text(f"x {SECRET} y {SECRET[:6]}", {SECRET, SECRET[:6]}) == "x *** y ***"


def test_reprs_and_describe_hide_credentials(otlp_receiver: OtlpReceiver, handles: list) -> None:
    endpoint = otlp_receiver.http_endpoint.replace("http://", f"http://alice:{SECRET}@")
    backend = OTLP(
        endpoint=f"{endpoint}/otlp?tenant=a&api_key={SECRET}",
        protocol="http/protobuf",
        headers={"x-api-key": SECRET},
    )
    h = setup_tracing(backend, schedule_delay=0.05)
    handles.append(h)
    [target] = h.targets
    port = otlp_receiver.http_port
    assert target.describe() == (
        f"otlp (http://***@127.0.0.1:{port}/otlp/v1/traces?tenant=a&api_key=***, http/protobuf)"
    )
    assert re.fullmatch(
        re.escape(
            "ExportTarget(label='otlp', kind='otlp', protocol='http/protobuf', endpoint="
            f"'http://***@127.0.0.1:{port}/otlp/v1/traces?tenant=a&api_key=***', "
            "headers=['x-api-key'], compression=None, timeout=None, insecure=True, "
            "url_credentials='"
        )
        + "[0-9a-f]{12}'\\)",
        repr(target),
    ), repr(target)
    for text in (repr(backend), repr(h), repr(h.targets), repr(h.exporters)):
        assert SECRET not in text, text
    # the exporter does get the real URL: the credentials reach the backend
    emit_and_wait(otlp_receiver, h)
    request = next(r for r in otlp_receiver.requests if r.accepted)
    assert request.query == f"tenant=a&api_key={SECRET}"
    assert request.headers["authorization"].startswith("Basic ")
    lf = Langfuse(public_key=PK, secret_key=SK, host=f"https://u:{SECRET}@lf.example.com")
    assert repr(lf) == "Langfuse(host='https://***@lf.example.com', public_key=***, secret_key=***)"
    assert ExportTarget("console", "console").describe() == "console (stdout)"
    assert ExportTarget("file", "file", path="t.jsonl").describe() == "file (t.jsonl)"


def test_config_errors_log_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        for backend in (
            OTLP(endpoint=f"http://u:{SECRET}@collector.example.com?api_key={SECRET}"),
            OTLP(endpoint="https://h.example.com", headers={"x-k": f"{SECRET}\n"}),
            [OTLP(endpoint=f"https://h.example.com/?key={SECRET}")] * 2,
        ):
            assert SECRET not in config_error(backend)
    assert SECRET not in caplog.text


def test_loopback_hosts() -> None:
    for url in ("http://localhost:4317", "http://127.0.0.2", "http://[::1]:4318/v1/traces"):
        assert is_loopback(url), url
    for url in ("http://localhost.example.com", "http://10.0.0.1", "http://h"):
        assert not is_loopback(url), url


def test_targets_that_differ_only_in_a_hidden_credential_have_different_reprs(
    handles: list,
) -> None:
    def target(key: str) -> ExportTarget:
        return OTLP(endpoint=f"https://h.example.com/?api_key={key}", protocol="http/protobuf")

    a, a2, b = (target(k).resolve({}) for k in ("key-one", "key-one", "key-two"))
    assert repr(a) == repr(a2) != repr(b)
    assert "key-one" not in repr(a)  # a fingerprint, not the key
    plain = OTLP(endpoint="https://h.example.com/?tenant=a", protocol="http/protobuf")
    assert "url_credentials" not in repr(plain.resolve({}))
    # a reused worker that gets a new key builds a new pipeline, not the old one
    first = setup_tracing(target("key-one"))
    handles.append(first)
    second = setup_tracing(target("key-two"))
    handles.append(second)
    assert second is not first
    assert setup_tracing(target("key-two")) is second


def test_fingerprint_is_keyed_and_stable() -> None:
    from lk_otel.configure.redaction import fingerprint

    assert fingerprint(["a", "b"]) == fingerprint(["b", "a"]) != fingerprint(["ab"])
    assert len(fingerprint([SECRET])) == 12 and SECRET not in fingerprint([SECRET])
