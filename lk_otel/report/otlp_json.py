"""Read OTLP/JSON trace files (JSON Lines) into :class:`SpanRecord` s.

Decodes what ``opentelemetry-exporter-otlp-json-file``'s ``FileSpanExporter`` and the OTel
Collector's ``file`` exporter write: one ``ExportTraceServiceRequest`` per line, camelCase
keys, hex ids, 64-bit integers as decimal strings, ``doubleValue`` as a number or as
``"NaN"``/``"Infinity"``. Also tolerated: snake_case keys, base64 ids (protobuf
``json_format``), integers as JSON numbers, and a whole file holding one pretty-printed
request. Lines of other signals (metrics, logs) are ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lk_otel.report.records import SpanRecord

_log = logging.getLogger(__name__)

FILE_SUFFIXES = (".jsonl", ".json")
_HEX = re.compile(r"[0-9a-fA-F]+")
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


class ReportInputError(Exception):
    """The path to report on does not exist or holds no OTLP/JSON files."""


@dataclass(frozen=True)
class ReadResult:
    """Spans read from one file or directory, and how many lines had to be skipped."""

    records: tuple[SpanRecord, ...]
    files: tuple[Path, ...]
    malformed_lines: int


def _get(obj: Mapping[str, Any], camel: str, default: Any = None) -> Any:
    """``obj[camel]``, falling back to its snake_case spelling."""
    if camel in obj:
        return obj[camel]
    return obj.get(_CAMEL_HUMP.sub("_", camel).lower(), default)


def _any_value(value: Mapping[str, Any]) -> Any:
    """Decode an OTLP ``AnyValue`` into a Python value (``None`` when empty)."""
    if (v := _get(value, "stringValue")) is not None:
        return str(v)
    if (v := _get(value, "boolValue")) is not None:
        return bool(v)
    if (v := _get(value, "intValue")) is not None:
        return int(v)
    if (v := _get(value, "doubleValue")) is not None:
        return float(v)  # float("NaN") / float("-Infinity") decode the string forms
    if (v := _get(value, "arrayValue")) is not None:
        return tuple(_any_value(item) for item in v.get("values", []))
    if (v := _get(value, "kvlistValue")) is not None:
        return _attributes(v.get("values", []))
    if (v := _get(value, "bytesValue")) is not None:
        return base64.b64decode(v)
    return None


def _attributes(items: list[Mapping[str, Any]] | None) -> dict[str, Any]:
    """Decode a list of OTLP ``KeyValue`` objects into a dict."""
    return {str(kv["key"]): _any_value(kv.get("value") or {}) for kv in items or ()}


def _id(raw: Any, size: int) -> str | None:
    """A trace/span id as lowercase hex; accepts hex or base64, ``None`` when empty."""
    if not raw:
        return None
    text = str(raw)
    if len(text) == size * 2 and _HEX.fullmatch(text):
        return text.lower()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != size:
        raise ValueError(f"bad id {text!r}")
    return decoded.hex()


def _spans_of_request(request: Any) -> Iterator[SpanRecord]:
    """Every span of one ``ExportTraceServiceRequest`` object."""
    if not isinstance(request, Mapping):
        raise ValueError("not a JSON object")
    for resource_spans in _get(request, "resourceSpans") or ():
        resource = _attributes((_get(resource_spans, "resource") or {}).get("attributes"))
        scopes = _get(resource_spans, "scopeSpans") or _get(
            resource_spans, "instrumentationLibrarySpans", ()
        )
        for scope_spans in scopes:
            for span in _get(scope_spans, "spans") or ():
                trace_id = _id(_get(span, "traceId"), 16)
                span_id = _id(_get(span, "spanId"), 8)
                if trace_id is None or span_id is None:
                    raise ValueError("span without trace or span id")
                end = _get(span, "endTimeUnixNano")
                yield SpanRecord(
                    trace_id=trace_id,
                    span_id=span_id,
                    parent_id=_id(_get(span, "parentSpanId"), 8),
                    name=str(_get(span, "name", "")),
                    start_ns=int(_get(span, "startTimeUnixNano", 0)),
                    end_ns=int(end) if end is not None else None,
                    attributes=_attributes(_get(span, "attributes")),
                    resource=resource,
                )


def _read_file(path: Path) -> tuple[list[SpanRecord], list[int]]:
    """Spans of one file and the 1-based numbers of its malformed lines."""
    data = path.read_bytes()
    records: list[SpanRecord] = []
    bad: list[int] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.decode("utf-8").lstrip("\ufeff").strip()
            if line:
                records.extend(_spans_of_request(json.loads(line)))
        except (ValueError, TypeError, KeyError, AttributeError):
            bad.append(number)
    if bad:  # maybe one pretty-printed request (or a JSON array of them)
        try:
            whole = json.loads(data.decode("utf-8-sig"))
            requests = whole if isinstance(whole, list) else [whole]
            return [r for req in requests for r in _spans_of_request(req)], []
        except (ValueError, TypeError, KeyError, AttributeError):
            pass
    return records, bad


def input_files(path: str | Path) -> list[Path]:
    """``path`` itself, or the ``*.jsonl``/``*.json`` files directly inside it (sorted)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix in FILE_SUFFIXES)
        if not files:
            raise ReportInputError(f"no *.jsonl or *.json files in directory {p}")
        return files
    if not p.is_file():
        raise ReportInputError(f"no such file or directory: {p}")
    return [p]


def read_otlp_json(path: str | Path) -> ReadResult:
    """Read a file, or every ``*.jsonl``/``*.json`` file of a directory, into span records.

    Blank lines are ignored; malformed lines are skipped and reported in one warning.
    """
    files = input_files(path)
    records: list[SpanRecord] = []
    skipped: list[str] = []
    for file in files:
        file_records, bad = _read_file(file)
        records.extend(file_records)
        skipped.extend(f"{file.name}:{n}" for n in bad)
    if skipped:
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        _log.warning(
            "skipped %d malformed line(s) (%s%s)", len(skipped), ", ".join(skipped[:3]), more
        )
    return ReadResult(tuple(records), tuple(files), len(skipped))
