"""Scenarios from data, JSON text, a file or a built-in name, and validation errors in plain
words: every pydantic error becomes one ``path.to.key: message`` line of a
:class:`ScenarioError`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .scenario import KeyedError, Scenario, ScenarioError


def load_scenario(
    source: str | os.PathLike[str] | Mapping[str, Any] | Scenario | None = None,
) -> Scenario:
    """Validate a scenario from a mapping, a JSON file path, JSON text, or the name of a
    built-in scenario (``default``, …); None → ``default``.

    Raises :class:`ScenarioError` naming the offending key with its path.
    """
    if isinstance(source, Scenario):
        return source
    if source is None:
        source = "default"
    if isinstance(source, Mapping):
        return parse_scenario(source)
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return parse_scenario(_json(source, "<json text>"))
    if isinstance(source, str) and source in builtin_scenarios():
        text = resources.files(__package__).joinpath(f"scenarios/{source}.json").read_text()
        return parse_scenario(_json(text, f"{source}.json"))
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(
            f"cannot read scenario file {str(path)!r}: {e} "
            f"(built-in scenarios: {', '.join(builtin_scenarios())})"
        ) from e
    return parse_scenario(_json(text, str(path)))


def builtin_scenarios() -> list[str]:
    """The names of the scenarios shipped in ``lk_otel/simulation/scenarios``."""
    folder = resources.files(__package__).joinpath("scenarios")
    return sorted(
        p.name[: -len(".json")]
        for p in folder.iterdir()
        if p.name.endswith(".json") and not p.name.endswith(".schema.json")
    )


def parse_scenario(data: Any) -> Scenario:
    """Validate plain data as a Scenario; errors become one :class:`ScenarioError`."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(_describe(e)) from None


def _json(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioError(f"{origin}: invalid JSON: {e}") from e


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required",
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "finite_number": "must be a finite number",
    "float_type": "expected a number of seconds",
    "int_type": "expected an integer",
    "string_type": "expected a string",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "must match {pattern}",
    "too_short": "must not be empty",
    "bool_type": "expected true or false",
}


def _errors(error: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[str]:
    out: list[str] = []
    items = error.errors()
    failed = [prefix + tuple(item["loc"]) for item in items]
    for item in items:
        loc = prefix + tuple(item["loc"])
        if item["type"] == "default_factory_not_called":
            continue  # a consequence of an error reported on a field it depends on
        if item["type"] == "too_short" and any(f[: len(loc)] == loc != f for f in failed):
            continue  # items of the list failed: those errors say why
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, ValidationError):  # a model validated inside a validator
            out += _errors(cause, loc)
            continue
        if isinstance(cause, KeyedError):
            where = _path(loc)
            key = cause.key
            out.append(f"{where}{'' if key.startswith('[') or not where else '.'}{key}: {cause}")
            continue
        template = _MESSAGES.get(item["type"])
        if template is not None:
            ctx = {
                k: f"{v:g}" if isinstance(v, float) else v
                for k, v in (item.get("ctx") or {}).items()
            }
            message = template.format(**ctx)
        else:
            message = item["msg"].removeprefix("Value error, ")
        if item["type"] not in ("missing", "extra_forbidden") and item["type"] in _MESSAGES:
            message += f", got {item['input']!r}"
        elif item["type"] == "extra_forbidden":
            message += f" {loc[-1]!r}"
        out.append(f"{_path(loc) or 'scenario'}: {message}")
    return out


def _describe(error: ValidationError) -> str:
    """All errors, the first one first: ``turns[2].llm[0].ttft: must be >= 0, got -1``."""
    errors = _errors(error)
    return "; ".join(errors) if errors else str(error)
