"""``lk-otel report FILE_OR_DIR``: per-turn latency table, optional HTML and PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lk_otel.report import (
    MissingDependencyError,
    ReportInputError,
    build_report,
    format_table,
    read_otlp_json,
    write_html,
    write_png,
)
from lk_otel.report.png import require_matplotlib
from lk_otel.semconv import TURN_SPAN_NAMES

_PROG = "lk-otel report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``report`` arguments."""
    parser.add_argument(
        "path",
        metavar="FILE_OR_DIR",
        type=Path,
        help="OTLP/JSON lines file, or a directory of *.jsonl / *.json files",
    )
    parser.add_argument(
        "--html", metavar="OUT", type=Path, help="also write a self-contained HTML page"
    )
    parser.add_argument(
        "--png", metavar="OUT", type=Path, help="also write a PNG chart (needs matplotlib)"
    )
    parser.add_argument(
        "--slow-ms",
        metavar="MS",
        type=float,
        help='say "why slow" for turns above this e2e (default: those at the session\'s p95)',
    )
    parser.add_argument(
        "--session",
        metavar="ID",
        help="only this session (lk_otel.session.id, agent_session span id or trace id)",
    )


def _fail(message: str) -> int:
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return 1


def _write(text: str) -> None:
    """Print ``text``, replacing characters the terminal's encoding cannot show."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "ascii"
        sys.stdout.write(text.encode(encoding, "replace").decode(encoding))


def run(args: argparse.Namespace) -> int:
    """Print the report of ``args.path``; 1 on a missing input or no lk_otel turns."""
    try:
        if args.png is not None:
            require_matplotlib()  # fail before printing anything
        result = read_otlp_json(args.path)
    except (ReportInputError, MissingDependencyError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot read {args.path}: {exc}")

    sessions = build_report(result.records)
    if not any(s.turns for s in sessions):
        turn_spans = sum(1 for r in result.records if r.name in TURN_SPAN_NAMES)
        hint = (
            f" ({turn_spans} turn span(s) without lk_otel.turn.* attributes: is lk_otel enabled?)"
            if turn_spans
            else ""
        )
        return _fail(f"no lk_otel agent turns in {args.path}{hint}")
    if args.session is not None:
        wanted = [s for s in sessions if args.session in (s.session_id, s.trace_id)]
        if not wanted:
            known = ", ".join(s.session_id for s in sessions)
            return _fail(f"no session {args.session!r} in {args.path} (sessions: {known})")
        sessions = wanted

    threshold = args.slow_ms / 1000 if args.slow_ms is not None else None
    _write(format_table(sessions, threshold))
    try:
        if args.html is not None:
            print(f"wrote {write_html(sessions, args.html, threshold)}", file=sys.stderr)
        if args.png is not None:
            print(f"wrote {write_png(sessions, args.png)}", file=sys.stderr)
    except (OSError, MissingDependencyError) as exc:
        return _fail(str(exc))
    return 0
