"""Where a span stands: the session, turn and user turn it is in, found from its parent.

Open spans are kept by id until they end; the last few ended ones of a session stay a
while as parents for children that start late. Plain values only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .. import semconv as sc
from .records import Release, SpanStarted
from .state import SessionState


@dataclass(slots=True)
class Node:
    """A span placed: its name, parent and the spans that hold it."""

    name: str
    parent: int | None
    session: int | None
    turn: int | None
    user: int | None
    is_root: bool = False
    job_session_id: str | None = None
    ended: bool = False


class Releaser(Protocol):
    """Makes the :class:`~.records.Release` of an ended span, routed by its session."""

    def __call__(
        self,
        span_id: int,
        node: Node,
        state: SessionState | None,
        added: dict[str, Any],
        **extra: Any,
    ) -> Release: ...


class SpanTree:
    """Open spans by id, and the ``keep`` latest ended ones that are inside a session."""

    def __init__(self, turn_name: str, keep: int) -> None:
        self.turn_name = turn_name
        self.open: dict[int, Node] = {}
        # livekit 1.2 starts a realtime greeting's turn after its parent on_enter ended
        self.ended: dict[int, Node] = {}
        # spans still open when their session ended (livekit 1.2 under load leaves a
        # user_turn open for good): kept like ended ones, bounded, in case they end late
        self.orphans: dict[int, Node] = {}
        self._keep = keep

    def place(self, rec: SpanStarted, name: str) -> Node:
        """Open ``rec`` (under its canonical ``name``) where its parent stands."""
        sid = rec.span_id
        p = self.open.get(rec.parent_id) if rec.parent_id is not None else None
        if p is None and rec.parent_id is not None:
            p = self.ended.get(rec.parent_id)
        if p is not None and name != sc.SPAN_AGENT_SESSION:
            session, turn, user = p.session, p.turn, p.user
        else:
            session = turn = user = None
        if name == sc.SPAN_AGENT_SESSION:
            session = sid
        elif name == self.turn_name and turn is None:
            turn = sid
        elif name == sc.SPAN_USER_TURN:
            user = sid
        node = Node(name, rec.parent_id, session, turn, user, rec.is_root, rec.job_session_id)
        self.open[sid] = node
        return node

    def orphan(self, session: int) -> list[int]:
        """``session`` ended: its spans still open become bounded orphans; their ids."""
        ids = [sid for sid, n in self.open.items() if n.session == session]
        for sid in ids:
            self.orphans[sid] = self.open.pop(sid)
        while len(self.orphans) > self._keep:
            del self.orphans[next(iter(self.orphans))]
        return ids

    def close(self, span_id: int, node: Node) -> None:
        """``span_id`` ended: kept as a parent for late children if it is inside a session."""
        del self.open[span_id]
        if node.session is not None and node.session != span_id:
            self.ended[span_id] = node
            if len(self.ended) > self._keep:
                del self.ended[next(iter(self.ended))]
