"""What the enrichment writes, fixed at ``setup_tracing()``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .cost import PriceTable


@dataclass(frozen=True)
class EnrichOptions:
    """Switches and values for the enrichment; hashable so a repeat setup can be detected."""

    allow_pii: bool = True
    langfuse: bool = True
    openinference: bool = True
    tags: tuple[str, ...] = ()
    environment: str | None = None
    release: str | None = None
    prices: PriceTable | None = None

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
    ) -> EnrichOptions:
        """Validated options; raises ``ConfigError`` on bad ``tags`` or ``prices``."""
        from ..configure.errors import ConfigError

        if isinstance(tags, str) or (
            tags is not None and not all(isinstance(t, str) for t in tags)
        ):
            raise ConfigError("tags must be a list of strings")
        return cls(
            allow_pii=allow_pii,
            langfuse=langfuse,
            openinference=openinference,
            tags=tuple(tags or ()),
            environment=environment,
            release=release,
            prices=PriceTable.parse(prices) if prices else None,
        )
