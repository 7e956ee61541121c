"""``benchmarks/pipeline_overhead.py --quick`` runs end to end and prints its table.

Behaviour only: the figures themselves depend on the machine and are not checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lk_otel import _compat

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "pipeline_overhead.py"
FIGURES = (
    *(
        f"CPU/span {kind} lk_otel / bare ({exporter}, {mappings})"
        for exporter in ("counting exporter", "OTLP/gRPC exporter")
        for mappings in ("all backend mappings", "no backend mapping, as for Jaeger")
        for kind in ("caller-thread", "whole-process")
    ),
    "loop lag p99 added, healthy backend",
    "loop lag p99 added, dead backend",
    "loop lag p99 added, stalled backend",
    "loop lag p99 added, flapping backend",
    "memory growth",
    "shutdown with dead backend",
)


def table_rows(output: str) -> list[str]:
    """The rows of the final table: from its ``figure`` header to the closing rule."""
    lines = output.splitlines()
    header = max(i for i, line in enumerate(lines) if line.startswith("figure "))
    rows: list[str] = []
    for line in lines[header + 1 :]:
        if line.startswith("==="):
            break
        rows.append(line)
    return rows


@pytest.mark.slow
@pytest.mark.skipif(
    _compat.agent_turn_span_name() != "agent_turn",
    reason="the benchmark replays a call of the newest livekit (agent_turn spans); "
    "CI runs it on 1.8.9",
)
def test_quick_run_prints_the_table_with_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    rows = table_rows(proc.stdout)
    for name in FIGURES:
        matching = [row for row in rows if row.startswith(name)]
        assert len(matching) == 1, f"no table row for {name!r} in:\n" + "\n".join(rows)
        assert matching[0].rstrip().endswith((" PASS", " MISS")), matching[0]
    # traceai-livekit beside lk_otel: measured, or "unavailable: <why>" when not installed
    peer_rows = [row for row in rows if row.startswith("  traceai-livekit ")]
    assert len(peer_rows) == 8 and all(" / bare " in row for row in peer_rows), peer_rows
    # lk_otel against a bare SDK sending lk_otel's own output: the pipeline alone, one per row
    alone = [row for row in rows if row.startswith("  lk_otel / bare sending lk_otel's output")]
    assert len(alone) == 4 and all("x (" in row for row in alone), alone
    for label in ("command ", "versions ", "machine ", "wall time "):
        assert any(line.startswith(label) for line in proc.stdout.splitlines()), label
    assert "--quick" in next(
        line for line in proc.stdout.splitlines() if line.startswith("command")
    )

    report = json.loads(out.read_text())
    assert [f["name"] for f in report["figures"] if f["verdict"] != "info"] == [
        next(f["name"] for f in report["figures"] if f["name"].startswith(name)) for name in FIGURES
    ]
    assert report["cores"] >= 1 and report["versions"]["livekit-agents"]
