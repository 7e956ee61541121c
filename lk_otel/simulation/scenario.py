"""The script of a simulated call: pydantic models, validated from data or a JSON file.

A scenario is a mapping (or a JSON file) with snake_case keys; every duration is in
seconds. Unknown keys, wrong types and absurd values raise :class:`ScenarioError` naming
the key with its path (``turns[2].llm[0].ttft: must be >= 0``); missing optional keys get
the defaults of the models below. The JSON Schema of the format is
``scenarios/scenario.schema.json`` (``python -m lk_otel.simulation.schema`` rewrites it).

``ttft``/``duration`` run from the LLM request; ``ttfb`` from the first text the TTS
receives; ``stt_delay`` from the end of the user's speech to the final transcript. A
user turn starts, by default, ``USER_RESPONSE_GAP`` after the agent's previous reply has
played; ``user.start`` moves it relative to that reply (its first LLM request, its first
audio, or the end of its audio), so the user can talk over the agent or while it thinks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

# livekit's default minimum interruption duration (s): user speech shorter than this
# does not interrupt the agent. The simulation passes it to the session (scaled by speed).
MIN_INTERRUPTION_DURATION = 0.5
# how long the simulated user waits after the agent stops talking before speaking (s)
USER_RESPONSE_GAP = 0.4

DEFAULT_ENDPOINTING_DELAY = 0.5
DEFAULT_STT_DELAY = 0.25
DEFAULT_TTFT = 0.5
DEFAULT_TTFB = 0.25
DEFAULT_INPUT_TOKENS = 500
DEFAULT_INSTRUCTIONS = "You are a helpful voice assistant. Keep answers short."
# the largest values a script may ask for: beyond them a value is a typo, not a call
MAX_SECONDS = 3600.0
MAX_TOKENS = 10_000_000  # per LLM request; the largest context windows hold ~2M
_WORDS_PER_SECOND_SPOKEN = 2.6  # default speech / audio length from the words of a text
_SECONDS_PER_OUTPUT_TOKEN = 0.02  # default LLM duration after the first token

Seconds = Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
Tokens = Annotated[int, Field(strict=True, ge=0, le=MAX_TOKENS)]
Text = Annotated[str, Field(strict=True)]


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the offending key and its path."""


class KeyedError(ValueError):
    """Raised inside a validator: the error belongs to ``key`` (a path below the model);
    ``scenario_load`` puts the key in the message."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def _fill(self, **values: Any) -> None:
        """Set derived defaults in an after-validator (the model is frozen afterwards)."""
        for name, value in values.items():
            object.__setattr__(self, name, value)


def _spoken_seconds(text: str) -> float:
    return round(max(0.6, len(text.split()) / _WORDS_PER_SECOND_SPOKEN), 3)


def _estimated_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


class ModelRef(_Model):
    """Provider and model name a fake plugin reports (keys of ``session.usage``)."""

    provider: Text = "lk-otel-sim"
    model: Text


class ReportsModel:
    """Mixin for the fake plugins: the ``model``/``provider`` livekit keys usage by.

    Put it before the livekit base class; the plugin sets ``self._model``.
    """

    _model: ModelRef

    @property
    def model(self) -> str:
        return self._model.model

    @property
    def provider(self) -> str:
        return self._model.provider


class Models(_Model):
    """The provider/model each fake plugin reports."""

    llm: ModelRef = ModelRef(model="scripted-llm")
    stt: ModelRef = ModelRef(model="scripted-stt")
    tts: ModelRef = ModelRef(model="scripted-tts")

    @model_validator(mode="before")
    @classmethod
    def _default_model_names(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = dict(data)
            for kind in ("llm", "stt", "tts"):
                ref = data.get(kind)
                if isinstance(ref, Mapping) and "model" not in ref:
                    data[kind] = {**ref, "model": f"scripted-{kind}"}
        return data


class Handoff(_Model):
    """The built-in tool hands the call to another agent (its name and instructions); the
    new agent answers in the same turn, with the next scripted LLM call."""

    agent: Text = Field(min_length=1)
    instructions: Text = DEFAULT_INSTRUCTIONS


class ToolCall(_Model):
    """A function call the LLM makes.

    The built-in agent's tool takes ``duration`` and returns ``result``; ``result: null``
    makes it return None, and livekit then asks the LLM for no reply (the turn ends
    silently, unless another tool of the same call returns something). With ``handoff`` it
    returns a new agent instead: livekit switches to it, and it answers the turn. A user's own agent
    (``run_scenario(agent=…)``) runs its real tool instead: ``result`` and ``duration``
    are then ignored.
    """

    name: Text = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: Text | None = "ok"
    duration: Seconds = 0.0
    handoff: Handoff | None = None

    @field_validator("result", mode="before")
    @classmethod
    def _json_result(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        try:
            return json.dumps(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"not JSON-serializable: {e}") from e

    @field_validator("arguments")
    @classmethod
    def _json_arguments(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"not JSON-serializable: {e}") from e
        return value


class Failure(_Model):
    """A provider error ``at`` seconds into a request (non-retryable: livekit gives up)."""

    at: Seconds = 0.0
    message: Text = "scripted provider error"


def _default_output_tokens(data: dict[str, Any]) -> int:
    text = data.get("text") or ""
    tokens = _estimated_tokens(text) if text else 0
    for call in data.get("tool_calls") or ([data["tool_call"]] if data.get("tool_call") else []):
        tokens += _estimated_tokens(json.dumps(call.arguments)) + 5
    return tokens


def _default_duration(data: dict[str, Any]) -> float:
    ttft = data.get("ttft", DEFAULT_TTFT)
    return min(MAX_SECONDS, ttft + _SECONDS_PER_OUTPUT_TOKEN * data.get("output_tokens", 0))


class LLMCall(_Model):
    """One LLM request: first chunk after ``ttft``, last chunk and usage at ``duration``.

    It speaks ``text``, calls ``tool_call`` (or several tools at once, ``tool_calls``),
    or fails with ``error`` (then it has neither, and no usage is reported).
    """

    text: Text = ""
    tool_call: ToolCall | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: Tokens = DEFAULT_INPUT_TOKENS
    output_tokens: Tokens = Field(default_factory=_default_output_tokens)
    cached_input_tokens: Tokens = 0
    ttft: Seconds = DEFAULT_TTFT
    duration: Seconds = Field(default_factory=_default_duration)
    error: Failure | None = None

    @property
    def tools(self) -> tuple[ToolCall, ...]:
        """Every tool this call asks for (``tool_call`` or ``tool_calls``)."""
        return (self.tool_call,) if self.tool_call is not None else self.tool_calls

    @property
    def wants_reply(self) -> bool:
        """Whether an LLM call follows this call's tools: livekit asks for one when a tool
        returns a result (not None); after a handoff the new agent answers."""
        return any(tool.result is not None or tool.handoff for tool in self.tools)

    @model_validator(mode="after")
    def _consistent(self) -> LLMCall:
        if self.tool_call is not None and self.tool_calls:
            raise KeyedError("tool_calls", "give tool_call or tool_calls, not both")
        if self.error is not None:
            if self.text or self.tools:
                raise KeyedError("error", "a failing call has no text or tool calls")
        elif not self.text.strip() and not self.tools:
            raise KeyedError("text", "a call without tool_call needs text")
        if self.cached_input_tokens > self.input_tokens:
            raise KeyedError(
                "cached_input_tokens",
                f"{self.cached_input_tokens} exceeds input_tokens {self.input_tokens}",
            )
        if self.duration < self.ttft:
            raise KeyedError("duration", f"{self.duration} is shorter than ttft {self.ttft}")
        return self


class TTSCall(_Model):
    """One synthesis: first audio ``ttfb`` after the first text, ``audio_duration`` of audio.

    ``audio_duration`` defaults to the spoken length of the text; ``error`` fails the
    synthesis ``error.at`` seconds after its first text, before any audio.
    """

    ttfb: Seconds = DEFAULT_TTFB
    audio_duration: Annotated[Seconds, Field(gt=0)] | None = None
    error: Failure | None = None

    def for_text(self, text: str) -> TTSCall:
        """This entry with the default audio length of ``text`` filled in."""
        if self.audio_duration is not None:
            return self
        return self.model_copy(update={"audio_duration": _spoken_seconds(text)})


Anchor = Literal["agent_audio_start", "agent_audio_end", "llm_request_start"]


class SpeechStart(_Model):
    """When the user starts speaking: ``offset`` seconds after an event of the agent's
    previous reply (the greeting for the first turn): its first LLM request, its first
    audio, or the end of its audio (the first turn of a call without a greeting: after
    the session started)."""

    after: Anchor = "agent_audio_end"
    offset: Seconds = USER_RESPONSE_GAP
    call: Annotated[int, Field(strict=True, ge=0)] = 0
    """With ``llm_request_start``: which LLM call of that reply (1: a tool call's follow-up)."""


class Interim(_Model):
    """An interim transcript ``at`` seconds into the user's speech."""

    at: Seconds
    text: Text


class UserSpeech(_Model):
    """What the user says: ``speech_duration`` of audio, final transcript ``stt_delay`` later.

    ``interim`` lists the interim transcripts (default: the first half of the words,
    halfway through the speech); ``start`` moves the speech relative to the agent's
    previous reply.
    """

    text: Text = Field(min_length=1, pattern=r"\S")
    speech_duration: Annotated[Seconds, Field(gt=0)] = Field(
        default_factory=lambda data: _spoken_seconds(data.get("text") or "")
    )
    stt_delay: Seconds = DEFAULT_STT_DELAY
    interim: tuple[Interim, ...] | None = None
    start: SpeechStart | None = None

    @property
    def interim_results(self) -> tuple[Interim, ...]:
        """The interim transcripts the STT sends, defaults applied."""
        if self.interim is not None:
            return self.interim
        words = self.text.split()
        half = " ".join(words[: max(1, len(words) // 2)])
        return (Interim(at=self.speech_duration / 2, text=half),)

    @model_validator(mode="after")
    def _interims_inside(self) -> UserSpeech:
        for i, interim in enumerate(self.interim or ()):
            if interim.at > self.speech_duration:
                raise KeyedError(
                    f"interim[{i}].at",
                    f"{interim.at:g} is after the end of the speech ({self.speech_duration:g} s)",
                )
        return self


class Blip(_Model):
    """Noise from the user (a cough, a short "hm") ``at`` seconds into the agent's reply,
    too short (< livekit's minimum interruption duration) to interrupt it; no transcript."""

    at: Seconds
    duration: Annotated[Seconds, Field(gt=0, lt=MIN_INTERRUPTION_DURATION)]


class Turn(_Model):
    """A user utterance and the agent's reply (one TTS entry per LLM call that speaks)."""

    user: UserSpeech
    llm: tuple[LLMCall, ...] = Field(min_length=1)
    tts: tuple[TTSCall, ...] = Field(default=(), validate_default=True)
    interrupt_after: Seconds | None = None
    blips: tuple[Blip, ...] = ()

    @property
    def speaking_calls(self) -> tuple[LLMCall, ...]:
        """The LLM calls with text, in order; ``tts[i]`` voices ``speaking_calls[i]``."""
        return tuple(call for call in self.llm if call.text)

    @property
    def speaks(self) -> bool:
        """Whether the reply plays any audio (some call speaks and its synthesis works)."""
        return any(entry.error is None for entry in self.tts)

    @field_validator("llm", mode="before")
    @classmethod
    def _one_call(cls, value: Any) -> Any:
        return [value] if isinstance(value, Mapping) else value

    @field_validator("tts", mode="before")
    @classmethod
    def _one_entry_per_speaking_call(cls, value: Any, info: ValidationInfo) -> Any:
        calls = info.data.get("llm")
        if calls is None:  # the llm list is invalid: that error is reported
            return () if value is None or isinstance(value, Mapping) else value
        speaking = sum(1 for call in calls if call.text)
        if value is None or value == () or isinstance(value, Mapping):
            entry = TTSCall.model_validate(value or {})
            return [entry] * speaking
        if isinstance(value, (list, tuple)) and len(value) != speaking:
            raise ValueError(
                f"{len(value)} entries for {speaking} LLM call(s) with text "
                "(one entry per LLM call that speaks)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Turn:
        for i, call in enumerate(self.llm):
            last = i == len(self.llm) - 1
            if call.error is not None and not last:
                raise KeyedError(f"llm[{i + 1}]", "a failed LLM call ends the turn")
            if last and call.tools and call.wants_reply:
                raise KeyedError(
                    f"llm[{i}].tool_call" if call.tool_call else f"llm[{i}].tool_calls",
                    "livekit calls the LLM again after a tool call that returns a result; "
                    "add the follow-up call after it (or make every result null)",
                )
            if not last and not (call.tools and call.wants_reply):
                raise KeyedError(
                    f"llm[{i + 1}]",
                    "only a call with a tool_call that returns a result is followed by "
                    "another LLM call in the same turn",
                )
        texts = [call.text for call in self.llm if call.text]
        self._fill(tts=tuple(e.for_text(t) for e, t in zip(self.tts, texts, strict=True)))
        if self.interrupt_after is not None:
            if not self.tts or self.tts[0].error is not None:
                raise KeyedError("interrupt_after", "the reply plays no audio to interrupt")
            assert self.tts[0].audio_duration is not None
            limit = self.tts[0].audio_duration - MIN_INTERRUPTION_DURATION
            if not 0 < self.interrupt_after < limit:
                raise KeyedError(
                    "interrupt_after",
                    f"must be > 0 and < {limit:g} s (the first spoken audio, "
                    f"{self.tts[0].audio_duration:g} s, minus livekit's "
                    f"{MIN_INTERRUPTION_DURATION:g} s minimum interruption duration)",
                )
        audio = self.tts[0].audio_duration if self.tts and self.tts[0].error is None else None
        for i, blip in enumerate(self.blips):
            if audio is None:
                raise KeyedError(f"blips[{i}]", "the reply plays no audio to talk over")
            if blip.at + blip.duration >= audio:
                raise KeyedError(
                    f"blips[{i}].at",
                    f"the blip must end within the first spoken audio ({audio:g} s)",
                )
        return self


class Greeting(_Model):
    """What the agent says first: ``say`` (TTS only) or ``generate`` (an LLM call, then TTS).

    ``by_agent``: the agent's own ``on_enter`` speaks it (a user's agent that greets by
    itself); the simulation then only scripts the greeting's LLM and TTS timing. Otherwise
    the simulation has the session say or generate it when the agent enters.
    """

    text: Text = Field(min_length=1, pattern=r"\S")
    mode: Literal["say", "generate"] = "say"
    llm: LLMCall | None = None
    tts: TTSCall = TTSCall()
    by_agent: bool = False

    @model_validator(mode="before")
    @classmethod
    def _llm_speaks_the_text(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        if data.get("mode", "say") != "generate":
            if data.get("llm") is not None:
                raise KeyedError("llm", "only allowed with mode 'generate'")
            return data
        llm = data.get("llm") or {}
        if isinstance(llm, Mapping):
            text = data.get("text")
            if "text" in llm and llm["text"] != text:
                raise KeyedError("llm.text", "the greeting's LLM speaks greeting.text")
            data = {**data, "llm": {**llm, "text": text}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Greeting:
        if self.llm is not None and (self.llm.tools or self.llm.error):
            raise KeyedError("llm", "a greeting's LLM call only speaks")
        self._fill(tts=self.tts.for_text(self.text))
        return self


class Scenario(_Model):
    """A validated script of one simulated call."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str | None = Field(default=None, alias="$schema", exclude=True)
    name: Text = "scenario"
    instructions: Text = DEFAULT_INSTRUCTIONS
    greeting: Greeting | None = None
    endpointing_delay: Annotated[Seconds, Field(gt=0)] = DEFAULT_ENDPOINTING_DELAY
    models: Models = Models()
    turns: tuple[Turn, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        for i, turn in enumerate(self.turns):
            start = turn.user.start
            previous = self.turns[i - 1] if i > 0 else None
            if start is not None and previous is not None and previous.interrupt_after:
                raise KeyedError(
                    f"turns[{i}].user.start",
                    f"turns[{i - 1}].interrupt_after already starts this speech",
                )
            if start is not None and start.after != "agent_audio_end":
                reply_speaks = previous.speaks if previous else self.greeting is not None
                if start.after == "llm_request_start":
                    calls = (
                        len(previous.llm)
                        if previous
                        else int(bool(self.greeting and self.greeting.llm))
                    )
                    if start.call >= calls:
                        raise KeyedError(
                            f"turns[{i}].user.start.after", "the previous reply has no LLM call"
                        )
                elif not reply_speaks:
                    raise KeyedError(
                        f"turns[{i}].user.start.after", "the previous reply plays no audio"
                    )
            interrupts = (previous is not None and previous.interrupt_after is not None) or (
                start is not None and start.after != "agent_audio_end"
            )
            if interrupts and turn.user.speech_duration <= MIN_INTERRUPTION_DURATION:
                raise KeyedError(
                    f"turns[{i}].user.speech_duration",
                    "the interrupting speech must last more than livekit's "
                    f"{MIN_INTERRUPTION_DURATION:g} s minimum interruption duration",
                )
            if previous is not None and previous.blips:
                talks_over = previous.interrupt_after
                if start is not None and start.after == "agent_audio_start":
                    talks_over = start.offset
                last_blip = max(b.at + b.duration for b in previous.blips)
                if talks_over is not None and talks_over < last_blip:
                    raise KeyedError(
                        f"turns[{i}].user.start.offset",
                        f"the user speaks {talks_over:g} s into the reply, during "
                        f"turns[{i - 1}].blips (they end at {last_blip:g} s)",
                    )
            if turn.interrupt_after is not None and i == len(self.turns) - 1:
                raise KeyedError(
                    f"turns[{i}].interrupt_after",
                    "the last turn has no next user turn to interrupt with",
                )
        return self

    def scaled(self, speed: float) -> Scenario:
        """The same scenario with every delay and duration divided by ``speed``."""
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        return _scale(self, 1.0 / speed)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (what ``load_scenario`` accepts back)."""
        return self.model_dump(mode="json", by_alias=True)


# every duration a speed factor scales (token counts, texts and anchors stay)
_TIME_FIELDS = frozenset(
    {
        "ttft",
        "duration",
        "ttfb",
        "audio_duration",
        "speech_duration",
        "stt_delay",
        "interrupt_after",
        "endpointing_delay",
        "offset",
        "at",
    }
)


def _scale(obj: Any, factor: float) -> Any:
    if isinstance(obj, tuple):
        return tuple(_scale(v, factor) for v in obj)
    if not isinstance(obj, BaseModel):
        return obj
    changes: dict[str, Any] = {}
    for name in type(obj).model_fields:
        value = getattr(obj, name)
        if name in _TIME_FIELDS and isinstance(value, float):
            changes[name] = value * factor
        elif isinstance(value, (BaseModel, tuple)):
            changes[name] = _scale(value, factor)
    return obj.model_copy(update=changes)
