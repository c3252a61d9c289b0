"""Pulling the configured sources: each one whole or not at all, its health kept for status."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import aiohttp

from bot.config import ModernGovSource
from bot.decisions.exempt import exempt_nation
from bot.intake.directory_apply import apply_directory_plan, current_directory
from bot.intake.directory_sync import DirectoryPlan, plan_directory_sync
from bot.intake.moderngov import (
    DEFAULT_PROCEDURAL,
    Fetcher,
    SourceError,
    executive_roles,
    read_source,
)
from bot.intake.moderngov_xml import Councillor, councillors_by_ward
from bot.intake.source_health import configured_sources as configured_sources
from bot.intake.source_health import source_health as source_health
from bot.intake.source_health import source_name
from bot.intake.source_health import stale_sources as stale_sources
from bot.intake.store import store_decisions
from bot.store.directory import Directory, load_directory
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
    with app.session() as session:
        directory = load_directory(session)

    async def read() -> list:
        async with aiohttp.ClientSession() as session:
            fetcher = _fetcher(session, source, options)
            return await read_source(
                base_url=source.base_url,
                executive_committees=source.executive_committees,
                fetcher=fetcher,
                today=app.calendar.local_date(now),
                horizon_days=app.settings.rules.horizon_days,
                progress=progress,
                nation=exempt_nation(app.settings.council.nation),
                council_name=app.settings.council.name,
                procedural=(*DEFAULT_PROCEDURAL, *source.procedural_items),
                find_person=lambda text: person_email(directory, text),
                find_portfolio=lambda text: portfolio_name(directory, text),
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


@dataclass
class DirectoryResult:
    """One source's directory sync: the diff, and whether it was applied."""

    source: str
    ok: bool
    applied: bool = False
    plan: DirectoryPlan = field(default_factory=DirectoryPlan)
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "ok": self.ok,
            "applied": self.applied,
            "error": self.error,
            **self.plan.as_dict(),
        }


def sync_directories(
    *,
    app: App,
    apply: bool,
    only: str | None = None,
    actor: str = "",
    fetcher_options: dict[str, object] | None = None,
) -> list[DirectoryResult]:
    """Compare each source's councillors with the directory; write the changes with `apply`."""
    results = []
    for source in app.settings.moderngov:
        if only and source.name != only:
            continue
        name = source_name(source)
        page = urljoin(source.base_url.rstrip("/") + "/", "mgWebService.asmx/GetCouncillorsByWard")

        async def read(source: ModernGovSource = source, page: str = page) -> list[Councillor]:
            async with aiohttp.ClientSession() as session:
                fetcher = _fetcher(session, source, fetcher_options or {})
                found = councillors_by_ward(await fetcher.get(page), page)
                roles = await executive_roles(
                    base_url=source.base_url,
                    executive_committees=source.executive_committees,
                    fetcher=fetcher,
                    today=app.calendar.local_date(app.now()),
                )
            # The executive's own list says who holds which portfolio before key posts do.
            return [
                replace(c, key_posts=(roles[c.name.lower()], *c.key_posts))
                if c.name.lower() in roles
                else c
                for c in found
            ]

        try:
            councillors = asyncio.run(read())
            if not councillors:
                raise SourceError(page, "lists no councillors; the directory is left as it is")
        except SourceError as exc:
            results.append(DirectoryResult(name, False, error=str(exc)))
            continue
        with app.session() as session:
            people, portfolios = current_directory(session)
            plan = plan_directory_sync(
                current=people,
                portfolios=portfolios,
                councillors=councillors,
                mapping=source.portfolios,
            )
            if apply:
                apply_directory_plan(session, plan, source=name, now=app.now(), actor=actor)
        results.append(DirectoryResult(name, True, applied=apply, plan=plan))
    return results


def _fetcher(
    session: aiohttp.ClientSession, source: ModernGovSource, options: dict[str, object]
) -> Fetcher:
    settings: dict[str, object] = {
        "requests_per_second": source.requests_per_second,
        "timeout_seconds": source.timeout_seconds,
        "contact": source.contact,
        **options,
    }
    return Fetcher(session, **settings)  # type: ignore[arg-type]


def person_email(directory: Directory, text: str) -> str:
    """The directory email of a person named (or emailed) by a council's site, or ""."""
    found = directory.person(text) or directory.person_by_name(text)
    return found.email if found else ""


def portfolio_name(directory: Directory, text: str) -> str:
    """The portfolio a member's name or title stands for ("Cllr Sarah Whitlock", "Cabinet
    Member for Housing"), or ""."""
    found = directory.portfolio(text) or directory.portfolio_of_holder(text)
    return found.name if found else ""
