"""Run the OpenTelemetry Collector built by ``make otelcol`` (``.tools/otelcol-lk``) in tests.

``Collector`` starts one config of ``collector-config/`` as a subprocess with the given
environment, waits until its ``health_check`` extension answers, and stops it (SIGTERM, then
SIGKILL) afterwards, keeping its log for failure messages. ``free_port()`` (``ports.py``)
picks loopback ports.
``validate()`` runs ``otelcol-lk validate``. ``jaeger_binary()`` is the Jaeger v2 built by
``make jaeger`` (``$LK_OTEL_JAEGER_BIN`` or ``<repo>/.tools/jaeger``), found the same way.

The binary is ``$LK_OTEL_OTELCOL_BIN`` or ``<repo>/.tools/otelcol-lk``; ``collector_binary()``
skips the calling test when it is missing, except on CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
CONFIG_DIR = REPO / "collector-config"
DEFAULT_BINARY = REPO / ".tools" / "otelcol-lk"
DEFAULT_JAEGER = REPO / ".tools" / "jaeger"
JAEGER_CONFIG = Path(__file__).resolve().parent / "jaeger-test.yaml"


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def collector_binary() -> Path:
    """The built collector; skip (fail on CI) when it was not built."""
    path = Path(os.environ.get("LK_OTEL_OTELCOL_BIN") or DEFAULT_BINARY)
    if not os.access(path, os.X_OK):
        message = f"{path} is missing: run `make otelcol` (needs Go and the Go module proxy)"
        if on_ci():
            pytest.fail(f"CI=true and the collector is missing: {message}", pytrace=False)
        pytest.skip(message)
    return path


def jaeger_binary() -> Path:
    """Jaeger v2 built from its Go module; skip (fail on CI) when it was not built."""
    path = Path(os.environ.get("LK_OTEL_JAEGER_BIN") or DEFAULT_JAEGER)
    if not os.access(path, os.X_OK):
        message = f"{path} is missing: run `make jaeger` (needs Go and the Go module proxy)"
        if on_ci():
            pytest.fail(f"CI=true and Jaeger is missing: {message}", pytrace=False)
        pytest.skip(message)
    return path


def base_env() -> dict[str, str]:
    """The environment without any variable the configs read (tests set each one)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LK_OTEL_", "JAEGER_", "LANGFUSE_", "OTEL_"))
    }


def validate(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``otelcol-lk validate --config=FILE`` with ``env`` (on top of ``base_env()``)."""
    return subprocess.run(
        [str(collector_binary()), "validate", f"--config={config}"],
        env={**base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


class CollectorError(RuntimeError):
    """The collector exited or did not become healthy; the message holds its log."""


class Collector:
    """One running collector process for ``config`` with ``env``; a context manager.

    ``health_port`` must be the port its ``LK_OTEL_HEALTH_ENDPOINT`` names (or, with
    ``binary``/``ready_path``, any program of the collector's command line, e.g. Jaeger v2
    and its query API, answering 200 there when ready). ``hosts_file``
    runs it in a private mount namespace with that file as /etc/hosts (for DNS names that
    resolve to several loopback addresses).
    """

    def __init__(
        self,
        config: Path,
        env: dict[str, str],
        health_port: int,
        *,
        hosts_file: Path | None = None,
        name: str = "",
        binary: Path | None = None,
        ready_path: str = "/",
    ) -> None:
        self.binary = binary
        self.ready_path = ready_path
        self.config = config
        self.env = {**base_env(), **env}
        self.health_port = health_port
        self.hosts_file = hosts_file
        self.name = name or config.stem
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix=f"otelcol-{self.name}-", suffix=".log", delete=False
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Collector:
        argv = [str(self.binary or collector_binary()), f"--config={self.config}"]
        if self.hosts_file is not None:
            script = 'mount --bind "$0" /etc/hosts && exec "$@"'
            argv = ["unshare", "--mount", "sh", "-c", script, str(self.hosts_file), *argv]
        self._process = subprocess.Popen(
            argv, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise CollectorError(
                    f"{self.name} exited ({self._process.returncode}):\n{self.log}"
                )
            if self.healthy():
                return self
            time.sleep(0.1)
        self.stop()
        raise CollectorError(f"{self.name} not healthy after {timeout} s:\n{self.log}")

    def healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.health_port}{self.ready_path}"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the collector flushes its exporters), SIGKILL after ``timeout`` s."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self._log.flush()

    @property
    def log(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-20000:]

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()
        os.unlink(self._log.name)
