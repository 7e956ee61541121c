"""A scripted realtime call (or its handoff script) with ``setup_tracing(metrics=True)``,
in a fresh process (a process sets its global MeterProvider once). Prints livekit's raw
RealtimeModelMetrics of the run as JSON, for the test to compare the metrics with."""

from __future__ import annotations

import asyncio
import json
import sys

import lk_otel
from lk_otel.simulation.realtime_runner import run_realtime_script
from lk_otel.simulation.realtime_script import load_realtime_script


async def main() -> None:
    handle = lk_otel.setup_tracing("otlp", metrics=True, schedule_delay=0.05)
    result = await run_realtime_script(load_realtime_script(sys.argv[1]), speed=float(sys.argv[2]))
    handle.force_flush(10)
    handle.shutdown(10)
    print(json.dumps([m.model_dump() for m in result.realtime_metrics()]))


asyncio.run(main())
