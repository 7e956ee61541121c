"""The content-key lists of ``lk_otel.content_keys`` and the package's redaction built on them."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import Event

from lk_otel import content_keys as ck
from lk_otel.enrich import redact

# What livekit itself writes without a marker on 1.6.10 (issue 16), and its 1.7 renames.
UNMARKED_16 = {
    "lk.instructions",
    "lk.response.function_calls",
    "lk.function_tool.arguments",
    "lk.function_tool.output",
    "lk.amd.transcript",
    "lk.participant_identity",
    "lk.room_name",
}


def test_every_supported_release_has_a_list() -> None:
    assert ck.SUPPORTED_RELEASES == (
        "1.2.18",
        "1.3.12",
        "1.4.6",
        "1.5.17",
        "1.6.10",
        "1.7.1",
        "1.8.9",
    )
    for release in ck.SUPPORTED_RELEASES:
        assert ck.livekit_keys(release) <= ck.content_keys(release).keys
        assert ck.content_keys(release).keys >= ck.LK_OTEL_CONTENT_KEYS
        assert ck.content_keys(release).keys >= ck.GEN_AI_CONTENT_KEYS
    with pytest.raises(KeyError):
        ck.content_keys("1.9.0")


def test_the_lists_follow_livekits_renames() -> None:
    assert ck.livekit_keys("1.6.10") >= UNMARKED_16
    assert UNMARKED_16 - {"lk.amd.transcript"} <= ck.livekit_keys("1.3.12")
    assert "lk.participant_identity" not in ck.livekit_keys("1.2.18")
    assert "lk.amd.transcript" not in ck.livekit_keys("1.4.6")
    # 1.7.0 introduced the marker: every key of 1.6 has its lk.pii. twin, and nothing else
    assert ck.livekit_keys("1.7.1") == {
        "lk.pii." + k.removeprefix("lk.") for k in ck.livekit_keys("1.6.10")
    }
    assert all(".pii." in k for k in ck.livekit_keys("1.7.1"))
    assert ck.livekit_keys("1.8.9") - ck.livekit_keys("1.7.1") == {
        "lk.pii.sip.phoneNumber",
        "lk.pii.rpc.payload",
        "lk.pii.rpc.response",
        "lk.rpc.caller_identity",
        "lk.rpc.destination_identity",
    }


@pytest.mark.parametrize(
    ("key", "content"),
    [
        ("lk.instructions", True),
        ("lk.pii.user_input", True),
        ("lk.pii.some_future_key", True),
        ("gen_ai.prompt.variable.city", True),
        ("gen_ai.prompt.0.content", True),
        ("llm.output_messages.0.message.content", True),
        ("langfuse.user.id", True),
        ("user.id", True),
        ("mlflow.spanInputs", True),
        ("lk.e2e_latency", False),
        ("lk.function_tool.name", False),
        ("gen_ai.usage.input_tokens", False),
        ("gen_ai.request.model", False),
        ("lk.participant_kind", False),
        ("lk_otel.session.e2e_latency.max", False),
        ("langfuse.session.id", False),
        ("input.mime_type", False),
        ("lk.pipeline", False),  # "pii" only as a substring, not a segment
    ],
)
def test_matches_is_exact(key: str, content: bool) -> None:
    assert ck.content_keys("1.6.10").matches(key) is content
    assert redact.is_content_key(key) is content


def test_redaction_strips_every_release_s_keys() -> None:
    attrs = {k: "secret" for k in ck.all_content_keys()} | {"lk.e2e_latency": 0.8}
    assert redact.strip_attributes(attrs) == {"lk.e2e_latency": 0.8}


def test_redaction_drops_genai_message_events_and_empties_others() -> None:
    events = (
        Event("gen_ai.user.message", {"content": "my card number"}, 1),
        Event("gen_ai.choice", {"role": "assistant", "content": "sure"}, 2),
        Event("exception", {"exception.type": "ValueError", "lk.pii.text": "x"}, 3),
        Event("marker", {"n": 1}, 4),
    )
    kept = redact.strip_events(events)
    assert [(e.name, dict(e.attributes or {})) for e in kept] == [
        ("exception", {"exception.type": "ValueError"}),
        ("marker", {"n": 1}),
    ]
    assert kept[1] is events[3]
