"""One process serves everything: the aiohttp app (Slack, Teams, /healthz), the scheduler and
the console, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import signal
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, text
from sqlmodel import col

from bot import logs
from bot.app import App
from bot.clock import SettableClock
from bot.config import SettingsTable
from bot.delivery.hub import Hub
from bot.delivery.plugins import installed_adapters
from bot.delivery.ports import AdapterPlugin, ChatAdapter, InteractiveAdapter, adapter_settings
from bot.intake.sources import configured_sources, source_health
from bot.logs import new_request_id, request_id
from bot.service import calendar_hold
from bot.store import db
from bot.store.models import Decision, SourceState, TickRun
from bot.ticks import audit_check_tick, deliver_tick, sweep_tick
from bot.views.bilingual import say
from bot.views.platform_phrases import HOLD_REFUSED

log = logging.getLogger(__name__)
APP_KEY = web.AppKey("app", App)
HUB_KEY = web.AppKey("hub", Hub)
ADVISORY_LOCK_KEY = 0x4E6F5375  # "NoSu": one tick-runner per PostgreSQL database


class TickLeader:
    """Elects the one process that runs ticks: a PostgreSQL session advisory lock held on a
    dedicated connection (released if the process dies). SQLite: always the leader."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._connection: Any = None

    def is_leader(self) -> bool:
        if db.is_sqlite(self.app.engine):
            return True
        try:
            if self._connection is None:
                self._connection = self.app.engine.connect()
            if self._connection.execute(text("SELECT 1")).scalar() != 1:
                raise RuntimeError("lost connection")
            held = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            self._connection.commit()
            return bool(held)
        except Exception:
            log.warning("leader check failed; not running ticks this time", exc_info=True)
            if self._connection is not None:
                self._connection.invalidate()
                self._connection = None
            return False

    def release(self) -> None:
        if self._connection is not None:
            # Unlock first: the server frees a dropped session's locks only once it notices the
            # disconnect, so another process asking at once could still find the lock held.
            try:
                # Session locks stack, one per successful try: unlock them all.
                self._connection.execute(text("SELECT pg_advisory_unlock_all()"))
                self._connection.commit()
            except Exception:
                log.debug("advisory unlock failed; closing the connection frees the lock anyway")
            # close() alone would hand the connection back to the pool still holding the
            # session-level lock; invalidating closes it for real, so another process can lead.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None


def health(app: App) -> dict[str, Any]:
    """Database reachability, the last run of each tick, stale sources, items not assessed.

    "status" is "degraded" when any of them is wrong; the HTTP status is 503 only when the
    database is unreachable (restarting the process cures nothing else)."""
    reachable = db.database_reachable(app.engine)
    body: dict[str, Any] = {
        "database": "ok" if reachable else "unreachable",
        "ticks": {},
        "stale_sources": [],
        "sources": [],
        "not_assessed": [],
    }
    if reachable:
        with app.session() as session:
            for tick in session.scalars(select(TickRun)):
                body["ticks"][tick.name] = {
                    "last_started_at": tick.last_started_at.isoformat()
                    if tick.last_started_at
                    else None,
                    "last_finished_at": tick.last_finished_at.isoformat()
                    if tick.last_finished_at
                    else None,
                    "last_status": tick.last_status,
                }
            for source in session.scalars(
                select(SourceState).where(col(SourceState.stale_since).is_not(None))
            ):
                assert source.stale_since is not None  # the query selects only stale sources
                body["stale_sources"].append(
                    {
                        "name": source.name,
                        "stale_since": source.stale_since.isoformat(),
                        "error": source.last_error,
                    }
                )
            body["sources"] = source_health(session, configured_sources(app.settings))
            # Items the sweep skipped because working them out raised: named, so they get fixed.
            for ref, why in session.execute(
                select(col(Decision.ref), col(Decision.assess_error))
                .where(col(Decision.assess_error) != "")
                .order_by(col(Decision.ref))
            ):
                body["not_assessed"].append({"ref": ref, "problem": why})
    failing = [n for n, t in body["ticks"].items() if t["last_status"] == "error"]
    healthy = reachable and not failing and not body["stale_sources"] and not body["not_assessed"]
    body["status"] = "ok" if healthy else "degraded"
    return body


def metrics_text(app: App) -> bytes:
    """Prometheus exposition text: this process's counters, the database's figures now."""
    with app.session() as session:
        return app.metrics.render(session, now=app.now())


def metrics_content_type() -> str:
    from bot.metrics import CONTENT_TYPE

    return CONTENT_TYPE


@web.middleware
async def with_request_id(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every log line written while handling a request carries its id (X-Request-Id if the
    caller sent a plain one), and the response says which id it was."""
    rid = new_request_id(request.headers.get("X-Request-Id"))
    request_id.set(rid)
    response = await handler(request)
    response.headers["X-Request-Id"] = rid
    return response


def build_web_app(app: App, hub: Hub) -> web.Application:
    web_app = web.Application(middlewares=[with_request_id])
    web_app[APP_KEY] = app
    web_app[HUB_KEY] = hub

    async def healthz(_request: web.Request) -> web.Response:
        body = await asyncio.to_thread(health, app)
        return web.json_response(body, status=200 if body["database"] == "ok" else 503)

    async def metrics(_request: web.Request) -> web.Response:
        try:
            body = await asyncio.to_thread(metrics_text, app)
        except Exception as exc:
            log.warning("/metrics: the database could not be read (%s)", type(exc).__name__)
            return web.Response(status=503, text="The database could not be read.\n")
        return web.Response(body=body, headers={"Content-Type": metrics_content_type()})

    async def calendar_hold_ics(request: web.Request) -> web.Response:
        body = await calendar_hold(hub, token=request.match_info["token"])
        if body is None:
            return web.Response(
                text=say(app.settings.council.language, lambda tr: tr(HOLD_REFUSED)),
                status=403,
                content_type="text/plain",
                headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
            )
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get(r"/calendar/hold/{token:[A-Za-z0-9_.-]+}.ics", calendar_hold_ics)
    web_app.router.add_get("/metrics", metrics)
    return web_app


def enabled_adapters(app: App, *, interactive: bool) -> list[tuple[AdapterPlugin, Any]]:
    """The installed adapters the council has turned on, with their settings."""
    chosen = []
    for name, plugin in installed_adapters().items():
        settings = adapter_settings(app.settings, name)
        if settings is None:  # settings made in code, not read from a file: the defaults
            settings = plugin.read_settings(SettingsTable({}, "(built-in defaults)"))
        if not settings.enabled:
            continue
        if plugin.interactive and not interactive:
            continue
        chosen.append((plugin, settings))
    return chosen


def mount_adapters(
    app: App, hub: Hub, web_app: web.Application, *, interactive: bool = False
) -> list[ChatAdapter]:
    """Build each enabled adapter; each registers with the hub and adds its routes."""
    started: list[ChatAdapter] = []
    for plugin, settings in enabled_adapters(app, interactive=interactive):
        adapter = plugin.create(hub, settings)
        hub.register(adapter)
        adapter.mount(web_app)
        started.append(adapter)
    return started


async def deliver_loop(hub: Hub, *, interval: float | None) -> None:
    """Deliver whenever an action wakes us, else every `interval` seconds (None: only when
    woken). Runs in every process: claims keep each message single."""
    while True:
        await hub.wakeup.wait(interval)
        async with hub.wakeup.held():
            await deliver_tick(hub)


def start_scheduler(app: App, hub: Hub, leader: TickLeader) -> AsyncIOScheduler:
    """Named interval ticks on the running loop; coalesced, one instance each."""
    scheduler = AsyncIOScheduler(timezone=app.settings.council.timezone)
    s = app.settings.scheduler

    async def led(tick) -> None:
        if await asyncio.to_thread(leader.is_leader):
            await tick(hub)

    options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    scheduler.add_job(
        led, "interval", args=[sweep_tick], seconds=s.sweep_interval_seconds, id="sweep", **options
    )
    scheduler.add_job(
        led,
        "interval",
        args=[audit_check_tick],
        seconds=s.audit_check_interval_seconds,
        id="audit_check",
        **options,
    )
    scheduler.start()
    return scheduler


async def run_server(
    app: App, *, port: int | None = None, console: bool = False, stop: asyncio.Event | None = None
) -> None:
    """Serve until stopped (a signal, or the console reaching the end of its input)."""
    hub = Hub(app)
    web_app = build_web_app(app, hub)
    adapters = mount_adapters(app, hub, web_app, interactive=console)
    # An adapter that reads from a terminal (the console) runs the conversation; the server
    # stops when its input ends.
    interactive = next((a for a in adapters if isinstance(a, InteractiveAdapter)), None)
    runner = web.AppRunner(web_app)
    await runner.setup()
    host = app.settings.server.host
    port = app.settings.server.port if port is None else port
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise CannotListen(host, port, exc) from None
    log.info(
        "No Surprises listening on %s",
        [f"{h}:{p}" for h, p, *_ in runner.addresses],
    )
    # Everything loaded so far lives as long as the process: freezing it keeps the full
    # garbage collections (which otherwise walk ~100k start-up objects) short.
    gc.collect()
    gc.freeze()
    leader = TickLeader(app)
    scheduler = None
    delivering: asyncio.Task[None] | None = None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    try:
        for adapter in adapters:
            await adapter.start()
        # A pinned (settable) clock only moves when told: the console's `now` and `tick` run
        # the ticks then. A real clock gets the scheduler.
        if not isinstance(app.clock, SettableClock):
            scheduler = start_scheduler(app, hub, leader)
        if await asyncio.to_thread(leader.is_leader):
            await sweep_tick(hub)
        await deliver_tick(hub)
        # A pinned clock sends only what an action queued (or `tick` and `now` ask for): the
        # clock not moving, nothing else falls due by itself.
        pinned = isinstance(app.clock, SettableClock)
        interval = None if pinned else float(app.settings.scheduler.deliver_interval_seconds)
        delivering = asyncio.create_task(deliver_loop(hub, interval=interval))
        if interactive is not None:
            await interactive.run(stop)
        else:
            await stop.wait()
    finally:
        if delivering is not None:
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        for adapter in adapters:
            await adapter.stop()
        leader.release()
        await runner.cleanup()


class CannotListen(Exception):
    """The HTTP port could not be opened (in use, or not allowed)."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        reason = (
            "it is already in use"
            if error.errno == errno.EADDRINUSE
            else (error.strerror or str(error)).lower()
        )
        super().__init__(
            f"cannot listen on {host}:{port}: {reason}. Stop the other program, or choose "
            "another port with --port or [server] port in the config"
        )


def serve(
    app: App, *, port: int | None = None, console: bool = True, log_format: str = "text"
) -> int:
    """Run the bot until SIGTERM or SIGINT (or, with the console, the end of its input)."""
    # With the console on, only warnings reach the terminal so the conversation stays readable.
    logs.configure(fmt=log_format, level=logging.WARNING if console else logging.INFO)
    asyncio.run(run_server(app, port=port, console=console))
    return 0
