"""Scenario files as pydantic models: path-qualified errors, absurd values, the schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lk_otel.simulation import ScenarioError, builtin_scenarios, load_scenario
from lk_otel.simulation.scenario import MAX_TOKENS
from lk_otel.simulation.schema import SCHEMA_PATH, main, schema_text


def _minimal(**turn: Any) -> dict[str, Any]:
    return {"turns": [{"user": {"text": "Hi there"}, "llm": [{"text": "Hello!"}], **turn}]}


def _error(data: Any) -> str:
    with pytest.raises(ScenarioError) as error:
        load_scenario(data)
    return str(error.value)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"llm": [{"text": "a", "ttft": -1}]}, "turns[0].llm[0].ttft: must be >= 0, got -1"),
        (
            {"llm": [{"text": "a", "ttft": float("nan")}]},
            "turns[0].llm[0].ttft: must be a finite number",
        ),
        (
            {"llm": [{"text": "a", "duration": float("inf")}]},
            "turns[0].llm[0].duration: must be a finite number",
        ),
        ({"llm": [{"text": "a", "ttft": 86400}]}, "turns[0].llm[0].ttft: must be <= 3600"),
        (
            {"llm": [{"text": "a", "input_tokens": 2**63}]},
            f"turns[0].llm[0].input_tokens: must be <= {MAX_TOKENS}",
        ),
        (
            {"llm": [{"text": "a", "output_tokens": 10**20}]},
            "turns[0].llm[0].output_tokens: must be <= ",
        ),
        (
            {"llm": [{"text": "a", "input_tokens": True}]},
            "turns[0].llm[0].input_tokens: expected an integer",
        ),
        (
            {"llm": [{"text": "a", "ttft": "0.5"}]},
            "turns[0].llm[0].ttft: expected a number of seconds",
        ),
        ({"user": {"text": "x", "start": {"after": "agent_thinks"}}}, "turns[0].user.start.after:"),
        (
            {"user": {"text": "x", "interim": [{"at": 9, "text": "x"}]}},
            "turns[0].user.interim[0].at: 9 is after the end",
        ),
        ({"blips": [{"at": 0.1, "duration": 0.6}]}, "turns[0].blips[0].duration: must be < 0.5"),
        (
            {"blips": [{"at": 5.0, "duration": 0.2}]},
            "turns[0].blips[0].at: the blip must end within",
        ),
        (
            {"llm": [{"error": {"at": 0.1}, "text": "x"}]},
            "turns[0].llm[0].error: a failing call has no text",
        ),
        (
            {"llm": [{"error": {}}, {"text": "x"}]},
            "turns[0].llm[1]: a failed LLM call ends the turn",
        ),
        (
            {"llm": [{"tool_call": {"name": "a"}, "tool_calls": [{"name": "b"}]}]},
            "turns[0].llm[0].tool_calls: give tool_call or tool_calls",
        ),
        (
            {"llm": [{"tool_calls": [{"name": "a"}, {"name": "b", "result": None}]}]},
            "turns[0].llm[0].tool_calls: livekit calls the LLM again",
        ),
        (
            {"llm": [{"tool_call": {"name": "not valid"}}, {"text": "x"}]},
            "turns[0].llm[0].tool_call.name: must match",
        ),
        ({"tts": {"error": {"at": "soon"}}}, "turns[0].tts.error.at: expected a number of seconds"),
    ],
)
def test_errors_name_the_path(patch: dict[str, Any], message: str) -> None:
    data = _minimal()
    data["turns"][0].update(patch)
    assert _error(data).startswith(message)


def test_an_empty_greeting_is_rejected_not_read_as_none() -> None:
    data = _minimal()
    data["greeting"] = {}
    assert _error(data) == "greeting.text: required"
    data["greeting"] = None
    assert load_scenario(data).greeting is None


def test_every_error_is_reported_once() -> None:
    data = _minimal()
    data["turns"][0]["llm"][0].update(ttft=-1, input_tokens=-2)
    data["endpointing_delay"] = 0
    message = _error(data)
    assert message.split("; ") == [
        "endpointing_delay: must be > 0, got 0",
        "turns[0].llm[0].input_tokens: must be >= 0, got -2",
        "turns[0].llm[0].ttft: must be >= 0, got -1",
    ]


def test_new_keys_and_their_defaults() -> None:
    data = _minimal()
    data["turns"].append(
        {
            "user": {"text": "Wait, one more thing", "start": {"after": "llm_request_start"}},
            "llm": [
                {"tool_calls": [{"name": "a", "result": {"x": 1}}, {"name": "b", "duration": 0.3}]},
                {"tool_call": {"name": "hang_up", "result": None}},
            ],
        }
    )
    scenario = load_scenario(data)
    first, second = scenario.turns
    assert first.user.start is None and first.blips == () and first.user.interim is None
    [interim] = first.user.interim_results  # default: half the words, halfway through
    assert (interim.at, interim.text) == (first.user.speech_duration / 2, "Hi")
    assert second.user.start.offset == 0.4  # the default gap
    parallel, hang_up = second.llm
    assert [t.result for t in parallel.tools] == ['{"x": 1}', "ok"]
    assert parallel.wants_reply and not hang_up.wants_reply
    assert second.tts == () and not second.speaks  # it ends with a tool call, silent
    assert hang_up.output_tokens > 0
    assert load_scenario(scenario.to_dict()) == scenario
    fast = scenario.scaled(2.0)
    assert fast.turns[1].llm[0].tools[1].duration == 0.15
    assert fast.turns[1].user.start.offset == 0.2


def test_anchors_need_something_to_anchor_to() -> None:
    data = _minimal()
    data["turns"][0]["user"]["start"] = {"after": "agent_audio_start", "offset": 0.1}
    assert _error(data).startswith("turns[0].user.start.after: the previous reply plays no audio")
    data["greeting"] = {"text": "Hello"}
    data["turns"][0]["user"]["speech_duration"] = 0.3
    assert _error(data).startswith("turns[0].user.speech_duration: the interrupting speech")
    data["turns"][0]["user"]["speech_duration"] = 1.0
    assert load_scenario(data).turns[0].user.start.after == "agent_audio_start"


def test_builtin_scenarios_load_by_name() -> None:
    names = builtin_scenarios()
    assert {"default", "chat", "interruptions", "failures", "tools", "handoff"} <= set(names)
    for name in names:
        assert load_scenario(name).turns
    with pytest.raises(ScenarioError, match="built-in scenarios: "):
        load_scenario("no-such-scenario")


def test_the_json_schema_is_current_and_describes_the_format() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), "run: python -m lk_otel.simulation.schema"
    assert main(["--check"]) == 0
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["additionalProperties"] is False
    assert {"turns", "greeting", "$schema"} <= set(schema["properties"])
    llm = schema["$defs"]["LLMCall"]["properties"]
    assert {"ttft", "tool_calls", "error"} <= set(llm)
    assert llm["input_tokens"]["maximum"] == MAX_TOKENS
