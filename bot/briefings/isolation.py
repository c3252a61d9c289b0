"""One bad item never stops the council: the sweep works each decision out in isolation, so an
item that raises is skipped, flagged in words and named in /healthz while the rest go on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlmodel import Session

from bot.decisions.rules import Flag
from bot.views.phrases import NOT_ASSESSED, NOT_ASSESSED_DATE, NOT_ASSESSED_OTHER

log = logging.getLogger(__name__)


class Undoable(Protocol):
    """What collects an item's work until the sweep writes it: it can forget the last item's."""

    def mark(self) -> Any: ...

    def undo_to(self, mark: Any, objects: list[Any]) -> None: ...


class NotAssessed(Exception):
    """Working one item out raised; `why` says so in words a clerk can act on."""

    def __init__(self, ref: str, why: str) -> None:
        super().__init__(f"{ref}: {why}")
        self.why = why

    def flags(self) -> list[dict[str, str]]:
        """The item's only flag until it is fixed."""
        return [{"code": Flag.NOT_ASSESSED.value, "text": NOT_ASSESSED.format(reason=self.why)}]


def not_assessed_reason(exc: Exception) -> str:
    """Why an item could not be assessed, in words."""
    if isinstance(exc, OverflowError) or (
        isinstance(exc, ValueError) and "date" in str(exc).lower()
    ):
        return NOT_ASSESSED_DATE
    return NOT_ASSESSED_OTHER.format(kind=type(exc).__name__)


@contextmanager
def isolated(
    session: Session,
    work: Undoable,
    *,
    ref: str,
    loaded: list[Any],
    writes_at_once: bool,
) -> Iterator[None]:
    """Run one item's reconciliation; if it raises, undo what it did and raise NotAssessed.

    Most items only collect work for the sweep's single bulk write, so forgetting it (and
    expiring the rows it touched) is enough. An item that writes at once (re-opening after a
    material change queues messages and audits) runs in a savepoint too.
    """
    mark = work.mark()
    savepoint = session.begin_nested() if writes_at_once else None
    try:
        yield
    except Exception as exc:
        if savepoint is not None:
            savepoint.rollback()
        work.undo_to(mark, loaded)
        log.warning(
            "sweep: %s could not be assessed (%s: %s); skipped, the rest go on",
            ref,
            type(exc).__name__,
            exc,
        )
        raise NotAssessed(ref, not_assessed_reason(exc)) from None
    if savepoint is not None:
        savepoint.commit()
