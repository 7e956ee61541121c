"""Handoffs on the package's scripted pipeline call (``handoff`` scenario: the front desk's tool
returns a billing agent), through ``setup_tracing()``: the exported turns' agents, the
session's handoff count, agents, handoff event and per-agent usage against the script's truth
and livekit's own token counts of the same run."""

from __future__ import annotations

import asyncio
import json

from lk_otel import _compat
from lk_otel import semconv as sc
from support.tracing_helpers import traced_call


def test_pipeline_handoff_on_the_exported_spans() -> None:
    call = asyncio.run(traced_call("handoff", speed=4.0))
    assert call.result.anomalies == []
    (truth,) = call.result.truth.of("handoff")
    session = call.session()
    attrs = session.attributes
    agents = list(attrs[sc.SESSION_AGENTS])
    assert attrs[sc.SESSION_HANDOFFS] == 1
    if _compat.has_session_usage():
        first, second = agents
        assert second == truth.detail["to"]
    else:  # 1.2 names an agent by its class path: both scripted agents are one SimAgent
        (first,) = (second,) = agents
        assert first.endswith(".SimAgent")
    (event,) = [e for e in session.events if e.name == sc.EVENT_HANDOFF]
    assert dict(event.attributes) == {
        sc.HANDOFF_FROM: first,
        sc.HANDOFF_TO: second,
        sc.HANDOFF_TOOL: truth.detail["tool"],
    }
    # the switch happens between the tool's end and the next turn
    (tool,) = [
        s
        for s in call.named(sc.SPAN_FUNCTION_TOOL)
        if s.attributes.get("gen_ai.tool.name", s.attributes.get("lk.function_tool.name"))
        == truth.detail["tool"]
    ]
    assert tool.end_time <= event.timestamp
    turns = call.turns()
    by_agent = [t.attributes[sc.TURN_AGENT] for t in turns]
    assert by_agent[0] == first and by_agent[-1] == second
    if first != second:
        switched = by_agent.index(second)
        assert by_agent == [first] * switched + [second] * (len(turns) - switched)
        assert all(t.start_time >= tool.end_time for t in turns[switched:])
    # per-agent tokens = livekit's llm_request usage of that agent's turns
    if first == second:  # one name: no per-agent split to write
        assert sc.SESSION_AGENT_USAGE not in attrs
        agents = []
    else:
        usage = {e["agent"]: e for e in json.loads(attrs[sc.SESSION_AGENT_USAGE])}
        assert len(usage) == len(agents)
    for agent in agents:
        expected = sum(
            r.attributes["gen_ai.usage.input_tokens"]
            for t in turns
            if t.attributes[sc.TURN_AGENT] == agent
            for r in call.descendants(t, sc.SPAN_LLM_REQUEST)
        )
        assert usage[agent]["input_tokens"] == expected > 0
        assert usage[agent]["turns"] == by_agent.count(agent)
    assert sc.SESSION_FALSE_INTERRUPTIONS in attrs  # the session's events were watched
    if _compat.has_session_usage():
        assert [t.attributes.get("gen_ai.agent.name") for t in turns] == by_agent
