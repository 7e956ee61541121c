"""Per-model usage from raw metrics events, for releases without ``session.usage`` (1.2)."""

from __future__ import annotations

import threading
from typing import Any

UNKNOWN = "unknown"


def metric_model(metric: Any) -> tuple[str, str]:
    """``(provider, model)`` of a metrics event, ``"unknown"`` where the plugin set none."""
    meta = getattr(metric, "metadata", None)
    provider = getattr(meta, "model_provider", None) or UNKNOWN
    model = getattr(meta, "model_name", None) or UNKNOWN
    return str(provider), str(model)


class PerModelUsage:
    """Sums LLM, TTS and STT metrics per (provider, model), shaped like 1.8's ``model_usage``."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add(self, metric: Any) -> bool:
        """Account one metrics event; False for kinds that carry no usage (ignored)."""
        kind = getattr(metric, "type", "")
        fields: dict[str, float] = {}
        if kind == "llm_metrics":
            fields = {
                "input_tokens": metric.prompt_tokens,
                "input_cached_tokens": metric.prompt_cached_tokens,
                "output_tokens": metric.completion_tokens,
            }
            row_type = "llm_usage"
        elif kind == "tts_metrics":
            fields = {
                "characters_count": metric.characters_count,
                "audio_duration": metric.audio_duration,
            }
            row_type = "tts_usage"
        elif kind == "stt_metrics":
            fields = {"audio_duration": metric.audio_duration}
            row_type = "stt_usage"
        else:
            return False
        provider, model = metric_model(metric)
        with self._lock:
            row = self._rows.setdefault(
                (row_type, provider, model),
                {"type": row_type, "provider": provider, "model": model},
            )
            for key, value in fields.items():
                row[key] = row.get(key, 0) + value
        return True

    def rows(self) -> list[dict[str, Any]]:
        """A copy of the per-model rows."""
        with self._lock:
            return [dict(r) for r in self._rows.values()]
