"""Everything that differs between livekit-agents releases, or reaches past a public API.

Supported: livekit-agents 1.2.x (oldest) to 1.8.x (newest). Every function here says why it
exists; nothing else in the package touches livekit internals.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

from livekit.agents import telemetry


@cache
def livekit_version() -> tuple[int, int, int]:
    """The installed livekit-agents version as a tuple."""
    from livekit.agents import __version__

    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in __version__.split(".")[:3]]
    return (parts + [0, 0, 0])[0], (parts + [0, 0, 0])[1], (parts + [0, 0, 0])[2]


@cache
def set_tracer_provider_accepts_allow_pii() -> bool:
    """``allow_pii`` arrived in ``set_tracer_provider`` after 1.2 (1.2.18 lacks it)."""
    return "allow_pii" in inspect.signature(telemetry.set_tracer_provider).parameters


def set_tracer_provider(provider: Any, *, metadata: dict[str, Any] | None, allow_pii: bool | None) -> None:
    """livekit's ``set_tracer_provider``, passing only what this release accepts."""
    kwargs: dict[str, Any] = {"metadata": metadata}
    if allow_pii is not None and set_tracer_provider_accepts_allow_pii():
        kwargs["allow_pii"] = allow_pii
    telemetry.set_tracer_provider(provider, **kwargs)


def current_job_context() -> Any | None:
    """The running ``JobContext``, or None outside a job.

    1.2's ``get_job_context()`` raises outside a job and has no ``required=`` argument.
    """
    from livekit.agents import get_job_context

    try:
        return get_job_context()
    except RuntimeError:
        return None


def job_identity(job: Any) -> dict[str, str]:
    """Job id, room name and agent name of a ``JobContext`` (public properties)."""
    out: dict[str, str] = {}
    try:
        out["job_id"] = str(job.job.id)
        out["room_name"] = str(job.job.room.name)
        if job.job.agent_name:
            out["agent_name"] = str(job.job.agent_name)
    except Exception:  # a job context without a job proto (console mode)
        pass
    return out
