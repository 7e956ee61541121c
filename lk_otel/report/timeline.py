"""A :class:`TurnTimeline` per answering turn, rebuilt from livekit's raw spans in a file.

The report's fallback when a file has no ``lk_otel.stage`` spans (written before the
critical path existed, or by a pipeline without it). Only span timestamps and the keys
livekit writes are used:

- first audio: the turn's first ``agent_speaking`` (tool follow-ups included: on 1.2 they
  are nested turns);
- the user's stop: the answered ``user_turn``'s last ``user_speaking`` end (``lk.end_time``
  on 1.2), else first audio - e2e (``lk_otel.turn.e2e_latency`` / ``lk.e2e_latency``);
- end of turn / transcript: the stop + the turn's (1.8) or user turn's (1.2) delays;
- ``on_user_turn_completed``: its span (1.8; 1.2 has none);
- LLM rounds: ``llm_node`` spans, first token = ``llm_request`` start + ``LLMMetrics.ttft``;
- tools: ``function_tool`` spans; TTS: ``tts_node`` spans, first byte = start + ``ttfb``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from lk_otel import semconv as sc
from lk_otel.enrich.timeline import LlmRound, ToolRun, TtsRun, TurnTimeline
from lk_otel.report.records import SpanRecord
from lk_otel.report.values import number

_Key = tuple[str, str]  # (trace id, span id)
_NS = 1_000_000_000


def _metrics(rec: SpanRecord | None, key: str) -> Mapping[str, Any]:
    raw = rec.attributes.get(key) if rec is not None else None
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, Mapping) else {}


def _ns(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * _NS)


class _Trace:
    """The spans of one trace, indexed by parent."""

    def __init__(self, records: Iterable[SpanRecord]) -> None:
        self.spans = sorted(records, key=lambda r: (r.start_ns, r.span_id))
        self.children: dict[str, list[SpanRecord]] = {}
        for rec in self.spans:
            if rec.parent_id:
                self.children.setdefault(rec.parent_id, []).append(rec)
        self.by_id = {r.span_id: r for r in self.spans}

    def descendants(self, rec: SpanRecord, name: str) -> list[SpanRecord]:
        out, todo = [], list(self.children.get(rec.span_id, ()))
        while todo:
            child = todo.pop()
            if child.name == name:
                out.append(child)
            todo.extend(self.children.get(child.span_id, ()))
        return sorted(out, key=lambda r: r.start_ns)

    def first_child(self, rec: SpanRecord, name: str) -> SpanRecord | None:
        found = [c for c in self.children.get(rec.span_id, ()) if c.name == name]
        return found[0] if found else None

    def nested_turn(self, rec: SpanRecord) -> bool:
        """A 1.2 tool follow-up: an agent turn inside another."""
        parent = self.by_id.get(rec.parent_id or "")
        while parent is not None:
            if parent.name in sc.TURN_SPAN_NAMES:
                return True
            parent = self.by_id.get(parent.parent_id or "")
        return False


def _answered_user_turns(trace: _Trace) -> dict[str, SpanRecord]:
    """Top-level agent turn id → the user turn it answers (the first turn after it)."""
    turns = [r for r in trace.spans if r.name in sc.TURN_SPAN_NAMES and not trace.nested_turn(r)]
    users = [r for r in trace.spans if r.name == sc.SPAN_USER_TURN]
    answered: dict[str, SpanRecord] = {}
    for user in users:
        after = [t for t in turns if t.start_ns > user.start_ns]
        if after and after[0].attributes.get(sc.TURN_KIND) not in ("greeting", "say"):
            answered[after[0].span_id] = user
    return answered


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


def _user_stop(trace: _Trace, turn: SpanRecord, user: SpanRecord, audio: int) -> int | None:
    """The end of the user's last ``user_speaking`` (1.8 dates it to the VAD's stop, 1.2
    writes that as ``lk.end_time``), else first audio - the turn's e2e."""
    speaking = trace.descendants(user, sc.SPAN_USER_SPEAKING)
    if speaking:
        last = speaking[-1]
        end_time = number(last.attributes, sc.LK_END_TIME)
        if end_time is not None:
            return _ns(end_time)
        if last.end_ns is not None:
            return last.end_ns
    attrs = turn.attributes
    e2e = _first(number(attrs, sc.TURN_E2E_LATENCY), number(attrs, sc.LK_E2E_LATENCY))
    return audio - round(e2e * _NS) if e2e is not None else None


def _llm_rounds(trace: _Trace, turn: SpanRecord) -> tuple[LlmRound, ...]:
    rounds = []
    for node in trace.descendants(turn, sc.SPAN_LLM_NODE):
        request = trace.first_child(node, sc.SPAN_LLM_REQUEST)
        m = _metrics(request, sc.LK_LLM_METRICS)
        ttft = m.get("ttft")
        first = None
        if request is not None and isinstance(ttft, (int, float)) and ttft >= 0:
            first = request.start_ns + round(ttft * _NS)
        calls = _metrics_list(node.attributes.get(sc.LK_RESPONSE_FUNCTION_CALLS))
        rounds.append(
            LlmRound(
                start_ns=node.start_ns,
                end_ns=node.end_ns or node.start_ns,
                first_token_ns=first,
                tool_calls=tuple(str(c.get("name")) for c in calls if isinstance(c, Mapping)),
                cancelled=bool(m.get("cancelled", False)),
            )
        )
    return tuple(rounds)


def _metrics_list(raw: Any) -> list[Any]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _tts_runs(trace: _Trace, turn: SpanRecord) -> tuple[TtsRun, ...]:
    runs = []
    for node in trace.descendants(turn, sc.SPAN_TTS_NODE):
        m = _metrics(trace.first_child(node, sc.SPAN_TTS_REQUEST), sc.LK_TTS_METRICS)
        ttfb = m.get("ttfb")
        first = None
        if isinstance(ttfb, (int, float)) and ttfb >= 0:
            first = node.start_ns + round(ttfb * _NS)
        runs.append(TtsRun(node.start_ns, node.end_ns or node.start_ns, first))
    return tuple(runs)


def _tools(trace: _Trace, turn: SpanRecord) -> tuple[ToolRun, ...]:
    return tuple(
        ToolRun(
            name=str(
                t.attributes.get(sc.GEN_AI_TOOL_NAME)
                or t.attributes.get(sc.LK_FUNCTION_TOOL_NAME)
                or "tool"
            ),
            start_ns=t.start_ns,
            end_ns=t.end_ns or t.start_ns,
        )
        for t in trace.descendants(turn, sc.SPAN_FUNCTION_TOOL)
    )


def _delay(turn: SpanRecord, user: SpanRecord, *keys: str) -> float | None:
    return _first(*(number(r.attributes, k) for k in keys for r in (turn, user)))


def _timeline(trace: _Trace, turn: SpanRecord, user: SpanRecord) -> TurnTimeline:
    speaking = trace.descendants(turn, sc.SPAN_AGENT_SPEAKING)
    audio = speaking[0].start_ns if speaking else None
    stop = _user_stop(trace, turn, user, audio) if audio is not None else None
    eot = _delay(
        turn, user, sc.TURN_END_OF_TURN_DELAY, sc.LK_END_OF_TURN_DELAY, sc.LK_END_OF_UTTERANCE_DELAY
    )
    transcription = _delay(turn, user, sc.TURN_TRANSCRIPTION_DELAY, sc.LK_TRANSCRIPTION_DELAY)
    hook = trace.first_child(user, sc.SPAN_ON_USER_TURN_COMPLETED)
    return TurnTimeline(
        user_stop_ns=stop,
        audio_start_ns=audio,
        end_of_turn_ns=stop + _ns(eot) if stop is not None and eot is not None else None,  # type: ignore[operator]
        transcript_ns=(
            stop + _ns(transcription)  # type: ignore[operator]
            if stop is not None and transcription is not None
            else None
        ),
        on_user_turn_completed_ns=(
            (hook.start_ns, hook.end_ns) if hook is not None and hook.end_ns is not None else None
        ),
        llm=_llm_rounds(trace, turn),
        tools=_tools(trace, turn),
        tts=_tts_runs(trace, turn),
    )


def timelines_from_records(records: Iterable[SpanRecord]) -> dict[_Key, TurnTimeline]:
    """``(trace id, turn span id)`` → the timeline of every turn that answers a user turn."""
    traces: dict[str, list[SpanRecord]] = {}
    for rec in records:
        traces.setdefault(rec.trace_id, []).append(rec)
    out: dict[_Key, TurnTimeline] = {}
    for trace_id, recs in traces.items():
        trace = _Trace(recs)
        for turn_id, user in _answered_user_turns(trace).items():
            out[(trace_id, turn_id)] = _timeline(trace, trace.by_id[turn_id], user)
    return out
