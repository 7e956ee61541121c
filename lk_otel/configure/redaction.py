"""Secrets out of anything shown: URL credentials, secret query values, header values.

Everything here is text in, text out; nothing parses strictly, so a malformed URL in an
error message is redacted too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _random
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

MASK = "***"
# a query parameter whose name contains one of these holds a secret
_SECRET_FRAGMENTS = (
    "key",
    "token",
    "secret",
    "signature",
    "password",
    "passwd",
    "auth",
    "credential",
    "session",
    "jwt",
    "bearer",
)
# ... or whose name is (or has a part equal to) one of these short words
_SECRET_WORDS = frozenset({"sig", "pwd", "pass", "sas", "code"})
_MIN_SECRET = 4  # shorter header values are not searched for (they would mask common words)
_PROCESS_KEY = _random.token_bytes(32)  # never shown: a fingerprint reveals nothing outside


def is_secret_name(name: str) -> bool:
    """True when a query parameter called ``name`` likely carries a credential."""
    lowered = unquote(name).strip().lower()
    if any(fragment in lowered for fragment in _SECRET_FRAGMENTS):
        return True
    return any(word in _SECRET_WORDS for word in re.split(r"[^a-z0-9]+", lowered))


def redact_query(query: str) -> str:
    """``a=1&api_key=s`` → ``a=1&api_key=***``; a value-less item is masked whole."""
    items = []
    for item in query.split("&"):
        name, sep, value = item.partition("=")
        if not sep:
            items.append(MASK if item else item)
        elif is_secret_name(name) and value:
            items.append(f"{name}={MASK}")
        else:
            items.append(item)
    return "&".join(items)


def redact_url(url: str) -> str:
    """``url`` with its user:password, secret query values and fragment masked.

    Works on any text shaped like a URL (also unparseable ones, as in error messages):
    ``https://u:p@h/v1/traces?tenant=a&api_key=s`` → ``https://***@h/v1/traces?tenant=a&api_key=***``.
    """
    rest, hash_sign, fragment = url.partition("#")
    rest, question, query = rest.partition("?")
    scheme, sep, remainder = rest.partition("://")
    if not sep:
        scheme, remainder = "", rest
    authority, slash, path = remainder.partition("/")
    if "@" in authority:
        authority = f"{MASK}@{authority.rpartition('@')[2]}"
    out = f"{scheme}{sep}{authority}{slash}{path}"
    if question:
        out += "?" + redact_query(query)
    if hash_sign:
        out += "#" + (MASK if fragment else "")
    return out


def header_secrets(headers: Mapping[str, str]) -> set[str]:
    """Values to hide from text: each header value, its token after a scheme word
    (``Bearer x``), and both halves of a Basic token."""
    found: set[str] = set()
    for value in headers.values():
        scheme, _, token = value.partition(" ")
        found.update(v for v in (value, token.strip()) if len(v) >= _MIN_SECRET)
        if scheme.lower() == "basic" and token:
            try:
                pair = base64.b64decode(token.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
            found.update(v for v in pair.split(":", 1) if len(v) >= _MIN_SECRET)
    return found


def url_secrets(url: str) -> set[str]:
    """The user:password and secret query values of ``url`` (raw and percent-decoded)."""
    found: set[str] = set()
    rest = url.partition("#")[0]
    rest, _, query = rest.partition("?")
    authority = rest.partition("://")[2].partition("/")[0]
    if "@" in authority:
        userinfo = authority.rpartition("@")[0]
        found.update([userinfo, *userinfo.split(":", 1)])
    for item in query.split("&"):
        name, sep, value = item.partition("=")
        if sep and is_secret_name(name):
            found.update([value, unquote(value)])
    return {s for s in found if len(s) >= _MIN_SECRET}


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (longest first) replaced by ``***``."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def fingerprint(values: Iterable[str]) -> str:
    """12 hex digits that differ when ``values`` differ, keyed with a random per-process key:
    two reprs can be told apart without the secrets being guessable from them."""
    digest = hmac.new(_PROCESS_KEY, digestmod=hashlib.sha256)
    for value in sorted(values):
        digest.update(value.encode() + b"\0")
    return digest.hexdigest()[:12]
