"""Transitional: ``setup_tracing()`` on main imports the pipeline from here.

The processor now lives in :mod:`lk_otel.collect.processor` (the enrichment itself in
:mod:`lk_otel.enrich.correlator`); this module goes once the composition root imports
``lk_otel.collect.processor`` directly.
"""

from __future__ import annotations

from typing import Any

from .extract import llm_call  # noqa: F401  (patched by older tests)


def build_span_pipeline(downstream: Any, options: Any) -> Any:
    """See :func:`lk_otel.collect.processor.build_span_pipeline`."""
    from ..collect.processor import build_span_pipeline as build

    return build(downstream, options)
