"""Waking the deliverer: an action that queued messages says so, and the delivery loop sends
them at once instead of at its next tick. Only this process is woken (no LISTEN/NOTIFY): the
process that handled the action committed the messages it queued, so its own deliverer finds
them; other processes still pick up anything due at their next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Wakeup:
    """A wake-up call for the delivery loop, and a hold that keeps it out of the way."""

    def __init__(self) -> None:
        self._woken = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Held while a delivery run (or an interactive command that delivers itself) is under
        # way, so runs in this process never overlap and console output stays in order.
        self._running = asyncio.Lock()

    def wake(self) -> None:
        """Ask for a delivery run now; safe from any thread. A call on an event loop is kept
        until the loop listens (an action during start-up is not lost)."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        listening = self._loop
        if running is not None and (listening is None or listening is running):
            self._woken.set()
        elif listening is not None and not listening.is_closed():
            listening.call_soon_threadsafe(self._woken.set)

    async def wait(self, timeout: float | None) -> bool:
        """Wait for a wake-up call, at most `timeout` seconds (None: for ever); True if woken."""
        self._loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                await self._woken.wait()
        except TimeoutError:
            return False
        finally:
            self._woken.clear()
        return True

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Keep the delivery loop from starting a run meanwhile."""
        async with self._running:
            yield
