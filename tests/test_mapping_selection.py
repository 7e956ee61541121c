"""The backend-mapping keys follow the configured backends (issue 9: smaller spans).

Unset, ``langfuse=`` / ``openinference=`` / ``mlflow=`` write a mapping only when a backend
reads it: a ``Langfuse`` backend gets Langfuse's keys and no others, a ``Jaeger`` backend
none, any other backend all three; an explicit switch wins. Checked on what a real OTLP
receiver gets from a simulated call (HTTP for Langfuse, gRPC for Jaeger).
"""

from __future__ import annotations

from typing import Any

import lk_otel
from lk_otel.simulation import load_scenario, run_scenario
from support.otlp_receiver import OtlpReceiver

pytest_plugins = ["support.receiver_fixtures", "support.setup_fixtures"]

PREFIXES = {
    "langfuse": ("langfuse.",),
    "openinference": ("openinference.", "llm."),
    "mlflow": ("mlflow.",),
}
# livekit writes it itself on llm_request (1.8)
LIVEKIT_OWN = {"langfuse.observation.completion_start_time"}
SCENARIO = {
    "turns": [
        {
            "user": {"text": "hello there", "speech_duration": 0.6, "stt_delay": 0.1},
            "llm": [
                {
                    "ttft": 0.1,
                    "duration": 0.2,
                    "text": "Hi!",
                    "input_tokens": 10,
                    "output_tokens": 2,
                }
            ],
            "tts": {"ttfb": 0.1, "audio_duration": 0.4},
        }
    ]
}


def langfuse(receiver: OtlpReceiver) -> lk_otel.Langfuse:
    return lk_otel.Langfuse(
        public_key="pk-lf-test", secret_key="sk-lf-test", host=receiver.http_endpoint
    )


def jaeger(receiver: OtlpReceiver) -> lk_otel.Jaeger:
    return lk_otel.Jaeger(endpoint=receiver.grpc_endpoint, protocol="grpc")


async def mappings_received(
    receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle], backend: Any, **switches: Any
) -> set[str]:
    """Which mappings' keys the receiver got on the spans of one call."""
    handle = lk_otel.setup_tracing(backend, schedule_delay=0.05, **switches)
    handles.append(handle)
    await run_scenario(load_scenario(SCENARIO), speed=8.0)
    assert handle.force_flush(10)
    spans = receiver.spans()
    # the enrichment itself is on whatever the mappings (1.8: agent_turn; 1.2: its turn span)
    assert any(k.startswith("lk_otel.turn.") for s in spans for k in s.attributes)
    keys = {k for s in spans for k in s.attributes} - LIVEKIT_OWN
    return {m for m, prefixes in PREFIXES.items() if any(k.startswith(prefixes) for k in keys)}


async def test_a_langfuse_backend_gets_only_langfuse_keys(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    got = await mappings_received(otlp_receiver, handles, langfuse(otlp_receiver))
    assert got == {"langfuse"}


async def test_a_jaeger_backend_gets_no_backend_mapping(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    got = await mappings_received(otlp_receiver, handles, jaeger(otlp_receiver))
    assert got == set()


async def test_langfuse_and_jaeger_together_get_langfuse_keys(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    backends = [langfuse(otlp_receiver), jaeger(otlp_receiver)]
    assert await mappings_received(otlp_receiver, handles, backends) == {"langfuse"}


async def test_any_other_otlp_backend_gets_every_mapping(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    backend = lk_otel.OTLP(endpoint=otlp_receiver.grpc_endpoint, protocol="grpc")
    got = await mappings_received(otlp_receiver, handles, backend)
    assert got == {"langfuse", "openinference", "mlflow"}


async def test_an_explicit_switch_wins_over_the_backend(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    backend = jaeger(otlp_receiver)
    got = await mappings_received(
        otlp_receiver, handles, backend, openinference=True, mlflow="true"
    )
    assert got == {"openinference", "mlflow"}
