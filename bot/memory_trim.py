"""Giving memory freed by a burst of wide answers back to the operating system.

glibc keeps what each thread's arena has freed, for that thread to use again: after wide
`/surprises` answers on several threads the serving process kept 60-80 MB it no longer used
(issue 15, bench/bench_serve_rss.py). `malloc_trim(0)` hands it back. Where the C library has
no `malloc_trim` (musl, macOS, Windows) trimming does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from functools import cache
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

Trim = Callable[[int], int]


@cache
def find_malloc_trim() -> Trim | None:
    """glibc's `malloc_trim`, or None where the C library has none (or ctypes cannot load it)."""
    try:
        import ctypes

        # The process's own symbols, which include the C library's: no search for libc's file.
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError, ImportError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def trim_memory(trim: Trim | None = None) -> bool:
    """Give freed heap memory back to the system; False where that cannot be done."""
    trim = trim if trim is not None else find_malloc_trim()
    if trim is None:
        return False
    try:
        trim(0)
    except Exception:  # never worth failing an answer for
        log.debug("malloc_trim failed", exc_info=True)
        return False
    return True


class TrimWhenIdle:
    """Runs heavy jobs on an executor and trims when the last one queued has finished, so a
    burst is trimmed once, at its end, and a quiet server keeps no more than it needs."""

    def __init__(self, trim: Callable[[], object] = trim_memory) -> None:
        self._trim = trim
        self._lock = threading.Lock()
        self._queued = 0

    def submit(self, executor: Executor, work: Callable[[], T]) -> Future[T]:
        """`work` on `executor`; counted from now (queued too) until it is done or cancelled."""
        with self._lock:
            self._queued += 1
        future = executor.submit(work)
        # Added before anyone waits on it: the trim is done before its waiter hears the result.
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future[Any]) -> None:
        with self._lock:
            self._queued -= 1
            idle = self._queued == 0
        if idle:
            self._trim()
