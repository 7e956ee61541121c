"""Each turn's critical path: read from its ``lk_otel.stage`` spans, else computed.

Stage spans are recognised by their attributes only (``lk_otel.stage`` and
``lk_otel.stage.critical``), whatever their span names: their parent is the stage root
(``response_latency``, user stop → first audio), whose parent is the turn. A turn with no
such spans (a file written before the critical path, or without it) gets its path from the
raw livekit spans of the file (:mod:`lk_otel.report.timeline` + ``critical_path``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lk_otel import semconv as sc
from lk_otel.enrich.critical_path import Stage, critical_path, path_missing, turn_path_attributes
from lk_otel.report.records import SpanRecord
from lk_otel.report.timeline import timelines_from_records
from lk_otel.report.values import flag, integer, text

_Key = tuple[str, str]  # (trace id, turn span id)


@dataclass(frozen=True)
class TurnPath:
    """The stages of one turn between the user's stop (``start_ns``) and first audio."""

    start_ns: int
    end_ns: int
    stages: tuple[Stage, ...]
    computed: bool  # rebuilt from raw spans, not read from stage spans
    missing: tuple[str, ...] = ()
    figures: Mapping[str, object] = field(default_factory=dict, hash=False)
    """``lk_otel.turn.*`` path keys computed with it (empty when read from stage spans)."""

    @property
    def critical(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.critical)

    @property
    def off_path(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if not s.critical)

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


def _stage(rec: SpanRecord) -> Stage | None:
    a = rec.attributes
    name = text(a, sc.STAGE_NAME)
    critical = flag(a, sc.STAGE_CRITICAL)
    if name is None or critical is None or rec.end_ns is None:
        return None
    return Stage(
        name=name,
        start_ns=rec.start_ns,
        end_ns=rec.end_ns,
        critical=critical,
        round=integer(a, sc.STAGE_ROUND),
        tool=text(a, sc.STAGE_TOOL),
    )


def _from_stage_spans(spans: Mapping[_Key, SpanRecord]) -> dict[_Key, TurnPath]:
    groups: dict[_Key, list[Stage]] = {}
    for rec in spans.values():
        stage = _stage(rec)
        if stage is not None and rec.parent_id:
            groups.setdefault((rec.trace_id, rec.parent_id), []).append(stage)
    out: dict[_Key, TurnPath] = {}
    for key, stages in groups.items():
        root = spans.get(key)
        if root is None or root.parent_id is None or root.end_ns is None:
            continue
        missing = root.attributes.get(sc.STAGE_MISSING)
        out[(root.trace_id, root.parent_id)] = TurnPath(
            start_ns=root.start_ns,
            end_ns=root.end_ns,
            stages=tuple(sorted(stages, key=lambda s: (s.start_ns, not s.critical, s.end_ns))),
            computed=False,
            missing=tuple(str(m) for m in missing) if isinstance(missing, tuple) else (),
        )
    return out


def turn_paths(records: Iterable[SpanRecord]) -> dict[_Key, TurnPath]:
    """``(trace id, turn span id)`` → its path, for every answering turn with audio."""
    spans = {(r.trace_id, r.span_id): r for r in records}
    out = _from_stage_spans(spans)
    for key, timeline in timelines_from_records(spans.values()).items():
        if key in out:
            continue
        stages = critical_path(timeline)
        if stages and timeline.user_stop_ns is not None and timeline.audio_start_ns is not None:
            out[key] = TurnPath(
                start_ns=timeline.user_stop_ns,
                end_ns=timeline.audio_start_ns,
                stages=tuple(stages),
                computed=True,
                missing=path_missing(timeline),
                figures=turn_path_attributes(stages, timeline),
            )
    return out
