"""``configure.resource``: precedence of the service name and the attribute checks."""

from __future__ import annotations

import pytest
from unit_helpers import error

from lk_otel.configure import resource
from lk_otel.configure.resource import build_resource, check_attributes


def _attrs(env: dict, **kwargs: object) -> dict:
    args = {"service_name": None, "service_version": None, "environment": None, "extra": None}
    args.update(kwargs)
    return dict(build_resource(env, **args).attributes)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_agent_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "_agent_name", lambda: None)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)


def test_defaults() -> None:
    attrs = _attrs({})
    assert attrs["service.name"] == "livekit-agent"
    assert attrs["telemetry.distro.name"] == "lk_otel"
    assert "service.version" not in attrs
    assert "deployment.environment.name" not in attrs


def test_the_agent_name_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "_agent_name", lambda: "booking-agent")
    assert _attrs({})["service.name"] == "booking-agent"
    assert _attrs({"OTEL_SERVICE_NAME": "from-env"})["service.name"] == "from-env"


def test_argument_over_variable_over_resource_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=ra,team=voice")
    env = {"OTEL_RESOURCE_ATTRIBUTES": "service.name=ra,team=voice"}
    assert _attrs(env)["service.name"] == "ra"
    assert _attrs(env)["team"] == "voice"
    env["OTEL_SERVICE_NAME"] = "sn"
    assert _attrs(env)["service.name"] == "sn"
    assert _attrs(env, service_name="arg")["service.name"] == "arg"


def test_version_environment_and_extra() -> None:
    attrs = _attrs(
        {},
        service_version="1.2",
        environment="prod",
        extra={"team": "voice", "telemetry.distro.name": "mine"},
    )
    assert attrs["service.version"] == "1.2"
    assert attrs["deployment.environment.name"] == "prod"
    assert attrs["team"] == "voice"
    assert attrs["telemetry.distro.name"] == "mine"


def test_argument_errors() -> None:
    assert error(_attrs, {}, service_name="") == "service_name must be a non-empty string, got ''"
    assert (
        error(_attrs, {}, service_version=1) == "service_version must be a non-empty string, got 1"
    )
    assert error(_attrs, {}, environment=" ") == "environment must be a non-empty string, got ' '"
    assert error(_attrs, {}, extra=[1]) == (
        "resource_attributes must be a mapping of str keys to attribute values"
    )


def test_malformed_resource_attributes_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert error(_attrs, {"OTEL_RESOURCE_ATTRIBUTES": "a=1,,b"}) == (
        "OTEL_RESOURCE_ATTRIBUTES: entry 3 is not key=value"
    )
    assert error(_attrs, {"OTEL_RESOURCE_ATTRIBUTES": "a=1, =2"}) == (
        "OTEL_RESOURCE_ATTRIBUTES: entry 2 is not key=value"
    )
    assert error(_attrs, {"OTEL_RESOURCE_ATTRIBUTES": "=a=b"}) == (
        "OTEL_RESOURCE_ATTRIBUTES: entry 1 is not key=value"
    )
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "a=1, ,b=2")
    attrs = _attrs({"OTEL_RESOURCE_ATTRIBUTES": "a=1, ,b=2"})
    assert (attrs["a"], attrs["b"]) == ("1", "2")


@pytest.mark.parametrize(
    "value",
    [None, {}, {"a": "x", "b": True, "c": 1, "d": 1.5, "e": ["x", "y"], "f": (1, 2), "g": []}],
)
def test_valid_attributes(value: object) -> None:
    check_attributes(value, "src")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a=1", "src must be a mapping of str keys to attribute values"),
        ({1: "x"}, "src: every key must be a non-empty string, got 1"),
        ({" ": "x"}, "src: every key must be a non-empty string, got ' '"),
        ({"k": None}, "src['k'] must be a str, bool, int or float (or a list of one of them)"),
        ({"k": [1, "a"]}, "src['k'] must be a str, bool, int or float (or a list of one of them)"),
        ({"k": [True, 1]}, "src['k'] must be a str, bool, int or float (or a list of one of them)"),
        ({"k": [1, 1.5]}, "src['k'] must be a str, bool, int or float (or a list of one of them)"),
        ({"k": {"a": 1}}, "src['k'] must be a str, bool, int or float (or a list of one of them)"),
    ],
)
def test_invalid_attributes(value: object, message: str) -> None:
    assert error(check_attributes, value, "src") == message


def test_kind_puts_bool_before_int() -> None:
    assert resource._kind(True) is bool
    assert resource._kind(1) is int
    assert resource._kind(1.0) is float
    assert resource._kind("a") is str
    assert resource._kind(None) is None


def test_agent_name_comes_from_the_current_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real _agent_name, with the job lookup replaced
    job = object()
    monkeypatch.setattr(resource._compat, "current_job_context", lambda: job)
    monkeypatch.setattr(
        resource._compat, "job_identity", lambda j: {"agent_name": "a1"} if j is job else {}
    )
    assert resource._agent_name() == "a1"
    monkeypatch.setattr(resource._compat, "current_job_context", lambda: None)
    assert resource._agent_name() is None
