"""A simulated call with ``setup_tracing(metrics=True)``, as a job process would run it.

The endpoint comes from ``OTEL_EXPORTER_OTLP_ENDPOINT``; a fresh process, because
OpenTelemetry lets a process set its global MeterProvider once.
"""

from __future__ import annotations

import asyncio
import json
import sys

import lk_otel
from lk_otel.simulation import load_scenario, run_scenario


async def main() -> None:
    handle = lk_otel.setup_tracing("otlp", metrics=True, schedule_delay=0.05)
    result = await run_scenario(load_scenario(None), speed=float(sys.argv[1]))
    handle.force_flush(10)
    handle.shutdown(10)
    turns = [m for m in result.metrics if type(m).__name__ == "EOUMetrics"]
    print(json.dumps({"replies": len(turns)}))


asyncio.run(main())
