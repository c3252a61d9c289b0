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


def _synthetic_bot(folder: Path, **sizes: int) -> tuple[Bot, datetime]:
    """A synthetic council in `folder` (its CSV files in `folder / "csv"`), imported, not swept."""
    made = synthetic.generate(folder / "csv", **sizes)
    now = datetime.combine(made.start, datetime.min.time(), UTC) + timedelta(hours=9)
    bot = make_bot(sqlite_url(folder), now, seed=False)
    people, portfolios, _ = parse_directory(made.people_csv, made.portfolios_csv)
    records, _ = parse_forward_plan(made.forward_plan_csv)
    with bot.app.session() as session:
        store_directory(session, people, portfolios, now=now)
        store_decisions(session, records, source="csv", now=now)
    return bot, now


@pytest.fixture(scope="module")
def council(tmp_path_factory) -> Bot:
    bot, now = _synthetic_bot(
        tmp_path_factory.mktemp("synthetic"), decisions=300, people=160, wards=12, portfolios=6
    )
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
                        paged = _page(
                            bot, viewer, days=days, portfolio=portfolio, page=page, per_page=4
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


# --- the status read model (statuscount, statusunbriefed) ------------------------------------


def _refresh(bot: Bot) -> bool:
    from bot.views.status_model import refresh_status_model

    with bot.app.session() as session:
        return refresh_status_model(
            session=session, settings=bot.app.settings, calendar=bot.calendar, now=bot.now()
        )


def _model_current(bot: Bot) -> bool:
    from bot.views.status_model import model_is_current

    with bot.app.session() as session:
        return model_is_current(
            session=session,
            settings=bot.app.settings,
            today=bot.calendar.local_date(bot.now()),
        )


def _page(bot: Bot, viewer: str, *, model_only: bool = False, **options: Any) -> Any:
    """The overseer's page as `/surprises` gets it, or (`model_only`) from the read model."""
    from bot.views import status_page
    from bot.views.status_model_page import page_from_model

    with bot.app.session() as session:
        return (page_from_model if model_only else status_page.wide_status_page)(
            session=session,
            settings=bot.app.settings,
            calendar=bot.calendar,
            directory=bot.app.directory(session),
            now=bot.now(),
            viewer_email=viewer,
            **options,
        )


def _model_page(bot: Bot, viewer: str, **options: Any) -> Any:
    return _page(bot, viewer, model_only=True, **options)


def _two_overseers(bot: Bot) -> list[str]:
    """The chief executive (entitled to exempt details) and the leader (who is not, so sees
    exempt items masked)."""
    with bot.app.session() as session:
        people = bot.app.directory(session).people.values()
        chief = sorted(p.email for p in people if p.has("chief_executive"))
        leader = sorted(p.email for p in people if p.has("leader"))
    return chief[:1] + leader[:1]


def _compare_model_pages(
    bot: Bot,
    *,
    days_options: tuple[int, ...] = (28, 180),
    portfolios: int = 2,
    pages: tuple[int, ...] = (1, 2, 3),
) -> tuple[list[Any], dict[str, int]]:
    """Two overseers' pages from the read model against the full status; the rows compared
    and the chief executive's counts over the longest window."""
    assert _model_current(bot)
    with bot.app.session() as session:
        names = ["", *sorted(p.name for p in bot.app.directory(session).portfolios)]
    viewers = _two_overseers(bot)
    compared: list[Any] = []
    for viewer in viewers:
        for days in days_options:
            for portfolio in names[:portfolios]:
                full = status(bot, viewer, days=days, portfolio=portfolio)
                for page in pages:
                    paged = _model_page(
                        bot, viewer, days=days, portfolio=portfolio, page=page, per_page=4
                    )
                    assert paged is not None, (viewer, days, portfolio)
                    assert paged.report.counts == full.counts, (viewer, days, portfolio)
                    assert paged.at_risk_total == len(full.at_risk)
                    first = (page - 1) * 4
                    assert paged.rows == full.at_risk[first : first + 4], (viewer, days, page)
                    compared += paged.rows
    return compared, dict(status(bot, viewers[0], days=days_options[-1]).counts)


@pytest.mark.parametrize("which", ["sample", "council"])
def test_the_read_model_gives_each_page_of_the_full_status_as_days_pass_without_a_sweep(
    which: str, request: pytest.FixtureRequest
) -> None:
    """Built once, the model answers for the following days too: its stored instants turn
    rows amber and red as the clock passes them, with no sweep in between."""
    from bot.views.bilingual import exempt_words

    bot: Bot = request.getfixturevalue(which)
    start = bot.now()
    try:
        _refresh(bot)
        seen = []
        compared = []
        for shift in (0, 3, 6):
            bot.set(start + timedelta(days=shift))
            rows, counts = _compare_model_pages(bot)
            compared += rows
            seen.append(counts)
        assert len(compared) > 20
        assert len(_two_overseers(bot)) == 2
        # Every page of the longest window, exempt items among them, masked for the leader.
        walked = []
        for viewer in _two_overseers(bot):
            full = status(bot, viewer, days=180)
            for page in range(1, len(full.at_risk) // 15 + 2):
                paged = _model_page(bot, viewer, days=180, page=page)
                assert paged is not None and paged.rows == full.at_risk[(page - 1) * 15 :][:15]
                walked += paged.rows
        assert len(walked) == 2 * len(full.at_risk) > 0 or which == "sample"
        if which == "council":
            assert {r.title == exempt_words(r.paragraphs) for r in walked if r.exempt} == {
                True,
                False,
            }
        assert len({tuple(sorted(c.items())) for c in seen}) > 1  # colours did change
        bot.set(start + timedelta(days=7))
        assert not _model_current(bot)  # past what it was built for: the full path answers
    finally:
        bot.set(start)


def test_a_briefing_turns_red_in_the_read_model_the_moment_it_is_overdue(council: Bot) -> None:
    from bot.store.models import StatusCount
    from bot.views.status import Rag

    start = council.now()
    try:
        _refresh(council)
        with council.app.session() as session:
            # A live briefing not red yet, which its due time (not its decision) turns red.
            due_at = session.scalars(
                select(col(StatusCount.due_at))
                .where(
                    col(StatusCount.state) == BriefingState.OPEN,
                    col(StatusCount.due_at) > start,
                    col(StatusCount.due_at) < start + timedelta(days=6),
                    col(StatusCount.red_at) > col(StatusCount.due_at),
                )
                .order_by(col(StatusCount.due_at))
            ).first()
        assert due_at is not None
        reds = []
        for moment in (due_at, due_at + timedelta(seconds=1)):
            council.set(moment)
            _compare_model_pages(council, days_options=(60,), portfolios=1, pages=(1,))
            reds.append(_model_page(council, _overseers(council)[0], days=60).report.counts)
        assert reds[1][Rag.RED.value] > reds[0][Rag.RED.value]
    finally:
        council.set(start)


@pytest.fixture
def acting(tmp_path: Path) -> Bot:
    """A small synthetic council of its own, swept as the tick sweeps it."""
    from bot.ticks import sweep_and_refresh

    bot, now = _synthetic_bot(tmp_path, decisions=160, people=120, wards=10, portfolios=5, seed=7)
    bot.set(now + timedelta(days=10))
    with bot.app.session() as session:
        sweep_and_refresh(app=bot.app, session=session)
    return bot


def _live_briefings(bot: Bot, state: BriefingState, count: int) -> list[Briefing]:
    with bot.app.session() as session:
        return list(
            session.scalars(
                select(Briefing)
                .where(col(Briefing.state) == state)
                .order_by(col(Briefing.id))
                .limit(count)
            )
        )


async def test_the_read_model_follows_what_people_do_between_sweeps(acting: Bot) -> None:
    """Logging, acknowledging, snoozing, disputing and 'not needed' move a briefing's count
    in the same transaction: the model stays current and still equals the full status."""
    from bot.views.cards import ActionKind

    assert _model_current(acting)
    before = _compare_model_pages(acting, days_options=(90,), portfolios=1, pages=(1, 2))[1]
    opened = _live_briefings(acting, BriefingState.OPEN, 4)
    assert len(opened) == 4
    logged, snoozed, not_needed, reassigned = opened
    steps = [
        (logged.briefer_email, ActionKind.LOG_BRIEFING, logged, {"how": "call"}),
        (logged.member_email, ActionKind.ACKNOWLEDGE, logged, {}),
        (logged.member_email, ActionKind.NOT_YET_BRIEFED, logged, {"note": "Not yet"}),
        (snoozed.briefer_email, ActionKind.SNOOZE, snoozed, {"until": "1"}),
        (not_needed.briefer_email, ActionKind.NOT_NEEDED, not_needed, {"reason": "Told at panel"}),
    ]
    for actor, kind, briefing, inputs in steps:
        reply = await acting.click(actor, kind, briefing.id, inputs)
        assert reply.ok, (kind, reply)
        assert _model_current(acting), kind
        _compare_model_pages(acting, days_options=(90,), portfolios=1, pages=(1, 2))
    assert acting.get(logged.id).state == BriefingState.DISPUTED
    after = _compare_model_pages(acting, days_options=(90,), portfolios=2, pages=(1,))[1]
    assert after != before
    # A change that is not a state (who briefs) leaves the model as it was.
    with acting.app.session() as session:
        row = session.get(Briefing, reassigned.id)
        assert row is not None
        row.briefing_note = "a note"
    assert _model_current(acting)


def test_changes_the_model_cannot_follow_send_the_page_to_the_full_path(
    acting: Bot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An import, a withdrawal, a briefing written by a plain insert, other settings: the model
    is out of date, the page is read from the tables, and a sweep brings the model back."""
    from bot.briefings.states import move
    from bot.store.models import table_of
    from bot.ticks import sweep_and_refresh
    from bot.views import status_model_page

    with acting.app.session() as session:
        chief = next(iter(acting.app.directory(session).chief_executives))

    def page_equals_full() -> None:
        asked: list[int] = []
        real = status_model_page.page_from_model

        def counted(**options: Any) -> Any:
            asked.append(1)
            return real(**options)

        monkeypatch.setattr("bot.views.status_page.page_from_model", counted)
        paged = _page(acting, chief, days=90, per_page=6)
        full = status(acting, chief, days=90)
        assert paged is not None and paged.report.counts == full.counts
        assert paged.rows == full.at_risk[:6]
        assert asked == ([1] if _model_current(acting) else [])
        monkeypatch.undo()

    def sweep() -> None:
        with acting.app.session() as session:
            sweep_and_refresh(app=acting.app, session=session)
        assert _model_current(acting)
        page_equals_full()

    # A decision's date changed by an import (plain-table writes, stamped).
    records, _ = parse_forward_plan(tmp_path / "csv" / "forward_plan.csv")
    moved = replace(records[0], decision_due=records[0].decision_due + timedelta(days=2))
    with acting.app.session() as session:
        store_decisions(session, [moved, *records[1:]], source="csv", now=acting.now())
    assert not _model_current(acting)
    page_equals_full()
    sweep()

    # A briefing withdrawn through its model object.
    with acting.app.session() as session:
        briefing = session.scalars(
            select(Briefing).where(col(Briefing.state) == BriefingState.OPEN)
        ).first()
        assert briefing is not None
        move(briefing, BriefingState.WITHDRAWN)
    assert not _model_current(acting)
    page_equals_full()
    sweep()

    # A briefing written by a plain insert (as the sweep writes new ones).
    with acting.app.session() as session:
        source = session.scalars(select(Briefing).order_by(col(Briefing.id))).first()
        assert source is not None
        copy = {c.name: getattr(source, c.name) for c in Briefing.__table__.columns}
        copy.pop("id")
        copy["member_email"] = "someone.else@example.gov.uk"
        session.execute(table_of(Briefing).insert(), [copy])
    assert not _model_current(acting)
    page_equals_full()

    # Other rules: the stored instants no longer hold.
    rules = replace(acting.app.settings.rules, amber_within_working_days=9)
    monkeypatch.setattr(acting.app, "settings", replace(acting.app.settings, rules=rules))
    assert not _model_current(acting)


def test_an_exempt_item_with_no_flag_yet_is_left_to_the_full_path(acting: Bot) -> None:
    """Masking alone can list such an item for some overseers and not others: the model does
    not guess, and says so."""
    from sqlalchemy import update

    from bot.store.models import StatusModel, StatusUnbriefed

    with acting.app.session() as session:
        exempt = session.scalars(
            select(StatusUnbriefed).where(
                col(StatusUnbriefed.exempt),
                col(StatusUnbriefed.decision_due) >= acting.calendar.local_date(acting.now()),
            )
        ).first()
        assert exempt is not None
        session.execute(
            update(Decision).where(col(Decision.id) == exempt.decision_id).values(flags=[])
        )
        session.execute(update(StatusModel).values(current=False))
    assert _refresh(acting)
    viewer = _overseers(acting)[0]
    assert _model_page(acting, viewer, days=365) is None
    assert _model_page(acting, viewer, days=1) is not None


def test_a_sweep_that_changes_nothing_leaves_the_model_as_it_is(acting: Bot) -> None:
    from bot.briefings.escalate import run_sweep_tick

    with acting.app.session() as session:
        run_sweep_tick(app=acting.app, session=session)
    assert _model_current(acting)
    assert not _refresh(acting)


def test_the_chief_executives_answer_reads_the_model_not_every_briefing(acting: Bot) -> None:
    from bot.views.commands import answer

    with acting.app.session() as session:
        chief = next(iter(acting.app.directory(session).chief_executives))
    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(acting.app.engine, "before_cursor_execute", listener)
    try:
        with acting.app.session() as session:
            cards = answer(
                app=acting.app, session=session, text="days 180", actor_email=chief, direct=True
            )
    finally:
        event.remove(acting.app.engine, "before_cursor_execute", listener)
    assert cards and "180" in cards[0].title
    assert any("FROM statuscount" in s for s in statements)
    assert not any("GROUP BY" in s and "FROM briefing" in s for s in statements)
    # The directory's state is looked up once for the whole question.
    assert sum("FROM directorystate" in s for s in statements) == 1


def test_one_item_is_answered_with_one_look_up_of_the_directory(acting: Bot) -> None:
    from bot.views.commands import answer

    with acting.app.session() as session:
        chief = next(iter(acting.app.directory(session).chief_executives))
        ref = session.scalars(
            select(col(Decision.ref))
            .join(Briefing, col(Briefing.decision_id) == col(Decision.id))
            .order_by(col(Decision.ref))
        ).first()
    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(acting.app.engine, "before_cursor_execute", listener)
    try:
        with acting.app.session() as session:
            cards = answer(
                app=acting.app, session=session, text=ref, actor_email=chief, direct=True
            )
    finally:
        event.remove(acting.app.engine, "before_cursor_execute", listener)
    assert cards[0].title == ref
    assert sum("FROM directorystate" in s for s in statements) == 1
    # The timeline names members from two columns, not whole briefings.
    assert sum("FROM briefing" in s and "briefing.ladder" in s for s in statements) == 1


async def test_the_sweep_tick_leaves_the_read_model_current(tmp_path: Path) -> None:
    """The scheduler's tick (what the server and the console run) rebuilds it after sweeping."""
    bot, now = _synthetic_bot(tmp_path, decisions=60, people=80, wards=6, portfolios=4)
    bot.set(now + timedelta(days=3))
    assert not _model_current(bot)
    await bot.sweep()
    assert _model_current(bot)


def test_a_session_that_rebuilds_the_model_leaves_it_alone_until_then(acting: Bot) -> None:
    """The sweep tick's session: its state changes are not followed one by one (on PostgreSQL
    that would lock the model's row against people's actions for the whole sweep), but noted,
    so the rebuild at its end happens even though the model's key has not moved."""
    from bot.briefings.states import move
    from bot.store.status_model import will_rebuild
    from bot.views.status_model import refresh_status_model

    briefing = _live_briefings(acting, BriefingState.OPEN, 1)[0]
    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    with acting.app.session() as session:
        will_rebuild(session)
        row = session.get(Briefing, briefing.id)
        assert row is not None
        move(row, BriefingState.BRIEFED)
        event.listen(acting.app.engine, "before_cursor_execute", listener)
        try:
            session.flush()
        finally:
            event.remove(acting.app.engine, "before_cursor_execute", listener)
        assert statements and not any("statusmodel" in s or "statuscount" in s for s in statements)
        assert refresh_status_model(
            session=session,
            settings=acting.app.settings,
            calendar=acting.calendar,
            now=acting.now(),
        )
    assert _model_current(acting)
    _compare_model_pages(acting, days_options=(90,), portfolios=1, pages=(1,))
