"""``lk-otel check`` against the in-process receiver made to answer each failure."""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Iterator

import grpc
import pytest

from lk_otel import OTLP
from lk_otel.cli.main import main
from lk_otel.configure.backends import Backend, ExportTarget
from lk_otel.export.check import CHECK_SPAN_NAME, check_backends
from support.otlp_receiver import OtlpReceiver

pytest_plugins = ["support.receiver_fixtures"]

PK, SK = "pk-lf-check-1234", "sk-lf-check-secret-5678"
TOKEN = "s3cr3t-bearer-token"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in list(os.environ):
        if var.startswith(("OTEL_", "LANGFUSE_")):
            monkeypatch.delenv(var)
    yield


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, float]:
    """Run ``lk-otel check ARGV``: exit code, everything printed, seconds taken."""
    capsys.readouterr()
    started = time.monotonic()
    code = main(["check", *argv])
    elapsed = time.monotonic() - started
    out = capsys.readouterr()
    return code, out.out + out.err, elapsed


def use_otlp(monkeypatch: pytest.MonkeyPatch, endpoint: str, protocol: str = "grpc") -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)


def use_langfuse(monkeypatch: pytest.MonkeyPatch, receiver: OtlpReceiver) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", PK)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SK)
    monkeypatch.setenv("LANGFUSE_HOST", receiver.http_endpoint)


def endpoint_of(receiver: OtlpReceiver, transport: str) -> tuple[str, str]:
    if transport == "grpc":
        return receiver.grpc_endpoint, "grpc"
    return receiver.http_endpoint, "http/protobuf"


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_ok_sends_one_check_span_with_the_setup_tracing_resource(
    otlp_receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    transport: str,
) -> None:
    use_otlp(monkeypatch, *endpoint_of(otlp_receiver, transport))
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checked-agent")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging")
    code, out, _ = check(capsys)
    assert code == 0, out
    assert re.search(r"^OK +otlp .*round trip [\d.]+ ms$", out, re.M), out
    assert "all 1 backend(s) OK" in out
    [span] = otlp_receiver.spans()
    assert span.name == CHECK_SPAN_NAME
    assert span.transport == transport
    assert span.trace_id in out  # the user can look the trace up in the backend
    assert span.resource["service.name"] == "checked-agent"
    assert span.resource["deployment.environment"] == "staging"
    assert span.resource["telemetry.distro.name"] == "lk_otel"


def test_langfuse_ok_then_401_names_the_langfuse_variables_and_hides_the_keys(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_langfuse(monkeypatch, otlp_receiver)
    code, out, _ = check(capsys)
    assert code == 0, out
    assert otlp_receiver.requests[0].path == "/api/public/otel/v1/traces"

    otlp_receiver.fail_with(401)
    code, out, _ = check(capsys)
    assert code == 1
    assert "FAIL  langfuse" in out
    assert "rejected the credentials (HTTP 401)" in out
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_HOST"):
        assert name in out
    token = base64.b64encode(f"{PK}:{SK}".encode()).decode()
    assert otlp_receiver.requests[-1].headers["authorization"] == f"Basic {token}"  # really sent
    for secret in (PK, SK, token, "Basic"):
        assert secret not in out


def test_grpc_unauthenticated_is_named(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_otlp(monkeypatch, otlp_receiver.grpc_endpoint)
    otlp_receiver.fail_with(grpc_code=grpc.StatusCode.UNAUTHENTICATED)
    code, out, _ = check(capsys)
    assert code == 1
    assert "rejected the credentials (UNAUTHENTICATED); check the headers" in out


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_connection_refused_is_reported_without_waiting_for_retries(
    otlp_receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    transport: str,
) -> None:
    use_otlp(monkeypatch, *endpoint_of(otlp_receiver, transport))
    otlp_receiver.down()
    code, out, elapsed = check(capsys, "--timeout", "10")
    assert code == 1
    assert "connection refused" in out
    assert elapsed < 3, f"took {elapsed:.1f} s: waited for the exporter's retries"


def test_http_wrong_path_is_404(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    url = otlp_receiver.http_url("/otlp/wrong")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    code, out, _ = check(capsys)
    assert code == 1
    assert otlp_receiver.requests[0].status == "404"
    assert "the endpoint path does not exist (HTTP 404)" in out
    assert "/otlp/wrong" in out  # says where it sent


def test_grpc_unimplemented_is_reported_as_wrong_path(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_otlp(monkeypatch, otlp_receiver.grpc_endpoint)
    otlp_receiver.fail_with(404)
    code, out, _ = check(capsys)
    assert code == 1
    assert "the endpoint path does not exist (gRPC UNIMPLEMENTED)" in out


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_stalled_backend_times_out_within_the_bound(
    otlp_receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    transport: str,
) -> None:
    use_otlp(monkeypatch, *endpoint_of(otlp_receiver, transport))
    otlp_receiver.stall()
    code, out, elapsed = check(capsys, "--timeout", "1")
    assert code == 1
    assert "timeout" in out
    assert 0.9 <= elapsed < 3, f"took {elapsed:.2f} s"
    assert otlp_receiver.request_count() == 1  # it did reach the receiver


def test_stalled_backends_are_checked_in_parallel(otlp_receiver: OtlpReceiver) -> None:
    otlp_receiver.stall()
    started = time.monotonic()
    results = check_backends(
        [
            OTLP(endpoint=otlp_receiver.grpc_endpoint),
            OTLP(endpoint=otlp_receiver.http_endpoint, protocol="http/protobuf"),
        ],
        timeout=1,
    )
    assert time.monotonic() - started < 2.5
    assert [r.kind for r in results] == ["timeout", "timeout"]
    assert not any(r.ok for r in results)


def test_backend_answering_503_is_not_called_a_timeout(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_otlp(monkeypatch, otlp_receiver.http_endpoint, "http/protobuf")
    otlp_receiver.fail_with(503)
    code, out, elapsed = check(capsys, "--timeout", "2.5")
    assert code == 1
    assert "kept answering 'Service Unavailable'" in out
    assert elapsed < 3.5


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_https_to_a_plain_port_is_a_tls_failure(
    otlp_receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    transport: str,
) -> None:
    protocol = "grpc" if transport == "grpc" else "http/protobuf"
    use_otlp(monkeypatch, f"https://127.0.0.1:{otlp_receiver.http_port}", protocol)
    code, out, elapsed = check(capsys)
    assert code == 1
    assert "the TLS handshake failed" in out
    assert elapsed < 3


def test_exit_codes_and_per_backend_lines(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_otlp(monkeypatch, otlp_receiver.grpc_endpoint)
    assert check(capsys, "--backend", "otlp")[0] == 0

    # one OK, one misconfigured (no Langfuse keys), one unknown name: 1, every one reported
    code, out, _ = check(capsys, "--backend", "otlp,langfuse", "--backend", "zipkin")
    assert code == 1
    assert re.search(r"^OK +otlp ", out, re.M)
    assert "FAIL  langfuse\n      langfuse: missing public_key" in out
    assert "LANGFUSE_PUBLIC_KEY" in out
    assert "FAIL  zipkin\n      backend: unknown name 'zipkin'" in out
    assert "2 of 3 backend(s) failed" in out

    with pytest.raises(SystemExit) as exc:
        main(["check", "--timeout", "0"])
    assert exc.value.code == 2


def test_secrets_in_headers_and_url_never_printed(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    endpoint = otlp_receiver.http_endpoint.replace("http://", "http://alice:url-passw0rd@")
    use_otlp(monkeypatch, endpoint + "/v1/traces?api_key=query-s3cret", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"x-auth-token=Bearer%20{TOKEN},x-k=k3y-v4l")
    otlp_receiver.fail_with(403)
    code, out, _ = check(capsys)
    assert code == 1
    assert "rejected the credentials (HTTP 403); check the headers" in out
    assert otlp_receiver.requests[0].headers["x-k"] == "k3y-v4l"  # the headers were sent
    for secret in (TOKEN, "k3y-v4l", "url-passw0rd", "alice", "query-s3cret"):
        assert secret not in out
    assert f"http://127.0.0.1:{otlp_receiver.http_port}/v1/traces (http/protobuf)" in out


def test_python_api_result_fields(otlp_receiver: OtlpReceiver) -> None:
    results = check_backends(
        [OTLP(endpoint=otlp_receiver.grpc_endpoint), "console"], timeout=2, env={}
    )
    ok, console = results
    assert (ok.backend, ok.ok, ok.kind, ok.cause) == ("otlp", True, "ok", None)
    assert ok.seconds is not None and 0 < ok.seconds < 2
    assert ok.destination == f"{otlp_receiver.grpc_endpoint} (grpc)"
    assert ok.trace_id == otlp_receiver.spans()[0].trace_id
    assert (console.backend, console.ok, console.destination) == ("console", True, "stdout")


def test_default_backend_is_the_one_setup_tracing_would_use() -> None:
    [result] = check_backends(None, timeout=1, env={})
    assert (result.backend, result.destination) == ("otlp", "http://localhost:4317 (grpc)")


# --- what the backend said (issue 10) -----------------------------------------------------

MLFLOW_404 = (
    '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No Experiment with id=999 exists"}'
)
FASTAPI_422 = (
    '{"detail":[{"type":"missing","loc":["header","x-project-id"],"msg":"Field required",'
    '"input":null}]}'
)


def use_http(monkeypatch: pytest.MonkeyPatch, receiver: OtlpReceiver, headers: str = "") -> None:
    use_otlp(monkeypatch, receiver.http_endpoint, "http/protobuf")
    if headers:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", headers)


def test_404_about_a_named_resource_is_not_called_a_wrong_path(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_http(monkeypatch, otlp_receiver, "x-mlflow-experiment-id=999")
    otlp_receiver.fail_with(404, body=MLFLOW_404, content_type="application/json")
    code, out, _ = check(capsys)
    assert code == 1
    assert "the endpoint path does not exist" not in out
    assert (
        "the endpoint exists but the backend did not find something the request names "
        "(HTTP 404): check header x-mlflow-experiment-id — the backend said: "
        '"No Experiment with id=999 exists"'
    ) in out


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("404 page not found", "text/plain"),
        ('{"detail":"Not Found"}', "application/json"),
        ("<html><head><title>404 Not Found</title></head><body>nginx</body></html>", "text/html"),
        ("Cannot POST /v1/traces", "text/html; charset=utf-8"),
        ("", "text/plain"),
    ],
)
def test_404_of_a_plain_router_is_a_wrong_path(
    otlp_receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    body: str,
    content_type: str,
) -> None:
    use_http(monkeypatch, otlp_receiver)
    otlp_receiver.fail_with(404, body=body, content_type=content_type)
    code, out, _ = check(capsys)
    assert code == 1
    assert "the endpoint path does not exist (HTTP 404): check the endpoint URL and protocol" in out


def test_422_naming_a_missing_header_says_so(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_http(monkeypatch, otlp_receiver)
    otlp_receiver.fail_with(422, body=FASTAPI_422, content_type="application/json")
    code, out, _ = check(capsys)
    assert code == 1
    assert (
        "the backend says header 'x-project-id' is missing (HTTP 422): add it (headers= or "
        'OTEL_EXPORTER_OTLP_HEADERS) — the backend said: "header x-project-id: Field required"'
    ) in out


def test_error_body_is_bounded_and_redacted(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_http(monkeypatch, otlp_receiver, f"x-api-key={TOKEN}")
    body = f"invalid api key {TOKEN} for this project. " + "x" * 10_000
    otlp_receiver.fail_with(400, body=body)
    code, out, _ = check(capsys)
    assert code == 1
    assert TOKEN not in out
    [line] = [ln for ln in out.splitlines() if "the backend said" in ln]
    said = line.split("the backend said: ", 1)[1]
    assert said.startswith('"invalid api key *** for this project. xxx')
    assert said.endswith('…"') and len(said) == 200 + 2  # cut after redaction
    assert "the backend rejected the request (HTTP 400)" in line


def test_protobuf_status_body_and_server_errors(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_http(monkeypatch, otlp_receiver)
    otlp_receiver.fail_with(500, message="storage backend is read-only")
    code, out, _ = check(capsys)
    assert code == 1
    assert 'the backend failed (HTTP 500) — the backend said: "storage backend is read-only"' in out


def test_redirect_names_the_target(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_http(monkeypatch, otlp_receiver)
    otlp_receiver.fail_with(308)
    code, out, _ = check(capsys)
    assert code == 1
    assert "the endpoint redirects (HTTP 308) to /v1/traces: use that URL" in out


def test_grpc_status_details_are_shown(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_otlp(monkeypatch, otlp_receiver.grpc_endpoint)
    otlp_receiver.fail_with(
        grpc_code=grpc.StatusCode.INVALID_ARGUMENT, message="tenant 'voice' has no traces quota"
    )
    code, out, _ = check(capsys)
    assert code == 1
    assert (
        "the backend rejected the request (gRPC INVALID_ARGUMENT) — the backend said: "
        "\"tenant 'voice' has no traces quota\""
    ) in out
    otlp_receiver.fail_with(grpc_code=grpc.StatusCode.UNAUTHENTICATED, message="bad api key")
    code, out, _ = check(capsys)
    assert (
        "rejected the credentials (UNAUTHENTICATED); check the headers — the backend said: "
        '"bad api key"'
    ) in out


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_connection_refused_names_protocol_and_port(
    otlp_receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    transport: str,
) -> None:
    endpoint, protocol = endpoint_of(otlp_receiver, transport)
    use_otlp(monkeypatch, endpoint, protocol)
    otlp_receiver.down()
    code, out, _ = check(capsys)
    port = otlp_receiver.grpc_port if transport == "grpc" else otlp_receiver.http_port
    tried = "OTLP/gRPC" if transport == "grpc" else "OTLP/HTTP"
    assert code == 1
    assert (
        f"connection refused by 127.0.0.1:{port} (tried {tried}): is the backend running and "
        "reachable?"
    ) in out
    assert "set protocol" not in out  # a port of no known use: no guess


# nothing listens on 127.0.0.3 (loopback, but not the address any server here binds)
@pytest.mark.parametrize(
    ("endpoint", "protocol", "hint"),
    [
        ("http://127.0.0.3:4318", "grpc", "Port 4318 is the OTLP/HTTP port"),
        ("http://127.0.0.3:6006", "grpc", "Port 6006 is Arize Phoenix's OTLP/HTTP port"),
        ("http://127.0.0.3:4317", "http/protobuf", "Port 4317 is the OTLP/gRPC port"),
    ],
)
def test_refused_on_a_port_of_the_other_protocol_suggests_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    endpoint: str,
    protocol: str,
    hint: str,
) -> None:
    use_otlp(monkeypatch, endpoint, protocol)
    code, out, elapsed = check(capsys, "--timeout", "10")
    other = "http/protobuf" if protocol == "grpc" else "grpc"
    assert code == 1
    assert "connection refused by 127.0.0.3:" in out
    assert (
        f"{hint}: if that is what listens there, set protocol {other} "
        f"(OTEL_EXPORTER_OTLP_PROTOCOL={other})"
    ) in out
    assert elapsed < 3


def test_grpc_to_an_http_server_and_http_to_a_grpc_server(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_otlp(monkeypatch, f"http://127.0.0.1:{otlp_receiver.http_port}", "grpc")
    code, out, elapsed = check(capsys, "--timeout", "10")
    assert code == 1 and elapsed < 3
    assert (
        f"127.0.0.1:{otlp_receiver.http_port} answered in HTTP/1.1, not gRPC: it is likely an "
        "OTLP/HTTP endpoint; set protocol http/protobuf"
    ) in out
    use_otlp(monkeypatch, f"http://127.0.0.1:{otlp_receiver.grpc_port}", "http/protobuf")
    code, out, elapsed = check(capsys, "--timeout", "10")
    assert code == 1 and elapsed < 3
    assert (
        f"127.0.0.1:{otlp_receiver.grpc_port} did not answer in HTTP/1.1 (an OTLP/gRPC port?): "
        "set protocol grpc"
    ) in out


def test_a_header_grpc_cannot_send_is_a_config_error_not_a_backend_answer(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    use_otlp(monkeypatch, otlp_receiver.grpc_endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-k=caf%C3%A9")
    code, out, _ = check(capsys)
    assert code == 1
    assert "FAIL  otlp\n      OTEL_EXPORTER_OTLP_HEADERS: header 'x-k' has a non-ASCII value" in out
    assert "INTERNAL" not in out
    assert otlp_receiver.requests == []


class _Unchecked(Backend):
    """A backend whose target skips lk_otel's header validation: what gRPC itself does."""

    name = "unchecked"

    def __init__(self, endpoint: str, headers: dict[str, str]) -> None:
        self.endpoint, self.headers = endpoint, headers

    def resolve(self, env: object, signal: str = "traces") -> ExportTarget:
        return ExportTarget("unchecked", "otlp", "grpc", self.endpoint, self.headers, insecure=True)


def test_client_side_grpc_failure_is_not_blamed_on_the_backend(
    otlp_receiver: OtlpReceiver,
) -> None:
    [result] = check_backends(
        [_Unchecked(otlp_receiver.grpc_endpoint, {"x-k": "café"})], timeout=2, env={}
    )
    assert result.kind == "client"
    assert result.cause == (
        "the gRPC client could not send the request (Invalid metadata): nothing reached the "
        "backend; check the headers (gRPC metadata: lower-case ASCII names, printable ASCII "
        "values)"
    )
    assert otlp_receiver.requests == []
