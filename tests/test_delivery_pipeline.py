"""Delivery on PostgreSQL (issue 15): a hop's results go to the server in one pipeline, each
in a transaction of its own, recorded in order; and the next claim waits on the server while
this process draws the batch before it."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from livebot import HELEN, OWEN, Bot, RecordingAdapter, local, make_bot, postgres_url, sqlite_url
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as WrappedIntegrityError
from sqlalchemy.exc import OperationalError as WrappedOperationalError
from test_delivery_hops import queue_notices

from bot.delivery.deliverer import Deliverer, DeliveryStats, _Job, is_outage
from bot.delivery.outbox import claim, enqueue
from bot.delivery.ports import DeliveryOutcome, SendResult
from bot.store.directory import PersonView
from bot.store.models import ChatIdentity, DeliveryAttempt, Nudge, NudgeStatus
from bot.views.cards import Card

START = local(2027, 1, 5, 10, 0)
MISSING = 999_999  # no such message: recording it breaks a foreign key


def queue_notices_from(bot: Bot, count: int, *, start: int) -> None:
    """`count` more notices to Owen, each titled apart from those queued before."""
    with bot.app.session() as session:
        for index in range(start, start + count):
            enqueue(
                session,
                recipient=OWEN,
                kind="notice",
                key=f"run-{index}",
                send_at=bot.now(),
                calendar=bot.calendar,
                card=Card(title=f"Run notice {index}", lines=("A test message",)).to_dict(),
            )


def claimed_jobs(bot: Bot, count: int) -> list[_Job]:
    """`count` messages claimed as a deliverer claims them, ready to be recorded as sent (to
    nobody the directory knows: no reachability to write, so every one can be pipelined)."""
    with bot.app.session() as session:
        person = bot.app.directory(session).person(OWEN)
        claimed = claim(session, worker="test", now=bot.now(), limit=count)
    return [
        _Job(c.id, c.attempts, c.kind, None, person, Card(title="x"), token=c.claimed_by)
        for c in claimed
    ]


def delivered(message_id: str) -> SendResult:
    return SendResult(
        DeliveryOutcome.DELIVERED, platform="test", message_id=message_id, channel="dm"
    )


def attempted_in_order(bot: Bot) -> list[int]:
    with bot.app.session() as session:
        return list(session.scalars(select(DeliveryAttempt.nudge_id).order_by(DeliveryAttempt.id)))


def statuses(bot: Bot) -> dict[int, str]:
    with bot.app.session() as session:
        return {n.id: n.status for n in session.scalars(select(Nudge))}  # type: ignore[misc]


@pytest.fixture
def pg_bot(request) -> Bot:
    """The sample council on PostgreSQL."""
    bot = make_bot(postgres_url(request), START, migrate=True)
    yield bot
    bot.app.engine.dispose()


@pytest.fixture
def bare_pg_bot(request) -> Bot:
    """An empty council on PostgreSQL (messages to nobody it knows: recorded, never sent)."""
    bot = make_bot(postgres_url(request), START, seed=False, migrate=True)
    yield bot
    bot.app.engine.dispose()


def test_a_hop_is_one_pipeline_each_result_its_own_commit_recorded_in_order(
    bare_pg_bot, monkeypatch
):
    bot = bare_pg_bot
    queue_notices(bot, 4)
    first, second, third, fourth = claimed_jobs(bot, 4)
    broken = _Job(MISSING, 0, "notice", None, first.person, Card(title="x"), token="gone")
    # Handed over out of id order, with a result that cannot be recorded in the middle.
    hop = [fourth, second, broken, first, third]
    deliverer = Deliverer(bot.hub, worker="test")
    pipelines: list[int] = []
    write = Deliverer._write_pipelined

    def counting(self, records):
        pipelines.append(len(records))
        return write(self, records)

    monkeypatch.setattr(Deliverer, "_write_pipelined", counting)
    try:
        outcomes = deliverer._record_each([(job, delivered(f"m{i}")) for i, job in enumerate(hop)])
    finally:
        deliverer._close_connections()
    assert [type(o) for o in outcomes] == [DeliveryStats] * 2 + [
        psycopg.errors.ForeignKeyViolation
    ] + [DeliveryStats] * 2
    # All five went in one pipeline, each its own transaction: only the failed one was lost.
    assert pipelines == [5]
    # The two before the failure stayed committed; each recorded in the order handed over.
    assert attempted_in_order(bot) == [fourth.nudge_id, second.nudge_id, first.nudge_id,
                                       third.nudge_id]  # fmt: skip
    assert set(statuses(bot).values()) == {NudgeStatus.SENT}


def test_a_connection_lost_before_a_hop_leaves_nothing_half_written_and_all_wait(bare_pg_bot):
    bot = bare_pg_bot
    queue_notices(bot, 3)
    jobs = claimed_jobs(bot, 3)
    deliverer = Deliverer(bot.hub, worker="test")
    try:
        backend = deliverer._connection().connection.driver_connection.info.backend_pid
        with bot.app.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({backend})")
        results = [(job, delivered(f"m{i}")) for i, job in enumerate(jobs)]
        away = deliverer._record_each(results)
        assert len(away) == 3 and all(isinstance(o, Exception) and is_outage(o) for o in away)
        assert attempted_in_order(bot) == []
        assert set(statuses(bot).values()) == {NudgeStatus.SENDING}
        # Retried (as each waiter does after its backoff) on a fresh connection.
        again = deliverer._record_each(results)
    finally:
        deliverer._close_connections()
    assert all(isinstance(o, DeliveryStats) for o in again)
    assert attempted_in_order(bot) == [job.nudge_id for job in jobs]
    assert set(statuses(bot).values()) == {NudgeStatus.SENT}


def test_outages_are_told_from_bugs_whichever_way_the_driver_raised_them():
    lost = psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    assert is_outage(lost) and is_outage(psycopg.OperationalError("server closed"))
    assert is_outage(sqlite3.OperationalError("database is locked"))
    assert is_outage(WrappedOperationalError("INSERT", {}, lost))
    assert not is_outage(psycopg.errors.ForeignKeyViolation("no such message"))
    assert not is_outage(WrappedIntegrityError("INSERT", {}, sqlite3.IntegrityError("x")))
    assert not is_outage(ValueError("a bug"))


def watch_claims(monkeypatch, *, hold_second_until_third: bool) -> dict[str, int]:
    """Count claims under way at once; optionally hold the second claim (in its database
    thread) until a third has begun, which only overlapping claims can do."""
    seen = {"calls": 0, "at_once": 0, "most_at_once": 0}
    lock = threading.Lock()
    third_began = threading.Event()
    claim_and_draw = Deliverer._claim_and_draw

    def watched(self, limit, in_flight):
        with lock:
            seen["calls"] += 1
            call = seen["calls"]
            seen["at_once"] += 1
            seen["most_at_once"] = max(seen["most_at_once"], seen["at_once"])
        if call == 3:
            third_began.set()
        try:
            if hold_second_until_third and call == 2:
                third_began.wait(timeout=20)
            return claim_and_draw(self, limit, in_flight)
        finally:
            with lock:
                seen["at_once"] -= 1

    monkeypatch.setattr(Deliverer, "_claim_and_draw", watched)
    return seen


def sent_once_each(bot: Bot, count: int) -> None:
    per_message = Counter(s.card.title for s in bot.adapter.sent)
    assert len(per_message) == count and set(per_message.values()) == {1}
    assert set(statuses(bot).values()) == {NudgeStatus.SENT}
    assert sorted(Counter(attempted_in_order(bot)).values()) == [1] * count


async def test_on_postgresql_the_next_claim_is_under_way_while_the_one_before_draws(
    pg_bot, monkeypatch
):
    bot = pg_bot
    queue_notices(bot, 40)
    seen = watch_claims(monkeypatch, hold_second_until_third=True)
    stats = await Deliverer(bot.hub, worker="test", concurrency=2).run_once()
    assert stats.sent == 40
    assert seen["most_at_once"] == 2
    sent_once_each(bot, 40)


async def test_on_sqlite_one_claim_at_a_time(tmp_path, monkeypatch):
    bot = make_bot(sqlite_url(tmp_path), START)
    queue_notices(bot, 40)
    seen = watch_claims(monkeypatch, hold_second_until_third=False)
    stats = await Deliverer(bot.hub, worker="test", concurrency=2).run_once()
    assert stats.sent == 40 and seen["calls"] > 3
    assert seen["most_at_once"] == 1
    sent_once_each(bot, 40)


async def test_on_postgresql_claiming_a_batch_takes_no_connection_from_the_pool(
    pg_bot, monkeypatch
):
    """Each database thread claims and draws on the connection it keeps for the run, not a
    pooled one (a check-out, a ping and a reset for every batch)."""
    from sqlalchemy import event

    bot = pg_bot
    queue_notices(bot, 60)
    seen = watch_claims(monkeypatch, hold_second_until_third=False)
    checkouts: list[int] = []

    def count(*_args) -> None:
        checkouts.append(1)

    event.listen(bot.app.engine, "checkout", count)
    try:
        stats = await Deliverer(bot.hub, worker="test", concurrency=2).run_once()
    finally:
        event.remove(bot.app.engine, "checkout", count)
    assert stats.sent == 60 and seen["calls"] > 4
    # One for each database thread's kept connection, however many batches were claimed.
    assert len(checkouts) <= 4 < seen["calls"]
    sent_once_each(bot, 60)


class LookingAdapter(RecordingAdapter):
    """Remembers each message's dedupe key, so it can say (as Slack can) what it has posted."""

    def __init__(self) -> None:
        super().__init__("test")
        self.posted: dict[str, SendResult] = {}

    async def send(self, recipient, card, *, dedupe_key: str = "") -> SendResult:
        result = await super().send(recipient, card, dedupe_key=dedupe_key)
        self.posted[dedupe_key] = result
        return result

    async def find_posted(self, recipient, *, dedupe_key: str, since) -> SendResult | None:
        return self.posted.get(dedupe_key)


async def test_sent_but_never_recorded_in_the_overlapped_path_is_found_and_not_sent_again(
    request, monkeypatch
):
    adapter = LookingAdapter()
    bot = make_bot(postgres_url(request), START, adapter=adapter, migrate=True)
    queue_notices(bot, 20)
    # The first process posts everything and dies before a single result is recorded.
    monkeypatch.setattr("bot.delivery.deliverer.RECORD_PATIENCE_SECONDS", 0.0)
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    monkeypatch.setattr(Deliverer, "_write_pipelined", lambda self, records: [lost] * len(records))

    def record_one(self, record):
        raise lost

    monkeypatch.setattr(Deliverer, "_record_one", record_one)
    await Deliverer(bot.hub, worker="dies", concurrency=4).run_once()
    assert len(adapter.sent) == 20 and attempted_in_order(bot) == []
    assert set(statuses(bot).values()) == {NudgeStatus.SENDING}
    monkeypatch.undo()
    # Its claims go stale; the next process finds each message already posted.
    bot.clock.advance(timedelta(seconds=61))
    stats = await Deliverer(bot.hub, worker="next", concurrency=4).run_once()
    try:
        assert stats.sent == 20 and len(adapter.sent) == 20
        assert set(statuses(bot).values()) == {NudgeStatus.SENT}
        with bot.app.session() as session:
            notes = Counter(session.scalars(select(DeliveryAttempt.note)))
        assert notes == {"already_posted": 20}
    finally:
        bot.app.engine.dispose()


def reach_of(bot: Bot) -> set[tuple[str, str, bool, str]]:
    with bot.app.session() as session:
        return {
            (c.platform, c.email, c.reachable, c.platform_user_id)
            for c in session.scalars(select(ChatIdentity))
        }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_reachability_is_written_with_its_record_in_one_commit_and_remembered_once_committed(
    request, tmp_path, backend, monkeypatch
):
    url = sqlite_url(tmp_path) if backend == "sqlite" else postgres_url(request)
    bot = make_bot(url, START, seed=False, migrate=True)
    try:
        queue_notices(bot, 4)
        first, second, third, fourth = claimed_jobs(bot, 4)
        owen = PersonView(email=OWEN, name="Owen Brady", roles=frozenset())
        helen = PersonView(email=HELEN, name="Helen Marsh", roles=frozenset())
        for job, person in ((first, owen), (second, helen), (third, owen), (fourth, owen)):
            job.person = person
        broken = _Job(MISSING, 0, "notice", None, helen, Card(title="x"), token="gone")
        found = SendResult(DeliveryOutcome.DELIVERED, platform="test", message_id="m1",
                           channel="dm", user_id="U-OWEN")  # fmt: skip
        nowhere = SendResult(DeliveryOutcome.RECIPIENT_NOT_FOUND, platform="test",
                             error_code="users_not_found")  # fmt: skip
        deliverer = Deliverer(bot.hub, worker="test")
        pipelines: list[int] = []
        write = Deliverer._write_pipelined

        def counting(self, records):
            pipelines.append(len(records))
            return write(self, records)

        monkeypatch.setattr(Deliverer, "_write_pipelined", counting)
        try:
            # Helen's first result cannot be recorded: her reachability is not remembered.
            outcomes = deliverer._record_each([(first, found), (broken, nowhere)])
            assert isinstance(outcomes[0], DeliveryStats) and isinstance(outcomes[1], Exception)
            assert deliverer._reach == {("test", OWEN): (True, "U-OWEN")}
            assert reach_of(bot) == {("test", OWEN, True, "U-OWEN")}
            # Known now, so not written again; Helen's is, with her record.
            outcomes = deliverer._record_each([(third, delivered("m3")), (second, nowhere)])
            assert all(isinstance(o, DeliveryStats) for o in outcomes)
            assert reach_of(bot) == {("test", OWEN, True, "U-OWEN"), ("test", HELEN, False, "")}
            # Written again (another process's news, say) without a user id: the id is kept.
            deliverer._reach.clear()
            outcomes = deliverer._record_each([(fourth, delivered("m4"))])
            assert all(isinstance(o, DeliveryStats) for o in outcomes)
            assert reach_of(bot) == {("test", OWEN, True, "U-OWEN"), ("test", HELEN, False, "")}
            assert deliverer._reach[("test", OWEN)] == (True, "")
        finally:
            deliverer._close_connections()
        if backend == "postgresql":
            # Every result went in the hop's one pipeline, reachability and all.
            assert pipelines == [2, 2, 1]
        assert statuses(bot)[second.nudge_id] == NudgeStatus.UNREACHABLE
    finally:
        bot.app.engine.dispose()


def test_every_kind_of_result_is_recorded_through_the_pipeline_as_through_a_cursor(
    request, tmp_path
):
    """Sent, to retry (Retry-After), failed for good, unreachable, cancelled: each kind's
    statements prepared on the server from their text and recorded alike on both backends."""
    seen: dict[str, dict[int, tuple[str, int, str]]] = {}
    for backend in ("sqlite", "postgresql"):
        url = sqlite_url(tmp_path) if backend == "sqlite" else postgres_url(request)
        bot = make_bot(url, START, seed=False, migrate=True)
        try:
            queue_notices(bot, 5)
            jobs = claimed_jobs(bot, 5)
            jobs[4].attempts = 99  # its platform's last chance
            limited = SendResult(DeliveryOutcome.RATE_LIMITED, platform="test",
                                 error_code="ratelimited", retry_after=12.5)  # fmt: skip
            nowhere = SendResult(DeliveryOutcome.RECIPIENT_NOT_FOUND, platform="test",
                                 error_code="users_not_found")  # fmt: skip
            broken = SendResult(DeliveryOutcome.FAILED, platform="test", error_code="oops",
                                detail="it went wrong ‘badly’ %s 'quoted'")  # fmt: skip
            results = [delivered("m0"), limited, nowhere, None, broken]
            deliverer = Deliverer(bot.hub, worker="test")
            try:
                outcomes = deliverer._record_each(list(zip(jobs, results, strict=True)))
            finally:
                deliverer._close_connections()
            assert all(isinstance(o, DeliveryStats) for o in outcomes), outcomes
            with bot.app.session() as session:
                nudges = {n.id: n for n in session.scalars(select(Nudge))}  # type: ignore[misc]
                by_id = {
                    a.nudge_id: a
                    for a in session.scalars(select(DeliveryAttempt))  # type: ignore[misc]
                }
            seen[backend] = {
                i: (nudges[job.nudge_id].status, nudges[job.nudge_id].attempts,
                    by_id[job.nudge_id].detail if job.nudge_id in by_id else "-")
                for i, job in enumerate(jobs)
            }  # fmt: skip
            retry_at = nudges[jobs[1].nudge_id].send_at
            assert retry_at is not None and retry_at - START == timedelta(seconds=12.5)
            assert by_id[jobs[1].nudge_id].retry_after_seconds == 12.5
        finally:
            bot.app.engine.dispose()
    assert (
        seen["postgresql"]
        == seen["sqlite"]
        == {
            0: (NudgeStatus.SENT, 1, ""),
            1: (NudgeStatus.PENDING, 1, ""),
            2: (NudgeStatus.UNREACHABLE, 1, ""),
            3: (NudgeStatus.CANCELLED, 0, "-"),
            4: (NudgeStatus.FAILED, 100, "it went wrong ‘badly’ %s 'quoted'"),
        }
    )


def test_a_pipelined_statement_numbers_each_name_once_and_sends_values_as_text():
    from datetime import UTC, datetime

    from bot.delivery.pgpipeline import Statement, encode

    statement = Statement(
        "s", "SELECT %(a)s, %(b)s, %(a)s::text || '%%', %(c)s", {"c": lambda v: v * 2}
    )
    assert statement.sql == b"SELECT $1, $2, $1::text || '%', $3"
    assert statement.values({"a": True, "b": None, "c": 21, "unused": 1}) == [b"t", None, b"42"]
    assert encode(False) == b"f" and encode(7) == b"7" and encode(2.5) == b"2.5"
    assert encode(datetime(2027, 1, 5, 10, 0, tzinfo=UTC)) == b"2027-01-05T10:00:00+00:00"
    assert encode("Cllr ‘Ow’en") == "Cllr ‘Ow’en".encode()
    with pytest.raises(ValueError):
        encode(datetime(2027, 1, 5, 10, 0))  # no time zone: never guessed
    with pytest.raises(TypeError):
        encode({"a": 1})


async def test_a_connection_back_from_the_pool_keeps_its_prepared_statements(pg_bot):
    """A run's connections go back to the pool with the record statements prepared on them;
    the next run (new threads) may be handed the same one, and must not prepare them again."""
    bot = pg_bot
    pids: list[set[int]] = []
    for run in range(3):
        queue_notices_from(bot, 6, start=run * 6)
        deliverer = Deliverer(bot.hub, worker="test", concurrency=2)
        stats = await deliverer.run_once()
        assert (stats.sent, stats.failed) == (6, 0)
        with bot.app.engine.connect() as connection:
            pids.append(
                set(
                    connection.exec_driver_sql(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    ).scalars()
                )
            )
    sent_once_each(bot, 18)
    assert pids[0] & pids[1] & pids[2], "the pool handed back the same connections"


def test_record_statements_let_go_or_already_there_are_prepared_again_or_taken_as_they_are(
    bare_pg_bot,
):
    bot = bare_pg_bot
    queue_notices(bot, 3)
    first, second, third = claimed_jobs(bot, 3)
    deliverer = Deliverer(bot.hub, worker="test")
    try:
        assert all(
            isinstance(o, DeliveryStats) for o in deliverer._record_each([(first, delivered("1"))])
        )
        connection = deliverer._connection()
        prepared = connection.connection.info["record_statements_prepared"]
        assert prepared
        # Let go behind its back (as psycopg does after a rollback on the connection).
        connection.connection.driver_connection.execute("DEALLOCATE ALL")
        outcomes = deliverer._record_each([(second, delivered("2"))])
        assert all(isinstance(o, DeliveryStats) for o in outcomes), outcomes
        # Forgotten here while still on the server (a connection back from the pool).
        prepared.clear()
        outcomes = deliverer._record_each([(third, delivered("3"))])
        assert all(isinstance(o, DeliveryStats) for o in outcomes), outcomes
    finally:
        deliverer._close_connections()
    assert attempted_in_order(bot) == [first.nudge_id, second.nudge_id, third.nudge_id]
