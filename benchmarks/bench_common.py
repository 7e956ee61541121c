"""What every benchmark part shares: sizes, goals, child processes, the receiver, the table."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENTRY = HERE / "pipeline_overhead.py"  # every child runs through it
for _p in (str(HERE), str(ROOT / "tests"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

RESULT = "@@result "
CPU_RATIO_GOAL = 1.30  # whole-process CPU per span, lk_otel / bare SDK (issue 9)
CALLER_RATIO_GOAL = 1.10  # caller-thread CPU per span
LAG_ADDED_P99_GOAL_MS = 1.0
MEMORY_GOAL_MB = 5.0
MEMORY_TURNS = 10_000  # the session length the memory goal is for
SERVICE = "lk-otel-bench"


@dataclass(frozen=True)
class Sizes:
    """How much work each part does."""

    record_speed: float
    calls_per_run: int  # replays of the call per measurement (part 1)
    rounds: int  # interleaved A/B rounds (part 1)
    otlp_calls_per_run: int
    lag_speed: float
    lag_rounds: int
    turns: int  # part 3
    warmup_turns: int
    shutdown_wait: float  # seconds between the last span and shutdown (part 4)


FULL = Sizes(8.0, 100, 15, 20, 2.0, 2, MEMORY_TURNS, 500, 1.5)
QUICK = Sizes(8.0, 20, 3, 10, 8.0, 1, 600, 100, 1.5)


def _emit(result: dict[str, Any]) -> None:
    print(RESULT + json.dumps(result), flush=True)


def _quiet_logs() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def child_receiver(_: dict[str, Any]) -> None:
    """An OTLP receiver driven by one-word commands on stdin; answers one JSON line each."""
    import threading

    from support.otlp_receiver import OtlpReceiver

    receiver = OtlpReceiver().start()
    flapping = threading.Event()

    def flap() -> None:  # down and up every 200 ms while flapping is set
        down = False
        while flapping.is_set():
            (receiver.up if down else receiver.down)()
            down = not down
            time.sleep(0.2)
        receiver.up()

    flapper: threading.Thread | None = None
    print(json.dumps({"grpc": receiver.grpc_endpoint, "http": receiver.http_url()}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "down":
            receiver.down()
        elif cmd == "up":
            receiver.up()
        elif cmd == "stall":
            receiver.stall()
        elif cmd == "reset":
            receiver.reset_faults()
        elif cmd == "flap":
            flapping.set()
            flapper = threading.Thread(target=flap, daemon=True)
            flapper.start()
        elif cmd == "steady":
            flapping.clear()
            if flapper is not None:
                flapper.join()
        elif cmd == "clear":
            receiver.clear()
        elif cmd == "quit":
            break
        spans = sum(len(r.spans) for r in receiver.requests if r.accepted)
        print(json.dumps({"spans": spans, "requests": len(receiver.requests)}), flush=True)
    receiver.reset_faults()
    receiver.stop()


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class ChildFailed(RuntimeError):
    """A part's child process failed; the message has the tail of its stderr."""


@dataclass
class ChildRun:
    result: dict[str, Any]
    seconds: float
    exit_after_result_s: float


def run_child(part: str, cfg: dict[str, Any], timeout: float = 240.0) -> ChildRun:
    """Run one part in a fresh interpreter and return what it emitted."""
    cmd = [sys.executable, str(ENTRY), "--child", part, json.dumps(cfg)]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        result: dict[str, Any] | None = None
        result_at = 0.0
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(RESULT):
                result = json.loads(line[len(RESULT) :])
                result_at = time.monotonic()
        try:
            code = proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = -9
        ended = time.monotonic()
        if code != 0 or result is None:
            err.seek(0)
            tail = "".join(err.readlines()[-30:])
            raise ChildFailed(f"part {part!r} exited with {code}:\n{tail}")
    return ChildRun(result, ended - started, ended - result_at)


class Receiver:
    """The OTLP receiver in its own process, so its CPU is not counted as the pipeline's."""

    def __init__(self) -> None:
        cmd = [sys.executable, str(ENTRY), "--child", "receiver", "{}"]
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._proc.stdout is not None
        ready = json.loads(self._proc.stdout.readline())
        self.grpc_endpoint: str = ready["grpc"]

    def command(self, cmd: str) -> dict[str, Any]:
        """Send ``down``/``up``/``stall``/``reset``/``flap``/``steady``/``clear``/``count``; the
        span count after."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(cmd + "\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline())

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write("quit\n")
                self._proc.stdin.close()
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()


@contextmanager
def receiver_process() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.close()


@dataclass
class Figure:
    """One line of the final table."""

    name: str
    value: str
    goal: str
    verdict: str  # PASS, MISS or info


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for label, dist in (
        ("livekit-agents", "livekit-agents"),
        ("opentelemetry-sdk", "opentelemetry-sdk"),
        ("opentelemetry-exporter-otlp", "opentelemetry-exporter-otlp-proto-grpc"),
        ("grpcio", "grpcio"),
    ):
        try:
            out[label] = version(dist)
        except PackageNotFoundError:
            out[label] = "?"
    return out


def _load() -> str:
    """The 1-minute load average: other work on the machine skews every timing here."""
    try:
        return f"load average {os.getloadavg()[0]:.2f}"
    except OSError:
        return "load average n/a"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"
