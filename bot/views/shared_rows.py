"""Status rows, and the other parts of an answer no window changes (the heads-up lines),
shared between different questions while nothing they depend on has changed (issue 15).

Two chief executives' questions with different windows or pages list mostly the same urgent
rows, and building a row (names, flags, masking) costs more than finding it. Parts are kept
per database under a key of everything they read — the data's version (the `answers` change
counter, the audit chain's length, the sweep's record, the decision change counter and newest
change, the newest briefing, reachability, the read model's key), the
directory snapshot, the settings, the viewer, the portfolio and the language — and only until
the next instant at which any of them would read differently (a briefing turning amber or red
or late, a heads-up leaving the last 14 days, local midnight); a question asked after that,
or with the clock set back, builds them afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import func, select
from sqlmodel import Session

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store.answer_changes import ANSWERS
from bot.store.directory import Directory
from bot.store.models import (
    AuditHead,
    ChangeCounter,
    ChatIdentity,
    StatusModel,
    table_of,
)
from bot.store.status_model import fact_columns
from bot.views.bilingual import speaking_now
from bot.views.question import Question
from bot.views.rag_thresholds import JUST_AFTER, thresholds
from bot.views.status import StatusRow


def _version_statement() -> Any:
    audit, identities, model = table_of(AuditHead), table_of(ChatIdentity), table_of(StatusModel)
    counter = table_of(ChangeCounter)
    # Giving and acknowledging heads-ups, like every action, lengthen the audit chain. A
    # briefing's state set through its model object, audited or not, and every rebuild of the
    # read model take the next value of the `answers` counter (`bot/store/answer_changes.py`).
    return select(
        select(model.c.current).where(model.c.id == 1).scalar_subquery(),
        select(counter.c.value).where(counter.c.name == ANSWERS).scalar_subquery(),
        select(audit.c.seq).where(audit.c.id == 1).scalar_subquery(),
        select(func.max(identities.c.updated_at)).scalar_subquery(),
        select(func.count()).where(identities.c.reachable).scalar_subquery(),
        select(model.c.key).where(model.c.id == 1).scalar_subquery(),
        *fact_columns(),
    )


# Built once: building a statement costs more than running it.
VERSION = _version_statement()


_ANSWERING = "shared_rows_version"


@contextmanager
def one_version(session: Session) -> Iterator[None]:
    """Inside, the data's version is read once: answering a question writes nothing. Nested,
    the outermost block's reading holds throughout."""
    if _ANSWERING in session.info:
        yield
        return
    session.info[_ANSWERING] = None
    try:
        yield
    finally:
        session.info.pop(_ANSWERING, None)


def data_version(session: Session) -> tuple[Any, ...]:
    """Everything a status row reads that can change, as one tuple (one statement)."""
    found = session.info.get(_ANSWERING)
    if found is None:
        found = tuple(session.connection().execute(VERSION).one())
        if _ANSWERING in session.info:
            session.info[_ANSWERING] = found
    return found


class _Generation:
    """The rows built for one key, and the instants between which they hold."""

    __slots__ = ("built", "directory", "key", "parts", "rows", "settings", "until")

    def __init__(
        self, key: tuple[Any, ...], directory: Directory, settings: Settings, built: datetime
    ) -> None:
        self.key, self.directory, self.settings = key, directory, settings
        self.built, self.until = built, datetime.max.replace(tzinfo=built.tzinfo)
        self.rows: dict[str, list[StatusRow]] = {}
        self.parts: dict[Hashable, Any] = {}

    def holds(
        self, key: tuple[Any, ...], directory: Directory, settings: Settings, now: datetime
    ) -> bool:
        return (
            self.key == key
            and self.directory is directory
            and self.settings is settings
            and self.built <= now < self.until
        )


# One generation per database engine and (viewer, portfolio, language, only their own rows): a
# new version replaces it, so nothing stale is ever kept alongside.
_shared: WeakKeyDictionary[Any, dict[tuple[str, str, str, bool], _Generation]] = WeakKeyDictionary()
_lock = threading.Lock()
MAX_GENERATIONS = 64  # viewers asking at once; beyond it, start again


def forget_shared() -> None:
    """Drop every kept generation, so the next question builds afresh: what the first
    question after any change costs (the benchmarks measure it)."""
    with _lock:
        _shared.clear()


def _generation(
    session: Session,
    *,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
    who: tuple[str, str, str, bool],
) -> _Generation:
    """What has been built for `who` under the data as it is now, or a fresh generation."""
    bind = session.get_bind()
    key = data_version(session)
    if not key[0]:
        # The read model is out of date, so a state set without an audit would go unseen:
        # nothing is shared until the sweep rebuilds it.
        return _Generation(key, directory, settings, now)
    with _lock:
        generations = _shared.setdefault(bind, {})
        generation = generations.get(who)
        if generation is None or not generation.holds(key, directory, settings, now):
            if len(generations) >= MAX_GENERATIONS:
                generations.clear()
            generation = generations[who] = _Generation(key, directory, settings, now)
            # Whatever is built reads today's date (flags, working days): until midnight.
            generation.until = calendar.start_of_day(calendar.local_date(now) + timedelta(days=1))
    return generation


def _keep(
    generation: _Generation, now: datetime, until: datetime, store: Callable[[], None]
) -> None:
    with _lock:
        # Built later than the generation's first moment: an earlier moment is a miss.
        generation.built = max(generation.built, now)
        generation.until = min(generation.until, until)
        store()


def shared_rows(
    refs: Collection[str],
    question: Question,
    *,
    build: Callable[[Collection[str]], list[StatusRow]],
    own: bool = False,
) -> list[StatusRow]:
    """These items' rows, from those built before for this viewer when still true, building
    (with `build`) only the missing ones. `own`: only the viewer's own rows of each item, for
    someone who would otherwise see them whole (`/surprises mine`)."""
    now, settings, calendar = question.now, question.settings, question.calendar
    generation = _generation(
        question.session,
        settings=settings,
        calendar=calendar,
        directory=question.directory,
        now=now,
        who=(question.viewer_email, question.portfolio, speaking_now(), own),
    )
    missing = [ref for ref in refs if ref not in generation.rows]
    if missing:
        built = build(missing)
        found: dict[str, list[StatusRow]] = {ref: [] for ref in missing}
        for row in built:
            found.setdefault(row.ref, []).append(row)
        far = datetime.max.replace(tzinfo=now.tzinfo)
        until = min((_next_change(row, calendar, settings, now) for row in built), default=far)
        _keep(generation, now, until, lambda: generation.rows.update(found))
    return [row for ref in refs for row in generation.rows.get(ref, [])]


def shared_part(
    name: Hashable,
    *,
    session: Session,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
    viewer_email: str,
    build: Callable[[], tuple[Any, datetime]],
) -> Any:
    """A part of this viewer's answers that no window changes (`name` says which), built by
    `build` (the part, and the first instant after now at which it may read differently)
    unless built before under the data as it is now."""
    generation = _generation(
        session,
        settings=settings,
        calendar=calendar,
        directory=directory,
        now=now,
        who=(viewer_email, "", speaking_now(), False),
    )
    if name in generation.parts:
        return generation.parts[name]
    part, until = build()
    _keep(generation, now, until, lambda: generation.parts.__setitem__(name, part))
    return part


def _next_change(
    row: StatusRow, calendar: CouncilCalendar, settings: Settings, now: datetime
) -> datetime:
    """The first instant after `now` at which this row's colour or late flag can change."""
    far = datetime.max.replace(tzinfo=now.tzinfo)
    if row.due_at is None:
        return far
    instants = thresholds(
        due_at=row.due_at, decision_due=row.decision_due, calendar=calendar, settings=settings
    )
    later = [t for t in (instants.amber_at, instants.red_at, row.due_at + JUST_AFTER) if t > now]
    return min(later, default=far)
