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
from lk_otel.export.check import CHECK_SPAN_NAME, check_backends
from lk_otel.export.diagnostics import classify
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


# exporter log lines as the official exporters write them (copied from real runs)
GRPC_AUTH = (
    "Failed to export traces to 127.0.0.1:33257, error code: StatusCode.UNAUTHENTICATED, "
    "error details: bad key"
)
GRPC_DNS = (
    "Failed to export traces to nonexistent.invalid:4317, error code: StatusCode.UNAVAILABLE, "
    "error details: errors resolving nonexistent.invalid:4317: [field:hostname lookup error:"
    "address lookup failed for nonexistent.invalid:4317: Domain name not found]"
)
HTTP_DNS = (
    "Transient error HTTPSConnectionPool(host='nonexistent.invalid', port=4318): Max retries "
    'exceeded with url: /v1/traces (Caused by NameResolutionError("HTTPSConnection(host='
    "'nonexistent.invalid', port=4318): Failed to resolve 'nonexistent.invalid' ([Errno -2] "
    'Name or service not known")) encountered while exporting spans batch, retrying in 0.9s.'
)
HTTP_503 = "Transient error Service Unavailable encountered while exporting spans batch, retry"
HTTP_GAVE_UP = "Failed to export spans batch due to timeout, max retries or shutdown."


@pytest.mark.parametrize(
    ("messages", "kind", "words"),
    [
        ([GRPC_AUTH], "auth", "(UNAUTHENTICATED)"),
        ([GRPC_DNS], "dns", "does not resolve"),
        ([HTTP_DNS, HTTP_GAVE_UP], "dns", "does not resolve"),
        ([HTTP_503, HTTP_GAVE_UP], "unavailable", "'Service Unavailable'"),
        ([HTTP_GAVE_UP], "timeout", "did not answer in time"),
    ],
)
def test_classify_real_exporter_messages(messages: list[str], kind: str, words: str) -> None:
    cause = classify(messages)
    assert cause.kind == kind
    assert words in cause.text


def test_secret_values_found_for_redaction() -> None:
    from lk_otel import Langfuse
    from lk_otel.export.check import _secrets

    target = Langfuse(public_key=PK, secret_key=SK, host="https://lf.example.com").resolve({})
    assert {PK, SK} <= _secrets(target)
    bearer = OTLP(endpoint="https://x.example.com", headers={"authorization": f"Bearer {TOKEN}"})
    assert TOKEN in _secrets(bearer.resolve({}))
