"""Part 4: ``handle.shutdown()`` with a dead backend."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench_common import (
    SERVICE,
    Figure,
    Receiver,
    Sizes,
    _emit,
    _quiet_logs,
    _verdict,
    run_child,
)


def child_shutdown(cfg: dict[str, Any]) -> None:
    """Part 4: ``handle.shutdown()`` with a dead backend, after a call's spans."""
    import span_replay as sr

    from lk_otel import OTLP, setup_tracing

    _quiet_logs()
    steps = sr.load(Path(cfg["stream"]))
    handle = setup_tracing(
        OTLP(endpoint=cfg["endpoint"], protocol="grpc", insecure=True), service_name=SERVICE
    )
    assert handle.provider is not None
    sr.replay(handle.provider.get_tracer("livekit-agents"), steps)
    time.sleep(cfg["wait"])  # the first export attempt is under way, as after a real call
    t0 = time.monotonic()
    ok = handle.shutdown()
    seconds = time.monotonic() - t0
    _emit(
        {
            "shutdown_s": seconds,
            "bound_s": handle.flush_timeout,
            "completed": ok,
            "spans": sr.span_count(steps),
        }
    )


def part_shutdown(
    sizes: Sizes, stream: Path, receiver: Receiver
) -> tuple[list[Figure], dict[str, Any]]:
    print("\n[4] handle.shutdown() with a dead backend (receiver down, OTLP/gRPC)")
    receiver.command("down")
    try:
        cfg = {"stream": str(stream), "endpoint": receiver.grpc_endpoint}
        run = run_child("shutdown", {**cfg, "wait": sizes.shutdown_wait})
    finally:
        receiver.command("up")
    r = dict(run.result, exit_after_s=run.exit_after_result_s)
    print(
        f"  {r['spans']} spans, shutdown {sizes.shutdown_wait:g} s after the last one: "
        f"{r['shutdown_s']:.2f} s (bound {r['bound_s']:g} s, "
        f"{'finished' if r['completed'] else 'gave up at the bound'}); "
        f"process exit took {r['exit_after_s']:.2f} s more"
    )
    figures = [
        Figure(
            "shutdown with dead backend",
            f"{r['shutdown_s']:.2f} s",
            f"<= {r['bound_s']:g} s (bound)",
            _verdict(r["shutdown_s"] <= r["bound_s"] + 0.1),
        ),
        Figure("  then process exit", f"{r['exit_after_s']:.2f} s", "-", "info"),
    ]
    return figures, r
