"""The exported copy of an ended span: its ``lk_otel.*`` attributes and backend-mapping keys
merged over livekit's, plus the waterfall's stage spans under a turn (run on the worker)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan

from .. import _compat
from .. import semconv as sc
from ..enrich import mappings, redact, waterfall
from ..enrich.observer import EnrichmentObserver
from ..enrich.options import EnrichOptions
from ..enrich.records import Release
from ..enrich.view import SpanView
from ..export.sink import SpanSink


@dataclass
class Route:
    """Where the spans of sessions started under one configuration go, and how they map."""

    sinks: tuple[SpanSink, ...]
    options: EnrichOptions
    on_released: Callable[[], None] | None = None
    deadline: float = 0.0
    # told about the turns of this configuration's sessions (its metrics), and no others
    observers: tuple[EnrichmentObserver, ...] = ()
    redact: bool = field(init=False)
    mapper: mappings.BackendMapper = field(init=False)

    def __post_init__(self) -> None:
        # livekit 1.2 cannot strip content itself (no allow_pii): lk_otel does, on the copy
        self.redact = not self.options.allow_pii and not _compat.livekit_profile().strips_pii
        self.mapper = mappings.BackendMapper(self.options)


def materialize(
    span: ReadableSpan, attrs: Mapping[str, Any], release: Release, route: Route
) -> list[ReadableSpan]:
    """What goes out for ``span`` (``attrs``: its attributes): a copy with the added and
    mapped keys (``span`` itself when there are none), then its stage spans, if any."""
    base = redact.strip_attributes(dict(attrs)) if route.redact else attrs
    if release.content and route.options.allow_pii:  # the call's texts: only with PII allowed
        release.added = {**release.added, **release.content}
    added = release.added
    mapper = route.mapper
    mapped: dict[str, Any] | None = None
    if mapper.enabled:
        # most spans' keys depend on their name alone: computed once, shared read-only
        mapped = mapper.static(span.name, base, added, release.is_root)
        if mapped is None:
            mapped = _within(
                mapper(_view(span, base, release, route.options)), route.options.value_length_limit
            )
    if not added and not mapped and not route.redact and not release.events:
        out = span
    else:
        merged = {**base, **added, **mapped} if mapped else {**base, **added}
        events = redact.strip_events(tuple(span.events)) if route.redact else None
        if release.events:  # e.g. the handoffs on agent_session
            added_events = (Event(n, dict(a), t) for n, t, a in release.events)
            events = (*(span.events if events is None else events), *added_events)
        out = _compat.copy_span(span, merged, events)
    if not release.stages:
        return [out]
    root, *children = release.stages
    stage_keys = mapper.stage
    return [
        out,
        *waterfall.build(out, root, children, lambda name, a, _s, _e: stage_keys(name, a)),
    ]


def _view(
    span: ReadableSpan, base: Mapping[str, Any], release: Release, options: EnrichOptions
) -> SpanView:
    return SpanView(
        name=span.name,
        attributes=base,
        added=release.added,
        is_root=release.is_root,
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
        service_name=str(span.resource.attributes.get(sc.SERVICE_NAME, span.name)),
        session_id=release.session_id,
        participant_identity=release.identity if options.allow_pii else None,
    )


def _within(mapped: dict[str, Any], limit: int | None) -> dict[str, Any]:
    """Mapping values cut to the provider's attribute length limit (a copy of a long tool
    result, JSON-encoded for MLflow, would otherwise pass it: the SDK cuts at set time).
    Only per-span results come here (never the shared per-name ones)."""
    if limit is None:
        return mapped
    for key, value in mapped.items():
        if isinstance(value, str) and len(value) > limit:
            mapped[key] = value[:limit]
    return mapped
