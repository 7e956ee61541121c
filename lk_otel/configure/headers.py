"""Export headers: parsed, then checked against what HTTP and gRPC can send.

Errors name the argument or variable and the header, never a value (values are secrets),
and never an invalid name (a pasted ``Authorization: Basic …`` puts the secret there):
such an entry is named by its position.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from urllib.parse import unquote

from ..errors import ConfigError

# RFC 9110 §5.6.2 token characters
HTTP_TOKEN = frozenset("!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters)
# gRPC metadata keys (PROTOCOL-HTTP2.md): lower-case ASCII letters, digits, "-", "_", "."
GRPC_KEY = frozenset(string.digits + string.ascii_lowercase + "-_.")
# gRPC's default metadata limit, counted as HTTP/2 does: name + value + 32 per entry
GRPC_METADATA_LIMIT = 8192
GRPC_ENTRY_OVERHEAD = 32
# left for what the exporter and gRPC add (:path, :authority, user-agent, te, grpc-*)
GRPC_RESERVED = 1024
GRPC_HEADERS_BUDGET = GRPC_METADATA_LIMIT - GRPC_RESERVED
# set by the exporter itself from protocol/compression: a user value would break the request
_HTTP_OWN = frozenset({"content-type", "content-encoding", "content-length", "transfer-encoding"})
_GRPC_OWN = frozenset({"content-type", "te"})


def parse_headers(value: object, source: str) -> dict[str, str]:
    """Headers from a mapping or a W3C-style ``k1=v1,k2=v2`` string (URL-encoded).

    Names are lower-cased (gRPC requires it; HTTP names are case-insensitive) and must be
    RFC 9110 tokens; a name given twice is an error.
    """
    if isinstance(value, Mapping):
        pairs: list[tuple[object, object]] = list(value.items())
    elif isinstance(value, str):
        pairs = []
        for position, item in enumerate(value.split(","), start=1):
            if not item.strip():
                continue
            key, sep, raw = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(
                    f"{source}: entry {position} is not 'key=value' (expected k1=v1,k2=v2)"
                )
            pairs.append((unquote(key.strip()), unquote(raw.strip())))
    else:
        raise ConfigError(
            f"{source} must be a mapping of header names to values or a 'k1=v1,k2=v2' "
            f"string, got {type(value).__name__}"
        )
    headers: dict[str, str] = {}
    for position, (key, item) in enumerate(pairs, start=1):
        if not isinstance(key, str) or not key or not set(key) <= HTTP_TOKEN:
            raise ConfigError(
                f"{source}: entry {position} has no valid header name (names are ASCII "
                "letters, digits and !#$%&'*+-.^_`|~; no spaces or ':')"
            )
        name = key.lower()
        if not isinstance(item, str):
            raise ConfigError(
                f"{source}: header {name!r} must have a string value, got {type(item).__name__}"
            )
        if name in headers:
            raise ConfigError(f"{source}: header {name!r} is given twice")
        headers[name] = item
    return headers


def validate_headers(headers: Mapping[str, str], protocol: str, source: str) -> None:
    """Raise a ``ConfigError`` for a header ``protocol`` (``grpc`` or ``http/protobuf``)
    cannot send: RFC 9110 field values for HTTP; gRPC metadata rules and size for gRPC."""
    grpc = protocol == "grpc"
    for name, value in headers.items():
        where = f"{source}: header {name!r}"
        if name in (_GRPC_OWN if grpc else _HTTP_OWN):
            raise ConfigError(f"{where} is set by the exporter itself; remove it")
        if not value.isascii():
            raise ConfigError(f"{where} has a non-ASCII value; percent-encode it")
        allowed_tab = "" if grpc else "\t"
        if any((c < " " and c not in allowed_tab) or c == "\x7f" for c in value):
            raise ConfigError(f"{where} has a control character in its value")
        if value != value.strip(" \t"):
            raise ConfigError(f"{where} has a value starting or ending with whitespace")
        if grpc:
            _check_grpc_name(name, where)
    if grpc:
        size = grpc_metadata_size(headers)
        if size > GRPC_HEADERS_BUDGET:
            largest = max(headers, key=lambda k: len(k) + len(headers[k]))
            raise ConfigError(
                f"{source}: the headers take {size} bytes of gRPC metadata (name + value + "
                f"{GRPC_ENTRY_OVERHEAD} each; largest {largest!r}); gRPC servers accept "
                f"{GRPC_METADATA_LIMIT} by default, {GRPC_RESERVED} of them used by the "
                f"exporter: at most {GRPC_HEADERS_BUDGET}"
            )


def grpc_metadata_size(headers: Mapping[str, str]) -> int:
    """Bytes ``headers`` take against gRPC's metadata limit (as HTTP/2 counts them)."""
    return sum(len(k.encode()) + len(v.encode()) + GRPC_ENTRY_OVERHEAD for k, v in headers.items())


def _check_grpc_name(name: str, where: str) -> None:
    if not set(name) <= GRPC_KEY:
        raise ConfigError(
            f"{where} cannot be sent over gRPC: metadata names allow only a-z, 0-9, '-', "
            "'_' and '.'"
        )
    if name.startswith("grpc-"):
        raise ConfigError(f"{where} cannot be sent over gRPC: 'grpc-' names are reserved")
    if name.endswith("-bin"):
        raise ConfigError(
            f"{where} cannot be sent over gRPC: '-bin' names carry binary values, and "
            "header values here are text"
        )
