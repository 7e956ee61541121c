"""Typed, validated reads of arguments and environment variables."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError

Environ = Mapping[str, str]


def first_env(env: Environ, *names: str) -> tuple[str, str] | None:
    """The first of ``names`` set to a non-empty value, as ``(name, value)``."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def parse_bool(value: str, source: str) -> bool:
    """``true``/``false`` (any case, also 1/0, yes/no) or a ``ConfigError`` naming ``source``."""
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{source} must be true or false, got {value!r}")


def parse_positive_float(value: str | float, source: str) -> float:
    """A finite float > 0, or a ``ConfigError`` naming ``source``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source} must be a number, got {value!r}") from None
    if not number > 0 or not math.isfinite(number):
        raise ConfigError(f"{source} must be a finite number greater than 0, got {value!r}")
    return number


def parse_headers(value: str | Mapping[str, str], source: str) -> dict[str, str]:
    """Headers from a mapping or a W3C-style ``k1=v1,k2=v2`` string (values URL-encoded).

    Errors name ``source`` and the offending key, never a value: values are secrets.
    """
    if isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
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
    headers: dict[str, str] = {}
    for position, (key, header_value) in enumerate(pairs, start=1):
        if not key or any(c in key for c in " \t\r\n:"):
            # not echoed: a pasted "Authorization: Basic abc==" puts the secret in the name
            raise ConfigError(
                f"{source}: entry {position} has no valid header name "
                "(expected k1=v1,k2=v2; names cannot contain spaces or ':')"
            )
        if any(c in header_value for c in "\r\n"):
            raise ConfigError(f"{source}: header {key!r} is not a valid HTTP header")
        headers[key.lower()] = header_value
    return headers


def validate_endpoint(url: str, source: str) -> str:
    """An ``http(s)://host[:port][/path]`` URL, or a ``ConfigError`` naming ``source``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(f"{source} is not a valid URL: {without_userinfo(url)!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{source} must be an http:// or https:// URL with a host, "
            f"got {without_userinfo(url)!r}"
        )
    if port == 0:
        raise ConfigError(f"{source} has port 0: {without_userinfo(url)!r}")
    return url.strip().rstrip("/") if parts.path in ("", "/") else url.strip()


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def without_userinfo(url: str) -> str:
    """``url`` without any user:password part, for error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not parseable (e.g. "http://[::1"): cut any userinfo by hand
        return re.sub(r"//[^/?#]*@", "//", url)
    if parts.username or parts.password:
        return url.replace(parts.netloc, parts.hostname or "", 1)
    return url


def environ() -> Environ:
    """A snapshot of the process environment."""
    return dict(os.environ)
