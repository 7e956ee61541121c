"""``mappings.BackendMapper`` (memoised per span name) gives exactly ``backend_attributes``'
keys and values, on every span of real calls (1.8.9 and 1.2.18, content on and off) and on
waterfall stage spans."""

from __future__ import annotations

import math

import pytest
from test_mappings import RELEASES, load, options

from lk_otel import semconv as sc
from lk_otel.enrich import mappings
from lk_otel.enrich.critical_path import Stage, stage_attributes
from lk_otel.enrich.options import EnrichOptions
from lk_otel.enrich.view import SpanView

OPTION_SETS = [
    dict(),
    dict(allow_pii=False),
    dict(langfuse=False),
    dict(openinference=False, mlflow=False),
    dict(
        tags=["t"],
        environment="prod",
        release="r1",
        prices={"openai/gpt-4o-mini": {"input_per_1m": 0.15}},
    ),
]
STAGES = (  # the stage spans' kinds: response_latency, plain, off-path, tool, LLM round
    Stage(sc.STAGE_END_OF_TURN, 0, 1),
    Stage(sc.STAGE_TRANSCRIPTION, 0, 1, critical=False),
    Stage(sc.STAGE_TOOL_RUN, 1, 2, tool="check_availability"),
    Stage(sc.STAGE_LLM, 2, 3, round=2),
    Stage(sc.STAGE_UNTRACKED, 3, 4),
)


def _same(a: dict, b: dict) -> bool:
    """Equal, NaN included, and in the same key order."""
    return list(a) == list(b) and all(
        x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        for x, y in zip(a.values(), b.values(), strict=True)
    )


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("pii", [True, False])
@pytest.mark.parametrize("kw", OPTION_SETS)
def test_every_recorded_span_maps_as_backend_attributes(release: str, pii: bool, kw: dict) -> None:
    call = load(release, pii)
    opts: EnrichOptions = options(**kw)
    mapper = mappings.BackendMapper(opts)
    views = [s.view for s in call.spans]
    # also each span without its lk_otel.* keys: those are the ones the cache serves
    views += [SpanView(v.name, v.attributes, {}, False, v.start_ns, v.end_ns, "") for v in views]
    cached = 0
    for view in views + views[::-1]:  # twice, so every cached answer is reused
        expected = mappings.backend_attributes(opts, view)
        assert _same(mapper(view), expected), view.name
        hit = mapper.static(view.name, view.attributes, view.added, view.is_root)
        if hit is not None:
            cached += 1
            assert _same(hit, expected), view.name
    if opts.langfuse or opts.openinference or opts.mlflow:
        assert cached > len(views) // 2  # the cache serves most spans without lk_otel keys


@pytest.mark.parametrize("kw", OPTION_SETS)
def test_stage_spans_map_as_backend_attributes(kw: dict) -> None:
    opts = options(**kw)
    mapper = mappings.BackendMapper(opts)
    for duration in (0.25, 0.0, 1.5, 0.25, float("nan"), 3):
        root = {sc.STAGE_NAME: sc.SPAN_RESPONSE_LATENCY, sc.STAGE_DURATION: duration}
        named = [(sc.SPAN_RESPONSE_LATENCY, root)]
        for stage in STAGES:
            named.append(
                (stage.span_name, {**stage_attributes(stage), sc.STAGE_DURATION: duration})
            )
        for name, added in named:
            view = SpanView(name, {}, added, False, 10, 20, "svc", "lk-x")
            assert _same(mapper.stage(name, added), mappings.backend_attributes(opts, view))
