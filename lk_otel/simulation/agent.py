"""The simulated voice agent: real function tools and a scripted greeting."""

from __future__ import annotations

import asyncio
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
    """A raw function tool named like the scripted call: it takes the scripted duration
    (of its first call; a speed-scaled script scales it) and returns the scripted result."""
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

    async def tool(raw_arguments: dict[str, object]) -> Any:
        event = cues.truth.begin("tool", cues.spoken_turns - 1, name=name)
        if call.duration > 0:
            await asyncio.sleep(call.duration)
        result = cues.tool_result(name)
        cues.truth.finish(event)
        handoff = cues.take_handoff(name)
        if handoff is not None:
            cues.truth.instant("handoff", cues.spoken_turns - 1, to=handoff.agent, tool=name)
            return SimAgent(
                script=cues.script,
                cues=cues,
                agent_name=handoff.agent,
                instructions=handoff.instructions,
                handed_over=True,
            )
        return result

    return llm.function_tool(tool, raw_schema=schema)


def scenario_tools(script: Scenario, cues: ScriptCues) -> list[Any]:
    """One function tool per tool name the scenario calls."""
    calls: dict[str, ToolCall] = {}
    for turn in script.turns:
        for call in turn.llm:
            for tool in call.tools:
                calls.setdefault(tool.name, tool)
    return [_make_tool(call, cues) for call in calls.values()]


class SimAgent(Agent):
    """An Agent whose greeting (if any) is said or generated when it enters the session."""

    def __init__(
        self,
        *,
        script: Scenario,
        cues: ScriptCues,
        agent_name: str,
        instructions: str | None = None,
        handed_over: bool = False,
    ) -> None:
        super().__init__(
            instructions=script.instructions if instructions is None else instructions,
            tools=scenario_tools(script, cues),
            **_compat.agent_name_kwargs(agent_name),
        )
        self._script = script
        self._cues = cues
        self._handed_over = handed_over

    async def on_enter(self) -> None:
        if self._handed_over:  # a handoff: the new agent answers the turn
            self.session.generate_reply()
            return
        speak_greeting(self.session, self._script, self._cues, by_agent=True)


def speak_greeting(
    session: Any, script: Scenario, cues: ScriptCues, *, by_agent: bool = False
) -> None:
    """Have the session say or generate the scenario's greeting (if it has one); for a
    greeting the agent speaks itself (``greeting.by_agent``) only when ``by_agent``."""
    greeting = script.greeting
    if greeting is None or (greeting.by_agent and not by_agent):
        return
    if greeting.mode == "say":
        cues.offer_tts(greeting.tts, None)
        session.say(greeting.text)
    else:
        session.generate_reply(instructions="Greet the user.")
