"""OTel metrics over the OTLP wire: per-turn histograms, usage counters, GenAI instruments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lk_otel import _compat
from lk_otel import semconv as sc
from lk_otel.metrics.instruments import GENAI_DURATION_BUCKETS, VOICE_LATENCY_BUCKETS
from support.otlp_receiver import MetricRecord, OtlpReceiver
from support.setup_fixtures import child_env

pytest_plugins = ["support.receiver_fixtures"]
SCRIPT = Path(__file__).parent / "support" / "metrics_call.py"
FORBIDDEN = ("session", "room", "user", "participant", "job", "speech_id", "trace")


def latest(receiver: OtlpReceiver, name: str) -> MetricRecord:
    found = receiver.metrics(name)
    assert found, f"{name} not received; got {sorted({m.name for m in receiver.metrics()})}"
    return found[-1]  # cumulative: the last export holds the totals


@pytest.fixture(scope="module")
def exported() -> tuple[OtlpReceiver, int]:
    receiver = OtlpReceiver().start()
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.grpc_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "8"], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    replies = json.loads(done.stdout.strip().splitlines()[-1])["replies"]
    yield receiver, replies
    receiver.stop()


def test_turn_latency_histograms(exported: tuple[OtlpReceiver, int]) -> None:
    receiver, replies = exported
    for name in (sc.METRIC_TURN_E2E, sc.METRIC_TURN_EOT, sc.METRIC_TURN_LLM_TTFT):
        metric = latest(receiver, name)
        assert (metric.type, metric.unit) == ("histogram", "s")
        assert sum(p.count for p in metric.data_points) == replies, name
        for point in metric.data_points:
            assert point.bucket_bounds == VOICE_LATENCY_BUCKETS
    ttfb = latest(receiver, sc.METRIC_TURN_TTS_TTFB)
    assert sum(p.count for p in ttfb.data_points) >= replies  # the greeting speaks too


def test_usage_counters_and_genai_instruments(exported: tuple[OtlpReceiver, int]) -> None:
    receiver, _ = exported
    tokens = latest(receiver, sc.METRIC_TOKENS)
    assert (tokens.type, tokens.unit, tokens.is_monotonic) == ("sum", "{token}", True)
    by_type = {p.attributes[sc.GEN_AI_TOKEN_TYPE]: p.value for p in tokens.data_points}
    assert by_type == {"input": 8212, "output": 151, "cached_input": 7552}  # the default scenario

    def total(name: str) -> float:
        return sum(p.value for p in latest(receiver, name).data_points)

    assert total(sc.METRIC_TTS_CHARACTERS) == 446
    assert total(sc.METRIC_INTERRUPTIONS) == 1
    assert total(sc.METRIC_STT_AUDIO) > 0
    duration = latest(receiver, sc.METRIC_GENAI_DURATION)
    assert duration.unit == "s"
    for point in duration.data_points:
        assert point.attributes[sc.GEN_AI_OPERATION_NAME] == "chat"
        assert point.attributes[sc.GEN_AI_PROVIDER_NAME] == "openai"
        assert point.attributes[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
        if not _compat.livekit_records_genai_metrics():  # else livekit's own buckets
            assert point.bucket_bounds == GENAI_DURATION_BUCKETS
    usage = latest(receiver, sc.METRIC_GENAI_TOKENS)
    assert {p.attributes[sc.GEN_AI_TOKEN_TYPE] for p in usage.data_points} == {"input", "output"}
    assert sum(p.sum for p in usage.data_points) == 8212 + 151


def test_attributes_are_low_cardinality(exported: tuple[OtlpReceiver, int]) -> None:
    receiver, _ = exported
    for metric in receiver.metrics():
        if not metric.name.startswith(("lk_otel.", "gen_ai.")):
            continue
        for point in metric.data_points:
            bad = [k for k in point.attributes if any(w in k for w in FORBIDDEN)]
            assert not bad, (metric.name, bad)


@pytest.mark.skipif(
    not _compat.has_session_usage(), reason="livekit 1.2 has no lk.agents.* instruments"
)
def test_livekit_own_instruments_reach_the_backend(exported: tuple[OtlpReceiver, int]) -> None:
    receiver, _ = exported
    names = {m.name for m in receiver.metrics()}
    assert any(n.startswith("lk.agents.") for n in names), sorted(names)


RECONFIGURE_SCRIPT = Path(__file__).parent / "support" / "metrics_reconfigure_call.py"


@pytest.mark.slow
def test_each_configuration_records_the_turns_of_its_own_sessions() -> None:
    """Two overlapping calls, the second under a second ``setup_tracing(metrics=True)``:
    each configuration's metrics count its own call's turns, none of the other's (a replaced
    configuration's recorder neither hears later sessions nor stays subscribed)."""
    with OtlpReceiver() as first, OtlpReceiver() as second:
        done = subprocess.run(
            [sys.executable, str(RECONFIGURE_SCRIPT), first.grpc_endpoint, second.grpc_endpoint],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        replies = json.loads(done.stdout.strip().splitlines()[-1])
        assert replies["first"] >= 4 and replies["second"] >= 1, replies
        for receiver, key in ((first, "first"), (second, "second")):
            metric = latest(receiver, sc.METRIC_TURN_E2E)
            assert sum(p.count for p in metric.data_points) == replies[key], key
