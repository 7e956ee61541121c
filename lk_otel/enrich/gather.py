"""An agent turn's parts as their spans end: LLM and TTS calls, tools, the agent speaking."""

from __future__ import annotations

from typing import Any

from .. import semconv as sc
from .extract import (
    Tally,
    llm_attributes,
    llm_call,
    llm_request_figures,
    tts_attributes,
    tts_call,
    tts_request_figures,
)
from .placement import Node, Releaser
from .records import LlmDone, Output, SpanEnded, TtsDone
from .state import SessionState, ToolSpan, TurnState


class TurnParts:
    """Adds each ended child span to the open turn (of ``turns``) it is in."""

    def __init__(self, turns: dict[int, TurnState], tally: Tally, release: Releaser) -> None:
        self._turns = turns
        self._requests: dict[int, list[dict[str, Any]]] = {}  # node span id -> its requests
        self._tally = tally
        self._release = release

    def __len__(self) -> int:
        """How many LLM and TTS nodes have request figures waiting for their end."""
        return len(self._requests)

    def _turn_of(self, node: Node) -> TurnState | None:
        return self._turns.get(node.turn) if node.turn is not None else None

    def llm_request(self, rec: SpanEnded, node: Node, state: Any, now: float) -> list[Output]:
        """An ``llm_request`` ended: its figures wait for its ``llm_node``."""
        figures = llm_request_figures(rec.attributes, self._tally)
        figures["start_ns"] = rec.start_ns
        if node.parent is not None:
            self._requests.setdefault(node.parent, []).append(figures)
        added = {sc.LLM_PROVIDER: figures["provider"]} if figures["provider"] else {}
        return [self._release(rec.span_id, node, state, added)]

    def tts_request(self, rec: SpanEnded, node: Node, state: Any, now: float) -> list[Output]:
        """A ``tts_request`` ended: its figures wait for its ``tts_node``."""
        figures = tts_request_figures(rec.attributes, self._tally)
        figures["start_ns"] = rec.start_ns
        if node.parent is not None:
            self._requests.setdefault(node.parent, []).append(figures)
        return [self._release(rec.span_id, node, state, {})]

    def llm_node(
        self, rec: SpanEnded, node: Node, state: SessionState | None, now: float
    ) -> list[Output]:
        """An ``llm_node`` ended: one LLM call of the turn."""
        requests = self._requests.pop(rec.span_id, [])
        call = llm_call(rec.attributes, rec.start_ns, rec.end_ns, requests, self._tally)
        if (turn := self._turn_of(node)) is not None:
            turn.llm.append(call)
        return [
            LlmDone(call, state.agent_name if state else None),
            self._release(rec.span_id, node, state, llm_attributes(call)),
        ]

    def tts_node(
        self, rec: SpanEnded, node: Node, state: SessionState | None, now: float
    ) -> list[Output]:
        """A ``tts_node`` ended: one TTS call of the turn."""
        requests = self._requests.pop(rec.span_id, [])
        call = tts_call(rec.attributes, rec.start_ns, rec.end_ns, requests, self._tally)
        if (turn := self._turn_of(node)) is not None:
            turn.tts.append(call)
        return [
            TtsDone(call, state.agent_name if state else None),
            self._release(rec.span_id, node, state, tts_attributes(call)),
        ]

    def function_tool(self, rec: SpanEnded, node: Node, state: Any, now: float) -> None:
        """A ``function_tool`` ended: one tool run of the turn."""
        if (turn := self._turn_of(node)) is not None:
            turn.tool_calls += 1
            name = rec.attributes.get(sc.GEN_AI_TOOL_NAME) or rec.attributes.get(
                sc.LK_FUNCTION_TOOL_NAME
            )
            turn.tools.append(ToolSpan(str(name or ""), rec.start_ns, rec.end_ns))
        return None

    def agent_speaking(
        self, rec: SpanEnded, node: Node, state: SessionState | None, now: float
    ) -> None:
        """An ``agent_speaking`` ended: when the turn's audio started."""
        if (turn := self._turn_of(node)) is not None:
            if turn.speaking_start_ns is None:
                turn.speaking_start_ns = rec.start_ns
        elif state is not None and rec.start_ns:
            # livekit 1.2 starts agent_speaking outside the turn span; matched at turn end
            state.speaking_starts.append(rec.start_ns)
        return None
