"""Arize Phoenix as a real OTLP backend for tests: start it, read spans back, stop it.

REST API as observed on arize-phoenix 20.26.1 (see its /openapi.json):

    GET /v1/projects/{project}/spans
        ?limit=1..1000 (default 100) &cursor=<next_cursor> &sort=id|start_time
        &order=asc|desc (default desc) &start_time=/&end_time=<ISO 8601>
        &name=.. &span_kind=LLM.. &trace_id=.. &span_id=.. &status_code=OK|ERROR|UNSET
        (each may repeat) &parent_id=<16 hex>|null &attribute=<dotted.key>:<JSON value>
    200 -> {"data": [span, ...], "next_cursor": "<opaque>" | null}
    404 -> text "Project with name X not found" until the project's first span is stored.
    422 -> bad parameter values. Unknown parameters are silently ignored.

    span = {"id": "<Phoenix global id>", "name": "...",
            "context": {"trace_id": "<32 hex>", "span_id": "<16 hex>"},
            "parent_id": "<16 hex>" | null,
            "span_kind": "LLM" | "AGENT" | ... | "UNKNOWN",
            "start_time": "...+00:00", "end_time": "...+00:00",
            "status_code": "OK" | "ERROR" | "UNSET", "status_message": "",
            "attributes": {"dotted.key": str | int | float | bool | list, ...},
            "events": [{"name": "...", "timestamp": "...", "attributes": {...}}]}

``openinference.span.kind`` is taken out of ``attributes`` and returned as ``span_kind``.
Other attributes come back in a flat dict, keeping their OTLP types. Resource attributes
are not returned; the resource attribute ``openinference.project.name`` selects the
project, and spans without it go to the project "default".
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeAlias

from support.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PHOENIX_BIN = REPO_ROOT / ".venv-phoenix" / "bin" / "phoenix"
INSTALL_HINT = (
    "install it with `scripts/install-phoenix` (makes .venv-phoenix in the repo root), "
    "or set PHOENIX_BIN to the path of a `phoenix` executable"
)

Span: TypeAlias = dict[str, Any]
Scalar: TypeAlias = str | int | float | bool | datetime
FilterValue: TypeAlias = Scalar | Iterable[Scalar] | Mapping[str, Any] | None

# Query parameters of GET /v1/projects/{project}/spans other than limit and cursor.
SPAN_FILTERS = frozenset(
    {
        "sort",
        "order",
        "start_time",
        "end_time",
        "trace_id",
        "span_id",
        "parent_id",
        "name",
        "span_kind",
        "status_code",
        "attribute",
    }
)
MAX_PAGE_SIZE = 1000


class PhoenixNotFoundError(RuntimeError):
    """No Phoenix executable was found."""


class PhoenixStartError(RuntimeError):
    """Phoenix did not start and become ready in time."""


def find_phoenix_executable() -> Path:
    """Return $PHOENIX_BIN, else <repo>/.venv-phoenix/bin/phoenix; raise if it is missing."""
    configured = os.environ.get("PHOENIX_BIN")
    candidate = Path(configured) if configured else DEFAULT_PHOENIX_BIN
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    source = "PHOENIX_BIN" if configured else "default location"
    raise PhoenixNotFoundError(f"no Phoenix executable at {candidate} ({source}); {INSTALL_HINT}")


def _query_items(filters: Mapping[str, FilterValue]) -> list[tuple[str, str]]:
    """Turn span filters into query pairs; lists repeat the parameter."""
    unknown = set(filters) - SPAN_FILTERS
    if unknown:
        raise TypeError(f"unknown span filter(s) {sorted(unknown)}; known: {sorted(SPAN_FILTERS)}")
    items: list[tuple[str, str]] = []
    for key, value in filters.items():
        if value is None:
            continue
        if key == "attribute" and isinstance(value, Mapping):
            # JSON-encode values so types match exactly: "12" stays a string, 12 an int.
            items.extend((key, f"{k}:{json.dumps(v)}") for k, v in value.items())
            continue
        values = [value] if isinstance(value, str | int | float | datetime) else list(value)
        for item in values:
            if isinstance(item, datetime):
                text = item.isoformat()
            elif isinstance(item, bool):
                text = "true" if item else "false"
            else:
                text = str(item)
            items.append((key, text))
    return items


class PhoenixServer:
    """A Phoenix server in a subprocess on loopback, with its data in a temporary dir."""

    def __init__(
        self,
        executable: Path | str,
        *,
        startup_timeout: float = 90.0,
        stop_timeout: float = 10.0,
        start_attempts: int = 3,
    ) -> None:
        self.executable = Path(executable)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.start_attempts = start_attempts
        self.http_port = 0
        self.grpc_port = 0
        self.version = ""
        self.startup_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._tmpdir: Path | None = None
        self._log_path: Path | None = None

    @property
    def http_endpoint(self) -> str:
        """Base URL of the HTTP server (UI, REST API, OTLP/HTTP at /v1/traces)."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def traces_endpoint(self) -> str:
        """OTLP/HTTP traces URL."""
        return f"{self.http_endpoint}/v1/traces"

    @property
    def grpc_endpoint(self) -> str:
        """OTLP/gRPC endpoint (plaintext)."""
        return f"http://127.0.0.1:{self.grpc_port}"

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> PhoenixServer:
        """Start Phoenix and wait until HTTP and gRPC accept requests."""
        if self._process is not None:
            raise RuntimeError("Phoenix is already running")
        began = time.monotonic()
        for attempt in range(1, self.start_attempts + 1):
            self._launch()
            try:
                self._wait_ready()
            except PhoenixStartError as exc:
                log = self.log_tail()
                self.stop()
                # Ports are chosen before Phoenix binds them; another process may win.
                if "bind" in log.lower() and attempt < self.start_attempts:
                    continue
                raise PhoenixStartError(f"{exc}\n--- Phoenix log (tail) ---\n{log}") from None
            break
        self.startup_seconds = time.monotonic() - began
        atexit.register(self.stop)
        return self

    def _launch(self) -> None:
        self._tmpdir = Path(tempfile.mkdtemp(prefix="lk-otel-phoenix-"))
        working_dir = self._tmpdir / "working"
        working_dir.mkdir()
        self._log_path = self._tmpdir / "phoenix.log"
        self.http_port = free_port()
        self.grpc_port = free_port(all_interfaces=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHOENIX_")}
        env.update(
            PHOENIX_WORKING_DIR=str(working_dir),
            PHOENIX_HOST="127.0.0.1",
            PHOENIX_PORT=str(self.http_port),
            PHOENIX_GRPC_PORT=str(self.grpc_port),
            PHOENIX_TELEMETRY_ENABLED="false",
            PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
            PHOENIX_DISABLE_AGENT_ASSISTANT="true",
            PHOENIX_AGENTS_DISABLE_BASH="true",
            PHOENIX_LOG_MIGRATIONS="false",
        )
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [str(self.executable), "serve"],
                cwd=self._tmpdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise PhoenixStartError(f"Phoenix exited with code {code} during startup")
            if self._healthy() and self._grpc_accepts():
                return
            time.sleep(0.2)
        raise PhoenixStartError(
            f"Phoenix not ready within {self.startup_timeout:.0f}s "
            f"(GET {self.http_endpoint}/healthz, gRPC port {self.grpc_port})"
        )

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.http_endpoint}/healthz", timeout=2) as resp:
                self.version = resp.headers.get("x-phoenix-server-version", "")
                return resp.status == 200
        except OSError:  # URLError and HTTPError included
            return False

    def _grpc_accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.grpc_port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """Terminate Phoenix (kill it after stop_timeout) and delete its data."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=self.stop_timeout)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of Phoenix's combined stdout/stderr."""
        if self._log_path is None or not self._log_path.exists():
            return "(no log)"
        text = self._log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"

    def __enter__(self) -> PhoenixServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- reading spans back ----------------------------------------------------------

    def spans(
        self,
        project: str,
        *,
        limit: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **filters: FilterValue,
    ) -> list[Span]:
        """Spans of ``project``, following next_cursor; [] if the project does not exist.

        ``filters`` are the endpoint's query parameters (see SPAN_FILTERS); a list value
        repeats the parameter, and ``attribute`` may be a mapping ``{key: value}``.
        Results are in insertion order (``order="asc"``) unless ``order`` is given.
        ``limit`` caps the total returned; ``page_size`` is the per-request limit.
        """
        if not 0 < page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be in 1..{MAX_PAGE_SIZE}")
        filters.setdefault("order", "asc")
        base = f"{self.http_endpoint}/v1/projects/{urllib.parse.quote(project, safe='')}/spans"
        params = _query_items(filters)
        result: list[Span] = []
        cursor: str | None = None
        while limit is None or len(result) < limit:
            want = page_size if limit is None else min(page_size, limit - len(result))
            query = [*params, ("limit", str(want))]
            if cursor is not None:
                query.append(("cursor", cursor))
            body = self._get_json(f"{base}?{urllib.parse.urlencode(query)}")
            if body is None:
                return []
            result.extend(body["data"])
            cursor = body.get("next_cursor")
            if not cursor:
                break
        return result

    def wait_for_spans(
        self,
        project: str,
        count_or_predicate: int | Callable[[list[Span]], bool],
        timeout: float = 30.0,
        **filters: FilterValue,
    ) -> list[Span]:
        """Poll until ``project`` has at least N spans, or the predicate holds; return them."""
        if isinstance(count_or_predicate, int):
            count = count_or_predicate

            def done(spans: list[Span]) -> bool:
                return len(spans) >= count

            wanted = f"at least {count} span(s)"
        else:
            done = count_or_predicate
            wanted = f"spans satisfying {getattr(done, '__name__', repr(done))}"
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            found = self.spans(project, **filters)
            if done(found):
                return found
            if time.monotonic() >= deadline:
                names = sorted(str(s.get("name")) for s in found)
                raise TimeoutError(
                    f"Phoenix project {project!r}: wanted {wanted} within {timeout}s, "
                    f"have {len(found)}: {names}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _get_json(self, url: str) -> Any:
        """GET url as JSON; None on 404 "Project ... not found"."""
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")
            if exc.code == 404 and detail.startswith("Project with name"):
                return None
            raise RuntimeError(f"GET {url} -> HTTP {exc.code}: {detail}") from None
