"""``lk-otel demo --agent`` / ``run_scenario(agent=…)``: the user's own Agent, traced offline.

The agent's tools and hooks really run (their real durations land in the trace); only the
VAD/STT/LLM/TTS are scripted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import Agent, AgentSession, function_tool

from lk_otel import _compat
from lk_otel import semconv as sc
from lk_otel.report import read_otlp_json
from lk_otel.report.records import SpanRecord
from lk_otel.simulation import ScenarioError, load_agent, load_scenario, run_scenario

ROOT = Path(__file__).resolve().parents[1]
TURN_SPAN = _compat.agent_turn_span_name()

USER_AGENT = '''
    """What a user writes: a tool that takes 300 ms, a RAG lookup of 200 ms per turn."""

    import asyncio

    from livekit.agents import Agent, function_tool


    class Assistant(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You are the order desk of Acme. Be brief.")

        async def on_user_turn_completed(self, turn_ctx, new_message) -> None:
            await asyncio.sleep(0.2)  # a retrieval step before the LLM runs

        @function_tool
        async def lookup_order(self, order_id: str) -> str:
            """Look up an order by its id."""
            await asyncio.sleep(0.3)
            return f"order {order_id} ships tomorrow"


    def make_agent() -> Assistant:
        return Assistant()
'''

SCENARIO: dict[str, Any] = {
    "turns": [
        {
            "user": {"text": "Where is my order A17?", "speech_duration": 1.2},
            "llm": [
                {
                    "ttft": 0.3,
                    "tool_call": {"name": "lookup_order", "arguments": {"order_id": "A17"}},
                },
                {"ttft": 0.35, "text": "Your order A17 ships tomorrow."},
            ],
        },
        {
            "user": {"text": "Thanks, bye.", "speech_duration": 0.8},
            "llm": [{"ttft": 0.3, "text": "Goodbye!"}],
        },
    ]
}


@pytest.fixture
def agent_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_agent.py"
    path.write_text(textwrap.dedent(USER_AGENT))
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGFUSE_"))}
    env.pop("LIVEKIT_TELEMETRY_ALLOW_PII", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def demo(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lk_otel.cli.main", "demo", *args],
        env=_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def seconds(span: SpanRecord) -> float:
    assert span.end_ns is not None
    return (span.end_ns - span.start_ns) / 1e9


def test_demo_traces_the_users_tool_and_hook(agent_file: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "orders.json"
    scenario.write_text(json.dumps(SCENARIO))
    out = tmp_path / "trace.jsonl"
    done = demo(
        [
            "--agent",
            f"{agent_file}:Assistant",
            "--scenario",
            str(scenario),
            "--speed",
            "2",
            "--out",
            str(out),
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "left the script" not in done.stdout, done.stdout
    spans = read_otlp_json(out).records
    by_id = {s.span_id: s for s in spans}

    [tool] = [s for s in spans if s.name == "function_tool"]
    assert seconds(tool) >= 0.3
    # the tool runs under the reply to the first user turn
    parent = by_id.get(tool.parent_id or "")
    while parent is not None and parent.name != TURN_SPAN:
        parent = by_id.get(parent.parent_id or "")
    assert parent is not None, "function_tool outside any turn"

    replies = [s for s in spans if s.name == TURN_SPAN and sc.TURN_KIND in s.attributes]
    replies = [s for s in replies if s.attributes[sc.TURN_KIND] == "reply"]
    assert len(replies) == 2
    for reply in replies:
        # lk_otel's breakdown carries the real hook time (1.8: livekit's own key as well)
        assert reply.attributes[sc.TURN_ON_USER_TURN_COMPLETED_DELAY] >= 0.2
        if TURN_SPAN == "agent_turn":
            assert reply.attributes["lk.on_user_turn_completed_delay"] >= 0.2
    if TURN_SPAN == "agent_turn":  # 1.8 traces the hook itself
        hooks = [s for s in spans if s.name == "on_user_turn_completed"]
        assert len(hooks) == 2 and all(seconds(s) >= 0.2 for s in hooks)
    sessions = [s for s in spans if s.name == "agent_session"]
    assert len(sessions) == 1


def test_a_scripted_tool_the_agent_lacks_names_the_tool_and_the_turn(
    agent_file: Path, tmp_path: Path
) -> None:
    data = json.loads(json.dumps(SCENARIO))
    data["turns"][0]["llm"][0]["tool_call"]["name"] = "cancel_order"
    scenario = tmp_path / "wrong.json"
    scenario.write_text(json.dumps(data))
    done = demo(
        [
            "--agent",
            f"{agent_file}:make_agent",
            "--scenario",
            str(scenario),
            "--out",
            str(tmp_path / "t.jsonl"),
        ],
        tmp_path,
    )
    assert done.returncode == 2
    assert "turns[0].llm[0].tool_call.name: turn 0 calls tool 'cancel_order'" in done.stdout
    assert "lookup_order" in done.stdout  # what the agent does have


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nothing_here.py:Agent", "no such file"),
        ("my_agent.py", "expected PATH_OR_MODULE:NAME"),
        ("my_agent.py:Missing", "has no 'Missing'"),
        ("no.such.module:Agent", "cannot import"),
    ],
)
def test_bad_agent_specs_are_clear_errors(
    agent_file: Path, spec: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(agent_file.parent)
    with pytest.raises(ValueError, match=message):
        load_agent(spec)


def test_load_agent_from_a_file_and_from_a_module(agent_file: Path) -> None:
    assert load_agent(f"{agent_file}:Assistant").__name__ == "Assistant"
    assert callable(load_agent("lk_otel.simulation.agent:SimAgent"))


class _ToolAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="x")

    @function_tool
    async def lookup_order(self, order_id: str) -> str:
        """Look up an order."""
        return "ok"


def test_check_tools_before_the_call_starts() -> None:
    data = json.loads(json.dumps(SCENARIO))
    data["turns"][1]["llm"] = [
        {"tool_calls": [{"name": "lookup_order"}, {"name": "refund"}]},
        {"text": "Done."},
    ]

    async def run() -> Any:
        return await run_scenario(load_scenario(data), speed=8.0, agent=_ToolAgent)

    import asyncio

    with pytest.raises(
        ScenarioError, match=r"^turns\[1\]\.llm\[0\]\.tool_calls\[1\]\.name: .*'refund'"
    ):
        asyncio.run(run())


async def test_a_wrapped_session_constructor_still_runs(
    monkeypatch: pytest.MonkeyPatch, simulated_call: Callable[..., Any]
) -> None:
    """Another instrumentation wraps AgentSession.__init__ without functools.wraps (its
    signature becomes ``(self, *args, **kwargs)``): the simulation must not depend on it."""
    original = AgentSession.__init__
    wrapped_calls: list[int] = []

    def wrapper(self: AgentSession, *args: Any, **kwargs: Any) -> None:
        wrapped_calls.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(AgentSession, "__init__", wrapper)
    call = await simulated_call("chat", speed=4.0, agent=_ToolAgent)
    assert wrapped_calls == [1]
    result = call.result
    assert result.anomalies == []
    users = [i.text_content for i in result.chat_items if getattr(i, "role", "") == "user"]
    assert users == [t.user.text for t in result.scenario.turns]
    # VAD endpointing took effect: every end-of-turn delay is the scripted one
    for metric in result.metrics_of("EOUMetrics"):
        assert metric.end_of_utterance_delay == pytest.approx(
            result.injected.endpointing_delay, abs=0.02
        )


# --- lk-otel demo: PII from the environment, a fresh file each run ------------------------


def _contents(out: Path) -> list[str]:
    text = out.read_text()
    return [t for t in ("Hi, can you hear me?", "loud and clear") if t in text]


def test_demo_honours_the_pii_variable_and_the_flags(tmp_path: Path) -> None:
    out = tmp_path / "pii.jsonl"
    args = ["--scenario", "chat", "--speed", "8", "--out", str(out)]
    done = demo(args, tmp_path, LIVEKIT_TELEMETRY_ALLOW_PII="false")
    assert done.returncode == 0, done.stderr[-3000:]
    assert _contents(out) == []  # stripped: the variable said so
    done = demo([*args, "--pii"], tmp_path, LIVEKIT_TELEMETRY_ALLOW_PII="false")
    assert done.returncode == 0, done.stderr[-3000:]
    assert _contents(out) != []  # --pii forces it on
    done = demo([*args, "--no-pii"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _contents(out) == []
    # and each run rewrote the file: one call in it, not three
    assert [s.name for s in read_otlp_json(out).records].count("agent_session") == 1


def test_demo_flags_exclude_each_other(tmp_path: Path) -> None:
    done = demo(["--pii", "--no-pii"], tmp_path)
    assert done.returncode == 2 and "not allowed with" in done.stderr
