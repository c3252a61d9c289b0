"""Narrow status questions read only their own rows, and answer exactly as the wide read did.

`/surprises mine`, `/surprises REF` and a viewer who sees only their own items fetch through
the member/briefer/ref indexes (`bot.views.status_queries`). Each is compared here, person by
person and item by item, with the same status built from the whole window (the old path), on
the sample council and on a small synthetic one.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from livebot import Bot, email, make_bot, sqlite_url
from sqlalchemy import event, select
from sqlmodel import col
from test_status import status

from bot.briefings.escalate import run_sweep_tick
from bot.intake.directory_csv import parse_directory
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions, store_directory
from bot.store.identities import remember
from bot.store.models import Briefing, BriefingState, Decision
from bot.views import status as status_module
from bot.views.status_queries import Scope, unreachable_people, window_rows

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import synthetic

SAMPLE_NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Bot:
    bot = make_bot(sqlite_url(tmp_path_factory.mktemp("narrow")), SAMPLE_NOW)
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
    # Someone unreachable, so the unreachable flag is compared too.
    remember(
        bot.app,
        platform="test",
        email=email("Imran Qureshi"),
        user_id="U1",
        reachable=False,
    )
    _acknowledge_one(bot)
    return bot


def _acknowledge_one(bot: Bot) -> None:
    """Vary the states a little, so the RAG of a green row is compared as well."""
    from bot.briefings.states import move

    with bot.app.session() as session:
        briefing = session.scalars(select(Briefing).order_by(col(Briefing.id))).first()
        assert briefing is not None
        move(briefing, BriefingState.BRIEFED)


@pytest.fixture(scope="module")
def council(tmp_path_factory) -> Bot:
    folder = tmp_path_factory.mktemp("synthetic")
    made = synthetic.generate(folder / "csv", decisions=300, people=160, wards=12, portfolios=6)
    now = datetime.combine(made.start, datetime.min.time(), UTC) + timedelta(hours=9)
    bot = make_bot(sqlite_url(folder), now, seed=False)
    people, portfolios, _ = parse_directory(made.people_csv, made.portfolios_csv)
    records, _ = parse_forward_plan(made.forward_plan_csv)
    with bot.app.session() as session:
        store_directory(session, people, portfolios, now=now)
        store_decisions(session, records, source="csv", now=now)
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
    bot.set(now + timedelta(days=20))  # some briefings overdue now, some close
    return bot


def _wide_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old path: every question reads its whole window, and every identity."""
    monkeypatch.setattr(
        status_module,
        "window_rows",
        lambda session, scope: window_rows(session, Scope(first=scope.first, last=scope.last)),
    )
    monkeypatch.setattr(
        status_module, "unreachable_people", lambda session, among=None: unreachable_people(session)
    )


def _refs_and_people(bot: Bot) -> tuple[list[str], list[str]]:
    with bot.app.session() as session:
        refs = list(session.scalars(select(col(Decision.ref))))
        directory = bot.app.directory(session)
        return refs, sorted(p.email for p in directory.people.values())


def _compare_every_question(bot: Bot, monkeypatch: pytest.MonkeyPatch, days: int) -> int:
    refs, people = _refs_and_people(bot)
    questions: list[tuple[str, dict[str, Any]]] = [
        (person, {"days": days, "only_mine": mine}) for person in people for mine in (False, True)
    ]
    questions += [
        (people[i % len(people)], {"days": 3650, "ref": ref}) for i, ref in enumerate(refs[::3])
    ]
    narrow = [status(bot, person, **options) for person, options in questions]
    with monkeypatch.context() as patched:
        _wide_only(patched)
        wide = [status(bot, person, **options) for person, options in questions]
    # `ref` keeps one item: the wide read's rows for that item are what it must return.
    for (person, options), new, old in zip(questions, narrow, wide, strict=True):
        if options.get("ref"):
            old = replace(old, rows=[r for r in old.rows if r.ref == options["ref"]])
            assert new.rows == old.rows, (person, options)
        else:
            assert new == old, (person, options)
    return sum(len(r.rows) for r in narrow)


def test_narrow_answers_equal_the_wide_ones_on_the_sample_council(
    sample: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _compare_every_question(sample, monkeypatch, days=90) > 20


def test_narrow_answers_equal_the_wide_ones_on_a_synthetic_council(
    council: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _compare_every_question(council, monkeypatch, days=60) > 200


def test_mine_for_an_overseer_lists_only_their_own_briefings(council: Bot) -> None:
    with council.app.session() as session:
        chief = next(iter(council.app.directory(session).chief_executives))
    everything = status(council, chief, days=365)
    assert any(r.briefing_id is None for r in everything.rows)  # items no briefing can cover
    mine = status(council, chief, days=365, only_mine=True)
    assert all(chief in (r.member_email, r.briefer_email) for r in mine.rows)
    assert not any(r.briefing_id is None for r in mine.rows)


def test_narrow_questions_read_only_their_own_rows(
    council: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An officer's own status fetches their briefings, not the window's thousands."""
    with council.app.session() as session:
        officer = session.scalars(
            select(col(Briefing.briefer_email)).order_by(col(Briefing.id))
        ).first()
        assert officer
        today = council.calendar.local_date(council.now())
        scope = Scope(first=today - timedelta(days=30), last=today + timedelta(days=60))
        _, every = window_rows(session, scope)
        _, theirs = window_rows(session, replace(scope, person=officer))
        ref = session.scalars(select(col(Decision.ref))).first()
        assert ref
        item, _ = window_rows(session, replace(scope, last=today + timedelta(days=3650), ref=ref))
    total = sum(len(rows) for rows in every.values())
    own = [b for rows in theirs.values() for b in rows]
    assert own and len(own) < total / 10
    assert all(officer in (b.member_email, b.briefer_email) for b in own)
    assert sorted(own) == sorted(
        b for rows in every.values() for b in rows if officer in (b.member_email, b.briefer_email)
    )
    assert [d.ref for d in item] == [ref]

    # And the statement sent says so: the person is a parameter, not a filter in Python.
    statements: list[str] = []
    engine = council.app.engine
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        status(council, officer, only_mine=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    reads = [s for s in statements if "FROM briefing" in s]
    # Each read of briefings is by the person, or by the few items already found.
    assert reads and all(
        ("member_email = ?" in s and "briefer_email = ?" in s) or "decision_id IN" in s
        for s in reads
    )


def _overseers(bot: Bot) -> list[str]:
    from bot.views.access import sees_everything

    with bot.app.session() as session:
        directory = bot.app.directory(session)
        return sorted(p.email for p in directory.people.values() if sees_everything(p))


@pytest.mark.parametrize("which", ["sample", "council"])
def test_one_page_for_an_overseer_is_that_page_of_the_full_status(
    which: str, request: pytest.FixtureRequest
) -> None:
    """The wide page: the same counts as the full status, and exactly its rows on each page."""
    from bot.views.status_page import wide_status_page

    bot: Bot = request.getfixturevalue(which)
    with bot.app.session() as session:
        portfolios = ["", *sorted(p.name for p in bot.app.directory(session).portfolios)][:4]
    start = bot.now()
    checked = 0
    for shift in (0, 9, 31):
        bot.set(start + timedelta(days=shift))
        for viewer in _overseers(bot):
            for days in (7, 28, 120):
                for portfolio in portfolios:
                    full = status(bot, viewer, days=days, portfolio=portfolio)
                    for page in (1, 2, 3):
                        with bot.app.session() as session:
                            paged = wide_status_page(
                                session=session,
                                settings=bot.app.settings,
                                calendar=bot.calendar,
                                directory=bot.app.directory(session),
                                now=bot.now(),
                                viewer_email=viewer,
                                days=days,
                                portfolio=portfolio,
                                page=page,
                                per_page=4,
                            )
                        assert paged is not None
                        assert paged.report.counts == full.counts, (viewer, days, portfolio)
                        assert paged.at_risk_total == len(full.at_risk)
                        first = (page - 1) * 4
                        assert paged.rows == full.at_risk[first : first + 4], (viewer, days, page)
                        checked += len(paged.rows)
    bot.set(start)
    assert checked > 50


def test_someone_who_does_not_see_everything_gets_the_full_status(sample: Bot) -> None:
    from bot.views.status_page import wide_status_page

    with sample.app.session() as session:
        assert (
            wide_status_page(
                session=session,
                settings=sample.app.settings,
                calendar=sample.calendar,
                directory=sample.app.directory(session),
                now=sample.now(),
                viewer_email=email("Owen Brady"),
                days=28,
            )
            is None
        )
