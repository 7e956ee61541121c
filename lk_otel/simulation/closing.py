"""Closing a simulated call's ``AgentSession`` without hanging on livekit 1.2 and 1.3."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .. import _compat

logger = logging.getLogger("lk_otel")
CLOSE_TIMEOUT = 10.0  # s an AgentSession.aclose() may take where it can hang
_warned = False


async def close_session(session: Any, *, cancelled: bool, timeout: float = CLOSE_TIMEOUT) -> None:
    """``session.aclose()``; bounded by ``timeout`` only after the call was ``cancelled`` on
    the releases where it can then wait forever (``_compat.session_close_may_hang``). An
    ordinary close is never cut short: a slow one (many sessions on a busy machine) would be
    left with open spans."""
    global _warned
    if not (cancelled and _compat.session_close_may_hang()):
        await session.aclose()
        return
    try:
        await asyncio.wait_for(session.aclose(), timeout)
    except asyncio.TimeoutError:
        if not _warned:
            _warned = True
            logger.warning(
                "lk_otel simulation: AgentSession.aclose() did not finish in %.0f s after "
                "the call was cancelled (a livekit %s behaviour); left unfinished (logged once)",
                timeout,
                ".".join(map(str, _compat.livekit_version()[:2])),
            )
