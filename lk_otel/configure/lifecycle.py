"""Flush and shutdown with a hard bound, at job end and at process exit."""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
from collections.abc import Callable, Sequence

from .. import _compat

logger = logging.getLogger("lk_otel")


def run_bounded(name: str, fn: Callable[[], object], timeout: float) -> bool:
    """Run ``fn`` on a daemon thread and wait at most ``timeout`` seconds.

    The SDK's ``force_flush``/``shutdown`` can block far longer than asked against a stalled
    backend; whatever is unfinished stays on the daemon thread and dies with the process.
    """
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(fn())
        except Exception:
            logger.warning("lk_otel: %s failed", name, exc_info=True)
            outcome.append(False)

    thread = threading.Thread(target=target, name=f"lk_otel-{name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        logger.warning("lk_otel: %s did not finish within %.1f s; moving on", name, timeout)
        return False
    return outcome[0] is not False


def in_parallel(name: str, calls: Sequence[Callable[[], object]], timeout: float) -> bool:
    """Run each call on its own daemon thread; wait for all of them, at most ``timeout``
    seconds in all. True when every call finished and none returned False or raised."""
    outcome: list[object] = [None] * len(calls)

    def target(index: int, call: Callable[[], object]) -> None:
        try:
            outcome[index] = call()
        except Exception:
            logger.warning("lk_otel: %s failed", name, exc_info=True)
            outcome[index] = False

    threads = [
        threading.Thread(target=target, args=(i, c), name=f"lk_otel-{name}", daemon=True)
        for i, c in enumerate(calls)
    ]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        logger.warning("lk_otel: %s did not finish within %.1f s; moving on", name, timeout)
        return False
    return all(o is not False for o in outcome)


def register_job_flush(flush: Callable[[float], bool], timeout: float) -> bool:
    """Flush, off the event loop and within ``timeout``, when the current job shuts down.

    Returns False when not running inside a livekit job.
    """
    job = _compat.current_job_context()
    if job is None:
        return False

    async def _flush_on_shutdown(*_: object) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, flush, timeout)

    job.add_shutdown_callback(_flush_on_shutdown)
    return True


_exit_hooks: list[Callable[[], None]] = []
_exit_lock = threading.Lock()


def at_exit(hook: Callable[[], None]) -> None:
    """Run ``hook`` at interpreter exit (registered once per hook)."""
    with _exit_lock:
        if not _exit_hooks:
            atexit.register(_run_exit_hooks)
        if hook not in _exit_hooks:
            _exit_hooks.append(hook)


def cancel_at_exit(hook: Callable[[], None]) -> None:
    """Forget a hook registered with :func:`at_exit`."""
    with _exit_lock:
        if hook in _exit_hooks:
            _exit_hooks.remove(hook)


def _run_exit_hooks() -> None:
    for hook in list(_exit_hooks):
        hook()
