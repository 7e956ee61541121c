"""A simulated call abandoned by ``asyncio.run``'s teardown still ends (every release).

On livekit 1.2 and 1.3, ``AgentSession.aclose()`` can wait forever once the teardown has
cancelled livekit's own tasks with the call; ``run_scenario`` bounds it there
(``lk_otel/simulation/closing.py``). Run in a child process, which would hang without it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from support.setup_fixtures import child_env

CHILD = """
import asyncio
from lk_otel.simulation import load_scenario, run_scenario

async def main():
    asyncio.ensure_future(run_scenario(load_scenario(None), speed=8.0))
    await asyncio.sleep(SLEEP)
    raise RuntimeError("the test failed in the middle of the call")

for _ in range(RUNS):
    try:
        asyncio.run(main())
    except RuntimeError:
        pass
print("ended")
"""


@pytest.mark.slow
def test_a_call_abandoned_mid_call_ends_under_asyncio_run() -> None:
    code = CHILD.replace("SLEEP", "0.3").replace("RUNS", "4")
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=150,  # 4 bounded closes of 10 s at most, and the calls' own time
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "ended"
