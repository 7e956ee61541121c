"""``configure.urls``: host and endpoint validation, signal paths, loopback."""

from __future__ import annotations

import pytest
from unit_helpers import error

from lk_otel.configure.urls import (
    is_loopback,
    validate_endpoint,
    validate_host,
    with_path_suffix,
    with_signal_path,
)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "a",
        "my-host.example.com",
        "under_score.example",
        "example.com.",
        "10.0.0.1",
        "::1",
        "fe80::1%eth0",
        "bücher.example",
        "x" * 63 + ".com",
        ".".join(["a" * 61] * 4),  # 247 characters
        "1.example",
        "0x10",
    ],
)
def test_valid_hosts(host: str) -> None:
    assert validate_host(host) is True


@pytest.mark.parametrize(
    "host",
    [
        "",
        ".",
        "-a.com",
        "a-.com",
        "a..b",
        "x" * 64 + ".com",
        ".".join(["a" * 63] * 4),  # 255 characters
        "300.1.1.1",
        "1234",
        "a b",
        "a!b",
        "\udcff.com",
        "ab-.",  # the root dot is dropped, then "ab-" is checked
        "10.0.0.1%eth0",  # a zone belongs to IPv6 link-local addresses only
    ],
)
def test_invalid_hosts(host: str) -> None:
    assert validate_host(host) is False


def test_host_length_limit_is_253() -> None:
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert len(name) == 253
    assert validate_host(name) is True
    assert validate_host(name + ".") is True  # the root dot does not count
    assert validate_host(name + "d") is False


def test_idna_host_is_checked_in_its_ascii_form() -> None:
    assert validate_host("ö" * 60 + ".com") is False  # its punycode label is over 63 characters


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h:4318/", "http://h:4318"),
        ("  https://h/x/?a=1  ", "https://h/x/?a=1"),
        ("https://u:p@h:1/p?q=1", "https://u:p@h:1/p?q=1"),
        ("http://[::1]:4317", "http://[::1]:4317"),
    ],
)
def test_valid_endpoints(url: str, expected: str) -> None:
    assert validate_endpoint(url, "endpoint") == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "E must be a URL string, got NoneType"),
        (3, "E must be a URL string, got int"),
        (
            "http://h/a b",
            "E contains a space or control character (percent-encode it): 'http://h/a b'",
        ),
        (
            "http://h/\x01",
            "E contains a space or control character (percent-encode it): 'http://h/\\x01'",
        ),
        ("http://h:x", "E is not a valid URL: 'http://h:x'"),
        ("http://[::1", "E is not a valid URL: 'http://[::1'"),
        ("ftp://h", "E must be an http:// or https:// URL with a host, got 'ftp://h'"),
        ("http://", "E must be an http:// or https:// URL with a host, got 'http://'"),
        ("h:4317", "E must be an http:// or https:// URL with a host, got 'h:4317'"),
        ("http://-h", "E has an invalid host name: 'http://-h'"),
        ("http://h:0", "E has port 0: 'http://h:0'"),
        ("http://h/#f", "E must not have a #fragment: 'http://h/#***'"),
        ("http://h/#", "E must not have a #fragment: 'http://h/#'"),
        ("https://u:s3cret@h:0?api_key=k1", "E has port 0: 'https://***@h:0?api_key=***'"),
    ],
)
def test_invalid_endpoints(url: object, message: str) -> None:
    assert error(validate_endpoint, url, "E") == message


@pytest.mark.parametrize(
    ("base", "signal", "expected"),
    [
        ("http://h:4318", "traces", "http://h:4318/v1/traces"),
        ("http://h/otlp/?t=a", "traces", "http://h/otlp/v1/traces?t=a"),
        ("http://h/otlp//", "metrics", "http://h/otlp/v1/metrics"),
        ("http://h/v1/traces", "traces", "http://h/v1/traces"),
        ("http://h/p/v1/metrics/", "traces", "http://h/p/v1/traces"),
        ("http://h/v1/logs", "metrics", "http://h/v1/metrics"),
        ("http://h/v1/tracesx", "traces", "http://h/v1/tracesx/v1/traces"),
        ("http://h/v1/traces/v1/traces", "traces", "http://h/v1/traces/v1/traces"),
        ("http://h/otlpX/", "traces", "http://h/otlpX/v1/traces"),
    ],
)
def test_with_signal_path(base: str, signal: str, expected: str) -> None:
    assert with_signal_path(base, signal) == expected


@pytest.mark.parametrize(
    ("url", "suffix", "expected"),
    [
        ("https://h", "/api", "https://h/api"),
        ("https://h/a/?q=1", "/api", "https://h/a/api?q=1"),
        ("https://h/a/api//", "/api", "https://h/a/api"),
        ("https://h/api/x", "/api", "https://h/api/x/api"),
        ("https://h/aX/", "/api", "https://h/aX/api"),
    ],
)
def test_with_path_suffix(url: str, suffix: str, expected: str) -> None:
    assert with_path_suffix(url, suffix) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost:4317", True),
        ("http://127.0.0.1", True),
        ("http://127.9.9.9:1", True),
        ("http://[::1]:4318/v1/traces", True),
        ("http://10.0.0.1", False),
        ("http://localhost.example.com", False),
        ("http://example.com", False),
        ("not a url", False),
    ],
)
def test_is_loopback(url: str, expected: bool) -> None:
    assert is_loopback(url) is expected
