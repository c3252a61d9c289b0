"""Results waiting together go to the database thread in one hop, each in its own commit
(issue 15: a hop per message cost as much as recording it)."""

from __future__ import annotations

import sqlite3

from livebot import OWEN, local, make_bot, sqlite_url
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.delivery.deliverer import Deliverer
from bot.delivery.outbox import enqueue
from bot.store.models import DeliveryAttempt, Nudge, NudgeStatus
from bot.views.cards import Card

MESSAGES = 12


def queue_notices(bot, count: int) -> None:
    with bot.app.session() as session:
        for index in range(count):
            enqueue(
                session,
                recipient=OWEN,
                kind="notice",
                key=f"hop-{index}",
                send_at=bot.now(),
                calendar=bot.calendar,
                card=Card(title=f"Notice {index}", lines=("A test message",)).to_dict(),
            )


def attempts(bot) -> int:
    with bot.app.session() as session:
        return session.scalar(select(func.count()).select_from(DeliveryAttempt)) or 0


def sent(bot) -> int:
    with bot.app.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Nudge).where(Nudge.status == NudgeStatus.SENT)
            )
            or 0
        )


async def test_results_waiting_together_share_a_hop_and_each_is_committed_on_its_own(
    tmp_path, monkeypatch
):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 10, 0))
    queue_notices(bot, MESSAGES)
    hops: list[int] = []
    committed_after_each: list[int] = []
    record_each, record_one = Deliverer._record_each, Deliverer._record_one

    def counting_hop(self, results):
        hops.append(len(results))
        return record_each(self, results)

    def one_then_look(self, record):
        stats = record_one(self, record)
        committed_after_each.append(attempts(bot))  # another connection sees it: committed
        return stats

    monkeypatch.setattr(Deliverer, "_record_each", counting_hop)
    monkeypatch.setattr(Deliverer, "_record_one", one_then_look)
    stats = await Deliverer(bot.hub, worker="test", concurrency=8).run_once()
    assert stats.sent == MESSAGES == sum(hops)
    assert max(hops) > 1 and len(hops) < MESSAGES
    assert committed_after_each == list(range(1, MESSAGES + 1))


async def test_an_outage_mid_hop_leaves_the_rest_untried_and_each_is_recorded_later(
    tmp_path, monkeypatch
):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 10, 0))
    queue_notices(bot, MESSAGES)
    record_each, record_one = Deliverer._record_each, Deliverer._record_one
    hops: list[tuple[int, list[int]]] = []  # (results handed over, results tried)

    def counting_hop(self, results):
        hops.append((len(results), []))
        return record_each(self, results)

    def away_during_the_first_hop(self, record):
        hops[-1][1].append(record.params["id"])
        if len(hops) == 1:  # the database is away for the whole of the first hop
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
        return record_one(self, record)

    monkeypatch.setattr(Deliverer, "_record_each", counting_hop)
    monkeypatch.setattr(Deliverer, "_record_one", away_during_the_first_hop)
    stats = await Deliverer(bot.hub, worker="test", concurrency=8).run_once()
    assert stats.sent == MESSAGES
    assert attempts(bot) == MESSAGES == sent(bot)
    handed, tried = hops[0]
    assert handed > 1 and len(tried) == 1  # after the outage the rest waited, untried
    assert sorted(n for _, t in hops[1:] for n in t) == sorted(set(n for _, t in hops for n in t))


async def test_a_result_queued_as_the_last_recorder_stops_still_gets_recorded(tmp_path):
    """A recorder's task stays in `_recorders` a moment after it has stopped taking results
    (until its done-callback runs): a result queued then must start a recorder of its own."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from bot.delivery.deliverer import DeliveryStats, _Job

    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 10, 0))
    deliverer = Deliverer(bot.hub, worker="test")
    deliverer._record_lanes = 1
    deliverer._executor = ThreadPoolExecutor(1)
    deliverer._record_each = lambda results: [DeliveryStats(sent=1) for _ in results]  # type: ignore[method-assign]

    async def stopped() -> None:
        return None

    finished = asyncio.create_task(stopped())
    await finished
    deliverer._recorders.add(finished)  # finished, its done-callback not yet run
    job = _Job(1, 0, "notice", None, None, None)
    try:
        stats = await asyncio.wait_for(deliverer._record_soon(job, None), timeout=10)
    finally:
        deliverer._executor.shutdown()
    assert stats.sent == 1
