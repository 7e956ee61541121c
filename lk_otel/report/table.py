"""Plain-text report: a per-turn latency table and a usage summary per session.

Latencies are whole milliseconds, rounded half up (:func:`milliseconds`); "—" marks a
value the span does not carry (a greeting has no user-side latencies).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lk_otel.report.model import SessionReport
from lk_otel.report.stages import is_slow, off_path_line, path_line, why_slow
from lk_otel.report.totals import SessionTotals, UsageLine
from lk_otel.report.turn import TurnReport
from lk_otel.report.values import milliseconds

MISSING = "—"
USER_TEXT_WIDTH = 32
_HEADERS = (
    "turn", "kind", "user text", "EOT", "transcr", "LLM TTFT", "spoken TTFT", "TTS TTFB",
    "e2e", "tok in/out", "tools", "cost", "interrupted",
)  # fmt: skip
_LEFT = frozenset({1, 2})  # kind, user text
_LEGEND = (
    "latencies in ms, rounded half up · EOT = end-of-turn delay · "
    "transcr = transcription delay · LLM TTFT = the turn's first LLM call · "
    f"spoken TTFT = the LLM call the user heard · {MISSING} = not recorded"
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
        fmt_ms(turn.spoken_llm_ttft),
        fmt_ms(turn.tts_ttfb),
        fmt_ms(turn.e2e_latency),
        tokens,
        _opt(turn.tool_calls),
        MISSING if turn.cost is None else fmt_cost(turn.cost),
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


_FIELD_LABELS = {
    "input_tokens": "input tokens",
    "input_cached_tokens": "cached input tokens",
    "input_audio_tokens": "audio input tokens",
    "input_text_tokens": "text input tokens",
    "input_image_tokens": "image input tokens",
    "output_tokens": "output tokens",
    "output_audio_tokens": "audio output tokens",
    "output_text_tokens": "text output tokens",
    "characters_count": "characters",
    "audio_duration": "audio",
    "session_duration": "session",
}


def field_label(name: str) -> str:
    """A usage key as words: ``input_cached_tokens`` → ``cached input tokens``."""
    return _FIELD_LABELS.get(name, name.replace("_", " "))


def _field(name: str, value: float) -> str:
    label = field_label(name)
    if name.endswith("duration"):
        return f"{label} {fmt_seconds(value)}"
    if "cost" in name:
        return f"{label} {fmt_cost(value)}"
    return f"{label} {int(value) if value.is_integer() else round(value, 4)}"


def usage_fields(line: UsageLine) -> str:
    """A model's non-zero usage numbers, e.g. ``input tokens 120 · output tokens 14``."""
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


def turn_notes(
    session: SessionReport, slow_threshold: float | None = None
) -> list[tuple[str, str | None, str | None, str | None]]:
    """Per turn with a path: (label, path line, parallel work, why slow or None)."""
    notes = []
    p95 = (
        session.totals.e2e_p95
        if sum(t.e2e_latency is not None for t in session.turns) > 1
        else None
    )
    for pos, turn in enumerate(session.turns, start=1):
        if turn.path is None:
            continue
        why = why_slow(turn) if is_slow(turn, p95, slow_threshold) else None
        notes.append(
            (
                turn_label(turn, pos),
                path_line(turn.path.stages),
                off_path_line(turn.path.stages) or None,
                why,
            )
        )
    return notes


def format_session(session: SessionReport, slow_threshold: float | None = None) -> str:
    """The table, each turn's critical path, usage and totals of one session."""
    out = [session_title(session), ""]
    if session.turns:
        rows = [list(_HEADERS)] + [_row(t, i) for i, t in enumerate(session.turns, start=1)]
        out += [*_grid(rows), _LEGEND]
        notes = turn_notes(session, slow_threshold)
        if notes:
            out += ["", "Critical path (user stops speaking → agent audio starts)"]
        for label, line, parallel, why in notes:
            out.append(f"  {label:>4}  {line}")
            if parallel:
                out.append(f"        in parallel: {parallel}")
            if why:
                out.append(f"        why slow: {why}")
    else:
        out.append("no lk_otel agent turns")
    out += ["", "Usage"]
    out += ["  " + line for line in usage_lines(session.usage)] or ["  (no per-model usage)"]
    out.append("  Totals   " + totals_line(session.totals, len(session.turns)))
    latency = latency_line(session.totals)
    if latency:
        out.append("  Latency  ms: " + latency)
    return "\n".join(out) + "\n"


def format_table(sessions: Sequence[SessionReport], slow_threshold: float | None = None) -> str:
    """Every session's per-turn latency table, critical paths and usage, as plain text.

    "why slow" is given for turns at or above the session's e2e p95, or above
    ``slow_threshold`` seconds.
    """
    if not sessions:
        return "no lk_otel agent turns found\n"
    return "\n".join(format_session(s, slow_threshold) for s in sessions)


def page_title(sessions: Sequence[SessionReport]) -> str:
    """``voice-agent · session sess-a`` (or ``… · 3 sessions``), never a file name."""
    services = list(dict.fromkeys(s.service_name for s in sessions if s.service_name))
    who = ", ".join(services) or "lk-otel report"
    if len(sessions) == 1:
        return f"{who} · session {sessions[0].session_id}"
    return f"{who} · {len(sessions)} sessions"
