"""CPU per correlator record with the issue-13 tracker vs a pass-through one, side by side.

Replays the recorded correlator streams of ``tests/support/recordings`` (the default call on
livekit 1.8.9 and 1.2.18) through ``TurnCorrelator``: best of 20 runs per record, and the
median of 40 paired ratios. ``python benchmarks/realtime_overhead.py`` from the repo root.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from lk_otel.enrich.correlator import TurnCorrelator  # noqa: E402
from lk_otel.enrich.records import SpanEnded, SpanStarted  # noqa: E402
from support.record_stream import load  # noqa: E402


class PassThrough:
    """A tracker that adds nothing (the correlator without issue 13)."""

    def started(self, *args: Any, **kwargs: Any) -> None:
        return None

    def ended(self, rec: Any, session: Any, turn: Any, out: list[Any]) -> list[Any]:
        return out

    def feed(self, event: Any) -> list[Any]:
        return []

    def tracked(self) -> dict[str, int]:
        return {}


def run(records: list[Any], profile: Any, *, tracker: bool) -> float:
    c = TurnCorrelator(profile)
    if not tracker:
        c._realtime = PassThrough()  # type: ignore[assignment]
    start = time.perf_counter()
    for r in records:
        if isinstance(r, SpanStarted):
            c.start(r)
        elif isinstance(r, SpanEnded):
            c.end(r, 0.0)
        else:
            c.feed(r, 0.0)
    c.release_all()
    return time.perf_counter() - start


def main() -> None:
    for path in sorted((ROOT / "tests" / "support" / "recordings").glob("*.jsonl")):
        profile, records = load(path)
        ratios = [
            run(records, profile, tracker=True) / run(records, profile, tracker=False)
            for _ in range(40)
        ]
        base = min(run(records, profile, tracker=False) for _ in range(20))
        with_tracker = min(run(records, profile, tracker=True) for _ in range(20))
        n = len(records)
        print(
            f"{path.name}: {n} records; per record {base / n * 1e6:.2f} us pass-through vs "
            f"{with_tracker / n * 1e6:.2f} us with the tracker; median paired ratio "
            f"{statistics.median(ratios):.3f}"
        )


if __name__ == "__main__":
    main()
