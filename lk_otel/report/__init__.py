"""``lk-otel report``: per-turn critical paths, latency and usage from OTLP/JSON trace files.

Typical use::

    sessions = build_report(read_otlp_json("traces.jsonl").records)
    print(format_table(sessions))
    write_html(sessions, "report.html")
"""

from __future__ import annotations

from lk_otel.report.html import render_html, write_html
from lk_otel.report.model import SessionReport, build_report
from lk_otel.report.otlp_json import ReadResult, ReportInputError, read_otlp_json
from lk_otel.report.path import TurnPath, turn_paths
from lk_otel.report.png import MissingDependencyError, write_png
from lk_otel.report.records import SpanRecord, records_from_spans
from lk_otel.report.speech import CallSpeech, call_speech
from lk_otel.report.table import format_table
from lk_otel.report.timeline import timelines_from_records
from lk_otel.report.totals import SessionTotals, UsageLine
from lk_otel.report.turn import TurnReport

__all__ = [
    "CallSpeech",
    "MissingDependencyError",
    "ReadResult",
    "ReportInputError",
    "SessionReport",
    "SessionTotals",
    "SpanRecord",
    "TurnPath",
    "TurnReport",
    "UsageLine",
    "build_report",
    "call_speech",
    "format_table",
    "read_otlp_json",
    "records_from_spans",
    "render_html",
    "timelines_from_records",
    "turn_paths",
    "write_html",
    "write_png",
]
