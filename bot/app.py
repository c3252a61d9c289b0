"""The application context: settings, database, clock and calendar, opened once per process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock, clock_for
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.store import answer_changes as answer_changes  # counts changes answers read
from bot.store import changes as changes  # registers the stamping of changed decisions
from bot.store import db
from bot.store import status_model as status_model  # keeps the status read model true
from bot.store.directory import Directory, load_directory, stored_fingerprint
from bot.store.engine import SchemaOutOfDate as SchemaOutOfDate
from bot.store.engine import open_engine
from bot.store.secrets import payload_key
from bot.views.cards import PayloadSigner

if TYPE_CHECKING:
    from bot.metrics import Metrics


@dataclass
class App:
    settings: Settings
    engine: Engine
    clock: Clock
    calendar: CouncilCalendar
    _metrics: Metrics | None = None
    _metrics_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def metrics(self) -> Metrics:
        """This process's counters, made on first use: only the server and the ticks count,
        and Prometheus's client is not worth importing for every command."""
        with self._metrics_lock:  # one registry, even if two threads count first at once
            if self._metrics is None:
                from bot.metrics import Metrics

                self._metrics = Metrics()
            return self._metrics

    @classmethod
    def open(
        cls, settings: Settings, *, clock: Clock | None = None, migrate: bool | None = None
    ) -> App:
        """Open the database; an embedded SQLite is upgraded automatically."""
        engine = open_engine(settings.database_url, migrate=migrate)
        with db.session_scope(engine) as session:
            # Made once up front, so concurrent first clicks never race to create it.
            PayloadSigner(payload_key(session))
        return cls(
            settings=settings,
            engine=engine,
            clock=clock or clock_for(settings.pinned_now),
            calendar=CouncilCalendar.from_settings(settings.council),
        )

    def now(self) -> datetime:
        return self.clock.now()

    def local_now(self) -> datetime:
        """Now in the council's time zone (where a date and time picker starts)."""
        return self.now().astimezone(ZoneInfo(self.settings.council.timezone))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with db.session_scope(self.engine) as session:
            yield session

    _directory_cache: Directory | None = None

    def directory(self, session: Session) -> Directory:
        """The directory snapshot, reloaded only when an import has changed it."""
        current = stored_fingerprint(session)
        cached = self._directory_cache
        if cached is None or cached.fingerprint != current or not current:
            cached = load_directory(session)
            self._directory_cache = cached
        return cached
