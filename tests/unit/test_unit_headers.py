"""``configure.headers``: parsing and the HTTP / gRPC checks, exact messages."""

from __future__ import annotations

import pytest
from unit_helpers import error

from lk_otel.configure.headers import (
    GRPC_HEADERS_BUDGET,
    GRPC_KEY,
    HTTP_TOKEN,
    grpc_metadata_size,
    parse_headers,
    validate_headers,
)


def test_parse_a_mapping_lower_cases_names() -> None:
    assert parse_headers({"X-Api-Key": "V", "b": ""}, "h") == {"x-api-key": "V", "b": ""}


def test_parse_a_string() -> None:
    assert parse_headers(" A=1 , b = x%20y ,, c=d=e,", "h") == {"a": "1", "b": "x y", "c": "d=e"}
    assert parse_headers("x%2Dk=v", "h") == {"x-k": "v"}
    assert parse_headers("", "h") == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a=1,b", "h: entry 2 is not 'key=value' (expected k1=v1,k2=v2)"),
        ("a=1, =2", "h: entry 2 is not 'key=value' (expected k1=v1,k2=v2)"),
        (3, "h must be a mapping of header names to values or a 'k1=v1,k2=v2' string, got int"),
        (
            "a b=1",
            "h: entry 1 has no valid header name (names are ASCII letters, digits and "
            "!#$%&'*+-.^_`|~; no spaces or ':')",
        ),
        (
            {"ok": "1", "Authorization: Basic": "x"},
            "h: entry 2 has no valid header name (names "
            "are ASCII letters, digits and !#$%&'*+-.^_`|~; no spaces or ':')",
        ),
        (
            {"": "x"},
            "h: entry 1 has no valid header name (names are ASCII letters, digits and "
            "!#$%&'*+-.^_`|~; no spaces or ':')",
        ),
        (
            {1: "x"},
            "h: entry 1 has no valid header name (names are ASCII letters, digits and "
            "!#$%&'*+-.^_`|~; no spaces or ':')",
        ),
        ({"K": 1}, "h: header 'k' must have a string value, got int"),
        ("A=1,a=2", "h: header 'a' is given twice"),
    ],
)
def test_parse_errors(value: object, message: str) -> None:
    assert error(parse_headers, value, "h") == message


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_headers_both_protocols_send(protocol: str) -> None:
    validate_headers({"x-api-key": "a b~!", "authorization": "Bearer x"}, protocol, "h")


def test_http_allows_a_tab_inside_and_names_grpc_refuses() -> None:
    validate_headers(
        {"x": "a\tb", "X_Y": "v", "grpc-x": "v", "a-bin": "v", "te": "v"}, "http/protobuf", "h"
    )


@pytest.mark.parametrize(
    ("headers", "protocol", "message"),
    [
        (
            {"content-type": "x"},
            "http/protobuf",
            "h: header 'content-type' is set by the exporter itself; remove it",
        ),
        (
            {"content-encoding": "x"},
            "http/protobuf",
            "h: header 'content-encoding' is set by the exporter itself; remove it",
        ),
        (
            {"content-length": "1"},
            "http/protobuf",
            "h: header 'content-length' is set by the exporter itself; remove it",
        ),
        (
            {"transfer-encoding": "x"},
            "http/protobuf",
            "h: header 'transfer-encoding' is set by the exporter itself; remove it",
        ),
        (
            {"content-type": "x"},
            "grpc",
            "h: header 'content-type' is set by the exporter itself; remove it",
        ),
        ({"te": "x"}, "grpc", "h: header 'te' is set by the exporter itself; remove it"),
        ({"k": "é"}, "http/protobuf", "h: header 'k' has a non-ASCII value; percent-encode it"),
        ({"k": "a\nb"}, "http/protobuf", "h: header 'k' has a control character in its value"),
        ({"k": "a\x7fb"}, "http/protobuf", "h: header 'k' has a control character in its value"),
        ({"k": "a\x1fb"}, "http/protobuf", "h: header 'k' has a control character in its value"),
        ({"k": "a\tb"}, "grpc", "h: header 'k' has a control character in its value"),
        (
            {"k": " v"},
            "http/protobuf",
            "h: header 'k' has a value starting or ending with whitespace",
        ),
        (
            {"k": "v\t"},
            "http/protobuf",
            "h: header 'k' has a value starting or ending with whitespace",
        ),
        ({"k": "v "}, "grpc", "h: header 'k' has a value starting or ending with whitespace"),
        (
            {"x~k": "v"},
            "grpc",
            "h: header 'x~k' cannot be sent over gRPC: metadata names allow only a-z, 0-9, '-', "
            "'_' and '.'",
        ),
        (
            {"X": "v"},
            "grpc",
            "h: header 'X' cannot be sent over gRPC: metadata names allow only a-z, 0-9, '-', "
            "'_' and '.'",
        ),
        (
            {"grpc-timeout": "v"},
            "grpc",
            "h: header 'grpc-timeout' cannot be sent over gRPC: 'grpc-' names are reserved",
        ),
        (
            {"a-bin": "v"},
            "grpc",
            "h: header 'a-bin' cannot be sent over gRPC: '-bin' names carry binary values, and "
            "header values here are text",
        ),
    ],
)
def test_header_errors(headers: dict, protocol: str, message: str) -> None:
    assert error(validate_headers, headers, protocol, "h") == message


def test_grpc_names_with_allowed_characters_pass() -> None:
    validate_headers({"a-z_0.9": "v", "xgrpc-a": "v", "a-binx": "v"}, "grpc", "h")


def test_grpc_metadata_size_counts_bytes_and_32_per_entry() -> None:
    assert grpc_metadata_size({}) == 0
    assert grpc_metadata_size({"ab": "cde"}) == 37
    assert grpc_metadata_size({"a": "é", "b": ""}) == (1 + 2 + 32) + (1 + 0 + 32)


def test_grpc_budget_is_7168_bytes_inclusive() -> None:
    assert GRPC_HEADERS_BUDGET == 7168
    at_limit = {"k": "v" * (7168 - 32 - 1)}
    validate_headers(at_limit, "grpc", "h")
    validate_headers({"k": "v" * 8000}, "http/protobuf", "h")  # no size limit over HTTP
    over = {"small": "x", "big": "v" * (7168 - 32 - 3 - 32 - 5 - 1 + 1)}
    assert grpc_metadata_size(over) == 7169
    assert error(validate_headers, over, "grpc", "SRC") == (
        "SRC: the headers take 7169 bytes of gRPC metadata (name + value + 32 each; largest "
        "'big'); gRPC servers accept 8192 by default, 1024 of them used by the exporter: at "
        "most 7168"
    )


def test_names_may_use_every_allowed_character() -> None:
    every_token_char = "".join(sorted(HTTP_TOKEN))
    assert parse_headers({every_token_char: "v"}, "h") == {every_token_char.lower(): "v"}
    every_grpc_char = "".join(sorted(GRPC_KEY))
    validate_headers({every_grpc_char: "v"}, "grpc", "h")


def test_values_may_start_and_end_with_any_visible_character() -> None:
    validate_headers({"k": "XvX", "j": "\\x"}, "http/protobuf", "h")
    validate_headers({"k": "XvX"}, "grpc", "h")
