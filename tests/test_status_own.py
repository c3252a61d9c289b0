"""A person's own answer pages as the wide one does (issue 15, `bot/views/status_own.py`).

`/surprises mine`, and `/surprises` for someone who sees only their own items, give the counts
of all the person's briefings in the window and one page of rows, built alone. Every page is
compared here with the full `build_status` of the same question: for a ward councillor, a
cabinet member, an officer, the leader and a director; with exempt items; as days pass and the
clock crosses a briefing's due time; after people act, an import, a change of reachability,
a state set with no audit, a withdrawal and a sweep (rows are shared between questions while
the data is as it was, so each of these must be seen).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from livebot import Bot
from sqlalchemy import event, func, select
from sqlmodel import col
from test_status import status
from test_status_queries import _page, _synthetic_bot, acting, council  # noqa: F401 - fixtures

from bot.decisions.rules import Flag
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions
from bot.store.identities import remember
from bot.store.models import Briefing, BriefingState, Decision
from bot.views import commands, question, status_own
from bot.views.cards import ActionKind
from bot.views.rag_thresholds import thresholds
from bot.views.status import Rag, StatusRow, sees_only_their_own
from bot.views.status_own import own_status_page

PER_PAGE = 4


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Bot:
    """Few portfolios and wards for many items: people owed dozens of briefings, swept as the
    tick sweeps (the status read model current, so rows are shared)."""
    from bot.ticks import sweep_and_refresh

    bot, now = _synthetic_bot(
        tmp_path_factory.mktemp("busy"), decisions=500, people=60, wards=3, portfolios=3, seed=5
    )
    bot.set(now + timedelta(days=10))
    with bot.app.session() as session:
        sweep_and_refresh(app=bot.app, session=session)
    return bot


def _own_page(bot: Bot, viewer: str, *, only_mine: bool = True, **options: Any) -> Any:
    with bot.app.session() as session:
        return own_status_page(
            session=session,
            settings=bot.app.settings,
            calendar=bot.calendar,
            directory=bot.app.directory(session),
            now=bot.now(),
            viewer_email=viewer,
            only_mine=only_mine,
            **{"days": 28, "per_page": PER_PAGE, **options},
        )


def _every_page_equals_full(
    bot: Bot, viewer: str, *, only_mine: bool = True, days: int = 28, portfolio: str = ""
) -> list[StatusRow]:
    """Each page (and one past the end) against the full status of the same question; the
    rows listed."""
    full = status(bot, viewer, days=days, portfolio=portfolio, only_mine=only_mine)
    listed = full.rows if only_mine else full.at_risk
    shown: list[StatusRow] = []
    for page in range(1, len(listed) // PER_PAGE + 3):
        paged = _own_page(
            bot, viewer, only_mine=only_mine, days=days, portfolio=portfolio, page=page
        )
        assert paged is not None, (viewer, only_mine)
        assert paged.report.counts == full.counts, (viewer, only_mine, days, portfolio)
        assert paged.at_risk_total == len(listed)
        first = (page - 1) * PER_PAGE
        assert paged.rows == listed[first : first + PER_PAGE], (viewer, only_mine, days, page)
        shown += paged.rows
    assert shown == listed
    return shown


def _people(bot: Bot) -> dict[str, str]:
    """A ward councillor, a cabinet member, an officer (the most briefings in the next 60 days
    of each kind), the leader and a director with briefings of their own."""
    with bot.app.session() as session:
        directory = bot.app.directory(session)
        today = bot.calendar.local_date(bot.now())
        in_window = (
            select(col(Briefing.member_email), col(Briefing.briefer_email))
            .join(Decision, col(Decision.id) == col(Briefing.decision_id))
            .where(col(Decision.decision_due) <= today + timedelta(days=60))
        )
        owed: dict[str, int] = {}
        for member, briefer in session.execute(in_window):
            for person in (member, briefer):
                owed[person] = owed.get(person, 0) + 1
        people = directory.people.values()

        def busiest(test: Any) -> str:
            return max(
                (p for p in people if test(p)), key=lambda p: (owed.get(p.email, 0), p.email)
            ).email

        return {
            "ward councillor": busiest(lambda p: p.roles == {"ward_councillor"}),
            "cabinet member": busiest(lambda p: p.has("cabinet_member") and not p.has("leader")),
            "officer": busiest(lambda p: sees_only_their_own(p) and not p.has("ward_councillor")),
            "leader": busiest(lambda p: p.has("leader")),
            "director": busiest(lambda p: p.has("director")),
        }


def test_every_page_of_each_persons_own_answer_is_that_page_of_the_full_status(
    council: Bot,  # noqa: F811
) -> None:
    from bot.briefings.states import move

    start = council.now()
    people = _people(council)
    # Every state a row can show: acknowledged and "not needed" (green), briefed, disputed.
    with council.app.session() as session:
        theirs = session.scalars(
            select(Briefing)
            .where(col(Briefing.member_email) == people["ward councillor"])
            .order_by(col(Briefing.due_at))
        ).all()
        paths = (
            (BriefingState.ACKNOWLEDGED,),
            (BriefingState.NOT_NEEDED,),
            (BriefingState.BRIEFED,),
            (BriefingState.BRIEFED, BriefingState.DISPUTED),
            (BriefingState.NOT_NEEDED_PENDING,),
        )
        for briefing, path in zip(theirs, paths, strict=False):
            for state in path:
                move(briefing, state)
    with council.app.session() as session:
        portfolio = sorted(p.name for p in council.app.directory(session).portfolios)[0]
    shown: list[StatusRow] = []
    try:
        for shift in (0, 4, 9):  # days passing, no sweep: colours move, "date passed" appears
            council.set(start + timedelta(days=shift))
            for who, viewer in people.items():
                for days in (7, 28, 90):
                    shown += _every_page_equals_full(council, viewer, days=days)
                shown += _every_page_equals_full(council, viewer, days=90, portfolio=portfolio)
                if who in ("ward councillor", "cabinet member", "officer"):
                    # They see only their own items anyway: their `/surprises` pages the same.
                    for days in (28, 90):
                        shown += _every_page_equals_full(
                            council, viewer, only_mine=False, days=days
                        )
    finally:
        council.set(start)
    assert len(shown) > 300
    assert {r.rag for r in shown} == set(Rag)
    assert any(r.exempt for r in shown)
    assert any(f["code"] == Flag.BRIEFING_LATE for r in shown for f in r.flags)


def test_someone_who_sees_more_than_their_own_is_left_to_the_wide_answers(
    council: Bot,  # noqa: F811
) -> None:
    people = _people(council)
    assert _own_page(council, people["director"], only_mine=False) is None
    assert _own_page(council, people["leader"], only_mine=False) is None
    assert _own_page(council, people["leader"]) is not None  # their own: `mine`


def _builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many briefings each build of rows was asked for."""
    counted: list[int] = []
    real = question.build_status

    def build(**options: Any) -> Any:
        counted.append(len(options["briefing_ids"]))
        return real(**options)

    monkeypatch.setattr(question, "build_status", build)
    return counted


def test_only_the_pages_rows_are_built_and_then_shared(
    busy: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    councillor = _people(busy)["ward councillor"]
    listed = status(busy, councillor, days=365, only_mine=True).rows
    assert len(listed) > 3 * PER_PAGE
    builds = _builds(monkeypatch)
    first = _own_page(busy, councillor, days=365)
    # The page's briefings (and any others of the same items), never the whole list.
    assert first.rows and len(builds) == 1 and PER_PAGE <= builds[0] < 2 * PER_PAGE
    builds.clear()
    assert _own_page(busy, councillor, days=365).rows == first.rows
    assert builds == []  # asked again with nothing changed: shared
    _own_page(busy, councillor, days=365, page=2)
    assert len(builds) == 1 and builds[0] < 2 * PER_PAGE


def test_mine_reads_the_persons_briefings_once_and_builds_the_page_by_their_ids(
    busy: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from weakref import WeakKeyDictionary

    from bot.views import shared_rows

    monkeypatch.setattr(shared_rows, "_shared", WeakKeyDictionary())  # nothing asked before
    councillor = _people(busy)["ward councillor"]
    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(busy.app.engine, "before_cursor_execute", listener)
    try:
        with busy.app.session() as session:
            commands.answer(
                app=busy.app,
                session=session,
                text="mine days 365",
                actor_email=councillor,
                direct=True,
            )
    finally:
        event.remove(busy.app.engine, "before_cursor_execute", listener)
    by_person = [s for s in statements if "member_email = ?" in s and "briefer_email = ?" in s]
    assert len(by_person) == 1
    whole_rows = [s for s in statements if "FROM briefing" in s and "changed_since_briefed" in s]
    assert whole_rows and all("briefing.id IN" in s for s in whole_rows)
    # No heads-ups in this council: nobody told of them is looked up.
    assert not any(s.lstrip().startswith("SELECT headsuprecipient.") for s in statements)


def test_a_persons_briefings_are_found_through_the_wide_member_and_briefer_indexes(
    busy: Bot,
) -> None:
    """Both halves of the look-up use the indexes that carry decision, state and due time
    (migration 0016), not the wide briefing rows: SQLite's plan names them."""
    values = {"person": "x@example.gov.uk", "first": "2027-01-01", "last": "2027-02-01"}
    with busy.app.session() as session:
        compiled = status_own._THEIR_BRIEFINGS.compile(dialect=session.get_bind().dialect)
        params = [values.get(name, compiled.params[name]) for name in compiled.positiontup or ()]
        found = session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(params)
        )
        plan = " ".join(str(row[-1]) for row in found)
    assert "ix_briefing_member_decision_state_due (member_email=?)" in plan, plan
    assert "ix_briefing_briefer_decision_state_due (briefer_email=?)" in plan, plan


def test_a_persons_pages_follow_the_clock_across_a_briefings_due_time(
    acting: Bot,  # noqa: F811
) -> None:
    """Asked at its due time and a second later (the same minute, rows shared): amber, then
    red and late, in the counts and in the row."""
    start = acting.now()
    with acting.app.session() as session:
        directory = acting.app.directory(session)
        found = [
            (b.briefer_email, b.due_at, b.id)
            for b, decision_due in session.execute(
                select(Briefing, col(Decision.decision_due))
                .join(Decision, col(Decision.id) == col(Briefing.decision_id))
                .where(
                    col(Briefing.state) == BriefingState.OPEN,
                    col(Briefing.due_at) > start + timedelta(days=6),
                )
                .order_by(col(Briefing.due_at))
            )
            # Someone who sees only their own, and a briefing its due time (not its decision
            # being close) turns red.
            if sees_only_their_own(directory.person(b.briefer_email))  # type: ignore[arg-type]
            and thresholds(
                due_at=b.due_at,
                decision_due=decision_due,
                calendar=acting.calendar,
                settings=acting.app.settings,
            ).red_at
            > b.due_at
        ]
    officer, due_at, briefing_id = found[0]
    try:
        colours = []
        for moment in (due_at - timedelta(days=6), due_at, due_at + timedelta(seconds=1)):
            acting.set(moment)
            mine = _every_page_equals_full(acting, officer, days=60)
            theirs = _every_page_equals_full(acting, officer, only_mine=False, days=60)
            assert theirs == [r for r in mine if r.rag in (Rag.RED, Rag.AMBER)]
            colours.append({r.rag for r in mine if r.briefing_id == briefing_id})
        assert colours == [{Rag.GREY}, {Rag.AMBER}, {Rag.RED}]
    finally:
        acting.set(start)


async def test_a_persons_pages_follow_what_people_do(acting: Bot) -> None:  # noqa: F811
    """The briefer's and the member's pages, asked before and after each action, against the
    full status built from scratch."""
    with acting.app.session() as session:
        directory = acting.app.directory(session)
        officer = next(
            email
            for email in session.scalars(
                select(col(Briefing.briefer_email))
                .where(col(Briefing.state) == BriefingState.OPEN)
                .group_by(col(Briefing.briefer_email))
                .order_by(func.count().desc(), col(Briefing.briefer_email))
            )
            if sees_only_their_own(directory.person(email))  # type: ignore[arg-type]
        )
        opened = list(
            session.scalars(
                select(Briefing)
                .where(
                    col(Briefing.briefer_email) == officer,
                    col(Briefing.state) == BriefingState.OPEN,
                )
                .order_by(col(Briefing.due_at))
            )
        )
    assert len(opened) >= 3
    logged, not_needed, snoozed = *opened[:2], opened[-1]  # the last: not yet due
    member = logged.member_email

    def compare() -> None:
        for viewer in (officer, member):
            for only_mine in (True, False):
                _every_page_equals_full(acting, viewer, only_mine=only_mine, days=120)

    compare()
    steps = [
        (officer, ActionKind.LOG_BRIEFING, logged, {"how": "call"}),
        (member, ActionKind.ACKNOWLEDGE, logged, {}),
        (member, ActionKind.NOT_YET_BRIEFED, logged, {"note": "Not yet"}),
        (officer, ActionKind.SNOOZE, snoozed, {"until": "1"}),
        (officer, ActionKind.NOT_NEEDED, not_needed, {"reason": "Told at panel"}),
    ]
    for actor, kind, briefing, inputs in steps:
        reply = await acting.click(actor, kind, briefing.id or 0, inputs)
        assert reply.ok, (kind, reply)
        compare()
    assert acting.get(logged.id or 0).state == BriefingState.DISPUTED


def test_a_persons_pages_follow_an_import_reachability_a_silent_state_and_a_sweep(
    acting: Bot,  # noqa: F811
    tmp_path: Path,
) -> None:
    from bot.briefings.states import move
    from bot.ticks import sweep_and_refresh

    officer = _people(acting)["officer"]
    shown = _every_page_equals_full(acting, officer, days=120)
    row = next(r for r in shown if r.state == BriefingState.OPEN and r.briefing_id)
    # A new title by an import (plain-table writes).
    records, _ = parse_forward_plan(tmp_path / "csv" / "forward_plan.csv")
    renamed = [
        replace(r, title="Renamed by the import") if r.ref == row.ref else r for r in records
    ]
    with acting.app.session() as session:
        store_decisions(session, renamed, source="csv", now=acting.now())
    shown = _every_page_equals_full(acting, officer, days=120)
    assert any(r.title == "Renamed by the import" for r in shown)
    # A member nobody can reach any more: the row gains the flag.
    remember(acting.app, platform="test", email=row.member_email, user_id="U9", reachable=False)
    shown = _every_page_equals_full(acting, officer, days=120)
    assert any(f["code"] == Flag.UNREACHABLE for r in shown for f in r.flags)
    with acting.app.session() as session:
        sweep_and_refresh(app=acting.app, session=session)
    _every_page_equals_full(acting, officer, days=120)
    # A state set with no action and no audit (only the read model's counts move).
    with acting.app.session() as session:
        briefing = session.get(Briefing, row.briefing_id)
        assert briefing is not None
        move(briefing, BriefingState.BRIEFED)
    shown = _every_page_equals_full(acting, officer, days=120)
    assert [r.state for r in shown if r.briefing_id == row.briefing_id] == [BriefingState.BRIEFED]
    # Withdrawn: the read model is out of date, nothing is shared, the row has gone.
    with acting.app.session() as session:
        briefing = session.get(Briefing, row.briefing_id)
        assert briefing is not None
        move(briefing, BriefingState.WITHDRAWN)
    shown = _every_page_equals_full(acting, officer, days=120)
    assert row.briefing_id not in {r.briefing_id for r in shown}


def test_an_overseers_own_rows_do_not_stand_in_for_their_whole_rows(
    acting: Bot,  # noqa: F811
) -> None:
    """The leader sees items whole in `/surprises` but only their own briefings in `mine`:
    rows built for one are never given to the other."""
    leader = _people(acting)["leader"]
    mine = _every_page_equals_full(acting, leader, days=90)
    assert mine
    wide = _page(acting, leader, days=90, per_page=500)
    assert wide.rows == status(acting, leader, days=90).at_risk
    # Items on both, with other people's briefings on them in the wide answer.
    theirs = {r.ref for r in mine}
    assert any(
        r.ref in theirs and leader not in (r.member_email, r.briefer_email) for r in wide.rows
    )
    assert _every_page_equals_full(acting, leader, days=90) == mine


# --- the card --------------------------------------------------------------------------------


def _card_lines(bot: Bot, viewer: str, text: str, *, direct: bool = True) -> tuple[str, ...]:
    with bot.app.session() as session:
        [card] = commands.answer(
            app=bot.app, session=session, text=text, actor_email=viewer, direct=direct
        )
    return card.lines


def _full_card_lines(bot: Bot, viewer: str, *, days: int, page: int, direct: bool) -> Any:
    """The card as it was drawn before paging: from the full status of the person's own."""
    report = status(bot, viewer, days=days, only_mine=True)
    with bot.app.session() as session:
        headsups = commands.recent_headsups(bot.app, session, viewer, direct)
    card = commands.status_card(bot.app, report, mine=True, direct=direct, page=page)
    return (*card.lines, *headsups), len(report.rows)


@pytest.mark.parametrize("direct", [True, False])
def test_mine_is_paged_fifteen_rows_at_a_time_with_the_way_to_the_next_page(
    busy: Bot, direct: bool
) -> None:
    councillor = _people(busy)["ward councillor"]
    pages = []
    page = 1
    while True:
        text = "mine days 365" + (f" page {page}" if page > 1 else "")
        lines = _card_lines(busy, councillor, text, direct=direct)
        expected, total = _full_card_lines(busy, councillor, days=365, page=page, direct=direct)
        assert lines == expected, page
        pages.append(lines)
        if page * commands.DEFAULT_ROWS >= total:
            break
        # The card says how to ask for the next page, in words that ask for it.
        hint = f"`/surprises mine days 365 page {page + 1}`"
        assert any(hint in line for line in lines), lines
        page += 1
    assert len(pages) >= 2 and total > commands.DEFAULT_ROWS
    # Past the end: says which page is the last, not that there is nothing at all.
    beyond = _card_lines(busy, councillor, f"mine days 365 page {page + 1}", direct=direct)
    assert beyond == _full_card_lines(busy, councillor, days=365, page=page + 1, direct=direct)[0]
    assert f"There is nothing on page {page + 1}: the last page is {page}." in beyond
    # Exempt items' titles only in a direct message.
    with busy.app.session() as session:
        exempt = {
            ref: (title, commands.exempt_words(tuple(paragraphs)))
            for ref, title, paragraphs in session.execute(
                select(
                    col(Decision.ref), col(Decision.title), col(Decision.exempt_paragraphs)
                ).where(col(Decision.restriction) != "Open")
            )
        }
    shown = [
        (line, *exempt[ref])
        for lines in pages
        for line in lines
        for ref in exempt
        if f"*{ref}*" in line
    ]
    assert shown
    assert all((title in line) == direct for line, title, _ in shown)
    assert all((masked in line) != direct for line, _, masked in shown)


def test_the_words_after_mine_and_the_next_page_hint_read_back_as_the_same_question() -> None:
    from bot.views.commands import Query, next_page_command, parse_query
    from bot.views.status import StatusReport

    assert parse_query("mine") == Query("mine")
    assert parse_query("/surprises mine page 3") == Query("mine", page=3)
    assert parse_query("mine days 60") == Query("mine", days=60)
    assert parse_query("mine days 60 page 2 portfolio Adult Care") == Query(
        "mine", days=60, page=2, portfolio="Adult Care"
    )
    assert parse_query("minecraft") == Query("item", ref="MINECRAFT")
    for mine in (True, False):
        for days, portfolio in ((28, ""), (90, ""), (28, "Adult Care"), (7, "Housing")):
            report = StatusReport(viewer="", now=datetime.now(UTC), days=days, portfolio=portfolio)
            said = next_page_command(report, mine=mine, page=4)
            assert parse_query(said) == Query(
                "mine" if mine else "status", days=days, portfolio=portfolio, page=4
            ), said


async def test_the_sweep_tick_keeps_a_persons_pages_true(tmp_path: Path) -> None:
    """A council swept by the scheduler's tick: the pages before and after a day's ticks."""
    bot, now = _synthetic_bot(tmp_path, decisions=80, people=80, wards=6, portfolios=4)
    bot.set(now + timedelta(days=5))
    await bot.sweep()
    officer = _people(bot)["officer"]
    before = _every_page_equals_full(bot, officer, days=60)
    bot.set(now + timedelta(days=6, hours=1))
    await bot.sweep()
    after = _every_page_equals_full(bot, officer, days=60)
    assert before and after


def test_every_persons_own_pages_on_both_backends(database_url: str) -> None:
    """The sample council on SQLite and PostgreSQL: each person's pages equal the full status."""
    from livebot import make_bot

    from bot.ticks import sweep_and_refresh

    bot = make_bot(database_url, datetime(2027, 1, 26, 9, 30, tzinfo=UTC), migrate=True)
    with bot.app.session() as session:
        sweep_and_refresh(app=bot.app, session=session)
        people = sorted(bot.app.directory(session).people.values(), key=lambda p: p.email)
    shown = []
    for person in people:
        shown += _every_page_equals_full(bot, person.email, days=90)
        if sees_only_their_own(person):
            shown += _every_page_equals_full(bot, person.email, only_mine=False, days=90)
    assert len(shown) > 30 and any(r.exempt for r in shown)
    bot.app.engine.dispose()
