"""The span processor that enriches livekit's spans and hands copies to the exporters.

Children end before their parents, so figures are gathered as ``llm_request``,
``llm_node``, ``tts_node``, ``function_tool`` … end, and written on the turn and session
spans when those end. An ended span is never written to: the exporters downstream get a
new ``ReadableSpan`` with the extra attributes, so other processors on the provider
(LiveKit Cloud's) see livekit's span untouched. Static keys (span kinds, session ids) are
set through the public API at span start.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from .. import _compat
from .. import semconv as sc
from ..collect.feed import EouTiming
from ..collect.instrumentor import CURRENT_FEED
from . import mappings, redact, waterfall
from .extract import (
    LlmCall,
    TtsCall,
    llm_attributes,
    llm_call,
    llm_request_figures,
    tts_attributes,
    tts_call,
    tts_request_figures,
)
from .options import EnrichOptions
from .session import add_turn, session_attributes
from .state import SessionState, TurnState, TurnSummary
from .turn import summarize_turn, turn_attributes
from .view import SpanView

logger = logging.getLogger("lk_otel")
# spans whose end feeds the enrichment; every other span only passes through
_ENRICHED = frozenset(
    {
        sc.SPAN_LLM_REQUEST,
        sc.SPAN_TTS_REQUEST,
        sc.SPAN_LLM_NODE,
        sc.SPAN_TTS_NODE,
        sc.SPAN_FUNCTION_TOOL,
        sc.SPAN_AGENT_SPEAKING,
        sc.SPAN_USER_SPEAKING,
        sc.SPAN_USER_TURN,
        sc.SPAN_AGENT_SESSION,
        *sc.TURN_SPAN_NAMES,
    }
)
# spans that open a session, turn or user turn, or change a turn's state at start
_STRUCTURAL = frozenset(
    {sc.SPAN_AGENT_SESSION, sc.SPAN_USER_TURN, sc.SPAN_FUNCTION_TOOL, *sc.TURN_SPAN_NAMES}
)
_DEFERRED: dict[str, Any] = {}  # marker: the span is forwarded later, by another on_end
HOLD_SECONDS = 10.0  # how long a user turn waits for its late EOU metrics (livekit 1.2)
MAX_HELD = 256


@dataclass(slots=True)
class _Open:
    name: str
    parent: int | None
    session: int | None
    turn: int | None
    user: int | None
    ended: bool = False


@dataclass
class _Held:
    span: ReadableSpan
    extra: dict[str, Any]
    session: int | None
    deadline: float
    done: bool = field(default=False)


class EnrichingSpanProcessor(SpanProcessor):
    """Adds the ``lk_otel.*`` schema and backend mappings, then forwards to ``downstream``."""

    def __init__(
        self,
        downstream: Sequence[SpanProcessor],
        options: EnrichOptions,
    ) -> None:
        self._downstream = tuple(downstream)
        self._options = options
        self._lock = threading.RLock()
        self._open: dict[int, _Open] = {}
        self._sessions: dict[int, SessionState] = {}
        self._turns: dict[int, TurnState] = {}
        self._requests: dict[int, list[dict[str, Any]]] = {}
        self._user_speech: dict[int, float] = {}
        self._held: deque[_Held] = deque()
        # livekit 1.2 answers a tool call in a nested turn that starts after its parent ended
        self._nested_follow_ups = _compat.agent_turn_span_name() == sc.SPAN_ASSISTANT_TURN
        self._kinds = {n: mappings.span_kind_attributes(options, n) for n in mappings.KINDS}
        self._stage_attrs = mappings.stage_attributes(options)
        self._ready: list[tuple[ReadableSpan, dict[str, Any] | None]] = []
        self._redact = not options.allow_pii and not _compat.set_tracer_provider_accepts_allow_pii()
        self._failed_once = False
        self.turn_listeners: list[Callable[[TurnSummary], None]] = []
        self.user_turn_listeners: list[Callable[[float, str | None], None]] = []
        self.llm_listeners: list[Callable[[LlmCall, str | None], None]] = []
        self.tts_listeners: list[Callable[[TtsCall, str | None], None]] = []

    # --- SpanProcessor ------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            self._start(span)
        except Exception:
            self._log_failure(span.name)
        for p in self._downstream:
            p.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        name = span.name
        if name not in _ENRICHED:  # passes through as it is (about a third of livekit's spans)
            with self._lock:
                self._open.pop(span.context.span_id, None)
            self._forward(self._materialize(span, None))  # copied only to strip content
            if self._ready or self._held:
                self._forward_ready()
            return
        extra: dict[str, Any] | None = None
        hold: _Held | None = None
        try:
            extra, hold = self._end(span)
        except Exception:
            self._log_failure(name)
        finally:
            with self._lock:
                node = self._open.get(span.context.span_id)
                if (
                    node is not None
                    and node.name in sc.TURN_SPAN_NAMES
                    and node.turn in self._turns
                ):
                    node.ended = True  # a livekit 1.2 tool follow-up may still start under it
                else:
                    self._open.pop(span.context.span_id, None)
        if hold is not None:
            hold.extra.update(self._kinds.get(name) or {})
            self._hold(hold)
        elif extra is not _DEFERRED:
            self._forward(self._materialize(span, self._with_kind(name, extra)))
        self._forward_ready()

    def _forward_ready(self) -> None:
        """Forward turns and waterfall spans completed by the span that just ended, and user
        turns whose hold expired."""
        if self._ready:
            with self._lock:
                ready, self._ready = self._ready, []
            for done, done_extra in ready:
                self._forward(self._materialize(done, self._with_kind(done.name, done_extra)))
        self._release(expired_only=True)

    def _with_kind(self, name: str, extra: dict[str, Any] | None) -> dict[str, Any] | None:
        kind = self._kinds.get(name)
        if not kind:
            return extra
        return {**kind, **extra} if extra else kind

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self._release(expired_only=False)
        return all([p.force_flush(timeout_millis) for p in self._downstream])

    def shutdown(self) -> None:
        self._release(expired_only=False)
        for p in self._downstream:
            p.shutdown()

    # --- start --------------------------------------------------------------------
    def _start(self, span: Span) -> None:
        sid, name, parent = span.get_span_context().span_id, span.name, span.parent
        if parent is not None and not parent.is_remote and name not in _STRUCTURAL:
            with self._lock:  # the common case: a span in the same session and turn as its parent
                p = self._open.get(parent.span_id)
                self._open[sid] = (
                    _Open(name, parent.span_id, p.session, p.turn, p.user)
                    if p is not None
                    else _Open(name, parent.span_id, None, None, None)
                )
            return
        with self._lock:
            p = self._open.get(parent.span_id) if parent is not None else None
            session = sid if name == sc.SPAN_AGENT_SESSION else (p.session if p else None)
            if name in sc.TURN_SPAN_NAMES:
                turn = p.turn if p is not None and p.turn is not None else sid
            else:
                turn = p.turn if p else None
            user = sid if name == sc.SPAN_USER_TURN else (p.user if p else None)
            self._open[sid] = _Open(name, parent.span_id if parent else None, session, turn, user)
            state = self._sessions.get(session) if session is not None else None
            if name == sc.SPAN_AGENT_SESSION:
                state = self._new_session(span, sid)
            elif name in sc.TURN_SPAN_NAMES and turn == sid and state is not None:
                state.turns_started += 1
                self._turns[sid] = TurnState(
                    index=state.turns_started, start_ns=span.start_time or 0
                )
            elif name in sc.TURN_SPAN_NAMES and turn in self._turns:
                self._turns[turn].awaiting_follow_up = False
            elif name == sc.SPAN_FUNCTION_TOOL and turn in self._turns:
                # a tool call's answer comes in a follow-up turn that starts after the tool
                self._turns[turn].awaiting_follow_up = self._nested_follow_ups
        static: dict[str, Any] = {}
        if parent is None or parent.is_remote:
            session_id = state.session_id if state is not None else _job_session_id()
            if session_id is not None:
                trace_name = str(span.resource.attributes.get(sc.SERVICE_NAME, name))
                static.update(mappings.root_attributes(self._options, session_id, trace_name))
        if static:
            span.set_attributes(static)

    def _new_session(self, span: Span, sid: int) -> SessionState:
        feed = CURRENT_FEED.get()
        session_id = _job_session_id() or f"lk-{uuid.uuid4().hex[:20]}"
        state = SessionState(session_id=session_id, start_ns=span.start_time or 0, feed=feed)
        self._sessions[sid] = state
        if feed is not None and not _compat.has_session_usage():
            feed.eou_listeners.append(lambda timing: self._on_late_eou(sid, timing))
        return state

    # --- end ----------------------------------------------------------------------
    def _end(self, span: ReadableSpan) -> tuple[dict[str, Any] | None, _Held | None]:
        name = span.name
        sid = span.context.span_id
        attrs = _compat.span_attributes(span)
        with self._lock:
            node = self._open.get(sid)
            if node is None:
                return None, None
            state = self._sessions.get(node.session) if node.session is not None else None
            turn = self._turns.get(node.turn) if node.turn is not None else None
            if name == sc.SPAN_LLM_REQUEST or name == sc.SPAN_TTS_REQUEST:
                figures = (
                    llm_request_figures if name == sc.SPAN_LLM_REQUEST else tts_request_figures
                )(attrs)
                if node.parent is not None:
                    self._requests.setdefault(node.parent, []).append(figures)
                if name == sc.SPAN_LLM_REQUEST:
                    return mappings.llm_model_attributes(
                        self._options, attrs, figures["provider"]
                    ), None
                return None, None
            if name == sc.SPAN_LLM_NODE:
                call = llm_call(
                    attrs, span.start_time or 0, span.end_time or 0, self._requests.pop(sid, [])
                )
                if turn is not None:
                    turn.llm.append(call)
                self._notify(self.llm_listeners, call, state.agent_name if state else None)
                return llm_attributes(call), None
            if name == sc.SPAN_TTS_NODE:
                tcall = tts_call(
                    attrs, span.start_time or 0, span.end_time or 0, self._requests.pop(sid, [])
                )
                if turn is not None:
                    turn.tts.append(tcall)
                self._notify(self.tts_listeners, tcall, state.agent_name if state else None)
                return tts_attributes(tcall), None
            if name == sc.SPAN_FUNCTION_TOOL and turn is not None:
                turn.tool_calls += 1
            elif name == sc.SPAN_AGENT_SPEAKING:
                self._agent_speaking(span, turn, state)
            elif name == sc.SPAN_USER_SPEAKING:
                seconds = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
                if node.user is not None:
                    self._user_speech[node.user] = seconds
                elif state is not None:
                    state.last_user_speaking = seconds
            elif name == sc.SPAN_USER_TURN:
                return self._user_turn(span, attrs, state, node)
            elif name in sc.TURN_SPAN_NAMES:
                return self._turn_ended(span, sid, node.turn, state), None
            elif name == sc.SPAN_AGENT_SESSION and state is not None:
                del self._sessions[sid]
                return self._session(span, state), None
        return None, None

    def _agent_speaking(
        self, span: ReadableSpan, turn: TurnState | None, state: SessionState | None
    ) -> None:
        if turn is not None:
            if turn.speaking_start_ns is None:
                turn.speaking_start_ns = span.start_time
        elif state is not None and span.start_time:
            # livekit 1.2 starts agent_speaking outside the turn span; matched at turn end
            state.speaking_starts.append(span.start_time)

    def _user_turn(
        self, span: ReadableSpan, attrs: Any, state: SessionState | None, node: _Open
    ) -> tuple[dict[str, Any] | None, _Held | None]:
        out: dict[str, Any] = {}
        eot = attrs.get(sc.LK_END_OF_TURN_DELAY, attrs.get(sc.LK_END_OF_UTTERANCE_DELAY))
        transcription = attrs.get(sc.LK_TRANSCRIPTION_DELAY)
        if eot is not None:
            out[sc.USER_END_OF_TURN_DELAY] = float(eot)
        if transcription is not None:
            out[sc.USER_TRANSCRIPTION_DELAY] = float(transcription)
        speech = self._user_speech.pop(span.context.span_id, None)
        if speech is None and state is not None:
            speech, state.last_user_speaking = state.last_user_speaking, None
        if speech is not None:
            out[sc.USER_SPEECH_DURATION] = speech
        if state is None:
            return out, None
        state.user_turns_ended += 1
        if state.feed is not None:
            stt_audio = state.feed.take_stt_audio()
            out[sc.USER_STT_AUDIO_DURATION] = stt_audio
            self._notify(self.user_turn_listeners, stt_audio, state.agent_name)
            if transcription is None and not _compat.has_session_usage():
                # livekit 1.2 reports this turn's EOU metrics only after the span ended
                return None, _Held(span, out, node.session, time.monotonic() + HOLD_SECONDS)
        return out, None

    def _turn_ended(
        self, span: ReadableSpan, sid: int, root: int | None, state: SessionState | None
    ) -> dict[str, Any] | None:
        """A turn is summarised once it and its tool follow-ups have ended. livekit 1.2 runs
        a follow-up as a nested turn that starts, and ends, after its parent."""
        if root is None or root not in self._turns:
            return None
        turn = self._turns[root]
        if root == sid:
            turn.root_span = span
        if turn.root_span is None or turn.awaiting_follow_up or self._open_nested(root, sid):
            return _DEFERRED if root == sid else None
        extra = self._finish_turn(root, state)
        if root == sid:
            return extra
        self._ready.append((turn.root_span, extra))
        return None

    def _finish_turn(self, root: int, state: SessionState | None) -> dict[str, Any] | None:
        turn = self._turns.pop(root)
        for key in [k for k, o in self._open.items() if o.turn == root and o.ended]:
            del self._open[key]
        assert turn.root_span is not None
        return self._turn(turn.root_span, _compat.span_attributes(turn.root_span), state, turn)

    def _open_nested(self, root: int, ending: int) -> bool:
        return any(
            o.turn == root
            and o.name in sc.TURN_SPAN_NAMES
            and not o.ended
            and k not in (root, ending)
            for k, o in self._open.items()
        )

    def _turn(
        self, span: ReadableSpan, attrs: Any, state: SessionState | None, turn: TurnState | None
    ) -> dict[str, Any] | None:
        if turn is None or state is None:
            return None
        if turn.speaking_start_ns is None:
            turn.speaking_start_ns = next(
                (t for t in state.speaking_starts if t >= turn.start_ns), None
            )
        eou = state.feed.eou_for(attrs.get(sc.LK_SPEECH_ID)) if state.feed is not None else None
        agent = attrs.get(sc.GEN_AI_AGENT_NAME) or attrs.get(sc.LK_AGENT_LABEL) or state.agent_name
        state.agent_name = str(agent) if agent else None
        summary = summarize_turn(
            attrs,
            turn,
            eou=eou,
            user_turns_before=state.user_turns_ended,
            agent_name=str(agent) if agent else None,
            prices=self._options.prices,
        )
        add_turn(state, summary)
        if stages := waterfall.stages(summary, turn):
            self._ready.extend(
                (stage, None) for stage in waterfall.build(span, *stages, self._stage_attrs)
            )
        self._notify(self.turn_listeners, summary)
        return turn_attributes(summary, state.session_id)

    def _session(self, span: ReadableSpan, state: SessionState) -> dict[str, Any]:
        sid = span.context.span_id
        for root in [r for r, t in self._turns.items() if t.root_span is not None]:
            node = self._open.get(root)
            if node is not None and node.session == sid:  # a follow-up that never came
                self._ready.append((self._turns[root].root_span, self._finish_turn(root, state)))  # type: ignore[arg-type]
        self._release(expired_only=False, session=sid)
        out = session_attributes(state, span.end_time or time.time_ns(), self._options.prices)
        identity = state.feed.identity() if state.feed is not None else None
        out.update(mappings.user_attributes(self._options, identity))
        return out

    # --- late EOU (livekit 1.2) -------------------------------------------------------
    def _on_late_eou(self, session: int, timing: EouTiming) -> None:
        with self._lock:
            held = next((h for h in self._held if h.session == session and not h.done), None)
            if held is None:
                return
            held.extra[sc.USER_END_OF_TURN_DELAY] = timing.end_of_turn_delay
            held.extra[sc.USER_TRANSCRIPTION_DELAY] = timing.transcription_delay
            held.deadline = 0.0
        self._release(expired_only=True)

    def _hold(self, held: _Held) -> None:
        with self._lock:
            self._held.append(held)
            overflow = len(self._held) > MAX_HELD
        if overflow:
            self._release(expired_only=False, oldest_only=True)

    def _release(
        self, *, expired_only: bool, session: int | None = None, oldest_only: bool = False
    ) -> None:
        if not self._held:
            return
        now = time.monotonic()
        ready: list[_Held] = []
        with self._lock:
            for h in list(self._held):
                if session is not None and h.session != session:
                    continue
                if expired_only and h.deadline > now:
                    continue
                self._held.remove(h)
                h.done = True
                ready.append(h)
                if oldest_only:
                    break
        for h in ready:
            self._forward(self._materialize(h.span, h.extra))

    # --- output -------------------------------------------------------------------
    def _materialize(self, span: ReadableSpan, extra: dict[str, Any] | None) -> ReadableSpan:
        attrs = dict(_compat.span_attributes(span))
        if extra:
            attrs.update(extra)
        if self._redact:
            attrs = redact.strip_attributes(attrs)
        # issue 12 bridge until the rebuilt enrichment calls backend_attributes itself
        added = {k: v for k, v in attrs.items() if k.startswith("lk_otel.")}
        view = SpanView(
            name=span.name,
            attributes={k: v for k, v in attrs.items() if k not in added},
            added=added,
            is_root=span.parent is None or span.parent.is_remote,
            start_ns=span.start_time or 0,
            end_ns=span.end_time or 0,
            service_name=str(span.resource.attributes.get(sc.SERVICE_NAME, span.name)),
            session_id=added.get(sc.SESSION_ID),
        )
        attrs.update(mappings.backend_attributes(self._options, view))
        if not self._redact:
            return _compat.copy_span(span, attrs)
        return _compat.copy_span(span, attrs, redact.strip_events(tuple(span.events)))

    def _forward(self, span: ReadableSpan) -> None:
        for p in self._downstream:
            p.on_end(span)

    def _notify(self, listeners: Sequence[Callable[..., None]], *args: Any) -> None:
        """Call the metric recorders; their failure must not cost the span its attributes."""
        for listener in listeners:
            try:
                listener(*args)
            except Exception:
                self._log_failure("metrics")

    def _log_failure(self, name: str) -> None:
        if not self._failed_once:
            self._failed_once = True
            logger.warning(
                "lk_otel: enrichment of a %r span failed; the span is exported without it "
                "(logged once)",
                name,
                exc_info=True,
            )


def _job_session_id() -> str | None:
    job = _compat.current_job_context()
    if job is None:
        return None
    return _compat.job_identity(job).get("job_id")


def build_span_pipeline(
    downstream: Sequence[SpanProcessor], options: EnrichOptions
) -> EnrichingSpanProcessor:
    """The processor ``setup_tracing()`` adds to its provider; also instruments AgentSession."""
    from ..collect.instrumentor import LiveKitAgentsInstrumentor

    instrumentor = LiveKitAgentsInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
    return EnrichingSpanProcessor(downstream, options)
