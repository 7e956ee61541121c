"""Endpoint URLs: validated, and signal paths joined with ``urllib.parse``."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError
from .redaction import redact_url

SIGNAL_PATHS = ("/v1/traces", "/v1/metrics", "/v1/logs")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_MAX_HOST = 253


def validate_host(host: str) -> bool:
    """True for an IP address or a DNS name (ASCII labels of letters, digits, ``-``, ``_``;
    an internationalised name is checked in its IDNA form)."""
    if not host:
        return False
    try:
        ipaddress.ip_address(host)  # an IPv6 zone ("fe80::1%eth0") parses; an IPv4 one does not
        return True
    except ValueError:
        pass
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return False
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > _MAX_HOST:
        return False
    labels = name.split(".")
    if all(label.isdigit() for label in labels):
        return False  # digits only yet not an IPv4 address ("300.1.1.1", "1234")
    return all(_LABEL.match(label) for label in labels)


def validate_endpoint(url: object, source: str) -> str:
    """An ``http(s)://host[:port][/path][?query]`` URL, or a ``ConfigError`` naming ``source``.

    The URL is echoed only redacted. A bare ``/`` path is dropped; nothing else changes.
    """
    if not isinstance(url, str):
        raise ConfigError(f"{source} must be a URL string, got {type(url).__name__}")
    text = url.strip()
    shown = repr(redact_url(text))
    if any(c.isspace() or not c.isprintable() for c in text):
        raise ConfigError(
            f"{source} contains a space or control character (percent-encode it): {shown}"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{source} is not a valid URL: {shown}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{source} must be an http:// or https:// URL with a host, got {shown}")
    if not validate_host(parts.hostname):
        raise ConfigError(f"{source} has an invalid host name: {shown}")
    if port == 0:
        raise ConfigError(f"{source} has port 0: {shown}")
    if "#" in text:
        raise ConfigError(f"{source} must not have a #fragment: {shown}")
    path = "" if parts.path == "/" else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def with_signal_path(url: str, signal: str) -> str:
    """An OTLP/HTTP base URL → its signal URL: ``/v1/<signal>`` joined to the path, before
    the query; trailing slashes dropped; an existing ``/v1/traces|metrics|logs`` replaced.

    ``https://h/otlp/?t=a`` → ``https://h/otlp/v1/traces?t=a``.
    """
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    for known in SIGNAL_PATHS:
        if path.endswith(known):
            path = path[: -len(known)]
            break
    return urlunsplit(parts._replace(path=f"{path}/v1/{signal}"))


def with_path_suffix(url: str, suffix: str) -> str:
    """``url`` with ``suffix`` joined to its path (before any query), unless the path
    already ends with it; trailing slashes dropped first."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith(suffix):
        path += suffix
    return urlunsplit(parts._replace(path=path))


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
