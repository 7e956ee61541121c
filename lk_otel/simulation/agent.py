"""The simulated voice agent: real function tools and a scripted greeting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livekit.agents import Agent, llm

from .. import _compat
from .cues import ScriptCues
from .scenario import Scenario, ToolCall


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def _make_tool(call: ToolCall, cues: ScriptCues) -> Any:
    """A raw function tool named like the scripted call, returning the scripted result."""
    schema = {
        "name": call.name,
        "description": f"Simulated tool {call.name}.",
        "parameters": {
            "type": "object",
            "properties": {k: {"type": _json_type(v)} for k, v in call.arguments.items()},
            "required": list(call.arguments),
        },
    }
    name = call.name

    async def tool(raw_arguments: dict[str, object]) -> str:
        return cues.tool_result(name)

    return llm.function_tool(tool, raw_schema=schema)


def scenario_tools(script: Scenario, cues: ScriptCues) -> list[Any]:
    """One function tool per tool name the scenario calls."""
    calls: dict[str, ToolCall] = {}
    for turn in script.turns:
        for call in turn.llm:
            if call.tool_call is not None:
                calls.setdefault(call.tool_call.name, call.tool_call)
    return [_make_tool(call, cues) for call in calls.values()]


class SimAgent(Agent):
    """An Agent whose greeting (if any) is said or generated when it enters the session."""

    def __init__(self, *, script: Scenario, cues: ScriptCues, agent_name: str) -> None:
        super().__init__(
            instructions=script.instructions,
            tools=scenario_tools(script, cues),
            **_compat.agent_name_kwargs(agent_name),
        )
        self._script = script
        self._cues = cues

    async def on_enter(self) -> None:
        greeting = self._script.greeting
        if greeting is None:
            return
        if greeting.mode == "say":
            self._cues.offer_tts(greeting.tts)
            self.session.say(greeting.text)
        else:
            self.session.generate_reply(instructions="Greet the user.")
