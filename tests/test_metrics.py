"""/metrics in Prometheus format: deliveries by platform and kind, ticks, actions, the queue,
stale sources and the audit chain's age, scraped over HTTP as Prometheus would."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp.test_utils import TestClient, TestServer
from livebot import EMMA, OWEN, Bot, RecordingAdapter, local, make_bot, sqlite_url
from prometheus_client.parser import text_string_to_metric_families

from bot.delivery.ports import SendResult
from bot.server import build_web_app
from bot.store.models import SourceState
from bot.ticks import run_tick
from bot.views.cards import ActionKind

REF = "HBC-2027-005"


async def scrape(bot: Bot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample, keyed by name and sorted labels."""
    async with TestClient(TestServer(build_web_app(bot.app, bot.hub))) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


async def test_metrics_count_deliveries_ticks_and_what_waits_in_the_queue(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 9, 1))
    await bot.sweep()
    bot.set(bot.morning(date(2027, 1, 5)))
    await bot.sweep()
    before = await scrape(bot)
    queued = total(before, "nosurprises_messages_queued", status="pending")
    assert queued > 0 and total(before, "nosurprises_messages_sent_total") == 0
    stats = await bot.deliver()
    after = await scrape(bot)
    assert total(after, "nosurprises_messages_sent_total", platform="test") == stats.sent > 0
    assert total(after, "nosurprises_messages_sent_total", kind="first_prompt") > 0
    assert total(after, "nosurprises_messages_queued", status="pending") == queued - stats.sent
    assert total(after, "nosurprises_tick_duration_seconds_count", tick="sweep") == 2
    assert total(after, "nosurprises_tick_duration_seconds_count", tick="deliver") == 1
    assert total(after, "nosurprises_tick_failures_total") == 0


async def test_metrics_count_retries_failures_and_failed_ticks(tmp_path):
    def behaviour(person, card):
        if person.email == OWEN:
            return SendResult.rate_limited("test", retry_after=5)
        return SendResult.not_found("test", error_code="users_not_found")

    bot = make_bot(
        sqlite_url(tmp_path), local(2027, 1, 5, 9, 1), adapter=RecordingAdapter("test", behaviour)
    )
    await bot.sweep()
    stats = await bot.deliver()

    async def boom() -> None:
        raise RuntimeError("the calendar fell over")

    await run_tick(bot.hub, "sweep", boom)
    samples = await scrape(bot)
    assert total(samples, "nosurprises_messages_retried_total", platform="test") == stats.retrying
    unreachable = total(samples, "nosurprises_messages_failed_total", reason="unreachable")
    assert unreachable == stats.unreachable
    assert stats.retrying > 0 or stats.unreachable > 0
    assert total(samples, "nosurprises_tick_failures_total", tick="sweep") == 1


async def test_metrics_count_actions_by_kind_and_outcome(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 9, 1))
    await bot.sweep()
    emma = bot.briefing(REF, EMMA)
    done = await bot.click(OWEN, ActionKind.SNOOZE, emma.id, {"days": "2"})
    refused = await bot.click(EMMA, ActionKind.LOG_BRIEFING, emma.id, {"how": "call"})
    await bot.click(OWEN, ActionKind.SNOOZE, emma.id, payload="forged")
    assert done.ok and refused.refused
    samples = await scrape(bot)
    assert total(samples, "nosurprises_actions_total", kind="snooze", outcome="done") == 1
    assert total(samples, "nosurprises_actions_total", kind="log_briefing", outcome="refused") == 1
    assert total(samples, "nosurprises_actions_total", outcome="refused") == 2


async def test_metrics_show_stale_sources_and_the_audit_chains_age(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 9, 1))
    await bot.sweep()
    with bot.app.session() as session:
        session.add(SourceState(name="harbourside", stale_since=bot.now(), last_error="timeout"))
    bot.clock.advance(timedelta(minutes=5))
    samples = await scrape(bot)
    assert total(samples, "nosurprises_stale_sources") == 1
    assert total(samples, "nosurprises_audit_checkpoint_age_seconds") >= 300
