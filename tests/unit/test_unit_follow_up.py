"""Sibling tool follow-ups (enrich/follow_up.py, livekit 1.3-1.7): which turn span
continues which, how a follow-up is folded in, the chain's logical attributes."""

from __future__ import annotations

from lk_otel import semconv as sc
from lk_otel.enrich.extract import LlmCall, TtsCall
from lk_otel.enrich.follow_up import continues, logical_attributes, merge
from lk_otel.enrich.state import ToolSpan, TurnState

S = 1_000_000_000


def chain_of(*generation_ids: str | None) -> TurnState:
    t = TurnState(index=1, start_ns=0)
    t.generations = [{} if g is None else {sc.LK_GENERATION_ID: g} for g in generation_ids]
    return t


def test_a_follow_up_continues_only_the_last_generation_it_names() -> None:
    parent = {sc.LK_PARENT_GENERATION_ID: "g2"}
    assert continues(chain_of("g1", "g2"), parent) is True
    assert continues(chain_of("g2", "g1"), parent) is False  # not the last one
    assert continues(chain_of(), parent) is False  # nothing to continue
    assert continues(chain_of("g1"), {}) is False  # names no parent
    assert continues(chain_of("g1"), {sc.LK_PARENT_GENERATION_ID: "g9"}) is False
    # a generation without an id is continued by nothing, not even by the text "None"
    assert continues(chain_of(None), {sc.LK_PARENT_GENERATION_ID: "None"}) is False


def _call(start: int) -> LlmCall:
    return LlmCall(start, 0.1, 0.2, 1, 1, 0, None, "m", "p")


def _tts(start: int) -> TtsCall:
    return TtsCall(start, 0.1, 0.2, 1, 0.5, True, "m", "p")


def test_merge_appends_every_call_tool_and_generation_and_keeps_the_first_audio() -> None:
    chain = chain_of("g1")
    chain.llm, chain.tts, chain.tools = [_call(1)], [_tts(2)], [ToolSpan("a", 3, 4)]
    chain.tool_calls, chain.generation_spans = 1, [10]
    follow = TurnState(index=0, start_ns=5, speaking_start_ns=7 * S)
    follow.llm, follow.tts, follow.tools = [_call(5)], [_tts(6)], [ToolSpan("b", 6, 7)]
    follow.tool_calls = 2
    attrs = {sc.LK_GENERATION_ID: "g2"}
    merge(chain, follow, attrs, 11)
    assert [c.start_ns for c in chain.llm] == [1, 5]
    assert [c.start_ns for c in chain.tts] == [2, 6]
    assert [t.name for t in chain.tools] == ["a", "b"]
    assert chain.tool_calls == 3
    assert chain.generations[-1] is attrs and chain.generation_spans == [10, 11]
    assert chain.speaking_start_ns == 7 * S  # the chain had none yet
    later = TurnState(index=0, start_ns=8, speaking_start_ns=9 * S)
    merge(chain, later, {}, 12)
    assert chain.speaking_start_ns == 7 * S  # the earlier audio stays
    chain.speaking_start_ns = None
    merge(chain, TurnState(index=0, start_ns=9), {}, 13)
    assert chain.speaking_start_ns is None


def test_logical_attributes_of_one_and_of_several_generations() -> None:
    one = {sc.LK_E2E_LATENCY: 0.5, "k": 1}
    assert logical_attributes([one]) is one
    bare = {"k": 1}
    assert logical_attributes([bare]) is bare
    got = logical_attributes([bare], [0.75])
    assert got == {"k": 1, sc.LK_E2E_LATENCY: 0.75, sc.LK_INTERRUPTED: False}
    two = logical_attributes([{"k": 1}, {sc.LK_INTERRUPTED: True, sc.LK_E2E_LATENCY: 0.25}])
    assert two == {"k": 1, sc.LK_E2E_LATENCY: 0.25, sc.LK_INTERRUPTED: True}
    calm = logical_attributes([{"k": 1}, {"k": 2}])
    assert calm == {"k": 1, sc.LK_INTERRUPTED: False}
    assert calm[sc.LK_INTERRUPTED] is False
