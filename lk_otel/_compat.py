"""Everything that differs between livekit-agents releases, or reaches past a public API.

Supported: livekit-agents 1.2.x (oldest) to 1.8.x (newest). Every function here says why it
exists; nothing else in the package touches livekit internals.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal

from livekit.agents import telemetry
from opentelemetry.sdk.trace import Event, ReadableSpan

from . import semconv as sc


@cache
def livekit_version() -> tuple[int, int, int]:
    """The installed livekit-agents version as a tuple."""
    from livekit.agents import __version__

    return _parse(__version__)


# --- what each livekit-agents minor emits (issue 14) ----------------------------------
# Measured on the last patch of each minor with the simulated call (`lk-otel demo`, and
# tests/test_versions.py, which re-measures the installed release and compares), and read
# off that release's telemetry/trace_types.py and voice/agent_activity.py.

FollowUp = Literal["nested_turn", "sibling_turn", "same_turn"]
E2eSource = Literal["turn_span", "message_metrics", "eou_last_speaking"]
_LATENCY_E2E = sc.LK_E2E_LATENCY
_LATENCY_EOT = sc.LK_END_OF_TURN_DELAY
_LATENCY_EOU = sc.LK_END_OF_UTTERANCE_DELAY
_LATENCY_TRANSCRIPTION = sc.LK_TRANSCRIPTION_DELAY
_LATENCY_ON_UTC = sc.LK_ON_USER_TURN_COMPLETED_DELAY


@dataclass(frozen=True)
class ReleaseFacts:
    """What one livekit-agents minor puts on its spans and session, as data.

    ``follow_up``: how the LLM call that answers a tool call is traced. ``nested_turn``
    (1.2): an ``assistant_turn`` nested in the first, same ``lk.speech_id``, starting after
    its parent ended. ``sibling_turn`` (1.3-1.7): a second ``agent_turn`` under
    ``agent_session`` (not under the first), same ``lk.speech_id``, with
    ``lk.parent_generation_id`` = the first one's ``lk.generation_id``, starting when the
    first ends. ``same_turn`` (1.8): both ``llm_node`` s under one ``agent_turn``.

    ``e2e_source``: where livekit's end-to-end latency of a reply is. ``turn_span``:
    ``lk.e2e_latency`` on the turn span (1.5-1.7: on the generation that spoke first, which
    after a tool call is the follow-up). ``message_metrics`` (1.3, 1.4): only in the
    assistant ``ChatMessage.metrics["e2e_latency"]`` (``conversation_item_added``, emitted
    while that generation's ``agent_turn`` is the current span, before it ends).
    ``eou_last_speaking`` (1.2): none; agent audio start - ``EOUMetrics.last_speaking_time``.
    """

    minor: tuple[int, int]
    tested: str  # the patch release measured
    turn_span: str  # the agent turn's span name
    pii_prefix: str  # prefix of livekit's content keys (``lk.user_input`` / ``lk.pii.…``)
    turn_latency_keys: frozenset[str]  # livekit latency keys on the turn span
    user_turn_latency_keys: frozenset[str]  # … on ``user_turn`` (set before it ends)
    follow_up: FollowUp
    e2e_source: E2eSource
    session_usage: bool  # ``AgentSession.usage`` and ``session_usage_updated``
    message_metrics: bool  # ``ChatMessage.metrics``
    allow_pii_arg: bool  # ``set_tracer_provider(allow_pii=)``; else lk_otel strips content
    genai_metrics: bool  # livekit records the GenAI metric instruments itself
    lifecycle_spans: (
        bool  # ``session_start``/``session_close``/``eou_wait``/``on_user_turn_completed``
    )
    greeting_turn_span: bool  # a greeting ``say()`` runs in a turn span (1.2: under on_enter)
    closing_user_turn: bool  # ``aclose()`` commits one more, empty, ``user_turn``
    cache_read_key: bool  # ``llm_request`` has ``gen_ai.usage.cache_read.input_tokens``
    node_latency_keys: bool  # ``llm_node`` ``lk.response.ttft``, ``tts_node`` ``lk.response.ttfb``

    @property
    def eou_from_metrics(self) -> bool:
        """Per-turn end-of-turn, transcription and on_user_turn_completed delays come from
        ``EOUMetrics`` (``metrics_collected``, joined on ``speech_id`` = the turn's
        ``lk.speech_id``) and not from the turn span. EOUMetrics fires after ``user_turn``
        ended and before the answering turn ends."""
        return _LATENCY_EOT not in self.turn_latency_keys


_USER_1_3 = frozenset({_LATENCY_EOT, _LATENCY_TRANSCRIPTION})
_COMMON: dict[str, Any] = {
    "turn_span": "agent_turn",
    "pii_prefix": "lk.",
    "user_turn_latency_keys": _USER_1_3,
    "follow_up": "sibling_turn",
    "message_metrics": True,
    "allow_pii_arg": False,
    "genai_metrics": False,
    "lifecycle_spans": False,
    "greeting_turn_span": True,
    "closing_user_turn": False,
}
RELEASES: tuple[ReleaseFacts, ...] = (
    ReleaseFacts(
        minor=(1, 2),
        tested="1.2.18",
        turn_span="assistant_turn",
        pii_prefix="lk.",
        turn_latency_keys=frozenset(),
        user_turn_latency_keys=frozenset({_LATENCY_EOU, _LATENCY_TRANSCRIPTION}),
        follow_up="nested_turn",
        e2e_source="eou_last_speaking",
        session_usage=False,
        message_metrics=False,
        allow_pii_arg=False,
        genai_metrics=False,
        lifecycle_spans=False,
        greeting_turn_span=False,
        closing_user_turn=False,
        cache_read_key=False,
        node_latency_keys=False,
    ),
    ReleaseFacts(
        **_COMMON,
        minor=(1, 3),
        tested="1.3.12",
        turn_latency_keys=frozenset(),
        e2e_source="message_metrics",
        session_usage=False,
        cache_read_key=False,
        node_latency_keys=False,
    ),
    ReleaseFacts(
        **_COMMON,
        minor=(1, 4),
        tested="1.4.6",
        turn_latency_keys=frozenset(),
        e2e_source="message_metrics",
        session_usage=False,
        cache_read_key=False,
        node_latency_keys=False,
    ),
    ReleaseFacts(
        **_COMMON,
        minor=(1, 5),
        tested="1.5.17",
        turn_latency_keys=frozenset({_LATENCY_E2E}),
        e2e_source="turn_span",
        session_usage=True,
        cache_read_key=False,
        node_latency_keys=True,
    ),
    ReleaseFacts(
        **_COMMON,
        minor=(1, 6),
        tested="1.6.10",
        turn_latency_keys=frozenset({_LATENCY_E2E}),
        e2e_source="turn_span",
        session_usage=True,
        cache_read_key=False,
        node_latency_keys=True,
    ),
    ReleaseFacts(
        **{**_COMMON, "pii_prefix": "lk.pii."},
        minor=(1, 7),
        tested="1.7.1",
        turn_latency_keys=frozenset({_LATENCY_E2E}),
        e2e_source="turn_span",
        session_usage=True,
        cache_read_key=True,
        node_latency_keys=True,
    ),
    ReleaseFacts(
        minor=(1, 8),
        tested="1.8.9",
        turn_span="agent_turn",
        pii_prefix="lk.pii.",
        turn_latency_keys=frozenset(
            {_LATENCY_E2E, _LATENCY_EOT, _LATENCY_TRANSCRIPTION, _LATENCY_ON_UTC}
        ),
        user_turn_latency_keys=_USER_1_3,
        follow_up="same_turn",
        e2e_source="turn_span",
        session_usage=True,
        message_metrics=True,
        allow_pii_arg=True,
        genai_metrics=True,
        lifecycle_spans=True,
        greeting_turn_span=True,
        closing_user_turn=True,
        cache_read_key=True,
        node_latency_keys=True,
    ),
)
OLDEST_TESTED = RELEASES[0].tested
NEWEST_TESTED = RELEASES[-1].tested


def _parse(version: str) -> tuple[int, int, int]:
    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in version.split(".")]
    major, minor, patch = [*parts, 0, 0, 0][:3]
    return major, minor, patch


def facts_for(version: tuple[int, int, int]) -> ReleaseFacts:
    """The facts of ``version``'s minor; a newer minor than any measured gets the newest's
    (and :func:`note_untested_release` says so), an older one the oldest's."""
    by_minor = {r.minor: r for r in RELEASES}
    if version[:2] in by_minor:
        return by_minor[version[:2]]
    return RELEASES[-1] if version[:2] > RELEASES[-1].minor else RELEASES[0]


@cache
def release_facts() -> ReleaseFacts:
    """The facts of the installed livekit-agents."""
    return facts_for(livekit_version())


def is_newer_than_tested(version: tuple[int, int, int] | None = None) -> bool:
    """Whether ``version`` (default: the installed one) is newer than the newest tested."""
    return (version or livekit_version()) > _parse(NEWEST_TESTED)


def parent_generation(turn_attrs: Mapping[str, Any]) -> str | None:
    """The ``lk.generation_id`` a 1.3-1.7 tool follow-up ``agent_turn`` continues, else None.

    Set right after the span starts, so it is there at ``on_end``, not at ``on_start``.
    """
    value = turn_attrs.get(sc.LK_PARENT_GENERATION_ID)
    return str(value) if value else None


def message_e2e_latency(item: Any) -> float | None:
    """livekit's end-to-end latency on an assistant ``ChatMessage`` (``metrics`` dict, 1.3+),
    the only place 1.3 and 1.4 report it; None on 1.2 or when the message has none."""
    metrics = getattr(item, "metrics", None)
    value = metrics.get("e2e_latency") if isinstance(metrics, Mapping) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


_noted_untested = False


def note_untested_release(logger: logging.Logger | None = None) -> bool:
    """Log one info line, once per process, when livekit-agents is newer than lk_otel was
    tested with (never an error: the newest tested release's facts are used). True if it
    logged. Called by ``setup_tracing()``."""
    global _noted_untested
    if _noted_untested or not is_newer_than_tested():
        return False
    _noted_untested = True
    (logger or logging.getLogger("lk_otel")).info(
        "lk_otel: livekit-agents %s is newer than the newest release lk_otel was tested "
        "with (%s); tracing uses that release's span layout, check the turn attributes",
        ".".join(map(str, livekit_version())),
        NEWEST_TESTED,
    )
    return True


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


# What an AgentSession takes is read from the option types that came with each release, not
# from ``inspect.signature(AgentSession.__init__)``: another instrumentation may have wrapped
# that constructor without ``functools.wraps``, hiding its parameters.


@cache
def takes_turn_handling() -> bool:
    """1.8 takes one ``turn_handling`` dict (``voice.turn.TurnHandlingOptions``); older
    releases take flat keywords (1.2 has no ``voice.turn`` module at all)."""
    try:
        from livekit.agents.voice import turn
    except ImportError:
        return False
    return hasattr(turn, "TurnHandlingOptions")


@cache
def session_close_may_hang() -> bool:
    """Whether ``AgentSession.aclose()`` can wait forever after its call was cancelled.

    1.2 and 1.3: ``SpeechHandle.add_done_callback`` only stores the callback, never calling
    it for a handle already done, so when ``asyncio.run``'s teardown cancels livekit's own
    tasks with the call, ``aclose()`` awaits an interrupt that never resolves (measured on
    1.2.18 and 1.3.12 with and without tracing; 1.4.6 and 1.8.9 call back)."""
    return livekit_version() < (1, 4, 0)


def takes_aec_warmup() -> bool:
    """Whether AgentSession has ``aec_warmup_duration`` (a field of ``AgentSessionOptions``)."""
    from livekit.agents.voice import agent_session

    options_type = getattr(agent_session, "AgentSessionOptions", None)  # 1.2: VoiceOptions
    return "aec_warmup_duration" in getattr(options_type, "__dataclass_fields__", {})


def vad_endpointing_session_options(
    *,
    endpointing_delay: float,
    min_interruption_duration: float,
    false_interruption_timeout: float,
    preemptive_generation: bool | None = None,
) -> dict[str, Any]:
    """AgentSession keyword arguments for VAD endpointing without a turn-detector model.

    Turn detection is left unset (None): with a VAD and no turn-detector model every
    release then ends the user's turn by VAD silence plus ``endpointing_delay``.

    1.8 takes a ``turn_handling`` dict (its flat keywords are deprecated and log a warning)
    and otherwise defaults to a local turn-detector model and adaptive interruption, both
    needing downloads or a network; older releases only have the flat keywords. 1.8 also
    ignores user audio for 3 s after the agent starts speaking (AEC warm-up) unless told
    not to. ``preemptive_generation`` None keeps each release's default.
    """
    opts: dict[str, Any]
    if takes_turn_handling():
        handling: dict[str, Any] = {
            "turn_detection": None,
            "endpointing": {"min_delay": endpointing_delay},
            "interruption": {
                "mode": "vad",
                "min_duration": min_interruption_duration,
                "false_interruption_timeout": false_interruption_timeout,
            },
        }
        if preemptive_generation is not None:
            handling["preemptive_generation"] = {"enabled": preemptive_generation}
        opts = {"turn_handling": handling}
    else:
        opts = {
            "min_endpointing_delay": endpointing_delay,
            "min_interruption_duration": min_interruption_duration,
            "false_interruption_timeout": false_interruption_timeout,
        }
        if preemptive_generation is not None:
            opts["preemptive_generation"] = preemptive_generation
    if takes_aec_warmup():
        opts["aec_warmup_duration"] = None
    return opts


def realtime_turn_detection_options() -> dict[str, Any]:
    """AgentSession keywords for a realtime model's own (server-side) turn detection."""
    opts: dict[str, Any] = (
        {"turn_handling": {"turn_detection": "realtime_llm"}}
        if takes_turn_handling()
        else {"turn_detection": "realtime_llm"}
    )
    if takes_aec_warmup():
        opts["aec_warmup_duration"] = None
    return opts


def agent_name_kwargs(agent_name: str) -> dict[str, Any]:
    """Agent keyword arguments that name an Agent subclass (``lk.agent_label``).

    1.8 takes ``id=`` (and has an ``id`` property); 1.2 derives the label from the class
    path and has no such argument.
    """
    from livekit.agents import Agent

    if isinstance(vars(Agent).get("id"), property):
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
    session_usage: bool  # AgentSession.usage / session_usage_updated exist (1.5+)
    strips_pii: bool  # set_tracer_provider takes allow_pii: livekit strips content itself
    # a tool follow-up is a sibling turn span continuing the first (1.3-1.7); defaulted so
    # that profiles recorded before it load unchanged
    sibling_follow_up_turns: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (stored with recorded span streams)."""
        return {f: getattr(self, f) for f in self.__slots__}  # type: ignore[attr-defined]


@cache
def livekit_profile() -> LivekitProfile:
    """The installed release's profile (what the public API shows, the rest from its facts)."""
    return replace(
        profile_for(release_facts()),
        turn_span_name=agent_turn_span_name(),
        session_usage=has_session_usage(),
        strips_pii=set_tracer_provider_accepts_allow_pii(),
    )


def profile_for(facts: ReleaseFacts) -> LivekitProfile:
    """The correlator profile of a release, from its facts.

    A user turn is held for late EOU metrics only where its span does not carry livekit's
    end-of-turn delay itself (1.2 names it ``lk.end_of_utterance_delay`` and reports the
    turn's EOU metrics after the span ended; 1.3+ sets ``lk.end_of_turn_delay`` on it).
    """
    return LivekitProfile(
        turn_span_name=facts.turn_span,
        eou_after_user_turn=_LATENCY_EOT not in facts.user_turn_latency_keys,
        nested_follow_up_turns=facts.follow_up == "nested_turn",
        session_usage=facts.session_usage,
        strips_pii=facts.allow_pii_arg,
        sibling_follow_up_turns=facts.follow_up == "sibling_turn",
    )


def grpc_exporter_without_retry(exporter_cls: type) -> dict[str, Any]:
    """Keyword arguments that turn off the official gRPC span exporter's own retry loop.

    SDK 1.40+ takes ``retryable_error_codes``: a truthy, empty iterable means "retry on no
    code" (an empty tuple would mean the default codes). SDK 1.39 (livekit-agents 1.3-1.5
    pin it) has no such argument: its exporter keeps its own back-off there.
    """
    if "retryable_error_codes" in inspect.signature(exporter_cls.__init__).parameters:
        return {"retryable_error_codes": iter(())}
    return {}
