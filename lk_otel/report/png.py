"""Each turn's critical path as a PNG, drawn with matplotlib's Agg backend.

matplotlib is optional (``pip install 'lk-otel[report]'``) and imported only when a PNG is
written. The figure uses an explicit Agg canvas, never pyplot, so it neither needs a
display nor touches the process-wide backend.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lk_otel.report.model import SessionReport
from lk_otel.report.stages import STAGE_KINDS, kind_of
from lk_otel.report.table import session_title, turn_label
from lk_otel.report.waterfall import E2E, segments

INSTALL_HINT = "PNG output needs matplotlib: pip install 'lk-otel[report]'"
_ROW_INCHES = 0.38
_SESSION_INCHES = 1.3
_MAX_TITLE = 90


class MissingDependencyError(RuntimeError):
    """An optional dependency of the report is not installed."""


def require_matplotlib() -> Any:
    """Import matplotlib, or raise :class:`MissingDependencyError` with the install hint."""
    try:
        return importlib.import_module("matplotlib")
    except ImportError as exc:
        raise MissingDependencyError(INSTALL_HINT) from exc


def _draw_session(ax: Any, session: SessionReport) -> None:
    labels = []
    for row, turn in enumerate(session.turns):
        path = turn.path
        if path is not None:  # at real timestamps from the user's stop; parallel work below
            for stage in path.stages:
                left = (stage.start_ns - path.start_ns) / 1e6
                y, h = (row, 0.5) if stage.critical else (row + 0.33, 0.16)
                color = kind_of(stage.name).color
                ax.barh(y, stage.seconds * 1000, left=left, height=h, color=color, lw=0.5)
        else:
            left = 0.0
            for seg in segments(turn):
                width = seg.seconds * 1000
                ax.barh(row, width, left=left, height=0.5, color=seg.kind.color, edgecolor="white")
                left += width
        if turn.e2e_latency is not None:
            e2e = turn.e2e_latency * 1000
            ax.plot([e2e, e2e], [row - 0.4, row + 0.4], color="black", linewidth=1.2)
        mark = " (interrupted)" if turn.interrupted else ""
        labels.append(f"{turn_label(turn, row + 1)} · {turn.kind or '?'}{mark}")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first turn on top
    title = session_title(session)
    ax.set_title(title if len(title) <= _MAX_TITLE else title[: _MAX_TITLE - 1] + "…", loc="left")
    ax.set_xlabel("ms from the user's stop (black tick: end-to-end latency; thin: in parallel)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)


def write_png(sessions: Sequence[SessionReport], path: str | Path, dpi: int = 110) -> Path:
    """Draw one panel per session (one critical-path bar per turn) into ``path``."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    shown = [s for s in sessions if s.turns]
    height = sum(_SESSION_INCHES + _ROW_INCHES * len(s.turns) for s in shown) or 2.0
    fig = Figure(figsize=(10, height + 0.6), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    if shown:
        axes = fig.subplots(
            len(shown), 1, squeeze=False, height_ratios=[len(s.turns) + 2 for s in shown]
        )
        for ax, session in zip(axes[:, 0], shown, strict=True):
            _draw_session(ax, session)
        handles = [Patch(color=k.color, label=k.label) for k in (*STAGE_KINDS, E2E)]
        fig.legend(handles=handles, loc="outside upper center", ncols=5, frameon=False)
    else:
        fig.text(0.5, 0.5, "no lk_otel agent turns", ha="center", va="center")
    out = Path(path)
    fig.savefig(out, format="png")
    return out
