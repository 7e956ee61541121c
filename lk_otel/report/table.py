"""Plain-text report: a per-turn latency table and a usage summary per session.

Latencies are whole milliseconds, rounded half up (:func:`milliseconds`); "—" marks a
value the span does not carry (a greeting has no user-side latencies).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lk_otel.report.model import SessionReport
from lk_otel.report.totals import SessionTotals, UsageLine
from lk_otel.report.turn import TurnReport
from lk_otel.report.values import milliseconds

MISSING = "—"
USER_TEXT_WIDTH = 32
_HEADERS = (
    "turn", "kind", "user text", "EOT", "transcr", "LLM TTFT", "TTS TTFB", "e2e",
    "tok in/out", "interrupted",
)  # fmt: skip
_LEFT = frozenset({1, 2})  # kind, user text
_LEGEND = (
    "latencies in ms, rounded half up · EOT = end-of-turn delay · "
    f"transcr = transcription delay · {MISSING} = not recorded"
)
_USAGE_TYPES = {"llm_usage": "LLM", "tts_usage": "TTS", "stt_usage": "STT"}


def fmt_ms(seconds: float | None) -> str:
    """Seconds as whole milliseconds, or the missing mark."""
    return MISSING if seconds is None else str(milliseconds(seconds))


def fmt_seconds(seconds: float) -> str:
    """Seconds with one decimal, e.g. ``12.3 s``."""
    return f"{seconds:.1f} s"


def fmt_cost(cost: float) -> str:
    """A cost with up to 6 decimals, trailing zeros dropped (currency is not recorded)."""
    return f"{cost:.6f}".rstrip("0").rstrip(".") or "0"


def shorten(text: str | None, width: int = USER_TEXT_WIDTH) -> str:
    """One-line text cut to ``width`` characters with an ellipsis; missing mark if empty."""
    if not text or not text.strip():
        return MISSING
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def turn_label(turn: TurnReport, position: int) -> str:
    """The turn's lk_otel index, else its 1-based position in the session."""
    return str(turn.index) if turn.index is not None else f"#{position}"


def _opt(value: int | None) -> str:
    return MISSING if value is None else str(value)


def _row(turn: TurnReport, position: int) -> list[str]:
    tokens = MISSING
    if turn.input_tokens is not None or turn.output_tokens is not None:
        tokens = f"{_opt(turn.input_tokens)}/{_opt(turn.output_tokens)}"
    interrupted = MISSING if turn.interrupted is None else ("yes" if turn.interrupted else "no")
    return [
        turn_label(turn, position),
        turn.kind or MISSING,
        shorten(turn.user_text),
        fmt_ms(turn.end_of_turn_delay),
        fmt_ms(turn.transcription_delay),
        fmt_ms(turn.llm_ttft),
        fmt_ms(turn.tts_ttfb),
        fmt_ms(turn.e2e_latency),
        tokens,
        interrupted,
    ]


def _grid(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i in _LEFT else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _field(name: str, value: float) -> str:
    if name.endswith("duration"):
        return f"{name} {fmt_seconds(value)}"
    if "cost" in name:
        return f"{name} {fmt_cost(value)}"
    return f"{name} {int(value) if value.is_integer() else round(value, 4)}"


def usage_fields(line: UsageLine) -> str:
    """A model's non-zero usage numbers, e.g. ``input_tokens 120 · output_tokens 14``."""
    return " · ".join(_field(k, v) for k, v in line.fields.items() if v) or "no usage"


def usage_names(line: UsageLine) -> tuple[str, str]:
    """``("LLM", "openai/gpt-4o-mini")`` for a usage line."""
    name = f"{line.provider}/{line.model}" if line.provider else line.model
    return _USAGE_TYPES.get(line.type, line.type or "?"), name


def usage_lines(usage: Iterable[UsageLine]) -> list[str]:
    """One aligned line per model: type, provider/model and its non-zero numbers."""
    rows = [(*usage_names(line), usage_fields(line)) for line in usage]
    width = max((len(name) for _, name, _ in rows), default=0)
    return [f"{kind:<3}  {name.ljust(width)}  {fields}" for kind, name, fields in rows]


def totals_line(t: SessionTotals, turns: int) -> str:
    """Session totals in one line; parts the data lacks are left out."""
    parts = [f"{turns} turn{'s' if turns != 1 else ''}"]
    if t.duration is not None:
        parts.append(fmt_seconds(t.duration))
    if t.input_tokens is not None or t.output_tokens is not None:
        cached = f" ({t.cached_input_tokens} cached)" if t.cached_input_tokens else ""
        parts.append(f"tokens {_opt(t.input_tokens)} in{cached} / {_opt(t.output_tokens)} out")
    if t.tts_characters is not None:
        parts.append(f"TTS {t.tts_characters} chars")
    if t.tts_audio_duration is not None:
        parts.append(f"TTS audio {fmt_seconds(t.tts_audio_duration)}")
    if t.stt_audio_duration is not None:
        parts.append(f"STT audio {fmt_seconds(t.stt_audio_duration)}")
    if t.interruptions is not None:
        parts.append(f"{t.interruptions} interrupted")
    if t.tool_calls is not None:
        parts.append(f"{t.tool_calls} tool call{'s' if t.tool_calls != 1 else ''}")
    if t.cost is not None:
        parts.append(f"cost {fmt_cost(t.cost)}")
    return " · ".join(parts)


def latency_line(t: SessionTotals) -> str | None:
    """Latency percentiles in ms (``e2e p50 1191 / p95 1408 / max 1432 · …``) or ``None``."""
    groups = (
        ("e2e", (("p50", t.e2e_p50), ("p95", t.e2e_p95), ("max", t.e2e_max))),
        ("LLM TTFT", (("p50", t.llm_ttft_p50), ("p95", t.llm_ttft_p95))),
        ("TTS TTFB", (("p50", t.tts_ttfb_p50), ("p95", t.tts_ttfb_p95))),
    )
    parts = []
    for name, stats in groups:
        shown = [f"{stat} {fmt_ms(v)}" for stat, v in stats if v is not None]
        if shown:
            parts.append(f"{name} " + " / ".join(shown))
    return " · ".join(parts) or None


def session_title(session: SessionReport) -> str:
    """``Session <id>`` with service and trace, noting a missing agent_session span."""
    title = f"Session {session.session_id}"
    if session.service_name:
        title += f" · {session.service_name}"
    if session.trace_id != session.session_id:
        title += f" · trace {session.trace_id}"
    if not session.has_session_span:
        title += " · (no agent_session span: totals derived from turns)"
    return title


def format_session(session: SessionReport) -> str:
    """The table, usage and totals of one session."""
    out = [session_title(session), ""]
    if session.turns:
        rows = [list(_HEADERS)] + [_row(t, i) for i, t in enumerate(session.turns, start=1)]
        out += [*_grid(rows), _LEGEND]
    else:
        out.append("no lk_otel agent turns")
    out += ["", "Usage"]
    out += ["  " + line for line in usage_lines(session.usage)] or ["  (no per-model usage)"]
    out.append("  Totals   " + totals_line(session.totals, len(session.turns)))
    latency = latency_line(session.totals)
    if latency:
        out.append("  Latency  ms: " + latency)
    return "\n".join(out) + "\n"


def format_table(sessions: Sequence[SessionReport]) -> str:
    """Every session's per-turn latency table and usage summary, as plain text."""
    if not sessions:
        return "no lk_otel agent turns found\n"
    return "\n".join(format_session(s) for s in sessions)
