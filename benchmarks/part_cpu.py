"""Part 1: CPU per span of lk_otel, the bare SDK and a peer on the same replayed call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_common import (
    CALLER_RATIO_GOAL,
    CPU_RATIO_GOAL,
    SERVICE,
    Figure,
    Receiver,
    Sizes,
    _emit,
    _quiet_logs,
    _verdict,
    run_child,
)
from part_output import MAPPING_SWITCHES


def child_cpu(cfg: dict[str, Any]) -> None:
    """Part 1: CPU per span, lk_otel against the bare SDK (and traceai-livekit), interleaved
    rounds; caller-thread CPU (``thread_time``) and whole-process CPU (``process_time``)."""
    import gc

    import peers
    import span_replay as sr
    from livekit.agents import telemetry
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    from lk_otel import setup_tracing
    from lk_otel.collect.feed import SessionFeed
    from lk_otel.collect.instrumentor import CURRENT_FEED

    _quiet_logs()
    steps = sr.load(Path(cfg["stream"]))
    per_call = sr.span_count(steps)
    call_ns = sr.duration_ns(steps) + 1_000_000_000
    calls, rounds, queue = cfg["calls"], cfg["rounds"], cfg["queue"]

    def exporter(base: type | None = None) -> SpanExporter:
        if cfg["exporter"] == "counting":
            return (base or sr.CountingExporter)()
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return (base or OTLPSpanExporter)(endpoint=cfg["endpoint"], insecure=True)

    def sdk_pipeline(span_exporter: SpanExporter) -> TracerProvider:
        provider = TracerProvider()
        provider.add_span_processor(
            BatchSpanProcessor(span_exporter, max_queue_size=queue, schedule_delay_millis=1000)
        )
        telemetry.set_tracer_provider(provider)  # livekit's PII processor, as a user gets it
        return provider

    bare_exporter = exporter()
    bare = sdk_pipeline(bare_exporter)
    pipelines: dict[str, tuple[Any, Any, Callable[[], Any]]] = {
        "bare": (bare, None, bare.force_flush),
    }
    streams = {"bare_out": sr.load(Path(cfg["output_stream"]))}  # lk_otel's output, replayed
    same_output = sdk_pipeline(exporter())
    pipelines["bare_out"] = (same_output, None, same_output.force_flush)
    peer = peers.traceai_exporter_class(cfg["exporter"])
    if isinstance(peer, type):
        traceai = sdk_pipeline(exporter(peer))
        pipelines["traceai"] = (traceai, None, traceai.force_flush)
    lk_exporter = exporter()
    handle = setup_tracing(
        lk_exporter,
        service_name=SERVICE,
        max_queue_size=queue,
        flush_timeout=120,
        **MAPPING_SWITCHES[cfg["mappings"]],
    )
    assert handle.provider is not None

    def lk_flush() -> None:
        if not handle.force_flush():  # through the enrichment and the backend's exporter
            raise RuntimeError("lk_otel flush did not finish")

    def session_feed() -> Callable[[], None]:
        token = CURRENT_FEED.set(SessionFeed())  # what the instrumented AgentSession.start does
        return lambda: CURRENT_FEED.reset(token)

    pipelines["lk_otel"] = (handle.provider, session_feed, lk_flush)
    offset = [0]

    def run(name: str, n: int) -> tuple[float, float]:
        provider, on_root, flush = pipelines[name]
        tracer = provider.get_tracer("livekit-agents")
        replayed = streams.get(name, steps)
        gc.collect()
        t0, c0 = time.process_time(), time.thread_time()
        for _ in range(n):
            sr.replay(tracer, replayed, offset_ns=offset[0], on_root=on_root)
            offset[0] += call_ns
        c1 = time.thread_time()
        flush()
        t1 = time.process_time()
        spans = n * per_call
        return (t1 - t0) / spans * 1e6, (c1 - c0) / spans * 1e6

    names = list(pipelines)
    for name in names:  # warm-up: imports, caches, gRPC channel
        run(name, max(2, calls // 10))
    whole: dict[str, list[float]] = {name: [] for name in names}
    caller: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            w, c = run(name, calls)
            whole[name].append(w)
            caller[name].append(c)

    def paired(per_span: dict[str, list[float]], name: str, base: str = "bare") -> list[float]:
        return [a / b for a, b in zip(per_span[name], per_span[base], strict=True)]

    total_calls = calls * rounds + max(2, calls // 10)
    out: dict[str, Any] = {
        "exporter": cfg["exporter"],
        "spans_per_call": per_call,
        "calls_per_run": calls,
        "rounds": rounds,
        "pipelines": names,
        "traceai_unavailable": None if isinstance(peer, type) else peer,
        "us_per_span": whole,
        "caller_us_per_span": caller,
        "bare_spans_sent": total_calls * per_call,
    }
    for name in names:
        out[f"{name}_us"] = statistics.median(whole[name])
        out[f"{name}_caller_us"] = statistics.median(caller[name])
        if name != "bare":
            # each round's runs were back to back: their ratio is immune to slow drift
            out[f"{name}_ratios"] = paired(whole, name)
            out[f"{name}_ratio"] = statistics.median(out[f"{name}_ratios"])
            out[f"{name}_caller_ratios"] = paired(caller, name)
            out[f"{name}_caller_ratio"] = statistics.median(out[f"{name}_caller_ratios"])
    # the pipeline alone: lk_otel against a bare SDK sending the very spans lk_otel sent
    out["same_output_ratios"] = paired(whole, "lk_otel", "bare_out")
    out["same_output_ratio"] = statistics.median(out["same_output_ratios"])
    backend = handle.exporters[0]
    out["lk_otel_spans_sent"] = backend.exported
    out["lk_otel_dropped"] = backend.dropped + backend.held
    if isinstance(lk_exporter, sr.CountingExporter):
        turn = lk_exporter.last.get("agent_turn")
        keys = [k for k in (turn.attributes or {}) if k.startswith("lk_otel.")] if turn else []
        out["enriched_turn_keys"] = len(keys)
        livekit_names = {s.name for s in steps if isinstance(s, sr.SpanStart)}
        out["waterfall_spans"] = sorted(set(lk_exporter.last) - livekit_names)
    handle.shutdown()
    for provider, _, _ in pipelines.values():
        if provider is not handle.provider:
            provider.shutdown()
    _emit(out)


PIPELINE_LABELS = {"bare_out": "bare, sending lk_otel's output"}
MAPPING_LABELS = {"all": "all backend mappings", "none": "no backend mapping, as for Jaeger"}


def part_cpu(sizes: Sizes, stream: Path, receiver: Receiver) -> tuple[list[Figure], dict[str, Any]]:
    print(
        "\n[1] CPU per span: lk_otel setup_tracing() vs bare TracerProvider+BSP "
        "(and traceai-livekit's mapping exporter under the same BSP)"
    )
    figures: list[Figure] = []
    results: dict[str, Any] = {}
    for exporter, calls, mappings in (
        ("counting", sizes.calls_per_run, "all"),
        ("counting", sizes.calls_per_run, "none"),
        ("otlp", sizes.otlp_calls_per_run, "all"),
        ("otlp", sizes.otlp_calls_per_run, "none"),
    ):
        output = stream.with_name(f"output-{mappings}.jsonl")
        if not output.exists():
            sent = run_child(
                "output", {"stream": str(stream), "mappings": mappings, "out": str(output)}
            ).result
            print(
                f"  lk_otel's output of the call ({MAPPING_LABELS[mappings]}): {sent['spans']} "
                f"spans, {sent['attributes']} attributes (livekit's: {r_spans(stream)} spans, "
                f"{sent['livekit_attributes']} attributes)"
            )
        cfg = {
            "mappings": mappings,
            "output_stream": str(output),
            "stream": str(stream),
            "exporter": exporter,
            "endpoint": receiver.grpc_endpoint,
            "calls": calls,
            "rounds": sizes.rounds,
            "queue": 1 << 17,
        }
        before = receiver.command("clear")["spans"] if exporter == "otlp" else 0
        r = run_child("cpu", cfg).result
        results[f"{exporter}/{mappings}"] = r
        label = "counting exporter" if exporter == "counting" else "OTLP/gRPC exporter"
        label = f"{label}, {MAPPING_LABELS[mappings]}"
        print(
            f"  {label}: {r['rounds']} rounds x {r['calls_per_run']} calls x "
            f"{r['spans_per_call']} spans; median us/span (caller thread / whole process):"
        )
        for name in r["pipelines"]:
            ratios = ""
            if name != "bare":
                ratios = "; per-round whole ratios " + ", ".join(
                    f"{x:.2f}" for x in r[f"{name}_ratios"]
                )
            print(
                f"    {PIPELINE_LABELS.get(name, name):8s} {r[f'{name}_caller_us']:6.1f} / "
                f"{r[f'{name}_us']:6.1f}{ratios}"
            )
        print(
            f"    whole process: sending lk_otel's output costs a bare SDK "
            f"{r['bare_out_ratio']:.2f}x its cost for livekit's spans; lk_otel costs "
            f"{r['same_output_ratio']:.2f}x the bare SDK sending that same output (per round: "
            + ", ".join(f"{x:.2f}" for x in r["same_output_ratios"])
            + ")"
        )
        lk_calls = r["calls_per_run"] * r["rounds"] + max(2, r["calls_per_run"] // 10)
        extra = r["lk_otel_spans_sent"] / lk_calls - r["spans_per_call"]
        print(
            f"    spans out per call: bare {r['spans_per_call']}, lk_otel "
            f"{r['spans_per_call']} + {extra:g} of its own; lk_otel undelivered "
            f"{r['lk_otel_dropped']}"
        )
        if exporter == "counting":
            print(
                f"    enrichment check: last agent_turn carries {r['enriched_turn_keys']} "
                f"lk_otel.* keys; spans lk_otel added: {', '.join(r['waterfall_spans'])}"
            )
        else:
            got = receiver.command("count")["spans"] - before
            print(f"    receiver accepted {got} spans")
            results[f"{exporter}/{mappings}"]["receiver_accepted"] = got
            receiver.command("clear")
        figures += _cpu_figures(label, r)
    return figures, results


def r_spans(stream: Path) -> int:
    """How many spans the recorded call has."""
    import span_replay as sr

    return sr.span_count(sr.load(stream))


def _cpu_figures(label: str, r: dict[str, Any]) -> list[Figure]:
    """Caller-thread and whole-process rows for lk_otel, and traceai-livekit's beside them."""
    out = []
    for kind, key, goal in (
        ("caller-thread", "_caller", CALLER_RATIO_GOAL),
        ("whole-process", "", CPU_RATIO_GOAL),
    ):
        lk = r[f"lk_otel{key}_ratio"]
        peer = r.get(f"traceai{key}_ratio")
        ahead = peer is None or lk < peer
        out.append(
            Figure(
                f"CPU/span {kind} lk_otel / bare ({label})",
                f"{lk:.2f}x ({r[f'lk_otel{key}_us']:.1f} vs {r[f'bare{key}_us']:.1f} us)",
                f"<= {goal:.2f}x, < traceai",
                _verdict(lk <= goal and ahead),
            )
        )
        if peer is None:
            why = r["traceai_unavailable"] or "not measured"
            out.append(
                Figure(f"  traceai-livekit {kind} / bare", f"unavailable: {why}", "-", "info")
            )
        else:
            out.append(
                Figure(
                    f"  traceai-livekit {kind} / bare",
                    f"{peer:.2f}x ({r[f'traceai{key}_us']:.1f} us)",
                    "-",
                    "info",
                )
            )
    out.append(
        Figure(
            "  lk_otel / bare sending lk_otel's output (the pipeline alone)",
            f"{r['same_output_ratio']:.2f}x ({r['lk_otel_us']:.1f} vs {r['bare_out_us']:.1f} us)",
            "-",
            "info",
        )
    )
    return out
