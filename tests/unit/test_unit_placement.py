"""The span tree (``SpanTree``) on hand-built records: a session's spans still open when it
ends become orphans, the ``keep`` latest of them, each one findable until pushed out."""

from __future__ import annotations

from lk_otel import semconv as sc
from lk_otel.enrich.placement import SpanTree
from lk_otel.enrich.records import SpanStarted

KEEP = 4


def tree_with_open_spans(session: int, count: int) -> SpanTree:
    tree = SpanTree("agent_turn", KEEP)
    root = SpanStarted(session, None, sc.SPAN_AGENT_SESSION, 0, is_root=True)
    node = tree.place(root, sc.SPAN_AGENT_SESSION)
    for sid in range(session + 1, session + 1 + count):
        tree.place(SpanStarted(sid, session, sc.SPAN_USER_TURN, sid), sc.SPAN_USER_TURN)
    tree.close(session, node)  # the session span ends first, then its open spans are orphaned
    return tree


def test_a_sessions_open_spans_become_orphans_up_to_keep_the_latest_kept() -> None:
    tree = tree_with_open_spans(1, KEEP + 2)
    assert tree.orphan(1) == [2, 3, 4, 5, 6, 7]
    assert list(tree.orphans) == [4, 5, 6, 7]
    assert tree.open == {}


def test_exactly_keep_orphans_are_all_kept() -> None:
    tree = tree_with_open_spans(1, KEEP)
    tree.orphan(1)
    assert list(tree.orphans) == [2, 3, 4, 5]
    assert tree.orphans[2].session == 1 and tree.orphans[2].user == 2
