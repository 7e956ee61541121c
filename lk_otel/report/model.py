"""Group span records into sessions and their agent turns (see :func:`build_report`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lk_otel import semconv as sc
from lk_otel.report.path import TurnPath, turn_paths
from lk_otel.report.records import SpanRecord
from lk_otel.report.speech import CallSpeech, call_speech
from lk_otel.report.totals import SessionTotals, UsageLine, parse_usage, session_totals
from lk_otel.report.turn import TurnReport, is_enriched_turn
from lk_otel.report.values import text

_Key = tuple[str, str]  # (trace id, span id)


@dataclass(frozen=True)
class SessionReport:
    """One agent session: its turns in order, per-model usage and totals.

    ``has_session_span`` is False when no agent_session span was found for the turns (e.g.
    the session was still running at export); ``session_id`` is then their trace id.
    """

    session_id: str
    trace_id: str
    start_ns: int
    service_name: str | None
    has_session_span: bool
    turns: tuple[TurnReport, ...]
    usage: tuple[UsageLine, ...]
    totals: SessionTotals
    speech: CallSpeech | None = None


def _ordered(turns: list[TurnReport]) -> tuple[TurnReport, ...]:
    """By turn index when every turn has one, else by start time."""
    if all(t.index is not None for t in turns):
        return tuple(sorted(turns, key=lambda t: (t.index, t.start_ns)))
    return tuple(sorted(turns, key=lambda t: t.start_ns))


def _owner(
    turn: SpanRecord, spans: Mapping[_Key, SpanRecord], sessions: Mapping[str, list[SpanRecord]]
) -> SpanRecord | None:
    """The agent_session ancestor of ``turn``; else the best session span of its trace."""
    seen: set[str] = set()
    parent_id = turn.parent_id
    while parent_id and parent_id not in seen:
        seen.add(parent_id)
        parent = spans.get((turn.trace_id, parent_id))
        if parent is None:
            break
        if parent.name == sc.SPAN_AGENT_SESSION:
            return parent
        parent_id = parent.parent_id
    candidates = sessions.get(turn.trace_id, [])
    containing = [
        s
        for s in candidates
        if s.start_ns <= turn.start_ns and (s.end_ns is None or turn.start_ns <= s.end_ns)
    ]
    started = [s for s in candidates if s.start_ns <= turn.start_ns]
    pool = containing or started or candidates
    return max(pool, key=lambda s: s.start_ns) if pool else None


def _session(
    span: SpanRecord | None,
    turn_records: list[SpanRecord],
    paths: dict[_Key, TurnPath],
    trace_records: list[SpanRecord],
) -> SessionReport:
    turns = [
        TurnReport.from_record(r).with_path(paths.get((r.trace_id, r.span_id)))
        for r in turn_records
    ]
    first = span if span is not None else min(turn_records, key=lambda r: r.start_ns)
    attrs = span.attributes if span is not None else {}
    duration = None
    if span is not None and span.end_ns is not None:
        duration = (span.end_ns - span.start_ns) / 1e9
    service = first.resource.get(sc.SERVICE_NAME)
    return SessionReport(
        session_id=text(attrs, sc.SESSION_ID) or (span.span_id if span else first.trace_id),
        trace_id=first.trace_id,
        start_ns=first.start_ns,
        service_name=service if isinstance(service, str) else None,
        has_session_span=span is not None,
        turns=_ordered(turns),
        usage=parse_usage(attrs),
        totals=session_totals(attrs, duration, turns),
        speech=call_speech(
            trace_records, first.start_ns, span.end_ns if span is not None else None
        ),
    )


def build_report(records: Iterable[SpanRecord]) -> list[SessionReport]:
    """Sessions, ordered by start, with their enriched turns, usage and totals.

    A turn belongs to the agent_session span among its ancestors; if ancestry is broken,
    to the agent_session of its trace that was open when it started. Turns with no session
    span in their trace form a session of their own, keyed by trace id. A span read twice
    (same trace and span id) counts once: the last copy wins.
    """
    spans: dict[_Key, SpanRecord] = {(r.trace_id, r.span_id): r for r in records}
    sessions: dict[str, list[SpanRecord]] = {}
    for rec in spans.values():
        if rec.name == sc.SPAN_AGENT_SESSION:
            sessions.setdefault(rec.trace_id, []).append(rec)
    owned: dict[_Key, list[SpanRecord]] = {
        (s.trace_id, s.span_id): [] for group in sessions.values() for s in group
    }
    orphans: dict[str, list[SpanRecord]] = {}
    for rec in spans.values():
        if not is_enriched_turn(rec):
            continue
        owner = _owner(rec, spans, sessions)
        if owner is None:
            orphans.setdefault(rec.trace_id, []).append(rec)
        else:
            owned[(owner.trace_id, owner.span_id)].append(rec)
    paths = turn_paths(spans.values())
    by_trace: dict[str, list[SpanRecord]] = {}
    for rec in spans.values():
        by_trace.setdefault(rec.trace_id, []).append(rec)
    reports = [_session(spans[key], turns, paths, by_trace[key[0]]) for key, turns in owned.items()]
    reports += [_session(None, turns, paths, by_trace[t]) for t, turns in orphans.items()]
    return sorted(reports, key=lambda s: (s.start_ns, s.session_id))
