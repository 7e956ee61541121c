"""BackendMapper's per-name caches (enrich/mappings.py) give, span after span and name after
name on one mapper, exactly what ``backend_attributes`` computes for each span."""

from __future__ import annotations

from unit_helpers import view

from lk_otel import semconv as sc
from lk_otel.enrich import mappings
from lk_otel.enrich.options import EnrichOptions

OPTIONS = EnrichOptions()
NAMES = [
    sc.SPAN_LLM_NODE,
    sc.SPAN_TTS_NODE,
    sc.SPAN_FUNCTION_TOOL,
    sc.SPAN_AGENT_SPEAKING,
    "custom_span",
    sc.SPAN_START_AGENT_ACTIVITY,
]


def expected(span):  # type: ignore[no-untyped-def]
    return mappings.backend_attributes(OPTIONS, span)


def test_cached_keys_match_each_name_in_any_order() -> None:
    mapper = mappings.BackendMapper(OPTIONS)
    spans = [view(n, {}, is_root=False) for n in NAMES]
    spans += [
        view("custom_span", {"model": "m"}),
        view("custom_span", {"gen_ai.operation.name": "chat"}),
    ]
    for span in spans + spans[::-1]:
        got = mapper(span)
        assert got == expected(span), span.name
        assert got is not mapper(span)  # a copy: the caller may add to it
    root = view("custom_span", is_root=True)
    assert mapper(root) == expected(root)
    odd = view("custom_span", {"gen_ai.operation.name": 3})  # not text: computed, not cached
    assert mapper(odd) == expected(odd)


def test_stage_keys_per_name_and_figure_types() -> None:
    mapper = mappings.BackendMapper(OPTIONS)
    figures = [
        ("llm", {sc.STAGE_NAME: "llm", sc.STAGE_DURATION: 0.5, sc.STAGE_CRITICAL: True}),
        ("tts", {sc.STAGE_NAME: "tts", sc.STAGE_DURATION: 0.25, sc.STAGE_CRITICAL: False}),
        ("llm", {sc.STAGE_NAME: "llm", sc.STAGE_DURATION: 0.75, sc.STAGE_CRITICAL: False}),
        ("tool", {sc.STAGE_NAME: "tool", sc.STAGE_DURATION: 1, sc.STAGE_TOOL: "book"}),
        ("tool", {sc.STAGE_NAME: "tool", sc.STAGE_DURATION: 2.5, sc.STAGE_TOOL: "pay"}),
    ]
    for name, added in figures + figures[::-1]:
        assert mapper.stage(name, added) == expected(view(name, {}, added)), (name, added)
    off = mappings.BackendMapper(EnrichOptions(langfuse=False, openinference=False, mlflow=False))
    assert off.stage("llm", figures[0][1]) == {} and off(view(sc.SPAN_LLM_NODE)) == {}
    only_mlflow = mappings.BackendMapper(
        EnrichOptions(langfuse=False, openinference=False, mlflow=True)
    )
    assert only_mlflow(view(sc.SPAN_LLM_NODE)) != {}


def test_a_root_span_of_a_session_is_never_served_from_the_cache() -> None:
    mapper = mappings.BackendMapper(OPTIONS)
    plain = view("custom_span")
    assert mapper(plain) == expected(plain)  # cached under its name
    root = view("custom_span", is_root=True, session_id="sess-1")
    assert mapper(root) == expected(root) != expected(plain)  # the trace keys of a root
