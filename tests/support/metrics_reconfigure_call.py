"""Two overlapping calls under two configurations, each with ``metrics=True``.

The first call starts under a configuration exporting to ``argv[1]``; while it runs, a second
``setup_tracing()`` exports to ``argv[2]`` and a second call runs beside the first. Prints
how many turns each call replied to. A fresh process: OpenTelemetry lets a process set its
global MeterProvider once.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import lk_otel
from lk_otel.simulation import load_scenario, run_scenario


def scenario(turns: int) -> dict[str, Any]:
    return {
        "name": "metrics-reconfigure",
        "turns": [
            {
                "user": {"text": f"question number {i}", "speech_duration": 0.8},
                "llm": [{"ttft": 0.2, "duration": 0.4, "text": f"Answer {i}."}],
                "tts": {"ttfb": 0.2, "audio_duration": 0.8},
            }
            for i in range(turns)
        ],
    }


def replies(result: Any) -> int:
    return len([m for m in result.metrics if type(m).__name__ == "EOUMetrics"])


async def main(first_endpoint: str, second_endpoint: str) -> None:
    def backend(endpoint: str) -> lk_otel.OTLP:
        return lk_otel.OTLP(endpoint=endpoint, protocol="grpc")

    first = lk_otel.setup_tracing(backend(first_endpoint), metrics=True, schedule_delay=0.05)
    call = asyncio.create_task(run_scenario(load_scenario(scenario(5)), speed=4.0))
    await asyncio.sleep(1.0)  # the first call is under way
    second = lk_otel.setup_tracing(backend(second_endpoint), metrics=True, schedule_delay=0.05)
    other = await run_scenario(load_scenario(scenario(2)), speed=4.0)
    running = await call
    for handle in (second, first):
        handle.force_flush(10)
        handle.shutdown(10)
    print(json.dumps({"first": replies(running), "second": replies(other)}))


asyncio.run(main(sys.argv[1], sys.argv[2]))
