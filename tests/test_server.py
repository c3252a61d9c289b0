"""The one process: run_server with the console until the end of its input, /healthz over
real HTTP, tick health, and the PostgreSQL advisory lock that elects one tick-runner."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from livebot import (
    OWEN,
    Bot,
    local,
    make_bot,
    postgres_url,
    sqlite_url,
)

from bot import server as server_module
from bot.app import App
from bot.clock import SettableClock
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.delivery.hub import Hub
from bot.server import TickLeader, build_web_app, health, run_server
from bot.store.db import make_engine
from bot.ticks import run_tick


@pytest.fixture
def bot(tmp_path) -> Bot:
    return make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 9, 30))


def listening_port(caplog) -> int:
    for record in caplog.records:
        if record.name == "bot.server" and record.msg.startswith("No Surprises listening"):
            return int(re.search(r":(\d+)'", str(record.args)).group(1))
    raise AssertionError("the server never said where it listens")


async def test_the_server_runs_the_console_script_and_stops_at_the_end_of_input(
    bot: Bot, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="bot.server")
    script = io.StringIO("as Owen Brady\n# a comment\n\nhome\n/surprises mine\nwho\n")
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", script)
    monkeypatch.setattr(sys, "stdout", out)
    await asyncio.wait_for(run_server(bot.app, port=0, console=True), timeout=30)
    text = out.getvalue()
    assert text.startswith("No Surprises console. It is Tue 5 Jan 2027 09:30.")
    assert "> as Owen Brady" in text
    assert "You are now Owen Brady <owen.brady@harbourside.example.gov.uk> (officer)." in text
    assert "── Home for Owen Brady" in text
    assert "Millbrook Park Play Area Refurbishment" in text
    assert "Your briefings" in text
    assert "a comment" not in text
    # The start-up ticks ran (the first prompts went out through the console).
    assert "── To Owen Brady <owen.brady@harbourside.example.gov.uk>" in text
    assert {n.status for n in bot.nudges(recipient_email=OWEN)} == {"sent"}
    assert listening_port(caplog) > 0
    runs = {name: run.last_status for name, run in _tick_runs(bot).items()}
    assert runs == {"sweep": "ok", "deliver": "ok"}


async def test_the_server_stops_at_once_on_empty_input(bot: Bot, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    await asyncio.wait_for(run_server(bot.app, port=0, console=True), timeout=30)


def _tick_runs(bot: Bot):
    from sqlalchemy import select

    from bot.store.models import TickRun

    with bot.app.session() as session:
        return {t.name: t for t in session.scalars(select(TickRun))}


async def test_healthz_reports_the_database_and_each_ticks_last_run(bot: Bot, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="bot.server")
    ready = asyncio.Event()
    original = server_module.deliver_tick

    async def deliver_then_ready(hub):
        result = await original(hub)
        ready.set()
        return result

    monkeypatch.setattr(server_module, "deliver_tick", deliver_then_ready)
    stop = asyncio.Event()
    serving = asyncio.create_task(run_server(bot.app, port=0, console=False, stop=stop))
    try:
        await asyncio.wait_for(ready.wait(), timeout=30)
        url = f"http://127.0.0.1:{listening_port(caplog)}/healthz"
        async with aiohttp.ClientSession() as client:
            async with client.get(url) as response:
                assert response.status == 200
                body = await response.json()
            assert body["database"] == "ok" and body["status"] == "ok"
            assert set(body["ticks"]) == {"sweep", "deliver"}
            for tick in body["ticks"].values():
                assert tick["last_status"] == "ok"
                assert tick["last_started_at"] == "2027-01-05T09:30:00+00:00"
                assert tick["last_finished_at"] == "2027-01-05T09:30:00+00:00"
            assert body["stale_sources"] == []

            # A tick fails: still reachable, but degraded, and it says which tick.
            async def broken():
                raise RuntimeError("database on fire")

            assert await run_tick(Hub(bot.app), "sweep", broken) is None
            async with client.get(url) as response:
                assert response.status == 200
                body = await response.json()
            assert body["status"] == "degraded"
            assert body["ticks"]["sweep"]["last_status"] == "error"
            assert body["ticks"]["deliver"]["last_status"] == "ok"
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=30)
    assert _tick_runs(bot)["sweep"].last_error.strip().endswith("RuntimeError: database on fire")


async def test_health_says_degraded_when_a_tick_failed_and_ok_once_it_recovers(bot: Bot):
    hub = Hub(bot.app)
    assert health(bot.app)["status"] == "ok"

    async def broken():
        raise ValueError("no")

    await run_tick(hub, "deliver", broken)
    report = health(bot.app)
    assert report["status"] == "degraded"
    assert report["ticks"]["deliver"]["last_status"] == "error"

    async def fine():
        return 1

    assert await run_tick(hub, "deliver", fine) == 1
    assert health(bot.app)["status"] == "ok"


async def test_healthz_and_metrics_answer_503_when_the_database_is_unreachable():
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/nothing")
    app = App(
        settings=settings,
        engine=make_engine(settings.database_url),
        clock=SettableClock(local(2027, 1, 5, 10, 0)),
        calendar=CouncilCalendar(),
    )
    web_app = build_web_app(app, Hub(app))
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        body = await response.json()
        metrics = await client.get("/metrics")
        assert metrics.status == 503
        assert await metrics.text() == "The database could not be read.\n"
    assert body["database"] == "unreachable" and body["status"] == "degraded"
    app.engine.dispose()


def test_on_sqlite_every_process_is_the_tick_leader(bot: Bot):
    leader = TickLeader(bot.app)
    assert leader.is_leader() and leader.is_leader()
    leader.release()
    assert TickLeader(bot.app).is_leader()


def test_on_postgresql_exactly_one_process_leads_and_another_takes_over(request):
    pg_url = postgres_url(request)
    first = make_bot(pg_url, local(2027, 1, 5, 10, 0), migrate=True, seed=False)
    second = make_bot(pg_url, local(2027, 1, 5, 10, 0), seed=False)
    assert first.app.engine is not second.app.engine
    one, two = TickLeader(first.app), TickLeader(second.app)
    try:
        assert one.is_leader() is True
        assert two.is_leader() is False
        # Asking again changes nothing: the leader keeps leading, the other keeps waiting.
        assert one.is_leader() is True
        assert two.is_leader() is False
        one.release()
        assert two.is_leader() is True
        assert one.is_leader() is False
    finally:
        one.release()
        two.release()
        first.app.engine.dispose()
        second.app.engine.dispose()
