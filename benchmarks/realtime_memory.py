"""Memory the enrichment core keeps per turn of one long realtime (speech-to-speech) session.

Drives ``TurnCorrelator`` (the pure core, no SDK) with the span records of a realtime call as
livekit 1.8 emits them: per turn the user's ``user_speaking``, an ``agent_turn`` with one
``realtime_inference`` (its ``lk.realtime_model_metrics``) and ``agent_speaking``. Prints the
traced heap growth from turn 500 to turn 10,500, per turn, without and with a tool call in
every turn (``function_tool``, a tool a handoff could name).
``python benchmarks/realtime_memory.py`` from the repo root.
"""

from __future__ import annotations

import gc
import itertools
import json
import tracemalloc

from lk_otel import _compat
from lk_otel import semconv as sc
from lk_otel.enrich.correlator import TurnCorrelator
from lk_otel.enrich.records import SpanEnded, SpanStarted

S = 1_000_000_000
WARMUP, TURNS = 500, 10_500
METRICS = json.dumps(
    {
        "type": "realtime_model_metrics",
        "request_id": "resp_1",
        "ttft": 0.3,
        "duration": 1.0,
        "input_tokens": 60,
        "output_tokens": 120,
        "input_token_details": {"audio_tokens": 50, "text_tokens": 10},
        "output_token_details": {"audio_tokens": 100, "text_tokens": 20},
        "metadata": {"model_name": "gpt-realtime", "model_provider": "openai"},
    }
)


class Session:
    """One realtime session on a correlator; span ids handed out in order."""

    def __init__(self) -> None:
        profile = _compat.profile_for(_compat.facts_for((1, 8, 9)))
        self.c = TurnCorrelator(profile, new_session_id=lambda: "lk-bench")
        self.ids = itertools.count(2)
        self.c.start(SpanStarted(1, None, sc.SPAN_AGENT_SESSION, 0, is_root=True))

    def span(self, name: str, parent: int, start: float, end: float, **attrs: object) -> int:
        sid = next(self.ids)
        self.c.start(SpanStarted(sid, parent, name, round(start * S)))
        self.c.end(SpanEnded(sid, name, round(start * S), round(end * S), attrs))
        return sid

    def turn(self, n: int, tool: bool) -> None:
        at = 10.0 * n
        self.span(sc.SPAN_USER_SPEAKING, 1, at + 1.0, at + 2.0)
        turn = next(self.ids)
        self.c.start(SpanStarted(turn, 1, "agent_turn", round((at + 2.0) * S)))
        if tool:
            self.span(sc.SPAN_FUNCTION_TOOL, turn, at + 2.0, at + 2.1, **{"gen_ai.tool.name": "f"})
        self.span(
            sc.SPAN_REALTIME_INFERENCE,
            turn,
            at + 2.0,
            at + 3.0,
            **{sc.LK_REALTIME_MODEL_METRICS: METRICS},
        )
        self.span(sc.SPAN_AGENT_SPEAKING, turn, at + 2.3, at + 3.2)
        self.c.end(SpanEnded(turn, "agent_turn", round((at + 2.0) * S), round((at + 3.3) * S), {}))


def measure(tool: bool) -> None:
    """One session of TURNS turns: print the heap growth after the warm-up, per turn."""
    session = Session()
    tracemalloc.start()
    for n in range(TURNS):
        if n == WARMUP:
            gc.collect()
            base = tracemalloc.get_traced_memory()[0]
        session.turn(n, tool)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    per_turn = grown / (TURNS - WARMUP)
    print(
        f"realtime session{', a tool call per turn' if tool else ''}, turns {WARMUP:,} -> "
        f"{TURNS:,}: traced heap +{grown / 1e6:.2f} MB ({per_turn:.0f} B/turn); state kept: "
        f"{session.c.tracked()}"
    )


def main() -> None:
    measure(tool=False)
    measure(tool=True)


if __name__ == "__main__":
    main()
