"""Everything that differs between livekit-agents releases, or reaches past a public API.

Supported: livekit-agents 1.2.x (oldest) to 1.8.x (newest). Every function here says why it
exists; nothing else in the package touches livekit internals.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from livekit.agents import telemetry
from opentelemetry.sdk.trace import Event, ReadableSpan


@cache
def livekit_version() -> tuple[int, int, int]:
    """The installed livekit-agents version as a tuple."""
    from livekit.agents import __version__

    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in __version__.split(".")]
    major, minor, patch = [*parts, 0, 0, 0][:3]
    return major, minor, patch


@cache
def set_tracer_provider_accepts_allow_pii() -> bool:
    """``allow_pii`` arrived in ``set_tracer_provider`` after 1.2 (1.2.18 lacks it)."""
    return "allow_pii" in inspect.signature(telemetry.set_tracer_provider).parameters


def set_tracer_provider(
    provider: Any, *, metadata: dict[str, Any] | None, allow_pii: bool | None
) -> None:
    """livekit's ``set_tracer_provider``, passing only what this release accepts."""
    kwargs: dict[str, Any] = {"metadata": metadata}
    if allow_pii is not None and set_tracer_provider_accepts_allow_pii():
        kwargs["allow_pii"] = allow_pii
    telemetry.set_tracer_provider(provider, **kwargs)


def current_job_context() -> Any | None:
    """The running ``JobContext``, or None outside a job.

    1.2's ``get_job_context()`` raises outside a job and has no ``required=`` argument.
    """
    from livekit.agents import get_job_context

    try:
        return get_job_context()
    except RuntimeError:
        return None


def job_identity(job: Any) -> dict[str, str]:
    """Job id, room name and agent name of a ``JobContext`` (public properties)."""
    out: dict[str, str] = {}
    try:
        out["job_id"] = str(job.job.id)
        out["room_name"] = str(job.job.room.name)
        if job.job.agent_name:
            out["agent_name"] = str(job.job.agent_name)
    except Exception:  # a job context without a job proto (console mode)
        pass
    return out


# --- AgentSession / Agent construction (lk_otel.simulation) --------------------------


def agent_turn_span_name() -> str:
    """The reply span's name: livekit 1.3 renamed ``assistant_turn`` to ``agent_turn``."""
    return "agent_turn" if livekit_version() >= (1, 3, 0) else "assistant_turn"


@cache
def _session_params() -> frozenset[str]:
    from livekit.agents import AgentSession

    return frozenset(inspect.signature(AgentSession.__init__).parameters)


def vad_endpointing_session_options(
    *,
    endpointing_delay: float,
    min_interruption_duration: float,
    false_interruption_timeout: float,
) -> dict[str, Any]:
    """AgentSession keyword arguments for VAD endpointing without a turn-detector model.

    Turn detection is left unset (None): with a VAD and no turn-detector model both
    releases then end the user's turn by VAD silence plus ``endpointing_delay``.

    1.8 takes a ``turn_handling`` dict (its flat keywords are deprecated and log a warning)
    and otherwise defaults to a local turn-detector model and adaptive interruption, both
    needing downloads or a network; 1.2 only has the flat keywords. 1.8 also ignores user
    audio for 3 s after the agent starts speaking (AEC warm-up) unless told not to.
    Preemptive generation keeps each release's default.
    """
    params = _session_params()
    if "turn_handling" in params:
        opts: dict[str, Any] = {
            "turn_handling": {
                "turn_detection": None,
                "endpointing": {"min_delay": endpointing_delay},
                "interruption": {
                    "mode": "vad",
                    "min_duration": min_interruption_duration,
                    "false_interruption_timeout": false_interruption_timeout,
                },
            }
        }
    else:
        opts = {
            "min_endpointing_delay": endpointing_delay,
            "min_interruption_duration": min_interruption_duration,
            "false_interruption_timeout": false_interruption_timeout,
        }
    if "aec_warmup_duration" in params:
        opts["aec_warmup_duration"] = None
    return opts


def agent_name_kwargs(agent_name: str) -> dict[str, Any]:
    """Agent keyword arguments that name an Agent subclass (``lk.agent_label``).

    1.8 takes ``id=``; 1.2 derives the label from the class path and has no such argument.
    """
    from livekit.agents import Agent

    if "id" in inspect.signature(Agent.__init__).parameters:
        return {"id": agent_name}
    return {}


# --- plugin stream plumbing (lk_otel.simulation) ----------------------------------------
# Real livekit plugins read what is pushed to a stream from the base class's ``_input_ch``
# and hand results to livekit through its ``_event_ch``; neither has a public accessor.


def stream_input(stream: Any) -> Any:
    """The channel a VADStream, RecognizeStream or SynthesizeStream reads its input from."""
    return stream._input_ch


def send_event(stream: Any, event: Any) -> None:
    """Emit a VADEvent, SpeechEvent or ChatChunk from a plugin stream to livekit."""
    stream._event_ch.send_nowait(event)


def is_flush_sentinel(item: object) -> bool:
    """Whether an input item is a stream's ``_FlushSentinel`` (end of segment), not data."""
    return type(item).__name__ == "_FlushSentinel"


def mark_tts_started(stream: Any) -> None:
    """Start the TTSMetrics.ttfb clock, as a streaming plugin does when it sends text.

    A streaming TTS that never calls it reports no TTSMetrics at all (1.2 and 1.8).
    """
    stream._mark_started()


def streaming_stt_capabilities() -> Any:
    """STTCapabilities of a streaming STT with interim results and, where known, flush.

    1.8 added ``manual_flush``: the session then flushes the STT at VAD end of speech and
    on close; an STT that answers the flush spares ``aclose()`` its 2 s transcript wait.
    """
    from livekit.agents import stt

    fields = inspect.signature(stt.STTCapabilities).parameters
    kwargs: dict[str, Any] = {"streaming": True, "interim_results": True}
    if "manual_flush" in fields:
        kwargs["manual_flush"] = True
    return stt.STTCapabilities(**kwargs)


def notify_playback_started(output: Any, created_at: float) -> None:
    """Tell an audio output chain that playout of a segment began (wall-clock time).

    1.8 starts transcript sync and agent-speaking timing on this callback; 1.2 has no such
    callback and starts them at the first captured frame.
    """
    callback = getattr(output, "on_playback_started", None)
    if callback is not None:
        callback(created_at=created_at)


# --- session events and usage (lk_otel.simulation) -----------------------------------


def on_metrics_collected(session: Any, callback: Any) -> None:
    """Subscribe to a session's raw per-request metrics (``metrics_collected``).

    1.8 deprecates the event in favour of aggregates and logs a warning from
    ``AgentSession.on``; the raw objects, with request and speech ids, are still emitted
    and are what enrichment joins on, so subscribe through the emitter base class.
    """
    from livekit import rtc

    rtc.EventEmitter.on(session, "metrics_collected", callback)


def has_session_usage() -> bool:
    """Whether AgentSession keeps usage totals itself (``session.usage``, 1.8)."""
    from livekit.agents import AgentSession

    return hasattr(AgentSession, "usage")


def has_message_metrics() -> bool:
    """Whether ChatMessage carries per-turn latency ``metrics`` (1.8)."""
    from livekit.agents.llm import ChatMessage

    return "metrics" in ChatMessage.model_fields


def session_usage(session: Any, collector: Any) -> Any:
    """A finished session's usage: ``session.usage`` (1.8), else the UsageCollector summary."""
    if has_session_usage():
        return session.usage
    return collector.get_summary()


# --- OpenTelemetry SDK -------------------------------------------------------------------


def metric_exporter_preferences(exporter: Any) -> dict[str, Any]:
    """The temporality/aggregation preferences of an SDK ``MetricExporter``.

    A wrapping exporter must declare the same ones (the reader reads them at construction);
    the SDK keeps them in private fields and reads them the same way in its own reader.
    """
    return {
        "preferred_temporality": getattr(exporter, "_preferred_temporality", None),
        "preferred_aggregation": getattr(exporter, "_preferred_aggregation", None),
    }


# An enriched span is a copy of livekit's ended span with more attributes. Through the public
# API a copy costs ~4.7 us (``ReadableSpan(...)`` ~2.2 us; reading ``BoundedAttributes``
# through its Mapping interface ~2.5 us for 15 keys, a Python call per key); through the
# instance dict and the attributes' inner dict ~0.6 us (measured with timeit, SDK 1.45).
# Both fall back to the public API if the SDK's layout ever changes.


def span_attributes(span: ReadableSpan) -> Mapping[str, Any]:
    """The attributes of an ended span, read-only, without a per-key Python call."""
    inner = getattr(getattr(span, "_attributes", None), "_dict", None)
    return inner if isinstance(inner, dict) else (span.attributes or {})


def copy_span(
    span: ReadableSpan, attributes: dict[str, Any], events: Sequence[Event] | None = None
) -> ReadableSpan:
    """``span`` with other ``attributes`` (and ``events``); ``span`` is left as it was."""
    fields = getattr(span, "__dict__", None)
    if type(span) is ReadableSpan and fields is not None and "_attributes" in fields:
        copy = object.__new__(ReadableSpan)
        copy.__dict__.update(fields)
        copy._attributes = attributes
        if events is not None:
            copy._events = events
        return copy
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events if events is None else events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


@cache
def livekit_records_genai_metrics() -> bool:
    """Whether livekit records the GenAI metric instruments itself (its ``otel_metrics``
    module, 1.8), in which case lk_otel must not record them a second time."""
    return hasattr(getattr(telemetry, "otel_metrics", None), "_genai_operation_duration")


def participant_identity(session: Any) -> str | None:
    """The identity of the participant a session talks to, if it runs in a room.

    ``AgentSession.room_io`` raises without a room (1.8) or does not exist (1.2, where the
    RoomIO is only in ``_room_io``); ``linked_participant`` is public on both.
    """
    try:
        room_io = getattr(session, "_room_io", None)
        linked = room_io.linked_participant if room_io is not None else None
    except Exception:
        return None
    return str(linked.identity) if linked is not None and linked.identity else None


# --- the release profile the span correlator is built with (issue 9) ---------------------


@dataclass(frozen=True, slots=True)
class LivekitProfile:
    """What the turn correlator must know about a livekit release, decided once.

    The correlator never asks the installed livekit per span; it is built with one of these
    (the installed release's, or a recorded stream's).
    """

    turn_span_name: str  # "agent_turn" (>= 1.3) or "assistant_turn" (1.2)
    eou_after_user_turn: bool  # EOUMetrics arrive after user_turn ended (1.2): hold it
    nested_follow_up_turns: bool  # a tool follow-up is a nested turn outliving its parent (1.2)
    session_usage: bool  # AgentSession.usage / session_usage_updated exist (1.8)
    strips_pii: bool  # set_tracer_provider takes allow_pii: livekit strips content itself

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (stored with recorded span streams)."""
        return {f: getattr(self, f) for f in self.__slots__}  # type: ignore[attr-defined]


@cache
def livekit_profile() -> LivekitProfile:
    """The installed release's profile."""
    turn = agent_turn_span_name()
    old = turn == "assistant_turn"
    return LivekitProfile(
        turn_span_name=turn,
        eou_after_user_turn=not has_session_usage(),
        nested_follow_up_turns=old,
        session_usage=has_session_usage(),
        strips_pii=set_tracer_provider_accepts_allow_pii(),
    )
