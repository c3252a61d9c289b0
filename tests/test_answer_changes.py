"""The data's version moves with every kind of change an answer reads (issue 15).

`shared_rows.data_version` keys everything answers share. Changes made through model objects
take the next value of the `answers` change counter as their transaction commits
(`bot/store/answer_changes.py`); plain-table writers move other parts of the version. Each kind
of change is made here and the version (and, for changes through model objects, the counter
itself) must move; reading, rolling back and writing what no answer reads must not move it; on
PostgreSQL two writers' transactions never wait for each other on the counter before they
commit. Answers after a change nobody audits are compared with the full status.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from livebot import Bot, make_bot
from sqlalchemy import select, text
from sqlmodel import col
from test_status_own import _every_page_equals_full, _people
from test_status_queries import acting  # noqa: F401 - the fixture, shared

from bot.briefings.states import move
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions
from bot.store.answer_changes import ANSWERS
from bot.store.changes import current_change_seq
from bot.store.identities import remember
from bot.store.models import Briefing, BriefingState, Decision, TickRun
from bot.store.status_model import _invalidate
from bot.views.cards import ActionKind
from bot.views.shared_rows import data_version
from bot.views.status_model import refresh_status_model

START = datetime(2027, 1, 26, 9, 30, tzinfo=ZoneInfo("Europe/London"))


def _version(bot: Bot) -> tuple[Any, ...]:
    with bot.app.session() as session:
        return data_version(session)


def _counter(bot: Bot) -> int:
    with bot.app.session() as session:
        return current_change_seq(session, ANSWERS)


def _open_briefings(bot: Bot, count: int) -> list[Briefing]:
    with bot.app.session() as session:
        return list(
            session.scalars(
                select(Briefing)
                .where(col(Briefing.state) == BriefingState.OPEN)
                .order_by(col(Briefing.id))
                .limit(count)
            )
        )


class Watch:
    """The version and the counter as last seen; `moved` checks both moved since."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.version, self.counter = _version(bot), _counter(bot)

    def moved(self, kind: str, *, counted: bool) -> None:
        version, counter = _version(self.bot), _counter(self.bot)
        assert version != self.version, kind
        if counted:
            assert counter > self.counter, kind
        self.version, self.counter = version, counter


async def test_every_kind_of_change_moves_the_datas_version(database_url: str) -> None:
    from bot.ticks import sweep_and_refresh

    bot = make_bot(database_url, START, migrate=True)
    try:
        await bot.sweep()
        logged, silent, other = _open_briefings(bot, 3)
        watch = Watch(bot)
        # An action (audited, through model objects).
        reply = await bot.click(logged.briefer_email, ActionKind.LOG_BRIEFING, logged.id or 0)
        assert reply.ok
        watch.moved("action", counted=True)
        # A state set with no action and no audit: only the counter can say so.
        with bot.app.session() as session:
            found = session.get(Briefing, silent.id)
            assert found is not None
            move(found, BriefingState.BRIEFED)
        watch.moved("state with no audit", counted=True)
        # A decision's title edited through its model object, with no audit.
        with bot.app.session() as session:
            decision = session.get(Decision, other.decision_id)
            assert decision is not None
            decision.title = "Edited in place"
        watch.moved("decision edited", counted=True)
        # The read model marked out of date (a plain-table write), then rebuilt as it was.
        with bot.app.session() as session:
            _invalidate(session.connection())
        watch.moved("read model out of date", counted=False)
        with bot.app.session() as session:
            assert refresh_status_model(
                session=session, settings=bot.app.settings, calendar=bot.calendar, now=bot.now()
            )
        watch.moved("read model rebuilt", counted=True)
        # Reachability (its own columns of the version).
        remember(bot.app, platform="test", email=other.member_email, user_id="U9", reachable=False)
        watch.moved("reachability", counted=False)
        # A sweep on a later day (plain-table writes, then the read model rebuilt).
        bot.set(bot.now() + timedelta(days=1))
        with bot.app.session() as session:
            sweep_and_refresh(app=bot.app, session=session)
        watch.moved("sweep", counted=True)
    finally:
        bot.app.engine.dispose()


def test_an_import_moves_the_datas_version(acting: Bot, tmp_path: Path) -> None:  # noqa: F811
    """The importer writes plain tables: the decision change counter moves, not `answers`."""
    before = _version(acting)
    records, _ = parse_forward_plan(tmp_path / "csv" / "forward_plan.csv")
    renamed = [replace(r, title="Renamed by the import") for r in records[:1]] + records[1:]
    with acting.app.session() as session:
        store_decisions(session, renamed, source="csv", now=acting.now())
    assert _version(acting) != before


def test_reading_rolling_back_and_unwatched_writes_leave_the_counter_alone(
    acting: Bot,  # noqa: F811
) -> None:
    from bot.views.commands import answer

    officer = _people(acting)["officer"]
    before, version = _counter(acting), _version(acting)
    with acting.app.session() as session:
        answer(app=acting.app, session=session, text="mine", actor_email=officer, direct=True)
    (briefing,) = _open_briefings(acting, 1)
    with acting.app.session() as session:
        found = session.get(Briefing, briefing.id)
        assert found is not None
        move(found, BriefingState.BRIEFED)
        session.flush()
        session.rollback()
    with acting.app.session() as session:
        session.add(TickRun(name="elsewhere"))
    assert (_counter(acting), _version(acting)) == (before, version)


def test_the_counter_is_taken_as_the_writer_commits(acting: Bot) -> None:  # noqa: F811
    """Not at the first flush: the row is held only for the commit (PostgreSQL)."""
    (briefing,) = _open_briefings(acting, 1)
    before = _counter(acting)
    with acting.app.session() as session:
        found = session.get(Briefing, briefing.id)
        assert found is not None
        move(found, BriefingState.BRIEFED)
        session.flush()
        assert current_change_seq(session, ANSWERS) == before
    assert _counter(acting) == before + 1


def test_savepoints_neither_take_the_counter_nor_lose_what_came_before(
    acting: Bot,  # noqa: F811
) -> None:
    """The sweep releases a savepoint per item it rewrites: the counter is taken once, as the
    whole transaction commits; a savepoint rolled back forgets only its own changes."""
    first, second = _open_briefings(acting, 2)
    before = _counter(acting)
    with acting.app.session() as session:
        found = session.get(Briefing, first.id)
        assert found is not None
        move(found, BriefingState.BRIEFED)
        session.flush()
        savepoint = session.begin_nested()
        undone = session.get(Briefing, second.id)
        assert undone is not None
        undone.briefing_note = "Rolled back"
        session.flush()
        savepoint.rollback()
    assert _counter(acting) == before + 1
    with acting.app.session() as session:
        with session.begin_nested():
            kept = session.get(Briefing, second.id)
            assert kept is not None
            kept.briefing_note = "Kept"
        assert current_change_seq(session, ANSWERS) == before + 1
    assert _counter(acting) == before + 2


def test_two_writers_do_not_wait_for_each_other_on_the_counter(pg_url: str) -> None:
    """One writer's transaction open with its change flushed; another changes a different
    briefing and commits without waiting; then the first commits. Both counted. (Notes, which
    nothing else locks a row for: a state move also takes the read model's row.)"""
    bot = make_bot(pg_url, START, migrate=True)
    try:
        first, second = _swept_open_briefings(bot)
        before = _counter(bot)
        with bot.app.session() as holding:
            found = holding.get(Briefing, first.id)
            assert found is not None
            found.briefing_note = "Held open"
            holding.flush()
            with bot.app.session() as other:
                # Waiting on a row lock held by `holding` would fail here, not hang.
                other.execute(text("SET LOCAL lock_timeout = '2s'"))
                found_other = other.get(Briefing, second.id)
                assert found_other is not None
                found_other.briefing_note = "Committed first"
            assert _counter(bot) == before + 1
        assert _counter(bot) == before + 2
    finally:
        bot.app.engine.dispose()


def _swept_open_briefings(bot: Bot) -> list[Briefing]:
    from bot.ticks import sweep_and_refresh

    with bot.app.session() as session:
        sweep_and_refresh(app=bot.app, session=session)
    return _open_briefings(bot, 2)


def test_answers_after_changes_nobody_audits_are_never_stale(acting: Bot) -> None:  # noqa: F811
    """A title edited and a state set through model objects, with no audit: the person's
    pages, asked before and after, equal the full status each time."""
    officer = _people(acting)["officer"]
    shown = _every_page_equals_full(acting, officer, days=120)
    row = next(r for r in shown if r.state == BriefingState.OPEN and r.briefing_id)
    with acting.app.session() as session:
        decision = session.scalars(select(Decision).where(col(Decision.ref) == row.ref)).one()
        decision.title = "Edited in place"
    shown = _every_page_equals_full(acting, officer, days=120)
    assert any(r.title == "Edited in place" for r in shown)
    with acting.app.session() as session:
        found = session.get(Briefing, row.briefing_id)
        assert found is not None
        move(found, BriefingState.BRIEFED)
    shown = _every_page_equals_full(acting, officer, days=120)
    assert any(r.briefing_id == row.briefing_id and r.state == BriefingState.BRIEFED for r in shown)
