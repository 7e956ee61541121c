"""Record the spans lk_otel exports for one simulated call, for the backend-mapping tests.

Run from the repository root with the livekit release to record, e.g.::

    export PYTHONPATH=$PWD:$PWD/tests
    /work/main/.venv/bin/python tests/support/recordings/mappings_record.py
    .venv-lk12/bin/python tests/support/recordings/mappings_record.py

It writes ``mappings-<livekit version>-pii.json`` and ``-nopii.json`` next to itself: every
exported span's name, ids, times and attributes, exported with the backend mappings off
(``langfuse=False, openinference=False``), so what is recorded is livekit's attributes plus
lk_otel's ``lk_otel.*`` figures — the input of ``mappings.backend_attributes``.
"""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from support.tracing_helpers import traced_call

HERE = Path(__file__).parent
PRICES = {
    "openai/gpt-4o-mini": {
        "input_per_1m": 0.15,
        "cached_input_per_1m": 0.075,
        "output_per_1m": 0.6,
    },
    "cartesia/sonic-2": {"characters_per_1k": 0.05},
    "deepgram/nova-3": {"stt_per_minute": 0.0043},
}


def _value(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


async def record(allow_pii: bool) -> dict[str, Any]:
    call = await traced_call(
        speed=4.0, allow_pii=allow_pii, langfuse=False, openinference=False, prices=PRICES
    )
    spans = []
    for s in sorted(call.spans, key=lambda s: (s.start_time or 0, s.context.span_id)):
        spans.append(
            {
                "name": s.name,
                "span_id": f"{s.context.span_id:016x}",
                "parent_id": f"{s.parent.span_id:016x}" if s.parent is not None else None,
                "start_ns": s.start_time,
                "end_ns": s.end_time,
                "service_name": s.resource.attributes.get("service.name"),
                "attributes": {
                    k: _value(v)
                    for k, v in (s.attributes or {}).items()
                    if not k.startswith("mlflow.")  # setup_tracing() has no mlflow= switch yet
                },
            }
        )
    return {
        "livekit_agents": version("livekit-agents"),
        "allow_pii": allow_pii,
        "prices": PRICES,
        "spans": spans,
    }


def main() -> None:
    lk = version("livekit-agents")
    for allow_pii in (True, False):
        data = asyncio.run(record(allow_pii))
        out = HERE / f"mappings-{lk}-{'pii' if allow_pii else 'nopii'}.json"
        out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(out, len(data["spans"]), "spans")


if __name__ == "__main__":
    main()
