"""The named ticks. The scheduler (or the console's clock) only wakes them; the database says
what is due, so a late or missed tick catches up and a restart loses nothing."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.briefings.escalate import TickReport, run_sweep_tick
from bot.gc_pause import collection_paused
from bot.intake.sources import pull_sources
from bot.store import audit
from bot.store.db import large_page_cache
from bot.store.models import TickRun
from bot.store.status_model import will_rebuild
from bot.views.digests import queue_digests
from bot.views.status_model import refresh_status_model

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.app import App
    from bot.delivery.deliverer import DeliveryStats
    from bot.delivery.hub import Hub

log = logging.getLogger(__name__)
TICK_NAMES = ("sweep", "deliver", "audit_check")


def _mark(
    hub: Hub,
    name: str,
    *,
    started: datetime | None = None,
    finished: datetime | None = None,
    status: str = "",
    error: str = "",
) -> None:
    with hub.app.session() as session:
        row = session.get(TickRun, name) or TickRun(name=name)
        if started:
            row.last_started_at = started
        if finished:
            row.last_finished_at = finished
            row.last_status = status
            row.last_error = error[:2000]
        session.add(row)


async def run_tick(hub: Hub, name: str, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run one tick, recording when it ran and how it ended (for /healthz and /metrics)."""
    import asyncio

    started = hub.app.now()
    timer = time.perf_counter()
    await asyncio.to_thread(_mark, hub, name, started=started)
    try:
        result = await work()
    except Exception:
        log.exception("tick %s failed", name)
        hub.app.metrics.observe_tick(name, time.perf_counter() - timer, failed=True)
        await asyncio.to_thread(
            _mark,
            hub,
            name,
            finished=hub.app.now(),
            status="error",
            error=traceback.format_exc(limit=3),
        )
        return None
    hub.app.metrics.observe_tick(name, time.perf_counter() - timer, failed=False)
    await asyncio.to_thread(_mark, hub, name, finished=hub.app.now(), status="ok")
    return result


def sweep_and_refresh(*, app: App, session: Session, dry_run: bool = False) -> TickReport:
    """One sweep, then (unless a dry run) the status read model rebuilt from what it left, in
    the same transaction, so the chief executive's answers read it straight away."""
    # The rebuild reads what the sweep has just written: with the sweep's larger page cache
    # and without collections walking the sweep's many live objects (measured at 100k).
    with collection_paused(), large_page_cache(session):
        if not dry_run:
            will_rebuild(session)
        report = run_sweep_tick(app=app, session=session, dry_run=dry_run)
        if not dry_run:
            refresh_status_model(
                session=session, settings=app.settings, calendar=app.calendar, now=app.now()
            )
    return report


async def sweep_tick(hub: Hub) -> TickReport | None:
    """Pull due sources, reconcile briefings, run ladders, queue digests."""
    import asyncio

    app = hub.app

    async def work() -> TickReport:
        if app.settings.moderngov:
            # Sources first, so this sweep already sees today's forward plan.
            await asyncio.to_thread(pull_sources, app=app)

        def reconcile() -> TickReport:
            with app.session() as session:
                report = sweep_and_refresh(app=app, session=session)
                queue_digests(
                    session=session,
                    settings=app.settings,
                    calendar=app.calendar,
                    directory=app.directory(session),
                    now=app.now(),
                )
                return report

        return await asyncio.to_thread(reconcile)

    return await run_tick(hub, "sweep", work)


async def deliver_tick(hub: Hub) -> DeliveryStats | None:
    from bot.delivery.deliverer import Deliverer

    return await run_tick(hub, "deliver", Deliverer(hub).run_once)


async def audit_check_tick(hub: Hub) -> bool | None:
    """Verify the audit chain; a broken chain is logged loudly and shown in /healthz."""
    import asyncio

    def check() -> bool:
        with hub.app.session() as session:
            result = audit.verify(session)
        if not result.ok:
            raise RuntimeError(f"audit log broken: {result.problem}")
        return True

    return await run_tick(hub, "audit_check", lambda: asyncio.to_thread(check))
