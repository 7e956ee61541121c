"""``configure.backends``: names, objects and variables resolved into export targets."""

from __future__ import annotations

import base64
import logging
import os

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from unit_helpers import error

from lk_otel.configure import backends as b
from lk_otel.configure import selection as sel
from lk_otel.configure.backends import (
    OTLP,
    Console,
    ExportTarget,
    File,
    Jaeger,
    Langfuse,
)

KEYS = {"LANGFUSE_PUBLIC_KEY": "pk-lf-1", "LANGFUSE_SECRET_KEY": "sk-lf-2"}


def _basic(public: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


# --- ExportTarget -------------------------------------------------------------------------


def test_target_describe() -> None:
    assert ExportTarget(label="c", kind="console").describe() == "c (stdout)"
    assert ExportTarget(label="f", kind="file", path="x.jsonl").describe() == "f (x.jsonl)"
    target = ExportTarget(
        label="o", kind="otlp", protocol="grpc", endpoint="https://u:p@h:1?api_key=s"
    )
    assert target.describe() == "o (https://***@h:1?api_key=***, grpc)"
    assert ExportTarget(label="o", kind="otlp").describe() == "o (, None)"


def test_target_repr_shows_no_secret() -> None:
    target = ExportTarget(
        label="o",
        kind="otlp",
        protocol="http/protobuf",
        endpoint="https://h/v1/traces",
        headers={"b": "secret1", "a": "secret2"},
        compression="gzip",
        timeout=2.0,
        insecure=False,
    )
    assert repr(target) == (
        "ExportTarget(label='o', kind='otlp', protocol='http/protobuf', "
        "endpoint='https://h/v1/traces', headers=['a', 'b'], compression='gzip', "
        "timeout=2.0, insecure=False)"
    )
    assert (
        repr(ExportTarget(label="c", kind="console")) == "ExportTarget(label='c', kind='console')"
    )
    assert repr(ExportTarget(label="f", kind="file", path="p")) == (
        "ExportTarget(label='f', kind='file', path='p')"
    )
    assert repr(ExportTarget(label="o", kind="otlp")) == (
        "ExportTarget(label='o', kind='otlp', protocol=None, endpoint='', headers=[], "
        "compression=None, timeout=None, insecure=None)"
    )


def test_target_repr_fingerprints_hidden_url_credentials() -> None:
    def target(endpoint: str) -> ExportTarget:
        return ExportTarget(label="o", kind="otlp", protocol="grpc", endpoint=endpoint)

    one, two = repr(target("https://u:pw-one@h")), repr(target("https://u:pw-two@h"))
    assert one != two
    assert "pw-" not in one  # never shown (a fingerprint is hex only)
    assert one.startswith(
        "ExportTarget(label='o', kind='otlp', protocol='grpc', endpoint='https://***@h', "
        "headers=[], compression=None, timeout=None, insecure=None, url_credentials='"
    )
    assert one.endswith("')")
    assert "url_credentials" not in repr(target("https://h"))


def test_same_destination() -> None:
    def otlp(**kw: object) -> ExportTarget:
        args = {
            "label": "x",
            "kind": "otlp",
            "protocol": "grpc",
            "endpoint": "http://h",
            "headers": {},
        }
        args.update(kw)
        return ExportTarget(**args)  # type: ignore[arg-type]

    assert otlp().same_destination(otlp(label="other", timeout=3.0, compression="gzip"))
    assert not otlp().same_destination(otlp(protocol="http/protobuf"))
    assert not otlp().same_destination(otlp(endpoint="http://g"))
    assert not otlp().same_destination(otlp(headers={"a": "1"}))
    assert not otlp().same_destination(ExportTarget(label="x", kind="console"))
    console = ExportTarget(label="a", kind="console")
    assert console.same_destination(ExportTarget(label="b", kind="console"))
    f1 = ExportTarget(label="f", kind="file", path="a.jsonl")
    assert f1.same_destination(
        ExportTarget(label="g", kind="file", path=os.path.abspath("a.jsonl"))
    )
    assert not f1.same_destination(ExportTarget(label="f", kind="file", path="b.jsonl"))
    assert not f1.same_destination(ExportTarget(label="f", kind="file", path=None))


# --- OTLP -----------------------------------------------------------------------------------


def test_otlp_defaults() -> None:
    target = OTLP().resolve({})
    assert target == ExportTarget(
        label="otlp",
        kind="otlp",
        protocol="grpc",
        endpoint="http://localhost:4317",
        headers={},
        compression=None,
        timeout=None,
        insecure=True,
    )
    http = OTLP(protocol="http/protobuf").resolve({})
    assert http.endpoint == "http://localhost:4318/v1/traces"
    assert OTLP(protocol="http/protobuf").resolve({}, "metrics").endpoint == (
        "http://localhost:4318/v1/metrics"
    )
    assert OTLP().resolve({}, "metrics").endpoint == "http://localhost:4317"


def test_otlp_arguments() -> None:
    target = OTLP(
        endpoint="https://h/otlp/",
        protocol="http/protobuf",
        headers="X-Key=abc",
        compression="GZIP",
        timeout="2.5",
        insecure="false",
        name="vendor",
    ).resolve({"OTEL_EXPORTER_OTLP_HEADERS": "y=1"})
    assert target == ExportTarget(
        label="vendor",
        kind="otlp",
        protocol="http/protobuf",
        endpoint="https://h/otlp/v1/traces",
        headers={"x-key": "abc"},
        compression="gzip",
        timeout=2.5,
        insecure=False,
    )
    grpc = OTLP(endpoint="https://h:4317/", protocol="grpc").resolve({})
    assert grpc.endpoint == "https://h:4317"
    assert OTLP(endpoint="http://h", insecure=True).resolve({}).insecure is True


def test_otlp_from_the_environment_traces_variables_first() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "https://base",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://t/custom",
        "OTEL_EXPORTER_OTLP_HEADERS": "a=1",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "b=2",
        "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "deflate",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "3",
    }
    target = OTLP().resolve(env)
    assert (target.protocol, target.endpoint, target.headers, target.compression) == (
        "http/protobuf",
        "https://t/custom",
        {"b": "2"},
        "deflate",
    )
    assert target.timeout is None  # read by the official exporter itself
    metrics = OTLP().resolve(env, "metrics")
    assert (metrics.protocol, metrics.endpoint, metrics.headers, metrics.compression) == (
        "grpc",
        "https://base",
        {"a": "1"},
        "gzip",
    )
    env["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"] = "http/protobuf"
    assert OTLP().resolve(env, "metrics").endpoint == "https://base/v1/metrics"


def test_otlp_read_env_false_ignores_the_environment() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://base", "OTEL_EXPORTER_OTLP_PROTOCOL": "x"}
    assert OTLP(read_env=False).resolve(env).endpoint == "http://localhost:4317"
    assert OTLP(read_env="no").resolve(env).endpoint == "http://localhost:4317"
    assert OTLP(read_env=True).resolve({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://b"}).endpoint == (
        "https://b"
    )
    assert error(OTLP(read_env=2).resolve, {}) == "otlp: read_env must be True or False, got int"  # type: ignore[arg-type]


def test_otlp_insecure_from_the_environment() -> None:
    remote = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://remote:4317"}
    assert error(OTLP().resolve, remote) == (
        "otlp: endpoint 'http://remote:4317' would send telemetry unencrypted to a remote host; "
        "use https:// or set insecure=True (or OTEL_EXPORTER_OTLP_INSECURE=true) if that is "
        "intended"
    )
    env = {**remote, "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "false"}
    assert error(OTLP().resolve, env) == (
        "otlp: endpoint 'http://remote:4317' would send telemetry unencrypted to a remote host; "
        "use https:// or set OTEL_EXPORTER_OTLP_TRACES_INSECURE=True (or "
        "OTEL_EXPORTER_OTLP_INSECURE=true) if that is intended"
    )
    assert OTLP().resolve({**remote, "OTEL_EXPORTER_OTLP_INSECURE": "true"}).insecure is True
    assert (
        OTLP(insecure=False).resolve({"OTEL_EXPORTER_OTLP_INSECURE": "true"}).insecure is True
    )  # loopback
    assert error(
        OTLP(insecure=False).resolve, {**remote, "OTEL_EXPORTER_OTLP_INSECURE": "true"}
    ) == (
        "otlp: endpoint 'http://remote:4317' would send telemetry unencrypted to a remote host; "
        "use https:// or set insecure=True (or OTEL_EXPORTER_OTLP_INSECURE=true) if that is "
        "intended"
    )
    assert OTLP(endpoint="https://h", insecure=True).resolve({}).insecure is False
    assert error(OTLP().resolve, {"OTEL_EXPORTER_OTLP_INSECURE": "maybe"}) == (
        "OTEL_EXPORTER_OTLP_INSECURE must be true or false, got 'maybe'"
    )
    assert error(OTLP(insecure="maybe").resolve, {}) == (
        "insecure must be true or false, got 'maybe'"
    )


@pytest.mark.parametrize(
    ("backend", "env", "message"),
    [
        (OTLP(protocol="http"), {}, "protocol must be one of grpc, http/protobuf, got 'http'"),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "json"},
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be one of grpc, http/protobuf, got 'json'",
        ),
        (
            OTLP(endpoint="h:1"),
            {},
            "endpoint must be an http:// or https:// URL with a host, got 'h:1'",
        ),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://h"},
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http:// or https:// URL with a host, got 'ftp://h'",
        ),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://h"},
            "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL with a host, got 'ftp://h'",
        ),
        (
            OTLP(endpoint="https://u:p@h"),
            {},
            "endpoint: gRPC cannot send user:password from the URL; put credentials in headers (got 'https://***@h')",
        ),
        (
            OTLP(endpoint="https://h?a=1"),
            {},
            "endpoint: gRPC cannot send a ?query; put it in headers (got 'https://h?a=1')",
        ),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://h?token=abc"},
            "OTEL_EXPORTER_OTLP_ENDPOINT: gRPC cannot send a ?query; put it in headers (got 'https://h?token=***')",
        ),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://u@h"},
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: gRPC cannot send user:password from the URL; "
            "put credentials in headers (got 'https://***@h')",
        ),
        (OTLP(headers="bad"), {}, "headers: entry 1 is not 'key=value' (expected k1=v1,k2=v2)"),
        (
            OTLP(headers={"te": "x"}),
            {},
            "headers: header 'te' is set by the exporter itself; remove it",
        ),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_HEADERS": "grpc-x=1"},
            "OTEL_EXPORTER_OTLP_HEADERS: header 'grpc-x' cannot be sent over gRPC: 'grpc-' names "
            "are reserved",
        ),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "bad"},
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1 is not 'key=value' (expected k1=v1,k2=v2)",
        ),
        (
            OTLP(
                endpoint="https://u:p@h", protocol="http/protobuf", headers={"Authorization": "x"}
            ),
            {},
            "otlp: the endpoint has user:password and headers has 'authorization'; the URL's "
            "would replace the header: keep one",
        ),
        (
            OTLP(endpoint="https://u:p@h", protocol="http/protobuf"),
            {"OTEL_EXPORTER_OTLP_HEADERS": "authorization=x"},
            "otlp: the endpoint has user:password and OTEL_EXPORTER_OTLP_HEADERS has "
            "'authorization'; the URL's would replace the header: keep one",
        ),
        (OTLP(compression="brotli"), {}, "compression must be one of gzip, none, got 'brotli'"),
        (OTLP(compression="deflate"), {}, "compression must be one of gzip, none, got 'deflate'"),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"},
            "OTEL_EXPORTER_OTLP_COMPRESSION must be one of gzip, none, got 'zstd'",
        ),
        (
            OTLP(protocol="http/protobuf", compression=1),
            {},
            "compression must be one of gzip, deflate, none, got 1",
        ),  # type: ignore[arg-type]
        (OTLP(timeout=0), {}, "timeout must be a finite number greater than 0, got 0"),
        (
            OTLP(),
            {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "-1"},
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT must be a finite number greater than 0, got '-1'",
        ),
        (OTLP(name=""), {}, "OTLP(name=) must be a non-empty string, got ''"),
        (Jaeger(name=" "), {}, "Jaeger(name=) must be a non-empty string, got ' '"),
    ],
)
def test_otlp_errors(backend: b.Backend, env: dict, message: str) -> None:
    assert error(backend.resolve, env) == message


def test_userinfo_without_authorization_over_http_is_kept() -> None:
    target = OTLP(endpoint="https://u:p@h", protocol="http/protobuf", headers={"x": "1"}).resolve(
        {}
    )
    assert target.endpoint == "https://u:p@h/v1/traces"
    assert OTLP(endpoint="https://h", headers={"authorization": "x"}).resolve({}).headers == {
        "authorization": "x"
    }


def test_otlp_repr() -> None:
    assert repr(OTLP(endpoint="https://u:p@h?key=1", protocol="grpc")) == (
        "OTLP(endpoint='https://***@h?key=***', protocol='grpc')"
    )
    assert repr(OTLP()) == "OTLP(endpoint=None, protocol=None)"
    assert repr(Jaeger(endpoint=5)) == "Jaeger(endpoint=5, protocol=None)"  # type: ignore[arg-type]


def test_jaeger() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://elsewhere"}
    assert Jaeger().resolve(env) == ExportTarget(
        label="jaeger",
        kind="otlp",
        protocol="grpc",
        endpoint="http://localhost:4317",
        headers={},
        insecure=True,
    )
    assert (
        Jaeger(protocol="http/protobuf").resolve({}).endpoint == "http://localhost:4318/v1/traces"
    )
    assert Jaeger().resolve({}, "metrics") is None
    assert OTLP().default_protocol() == "grpc"
    assert OTLP().default_endpoint("grpc", "traces") == "http://localhost:4317"
    assert OTLP().default_endpoint("http/protobuf", "metrics") == "http://localhost:4318/v1/metrics"


# --- Langfuse -------------------------------------------------------------------------------


def test_langfuse_from_the_environment() -> None:
    target = Langfuse().resolve(KEYS)
    assert target == ExportTarget(
        label="langfuse",
        kind="otlp",
        protocol="http/protobuf",
        endpoint="https://cloud.langfuse.com/api/public/otel/v1/traces",
        headers={
            "authorization": _basic("pk-lf-1", "sk-lf-2"),
            "x-langfuse-ingestion-version": "4",
        },
        compression="gzip",
        timeout=None,
        insecure=False,
        auth_hint="LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY and LANGFUSE_HOST (region)",
    )
    assert Langfuse().resolve(KEYS, "metrics") is None


def test_langfuse_arguments_win() -> None:
    target = Langfuse(
        public_key=" pk ",
        secret_key="sk",
        host="http://localhost:3000/",
        protocol="http/protobuf",
        timeout=4,
        compression="NONE",
        name="lf",
    ).resolve({**KEYS, "LANGFUSE_HOST": "https://us.cloud.langfuse.com"})
    assert target.label == "lf"
    assert target.endpoint == "http://localhost:3000/api/public/otel/v1/traces"
    assert target.headers["authorization"] == _basic("pk", "sk")
    assert (target.compression, target.timeout, target.insecure) == ("none", 4.0, True)


def test_langfuse_host_variables() -> None:
    assert Langfuse().resolve({**KEYS, "LANGFUSE_BASE_URL": "https://eu.x"}).endpoint == (
        "https://eu.x/api/public/otel/v1/traces"
    )
    env = {**KEYS, "LANGFUSE_HOST": "https://a.x", "LANGFUSE_BASE_URL": "https://b.x"}
    assert Langfuse().resolve(env).endpoint == "https://a.x/api/public/otel/v1/traces"


@pytest.mark.parametrize(
    ("backend", "env", "message"),
    [
        (
            Langfuse(protocol="grpc"),
            KEYS,
            "langfuse accepts OTLP over HTTP only; protocol='grpc' is not supported (use "
            "'http/protobuf' or leave it unset)",
        ),
        (
            Langfuse(),
            {},
            "langfuse: missing public_key (pass public_key= or set LANGFUSE_PUBLIC_KEY)",
        ),
        (
            Langfuse(public_key="pk"),
            {},
            "langfuse: missing secret_key (pass secret_key= or set LANGFUSE_SECRET_KEY)",
        ),
        (
            Langfuse(public_key=" ", secret_key="s"),
            {},
            "langfuse: missing public_key (pass public_key= or set LANGFUSE_PUBLIC_KEY)",
        ),
        (
            Langfuse(public_key=1, secret_key="s"),
            {},
            "langfuse: public_key must be a string, got int",
        ),  # type: ignore[arg-type]
        (
            Langfuse(public_key="p", secret_key=b"s"),
            {},
            "langfuse: secret_key must be a string, got bytes",
        ),  # type: ignore[arg-type]
        (
            Langfuse(public_key="a:b", secret_key="s"),
            {},
            "langfuse: public_key cannot contain ':' (Basic auth splits there)",
        ),
        (
            Langfuse(host="http://remote.example"),
            KEYS,
            "langfuse host 'http://remote.example' is plain http to a remote host: the keys "
            "would travel unencrypted; use https://",
        ),
        (
            Langfuse(host="ftp://h"),
            KEYS,
            "host must be an http:// or https:// URL with a host, got 'ftp://h'",
        ),
        (
            Langfuse(),
            {**KEYS, "LANGFUSE_HOST": "ftp://h"},
            "LANGFUSE_HOST must be an http:// or https:// URL with a host, got 'ftp://h'",
        ),
        (
            Langfuse(host="https://u:p@h"),
            KEYS,
            "langfuse: host must be the base URL, without user:password or a ?query (the keys go "
            "in public_key/secret_key), got 'https://***@h'",
        ),
        (
            Langfuse(),
            {**KEYS, "LANGFUSE_BASE_URL": "https://h?key=1"},
            "langfuse: LANGFUSE_BASE_URL must be the base URL, without user:password or a ?query "
            "(the keys go in public_key/secret_key), got 'https://h?key=***'",
        ),
        (
            Langfuse(compression="deflate2"),
            KEYS,
            "compression must be one of gzip, deflate, none, got 'deflate2'",
        ),
        (Langfuse(timeout=0), KEYS, "timeout must be a finite number greater than 0, got 0"),
        (Langfuse(name=""), KEYS, "Langfuse(name=) must be a non-empty string, got ''"),
    ],
)
def test_langfuse_errors(backend: Langfuse, env: dict, message: str) -> None:
    assert error(backend.resolve, env) == message


def test_langfuse_keys_from_the_environment_are_stripped_and_arguments_win() -> None:
    env = {"LANGFUSE_PUBLIC_KEY": " pk-env ", "LANGFUSE_SECRET_KEY": "sk-env"}
    assert Langfuse().resolve(env).headers["authorization"] == _basic("pk-env", "sk-env")
    assert Langfuse(public_key="pk-arg").resolve(env).headers["authorization"] == _basic(
        "pk-arg", "sk-env"
    )


def test_langfuse_repr_hides_keys() -> None:
    text = repr(Langfuse(public_key="pk-secret", secret_key="sk-secret", host="https://u:p@h"))
    assert text == "Langfuse(host='https://***@h', public_key=***, secret_key=***)"
    assert repr(Langfuse()) == "Langfuse(host=None, public_key=***, secret_key=***)"
    assert repr(Langfuse(host=3)) == "Langfuse(host=3, public_key=***, secret_key=***)"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("https://h", "https://h/api/public/otel/v1/traces"),
        ("https://h/", "https://h/api/public/otel/v1/traces"),
        ("https://h/sub", "https://h/sub/api/public/otel/v1/traces"),
        ("https://h/api/public/otel", "https://h/api/public/otel/v1/traces"),
        ("https://h/api/public/otel/", "https://h/api/public/otel/v1/traces"),
        ("https://h/api/public/otel/v1/traces", "https://h/api/public/otel/v1/traces"),
        ("https://h/x/api/public/otel/v1/traces/", "https://h/x/api/public/otel/v1/traces"),
        ("https://h/api/public/otelX", "https://h/api/public/otelX/api/public/otel/v1/traces"),
    ],
)
def test_langfuse_endpoint(host: str, expected: str) -> None:
    assert b.langfuse_endpoint(host) == expected


# --- Console, File ----------------------------------------------------------------------------


def test_console() -> None:
    assert Console().resolve({}) == ExportTarget(label="console", kind="console")
    assert Console(name="c2").resolve({}, "metrics") == ExportTarget(label="c2", kind="console")


def test_file_paths(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    assert File(path=path).resolve({}) == ExportTarget(label="file", kind="file", path=str(path))
    assert File(path=str(path), name="f").resolve({}, "metrics") == ExportTarget(
        label="f", kind="file", path=str(tmp_path / "t.metrics.jsonl")
    )
    assert File(path=str(tmp_path / "t.log")).resolve({}, "metrics").path == str(
        tmp_path / "t.log.metrics"
    )
    path.write_text("")
    assert File(path=str(path)).resolve({}).path == str(path)  # an existing writable file
    assert File().resolve({}, "traces").path == "lk-otel-traces.jsonl"


def test_file_errors(tmp_path) -> None:
    assert error(File(path=3).resolve, {}) == "file backend: path must be a str or a path, got 3"  # type: ignore[arg-type]
    assert error(File(path=" ").resolve, {}) == "file backend: path must not be empty"
    assert error(File(path=str(tmp_path)).resolve, {}) == (
        f"file backend: path {str(tmp_path)!r} is a folder; name a file in it"
    )
    missing = str(tmp_path / "no" / "t.jsonl")
    assert error(File(path=missing).resolve, {}) == (
        f"file backend: the folder of path {missing!r} does not exist"
    )


def test_file_not_writable_as_seen_by_access(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The permission checks, with ``os.access`` answering as for a read-only user."""
    existing = tmp_path / "t.jsonl"
    existing.write_text("")
    calls: list[tuple[str, int]] = []

    def access(path: str, mode: int) -> bool:
        calls.append((str(path), mode))
        return False

    monkeypatch.setattr(b.os, "access", access)
    assert error(File(path=str(existing)).resolve, {}) == (
        f"file backend: path {str(existing)!r} is not writable"
    )
    assert calls == [(str(existing), os.W_OK)]
    calls.clear()
    new = str(tmp_path / "new.jsonl")
    assert error(File(path=new).resolve, {}) == (
        f"file backend: the folder of path {new!r} is not writable"
    )
    assert calls == [(str(tmp_path), os.W_OK | os.X_OK)]


# --- names, environment, coercion -------------------------------------------------------------


def test_backend_from_name() -> None:
    assert sel.backend_from_name(" Langfuse ") == Langfuse()
    assert sel.backend_from_name("otlp") == OTLP()
    assert sel.backend_from_name("JAEGER") == Jaeger()
    assert sel.backend_from_name("console") == Console()
    assert sel.backend_from_name("file") == File()
    assert error(sel.backend_from_name, "zipkin") == (
        "backend: unknown name 'zipkin'; choose from otlp, jaeger, langfuse, console, file"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, []),
        ({"LANGFUSE_PUBLIC_KEY": "p"}, [Langfuse()]),
        ({"LANGFUSE_SECRET_KEY": "s"}, [Langfuse()]),
        ({"LANGFUSE_SECRET_KEY": " "}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://h"}, [OTLP()]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://h"}, [OTLP()]),
        ({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "https://h"}, []),
        ({**KEYS, "OTEL_EXPORTER_OTLP_ENDPOINT": "https://h"}, [Langfuse(), OTLP()]),
    ],
)
def test_backends_from_env(env: dict, expected: list) -> None:
    assert sel.backends_from_env(env) == expected


def test_check_compression() -> None:
    assert b.check_compression(" Deflate ", "c", "http/protobuf") == "deflate"
    assert b.check_compression("none", "c", "grpc") == "none"
    assert b.check_compression("gzip", "c", "grpc") == "gzip"
    assert error(b.check_compression, "deflate", "c", "grpc") == (
        "c must be one of gzip, none, got 'deflate'"
    )
    assert error(b.check_compression, None, "c", "http/protobuf") == (
        "c must be one of gzip, deflate, none, got None"
    )


def test_coerce_unset_chooses_from_the_environment(caplog: pytest.LogCaptureFixture) -> None:
    assert sel.coerce_backends(None, KEYS) == [Langfuse()]
    assert caplog.records == []
    with caplog.at_level(logging.INFO, logger="lk_otel"):
        assert sel.coerce_backends(None, {}) == [OTLP()]
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            "lk_otel",
            logging.INFO,
            "lk_otel: no backend configured; exporting OTLP/gRPC to localhost:4317 "
            "(set LANGFUSE_* or OTEL_EXPORTER_OTLP_ENDPOINT, or pass backend=)",
        )
    ]


def test_coerce_single_items_and_lists() -> None:
    exporter = InMemorySpanExporter()
    assert sel.coerce_backends("console", {}) == [Console()]
    assert sel.coerce_backends(Jaeger(), {}) == [Jaeger()]
    assert sel.coerce_backends(exporter, {}) == [exporter]
    assert sel.coerce_backends(["console", Jaeger(), exporter], {}) == [
        Console(),
        Jaeger(),
        exporter,
    ]
    assert sel.coerce_backends(("file",), {}) == [File()]
    assert sel.coerce_backends(iter(["console"]), {}) == [Console()]


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ([], "backend: the list is empty"),
        (Jaeger, "backend: got the class Jaeger, not an instance; pass Jaeger()"),
        (
            InMemorySpanExporter,
            "backend: got the class InMemorySpanExporter, not an instance; pass "
            "InMemorySpanExporter()",
        ),
        (["console", OTLP], "backend (item 2): got the class OTLP, not an instance; pass OTLP()"),
        (int, "backend: expected a name, a backend object or a SpanExporter, got type"),
        ({"a": 1}, "backend: expected a name, a backend object or a SpanExporter, got dict"),
        (b"console", "backend: expected a name, a backend object or a SpanExporter, got bytes"),
        (3, "backend: expected a name, a backend object or a SpanExporter, got int"),
        (
            ["console", 3.5],
            "backend (item 2): expected a name, a backend object or a SpanExporter, got float",
        ),
        (
            ["nope"],
            "backend: unknown name 'nope'; choose from otlp, jaeger, langfuse, console, file",
        ),
        (
            ["console", "console"],
            "backend: items 1 and 2 both export to console (stdout) (same kind, endpoint and "
            "headers); remove one",
        ),
        (
            ["jaeger", OTLP(name="x")],
            "backend: items 1 and 2 both export to x (http://localhost:4317, grpc) (same kind, "
            "endpoint and headers); remove one",
        ),
    ],
)
def test_coerce_errors(backend: object, message: str) -> None:
    assert error(sel.coerce_backends, backend, {}) == message


def test_duplicates() -> None:
    exporter = InMemorySpanExporter()
    assert error(sel.reject_duplicates, [Console(), exporter, exporter], {}) == (
        f"backend: items 2 and 3 both export to {exporter!r} (same kind, endpoint and headers); "
        "remove one"
    )
    # unresolvable entries and backends without traces are skipped here
    sel.reject_duplicates([Langfuse(), Langfuse()], {})
    sel.reject_duplicates([OTLP(protocol="x"), OTLP(protocol="x")], {})  # type: ignore[arg-type]
    sel.reject_duplicates([Console(), InMemorySpanExporter(), InMemorySpanExporter()], {})
    sel.reject_duplicates([OTLP(), OTLP(headers={"a": "1"}), Jaeger(protocol="http/protobuf")], {})
    assert error(sel.reject_duplicates, [OTLP(), Console(), Jaeger()], {}) == (
        "backend: items 1 and 3 both export to jaeger (http://localhost:4317, grpc) (same kind, "
        "endpoint and headers); remove one"
    )


class _NoTraces(b.Backend):
    name = "none"

    def resolve(self, env, signal="traces"):  # type: ignore[no-untyped-def]
        return None


def test_duplicates_skip_backends_that_resolve_to_nothing() -> None:
    assert sel.reject_duplicates([_NoTraces(), _NoTraces()], {}) is None


def test_duplicates_are_found_after_entries_that_do_not_resolve() -> None:
    message = (
        "backend: items 2 and 3 both export to console (stdout) (same kind, endpoint and "
        "headers); remove one"
    )
    assert error(sel.reject_duplicates, [Langfuse(), Console(), Console()], {}) == message
    assert error(sel.reject_duplicates, [_NoTraces(), Console(), Console()], {}) == message


def test_a_name_of_none_is_refused() -> None:
    assert error(OTLP(name=None).resolve, {}) == (  # type: ignore[arg-type]
        "OTLP(name=) must be a non-empty string, got None"
    )


def test_generic_protocol_and_timeout_variables() -> None:
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    assert OTLP().resolve(env).endpoint == "http://localhost:4318/v1/traces"
    assert error(OTLP().resolve, {"OTEL_EXPORTER_OTLP_TIMEOUT": "-1"}) == (
        "OTEL_EXPORTER_OTLP_TIMEOUT must be a finite number greater than 0, got '-1'"
    )
    assert OTLP().resolve({"OTEL_EXPORTER_OTLP_TIMEOUT": "10"}).timeout is None


class _BadDefault(OTLP):
    def default_protocol(self):  # type: ignore[no-untyped-def]
        return "json"


def test_a_default_protocol_is_checked_and_named_as_the_argument() -> None:
    assert error(_BadDefault().resolve, {}) == (
        "protocol must be one of grpc, http/protobuf, got 'json'"
    )


def test_jaeger_reads_the_environment_only_when_asked() -> None:
    env = {"OTEL_EXPORTER_OTLP_HEADERS": "a=1", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://j:4317"}
    target = Jaeger(read_env=True).resolve(env)
    assert (target.endpoint, target.headers) == ("https://j:4317", {"a": "1"})
    assert Jaeger().resolve(env).headers == {}
