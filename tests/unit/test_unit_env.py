"""``configure.env``: typed reads of arguments and variables, exact results and messages."""

from __future__ import annotations

import math

import pytest
from unit_helpers import error

from lk_otel.configure import env


def test_first_env_takes_the_first_non_empty_value_stripped() -> None:
    environ = {"A": "  ", "B": " b ", "C": "c"}
    assert env.first_env(environ, "A", "B", "C") == ("B", "b")
    assert env.first_env(environ, "C", "B") == ("C", "c")
    assert env.first_env(environ, "A", "Z") is None
    assert env.first_env(environ) is None


@pytest.mark.parametrize("text", ["true", " TRUE ", "1", "yes", "On"])
def test_parse_bool_true(text: str) -> None:
    assert env.parse_bool(text, "X") is True


@pytest.mark.parametrize("text", ["false", " False", "0", "NO", "off"])
def test_parse_bool_false(text: str) -> None:
    assert env.parse_bool(text, "X") is False


def test_parse_bool_error_names_the_source_and_value() -> None:
    assert error(env.parse_bool, "maybe", "VAR") == "VAR must be true or false, got 'maybe'"


def test_parse_flag() -> None:
    assert env.parse_flag(True, "x") is True
    assert env.parse_flag(False, "x") is False
    assert env.parse_flag("off", "x") is False
    assert env.parse_flag("on", "x") is True
    assert error(env.parse_flag, "maybe", "arg") == "arg must be true or false, got 'maybe'"
    assert error(env.parse_flag, 1, "arg") == "arg must be True or False, got int"
    assert error(env.parse_flag, None, "arg") == "arg must be True or False, got NoneType"


def test_parse_positive_float_values() -> None:
    assert env.parse_positive_float(2, "t") == 2.0
    assert env.parse_positive_float("0.5", "t") == 0.5
    assert env.parse_positive_float(1e-9, "t") == 1e-9
    assert env.parse_positive_float(3.0, "t", at_least=3.0, at_most=3.0) == 3.0


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (True, {}, "t must be a number, got bool"),
        (None, {}, "t must be a number, got NoneType"),
        ([1], {}, "t must be a number, got list"),
        ("abc", {}, "t must be a number, got 'abc'"),
        (0, {}, "t must be a finite number greater than 0, got 0"),
        (-1.5, {}, "t must be a finite number greater than 0, got -1.5"),
        (math.inf, {}, "t must be a finite number greater than 0, got inf"),
        ("nan", {}, "t must be a finite number greater than 0, got 'nan'"),
        (0.5, {"at_least": 1.0}, "t must be at least 1, got 0.5"),
        (2.5, {"at_most": 2.0}, "t must be at most 2, got 2.5"),
    ],
)
def test_parse_positive_float_errors(value: object, kwargs: dict, message: str) -> None:
    assert error(env.parse_positive_float, value, "t", **kwargs) == message


def test_parse_count() -> None:
    assert env.parse_count(1, "n") == 1
    assert env.parse_count(5, "n", at_least=5) == 5
    assert env.parse_count(0, "n", at_least=0) == 0
    assert error(env.parse_count, 0, "n") == "n must be an integer of at least 1, got 0"
    assert error(env.parse_count, 4, "n", at_least=5) == "n must be an integer of at least 5, got 4"
    assert error(env.parse_count, True, "n") == "n must be an integer of at least 1, got True"
    assert error(env.parse_count, 2.0, "n") == "n must be an integer of at least 1, got 2.0"


def test_parse_text() -> None:
    assert env.parse_text(None, "s") is None
    assert env.parse_text(" a ", "s") == " a "
    assert error(env.parse_text, None, "s", optional=False) == (
        "s must be a non-empty string, got None"
    )
    assert error(env.parse_text, "  ", "s") == "s must be a non-empty string, got '  '"
    assert error(env.parse_text, 3, "s") == "s must be a non-empty string, got 3"


def test_environ_is_a_copy_of_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LK_OTEL_UNIT_PROBE", "v")
    snapshot = env.environ()
    assert snapshot["LK_OTEL_UNIT_PROBE"] == "v"
    assert type(snapshot) is dict
    monkeypatch.setenv("LK_OTEL_UNIT_PROBE", "w")
    assert snapshot["LK_OTEL_UNIT_PROBE"] == "v"
