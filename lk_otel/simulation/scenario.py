"""The script of a simulated call: data in, validated frozen dataclasses out.

A scenario is a mapping (or a JSON file) with snake_case keys; every duration is in
seconds. Unknown keys raise :class:`ScenarioError` naming the key with its path
(``turns[2].llm[0].ttfx``); missing optional keys get the defaults below.

Keys (``*`` required)::

    name, instructions                  labels; instructions go to the Agent
    greeting: {text*, mode: say|generate, tts: {ttfb, audio_duration},
               llm: {ttft, duration, input_tokens, output_tokens, cached_input_tokens}}
    endpointing_delay                   livekit's minimum end-of-turn delay (0.5)
    models: {llm|stt|tts: {provider, model}}
    turns*: [{
        user*: {text*, speech_duration, stt_delay},
        llm*: [{ttft, duration, text, input_tokens, output_tokens, cached_input_tokens,
                tool_call: {name*, arguments, result}}],   # a tool call is followed
        tts: {ttfb, audio_duration} | [one per LLM call with text],  # by another call
        interrupt_after,   # the user starts the next turn this far into the agent's speech
    }]

``ttft``/``duration`` run from the LLM request; ``ttfb`` from the first text the TTS
receives; ``stt_delay`` from the end of the user's speech to the final transcript.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

# livekit's default minimum interruption duration (s): user speech shorter than this
# does not interrupt the agent. The simulation passes it to the session (scaled by speed).
MIN_INTERRUPTION_DURATION = 0.5

DEFAULT_ENDPOINTING_DELAY = 0.5
DEFAULT_STT_DELAY = 0.25
DEFAULT_TTFT = 0.5
DEFAULT_TTFB = 0.25
DEFAULT_INPUT_TOKENS = 500
DEFAULT_INSTRUCTIONS = "You are a helpful voice assistant. Keep answers short."
_WORDS_PER_SECOND_SPOKEN = 2.6  # default speech / audio length from the words of a text
_SECONDS_PER_OUTPUT_TOKEN = 0.02  # default LLM duration after the first token


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the offending key and its path."""


@dataclass(frozen=True)
class ModelRef:
    """Provider and model name a fake plugin reports (keys of ``session.usage``)."""

    provider: str
    model: str


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


@dataclass(frozen=True)
class Models:
    llm: ModelRef = ModelRef("lk-otel-sim", "scripted-llm")
    stt: ModelRef = ModelRef("lk-otel-sim", "scripted-stt")
    tts: ModelRef = ModelRef("lk-otel-sim", "scripted-tts")


@dataclass(frozen=True)
class ToolCall:
    """A function call the LLM makes; the simulated tool returns ``result``."""

    name: str
    arguments: Mapping[str, Any]
    result: str


@dataclass(frozen=True)
class LLMCall:
    """One LLM request: first chunk after ``ttft``, last chunk and usage at ``duration``."""

    ttft: float
    duration: float
    text: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    tool_call: ToolCall | None = None


@dataclass(frozen=True)
class TTSCall:
    """One synthesis: first audio ``ttfb`` after the first text, ``audio_duration`` of audio."""

    ttfb: float
    audio_duration: float


@dataclass(frozen=True)
class UserSpeech:
    """What the user says: ``speech_duration`` of audio, final transcript ``stt_delay`` later."""

    text: str
    speech_duration: float
    stt_delay: float


@dataclass(frozen=True)
class Turn:
    """A user utterance and the agent's reply (one TTS entry per LLM call that speaks)."""

    user: UserSpeech
    llm: tuple[LLMCall, ...]
    tts: tuple[TTSCall, ...]
    interrupt_after: float | None = None

    @property
    def speaking_calls(self) -> tuple[LLMCall, ...]:
        """The LLM calls with text, in order; ``tts[i]`` voices ``speaking_calls[i]``."""
        return tuple(call for call in self.llm if call.text)


@dataclass(frozen=True)
class Greeting:
    """What the agent says first: ``say`` (TTS only) or ``generate`` (an LLM call, then TTS)."""

    text: str
    mode: Literal["say", "generate"]
    tts: TTSCall
    llm: LLMCall | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated script of one simulated call."""

    turns: tuple[Turn, ...]
    greeting: Greeting | None = None
    endpointing_delay: float = DEFAULT_ENDPOINTING_DELAY
    models: Models = field(default_factory=Models)
    name: str = "scenario"
    instructions: str = DEFAULT_INSTRUCTIONS

    def scaled(self, speed: float) -> Scenario:
        """The same scenario with every delay and duration divided by ``speed``."""
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        return _scale(self, 1.0 / speed)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (what :func:`load_scenario` accepts back)."""
        data = dataclasses.asdict(self)
        for turn in data["turns"]:
            if turn["interrupt_after"] is None:
                del turn["interrupt_after"]
            for call in turn["llm"]:
                if call["tool_call"] is None:
                    del call["tool_call"]
                else:
                    call["tool_call"]["arguments"] = dict(call["tool_call"]["arguments"])
        if data["greeting"] is None:
            del data["greeting"]
        elif data["greeting"]["llm"] is None:
            del data["greeting"]["llm"]
        else:
            del data["greeting"]["llm"]["text"]
            del data["greeting"]["llm"]["tool_call"]
        return data


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
    }
)


def _scale(obj: Any, factor: float) -> Any:
    if not dataclasses.is_dataclass(obj):
        return obj
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.name in _TIME_FIELDS and isinstance(value, float):
            changes[f.name] = value * factor
        elif isinstance(value, tuple):
            changes[f.name] = tuple(_scale(v, factor) for v in value)
        elif dataclasses.is_dataclass(value):
            changes[f.name] = _scale(value, factor)
    return dataclasses.replace(obj, **changes)


# --- loading and validation ----------------------------------------------------------


def load_scenario(source: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> Scenario:
    """Validate a scenario from a mapping, a JSON file path or JSON text; None → default.

    Raises :class:`ScenarioError` naming the offending key with its path.
    """
    if source is None:
        text = resources.files(__package__).joinpath("scenarios/default.json").read_text()
        return _parse_scenario(_json(text, "default.json"))
    if isinstance(source, Mapping):
        return _parse_scenario(source)
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return _parse_scenario(_json(source, "<json text>"))
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(f"cannot read scenario file {str(path)!r}: {e}") from e
    return _parse_scenario(_json(text, str(path)))


def _json(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioError(f"{origin}: invalid JSON: {e}") from e


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _mapping(value: Any, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{path or 'scenario'}: expected an object, got {type(value).__name__}")
    for key in value:
        if key not in allowed:
            raise ScenarioError(
                f"{_join(path, str(key))}: unknown key {key!r} (allowed: {', '.join(allowed)})"
            )
    return value


def _seconds(data: Mapping[str, Any], key: str, path: str, default: float | None) -> float:
    where = _join(path, key)
    if key not in data:
        if default is None:
            raise ScenarioError(f"{where}: required")
        return float(default)
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{where}: expected a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ScenarioError(f"{where}: must be a finite number >= 0, got {value!r}")
    return float(value)


def _count(data: Mapping[str, Any], key: str, path: str, default: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError(f"{_join(path, key)}: expected an integer >= 0, got {value!r}")
    return value


def _text(data: Mapping[str, Any], key: str, path: str, default: str | None) -> str:
    if key not in data:
        if default is None:
            raise ScenarioError(f"{_join(path, key)}: required")
        return default
    value = data[key]
    if not isinstance(value, str):
        raise ScenarioError(f"{_join(path, key)}: expected a string, got {value!r}")
    return value


def _spoken_seconds(text: str) -> float:
    return round(max(0.6, len(text.split()) / _WORDS_PER_SECOND_SPOKEN), 3)


def _estimated_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


_MODEL_KEYS = ("provider", "model")


def _parse_models(value: Any, path: str) -> Models:
    data = _mapping(value, path, ("llm", "stt", "tts"))
    defaults = Models()
    refs: dict[str, ModelRef] = {}
    for kind in ("llm", "stt", "tts"):
        default: ModelRef = getattr(defaults, kind)
        if kind not in data:
            refs[kind] = default
            continue
        sub_path = _join(path, kind)
        sub = _mapping(data[kind], sub_path, _MODEL_KEYS)
        refs[kind] = ModelRef(
            provider=_text(sub, "provider", sub_path, default.provider),
            model=_text(sub, "model", sub_path, default.model),
        )
    return Models(**refs)


_TOOL_KEYS = ("name", "arguments", "result")


def _parse_tool_call(value: Any, path: str) -> ToolCall:
    data = _mapping(value, path, _TOOL_KEYS)
    name = _text(data, "name", path, None)
    if not name.isidentifier():
        raise ScenarioError(f"{_join(path, 'name')}: must be an identifier, got {name!r}")
    arguments = data.get("arguments", {})
    if not isinstance(arguments, Mapping) or not all(isinstance(k, str) for k in arguments):
        raise ScenarioError(f"{_join(path, 'arguments')}: expected an object, got {arguments!r}")
    result = data.get("result", "ok")
    if not isinstance(result, str):
        try:
            result = json.dumps(result)
        except (TypeError, ValueError) as e:
            raise ScenarioError(f"{_join(path, 'result')}: not JSON-serializable: {e}") from e
    return ToolCall(name=name, arguments=dict(arguments), result=result)


_LLM_KEYS = (
    "ttft",
    "duration",
    "text",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "tool_call",
)


def _parse_llm_call(value: Any, path: str, *, text: str | None = None) -> LLMCall:
    allowed = _LLM_KEYS if text is None else _LLM_KEYS[:2] + _LLM_KEYS[3:6]
    data = _mapping(value, path, allowed)
    tool_call = (
        _parse_tool_call(data["tool_call"], _join(path, "tool_call"))
        if ("tool_call" in data)
        else None
    )
    if text is None:
        text = _text(data, "text", path, "" if tool_call else None)
    if not text.strip() and tool_call is None:
        raise ScenarioError(f"{_join(path, 'text')}: a call without tool_call needs text")
    default_out = _estimated_tokens(text) if text else 0
    if tool_call is not None:
        default_out += _estimated_tokens(json.dumps(dict(tool_call.arguments))) + 5
    output_tokens = _count(data, "output_tokens", path, default_out)
    input_tokens = _count(data, "input_tokens", path, DEFAULT_INPUT_TOKENS)
    cached = _count(data, "cached_input_tokens", path, 0)
    if cached > input_tokens:
        raise ScenarioError(
            f"{_join(path, 'cached_input_tokens')}: {cached} exceeds input_tokens {input_tokens}"
        )
    ttft = _seconds(data, "ttft", path, DEFAULT_TTFT)
    duration = _seconds(data, "duration", path, ttft + _SECONDS_PER_OUTPUT_TOKEN * output_tokens)
    if duration < ttft:
        raise ScenarioError(f"{_join(path, 'duration')}: {duration} is shorter than ttft {ttft}")
    return LLMCall(
        ttft=ttft,
        duration=duration,
        text=text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached,
        tool_call=tool_call,
    )


_TTS_KEYS = ("ttfb", "audio_duration")


def _parse_tts_call(value: Any, path: str, text: str) -> TTSCall:
    data = _mapping(value, path, _TTS_KEYS)
    audio_duration = _seconds(data, "audio_duration", path, _spoken_seconds(text))
    if audio_duration <= 0:
        raise ScenarioError(f"{_join(path, 'audio_duration')}: must be > 0")
    return TTSCall(ttfb=_seconds(data, "ttfb", path, DEFAULT_TTFB), audio_duration=audio_duration)


def _parse_tts_list(value: Any, path: str, texts: Sequence[str]) -> tuple[TTSCall, ...]:
    if value is None or isinstance(value, Mapping):
        entry = value if value is not None else {}
        return tuple(_parse_tts_call(entry, path, text) for text in texts)
    if not isinstance(value, (list, tuple)):
        raise ScenarioError(f"{path}: expected an object or a list, got {value!r}")
    if len(value) != len(texts):
        raise ScenarioError(
            f"{path}: {len(value)} entries for {len(texts)} LLM call(s) with text "
            "(one entry per LLM call that speaks)"
        )
    return tuple(
        _parse_tts_call(entry, _join(path, i), text)
        for i, (entry, text) in enumerate(zip(value, texts, strict=True))
    )


_USER_KEYS = ("text", "speech_duration", "stt_delay")


def _parse_user(value: Any, path: str) -> UserSpeech:
    data = _mapping(value, path, _USER_KEYS)
    text = _text(data, "text", path, None)
    if not text.strip():
        raise ScenarioError(f"{_join(path, 'text')}: must not be empty")
    speech_duration = _seconds(data, "speech_duration", path, _spoken_seconds(text))
    if speech_duration <= 0:
        raise ScenarioError(f"{_join(path, 'speech_duration')}: must be > 0")
    return UserSpeech(
        text=text,
        speech_duration=speech_duration,
        stt_delay=_seconds(data, "stt_delay", path, DEFAULT_STT_DELAY),
    )


_TURN_KEYS = ("user", "llm", "tts", "interrupt_after")


def _parse_turn(value: Any, path: str) -> Turn:
    data = _mapping(value, path, _TURN_KEYS)
    if "user" not in data:
        raise ScenarioError(f"{_join(path, 'user')}: required")
    user = _parse_user(data["user"], _join(path, "user"))
    raw_llm = data.get("llm")
    llm_path = _join(path, "llm")
    if raw_llm is None:
        raise ScenarioError(f"{llm_path}: required (a list of one or more LLM calls)")
    if isinstance(raw_llm, Mapping):
        raw_llm = [raw_llm]
    if not isinstance(raw_llm, (list, tuple)) or not raw_llm:
        raise ScenarioError(f"{llm_path}: expected a non-empty list of LLM calls")
    calls = tuple(_parse_llm_call(c, _join(llm_path, i)) for i, c in enumerate(raw_llm))
    for i, call in enumerate(calls):
        last = i == len(calls) - 1
        if last and call.tool_call is not None:
            raise ScenarioError(
                f"{_join(_join(llm_path, i), 'tool_call')}: livekit calls the LLM again after "
                "a tool call; add the follow-up call after it"
            )
        if not last and call.tool_call is None:
            raise ScenarioError(
                f"{_join(llm_path, i + 1)}: only a call with a tool_call is followed by "
                "another LLM call in the same turn"
            )
    if not calls[-1].text.strip():
        raise ScenarioError(f"{_join(_join(llm_path, len(calls) - 1), 'text')}: required")
    texts = [c.text for c in calls if c.text]
    tts = _parse_tts_list(data.get("tts"), _join(path, "tts"), texts)
    interrupt_after = None
    if "interrupt_after" in data and data["interrupt_after"] is not None:
        interrupt_after = _seconds(data, "interrupt_after", path, None)
        limit = tts[0].audio_duration - MIN_INTERRUPTION_DURATION
        if not 0 < interrupt_after < limit:
            raise ScenarioError(
                f"{_join(path, 'interrupt_after')}: must be > 0 and < {limit:g} s (the first "
                f"spoken audio, {tts[0].audio_duration:g} s, minus livekit's "
                f"{MIN_INTERRUPTION_DURATION:g} s minimum interruption duration)"
            )
    return Turn(user=user, llm=calls, tts=tts, interrupt_after=interrupt_after)


_GREETING_KEYS = ("text", "mode", "llm", "tts")


def _parse_greeting(value: Any, path: str) -> Greeting:
    data = _mapping(value, path, _GREETING_KEYS)
    text = _text(data, "text", path, None)
    if not text.strip():
        raise ScenarioError(f"{_join(path, 'text')}: must not be empty")
    mode = data.get("mode", "say")
    if mode not in ("say", "generate"):
        raise ScenarioError(f"{_join(path, 'mode')}: expected 'say' or 'generate', got {mode!r}")
    llm = None
    if mode == "generate":
        llm = _parse_llm_call(data.get("llm", {}), _join(path, "llm"), text=text)
    elif "llm" in data:
        raise ScenarioError(f"{_join(path, 'llm')}: only allowed with mode 'generate'")
    tts = _parse_tts_call(data.get("tts", {}), _join(path, "tts"), text)
    return Greeting(text=text, mode=mode, tts=tts, llm=llm)


_SCENARIO_KEYS = ("name", "instructions", "greeting", "endpointing_delay", "turns", "models")


def _parse_scenario(value: Any) -> Scenario:
    data = _mapping(value, "", _SCENARIO_KEYS)
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, (list, tuple)) or not raw_turns:
        raise ScenarioError("turns: required, a non-empty list of turns")
    turns = tuple(_parse_turn(t, _join("turns", i)) for i, t in enumerate(raw_turns))
    for i, turn in enumerate(turns):
        if turn.interrupt_after is None:
            continue
        where = f"turns[{i}].interrupt_after"
        if i == len(turns) - 1:
            raise ScenarioError(f"{where}: the last turn has no next user turn to interrupt with")
        following = turns[i + 1].user
        if following.speech_duration <= MIN_INTERRUPTION_DURATION:
            raise ScenarioError(
                f"turns[{i + 1}].user.speech_duration: the interrupting speech must last more "
                f"than livekit's {MIN_INTERRUPTION_DURATION:g} s minimum interruption duration"
            )
    endpointing_delay = _seconds(data, "endpointing_delay", "", DEFAULT_ENDPOINTING_DELAY)
    if endpointing_delay <= 0:
        raise ScenarioError("endpointing_delay: must be > 0")
    return Scenario(
        turns=turns,
        greeting=_parse_greeting(data["greeting"], "greeting") if data.get("greeting") else None,
        endpointing_delay=endpointing_delay,
        models=_parse_models(data.get("models", {}), "models"),
        name=_text(data, "name", "", "scenario"),
        instructions=_text(data, "instructions", "", DEFAULT_INSTRUCTIONS),
    )
