"""Pausing Python's cyclic garbage collector around one large batch of work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, restoring it afterwards, even on error.

    A full sweep builds hundreds of thousands of objects that all stay alive until it ends, so
    every collection in between walks them for nothing (a quarter of the 100k sweep's time).
    Reference counting still frees everything else; cycles wait for the next collection.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
