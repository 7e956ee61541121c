"""The issue-13 instruments, read back through the SDK's in-memory reader (exact values)."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from lk_otel import semconv as sc
from lk_otel.enrich.handoff import Handoff
from lk_otel.enrich.realtime import parse_realtime_metrics
from lk_otel.metrics.instruments import METER
from lk_otel.metrics.realtime import PLAYED_DURATION_BUCKETS, RealtimeMetricsRecorder, views


def _points(reader: InMemoryMetricReader) -> dict[str, list]:
    out: dict[str, list] = {}
    data = reader.get_metrics_data()
    for rm in data.resource_metrics:
        for scope in rm.scope_metrics:
            for metric in scope.metrics:
                out[metric.name] = list(metric.data.data_points)
    return out


def test_instruments_record_the_figures_with_low_cardinality_attributes() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], views=views())
    rec = RealtimeMetricsRecorder(provider.get_meter(METER))
    response = parse_realtime_metrics(
        {
            "type": "realtime_model_metrics",
            "request_id": "r1",
            "ttft": 0.42,
            "input_token_details": {
                "audio_tokens": 10,
                "text_tokens": 20,
                "cached_tokens_details": {"audio_tokens": 4, "text_tokens": 5},
            },
            "output_token_details": {"audio_tokens": 30, "text_tokens": 0},
            "metadata": {"model_name": "m", "model_provider": "p"},
        }
    )
    rec.on_response(response, "front")
    rec.on_response(parse_realtime_metrics({"type": "realtime_model_metrics"}), "front")
    rec.on_interrupted_turn(
        {sc.TURN_PLAYED_DURATION: 1.2, sc.TURN_BARGE_IN_STOP_LATENCY: 0.3}, "front"
    )
    rec.on_interrupted_turn({}, "front")
    rec.on_handoff(Handoff("front", "back", "to_back", 1.0))
    rec.on_handoff(Handoff(None, "back", None, 2.0))
    rec.on_false_interruption(True, "back")
    points = _points(reader)

    tokens = {
        (p.attributes[sc.GEN_AI_TOKEN_TYPE], p.attributes[sc.TOKEN_MODALITY]): p.value
        for p in points[sc.METRIC_REALTIME_TOKENS]
    }
    assert tokens == {
        ("input", "audio"): 6,
        ("input", "text"): 15,
        ("cached_input", "audio"): 4,
        ("cached_input", "text"): 5,
        ("output", "audio"): 30,
    }
    for p in points[sc.METRIC_REALTIME_TOKENS]:
        assert p.attributes[sc.AGENT_NAME] == "front"
        assert p.attributes[sc.GEN_AI_REQUEST_MODEL] == "m"
        assert p.attributes[sc.GEN_AI_PROVIDER_NAME] == "p"
    (ttft,) = points[sc.METRIC_REALTIME_TTFT]
    assert (ttft.count, ttft.sum) == (1, 0.42)
    (played,) = points[sc.METRIC_TURN_PLAYED_DURATION]
    assert (played.count, played.sum) == (1, 1.2)
    assert tuple(played.explicit_bounds) == PLAYED_DURATION_BUCKETS
    (stop,) = points[sc.METRIC_TURN_BARGE_IN_STOP_LATENCY]
    assert (stop.count, stop.sum) == (1, 0.3)
    assert 0.3 in stop.explicit_bounds
    handoffs = {tuple(sorted(p.attributes.items())): p.value for p in points[sc.METRIC_HANDOFFS]}
    assert handoffs == {
        ((sc.AGENT_NAME, "back"), (sc.HANDOFF_FROM, "front")): 1,
        ((sc.AGENT_NAME, "back"),): 1,
    }
    (false,) = points[sc.METRIC_FALSE_INTERRUPTIONS]
    assert false.value == 1 and false.attributes[sc.INTERRUPTION_RESUMED] is True
    for name in points:
        for p in points[name]:
            assert not any("session" in k or "room" in k for k in p.attributes)


CALL_SCRIPT = Path(__file__).parent / "support" / "realtime_metrics_call.py"


def _run_call(script: str) -> tuple[list[dict], dict[str, list]]:
    """The script's call in a fresh process with ``setup_tracing(metrics=True)`` to the
    in-process receiver: livekit's raw metrics, and the last export of each lk_otel metric."""
    import json
    import os
    import subprocess
    import sys

    from support.otlp_receiver import OtlpReceiver

    with OtlpReceiver() as receiver:
        env = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.grpc_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
            ),
        }
        done = subprocess.run(
            [sys.executable, str(CALL_SCRIPT), script, "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        raw = json.loads(done.stdout.strip().splitlines()[-1])
        latest: dict[str, list] = {}
        for m in receiver.metrics():
            latest[m.name] = list(m.data_points)  # cumulative: the last export holds totals
    return raw, latest


def test_a_traced_realtime_call_records_the_realtime_instruments() -> None:
    raw, points = _run_call("realtime")
    with_audio = [m["ttft"] for m in raw if m["ttft"] >= 0]
    (ttft,) = points[sc.METRIC_REALTIME_TTFT]
    assert ttft.count == len(with_audio) > 0
    assert abs(ttft.sum - sum(with_audio)) < 1e-9
    assert ttft.attributes[sc.GEN_AI_REQUEST_MODEL] == "gpt-realtime-sim"
    tokens = {
        (p.attributes[sc.GEN_AI_TOKEN_TYPE], p.attributes[sc.TOKEN_MODALITY]): p.value
        for p in points[sc.METRIC_REALTIME_TOKENS]
    }
    assert tokens[("output", "audio")] == sum(
        m["output_token_details"]["audio_tokens"] for m in raw
    )
    assert sum(p.count for p in points[sc.METRIC_TURN_PLAYED_DURATION]) == 1  # one barge-in
    assert sum(p.count for p in points[sc.METRIC_TURN_BARGE_IN_STOP_LATENCY]) == 1


def test_a_traced_handoff_call_counts_the_handoff() -> None:
    _, points = _run_call("handoff")
    (handoffs,) = points[sc.METRIC_HANDOFFS]
    assert handoffs.value == 1
    assert handoffs.attributes[sc.AGENT_NAME].endswith("billing")
    assert handoffs.attributes[sc.HANDOFF_FROM].endswith("receptionist")
