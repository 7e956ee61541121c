"""Optional cost: prices per model, applied to token, character and audio counts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol


@dataclass(frozen=True)
class Price:
    """USD (or any currency) per unit; unset prices count as 0."""

    input_per_1m: float = 0.0
    output_per_1m: float = 0.0
    cached_input_per_1m: float = 0.0
    characters_per_1k: float = 0.0
    stt_per_minute: float = 0.0
    # realtime (speech-to-speech) models: audio tokens have their own rates; text tokens
    # use the three token prices above; session-billed models charge connection time
    input_audio_per_1m: float = 0.0
    cached_input_audio_per_1m: float = 0.0
    output_audio_per_1m: float = 0.0
    session_per_minute: float = 0.0


_KEYS = {f.name for f in fields(Price)}


class RealtimeTokens(Protocol):
    """One realtime response's tokens by modality (inputs include their cached part)."""

    provider: str | None
    model: str | None
    input_audio: int
    input_text: int
    input_image: int
    cached_audio: int
    cached_text: int
    cached_image: int
    output_audio: int
    output_text: int


@dataclass(frozen=True)
class PriceTable:
    """Prices keyed by ``"provider/model"`` or ``"model"``."""

    entries: tuple[tuple[str, Price], ...]

    @classmethod
    def parse(cls, prices: Mapping[str, Any]) -> PriceTable:
        """From ``{"openai/gpt-4o-mini": {"input_per_1m": 0.15, ...}, ...}``."""
        from ..errors import ConfigError

        entries = []
        for model, spec in prices.items():
            if not isinstance(spec, Mapping):
                raise ConfigError(f"prices[{model!r}] must be a mapping of price fields")
            unknown = set(spec) - _KEYS
            if unknown:
                raise ConfigError(
                    f"prices[{model!r}]: unknown field {sorted(unknown)[0]!r}; "
                    f"use {', '.join(sorted(_KEYS))}"
                )
            try:
                price = Price(**{k: float(v) for k, v in spec.items()})
            except (TypeError, ValueError):
                raise ConfigError(f"prices[{model!r}]: every price must be a number") from None
            if any(not 0 <= getattr(price, k) < math.inf for k in _KEYS):
                raise ConfigError(f"prices[{model!r}]: prices must be finite and not negative")
            entries.append((str(model), price))
        return cls(tuple(entries))

    def find(self, provider: str | None, model: str | None) -> Price | None:
        """The price for ``provider/model``, else for ``model`` alone."""
        table = dict(self.entries)
        if provider and model and f"{provider}/{model}" in table:
            return table[f"{provider}/{model}"]
        return table.get(model or "")

    def llm(
        self, provider: str | None, model: str | None, inp: int, out: int, cached: int
    ) -> float:
        """Cost of one LLM call; cached input tokens are billed at the cached price."""
        p = self.find(provider, model)
        if p is None:
            return 0.0
        cached_price = p.cached_input_per_1m or p.input_per_1m
        return (
            (inp - cached) * p.input_per_1m + cached * cached_price + out * p.output_per_1m
        ) / 1e6

    def tts(self, provider: str | None, model: str | None, characters: int) -> float:
        """Cost of synthesising ``characters``."""
        p = self.find(provider, model)
        return characters * p.characters_per_1k / 1e3 if p else 0.0

    def stt(self, provider: str | None, model: str | None, audio_seconds: float) -> float:
        """Cost of transcribing ``audio_seconds``."""
        p = self.find(provider, model)
        return audio_seconds / 60.0 * p.stt_per_minute if p else 0.0

    def realtime(
        self,
        provider: str | None,
        model: str | None,
        *,
        input_audio: int,
        input_text: int,
        cached_audio: int,
        cached_text: int,
        output_audio: int,
        output_text: int,
        session_seconds: float = 0.0,
    ) -> float | None:
        """Cost of one realtime response (None: no price for the model).

        Input counts include their cached part, billed at the cached rate (the cached audio
        rate falls back to the full audio rate).
        """
        p = self.find(provider, model)
        if p is None:
            return None
        cached_text_price = p.cached_input_per_1m or p.input_per_1m
        cached_audio_price = p.cached_input_audio_per_1m or p.input_audio_per_1m
        tokens = (
            (input_text - cached_text) * p.input_per_1m
            + cached_text * cached_text_price
            + (input_audio - cached_audio) * p.input_audio_per_1m
            + cached_audio * cached_audio_price
            + output_text * p.output_per_1m
            + output_audio * p.output_audio_per_1m
        )
        return tokens / 1e6 + session_seconds / 60.0 * p.session_per_minute

    def realtime_response(self, u: RealtimeTokens, session_seconds: float) -> float | None:
        """:meth:`realtime` of a response's tokens; image tokens are billed as text."""
        return self.realtime(
            u.provider,
            u.model,
            input_audio=u.input_audio,
            input_text=u.input_text + u.input_image,
            cached_audio=u.cached_audio,
            cached_text=u.cached_text + u.cached_image,
            output_audio=u.output_audio,
            output_text=u.output_text,
            session_seconds=session_seconds,
        )
