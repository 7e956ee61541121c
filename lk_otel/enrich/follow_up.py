"""Tool follow-ups traced as sibling turn spans (livekit 1.3-1.7): one logical turn.

After a tool call those releases answer in another ``agent_turn`` under ``agent_session``
(not under the first), with the same ``lk.speech_id`` and ``lk.parent_generation_id`` = the
``lk.generation_id`` of the turn it continues, started when that one ended. The correlator
keeps a turn that ran a tool open until its follow-up ended, folds the follow-up's calls
into it (:func:`merge`) and summarises the chain over every generation
(:func:`logical_attributes`). Pure functions over :class:`~.state.TurnState`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import _compat
from .. import semconv as sc
from .extract import Attrs, first_text
from .state import TurnState


def continues(chain: TurnState, attrs: Attrs) -> bool:
    """Whether a turn span (its attributes at end) continues ``chain``'s last generation."""
    if not chain.generations:
        return False
    last = chain.generations[-1].get(sc.LK_GENERATION_ID)
    parent = _compat.parent_generation(attrs)
    return parent is not None and last is not None and parent == str(last)


def merge(chain: TurnState, follow_up: TurnState, attrs: Attrs, span_id: int) -> None:
    """Fold an ended follow-up generation (``attrs``, ``span_id``) into ``chain``."""
    chain.llm += follow_up.llm
    chain.tts += follow_up.tts
    chain.tools += follow_up.tools
    chain.tool_calls += follow_up.tool_calls
    starts = [t for t in (chain.speaking_start_ns, follow_up.speaking_start_ns) if t is not None]
    chain.speaking_start_ns = min(starts) if starts else None  # the chain's first audio
    chain.generations.append(attrs)
    chain.generation_spans.append(span_id)


def logical_attributes(
    generations: Sequence[Attrs], message_e2e: Sequence[float | None] = ()
) -> Attrs:
    """The first generation's attributes with livekit's per-generation figures of the whole
    turn: ``lk.e2e_latency`` from the generation that has it (1.5-1.7: the one that spoke
    first, after a tool call the follow-up), else from the assistant message metrics
    (1.3, 1.4, given per generation); ``lk.interrupted`` if any generation was."""
    root = generations[0]
    e2e = next((g[sc.LK_E2E_LATENCY] for g in generations if sc.LK_E2E_LATENCY in g), None)
    if e2e is None:
        e2e = next((v for v in message_e2e if v is not None), None)
    interrupted = any(bool(g.get(sc.LK_INTERRUPTED, False)) for g in generations)
    if len(generations) == 1 and (e2e is None or sc.LK_E2E_LATENCY in root):
        return root
    out: dict[str, Any] = dict(root)
    if e2e is not None:
        out[sc.LK_E2E_LATENCY] = e2e
    out[sc.LK_INTERRUPTED] = interrupted
    return out


def last_response_text(generations: Sequence[Attrs]) -> str | None:
    """What the agent said last in the turn: the last generation with a response text."""
    return next(
        (t for g in reversed(generations) if (t := first_text(g, sc.LK_RESPONSE_TEXT_KEYS))),
        None,
    )


def turn_follow_up_attributes(chain: TurnState) -> dict[str, Any]:
    """On the turn span: how many sibling follow-ups its figures include (none: no key)."""
    n = len(chain.generations) - 1
    return {sc.TURN_FOLLOW_UPS: n} if n > 0 else {}


def follow_up_attributes(chain: TurnState, session_id: str) -> Mapping[str, Any]:
    """On a follow-up turn span: which turn it continues. Its figures are on that turn
    (no ``lk_otel.turn.index``/``.kind``/totals here, so nothing is counted twice)."""
    return {
        sc.TURN_SESSION_ID: session_id,
        sc.TURN_FOLLOW_UP_OF: chain.index,
        sc.TURN_FOLLOW_UP_INDEX: len(chain.generations) - 1,
    }
