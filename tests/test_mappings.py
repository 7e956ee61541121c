"""``mappings.backend_attributes`` over the spans of real calls (livekit-agents 1.8.9 and
1.2.18, recorded by ``tests/support/recordings/mappings_record.py``), judged by the rules
Langfuse, Phoenix and MLflow apply when they ingest them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from lk_otel import semconv as sc
from lk_otel.enrich import mappings
from lk_otel.enrich.options import EnrichOptions
from lk_otel.enrich.view import SpanView

RECORDINGS = Path(__file__).parent / "support" / "recordings"
RELEASES = ("1.8.9", "1.2.18")
CONTENT_KEYS = (
    sc.LANGFUSE_OBSERVATION_INPUT,
    sc.LANGFUSE_OBSERVATION_OUTPUT,
    sc.LANGFUSE_TRACE_INPUT,
    sc.LANGFUSE_TRACE_OUTPUT,
    sc.OI_INPUT_VALUE,
    sc.OI_OUTPUT_VALUE,
    sc.MLFLOW_SPAN_INPUTS,
    sc.MLFLOW_SPAN_OUTPUTS,
)


@dataclass(frozen=True)
class Recorded:
    """One recorded span: its view as the mappings get it, and its place in the tree."""

    view: SpanView
    span_id: str
    parent_id: str | None


@dataclass(frozen=True)
class Call:
    release: str
    allow_pii: bool
    prices: Mapping[str, Any]
    spans: tuple[Recorded, ...]

    def named(self, name: str) -> list[Recorded]:
        return [s for s in self.spans if s.view.name == name]

    def session(self) -> Recorded:
        (s,) = self.named(sc.SPAN_AGENT_SESSION)
        return s

    def ancestors(self, span: Recorded) -> Iterable[Recorded]:
        by_id = {s.span_id: s for s in self.spans}
        p = span.parent_id
        while p is not None and p in by_id:
            yield by_id[p]
            p = by_id[p].parent_id


def load(release: str, pii: bool) -> Call:
    data = json.loads(
        (RECORDINGS / f"mappings-{release}-{'pii' if pii else 'nopii'}.json").read_text()
    )
    session_id = next(
        s["attributes"][sc.SESSION_ID] for s in data["spans"] if s["name"] == sc.SPAN_AGENT_SESSION
    )
    spans = []
    for s in data["spans"]:
        attrs = s["attributes"]
        added = {k: v for k, v in attrs.items() if k.startswith("lk_otel.")}
        view = SpanView(
            name=s["name"],
            attributes={k: v for k, v in attrs.items() if k not in added},
            added=added,
            is_root=s["parent_id"] is None,
            start_ns=s["start_ns"],
            end_ns=s["end_ns"],
            service_name=s["service_name"],
            session_id=session_id if s["parent_id"] is None else None,
        )
        spans.append(Recorded(view, s["span_id"], s["parent_id"]))
    return Call(release, data["allow_pii"], data["prices"], tuple(spans))


def with_added(call: Call, name: str, fn: Any) -> Call:
    """``call`` with extra ``added`` keys (``fn(recorded) -> dict``) on the spans ``name``."""
    spans = tuple(
        replace(s, view=replace(s.view, added={**s.view.added, **fn(s)}))
        if s.view.name == name
        else s
        for s in call.spans
    )
    return replace(call, spans=spans)


def options(**kw: Any) -> EnrichOptions:
    base: dict[str, Any] = dict(
        allow_pii=True,
        langfuse=True,
        openinference=True,
        tags=None,
        environment=None,
        release=None,
        prices=None,
    )
    base.update(kw)
    return EnrichOptions.build(**base)


def exported(call: Call, opts: EnrichOptions) -> list[tuple[Recorded, dict[str, Any]]]:
    """Each span with its attributes as exported: livekit's + lk_otel's + the mapping keys."""
    return [
        (s, {**s.view.attributes, **s.view.added, **mappings.backend_attributes(opts, s.view)})
        for s in call.spans
    ]


# --- the rules the backends apply (facts file; Langfuse ObservationTypeMapper, MLflow's
# --- LiveKit translator, Phoenix's GenAI conversion) -----------------------------------
_LF_TYPES = {
    "span",
    "generation",
    "event",
    "embedding",
    "agent",
    "tool",
    "chain",
    "retriever",
    "guardrail",
    "evaluator",
}
_LF_FROM_OI = {"LLM": "generation", "CHAIN": "chain", "AGENT": "agent", "TOOL": "tool"}
_LF_FROM_OP = {
    "chat": "generation",
    "completion": "generation",
    "text_completion": "generation",
    "generate_content": "generation",
    "generate": "generation",
    "embeddings": "embedding",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "execute_tool": "tool",
}
_MODEL_KEYS = (
    "langfuse.observation.model.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm.model_name",
    "model",
)


def langfuse_type(name: str, a: Mapping[str, Any]) -> str:
    """The observation type Langfuse gives a ``livekit-agents`` span, rules in priority order."""
    if a.get(sc.LANGFUSE_OBSERVATION_TYPE) in _LF_TYPES:
        return a[sc.LANGFUSE_OBSERVATION_TYPE]
    if a.get(sc.OPENINFERENCE_SPAN_KIND) in _LF_FROM_OI:
        return _LF_FROM_OI[a[sc.OPENINFERENCE_SPAN_KIND]]
    if a.get(sc.GEN_AI_OPERATION_NAME) in _LF_FROM_OP:
        return _LF_FROM_OP[a[sc.GEN_AI_OPERATION_NAME]]
    if name == sc.SPAN_AGENT_TURN:
        return "agent"
    if name == sc.SPAN_FUNCTION_TOOL or a.get("gen_ai.tool.name") or a.get("gen_ai.tool.call.id"):
        return "tool"
    if any(a.get(k) for k in _MODEL_KEYS):
        return "generation"
    return "span"


def langfuse_usage(a: Mapping[str, Any]) -> dict[str, Any]:
    """Langfuse's usage of a span: ``usage_details`` JSON, else every gen_ai.usage key."""
    if sc.LANGFUSE_USAGE_DETAILS in a:
        return json.loads(a[sc.LANGFUSE_USAGE_DETAILS])
    return {
        k: v
        for k, v in a.items()
        if (k.startswith("gen_ai.usage.") and k != "gen_ai.usage.cost")
        or k.startswith("llm.token_count")
    }


def mlflow_type(a: Mapping[str, Any]) -> str | None:
    """MLflow's type of a livekit span: ``mlflow.spanType``, else its LiveKit translator."""
    if sc.MLFLOW_SPAN_TYPE in a:
        return json.loads(a[sc.MLFLOW_SPAN_TYPE])
    if "gen_ai.request.model" in a or "lk.retry_count" in a:
        return "LLM"
    return None


def phoenix_kind(a: Mapping[str, Any]) -> str | None:
    """Phoenix's kind: ``openinference.span.kind``, else what its GenAI conversion infers."""
    if sc.OPENINFERENCE_SPAN_KIND in a:
        return a[sc.OPENINFERENCE_SPAN_KIND]
    if not any(k.startswith("gen_ai.") for k in a):
        return None
    op = a.get(sc.GEN_AI_OPERATION_NAME)
    if op is None:
        return "LLM" if a.get("gen_ai.request.model") else None
    return {
        "chat": "LLM",
        "invoke_agent": "AGENT",
        "create_agent": "AGENT",
        "execute_tool": "TOOL",
    }.get(op)


def tts_metrics(s: Recorded) -> dict[str, Any]:
    return json.loads(s.view.attributes[sc.LK_TTS_METRICS])


def llm_metrics(s: Recorded) -> dict[str, Any]:
    return json.loads(s.view.attributes[sc.LK_LLM_METRICS])


def stt_models(call: Call) -> Call:
    """The STT model keys lk_otel asks the enrichment to add to each user turn, here from the
    session's own usage rows of the same recording (1.2 puts no STT model on any span)."""
    rows = json.loads(call.session().view.added[sc.SESSION_USAGE])
    (stt,) = [r for r in rows if r["type"] == "stt_usage"]
    return with_added(
        call,
        sc.SPAN_USER_TURN,
        lambda s: {sc.USER_STT_PROVIDER: stt["provider"], sc.USER_STT_MODEL: stt["model"]},
    )


@pytest.fixture(params=RELEASES)
def call(request: pytest.FixtureRequest) -> Call:
    return load(request.param, pii=True)


@pytest.fixture(params=[(r, p) for r in RELEASES for p in (True, False)], ids=str)
def any_call(request: pytest.FixtureRequest) -> Call:
    return load(*request.param)


# --- Langfuse: types ---------------------------------------------------------------------
def test_without_the_mapping_langfuse_makes_empty_generations(call: Call) -> None:
    """The premise: livekit's spans alone give Langfuse generations without usage (1.8.9)."""
    empty = {
        s.view.name
        for s, a in exported(call, options(langfuse=False, openinference=False, mlflow=False))
        if langfuse_type(s.view.name, a) == "generation" and not langfuse_usage(a)
    }
    if call.release == "1.8.9":
        assert empty >= {"tts_request", "tts_request_run", "llm_request_run", "llm_node"}
    else:  # 1.2 writes no model key outside llm_request
        assert empty == set()


def test_no_generation_without_usage(any_call: Call) -> None:
    for opts in (options(allow_pii=any_call.allow_pii), options(openinference=False, mlflow=False)):
        generations: dict[str, int] = {}
        for s, a in exported(any_call, opts):
            kind = langfuse_type(s.view.name, a)
            if kind == "generation":
                assert langfuse_usage(a), (s.view.name, a)
                generations[s.view.name] = generations.get(s.view.name, 0) + 1
        spoken = [
            t for t in any_call.named(sc.SPAN_TTS_REQUEST) if sc.LK_TTS_METRICS in t.view.attributes
        ]
        heard = [
            u
            for u in any_call.named(sc.SPAN_USER_TURN)
            if u.view.added.get(sc.USER_STT_AUDIO_DURATION, 0) > 0
        ]
        assert generations == {
            sc.SPAN_LLM_REQUEST: len(any_call.named(sc.SPAN_LLM_REQUEST)),
            sc.SPAN_TTS_REQUEST: len(spoken),
            sc.SPAN_USER_TURN: len(heard),
        }
        assert len(spoken) == 6 and len(heard) == 4


def test_usage_and_cost_pass_langfuse_schema(any_call: Call) -> None:
    """Langfuse takes usage_details of whole non-negative numbers only (else the observation
    loses its usage), cost_details of non-negative numbers, ISO times with an offset."""
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
    seen = 0
    for _, a in exported(any_call, options(prices=any_call.prices)):
        if sc.LANGFUSE_USAGE_DETAILS in a:
            seen += 1
            usage = json.loads(a[sc.LANGFUSE_USAGE_DETAILS])
            assert usage and all(type(v) is int and v >= 0 for v in usage.values()), usage
        if sc.LANGFUSE_COST_DETAILS in a:
            cost = json.loads(a[sc.LANGFUSE_COST_DETAILS])
            assert (
                set(cost) == {"total"} and isinstance(cost["total"], float) and cost["total"] >= 0
            )
        if sc.LANGFUSE_COMPLETION_START_TIME in a:
            stamp = a[sc.LANGFUSE_COMPLETION_START_TIME]
            assert iso.fullmatch(stamp if stamp[0] != '"' else json.loads(stamp)), stamp
    assert seen == 16  # 6 LLM, 6 TTS requests, 4 user turns


def test_every_livekit_span_gets_the_type_a_reader_expects(call: Call) -> None:
    types: dict[str, set[str]] = {}
    for s, a in exported(call, options()):
        if sc.STAGE_NAME not in s.view.added:
            types.setdefault(s.view.name, set()).add(langfuse_type(s.view.name, a))
    turn = sc.SPAN_AGENT_TURN if call.release == "1.8.9" else sc.SPAN_ASSISTANT_TURN
    assert types[turn] == {"agent"}
    assert types[sc.SPAN_FUNCTION_TOOL] == {"tool"}
    assert types[sc.SPAN_AGENT_SESSION] == {"chain"}
    assert types[sc.SPAN_LLM_REQUEST] == {"generation"}
    for name in (
        sc.SPAN_LLM_NODE,
        sc.SPAN_TTS_NODE,
        sc.SPAN_LLM_REQUEST_RUN,
        sc.SPAN_TTS_REQUEST_RUN,
        sc.SPAN_START_AGENT_ACTIVITY,
    ):
        assert types[name] == {"span"}, name
    # 1.2's text-less tts_request has no metrics: a span; the 1.8.9 closing user turn heard nothing
    newest = call.release == "1.8.9"
    assert types[sc.SPAN_TTS_REQUEST] == ({"generation"} if newest else {"generation", "span"})
    assert types[sc.SPAN_USER_TURN] == ({"generation", "span"} if newest else {"generation"})


def test_stage_spans_are_plain_spans(call: Call) -> None:
    stages = [(s, a) for s, a in exported(call, options()) if sc.STAGE_NAME in s.view.added]
    assert len(stages) == 24  # 4 replies x (response_latency + 5 stages)
    for _, a in stages:
        assert a[sc.LANGFUSE_OBSERVATION_TYPE] == "span"
        assert a[sc.OPENINFERENCE_SPAN_KIND] == "CHAIN"
        assert a[sc.MLFLOW_SPAN_TYPE] == '"CHAIN"'


# --- Langfuse: TTS, STT, LLM usage -----------------------------------------------------------
def test_tts_requests_are_generations_with_characters_at_default_level(call: Call) -> None:
    out = dict((s.span_id, a) for s, a in exported(call, options()))
    spoken = [t for t in call.named(sc.SPAN_TTS_REQUEST) if sc.LK_TTS_METRICS in t.view.attributes]
    assert (
        sum(tts_metrics(t)["characters_count"] for t in spoken)
        == call.session().view.added[sc.SESSION_TTS_CHARACTERS]
        == 446
    )
    for t in spoken:
        a, m = out[t.span_id], tts_metrics(t)
        assert a[sc.LANGFUSE_OBSERVATION_TYPE] == "generation"
        assert json.loads(a[sc.LANGFUSE_USAGE_DETAILS]) == {
            "characters": m["characters_count"],
            "audio_ms": round(m["audio_duration"] * 1000),
            "total": m["characters_count"],
        }
        assert a[sc.LANGFUSE_OBSERVATION_MODEL] == "sonic-2"
        assert a[sc.LANGFUSE_OBSERVATION_LEVEL] == "DEFAULT"
        first_byte_ms = (t.view.start_ns + round(m["ttfb"] * 1e9)) // 1_000_000
        stamp = a[sc.LANGFUSE_COMPLETION_START_TIME]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
        parsed = __import__("datetime").datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert round(parsed.timestamp() * 1000) == first_byte_ms
        assert t.view.start_ns // 1_000_000 <= first_byte_ms <= t.view.end_ns // 1_000_000


def test_tts_node_leaves_debug_level(call: Call) -> None:
    nodes = [a for s, a in exported(call, options()) if s.view.name == sc.SPAN_TTS_NODE]
    assert nodes and all(a[sc.LANGFUSE_OBSERVATION_LEVEL] == "DEFAULT" for a in nodes)
    assert all(sc.TTS_CHARACTERS in a for a in nodes)  # the span that carries lk_otel.tts.*


def test_user_turns_are_stt_generations_with_audio_milliseconds(call: Call) -> None:
    out = dict((s.span_id, a) for s, a in exported(call, options()))
    heard = [
        u for u in call.named(sc.SPAN_USER_TURN) if u.view.added[sc.USER_STT_AUDIO_DURATION] > 0
    ]
    assert sum(u.view.added[sc.USER_STT_AUDIO_DURATION] for u in heard) == pytest.approx(
        call.session().view.added[sc.SESSION_STT_AUDIO_DURATION]
    )
    for u in heard:
        a = out[u.span_id]
        assert json.loads(a[sc.LANGFUSE_USAGE_DETAILS]) == {
            "audio_ms": round(u.view.added[sc.USER_STT_AUDIO_DURATION] * 1000)
        }
        if call.release == "1.8.9":
            assert a[sc.LANGFUSE_OBSERVATION_MODEL] == "nova-3"
        else:  # 1.2: no STT model on the span until the enrichment adds it
            assert sc.LANGFUSE_OBSERVATION_MODEL not in a
    for s, a in exported(stt_models(call), options()):
        if s.view.name == sc.SPAN_USER_TURN and s.view.added[sc.USER_STT_AUDIO_DURATION] > 0:
            assert a[sc.LANGFUSE_OBSERVATION_MODEL] == "nova-3"


def test_llm_usage_separates_cached_tokens_on_both_releases(call: Call) -> None:
    requests = [(s, a) for s, a in exported(call, options()) if s.view.name == sc.SPAN_LLM_REQUEST]
    assert len(requests) == 6
    total_cached = 0
    for s, a in requests:
        m = llm_metrics(s)
        cached = m["prompt_cached_tokens"]
        total_cached += cached
        assert json.loads(a[sc.LANGFUSE_USAGE_DETAILS]) == {
            "input": m["prompt_tokens"] - cached,
            "input_cached_tokens": cached,
            "output": m["completion_tokens"],
        }
        assert a[sc.OI_TOKEN_CACHE_READ] == cached
        assert a[sc.OI_TOKEN_PROMPT] == m["prompt_tokens"]
        assert a[sc.OI_TOKEN_COMPLETION] == m["completion_tokens"]
        assert a[sc.OI_TOKEN_TOTAL] == m["prompt_tokens"] + m["completion_tokens"]
        assert a[sc.OI_LLM_MODEL_NAME] == a[sc.LANGFUSE_OBSERVATION_MODEL] == "gpt-4o-mini"
        assert a[sc.OI_LLM_PROVIDER] == "openai"
    assert total_cached == call.session().view.added[sc.SESSION_CACHED_INPUT_TOKENS] == 7552
    if call.release == "1.2.18":  # the count is nowhere else on 1.2's spans
        assert all(sc.GEN_AI_USAGE_CACHE_READ not in s.view.attributes for s, _ in requests)


# --- Langfuse: cost ---------------------------------------------------------------------
def _costs(call: Call, opts: EnrichOptions) -> list[tuple[Recorded, float]]:
    return [
        (s, json.loads(a[sc.LANGFUSE_COST_DETAILS])["total"])
        for s, a in exported(call, opts)
        if sc.LANGFUSE_COST_DETAILS in a
    ]


def test_cost_details_on_leaves_sum_to_the_session_cost(call: Call) -> None:
    priced = stt_models(call) if call.release == "1.2.18" else call
    opts = options(prices=call.prices)
    costs = _costs(priced, opts)
    session_cost = call.session().view.added[sc.SESSION_COST]
    assert sum(c for _, c in costs) == pytest.approx(session_cost, rel=1e-9)
    assert session_cost == pytest.approx(
        (660 * 0.15 + 7552 * 0.075 + 151 * 0.6) / 1e6
        + 446 * 0.05 / 1e3
        + call.session().view.added[sc.SESSION_STT_AUDIO_DURATION] / 60 * 0.0043
    )
    with_cost = {s.span_id for s, _ in costs}
    for s, _ in costs:  # leaves: no priced observation above another
        assert not any(p.span_id in with_cost for p in priced.ancestors(s)), s.view.name
    by_name: dict[str, int] = {}
    for s, c in costs:
        by_name[s.view.name] = by_name.get(s.view.name, 0) + 1
        if s.view.name == sc.SPAN_TTS_REQUEST:
            assert c == pytest.approx(tts_metrics(s)["characters_count"] * 0.05 / 1e3)
        if s.view.name == sc.SPAN_LLM_REQUEST:
            m = llm_metrics(s)
            cached = m["prompt_cached_tokens"]
            expected = (
                (m["prompt_tokens"] - cached) * 0.15 + cached * 0.075 + m["completion_tokens"] * 0.6
            )
            assert c == pytest.approx(expected / 1e6)
    assert by_name == {"llm_request": 6, "tts_request": 6, "user_turn": 4}


def test_no_stt_cost_without_an_stt_model(call: Call) -> None:
    """1.2 alone names no STT model: its user turns keep usage but are not priced by guess."""
    costs = _costs(call, options(prices=call.prices))
    priced_turns = [s for s, _ in costs if s.view.name == sc.SPAN_USER_TURN]
    assert len(priced_turns) == (4 if call.release == "1.8.9" else 0)


def test_no_cost_details_without_prices_or_for_unpriced_models(call: Call) -> None:
    assert _costs(call, options()) == []
    only_llm = {"openai/gpt-4o-mini": call.prices["openai/gpt-4o-mini"]}
    names = {s.view.name for s, _ in _costs(call, options(prices=only_llm))}
    assert names == {sc.SPAN_LLM_REQUEST}  # an unpriced model keeps Langfuse's own price


# --- content ------------------------------------------------------------------------------
def test_nothing_said_reaches_any_backend_with_pii_off(any_call: Call) -> None:
    pii = load(any_call.release, pii=True)
    said = {  # every text of the PII recording: what the user and the agent said
        v
        for s in pii.spans
        for k, v in s.view.attributes.items()
        if isinstance(v, str) and len(v) > 8 and k in _CONTENT_SOURCES
    }
    assert len(said) > 10
    for c in (any_call, pii):  # a call recorded with PII on too: the gate must be ours
        contract = with_added(
            c,
            sc.SPAN_AGENT_SESSION,
            lambda s: {sc.SESSION_FIRST_USER_TEXT: "hello", sc.SESSION_LAST_AGENT_TEXT: "bye"},
        )
        for s in contract.spans:
            out = mappings.backend_attributes(options(allow_pii=False, prices=c.prices), s.view)
            assert not [k for k in CONTENT_KEYS if k in out], s.view.name
            assert not said & {v for v in out.values() if isinstance(v, str)}, s.view.name


_CONTENT_SOURCES = {
    *sc.LK_USER_INPUT_KEYS,
    *sc.LK_RESPONSE_TEXT_KEYS,
    *sc.LK_USER_TRANSCRIPT_KEYS,
    *sc.LK_CHAT_CTX_KEYS,
    *sc.LK_INPUT_TEXT_KEYS,
    *sc.LK_TOOL_ARGUMENTS_KEYS,
    *sc.LK_TOOL_OUTPUT_KEYS,
}


def test_turns_and_user_turns_say_what_was_said(call: Call) -> None:
    out = exported(call, options())
    turn_name = sc.SPAN_AGENT_TURN if call.release == "1.8.9" else sc.SPAN_ASSISTANT_TURN
    user_key, response_key, transcript_key = (
        ("lk.pii.user_input", "lk.pii.response.text", "lk.pii.user_transcript")
        if call.release == "1.8.9"
        else ("lk.user_input", "lk.response.text", "lk.user_transcript")
    )
    said = 0
    for s, a in out:
        lk = s.view.attributes
        if s.view.name == turn_name and lk.get(user_key):
            said += 1
            assert a[sc.LANGFUSE_OBSERVATION_INPUT] == a[sc.OI_INPUT_VALUE] == lk[user_key]
            assert a[sc.MLFLOW_SPAN_INPUTS] == json.dumps(lk[user_key], ensure_ascii=False)
        if s.view.name == turn_name and lk.get(response_key):
            assert a[sc.LANGFUSE_OBSERVATION_OUTPUT] == a[sc.OI_OUTPUT_VALUE] == lk[response_key]
            assert json.loads(a[sc.MLFLOW_SPAN_OUTPUTS]) == lk[response_key]
        if s.view.name == sc.SPAN_USER_TURN and lk.get(transcript_key):
            assert a[sc.LANGFUSE_OBSERVATION_INPUT] == a[sc.OI_INPUT_VALUE] == lk[transcript_key]
        if s.view.name == sc.SPAN_LLM_NODE:
            assert json.loads(a[sc.OI_INPUT_VALUE])["items"]  # the chat context
    assert said == 4  # every reply turn
    replies = [
        a for s, a in out if s.view.name == turn_name and sc.LANGFUSE_OBSERVATION_OUTPUT in a
    ]
    assert replies and all(a[sc.LANGFUSE_OBSERVATION_OUTPUT] for a in replies)


def test_the_trace_says_the_first_user_text_and_the_last_agent_text(call: Call) -> None:
    (root_alone,) = [a for s, a in exported(call, options()) if s.view.is_root]
    assert not any(k in root_alone for k in CONTENT_KEYS)  # livekit puts nothing said there
    contract = with_added(
        call,
        sc.SPAN_AGENT_SESSION,
        lambda s: {
            sc.SESSION_FIRST_USER_TEXT: "Hi, I'd like to book a table for four tomorrow evening.",
            sc.SESSION_LAST_AGENT_TEXT: "You're welcome! See you tomorrow evening. Goodbye!",
        },
    )
    (root,) = [a for s, a in exported(contract, options()) if s.view.is_root]
    first = "Hi, I'd like to book a table for four tomorrow evening."
    last = "You're welcome! See you tomorrow evening. Goodbye!"
    assert root[sc.LANGFUSE_TRACE_INPUT] == root[sc.LANGFUSE_OBSERVATION_INPUT] == first
    assert root[sc.LANGFUSE_TRACE_OUTPUT] == root[sc.LANGFUSE_OBSERVATION_OUTPUT] == last
    assert root[sc.OI_INPUT_VALUE] == first and root[sc.OI_OUTPUT_VALUE] == last
    assert json.loads(root[sc.MLFLOW_SPAN_INPUTS]) == first
    assert json.loads(root[sc.MLFLOW_SPAN_OUTPUTS]) == last


def test_trace_keys_go_on_agent_session_even_under_a_job_span(call: Call) -> None:
    session = call.session().view
    nested = replace(
        session,
        is_root=False,
        added={
            **session.added,
            sc.SESSION_FIRST_USER_TEXT: "hi",
            sc.SESSION_LAST_AGENT_TEXT: "bye",
        },
    )
    out = mappings.backend_attributes(options(), nested)
    assert out[sc.LANGFUSE_TRACE_INPUT] == "hi" and out[sc.LANGFUSE_TRACE_OUTPUT] == "bye"
    assert out[sc.LANGFUSE_TRACE_METADATA + sc.SESSION_TURNS] == session.added[sc.SESSION_TURNS]


# --- metadata -------------------------------------------------------------------------------
def test_figures_are_langfuse_metadata_and_stay_flat(call: Call) -> None:
    for s, a in exported(call, options(prices=call.prices)):
        for key, value in s.view.added.items():
            assert a[key] == value  # the flat key is kept
            meta = sc.LANGFUSE_OBSERVATION_METADATA + key
            if key == sc.SESSION_USAGE:
                assert meta not in a
            else:
                assert a[meta] == value and type(a[meta]) is type(value)
            if s.view.is_root and key != sc.SESSION_USAGE:
                assert a[sc.LANGFUSE_TRACE_METADATA + key] == value
    (root,) = [a for s, a in exported(call, options(prices=call.prices)) if s.view.is_root]
    assert isinstance(root[sc.LANGFUSE_TRACE_METADATA + sc.SESSION_COST], float)
    assert isinstance(root[sc.LANGFUSE_TRACE_METADATA + sc.SESSION_E2E_P95], float)


# --- Phoenix and MLflow kinds -----------------------------------------------------------------
def test_only_llm_requests_are_llm_spans_in_phoenix_and_mlflow(call: Call) -> None:
    raw = exported(call, options(langfuse=False, openinference=False, mlflow=False))
    if call.release == "1.8.9":  # the premise: both backends guess TTS spans are LLM calls
        assert {s.view.name for s, a in raw if phoenix_kind(a) == "LLM"} > {sc.SPAN_LLM_REQUEST}
    assert sc.SPAN_TTS_REQUEST_RUN in {s.view.name for s, a in raw if mlflow_type(a) == "LLM"}
    out = exported(call, options())
    assert {s.view.name for s, a in out if phoenix_kind(a) == "LLM"} == {sc.SPAN_LLM_REQUEST}
    assert {s.view.name for s, a in out if mlflow_type(a) == "LLM"} == {sc.SPAN_LLM_REQUEST}
    kinds = {s.view.name: (phoenix_kind(a), mlflow_type(a)) for s, a in out}
    turn = sc.SPAN_AGENT_TURN if call.release == "1.8.9" else sc.SPAN_ASSISTANT_TURN
    assert kinds[turn] == ("AGENT", "AGENT")
    assert kinds[sc.SPAN_FUNCTION_TOOL] == ("TOOL", "TOOL")
    assert kinds[sc.SPAN_AGENT_SESSION] == ("CHAIN", "CHAIN")
    assert kinds[sc.SPAN_TTS_REQUEST] == ("CHAIN", "UNKNOWN")
    assert kinds[sc.SPAN_USER_TURN] == ("CHAIN", "CHAIN")


# --- switches -------------------------------------------------------------------------------
def test_each_backend_is_switched_on_its_own(call: Call) -> None:
    def keys(opts: EnrichOptions) -> set[str]:
        return {k for s in call.spans for k in mappings.backend_attributes(opts, s.view)}

    lf = {
        k for k in keys(options(openinference=False, mlflow=False)) if not k.startswith("langfuse.")
    }
    oi = keys(options(langfuse=False, mlflow=False))
    ml = keys(options(langfuse=False, openinference=False))
    assert lf == set()
    assert oi and not any(k.startswith(("langfuse.", "mlflow.")) for k in oi)
    assert ml == {sc.MLFLOW_SPAN_TYPE, sc.MLFLOW_SPAN_INPUTS, sc.MLFLOW_SPAN_OUTPUTS}
    assert keys(options(langfuse=False, openinference=False, mlflow=False)) == set()


def test_build_keeps_its_arguments_and_mlflow_defaults_on() -> None:
    opts = options()
    assert opts.mlflow is True and opts.langfuse is True and opts.openinference is True
    assert options(mlflow=False).mlflow is False
