"""A worker that exits right after its job: one short simulated call, then plain exit.

Run by ``test_faults.py`` as a subprocess. Traces go over OTLP/gRPC to the endpoint in
``LK_OTEL_FAULT_ENDPOINT``; the scenario comes as JSON in ``LK_OTEL_FAULT_SCENARIO``. The
script never calls ``force_flush()`` or ``shutdown()``: only lk_otel's exit hook can deliver
the spans still queued when it returns. Its last stdout line is JSON: the ids of every span
ended on the provider, the call's anomalies, and the wall-clock time the call returned.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import lk_otel
from lk_otel.simulation import load_scenario, run_scenario
from support.tracing_helpers import EndedSpans


def main() -> None:
    handle = lk_otel.setup_tracing(
        lk_otel.OTLP(endpoint=os.environ["LK_OTEL_FAULT_ENDPOINT"], protocol="grpc"),
        service_name="fault-exit",
    )
    ended = EndedSpans()
    assert handle.provider is not None
    handle.provider.add_span_processor(ended)
    scenario = load_scenario(json.loads(os.environ["LK_OTEL_FAULT_SCENARIO"]))
    result = asyncio.run(run_scenario(scenario, speed=8.0))
    report = {"ended": sorted(ended.ids), "anomalies": result.anomalies, "done_at": time.time()}
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
