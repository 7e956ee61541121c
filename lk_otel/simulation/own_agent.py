"""A user's own Agent in the simulated call: load it, build it, check the script fits it.

``load_agent("my_agent.py:Assistant")`` or ``load_agent("pkg.module:make_agent")`` finds an
``Agent`` subclass, an ``Agent`` instance, or a factory returning one. The simulation then
runs that agent, with its instructions, tools and hooks, against the scripted plugins.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from livekit.agents import Agent, llm
from livekit.agents.types import NOT_GIVEN

from .scenario import Scenario, ScenarioError

AgentSource = Agent | type[Agent] | Callable[[], Agent]


class AgentLoadError(ValueError):
    """The agent named on the command line cannot be loaded or built."""


def load_agent(spec: str) -> AgentSource:
    """``PATH_OR_MODULE:NAME`` → the object NAME of that file or module (``PATH`` ends in
    ``.py``; its folder goes first on ``sys.path``, as ``python PATH`` would put it)."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise AgentLoadError(f"--agent {spec!r}: expected PATH_OR_MODULE:NAME")
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where).resolve()
        if not path.is_file():
            raise AgentLoadError(f"--agent {spec!r}: no such file {str(path)!r}")
        sys.path.insert(0, str(path.parent))
        module_name = f"lk_otel_user_agent_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise AgentLoadError(f"--agent {spec!r}: cannot import {where!r}: {e}") from e
    try:
        found = getattr(module, name)
    except AttributeError:
        raise AgentLoadError(f"--agent {spec!r}: {where} has no {name!r}") from None
    if not (isinstance(found, Agent) or callable(found)):
        raise AgentLoadError(f"--agent {spec!r}: {name} is not an Agent class or factory")
    return found


def build_agent(source: AgentSource) -> Agent:
    """The Agent instance: ``source`` itself, or what calling it (a class or factory) gives."""
    agent = source if isinstance(source, Agent) else source()
    if not isinstance(agent, Agent):
        raise AgentLoadError(
            f"{getattr(source, '__name__', source)!r} returned {type(agent).__name__}, "
            "not a livekit Agent"
        )
    for kind in ("llm", "stt", "tts", "vad"):
        plugin = getattr(agent, kind, NOT_GIVEN)
        if plugin is not NOT_GIVEN and plugin is not None:
            raise AgentLoadError(
                f"{type(agent).__name__} sets its own {kind} ({type(plugin).__name__}); the "
                f"simulation scripts the {kind}: build the agent without it (pass it to "
                "AgentSession in your entrypoint instead)"
            )
    return agent


def _tool_name(tool: Any) -> str | None:
    """A function tool's name. 1.8's tools are objects with an ``id``; 1.2's are decorated
    functions whose info livekit's ``get_(raw_)function_info`` read."""
    name = getattr(tool, "id", None)
    if isinstance(name, str):
        return name
    context = llm.tool_context
    for is_kind, info in (
        (getattr(context, "is_function_tool", None), getattr(context, "get_function_info", None)),
        (
            getattr(context, "is_raw_function_tool", None),
            getattr(context, "get_raw_function_info", None),
        ),
    ):
        if is_kind is not None and info is not None and is_kind(tool):
            return str(info(tool).name)
    return None


def tool_names(tools: Iterable[Any]) -> set[str]:
    """The names of the function tools in ``tools`` (toolsets searched too)."""
    names: set[str] = set()
    for tool in tools:
        nested = getattr(tool, "tools", None)
        if nested is not None and not callable(nested):
            names |= tool_names(nested)
        elif (name := _tool_name(tool)) is not None:
            names.add(name)
    return names


def check_tools(script: Scenario, agent: Agent) -> None:
    """Every tool the script calls must be one of the agent's: a ScenarioError names the
    turn and the tool otherwise."""
    available = tool_names(agent.tools)
    for i, turn in enumerate(script.turns):
        for j, call in enumerate(turn.llm):
            for k, tool in enumerate(call.tools):
                if tool.name in available:
                    continue
                where = (
                    f"turns[{i}].llm[{j}].tool_call"
                    if call.tool_call is not None
                    else f"turns[{i}].llm[{j}].tool_calls[{k}]"
                )
                raise ScenarioError(
                    f"{where}.name: turn {i} calls tool {tool.name!r}, which "
                    f"{type(agent).__name__} does not have (its tools: "
                    f"{', '.join(sorted(available)) or 'none'})"
                )
