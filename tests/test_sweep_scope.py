"""A sweep on the same day reads only the decisions changed since the last one (issue 15).

Each test checks the narrow read against the old one: every row whose fingerprint differs from
what the last sweep stored (found by reading every row) must be among the rows read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from livebot import Bot, make_bot, reimport_decisions, reimport_directory, sqlite_url
from sqlalchemy import select, text
from sqlmodel import col

from bot.briefings.escalate import run_sweep_tick
from bot.briefings.reconcile import _fingerprint, settings_fingerprint
from bot.intake.records import PersonRecord
from bot.store.changes import sweep_scope
from bot.store.models import Decision, DecisionStatus

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    bot = make_bot(sqlite_url(tmp_path), NOW)
    tick(bot)
    return bot


def tick(bot: Bot):
    with bot.app.session() as session:
        return run_sweep_tick(app=bot.app, session=session)


def read_and_needed(bot: Bot) -> tuple[set[str], set[str]]:
    """The refs the next sweep will read, and the refs whose fingerprint has changed."""
    with bot.app.session() as session:
        directory = bot.app.directory(session)
        context = f"{directory.fingerprint}|{settings_fingerprint(bot.app.settings)}"
        today = bot.calendar.local_date(bot.now())
        horizon = bot.app.settings.rules.horizon_days
        scope = sweep_scope(session, context=context, today=today)
        read = set(session.scalars(select(col(Decision.ref)).where(*scope.where)))
        needed = {
            d.ref
            for d in session.scalars(select(Decision))
            if _fingerprint(
                d.content_hash,
                d.decision_due,
                d.status,
                d.missing_since,
                today,
                context,
                horizon,
                d.first_published,
            )
            != d.swept_fingerprint
        }
    return read, needed


def test_a_second_sweep_reads_no_decision(bot: Bot) -> None:
    read, needed = read_and_needed(bot)
    assert read == set() and needed == set()
    report = tick(bot)
    assert report.sweep.assessed == 0 and report.sweep.decisions == 12


def test_an_imported_change_is_read_and_nothing_else(bot: Bot) -> None:
    bot.set(NOW + timedelta(hours=2))  # the same day
    reimport_decisions(bot.app, {"HBC-2027-003": {"title": "A new title"}})
    read, needed = read_and_needed(bot)
    assert read == needed == {"HBC-2027-003"}
    report = tick(bot)
    assert report.sweep.assessed == 1
    assert read_and_needed(bot) == (set(), set())


@pytest.mark.parametrize("days", [1, 40, -2])
def test_a_new_day_reads_every_row(bot: Bot, days: int) -> None:
    bot.set(NOW + timedelta(days=days))
    read, needed = read_and_needed(bot)
    assert len(read) == 12 and needed <= read
    tick(bot)
    assert read_and_needed(bot) == (set(), set())


def test_a_hand_edit_is_read_on_the_next_day(bot: Bot) -> None:
    with bot.app.engine.begin() as connection:
        connection.execute(
            text("UPDATE decision SET status = 'Withdrawn' WHERE ref = 'HBC-2027-005'")
        )
    read, needed = read_and_needed(bot)
    assert needed == {"HBC-2027-005"} and read == set()  # unstamped: not read today
    bot.set(NOW + timedelta(days=1))
    read, needed = read_and_needed(bot)
    assert "HBC-2027-005" in needed and needed <= read


def test_a_changed_directory_reads_every_row(bot: Bot) -> None:
    newcomer = PersonRecord(
        email="new.person@harbourside.gov.uk",
        name="New Person",
        roles=("officer",),
        job_title="Officer",
        directorate="Place",
        wards=(),
        manager_email="",
    )
    reimport_directory(bot.app, add=[newcomer])
    read, needed = read_and_needed(bot)
    assert len(read) == 12 and needed <= read


def test_a_decision_changed_through_the_model_is_stamped_and_read(bot: Bot) -> None:
    with bot.app.session() as session:
        decision = session.scalars(
            select(Decision).where(col(Decision.ref) == "HBC-2027-005")
        ).one()
        decision.status = DecisionStatus.WITHDRAWN
    read, needed = read_and_needed(bot)
    assert read == needed == {"HBC-2027-005"}
    # A write that touches nothing the sweep reads is not stamped.
    with bot.app.session() as session:
        decision = session.scalars(
            select(Decision).where(col(Decision.ref) == "HBC-2027-006")
        ).one()
        decision.documents = "Report pack"
    tick(bot)
    assert read_and_needed(bot) == (set(), set())


def test_a_dry_run_remembers_nothing(bot: Bot) -> None:
    reimport_decisions(bot.app, {"HBC-2027-003": {"title": "Another title"}})
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session, dry_run=True)
    read, _ = read_and_needed(bot)
    assert read == {"HBC-2027-003"}
