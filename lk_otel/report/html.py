"""A self-contained HTML page: the whole call, each turn's critical path, usage.

Everything is inline (CSS and SVG); no scripts, fonts or other external resources. Every
turn's bar shares one scale, so widths compare across turns and sessions. A path is drawn
at its real timestamps from the user's stop: critical stages on the top lane (they tile
the bar up to the end-to-end latency, nothing past it), parallel work on the lane below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

from lk_otel.enrich.critical_path import Stage
from lk_otel.report.model import SessionReport
from lk_otel.report.speech import CallSpeech
from lk_otel.report.stages import STAGE_KINDS, kind_of, stage_label
from lk_otel.report.table import (
    MISSING,
    fmt_cost,
    fmt_ms,
    latency_line,
    page_title,
    session_title,
    shorten,
    totals_line,
    turn_label,
    turn_notes,
    usage_fields,
    usage_names,
)
from lk_otel.report.turn import TurnReport
from lk_otel.report.values import milliseconds
from lk_otel.report.waterfall import SEGMENT_KINDS, extent, segments

BAR_WIDTH = 640.0  # px for the longest bar of the page
BAR_HEIGHT = 18
OFF_HEIGHT = 8  # the lane of parallel (off-path) work under the bar
CALL_WIDTH = 900.0  # px of the whole-call timeline
_LABEL_MIN_PX = 38  # a segment narrower than this gets no text label

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:32px;word-break:break-all}
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;vertical-align:middle}
tr.turn:nth-child(4n+1){background:#f6f6f6}td.num{text-align:right;white-space:nowrap}
td.text{max-width:260px;color:#444}.legend span{margin-right:16px;white-space:nowrap}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
svg text{font:11px system-ui,sans-serif}.note{color:#666;font-size:12px}
.usage td{border-top:1px solid #ddd}.intr{color:#b00;font-size:12px}
td.path-line{font-size:12px;color:#333;padding-bottom:8px}.why{color:#b00}
"""


def _scale(sessions: Sequence[SessionReport]) -> float:
    """Pixels per second so that the longest bar is :data:`BAR_WIDTH` wide."""
    longest = max((extent(t) for s in sessions for t in s.turns), default=0.0)
    return BAR_WIDTH / longest if longest > 0 else 0.0


def _rect(css: str, x: float, y: float, w: float, h: float, color: str, title: str, **data) -> str:
    attrs = "".join(f' data-{k}="{escape(str(v))}"' for k, v in data.items())
    return (
        f'<rect class="{css}" x="{x:.3f}" y="{y}" width="{w:.3f}" height="{h}" '
        f'fill="{color}"{attrs}><title>{escape(title)}</title></rect>'
    )


def _stage_rect(stage: Stage, origin_ns: int, px_per_s: float) -> str:
    x = 1 + (stage.start_ns - origin_ns) / 1e9 * px_per_s
    w = stage.seconds * px_per_s
    ms = milliseconds(stage.seconds)
    y, h = (2, BAR_HEIGHT) if stage.critical else (BAR_HEIGHT + 4, OFF_HEIGHT)
    where = "" if stage.critical else " (in parallel, not on the path)"
    out = _rect(
        f"stage stage-{escape(stage.name)}",
        x,
        y,
        w,
        h,
        kind_of(stage.name).color,
        f"{stage.span_name}: {ms} ms{where}",
        ms=ms,
        critical=str(stage.critical).lower(),
    )
    if stage.critical and w >= _LABEL_MIN_PX:
        out += (
            f'<text x="{x + w / 2:.1f}" y="{BAR_HEIGHT - 2}" fill="#fff" '
            f'text-anchor="middle">{escape(stage_label(stage))} {ms}</text>'
        )
    return out


def _bar(turn: TurnReport, label: str, px_per_s: float) -> str:
    """One turn's critical path (or fallback bar) as inline SVG."""
    width, height = BAR_WIDTH + 2, BAR_HEIGHT + OFF_HEIGHT + 6
    parts = [
        f'<svg class="path" data-turn="{escape(label)}" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" role="img" '
        f'aria-label="turn {escape(label)} critical path">'
    ]
    path = turn.path
    if path is not None:
        parts += [_stage_rect(s, path.start_ns, px_per_s) for s in path.off_path]
        parts += [_stage_rect(s, path.start_ns, px_per_s) for s in path.critical]
    else:
        x = 1.0
        for seg in segments(turn):
            w = seg.seconds * px_per_s
            ms = milliseconds(seg.seconds)
            parts.append(
                _rect(
                    f"seg seg-{seg.kind.key}",
                    x,
                    2,
                    w,
                    BAR_HEIGHT,
                    seg.kind.color,
                    f"{seg.kind.label}: {ms} ms",
                    ms=ms,
                )
            )
            x += w
    if turn.e2e_latency is not None and px_per_s:
        ex = 1 + turn.e2e_latency * px_per_s
        parts.append(
            f'<line class="e2e-mark" x1="{ex:.3f}" x2="{ex:.3f}" y1="0" '
            f'y2="{BAR_HEIGHT + 4}" stroke="#000" stroke-width="1.5"/>'
        )
    if path is None and not segments(turn):
        parts.append(f'<text x="4" y="{BAR_HEIGHT - 3}" fill="#888">no latency recorded</text>')
    parts.append("</svg>")
    return "".join(parts)


def _axis(px_per_s: float, width: float, unit_ms: bool = True) -> str:
    """A time axis (ticks every 1, 2 or 5 times a power of ten)."""
    if not px_per_s:
        return ""
    total = width / px_per_s * (1000 if unit_ms else 1)
    step = 10 ** math.floor(math.log10(total / 6))
    step = next(m * step for m in (1, 2, 5, 10) if total / (m * step) <= 8)
    ticks = []
    for i in range(int(total // step) + 1):
        x = 1 + i * step / (1000 if unit_ms else 1) * px_per_s
        ticks.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="5" stroke="#888"/>'
            f'<text x="{x:.1f}" y="16" text-anchor="middle" fill="#666">{i * step:g}</text>'
        )
    return (
        f'<svg class="axis" width="{width + 40:.0f}" height="20" style="overflow:visible">'
        f"{''.join(ticks)}</svg>"
    )


def _legend() -> str:
    kinds = [*STAGE_KINDS, *(k for k in SEGMENT_KINDS if k.key == "e2e")]
    items = "".join(
        f'<span><svg class="swatch" width="12" height="12"><rect width="12" height="12" '
        f'fill="{k.color}"/></svg>{escape(k.label)}</span>'
        for k in kinds
    )
    return f'<div class="legend">{items}</div>'


_LANES = (("user", "#0072B2"), ("agent", "#E69F00"), ("overlap", "#D55E00"))


def call_timeline(speech: CallSpeech | None) -> str:
    """The whole call: user and agent speech, overlaps, barge-ins, silences (inline SVG)."""
    if speech is None or speech.empty or speech.end_ns <= speech.start_ns:
        return ""
    px = CALL_WIDTH / ((speech.end_ns - speech.start_ns) / 1e9)
    lane_h, label_w = 16, 60

    def x(ns: int) -> float:
        return label_w + (ns - speech.start_ns) / 1e9 * px

    rows = {"user": speech.user, "agent": speech.agent, "overlap": speech.overlaps}
    parts = [
        f'<svg class="call" width="{label_w + CALL_WIDTH + 4:.0f}" height="{4 * lane_h + 12}" '
        'role="img" aria-label="who spoke when">'
    ]
    for row, (lane, color) in enumerate(_LANES):
        y = 2 + row * (lane_h + 2)
        parts.append(f'<text x="0" y="{y + 12}" fill="#444">{lane}</text>')
        for s, e in rows[lane]:
            title = f"{lane} {'speech' if lane != 'overlap' else 'both speaking'}: " + (
                f"{(s - speech.start_ns) / 1e9:.2f}-{(e - speech.start_ns) / 1e9:.2f} s"
            )
            parts.append(
                _rect(
                    f"speech speech-{lane}",
                    x(s),
                    y,
                    max((e - s) / 1e9 * px, 1),
                    lane_h,
                    color,
                    title,
                    ms=milliseconds((e - s) / 1e9),
                )
            )
    y = 2 + 3 * (lane_h + 2)
    parts.append(f'<text x="0" y="{y + 12}" fill="#444">silence</text>')
    for s, e in speech.silences:
        ms = milliseconds((e - s) / 1e9)
        w = (e - s) / 1e9 * px
        parts.append(_rect("silence", x(s), y, w, lane_h, "#DDDDDD", f"silence: {ms} ms", ms=ms))
        if w >= _LABEL_MIN_PX:
            parts.append(
                f'<text x="{x(s) + w / 2:.1f}" y="{y + 12}" text-anchor="middle" '
                f'fill="#444">{ms}</text>'
            )
    for at in speech.barge_ins:
        parts.append(
            f'<line class="barge-in" x1="{x(at):.2f}" x2="{x(at):.2f}" y1="0" '
            f'y2="{2 * lane_h + 4}" stroke="#D55E00" stroke-width="2">'
            f"<title>barge-in at {(at - speech.start_ns) / 1e9:.2f} s</title></line>"
        )
    parts.append("</svg>")
    return (
        "<h3>The call</h3>"
        + "".join(parts)
        + f"<div>{_axis(px, CALL_WIDTH, unit_ms=False)}</div>"
        + '<div class="note">s from the first speech · red lines: the user barging in · '
        + f"{len(speech.barge_ins)} barge-in(s), {len(speech.overlaps)} overlap(s)</div>"
    )


def _details(turn: TurnReport) -> str:
    tokens = (
        f"{turn.input_tokens if turn.input_tokens is not None else MISSING}/"
        f"{turn.output_tokens if turn.output_tokens is not None else MISSING} tok"
    )
    bits = [f"e2e {fmt_ms(turn.e2e_latency)} ms"] if turn.e2e_latency is not None else []
    if turn.transcription_delay is not None:
        bits.append(f"transcription {fmt_ms(turn.transcription_delay)} ms")
    bits.append(tokens)
    if turn.tool_calls:
        bits.append(f"{turn.tool_calls} tool call{'s' if turn.tool_calls != 1 else ''}")
    if turn.cost is not None:
        bits.append(f"cost {fmt_cost(turn.cost)}")
    return " · ".join(bits)


def _session(session: SessionReport, px_per_s: float, slow_threshold: float | None) -> str:
    notes = {label: rest for label, *rest in turn_notes(session, slow_threshold)}
    rows = []
    for pos, turn in enumerate(session.turns, start=1):
        label = turn_label(turn, pos)
        interrupted = ' <span class="intr">interrupted</span>' if turn.interrupted else ""
        rows.append(
            f'<tr class="turn"><td class="num">{escape(label)}</td>'
            f"<td>{escape(turn.kind or MISSING)}{interrupted}</td>"
            f'<td class="text">{escape(shorten(turn.user_text, 60))}</td>'
            f"<td>{_bar(turn, label, px_per_s)}</td>"
            f'<td class="num">{escape(_details(turn))}</td></tr>'
        )
        line = ""
        if label in notes:
            path, parallel, why = notes[label]
            line = escape(path or "")
            if parallel:
                line += f'<br><span class="note">in parallel: {escape(parallel)}</span>'
            if why:
                line += f'<br><span class="why">why slow: {escape(why)}</span>'
        rows.append(
            f'<tr class="turn-path"><td colspan="3"></td><td class="path-line">{line}</td>'
            "<td></td></tr>"
        )
    usage = "".join(
        "<tr>"
        + "".join(f"<td>{escape(c)}</td>" for c in (*usage_names(u), usage_fields(u)))
        + "</tr>"
        for u in session.usage
    )
    latency = latency_line(session.totals)
    return (
        f'<section class="session" data-session-id="{escape(session.session_id)}">'
        f"<h2>{escape(session_title(session))}</h2>{call_timeline(session.speech)}"
        "<h3>Turns: the critical path from the user's stop to the agent's first audio</h3>"
        f'{_legend()}<table class="turns"><tr><th>turn</th><th>kind</th><th>user text</th>'
        f"<th>critical path</th><th></th></tr>{''.join(rows)}"
        f'<tr><td colspan="3"></td><td>{_axis(px_per_s, BAR_WIDTH)}'
        '<div class="note">ms from the user\'s stop; the black line marks the end-to-end '
        "latency; the thin lane is work done in parallel</div></td><td></td></tr></table>"
        f'<h3>Usage</h3><table class="usage">{usage}</table>'
        f"<p>Totals: {escape(totals_line(session.totals, len(session.turns)))}</p>"
        + (f"<p>Latency (ms): {escape(latency)}</p>" if latency else "")
        + "</section>"
    )


def render_html(
    sessions: Sequence[SessionReport],
    title: str | None = None,
    slow_threshold: float | None = None,
) -> str:
    """The whole page as a string; titled by service and session unless ``title`` is given."""
    title = title or page_title(sessions)
    px_per_s = _scale(sessions)
    body = (
        "".join(_session(s, px_per_s, slow_threshold) for s in sessions)
        or "<p>No lk_otel agent turns.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def write_html(
    sessions: Sequence[SessionReport], path: str | Path, slow_threshold: float | None = None
) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(render_html(sessions, slow_threshold=slow_threshold), encoding="utf-8")
    return out
