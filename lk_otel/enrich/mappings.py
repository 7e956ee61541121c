"""Backend mappings: the keys Langfuse, OpenInference (Phoenix) and MLflow read.

``backend_attributes`` is the entry point; each backend's keys come from its own module
(``map_langfuse``, ``map_openinference``, ``map_mlflow``) over the facts ``map_facts`` reads.
The smaller functions below are the session/user keys, and what the older pipeline calls.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from .. import semconv as sc
from . import map_facts, map_langfuse, map_mlflow, map_openinference
from .options import EnrichOptions
from .view import SpanView

KINDS = tuple(map_openinference.KIND_BY_NAME)
_OI_KIND = map_openinference.KIND_BY_NAME


def root_attributes(options: EnrichOptions, session_id: str, trace_name: str) -> dict[str, Any]:
    """Set on every root span at start, so one call is one Langfuse / Phoenix session."""
    out: dict[str, Any] = {}
    if options.langfuse:
        out[sc.LANGFUSE_SESSION_ID] = session_id
        out[sc.LANGFUSE_TRACE_NAME] = trace_name
        if options.tags:
            out[sc.LANGFUSE_TRACE_TAGS] = list(options.tags)
        if options.environment:
            out[sc.LANGFUSE_ENVIRONMENT] = options.environment
        if options.release:
            out[sc.LANGFUSE_RELEASE] = options.release
    if options.openinference:
        out[sc.OI_SESSION_ID] = session_id
    return out


def span_kind_attributes(options: EnrichOptions, name: str) -> dict[str, Any]:
    """``openinference.span.kind`` for the spans Phoenix should classify."""
    if not options.openinference or name not in _OI_KIND:
        return {}
    return {sc.OPENINFERENCE_SPAN_KIND: _OI_KIND[name]}


def llm_model_attributes(
    options: EnrichOptions, attrs: Any, provider: str | None
) -> dict[str, Any]:
    """OpenInference model keys on ``llm_request`` (token counts stay on ``gen_ai.usage``)."""
    if not options.openinference:
        return {}
    out: dict[str, Any] = {}
    if model := attrs.get(sc.GEN_AI_REQUEST_MODEL):
        out[sc.OI_LLM_MODEL_NAME] = model
    if provider:
        out[sc.OI_LLM_PROVIDER] = provider
    return out


def user_attributes(options: EnrichOptions, identity: str | None) -> dict[str, Any]:
    """The participant identity, only when PII is allowed."""
    if not identity or not options.allow_pii:
        return {}
    out: dict[str, Any] = {}
    if options.langfuse:
        out[sc.LANGFUSE_USER_ID] = identity
    if options.openinference:
        out[sc.OI_USER_ID] = identity
    return out


def stage_attributes(options: EnrichOptions) -> dict[str, Any]:
    """Mapping keys on the waterfall's spans: plain spans, not generations."""
    out: dict[str, Any] = {}
    if options.langfuse:
        out[sc.LANGFUSE_OBSERVATION_TYPE] = "span"
    if options.openinference:
        out[sc.OPENINFERENCE_SPAN_KIND] = "CHAIN"
    return out


def backend_attributes(options: EnrichOptions, span: SpanView) -> dict[str, Any]:
    """Every backend-mapping key for one outgoing span (merged over its attributes).

    The one entry point the enrichment calls, once per exported span. Content (input and
    output) is read only when ``options.allow_pii``.
    """
    out: dict[str, Any] = {}
    if not (options.langfuse or options.openinference or options.mlflow):
        return out
    facts = map_facts.facts(span, allow_pii=options.allow_pii, prices=options.prices)
    if options.langfuse:
        out.update(map_langfuse.observation_attributes(span, facts))
    if options.openinference:
        out.update(map_openinference.span_attributes(span, facts))
    if options.mlflow:
        out.update(map_mlflow.span_attributes(span, facts))
    if span.is_root and span.session_id is not None:
        out.update(root_attributes(options, span.session_id, span.service_name))
    if span.name == sc.SPAN_AGENT_SESSION:
        out.update(user_attributes(options, span.participant_identity))
    return out


# names every backend types by name alone (no model-key guess)
_TYPED_NAMES = (
    frozenset(map_langfuse.TYPE_BY_NAME)
    & frozenset(map_openinference.KIND_BY_NAME)
    & frozenset(map_mlflow.TYPE_BY_NAME)
)


class BackendMapper:
    """``backend_attributes`` for one configuration, computed once per span name for the
    spans whose keys depend on nothing else (no ``lk_otel.*`` added, not a root, no usage,
    no content read): most of a call's spans. Same keys and values as ``backend_attributes``.
    """

    def __init__(self, options: EnrichOptions) -> None:
        self.options = options
        self.enabled = options.langfuse or options.openinference or options.mlflow
        # spans whose keys read more than their name: usage, content, the session's user
        self._skip = map_facts.USAGE_SPAN_NAMES | {sc.SPAN_AGENT_SESSION}
        if options.allow_pii:
            self._skip |= map_facts.CONTENT_SPAN_NAMES
        self._static: dict[Hashable, dict[str, Any]] = {}
        self._stages: dict[tuple[str, tuple[tuple[str, type], ...]], dict[str, Any]] = {}

    def static(
        self, name: str, attributes: Mapping[str, Any], added: Mapping[str, Any], is_root: bool
    ) -> dict[str, Any] | None:
        """The span's keys if they depend on its name alone (read-only, shared), else None."""
        if added or is_root or name in self._skip:
            return None
        if name in _TYPED_NAMES:
            key: Hashable = name
        else:
            op = attributes.get(sc.GEN_AI_OPERATION_NAME)
            if op is not None and not isinstance(op, str):
                return None
            key = (name, map_facts.has_model(attributes), op)
        hit = self._static.get(key)
        if hit is None:
            view = SpanView(name, attributes, {}, False, 0, 0, "")
            hit = self._static[key] = backend_attributes(self.options, view)
        return hit

    def stage(self, name: str, added: Mapping[str, Any]) -> dict[str, Any]:
        """The keys of a waterfall stage span (``added``: its ``lk_otel.stage.*`` figures).

        A stage span's keys depend on its name, and on its figures only through Langfuse's
        metadata copies of them: computed once per name, the copies filled in per span.
        """
        if not self.enabled:
            return {}
        key = (name, tuple((k, type(v)) for k, v in added.items()))  # which are copied
        template = self._stages.get(key)
        if template is None:
            view = SpanView(name, {}, added, False, 0, 0, "")
            template = self._stages[key] = backend_attributes(self.options, view)
            return dict(template)
        out = dict(template)
        prefix = sc.LANGFUSE_OBSERVATION_METADATA
        for k, v in added.items():
            if prefix + k in out:
                out[prefix + k] = v
        return out

    def __call__(self, span: SpanView) -> dict[str, Any]:
        """Every backend-mapping key for ``span`` (``backend_attributes``)."""
        if not self.enabled:
            return {}
        hit = self.static(span.name, span.attributes, span.added, span.is_root)
        return dict(hit) if hit is not None else backend_attributes(self.options, span)
