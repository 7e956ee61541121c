"""The backend mappings (Langfuse, OpenInference, MLflow) and their entry point, exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from unit_helpers import view

from lk_otel import semconv as sc
from lk_otel.enrich import map_langfuse as lf
from lk_otel.enrich import map_mlflow as ml
from lk_otel.enrich import map_openinference as oi
from lk_otel.enrich import mappings
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.map_facts import LlmUsage, SpanFacts, SttUsage, TtsUsage
from lk_otel.enrich.options import EnrichOptions

STAGE = {sc.STAGE_NAME: "llm_ttft"}
LLM = LlmUsage("openai", "gpt", 100, 20, 30)

# --- Langfuse -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (sc.SPAN_AGENT_SESSION, "chain"),
        (sc.SPAN_AGENT_TURN, "agent"),
        (sc.SPAN_ASSISTANT_TURN, "agent"),
        (sc.SPAN_FUNCTION_TOOL, "tool"),
        (sc.SPAN_LLM_NODE, "span"),
        (sc.SPAN_TTS_NODE, "span"),
        (sc.SPAN_LLM_REQUEST_RUN, "span"),
        (sc.SPAN_TTS_REQUEST_RUN, "span"),
        (sc.SPAN_START_AGENT_ACTIVITY, "span"),
        (sc.SPAN_LLM_REQUEST, "span"),
        (sc.SPAN_TTS_REQUEST, "span"),
        (sc.SPAN_USER_TURN, "span"),
        ("job_entrypoint", None),
    ],
)
def test_langfuse_type_by_name(name: str, expected: str | None) -> None:
    assert lf.observation_type(view(name), SpanFacts()) == expected


def test_langfuse_type_rules_in_order() -> None:
    assert (
        lf.observation_type(view(sc.SPAN_AGENT_TURN, added=STAGE), SpanFacts(usage=LLM)) == "span"
    )
    assert lf.observation_type(view(sc.SPAN_AGENT_TURN), SpanFacts(usage=LLM)) == "generation"
    assert lf.observation_type(view("custom", {"model": "m"}), SpanFacts()) == "span"
    for op in (
        "chat",
        "completion",
        "text_completion",
        "generate_content",
        "generate",
        "create_agent",
    ):
        assert (
            lf.observation_type(view("custom", {sc.GEN_AI_OPERATION_NAME: op}), SpanFacts())
            == "span"
        )
    assert (
        lf.observation_type(view("custom", {sc.GEN_AI_OPERATION_NAME: "embeddings"}), SpanFacts())
        is None
    )


def test_langfuse_usage_details() -> None:
    assert lf.usage_details(LLM) == {"input": 70, "input_cached_tokens": 30, "output": 20}
    assert lf.usage_details(LlmUsage(None, None, 10, 0, 15)) == {
        "input": 0,
        "input_cached_tokens": 15,
        "output": 0,
    }
    assert lf.usage_details(TtsUsage(None, None, 42, 1.2345, None)) == {
        "characters": 42,
        "audio_ms": 1234,
        "total": 42,
    }
    assert lf.usage_details(TtsUsage(None, None, 1, 0.0015, None)) == {
        "characters": 1,
        "audio_ms": 2,
        "total": 1,
    }
    assert lf.usage_details(SttUsage(None, None, 2.5006)) == {"audio_ms": 2501}


def test_iso_time() -> None:
    assert lf.iso_time(0) == "1970-01-01T00:00:00.000Z"
    assert lf.iso_time(1_700_000_000_123_999_999) == "2023-11-14T22:13:20.123Z"
    assert lf.iso_time(86_400_007_000_000) == "1970-01-02T00:00:00.007Z"


def test_langfuse_generation_attributes() -> None:
    span = view(sc.SPAN_TTS_REQUEST, start_ns=1_700_000_000_000_000_000)
    facts = SpanFacts(
        usage=TtsUsage("c", "sonic", 10, 0.5, 0.2505),
        cost=0.25,
        input="say",
        output=None,
        figures={"lk_otel.a": 1},
    )
    assert lf.observation_attributes(span, facts) == {
        "langfuse.observation.type": "generation",
        "langfuse.observation.level": "DEFAULT",
        "langfuse.observation.usage_details": '{"characters": 10, "audio_ms": 500, "total": 10}',
        "langfuse.observation.model.name": "sonic",
        "langfuse.observation.completion_start_time": "2023-11-14T22:13:20.250Z",
        "langfuse.observation.cost_details": '{"total": 0.25}',
        "langfuse.observation.input": "say",
        "langfuse.observation.metadata.lk_otel.a": 1,
    }


def test_langfuse_completion_start_needs_a_ttfb_and_a_start() -> None:
    facts = SpanFacts(usage=TtsUsage(None, None, 1, 0.0, None))
    assert "langfuse.observation.completion_start_time" not in lf.observation_attributes(
        view(sc.SPAN_TTS_REQUEST), facts
    )
    facts = SpanFacts(usage=TtsUsage(None, None, 1, 0.0, 0.0))
    assert lf.observation_attributes(view(sc.SPAN_TTS_REQUEST, start_ns=0), facts) == {
        "langfuse.observation.type": "generation",
        "langfuse.observation.level": "DEFAULT",
        "langfuse.observation.usage_details": '{"characters": 1, "audio_ms": 0, "total": 1}',
    }
    got = lf.observation_attributes(view(sc.SPAN_TTS_REQUEST, start_ns=5_000_000), facts)
    assert got["langfuse.observation.completion_start_time"] == "1970-01-01T00:00:00.005Z"
    llm = lf.observation_attributes(
        view(sc.SPAN_LLM_REQUEST), SpanFacts(usage=LlmUsage(None, "", 1, 1, 0))
    )
    assert llm == {
        "langfuse.observation.type": "generation",
        "langfuse.observation.usage_details": '{"input": 1, "input_cached_tokens": 0, "output": 1}',
    }


def test_langfuse_trace_keys_on_the_session_and_root() -> None:
    facts = SpanFacts(input="first", output="last", figures={"lk_otel.session.turns": 3})
    expected = {
        "langfuse.observation.type": "chain",
        "langfuse.observation.input": "first",
        "langfuse.observation.output": "last",
        "langfuse.observation.metadata.lk_otel.session.turns": 3,
        "langfuse.trace.input": "first",
        "langfuse.trace.output": "last",
        "langfuse.trace.metadata.lk_otel.session.turns": 3,
    }
    assert lf.observation_attributes(view(sc.SPAN_AGENT_SESSION), facts) == expected
    root = lf.observation_attributes(view("job_entrypoint", is_root=True), facts)
    assert root == {k: v for k, v in expected.items() if k != "langfuse.observation.type"}
    assert lf.observation_attributes(view(sc.SPAN_AGENT_TURN), facts) == {
        "langfuse.observation.type": "agent",
        "langfuse.observation.input": "first",
        "langfuse.observation.output": "last",
        "langfuse.observation.metadata.lk_otel.session.turns": 3,
    }
    assert lf.observation_attributes(view("x", is_root=True), SpanFacts()) == {}


# --- OpenInference ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (sc.SPAN_LLM_REQUEST, "LLM"),
        (sc.SPAN_AGENT_TURN, "AGENT"),
        (sc.SPAN_ASSISTANT_TURN, "AGENT"),
        (sc.SPAN_FUNCTION_TOOL, "TOOL"),
        (sc.SPAN_AGENT_SESSION, "CHAIN"),
        (sc.SPAN_USER_TURN, "CHAIN"),
        (sc.SPAN_LLM_NODE, "CHAIN"),
        (sc.SPAN_TTS_NODE, "CHAIN"),
        (sc.SPAN_TTS_REQUEST, "CHAIN"),
        (sc.SPAN_TTS_REQUEST_RUN, "CHAIN"),
        (sc.SPAN_LLM_REQUEST_RUN, "CHAIN"),
        (sc.SPAN_START_AGENT_ACTIVITY, "CHAIN"),
        ("job_entrypoint", None),
    ],
)
def test_openinference_kind_by_name(name: str, expected: str | None) -> None:
    assert oi.span_kind(view(name)) == expected


def test_openinference_kind_rules() -> None:
    assert oi.span_kind(view(sc.SPAN_LLM_REQUEST, added=STAGE)) == "CHAIN"
    assert oi.span_kind(view("custom", {"gen_ai.request.model": "m"})) == "CHAIN"
    assert oi.span_kind(view(sc.SPAN_FUNCTION_TOOL, {"model": "m"})) == "TOOL"


def test_openinference_attributes() -> None:
    facts = SpanFacts(usage=LLM, input="in", output="out")
    assert oi.span_attributes(view(sc.SPAN_LLM_REQUEST), facts) == {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt",
        "llm.provider": "openai",
        "llm.token_count.prompt": 100,
        "llm.token_count.completion": 20,
        "llm.token_count.total": 120,
        "llm.token_count.prompt_details.cache_read": 30,
        "input.value": "in",
        "output.value": "out",
    }
    bare = SpanFacts(usage=LlmUsage(None, None, 1, 2, 0))
    assert oi.span_attributes(view("x"), bare) == {
        "llm.token_count.prompt": 1,
        "llm.token_count.completion": 2,
        "llm.token_count.total": 3,
        "llm.token_count.prompt_details.cache_read": 0,
    }
    assert oi.span_attributes(view("x"), SpanFacts(usage=TtsUsage("p", "m", 1, 1.0, None))) == {}


# --- MLflow ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (sc.SPAN_LLM_REQUEST, "LLM"),
        (sc.SPAN_AGENT_TURN, "AGENT"),
        (sc.SPAN_ASSISTANT_TURN, "AGENT"),
        (sc.SPAN_FUNCTION_TOOL, "TOOL"),
        (sc.SPAN_AGENT_SESSION, "CHAIN"),
        (sc.SPAN_USER_TURN, "CHAIN"),
        (sc.SPAN_LLM_NODE, "CHAIN"),
        (sc.SPAN_TTS_NODE, "CHAIN"),
        (sc.SPAN_TTS_REQUEST, "UNKNOWN"),
        (sc.SPAN_TTS_REQUEST_RUN, "UNKNOWN"),
        (sc.SPAN_LLM_REQUEST_RUN, "UNKNOWN"),
        (sc.SPAN_START_AGENT_ACTIVITY, "UNKNOWN"),
        ("job_entrypoint", None),
    ],
)
def test_mlflow_type_by_name(name: str, expected: str | None) -> None:
    assert ml.span_type(view(name)) == expected


def test_mlflow_type_rules_and_encoding() -> None:
    assert ml.span_type(view(sc.SPAN_LLM_REQUEST, added=STAGE)) == "CHAIN"
    assert ml.span_type(view("custom", {"model": "m"})) == "UNKNOWN"
    assert ml.span_type(view(sc.SPAN_AGENT_TURN, {"model": "m"})) == "AGENT"
    facts = SpanFacts(input='{"a": 1}', output="héllo")
    assert ml.span_attributes(view(sc.SPAN_LLM_NODE), facts) == {
        "mlflow.spanType": '"CHAIN"',
        "mlflow.spanInputs": '{"a": 1}',
        "mlflow.spanOutputs": '"héllo"',
    }
    assert ml.span_attributes(view("x"), SpanFacts(input="[1]", output='"q"')) == {
        "mlflow.spanInputs": "[1]",
        "mlflow.spanOutputs": '"\\"q\\""',
    }
    assert ml.span_attributes(view("x"), SpanFacts(input="3")) == {"mlflow.spanInputs": '"3"'}
    assert ml.span_attributes(view("x"), SpanFacts()) == {}


# --- mappings (the entry point) -----------------------------------------------------------

OPTIONS = EnrichOptions(tags=("t1", "t2"), environment="prod", release="1.0")


def test_root_attributes() -> None:
    assert mappings.root_attributes(OPTIONS, "s1", "svc") == {
        "langfuse.session.id": "s1",
        "langfuse.trace.name": "svc",
        "langfuse.trace.tags": ["t1", "t2"],
        "langfuse.environment": "prod",
        "langfuse.release": "1.0",
        "session.id": "s1",
    }
    assert mappings.root_attributes(EnrichOptions(openinference=False), "s1", "svc") == {
        "langfuse.session.id": "s1",
        "langfuse.trace.name": "svc",
    }
    assert mappings.root_attributes(EnrichOptions(langfuse=False, tags=("t",)), "s1", "svc") == {
        "session.id": "s1"
    }


def test_span_kind_and_model_attributes() -> None:
    assert mappings.span_kind_attributes(OPTIONS, "llm_request") == {
        "openinference.span.kind": "LLM"
    }
    assert mappings.span_kind_attributes(OPTIONS, "job_entrypoint") == {}
    assert mappings.span_kind_attributes(EnrichOptions(openinference=False), "llm_request") == {}
    assert tuple(oi.KIND_BY_NAME) == mappings.KINDS
    attrs = {sc.GEN_AI_REQUEST_MODEL: "gpt"}
    assert mappings.llm_model_attributes(OPTIONS, attrs, "openai") == {
        "llm.model_name": "gpt",
        "llm.provider": "openai",
    }
    assert mappings.llm_model_attributes(OPTIONS, {}, None) == {}
    assert mappings.llm_model_attributes(EnrichOptions(openinference=False), attrs, "openai") == {}


def test_user_and_stage_attributes() -> None:
    assert mappings.user_attributes(OPTIONS, "alice") == {
        "langfuse.user.id": "alice",
        "user.id": "alice",
    }
    assert mappings.user_attributes(OPTIONS, None) == {}
    assert mappings.user_attributes(OPTIONS, "") == {}
    assert mappings.user_attributes(EnrichOptions(allow_pii=False), "alice") == {}
    assert mappings.user_attributes(EnrichOptions(langfuse=False), "alice") == {"user.id": "alice"}
    assert mappings.user_attributes(EnrichOptions(openinference=False), "alice") == {
        "langfuse.user.id": "alice"
    }
    assert mappings.stage_attributes(OPTIONS) == {
        "langfuse.observation.type": "span",
        "openinference.span.kind": "CHAIN",
    }
    assert mappings.stage_attributes(EnrichOptions(langfuse=False)) == {
        "openinference.span.kind": "CHAIN"
    }
    assert mappings.stage_attributes(EnrichOptions(openinference=False)) == {
        "langfuse.observation.type": "span"
    }


def _session(**kw: Any):
    args = {"is_root": True, "session_id": "s1", "participant_identity": "alice"}
    args.update(kw)
    added = {
        sc.SESSION_FIRST_USER_TEXT: "hi",
        sc.SESSION_LAST_AGENT_TEXT: "bye",
        "lk_otel.session.turns": 2,
    }
    return view(sc.SPAN_AGENT_SESSION, {}, added, **args)


def test_backend_attributes_of_a_root_session() -> None:
    got = mappings.backend_attributes(OPTIONS, _session())
    assert got == {
        "langfuse.observation.type": "chain",
        "langfuse.observation.input": "hi",
        "langfuse.observation.output": "bye",
        "langfuse.observation.metadata.lk_otel.session.turns": 2,
        "langfuse.trace.input": "hi",
        "langfuse.trace.output": "bye",
        "langfuse.trace.metadata.lk_otel.session.turns": 2,
        "openinference.span.kind": "CHAIN",
        "input.value": "hi",
        "output.value": "bye",
        "mlflow.spanType": '"CHAIN"',
        "mlflow.spanInputs": '"hi"',
        "mlflow.spanOutputs": '"bye"',
        "langfuse.session.id": "s1",
        "langfuse.trace.name": "svc",
        "langfuse.trace.tags": ["t1", "t2"],
        "langfuse.environment": "prod",
        "langfuse.release": "1.0",
        "session.id": "s1",
        "langfuse.user.id": "alice",
        "user.id": "alice",
    }


def test_backend_attributes_switches() -> None:
    session = _session()
    assert (
        mappings.backend_attributes(
            EnrichOptions(langfuse=False, openinference=False, mlflow=False), session
        )
        == {}
    )
    only_ml = mappings.backend_attributes(
        EnrichOptions(langfuse=False, openinference=False), session
    )
    assert only_ml == {
        "mlflow.spanType": '"CHAIN"',
        "mlflow.spanInputs": '"hi"',
        "mlflow.spanOutputs": '"bye"',
    }
    only_oi = mappings.backend_attributes(EnrichOptions(langfuse=False, mlflow=False), session)
    assert only_oi == {
        "openinference.span.kind": "CHAIN",
        "input.value": "hi",
        "output.value": "bye",
        "session.id": "s1",
        "user.id": "alice",
    }
    no_pii = mappings.backend_attributes(
        EnrichOptions(allow_pii=False, langfuse=False, mlflow=False), session
    )
    assert no_pii == {"openinference.span.kind": "CHAIN", "session.id": "s1"}
    not_root = mappings.backend_attributes(
        EnrichOptions(langfuse=False, mlflow=False), _session(is_root=False)
    )
    assert not_root == {
        "openinference.span.kind": "CHAIN",
        "input.value": "hi",
        "output.value": "bye",
        "user.id": "alice",
    }
    no_id = mappings.backend_attributes(
        EnrichOptions(langfuse=False, mlflow=False), _session(session_id=None)
    )
    assert "session.id" not in no_id


def test_backend_attributes_of_a_priced_llm_request() -> None:
    prices = PriceTable.parse({"openai/gpt": {"input_per_1m": 1.0, "output_per_1m": 2.0}})
    span = view(
        sc.SPAN_LLM_REQUEST,
        {
            sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: 500,
            sc.GEN_AI_PROVIDER_NAME: "openai",
            sc.GEN_AI_REQUEST_MODEL: "gpt",
        },
    )
    got = mappings.backend_attributes(
        EnrichOptions(openinference=False, mlflow=False, prices=prices), span
    )
    assert got == {
        "langfuse.observation.type": "generation",
        "langfuse.observation.usage_details": (
            '{"input": 1000, "input_cached_tokens": 0, "output": 500}'
        ),
        "langfuse.observation.model.name": "gpt",
        "langfuse.observation.cost_details": json.dumps({"total": 0.002}),
    }
    assert (
        mappings.backend_attributes(EnrichOptions(openinference=False, mlflow=False), span)[
            "langfuse.observation.type"
        ]
        == "generation"
    )
    assert "langfuse.observation.cost_details" not in mappings.backend_attributes(
        EnrichOptions(openinference=False, mlflow=False), span
    )


def test_completion_start_is_start_plus_ttfb_to_the_nanosecond() -> None:
    facts = SpanFacts(usage=TtsUsage(None, None, 1, 0.0, 1.0))
    got = lf.observation_attributes(view(sc.SPAN_TTS_REQUEST, start_ns=999_999), facts)
    assert got["langfuse.observation.completion_start_time"] == "1970-01-01T00:00:01.000Z"
