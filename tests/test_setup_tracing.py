"""setup_tracing() over a real OTLP wire: every backend, env and argument, bad config."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator

import pytest
from livekit.agents.telemetry import tracer as lk_tracer

import lk_otel
from lk_otel import ConfigError, Jaeger, Langfuse, setup_tracing
from support.otlp_receiver import OtlpReceiver

pytest_plugins = ["support.receiver_fixtures"]
OTEL_VARS = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_SDK_DISABLED",
    "LANGFUSE_PUBLIC_KEY",
    "LANGFUSE_SECRET_KEY",
    "LANGFUSE_HOST",
    "LANGFUSE_BASE_URL",
]
PK, SK = "pk-lf-test-1234", "sk-lf-secret-5678"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in OTEL_VARS:
        monkeypatch.delenv(var, raising=False)
    yield


@pytest.fixture
def handles() -> Iterator[list[lk_otel.TracingHandle]]:
    made: list[lk_otel.TracingHandle] = []
    yield made
    for h in made:
        h.shutdown(2)


def emit_call(name: str = "agent_session") -> set[str]:
    """Spans through livekit's own tracer, as the framework would; returns their span ids."""
    ids = set()
    with lk_tracer.start_as_current_span(name) as root:
        ids.add(f"{root.get_span_context().span_id:016x}")
        with lk_tracer.start_as_current_span("llm_node") as child:
            ids.add(f"{child.get_span_context().span_id:016x}")
    return ids


def start(
    handles: list[lk_otel.TracingHandle], *args: object, **kwargs: object
) -> lk_otel.TracingHandle:
    h = setup_tracing(*args, schedule_delay=0.05, **kwargs)  # type: ignore[arg-type]
    handles.append(h)
    return h


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def delivered(receiver: OtlpReceiver, ids: set[str]) -> list:
    wait_until(lambda: ids <= {s.span_id for s in receiver.spans()})
    return [s for s in receiver.spans() if s.span_id in ids]


def test_langfuse_http_basic_auth_and_ingestion_header(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, handles: list
) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PK)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SK)
    monkeypatch.setenv("LANGFUSE_HOST", otlp_receiver.http_endpoint)
    h = start(handles, "langfuse")
    ids = emit_call()
    h.force_flush(5)
    spans = delivered(otlp_receiver, ids)
    assert {s.name for s in spans} == {"agent_session", "llm_node"}
    req = next(r for r in otlp_receiver.requests if r.accepted)
    assert req.transport == "http"
    assert req.path == "/api/public/otel/v1/traces"
    token = base64.b64encode(f"{PK}:{SK}".encode()).decode()
    assert req.headers["authorization"] == f"Basic {token}"
    assert req.headers["x-langfuse-ingestion-version"] == "4"
    assert req.compression == "gzip"


def test_langfuse_base_url_and_arguments_win_over_env(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, handles: list
) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-from-env")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-from-env")
    monkeypatch.setenv("LANGFUSE_BASE_URL", otlp_receiver.http_endpoint)
    h = start(handles, Langfuse(public_key=PK, secret_key=SK))
    delivered(otlp_receiver, emit_call()) if h.force_flush(5) else None
    req = next(r for r in otlp_receiver.requests if r.accepted)
    assert (
        req.headers["authorization"] == "Basic " + base64.b64encode(f"{PK}:{SK}".encode()).decode()
    )


def test_langfuse_rejects_grpc_and_missing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="HTTP only"):
        setup_tracing(Langfuse(public_key=PK, secret_key=SK, protocol="grpc"))
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PK)
    with pytest.raises(ConfigError, match="LANGFUSE_SECRET_KEY") as err:
        setup_tracing("langfuse")
    assert PK not in str(err.value)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_jaeger_both_protocols(otlp_receiver: OtlpReceiver, handles: list, protocol: str) -> None:
    endpoint = otlp_receiver.grpc_endpoint if protocol == "grpc" else otlp_receiver.http_endpoint
    h = start(handles, Jaeger(endpoint=endpoint, protocol=protocol, headers="x-tenant=voice"))  # type: ignore[arg-type]
    ids = emit_call()
    h.force_flush(5)
    spans = delivered(otlp_receiver, ids)
    assert {s.transport for s in spans} == {"grpc" if protocol == "grpc" else "http"}
    req = next(r for r in otlp_receiver.requests if r.accepted)
    assert req.headers["x-tenant"] == "voice"
    if protocol != "grpc":
        assert req.path == "/v1/traces"


def test_jaeger_defaults_to_local_grpc() -> None:
    target = Jaeger().resolve({})
    assert (target.protocol, target.endpoint) == ("grpc", "http://localhost:4317")
    http = Jaeger(protocol="http/protobuf").resolve({})
    assert http.endpoint == "http://localhost:4318/v1/traces"


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_otlp_from_environment(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, handles: list, protocol: str
) -> None:
    endpoint = otlp_receiver.grpc_endpoint if protocol == "grpc" else otlp_receiver.http_endpoint
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=abc%20def,x-team=voice")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "env-agent")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "team=voice,region=eu")
    h = start(handles)  # no backend argument: picked from the environment
    assert [t.label for t in h.targets] == ["otlp"]
    spans = delivered(otlp_receiver, emit_call()) if h.force_flush(5) else []
    req = next(r for r in otlp_receiver.requests if r.accepted)
    assert req.headers["x-api-key"] == "abc def"
    assert req.headers["x-team"] == "voice"
    assert req.compression == "gzip"
    assert req.transport == ("grpc" if protocol == "grpc" else "http")
    if protocol != "grpc":
        assert req.path == "/v1/traces"
    resource = spans[0].resource
    assert resource["service.name"] == "env-agent"
    assert (resource["team"], resource["region"]) == ("voice", "eu")


def test_otlp_arguments_override_environment(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, handles: list
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-from=env")
    h = start(
        handles,
        lk_otel.OTLP(
            endpoint=otlp_receiver.http_endpoint,
            protocol="http/protobuf",
            headers={"x-from": "arg"},
            compression="none",
        ),
        service_name="arg-agent",
        service_version="1.2.3",
        environment="staging",
    )
    spans = delivered(otlp_receiver, emit_call()) if h.force_flush(5) else []
    req = next(r for r in otlp_receiver.requests if r.accepted)
    assert (req.transport, req.path, req.headers["x-from"], req.compression) == (
        "http",
        "/v1/traces",
        "arg",
        None,
    )
    assert spans[0].resource["service.name"] == "arg-agent"
    assert spans[0].resource["service.version"] == "1.2.3"
    assert spans[0].resource["deployment.environment.name"] == "staging"


def test_traces_endpoint_is_used_as_given(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, handles: list
) -> None:
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", otlp_receiver.http_url("/custom/v1/traces")
    )
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    h = start(handles, "otlp")
    delivered(otlp_receiver, emit_call()) if h.force_flush(5) else None
    assert next(r for r in otlp_receiver.requests if r.accepted).path == "/custom/v1/traces"


def test_two_backends_both_receive_every_span(otlp_receiver: OtlpReceiver, handles: list) -> None:
    h = start(
        handles,
        [
            Langfuse(public_key=PK, secret_key=SK, host=otlp_receiver.http_endpoint),
            Jaeger(endpoint=otlp_receiver.grpc_endpoint),
        ],
    )
    ids = emit_call() | emit_call()
    h.force_flush(5)
    wait_until(lambda: len([x for x in otlp_receiver.spans() if x.span_id in ids]) >= 2 * len(ids))
    by_transport: dict[str, set[str]] = {"grpc": set(), "http": set()}
    for s in otlp_receiver.spans():
        if s.span_id in ids:
            by_transport[s.transport].add(s.span_id)
    assert by_transport == {"grpc": ids, "http": ids}


def test_console_and_file_backends(tmp_path, capsys: pytest.CaptureFixture, handles: list) -> None:
    path = tmp_path / "trace.jsonl"
    h = start(handles, ["console", lk_otel.File(path=str(path))])
    ids = emit_call()
    h.force_flush(5)
    out = capsys.readouterr().out
    assert "agent_session" in out and "llm_node" in out
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    found = {
        span["spanId"]
        for req in lines
        for rs in req["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    }
    assert ids <= found


def test_second_setup_does_not_double_export(otlp_receiver: OtlpReceiver, handles: list) -> None:
    first = start(handles, Jaeger(endpoint=otlp_receiver.grpc_endpoint))
    second = start(handles, Jaeger(endpoint=otlp_receiver.grpc_endpoint))
    assert second is first
    ids = emit_call()
    first.force_flush(5)
    delivered(otlp_receiver, ids)
    received = [s.span_id for s in otlp_receiver.spans() if s.span_id in ids]
    assert sorted(received) == sorted(ids)


def test_new_configuration_replaces_the_old_one(otlp_receiver: OtlpReceiver, handles: list) -> None:
    first = start(handles, Jaeger(endpoint=otlp_receiver.grpc_endpoint))
    second = start(handles, Jaeger(endpoint=otlp_receiver.http_endpoint, protocol="http/protobuf"))
    assert second is not first
    ids = emit_call()
    second.force_flush(5)
    spans = delivered(otlp_receiver, ids)
    assert {s.transport for s in spans} == {"http"}


def test_nothing_configured_logs_one_line_and_targets_localhost(caplog, handles: list) -> None:
    with caplog.at_level(logging.INFO, logger="lk_otel"):
        h = start(handles)
    assert [(t.protocol, t.endpoint) for t in h.targets] == [("grpc", "http://localhost:4317")]
    assert len([r for r in caplog.records if "no backend configured" in r.getMessage()]) == 1


def test_sdk_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    h = setup_tracing("jaeger")
    assert not h.enabled and h.force_flush() and h.shutdown()


def test_sampling(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, handles: list
) -> None:
    h = start(handles, Jaeger(endpoint=otlp_receiver.grpc_endpoint), sample_rate=0.0)
    emit_call()
    h.force_flush(5)
    assert otlp_receiver.spans() == []
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "1.0")
    h2 = start(handles, Jaeger(endpoint=otlp_receiver.grpc_endpoint))
    delivered(otlp_receiver, emit_call()) if h2.force_flush(5) else None


@pytest.mark.parametrize(
    ("backend", "env", "named"),
    [
        ("zipkin", {}, "backend"),
        (lk_otel.OTLP(endpoint="localhost:4317"), {}, "endpoint"),
        (lk_otel.OTLP(endpoint="ftp://x"), {}, "endpoint"),
        (lk_otel.OTLP(protocol="http/json"), {}, "protocol"),  # type: ignore[arg-type]
        (lk_otel.OTLP(compression="brotli"), {}, "compression"),
        (lk_otel.OTLP(timeout=-1), {}, "timeout"),
        (lk_otel.OTLP(endpoint="http://collector.example.com:4317"), {}, "insecure"),
        ("otlp", {"OTEL_EXPORTER_OTLP_ENDPOINT": "not a url"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ("otlp", {"OTEL_EXPORTER_OTLP_HEADERS": "api-key"}, "OTEL_EXPORTER_OTLP_HEADERS"),
        ("otlp", {"OTEL_EXPORTER_OTLP_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ("otlp", {"OTEL_EXPORTER_OTLP_TIMEOUT": "soon"}, "OTEL_EXPORTER_OTLP_TIMEOUT"),
        ("otlp", {"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        (
            "otlp",
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
            "OTEL_TRACES_SAMPLER_ARG",
        ),
        ("otlp", {"OTEL_RESOURCE_ATTRIBUTES": "team"}, "OTEL_RESOURCE_ATTRIBUTES"),
        (
            "langfuse",
            {
                "LANGFUSE_PUBLIC_KEY": PK,
                "LANGFUSE_SECRET_KEY": SK,
                "LANGFUSE_HOST": "http://langfuse.example.com",
            },
            "https",
        ),
        ([], {}, "backend"),
    ],
)
def test_bad_configuration_names_the_culprit(
    monkeypatch: pytest.MonkeyPatch, backend: object, env: dict[str, str], named: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        setup_tracing(backend)  # type: ignore[arg-type]
    assert named in str(err.value)
    assert SK not in str(err.value) and PK not in str(err.value)


def test_secrets_stay_out_of_reprs_and_logs(
    otlp_receiver: OtlpReceiver, caplog, handles: list
) -> None:
    backend = Langfuse(public_key=PK, secret_key=SK, host=otlp_receiver.http_endpoint)
    with caplog.at_level(logging.DEBUG):
        h = start(handles, backend, metadata={"team": "voice"})
        emit_call()
        h.force_flush(5)
    token = base64.b64encode(f"{PK}:{SK}".encode()).decode()
    texts = [repr(backend), repr(h), repr(h.targets), repr(h.exporters), caplog.text]
    for text in texts:
        assert SK not in text and token not in text
    spans = delivered(otlp_receiver, set()) or otlp_receiver.spans()
    for s in spans:
        assert SK not in json.dumps(s.attributes) + json.dumps(s.resource)
