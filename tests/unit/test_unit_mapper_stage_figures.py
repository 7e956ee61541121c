"""BackendMapper's stage template is kept per figure type: a figure that is not a scalar
(not copied to Langfuse's metadata) never takes the copy of a scalar one, nor the reverse."""

from __future__ import annotations

from unit_helpers import view

from lk_otel import semconv as sc
from lk_otel.enrich import mappings
from lk_otel.enrich.options import EnrichOptions

OPTIONS = EnrichOptions()
TOOL_META = sc.LANGFUSE_OBSERVATION_METADATA + sc.STAGE_TOOL


def test_a_stage_figure_changing_type_gets_its_own_keys() -> None:
    mapper = mappings.BackendMapper(OPTIONS)
    text = {sc.STAGE_NAME: "tool", sc.STAGE_TOOL: "book"}
    listed = {sc.STAGE_NAME: "tool", sc.STAGE_TOOL: ("book", "pay")}  # not a scalar
    for added in (text, listed, text):
        got = mapper.stage("tool book", added)
        assert got == mappings.backend_attributes(OPTIONS, view("tool book", {}, added))
        assert got.get(TOOL_META) == ("book" if added is text else None)
