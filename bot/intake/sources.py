"""Pulling the configured sources: each one whole or not at all, its health kept for status."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp

from bot.config import ModernGovSource
from bot.intake.moderngov import Fetcher, SourceError, read_source
from bot.intake.source_health import stale_sources as stale_sources
from bot.intake.store import store_decisions
from bot.store.models import SourceState

if TYPE_CHECKING:
    from bot.app import App


@dataclass
class PullResult:
    source: str
    ok: bool
    items: int = 0
    changes: dict[str, object] = field(default_factory=dict)
    error: str = ""
    skipped: bool = False

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def source_name(source: ModernGovSource) -> str:
    return f"moderngov:{source.name}"


def pull_sources(
    *,
    app: App,
    force: bool = False,
    only: str | None = None,
    progress: Callable[[str], None] | None = None,
    fetcher_options: dict[str, object] | None = None,
) -> list[PullResult]:
    """Pull each configured ModernGov source whose interval has passed (or all, with force)."""
    results = []
    for source in app.settings.moderngov:
        if only and source.name != only:
            continue
        name = source_name(source)
        now = app.now()
        with app.session() as session:
            state = session.get(SourceState, name)
            last = state.last_attempt_at if state else None
        if not force and last and now - last < timedelta(minutes=source.interval_minutes):
            results.append(PullResult(name, True, skipped=True))
            continue
        results.append(_pull(app, source, now, progress, fetcher_options or {}))
    return results


def _pull(
    app: App,
    source: ModernGovSource,
    now: datetime,
    progress: Callable[[str], None] | None,
    options: dict[str, object],
) -> PullResult:
    name = source_name(source)

    async def read() -> list:
        async with aiohttp.ClientSession() as session:
            settings: dict[str, object] = {
                "requests_per_second": source.requests_per_second,
                "timeout_seconds": source.timeout_seconds,
                **options,
            }
            fetcher = Fetcher(session, **settings)  # type: ignore[arg-type]
            return await read_source(
                base_url=source.base_url,
                executive_committees=source.executive_committees,
                fetcher=fetcher,
                today=app.calendar.local_date(now),
                horizon_days=app.settings.rules.horizon_days,
                progress=progress,
            )

    try:
        records = asyncio.run(read())
    except SourceError as exc:
        # The last good data stays; status and /healthz say the source is stale.
        with app.session() as session:
            state = session.get(SourceState, name) or SourceState(name=name)
            state.last_attempt_at = now
            state.stale_since = state.stale_since or now
            state.last_error = str(exc)[:1000]
            session.add(state)
        return PullResult(name, False, error=str(exc))
    with app.session() as session:
        result = store_decisions(session, records, source=name, now=now, complete=True)
        state = session.get(SourceState, name) or SourceState(name=name)
        state.last_attempt_at = state.last_success_at = now
        state.stale_since = None
        state.last_error = ""
        session.add(state)
    return PullResult(name, True, items=len(records), changes=result.as_dict())
