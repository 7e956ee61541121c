"""``lk-otel demo --scenario realtime`` / ``realtime-handoff``: the scripted realtime model's
calls traced with the demo's ``setup_tracing()``, written to the OTLP/JSON file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lk_otel import _compat
from lk_otel import semconv as sc
from lk_otel.report import read_otlp_json


def demo(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGFUSE_", "OTEL_"))}
    env["PYTHONPATH"] = str(Path(__file__).parents[1])
    return subprocess.run(
        [sys.executable, "-m", "lk_otel.cli.main", "demo", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_demo_realtime_handoff_writes_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "rt.jsonl"
    done = demo(["--scenario", "realtime-handoff", "--speed", "4", "--out", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    billing = "billing" if _compat.has_session_usage() else "lk_otel.agents.billing"
    assert f"→ {billing} by tool transfer_to_billing" in done.stdout
    (session,) = [s for s in read_otlp_json(out).records if s.name == sc.SPAN_AGENT_SESSION]
    assert session.attributes[sc.SESSION_HANDOFFS] == 1
    assert session.attributes[sc.SESSION_OUTPUT_AUDIO_TOKENS] > 0


def test_demo_realtime_runs_its_own_agents(tmp_path: Path) -> None:
    done = demo(["--scenario", "realtime", "--agent", "x.py:A"], tmp_path)
    assert done.returncode == 2 and "drop --agent" in done.stdout
