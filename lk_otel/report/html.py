"""A self-contained HTML page: per-turn stacked-bar latency waterfalls and usage.

Everything is inline (CSS and SVG); no scripts, fonts or other external resources. All
bars of a page share one scale, so segment widths compare across turns and sessions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

from lk_otel.report.model import SessionReport
from lk_otel.report.table import (
    MISSING,
    fmt_ms,
    latency_line,
    session_title,
    shorten,
    totals_line,
    turn_label,
    usage_fields,
    usage_names,
)
from lk_otel.report.turn import TurnReport
from lk_otel.report.values import milliseconds
from lk_otel.report.waterfall import SEGMENT_KINDS, extent, segments

BAR_WIDTH = 640.0  # px for the longest bar of the page
BAR_HEIGHT = 18
_LABEL_MIN_PX = 38  # a segment narrower than this gets no text label

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:32px;word-break:break-all}
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;vertical-align:middle}
tr.turn:nth-child(even){background:#f6f6f6}td.num{text-align:right;white-space:nowrap}
td.text{max-width:260px;color:#444}.legend span{margin-right:16px;white-space:nowrap}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
svg text{font:11px system-ui,sans-serif}.note{color:#666;font-size:12px}
.usage td{border-top:1px solid #ddd}.intr{color:#b00;font-size:12px}
"""


def _scale(sessions: Sequence[SessionReport]) -> float:
    """Pixels per second so that the longest bar is :data:`BAR_WIDTH` wide."""
    longest = max((extent(t) for s in sessions for t in s.turns), default=0.0)
    return BAR_WIDTH / longest if longest > 0 else 0.0


def _waterfall(turn: TurnReport, label: str, px_per_s: float) -> str:
    """One turn's stacked bar as inline SVG (one ``rect`` per segment)."""
    width = BAR_WIDTH + 2
    parts = [
        f'<svg class="waterfall" data-turn="{escape(label)}" width="{width:.0f}" '
        f'height="{BAR_HEIGHT + 4}" viewBox="0 0 {width:.0f} {BAR_HEIGHT + 4}" role="img" '
        f'aria-label="turn {escape(label)} latency waterfall">'
    ]
    x = 1.0
    for seg in segments(turn):
        w = seg.seconds * px_per_s
        ms = milliseconds(seg.seconds)
        parts.append(
            f'<rect class="seg seg-{seg.kind.key}" x="{x:.3f}" y="2" width="{w:.3f}" '
            f'height="{BAR_HEIGHT}" fill="{seg.kind.color}" data-ms="{ms}">'
            f"<title>{escape(seg.kind.label)}: {ms} ms</title></rect>"
        )
        if w >= _LABEL_MIN_PX:
            parts.append(
                f'<text x="{x + w / 2:.1f}" y="{BAR_HEIGHT - 2}" fill="#fff" '
                f'text-anchor="middle">{ms}</text>'
            )
        x += w
    if turn.e2e_latency is not None and px_per_s:
        ex = 1 + turn.e2e_latency * px_per_s
        parts.append(
            f'<line class="e2e-mark" x1="{ex:.3f}" x2="{ex:.3f}" y1="0" '
            f'y2="{BAR_HEIGHT + 4}" stroke="#000" stroke-width="1.5"/>'
        )
    if x == 1.0:
        parts.append(f'<text x="4" y="{BAR_HEIGHT - 3}" fill="#888">no latency recorded</text>')
    parts.append("</svg>")
    return "".join(parts)


def _axis(px_per_s: float) -> str:
    """A millisecond axis under the bars (ticks every 1, 2 or 5 times a power of ten ms)."""
    if not px_per_s:
        return ""
    total_ms = BAR_WIDTH / px_per_s * 1000
    step = 10 ** math.floor(math.log10(total_ms / 6))
    step = next(m * step for m in (1, 2, 5, 10) if total_ms / (m * step) <= 8)
    ticks = []
    for i in range(int(total_ms // step) + 1):
        x = 1 + i * step / 1000 * px_per_s
        ticks.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="5" stroke="#888"/>'
            f'<text x="{x:.1f}" y="16" text-anchor="middle" fill="#666">{i * step:g}</text>'
        )
    return (
        f'<svg class="axis" width="{BAR_WIDTH + 40:.0f}" height="20" style="overflow:visible">'
        f"{''.join(ticks)}</svg>"
        '<div class="note">ms; the black line marks the end-to-end latency</div>'
    )


def _legend() -> str:
    items = "".join(
        f'<span><svg class="swatch" width="12" height="12"><rect width="12" height="12" '
        f'fill="{k.color}"/></svg>{escape(k.label)}</span>'
        for k in SEGMENT_KINDS
    )
    return f'<div class="legend">{items}</div>'


def _session(session: SessionReport, px_per_s: float) -> str:
    rows = []
    for pos, turn in enumerate(session.turns, start=1):
        label = turn_label(turn, pos)
        interrupted = ' <span class="intr">interrupted</span>' if turn.interrupted else ""
        e2e = f"e2e {fmt_ms(turn.e2e_latency)} ms" if turn.e2e_latency is not None else ""
        rows.append(
            f'<tr class="turn"><td class="num">{escape(label)}</td>'
            f"<td>{escape(turn.kind or MISSING)}{interrupted}</td>"
            f'<td class="text">{escape(shorten(turn.user_text, 60))}</td>'
            f"<td>{_waterfall(turn, label, px_per_s)}</td>"
            f'<td class="num">{e2e}</td></tr>'
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
        f"<h2>{escape(session_title(session))}</h2>{_legend()}"
        f'<table class="turns"><tr><th>turn</th><th>kind</th><th>user text</th>'
        f"<th>latency waterfall</th><th></th></tr>{''.join(rows)}"
        f'<tr><td colspan="3"></td><td>{_axis(px_per_s)}</td><td></td></tr></table>'
        f'<h3>Usage</h3><table class="usage">{usage}</table>'
        f"<p>Totals: {escape(totals_line(session.totals, len(session.turns)))}</p>"
        + (f"<p>Latency (ms): {escape(latency)}</p>" if latency else "")
        + "</section>"
    )


def render_html(sessions: Sequence[SessionReport], title: str = "lk-otel report") -> str:
    """The whole page as a string."""
    px_per_s = _scale(sessions)
    body = "".join(_session(s, px_per_s) for s in sessions) or "<p>No lk_otel agent turns.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def write_html(sessions: Sequence[SessionReport], path: str | Path) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(render_html(sessions, title=f"lk-otel report · {out.stem}"), encoding="utf-8")
    return out
