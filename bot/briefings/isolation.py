"""One bad item never stops the council: the sweep works each decision out in isolation, so an
item that raises is skipped, flagged in words and named in /healthz while the rest go on."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from bot.decisions.rules import Flag
from bot.views.phrases import NOT_ASSESSED, NOT_ASSESSED_DATE, NOT_ASSESSED_OTHER

if TYPE_CHECKING:  # the sweep's worker process imports this module and needs no ORM
    from sqlmodel import Session

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


def skipped(ref: str, raised: str, text: str) -> None:
    """Log an item the sweep skipped: what it raised (kind and words), for the operator."""
    log.warning(
        "sweep: %s could not be assessed (%s: %s); skipped, the rest go on", ref, raised, text
    )


class isolated:
    """Run one item's reconciliation; if it raises, undo what it did and raise NotAssessed.

    Most items only collect work for the sweep's single bulk write, so forgetting it (and
    expiring the rows it touched) is enough. An item that writes at once (re-opening after a
    material change queues messages and audits) runs in a savepoint too. A class, not a
    generator: a sweep enters it a hundred thousand times.
    """

    __slots__ = ("loaded", "mark", "ref", "savepoint", "session", "work", "writes_at_once")

    def __init__(
        self,
        session: Session,
        work: Undoable,
        *,
        ref: str,
        loaded: list[Any],
        writes_at_once: bool,
    ) -> None:
        self.session = session
        self.work = work
        self.ref = ref
        self.loaded = loaded
        self.writes_at_once = writes_at_once

    def __enter__(self) -> None:
        self.mark = self.work.mark()
        self.savepoint = self.session.begin_nested() if self.writes_at_once else None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        if exc is None:
            if self.savepoint is not None:
                self.savepoint.commit()
            return
        if not isinstance(exc, Exception):
            return  # an interrupt goes straight through
        if self.savepoint is not None:
            self.savepoint.rollback()
        self.work.undo_to(self.mark, self.loaded)
        skipped(self.ref, type(exc).__name__, str(exc))
        raise NotAssessed(self.ref, not_assessed_reason(exc)) from None
