"""``configure.redaction``: what is masked in URLs and text, exactly."""

from __future__ import annotations

import base64

import pytest

from lk_otel.configure import redaction as r


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "KEY",
        "access-token",
        "client_secret",
        "x-amz-signature",
        "password",
        "passwd",
        "Authorization",
        "credentials",
        "sessionid",
        "jwt",
        "bearer",
        "sig",
        "x.pwd",
        "pass",
        "sv-sas",
        "code",
        "%20Token",
        "a_CODE_b",
    ],
)
def test_secret_names(name: str) -> None:
    assert r.is_secret_name(name) is True


@pytest.mark.parametrize(
    "name", ["tenant", "region", "signal", "passage", "codex", "sass", "", "sigma"]
)
def test_not_secret_names(name: str) -> None:
    assert r.is_secret_name(name) is False


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=1&api_key=s", "a=1&api_key=***"),
        ("token=", "token="),
        ("flag&b=2", "***&b=2"),
        ("a=1&&b=2", "a=1&&b=2"),
        ("", ""),
        ("tenant=a=b&sig=x=y", "tenant=a=b&sig=***"),
    ],
)
def test_redact_query(query: str, expected: str) -> None:
    assert r.redact_query(query) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://u:p@h/v1/traces?tenant=a&api_key=s",
            "https://***@h/v1/traces?tenant=a&api_key=***",
        ),
        ("https://a@b@h:1/x@y", "https://***@h:1/x@y"),
        ("h/x?token=t#frag", "h/x?token=***#***"),
        ("u:p@h", "***@h"),
        ("https://h/p#", "https://h/p#"),
        ("https://h?", "https://h?"),
        ("https://h/a/b/c", "https://h/a/b/c"),
        ("https://h/p?a=1#x?key=2", "https://h/p?a=1#***"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert r.redact_url(url) == expected


def test_header_secrets() -> None:
    basic = base64.b64encode(b"pk-lf-1234:sk-lf-5678").decode()
    found = r.header_secrets(
        {"authorization": f"Basic {basic}", "x-key": "Bearer  tok123 ", "s": "abc"}
    )
    assert found == {
        f"Basic {basic}",
        basic,
        "pk-lf-1234",
        "sk-lf-5678",
        "Bearer  tok123 ",
        "tok123",
    }


def test_header_secrets_short_parts_and_bad_basic_tokens() -> None:
    short = base64.b64encode(b"ab:cdefg").decode()
    assert r.header_secrets({"a": f"basic {short}"}) == {f"basic {short}", short, "cdefg"}
    assert r.header_secrets({"a": "Basic not-base64!"}) == {"Basic not-base64!", "not-base64!"}
    undecodable = base64.b64encode(b"\xff\xfe\xfd").decode()
    assert r.header_secrets({"a": f"Basic {undecodable}"}) == {f"Basic {undecodable}", undecodable}
    assert r.header_secrets({"a": "Basic"}) == {"Basic"}
    assert r.header_secrets({"a": "abcd", "b": "abc"}) == {"abcd"}
    nocolon = base64.b64encode(b"onlyuser").decode()
    assert r.header_secrets({"a": f"Basic {nocolon}"}) == {f"Basic {nocolon}", nocolon, "onlyuser"}
    pair = base64.b64encode(b"user:pa:ss").decode()
    assert "pa:ss" in r.header_secrets({"a": f"Basic {pair}"})


def test_url_secrets() -> None:
    url = "https://user1:pass1234@h:1/p?api_key=k%2F12&tenant=acme&token=abc&x#token=zzzz"
    assert r.url_secrets(url) == {"user1:pass1234", "user1", "pass1234", "k%2F12", "k/12"}
    assert r.url_secrets("https://h/p") == set()
    assert r.url_secrets("https://onlyuser@h/") == {"onlyuser"}
    assert r.url_secrets("https://ab@cd@h/") == {"ab@cd"}
    assert r.url_secrets("https://h/a@b?k=") == set()


def test_redact_text_longest_first_and_ignores_empty() -> None:
    assert r.redact_text("abcdef abc", ["abc", "abcdef", ""]) == "*** ***"
    assert r.redact_text("nothing", []) == "nothing"
    assert r.redact_text("a-a-a", ["a"]) == "***-***-***"


def test_fingerprint() -> None:
    one = r.fingerprint(["a", "b"])
    assert len(one) == 12
    assert set(one) <= set("0123456789abcdef")
    assert one == r.fingerprint(["b", "a"])
    assert one != r.fingerprint(["ab"])
    assert r.fingerprint(["a", "b"]) != r.fingerprint(["a", "c"])
    import hashlib
    import hmac

    expected = hmac.new(r._PROCESS_KEY, b"a\0b\0", hashlib.sha256).hexdigest()[:12]
    assert one == expected


def test_header_secrets_decode_only_valid_basic_tokens() -> None:
    token = base64.b64encode(b"user1:pass1").decode()
    broken = token[:4] + "!" + token[4:]  # not base64: not decoded (no guessing)
    assert r.header_secrets({"a": f"Basic {broken}"}) == {f"Basic {broken}", broken}
    bearer = base64.b64encode(b"abcd:efgh").decode()
    assert r.header_secrets({"a": f"Bearer {bearer}"}) == {f"Bearer {bearer}", bearer}
    four = base64.b64encode(b"abcd:efghi").decode()
    assert r.header_secrets({"a": f"Basic {four}"}) == {f"Basic {four}", four, "abcd", "efghi"}


def test_header_secrets_go_on_after_an_undecodable_token() -> None:
    found = r.header_secrets({"a": "Basic !!!!", "b": "Bearer tok12345"})
    assert found == {"Basic !!!!", "!!!!", "Bearer tok12345", "tok12345"}


def test_redact_text_replaces_the_longest_secret_first() -> None:
    assert r.redact_text("xab", ["b", "ab"]) == "x***"


def test_redaction_reads_the_first_scheme_separator_and_authority() -> None:
    assert r.redact_url("https://u:p@h/redirect/http://x") == "https://***@h/redirect/http://x"
    assert r.url_secrets("https://user1:pass1@h/r/http://x") == {"user1:pass1", "user1", "pass1"}
    assert r.url_secrets("https://host/user@x/y") == set()
    assert r.url_secrets("https://user1:pass:word@h/") == {"user1:pass:word", "user1", "pass:word"}
    assert r.url_secrets("https://h/?token=a=bcde") == {"a=bcde"}
