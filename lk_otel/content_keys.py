"""Attribute keys that carry conversational content or a person's identity, per livekit release.

One list per supported livekit-agents release, measured from that release's own sources
(``livekit/agents/telemetry/trace_types.py``, where the attributes are set, and on 1.8 its
``telemetry/pii.py``). Used by lk_otel's redaction (``enrich/redact.py``) and by the gateway's
``transform/strip_pii`` rules in ``collector-config/gateway.yaml`` (checked against this module
by ``tests/test_collector_config.py``).

Rules that hold on every release: a key with a ``pii`` dot-segment (livekit marks content
``lk.pii.*`` from 1.7.0 on), the GenAI semantic-convention content keys, and lk_otel's own
identity and input/output mapping keys. Before 1.7 livekit writes its content keys with no
marker, so they are listed by name.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORTED_RELEASES: tuple[str, ...] = (
    "1.2.18",
    "1.3.12",
    "1.4.6",
    "1.5.17",
    "1.6.10",
    "1.7.1",
    "1.8.9",
)

# livekit's unmarked content keys (1.2.18 … 1.6.10): system prompt, chat context, what the user
# said, what the model wrote and spoke, tool calls, their arguments and results, and the room.
_LK_UNMARKED_12 = frozenset(
    {
        "lk.user_input",
        "lk.instructions",
        "lk.chat_ctx",
        "lk.response.text",
        "lk.response.function_calls",
        "lk.function_tool.arguments",
        "lk.function_tool.output",
        "lk.input_text",
        "lk.user_transcript",
        "lk.room_name",
    }
)
_LK_UNMARKED_13 = _LK_UNMARKED_12 | {"lk.participant_identity"}
_LK_UNMARKED_15 = _LK_UNMARKED_13 | {"lk.amd.transcript"}

# 1.7.0 renamed every one of them under ``lk.pii.``.
_LK_MARKED_17 = frozenset(
    {
        "lk.pii.user_input",
        "lk.pii.instructions",
        "lk.pii.chat_ctx",
        "lk.pii.response.text",
        "lk.pii.response.function_calls",
        "lk.pii.function_tool.arguments",
        "lk.pii.function_tool.output",
        "lk.pii.input_text",
        "lk.pii.user_transcript",
        "lk.pii.amd.transcript",
        "lk.pii.participant_identity",
        "lk.pii.room_name",
    }
)
# 1.8 adds the caller's phone number, RPC payloads (marked) and RPC participant identities
# (not marked), and writes the GenAI content keys itself.
_LK_18 = _LK_MARKED_17 | {
    "lk.pii.sip.phoneNumber",
    "lk.pii.rpc.payload",
    "lk.pii.rpc.response",
    "lk.rpc.caller_identity",
    "lk.rpc.destination_identity",
}

# GenAI semantic-convention content (the set livekit 1.8.9 filters in telemetry/pii.py), on
# every release: plugins and other instrumentations may write them on older ones too.
GEN_AI_CONTENT_KEYS = frozenset(
    {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.tool.description",
        "gen_ai.tool.definitions",
        "gen_ai.retrieval.query.text",
        "gen_ai.retrieval.documents",
        "gen_ai.memory.query.text",
        "gen_ai.memory.records",
        "gen_ai.evaluation.explanation",
    }
)
# ``gen_ai.prompt.variable.<name>`` (1.8), the older ``gen_ai.prompt.N.*`` /
# ``gen_ai.completion.N.*``, and OpenInference message lists.
CONTENT_KEY_PREFIXES: tuple[str, ...] = (
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "llm.input_messages.",
    "llm.output_messages.",
)

# lk_otel's own keys: the participant identity (only written when PII is allowed) and the
# backends' input/output mapping keys.
LK_OTEL_CONTENT_KEYS = frozenset(
    {
        "langfuse.user.id",
        "user.id",
        "langfuse.observation.input",
        "langfuse.observation.output",
        "langfuse.trace.input",
        "langfuse.trace.output",
        "input.value",
        "output.value",
        "mlflow.spanInputs",
        "mlflow.spanOutputs",
    }
)

# Span events whose attributes hold the chat (livekit 1.2 … 1.7 write the chat context and the
# completion there; 1.8 writes none but filters all six).
CONTENT_EVENT_NAMES = frozenset(
    {
        "gen_ai.system.message",
        "gen_ai.user.message",
        "gen_ai.assistant.message",
        "gen_ai.tool.message",
        "gen_ai.choice",
        "gen_ai.client.inference.operation.details",
    }
)
# The attributes of those events that hold text (``role``, ``name``, ``id`` stay).
CONTENT_EVENT_KEYS = frozenset({"content", "tool_calls", "message"})

_LIVEKIT: dict[str, frozenset[str]] = {
    "1.2.18": _LK_UNMARKED_12,
    "1.3.12": _LK_UNMARKED_13,
    "1.4.6": _LK_UNMARKED_13,
    "1.5.17": _LK_UNMARKED_15,
    "1.6.10": _LK_UNMARKED_15,
    "1.7.1": _LK_MARKED_17,
    "1.8.9": _LK_18,
}


@dataclass(frozen=True)
class ContentKeys:
    """The content keys of one livekit release, with the rules common to all."""

    release: str
    keys: frozenset[str]
    prefixes: tuple[str, ...] = CONTENT_KEY_PREFIXES

    def matches(self, key: str) -> bool:
        """True if ``key`` carries content or identity on this release."""
        return key in self.keys or "pii" in key.split(".") or key.startswith(self.prefixes)


def livekit_keys(release: str) -> frozenset[str]:
    """livekit's own content and identity keys on ``release`` (one of SUPPORTED_RELEASES)."""
    return _LIVEKIT[release]


def content_keys(release: str) -> ContentKeys:
    """Every key to strip for ``release``: livekit's, GenAI content, lk_otel's own."""
    return ContentKeys(release, _LIVEKIT[release] | GEN_AI_CONTENT_KEYS | LK_OTEL_CONTENT_KEYS)


def all_content_keys() -> frozenset[str]:
    """The union over every supported release (what a gateway serving them all must strip)."""
    return frozenset().union(*(content_keys(r).keys for r in SUPPORTED_RELEASES))
