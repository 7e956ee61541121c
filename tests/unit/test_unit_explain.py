"""explain: the plain-words cause of a failed check export, from exact values.

No server, no receiver, no thread: exporter log lines, HTTP answers and targets built by hand.
"""

from __future__ import annotations

import pytest
from google.rpc.status_pb2 import Status

from lk_otel import OTLP, Langfuse
from lk_otel.configure.backends import ExportTarget
from lk_otel.export.diagnostics import Cause, classify
from lk_otel.export.explain import (
    HttpAnswer,
    body_summary,
    bounded,
    explain,
    grpc_cause,
    grpc_status,
    http_cause,
    is_route_not_found,
    missing_header,
    refused_cause,
    related_headers,
    target_secrets,
)

PK, SK = "pk-lf-check-1234", "sk-lf-check-secret-5678"
TOKEN = "s3cr3t-bearer-token"


def status_body(message: str) -> bytes:
    """A ``google.rpc.Status`` error body, as OTLP backends send it."""
    return Status(code=3, message=message).SerializeToString()


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
    langfuse = Langfuse(public_key=PK, secret_key=SK, host="https://lf.example.com").resolve({})
    assert {PK, SK} <= target_secrets(langfuse)
    bearer = OTLP(endpoint="https://x.example.com", headers={"authorization": f"Bearer {TOKEN}"})
    assert TOKEN in target_secrets(bearer.resolve({}))


@pytest.mark.parametrize(
    ("content_type", "body", "summary"),
    [
        ("application/json", b'{"error": {"message": "quota exceeded"}}', "quota exceeded"),
        ("application/json", b'{"errors": ["a", {"msg": "b"}]}', "a; b"),
        ("application/json", b'{"code": 7}', '{"code": 7}'),
        ("application/json", b"not json", "not json"),
        ("text/html", b"<html><body><h1>Bad\n gateway</h1></body></html>", "Bad gateway"),
        ("text/html", b"<title>  </title><p>x</p><script>var a</script>", "x"),
        ("application/x-protobuf", b"\xff\xff", ""),
        ("", b'  {"message": "m"}', "m"),
        ("text/plain", b"line 1\n\tline\x002", "line 1 line 2"),
        ("application/x-protobuf", status_body("proto says"), "proto says"),
        ("application/grpc", status_body("grpc says"), "grpc says"),
        ("application/json", b'"a json string"', "a json string"),
        ('text/plain; profile="json"', b'"quoted"', '"quoted"'),
        ("text/plain", b'"q"', '"q"'),
        ("", b'["from", "a list"]', "from; a list"),
        ("text/plain", b"a\xffb", "a\ufffdb"),
        ("text/plain", b"a <b> c", "a <b> c"),
        ("text/html", b"Bad <b>gateway</b>", "Bad gateway"),
        ("", b"  <p>x</p>", "x"),
        ("", b"plain <i>", "plain <i>"),
        ("application/json", b'{"message": null}', '{"message": null}'),
        ("application/json", b'{"message": 7}', "7"),
        ("application/json", b'{"error_description": "ed"}', "ed"),
        ("application/json", b'{"detail": "d"}', "d"),
        ("application/json", b'{"title": "t"}', "t"),
        ("application/json", b'{"title": "t", "msg": "m", "message": "first"}', "first"),
        ("application/json", b'["a", "b", "c", "d"]', "a; b; c"),
        ("application/json", b'[[[["four lists deep"]]]]', "four lists deep"),
        ("application/json", b'[[[[["five"]]]]]', '[[[[["five"]]]]]'),
        ("application/json", b'{"loc": "body", "msg": "bad"}', "body: bad"),
        ("application/json", b'{"detail": [{"loc": ["body", 0], "msg": "m"}]}', "body 0: m"),
        ("application/json", b'{"loc": "q"}', '{"loc": "q"}'),
    ],
)
def test_body_summary(content_type: str, body: bytes, summary: str) -> None:
    assert body_summary(content_type, body) == summary


def test_missing_header_and_route_words() -> None:
    assert missing_header("Missing required header: X-Scope-OrgID") == "x-scope-orgid"
    assert missing_header("header 'x-tenant' is required") == "x-tenant"
    assert missing_header("no header") is None
    assert is_route_not_found("404 page not found", "/v1/traces")
    assert is_route_not_found("no OTLP signal at /otlp/wrong", "/otlp/wrong")
    assert not is_route_not_found("No Experiment with id=999 exists", "/v1/traces")
    assert related_headers("No Experiment with id=9", ["x-mlflow-experiment-id", "x-k"]) == [
        "x-mlflow-experiment-id"
    ]
    assert related_headers("no projects", ["x-project-id", "x-api-key"]) == ["x-project-id"]
    assert bounded("a" * 10, limit=5) == "aaaa…"


def test_refused_cause_for_each_known_port() -> None:
    def text(endpoint: str, protocol: str) -> str:
        return refused_cause(ExportTarget("otlp", "otlp", protocol, endpoint)).text  # type: ignore[arg-type]

    assert text("https://h.example.com", "grpc") == (
        "connection refused by h.example.com:443 (tried OTLP/gRPC): is the backend running "
        "and reachable?"
    )
    assert "Port 3000 is self-hosted Langfuse's port" in text("http://h:3000", "grpc")
    assert "Port 5000 is MLflow's port" in text("http://h:5000/v1/traces", "grpc")
    assert "set protocol" not in text("http://h:4318/v1/traces", "http/protobuf")
    assert "set protocol" not in text("http://[::1]:4317", "grpc")
    assert "[::1]:4317" in text("http://[::1]:4317", "grpc")


def test_a_secret_at_the_cut_is_redacted_whole() -> None:
    keyed = OTLP(
        endpoint="https://h.example.com", protocol="http/protobuf", headers={"x-api-key": TOKEN}
    ).resolve({})
    cause = http_cause(HttpAnswer(400, body=("y" * 190 + TOKEN).encode()), keyed, "")
    assert TOKEN[:5] not in cause.text
    assert cause.text.endswith('"' + "y" * 190 + '***"')


# --- explain(): which answer or log line decides ------------------------------------------

HTTP_PB, GRPC = "http/protobuf", "grpc"
SAYS = ' — the backend said: "{}"'


def target(
    endpoint: str = "https://h.example.com",
    protocol: str = HTTP_PB,
    headers: dict[str, str] | None = None,
    auth_hint: str | None = None,
) -> ExportTarget:
    return ExportTarget("otlp", "otlp", protocol, endpoint, headers or {}, auth_hint=auth_hint)  # type: ignore[arg-type]


def http(status: int, body: str = "", **fields: str) -> str:
    """The text of ``http_cause`` for an answer with a plain-text ``body``."""
    answer = HttpAnswer(status, content_type="text/plain", body=body.encode(), **fields)  # type: ignore[arg-type]
    return http_cause(answer, target(headers={"x-tenant": "t1"}), "; check X").text


def test_explain_reads_the_http_answer_unless_it_is_a_success() -> None:
    answer = HttpAnswer(401, body=b"no")
    hinted = target(auth_hint="THE_KEY")
    assert explain([], hinted, answer) == Cause(
        "auth",
        'the backend rejected the credentials (HTTP 401); check THE_KEY — the backend said: "no"',
    )
    assert explain([], target(), answer).text == (
        "the backend rejected the credentials (HTTP 401); check the headers" + SAYS.format("no")
    )
    assert explain([], target(), HttpAnswer(199)) == Cause(
        "status", "the backend answered HTTP 199"
    )
    assert explain([], target(), HttpAnswer(300)).kind == "redirect"
    for ok in (200, 299):  # a success answer: the log lines decide
        assert explain([GRPC_AUTH], target(), HttpAnswer(ok)) == classify([GRPC_AUTH])


def test_explain_grpc_to_an_http1_server() -> None:
    text = (
        "h.example.com:443 answered in HTTP/1.1, not gRPC: it is likely an OTLP/HTTP endpoint; "
        "set protocol http/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)"
    )
    for line in ("x: Failed parsing HTTP/2 y", "Trying to connect an HTTP1.x server"):
        assert explain(["first", line], target(protocol=GRPC), None) == Cause("protocol", text)
    assert explain([line], target(), None).kind == "unknown"  # over HTTP it means nothing


def test_explain_http_to_a_grpc_server() -> None:
    cause = explain(["RemoteDisconnected BadStatusLine('\\x00')"], target("http://h:4317"), None)
    assert cause == Cause(
        "protocol",
        "h:4317 did not answer in HTTP/1.1 (an OTLP/gRPC port?): set protocol grpc "
        "(OTEL_EXPORTER_OTLP_PROTOCOL=grpc)",
    )
    assert explain(["BadStatusLine"], target(protocol=GRPC), None).kind == "unknown"


def test_explain_refused_tls_dns_and_timeouts() -> None:
    refused = explain(["Connection refused"], target("http://h:9", GRPC), None)
    assert refused == refused_cause(target("http://h:9", GRPC))
    assert refused.text.startswith("connection refused by h:9 (tried OTLP/gRPC)")
    assert explain([GRPC_DNS], target(protocol=GRPC), None) == classify([GRPC_DNS])
    assert explain(["SSL: WRONG_VERSION"], target(protocol=GRPC), None) == classify(["SSL"])
    for code in ("DEADLINE_EXCEEDED", "CANCELLED"):  # the exporter's own deadline: classify's
        line = f"x, error code: StatusCode.{code}, error details: Deadline Exceeded"
        assert explain([line], target(protocol=GRPC), None) == classify([line])


def test_explain_grpc_status_over_grpc_only() -> None:
    grpc_auth = explain([GRPC_AUTH], target(protocol=GRPC), None)
    assert grpc_auth == Cause(
        "auth",
        "the backend rejected the credentials (UNAUTHENTICATED); check the headers — the "
        'backend said: "bad key"',
    )
    hinted = explain([GRPC_AUTH], target(protocol=GRPC, auth_hint="K"), None)
    assert hinted.text.startswith(
        "the backend rejected the credentials (UNAUTHENTICATED); check K —"
    )
    assert explain([GRPC_AUTH], target(), None) == classify([GRPC_AUTH])


def test_explain_http_client_failure() -> None:
    line = f"Failed to export span batch code: None, reason: Invalid header value b'{TOKEN}\\n'"
    cause = explain([line, "then"], target(headers={"x-k": TOKEN}), None)
    assert cause == Cause(
        "client",
        "the HTTP client could not send the request (Invalid header value b'***\\n' then): "
        "nothing reached the backend; check the endpoint and headers",
    )
    assert explain(["a", "b"], target(), None) == Cause("unknown", "a b")
    timeout = "Failed to export span batch code: None, reason: read timeout"
    assert explain([timeout], target(), None) == classify([timeout])  # not unknown: classify's


# --- http_cause: one sentence per answer -------------------------------------------------


def test_http_redirects() -> None:
    assert http(300) == (
        "the endpoint redirects (HTTP 300) to another URL: use that URL (OTLP exporters do "
        "not follow redirects)"
    )
    assert http(399, location="https://u:p@h/v1/traces?api_key=k") == (
        "the endpoint redirects (HTTP 399) to https://***@h/v1/traces?api_key=***: use that "
        "URL (OTLP exporters do not follow redirects)"
    )
    answer = HttpAnswer(307, location="/v1/traces")
    assert http_cause(answer, target(), "").kind == "redirect"


def test_http_credentials() -> None:
    for status in (401, 403):
        assert http(status, "bad key") == (
            f"the backend rejected the credentials (HTTP {status}); check X"
            + SAYS.format("bad key")
        )
    assert http(401) == "the backend rejected the credentials (HTTP 401); check X"
    assert http_cause(HttpAnswer(403), target(), "").kind == "auth"


def test_http_missing_or_rejected_header() -> None:
    assert http(400, "missing header x-scope") == (
        "the backend says header 'x-scope' is missing (HTTP 400): add it (headers= or "
        "OTEL_EXPORTER_OTLP_HEADERS)" + SAYS.format("missing header x-scope")
    )
    assert http(499, "header X-Tenant is required") == (
        "the backend rejected header 'x-tenant' (HTTP 499): check its value"
        + SAYS.format("header X-Tenant is required")
    )
    said = SAYS.format("missing header x-scope")
    assert http(500, "missing header x-scope") == "the backend failed (HTTP 500)" + said
    assert http(399, "missing header x-scope").startswith("the endpoint redirects (HTTP 399)")
    kinds = {
        http_cause(HttpAnswer(s, body=b"missing header x"), target(), "").kind for s in (400, 499)
    }
    assert kinds == {"rejected"}


def test_http_404_path_or_named_thing() -> None:
    assert http(404, "404 page not found") == (
        "the endpoint path does not exist (HTTP 404): check the endpoint URL and protocol"
        + SAYS.format("404 page not found")
    )
    assert http(404, "no tenant t9") == (
        "the endpoint exists but the backend did not find something the request names "
        "(HTTP 404): check header x-tenant" + SAYS.format("no tenant t9")
    )
    assert http(404, "no such project") == (
        "the endpoint exists but the backend did not find something the request names "
        "(HTTP 404): check the ids the headers carry" + SAYS.format("no such project")
    )
    on_path = target("https://h/api/v9/traces", headers={"x-tenant": "t"})
    cause = http_cause(HttpAnswer(404, body=b"no tenant for /API/v9/traces"), on_path, "")
    assert cause.kind == "not_found"  # the message names the path: the path is wrong
    assert http_cause(HttpAnswer(404, body=b"no tenant t9"), on_path, "").kind == "rejected"


def test_http_other_statuses() -> None:
    assert http(405, "x") == (
        "the URL does not take POST (HTTP 405): it is not an OTLP/HTTP traces endpoint; check "
        "the path (usually …/v1/traces)"
    )
    assert http(413, "x") == "the backend refused the batch as too large (HTTP 413)"
    assert http(415, "x") == (
        "the backend does not take OTLP/protobuf at this URL (HTTP 415): check the endpoint "
        "path" + SAYS.format("x")
    )
    assert http(400, "x") == "the backend rejected the request (HTTP 400)" + SAYS.format("x")
    assert http(499) == "the backend rejected the request (HTTP 499)"
    assert http(599, "x") == "the backend failed (HTTP 599)" + SAYS.format("x")
    assert http(600) == "the backend failed (HTTP 600)"
    kinds = [http_cause(HttpAnswer(s), target(), "").kind for s in (405, 413, 415, 400, 500, 199)]
    assert kinds == ["not_found", "too_large", "rejected", "rejected", "server_error", "status"]


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        (429, "Too Many Requests"),
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Timeout"),
    ],
)
def test_http_unavailable(status: int, phrase: str) -> None:
    words = "until the time ran out (overloaded, starting up or rate-limiting)"
    assert http(status) == f"the backend kept answering {phrase!r} (HTTP {status}) {words}"
    assert http(status, "busy", reason="Slow Down") == (
        f"the backend kept answering 'Slow Down' (HTTP {status}) {words}" + SAYS.format("busy")
    )
    assert http_cause(HttpAnswer(status), target(), "").kind == "unavailable"


# --- gRPC: the status the exporter logged, in plain words ---------------------------------

GRPC_RETRY = (
    "Transient error StatusCode.UNAVAILABLE encountered while exporting traces to h:4317, "
    "retrying in 1.00s. Error details:  starting up \n"
)


def test_grpc_status_is_the_last_one_logged() -> None:
    assert grpc_status([GRPC_RETRY]) == ("UNAVAILABLE", "starting up")
    assert grpc_status([GRPC_RETRY, GRPC_AUTH]) == ("UNAUTHENTICATED", "bad key")
    assert grpc_status([GRPC_AUTH, GRPC_RETRY, "later"]) == ("UNAVAILABLE", "starting up")
    assert grpc_status(["error code: 7", "Transient error StatusCode.X encountered"]) is None
    assert grpc_status([]) is None


def grpc(code: str, details: str = "", headers: dict[str, str] | None = None) -> str:
    return grpc_cause(code, details, target(protocol=GRPC, headers=headers), "; check X").text


@pytest.mark.parametrize(
    "details",
    [
        "Invalid metadata",
        "Illegal header value",
        "Exception serializing request!",
        "Exception iterating requests!",
        "Exception deserializing response!",
    ],
)
@pytest.mark.parametrize("code", ["INTERNAL", "UNKNOWN"])
def test_grpc_client_side_failures(code: str, details: str) -> None:
    assert grpc(code, details) == (
        f"the gRPC client could not send the request ({details}): nothing reached the backend; "
        "check the headers (gRPC metadata: lower-case ASCII names, printable ASCII values)"
    )
    assert grpc_cause(code, details, target(protocol=GRPC), "").kind == "client"


def test_grpc_causes() -> None:
    said = SAYS.format("d")
    assert grpc("INTERNAL", "d") == "the backend answered gRPC INTERNAL" + said
    assert grpc("ABORTED", "invalid metadata") == (
        "the backend answered gRPC ABORTED" + SAYS.format("invalid metadata")
    )
    for code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        assert grpc(code, "d") == f"the backend rejected the credentials ({code}); check X" + said
    assert (
        grpc("UNAUTHENTICATED") == "the backend rejected the credentials (UNAUTHENTICATED); check X"
    )
    assert grpc("UNIMPLEMENTED", "d") == (
        "the endpoint path does not exist (gRPC UNIMPLEMENTED): check the endpoint URL and "
        "protocol (is it an OTLP/gRPC endpoint?)" + said
    )
    assert grpc("RESOURCE_EXHAUSTED", "Header Metadata too big") == (
        "the backend refused the headers as too large (gRPC RESOURCE_EXHAUSTED): gRPC servers "
        "accept 8 KiB of metadata by default" + SAYS.format("Header Metadata too big")
    )
    for code in ("UNAVAILABLE", "RESOURCE_EXHAUSTED"):
        assert grpc(code, "d") == (
            f"the backend kept answering gRPC {code} until the time ran out (overloaded, "
            "starting up or rate-limiting)" + said
        )
    assert grpc("UNAVAILABLE", "metadata").startswith("the backend kept answering gRPC UNAVAILABLE")
    for code in ("INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND"):
        assert grpc(code, "d") == f"the backend rejected the request (gRPC {code})" + said
    assert grpc("NOT_FOUND") == "the backend rejected the request (gRPC NOT_FOUND)"
    assert grpc("OUT_OF_RANGE", "d") == "the backend answered gRPC OUT_OF_RANGE" + said
    kinds = [
        grpc_cause(c, "metadata", target(protocol=GRPC), "").kind
        for c in ("UNAUTHENTICATED", "UNIMPLEMENTED", "RESOURCE_EXHAUSTED", "UNAVAILABLE")
    ]
    assert kinds == ["auth", "not_found", "too_large", "unavailable"]
    kinds = [grpc_cause(c, "", target(protocol=GRPC), "").kind for c in ("NOT_FOUND", "ABORTED")]
    assert kinds == ["rejected", "status"]


def test_grpc_missing_header() -> None:
    assert grpc("INVALID_ARGUMENT", "missing header: X-Scope-OrgID") == (
        "the backend says header 'x-scope-orgid' is missing (gRPC INVALID_ARGUMENT): add it "
        "(headers= or OTEL_EXPORTER_OTLP_HEADERS)" + SAYS.format("missing header: X-Scope-OrgID")
    )
    sent = grpc("ABORTED", "missing header: x-org", headers={"x-org": "o"})
    assert sent == "the backend answered gRPC ABORTED" + SAYS.format("missing header: x-org")
    kind = grpc_cause("ABORTED", "missing header: x", target(protocol=GRPC), "").kind
    assert kind == "rejected"


def test_grpc_details_are_redacted_and_bounded() -> None:
    details = f"bad\nkey {TOKEN} " + "w" * 300
    text = grpc_cause("DATA_LOSS", details, target(protocol=GRPC, headers={"k": TOKEN}), "").text
    said = "bad key *** " + "w" * 187 + "…"  # one line, redacted, then cut to 200
    assert text == "the backend answered gRPC DATA_LOSS" + SAYS.format(said)
    assert text.endswith('w…"') and len(text.split(': "', 1)[1]) == 201


# --- refused connections, bodies, words ---------------------------------------------------


def test_refused_cause_exact_texts() -> None:
    def refused(endpoint: str | None, protocol: str) -> Cause:
        return refused_cause(target(endpoint, protocol))  # type: ignore[arg-type]

    assert refused("http://h:4318", GRPC) == Cause(
        "refused",
        "connection refused by h:4318 (tried OTLP/gRPC): is the backend running and reachable? "
        "Port 4318 is the OTLP/HTTP port: if that is what listens there, set protocol "
        "http/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)",
    )
    assert refused("http://h:4317/v1/traces", HTTP_PB) == Cause(
        "refused",
        "connection refused by h:4317 (tried OTLP/HTTP): is the backend running and reachable? "
        "Port 4317 is the OTLP/gRPC port: if that is what listens there, set protocol grpc "
        "(OTEL_EXPORTER_OTLP_PROTOCOL=grpc)",
    )
    assert refused("http://h", HTTP_PB).text == (
        "connection refused by h:80 (tried OTLP/HTTP): is the backend running and reachable?"
    )
    assert refused("ftp://h", HTTP_PB).text.startswith("connection refused by h (tried")
    assert refused("http://h:bad", HTTP_PB).text.startswith("connection refused by h (tried")
    assert refused(None, GRPC).text.startswith("connection refused by ? (tried OTLP/gRPC)")
    assert refused("http://[::1]", GRPC).text.startswith("connection refused by [::1]:80 (")


def test_target_secrets_include_url_credentials() -> None:
    with_url = target("https://alice:pw-1@h.example.com/v1/traces?api_key=qk-2")
    assert {"pw-1", "qk-2"} <= target_secrets(with_url)
    assert target_secrets(target(None, headers={"x-k": TOKEN})) == {TOKEN}  # type: ignore[arg-type]


def test_json_nesting_is_followed_four_levels_deep() -> None:
    four = b'{"error": {"error": {"error": {"error": "deep"}}}}'
    assert body_summary("application/json", four) == "deep"
    five = b'{"error": {"error": {"error": {"error": {"error": "deep"}}}}}'
    assert body_summary("application/json", five) == '{"error": "deep"}'


def test_html_title_else_text_without_scripts() -> None:
    page = b'<html><head><title lang="en">Bad\nGateway</title></head><body>x</body></html>'
    assert body_summary("text/html", page) == "Bad Gateway"
    assert body_summary("text/html", b"<TITLE>Upper</TITLE><p>y</p>") == "Upper"
    page = b"<p>x</p><SCRIPT>\nvar a\n</SCRIPT><Style>\nb{}</Style><p>z</p>"
    assert body_summary("text/html", page) == "x z"


def test_bounded_cuts_only_beyond_the_limit() -> None:
    assert bounded("a" * 5, limit=5) == "aaaaa"
    assert bounded("abc defgh", limit=5) == "abc…"
    assert bounded("x" * 201) == "x" * 199 + "…"
    assert bounded("x" * 200) == "x" * 200


def test_route_words_and_related_headers() -> None:
    every_route_word = (
        "404 not found page cannot post no route matches matched the requested url was on "
        "this server error http path unknown endpoint handler for method a an file or "
        "directory does exist status code resource detail nginx apache"
    )
    assert is_route_not_found(every_route_word, "/v1/traces")
    assert not is_route_not_found("no tenant", "/v1/traces")
    assert not is_route_not_found("no tenant", "")
    assert related_headers("no tenant", ["x-project-id"]) == []
    assert related_headers("ab token", ["x-ab", "x-token"]) == []  # too short, or noise
    assert related_headers("no orgs", ["x-org", "b-orgs-id"]) == ["b-orgs-id", "x-org"]


# --- what the first mutation run of explain.py left alive ----------------------------------

GRPC_TLS = (
    "Failed to export traces to 127.0.0.1:4318, error code: StatusCode.UNAVAILABLE, error "
    "details: failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:4318: "
    "Ssl handshake failed: SSL_ERROR_SSL: WRONG_VERSION_NUMBER"
)


def test_explain_tls_over_grpc_is_not_called_unavailable() -> None:
    cause = explain([GRPC_TLS], target(protocol=GRPC), None)
    assert cause == Cause(
        "tls", "the TLS handshake failed: check https/http, the certificate and insecure="
    )


def test_explain_logged_401_names_the_auth_hint() -> None:
    line = "Failed to export span batch code: 401, reason: Unauthorized"
    assert explain([line], target(auth_hint="LANGFUSE_PUBLIC_KEY"), None) == Cause(
        "auth", "the backend rejected the credentials (HTTP 401); check LANGFUSE_PUBLIC_KEY"
    )


def test_http_rejected_header_kind_and_every_related_header() -> None:
    sent = target(headers={"x-tenant": "t"})
    assert http_cause(HttpAnswer(400, body=b"header x-tenant missing"), sent, "").kind == "rejected"
    both = target(headers={"x-tenant": "t", "x-project-id": "p", "x-k": "k"})
    text = http_cause(HttpAnswer(404, body=b"no tenant for project 9"), both, "").text
    assert "(HTTP 404): check header x-project-id, x-tenant —" in text
    nowhere = http_cause(HttpAnswer(404, body=b"no xxxx"), target(None), "")  # type: ignore[arg-type]
    assert nowhere.kind == "rejected"  # no endpoint, no path to find in the message


def test_grpc_status_body_whose_length_byte_is_a_letter() -> None:
    message = "m" * 65  # length 65: the raw bytes would show an "A" before it
    assert body_summary("application/grpc", status_body(message)) == message
