"""One person's identical question, asked again while it is being answered, shares the answer.

`surprises` for a chief executive on a large council costs tens of milliseconds of CPU in the
core; the same question asked ten times at once (a double-tap, a retry, a client resending)
would otherwise queue ten computations behind each other on one interpreter. Here a question
that arrives while the identical one is in flight waits for that computation instead of
starting its own ("single flight"). The answer it gets was read at most one computation's time
before it arrived, and is exactly what the first asker got — which is what someone who asks the
same thing twice at once expects. Only for read-only questions, keyed by everything the answer
depends on, the asker included; nothing is kept once the answer is out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class Coalescer:
    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        flight = self._flights.get(key)
        if flight is None:
            flight = self._flights[key] = asyncio.get_running_loop().create_future()
            task = asyncio.get_running_loop().create_task(self._fly(key, flight, compute))
            self._tasks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._tasks.discard)
        # Shielded: one asker giving up (a dropped connection) does not cancel the others.
        return await asyncio.shield(flight)

    async def _fly(
        self, key: Hashable, flight: asyncio.Future[Any], compute: Callable[[], Awaitable[Any]]
    ) -> None:
        try:
            value = await compute()
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except Exception as exc:  # every asker sees the failure
            flight.set_exception(exc)
            flight.exception()  # marked retrieved: no "never retrieved" warning
        else:
            flight.set_result(value)
        finally:
            self._flights.pop(key, None)
