"""What the enrichment writes, fixed at ``setup_tracing()``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .cost import PriceTable


@dataclass(frozen=True)
class EnrichOptions:
    """Switches and values for the enrichment; hashable so a repeat setup can be detected."""

    allow_pii: bool = True
    langfuse: bool = True
    openinference: bool = True
    mlflow: bool = True
    tags: tuple[str, ...] = ()
    environment: str | None = None
    release: str | None = None
    prices: PriceTable | None = None
    value_length_limit: int | None = None  # the provider's SpanLimits, for keys added later

    @classmethod
    def build(
        cls,
        *,
        allow_pii: bool,
        langfuse: bool,
        openinference: bool,
        tags: Sequence[str] | None,
        environment: str | None,
        release: str | None,
        prices: Mapping[str, Any] | None,
        mlflow: bool = True,
        value_length_limit: int | None = None,
    ) -> EnrichOptions:
        """Validated options; raises ``ConfigError`` on bad ``tags`` or ``prices``."""
        from ..errors import ConfigError

        if tags is not None:
            if isinstance(tags, str | Mapping) or not isinstance(tags, Iterable):
                raise ConfigError("tags must be a list of strings")
            tags = tuple(tags)  # once: an iterator would be used up by the check below
            if not all(isinstance(t, str) for t in tags):
                raise ConfigError("tags must be a list of strings")
        if prices is not None and not isinstance(prices, Mapping):
            raise ConfigError(
                'prices must be a mapping like {"openai/gpt-4o-mini": {"input_per_1m": 0.15}}'
            )
        return cls(
            allow_pii=allow_pii,
            langfuse=langfuse,
            openinference=openinference,
            mlflow=mlflow,
            tags=tuple(tags or ()),
            environment=environment,
            release=release,
            prices=PriceTable.parse(prices) if prices else None,
            value_length_limit=value_length_limit,
        )
